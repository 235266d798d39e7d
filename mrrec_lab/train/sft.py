"""Cold-start SFT of the policy on hindsight trajectories (LoRA), with TRL's SFTTrainer.

    python -m mrrec_lab.train sft --preset cpu            # SmolLM2-135M, 20 steps on 2 CPU cores
    python -m mrrec_lab.train sft --preset cpu --resume   # continue from runs/sft/checkpoints
    python -m mrrec_lab.train sft --preset gpu            # Qwen2.5-3B QLoRA (untested, no GPU here)

Why SFT first: the paper ran GRPO straight from Qwen2.5-3B-Instruct; a 135M model never writes
the tag protocol on its own (0% format-follow before this stage, see the model card), so every
GRPO group would score the same and nothing would be learned. A short SFT on hindsight
trajectories (trajectories.py) teaches the protocol; GRPO then optimises the reward.

Masking: TRL 1.16's SFTTrainer takes a pre-tokenized dataset with an `assistant_masks` column
and turns mask 0 into label -100, so no custom collator is needed. We tokenize ourselves because
two kinds of tokens are masked — the prompt and the `<memory>` observations inside the
assistant turn — which the chat template's assistant mask cannot express.

Outputs (git-ignored runs/): the trajectory cache (--trajectories-file, runs/sft/trajectories.jsonl,
reused by reruns and later stages) and, under --out-dir (runs/sft), checkpoints/, final/ (the
adapter), validation/ reports, summary.json and sft_curves.{csv,png}. Publishing to results/ is a copy
made on purpose (results/README.md).
"""

from __future__ import annotations

import json
import logging
import random
import statistics
import time
from pathlib import Path

from tqdm.auto import tqdm

from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_lab.train.common import (CurveLog, LogToCurves, LoopValidation, command_line, cpu_description,
                                     last_checkpoint, load_cases, load_policy, lora_config, open_environment,
                                     plot_curves, refresh_validation_rows, write_json)
from mrrec_lab.train.config import SFTJob
from mrrec_lab.train.env import MemoryEnvironment
from mrrec_lab.train.trajectories import Trajectory, build_trajectory, tokenize

log = logging.getLogger(__name__)



def prepare_trajectories(env: MemoryEnvironment, cases: list[BenchmarkCase], path: Path, *, seed: int,
                         title_rate: float, count_tokens, style: str = "restate") -> list[Trajectory]:
    """Hindsight trajectories for `cases`, cached in `path` (JSONL) so a rerun only builds new ones.

    Each case gets its own seeded RNG, so a trajectory does not depend on which others were built.
    """
    cached: dict[str, Trajectory] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                trajectory = Trajectory.from_dict(json.loads(line))
                cached[trajectory.case_id] = trajectory
    missing = [c for c in cases if c.case_id not in cached]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for case in tqdm(missing, desc="hindsight trajectories", unit="case"):
            trajectory = build_trajectory(env, case, random.Random(f"{seed}:{case.case_id}"),
                                          title_rate=title_rate, count_tokens=count_tokens, style=style)
            env.unload(case)  # keep the store small; memory is rebuilt if needed again
            handle.write(json.dumps(trajectory.to_dict(), ensure_ascii=False) + "\n")
            handle.flush()
            cached[case.case_id] = trajectory
    return [cached[c.case_id] for c in cases]


def prepare_only(job: SFTJob) -> dict:
    """Build (or complete) the cached trajectories without training."""
    from transformers import AutoTokenizer

    from mrrec_lab.train.common import base_model_dir

    env = open_environment(job.data, job.threads)
    sets = load_cases(env, job.data, job.seed)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir(job.model, job.cache_dir))
    started = time.time()
    trajectories = prepare_trajectories(
        env, sets.train, Path(job.trajectories_path), seed=job.seed, title_rate=job.title_rate,
        count_tokens=lambda text: len(tokenizer.encode(text, add_special_tokens=False)), style=job.profile_style)
    env.close()
    return {"trajectories": len(trajectories), "seconds": round(time.time() - started),
            "redial": len(sets.train_redial), "movielens": len(sets.train_movielens)}


def run(job: SFTJob, resume: bool = False) -> dict:
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    started = time.time()
    out = Path(job.out_dir)
    env = open_environment(job.data, job.threads)
    sets = load_cases(env, job.data, job.seed)
    model, tokenizer = load_policy(job.model, job.cache_dir, job.dtype, job.threads)

    def count_tokens(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    t0 = time.time()
    trajectories = prepare_trajectories(env, sets.train, Path(job.trajectories_path), seed=job.seed,
                                        title_rate=job.title_rate, count_tokens=count_tokens,
                                        style=job.profile_style)
    trajectory_seconds = time.time() - t0
    rows = [tokenize(tokenizer, t) for t in trajectories]
    rows = [r for r in rows if len(r["input_ids"]) <= job.max_length]
    rng = random.Random(job.order_seed)
    rng.shuffle(rows)
    dataset = Dataset.from_list(rows)
    lengths = [len(r["input_ids"]) for r in rows]
    log.warning("SFT data: %d trajectories (%d ReDial, %d MovieLens), median %d tokens, %d trained tokens/example",
                len(rows), len(sets.train_redial), len(sets.train_movielens), statistics.median(lengths),
                statistics.median(sum(r["assistant_masks"]) for r in rows))

    steps_per_epoch = max(1, len(rows) // (job.batch_size * job.grad_accum))
    total_steps = max(1, round(steps_per_epoch * job.epochs))
    config = SFTConfig(
        output_dir=str(out / "checkpoints"), max_steps=total_steps, per_device_train_batch_size=job.batch_size,
        gradient_accumulation_steps=job.grad_accum, learning_rate=job.learning_rate, lr_scheduler_type="cosine",
        warmup_steps=max(1, round(total_steps * job.warmup_ratio)), logging_steps=1, save_steps=job.save_every,
        save_total_limit=2, report_to="none", seed=job.order_seed, max_length=job.max_length,
        use_cpu=not torch.cuda.is_available(), bf16=False, dataloader_num_workers=0, disable_tqdm=False,
        # Checkpointing (TRL's default) turns off the KV cache, which makes the loop validation's
        # generation quadratic; a 135M model with LoRA does not need the memory it saves.
        activation_checkpointing=False)
    curves = CurveLog(out / "sft_curves.csv")
    if not resume and not job.init_adapter:
        curves.rows = []  # a fresh run starts fresh curves; a continued stage in the same --out-dir appends
    stage = "sft" if not job.init_adapter else "sft-continued"
    validation = LoopValidation(env, sets.validation, tokenizer, job.validate_every, curves, out / "validation", stage,
                                at_start=bool(job.validate_at_start), step_offset=job.step_offset)
    peft_config = lora_config(job.lora_r, job.lora_alpha, job.lora_dropout)
    if job.init_adapter:
        from peft import PeftModel

        model, peft_config = PeftModel.from_pretrained(model, job.init_adapter, is_trainable=True), None
    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config, callbacks=[validation, LogToCurves(curves, stage, job.step_offset)])
    checkpoint = last_checkpoint(out) if resume else None
    t0 = time.time()
    trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.time() - t0
    final = out / "final"
    trainer.model.save_pretrained(str(final))
    refresh_validation_rows(curves, out / "validation", stage, job.step_offset)
    plot_curves(out / "sft_curves.csv", out / "sft_curves.png", ["loss"], "Cold-start SFT (hindsight trajectories)")
    summary = {
        "stage": "sft", "model": job.model, "command": command_line(),
        "init_adapter": job.init_adapter or None, "adapter": str(final),
        "steps": trainer.state.global_step,
        "examples": len(rows), "examples_redial": len(sets.train_redial),
        "examples_movielens": len(sets.train_movielens), "median_tokens": statistics.median(lengths),
        "profile_style": job.profile_style, "epochs": job.epochs, "learning_rate": job.learning_rate,
        "lora_r": job.lora_r, "dtype": job.dtype,
        "wall_seconds_total": round(time.time() - started),
        "wall_seconds_trajectories_this_run": round(trajectory_seconds),  # 0 when all were cached
        "wall_seconds_training": round(train_seconds), "hardware": cpu_description(),
        "validation_cases": len(sets.validation),
        "validation_by_step": {str(k): v for k, v in sorted(validation.reports.items())},
        "split": sets.split["counts"],
    }
    write_json(out / "summary.json", summary)
    env.close()
    return summary
