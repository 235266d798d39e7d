"""GRPO on the MR.Rec reward (paper §3.3) with TRL's GRPOTrainer and memory-tool rollouts.

    python -m mrrec_lab.train grpo --preset cpu            # from runs/sft/final, 12 steps
    python -m mrrec_lab.train grpo --preset cpu --resume
    python -m mrrec_lab.train grpo --preset gpu            # Qwen2.5-3B-Instruct QLoRA, paper settings (untested)

Reward r = 0.1 R_format + 5 R_rec + 0.1 R_mem (rewards.py), given to TRL as three reward
functions with `reward_weights` (0.1, 5, 0.1) so each part is logged on its own. Advantages are
TRL's group-normalised (r - mean) / std, the loss the PPO-clipped "grpo" loss, as in the paper.
Rollouts come from `rollout.MemoryToolRollout` (TRL's `rollout_func`), whose `env_mask` removes
the `<memory>` observation tokens from the loss.

CPU preset: group 4, one prompt per step, 12 steps, LoRA lr 5e-5, temperature 1.0, starting from
the SFT adapter. GPU preset (untested here; no GPU was available): Qwen/Qwen2.5-3B-Instruct in
4-bit NF4 (QLoRA), group 5, 52 prompts x 5 = 260 rollouts per step, 75 steps, up to 3 rounds.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from mrrec_lab.train.common import (CurveLog, LogToCurves, LoopValidation, command_line, cpu_description,
                                     last_checkpoint, load_cases, load_policy, lora_config, open_environment,
                                     plot_curves, refresh_validation_rows, write_json)
from mrrec_lab.train.config import GRPOJob
from mrrec_lab.train.rewards import (FORMAT_WEIGHT, MEMORY_WEIGHT, RECOMMENDATION_WEIGHT, format_reward,
                                      memory_reward, recommendation_reward)
from mrrec_lab.train.rollout import MemoryToolRollout, case_prompt

log = logging.getLogger(__name__)



# TRL reward-function adapters: TRL passes completions (as chat messages) plus every extra field
# the rollout returned; the pure functions in rewards.py do the scoring.

def _text(completion) -> str:
    return completion[-1]["content"] if isinstance(completion, list) else str(completion)


def r_format(completions, **_) -> list[float]:
    return format_reward([_text(c) for c in completions])


def r_rec(completions, ground_truth_ranks, n_relevant, **_) -> list[float]:
    return recommendation_reward([list(r) for r in ground_truth_ranks], list(n_relevant))


def r_mem(completions, tool_calls, **_) -> list[float]:
    return memory_reward(list(tool_calls))


def batch_shape(prompts_per_step: int, group: int, cuda: bool) -> tuple[int, int]:
    """(rollouts per micro-batch, micro-batches accumulated per step) for one GRPO step.

    One group per micro-batch on CPU: a 49k-vocabulary model's logits for 8 sequences of ~1,300
    tokens ran a 24 GB machine out of memory (measured). On CUDA up to 4 groups share a batch.
    TRL generates the whole step's rollouts at once either way (steps_per_generation = accumulation).

    >>> batch_shape(2, 4, cuda=False), batch_shape(52, 5, cuda=True), batch_shape(1, 4, cuda=True)
    ((4, 2), (20, 13), (4, 1))
    """
    per_device = group * (min(prompts_per_step, 4) if cuda else 1)
    return per_device, max(1, prompts_per_step * group // per_device)


def load_trainable_policy(job: GRPOJob):
    """(model, tokenizer): the base policy with the SFT adapter (trainable) or a fresh LoRA."""
    model, tokenizer = load_policy(job.model, job.cache_dir, job.dtype, job.threads)
    tokenizer.padding_side = "left"  # GRPOTrainer requires it
    if job.init_adapter:
        from peft import PeftModel

        if not (Path(job.init_adapter) / "adapter_config.json").is_file():
            raise FileNotFoundError(f"{job.init_adapter} has no adapter_config.json: run "
                                    f"`python -m mrrec_lab.train sft` first or pass --init-adapter ''.")
        return PeftModel.from_pretrained(model, job.init_adapter, is_trainable=True), tokenizer, None
    return model, tokenizer, lora_config(job.lora_r, job.lora_alpha)


def run(job: GRPOJob, resume: bool = False) -> dict:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    started = time.time()
    out = Path(job.out_dir)
    env = open_environment(job.data, job.threads)
    sets = load_cases(env, job.data, job.seed)
    model, tokenizer, peft_config = load_trainable_policy(job)
    dataset = Dataset.from_list([{"prompt": case_prompt(env, c), "case_id": c.case_id} for c in sets.train])
    per_device, accumulation = batch_shape(job.prompts_per_step, job.num_generations, torch.cuda.is_available())
    config = GRPOConfig(
        output_dir=str(out / "checkpoints"), max_steps=job.max_steps, learning_rate=job.learning_rate,
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=accumulation,
        num_generations=job.num_generations, temperature=job.temperature, beta=job.beta, epsilon=job.epsilon,
        loss_type="grpo", reward_weights=[FORMAT_WEIGHT, RECOMMENDATION_WEIGHT, MEMORY_WEIGHT],
        max_completion_length=job.step_tokens * job.max_rounds + max(job.step_tokens, job.answer_tokens), logging_steps=1, save_steps=job.save_every,
        save_total_limit=2, report_to="none", seed=job.seed, use_cpu=not torch.cuda.is_available(),
        bf16=False, lr_scheduler_type="constant", disable_tqdm=False,  # a dozen steps: no warmup
        activation_checkpointing=False)  # see sft.py: keeps the KV cache for rollouts
    curves = CurveLog(out / "grpo_curves.csv")
    if not resume:
        curves.rows = []
    validation = LoopValidation(env, sets.validation, tokenizer, job.validate_every, curves, out / "validation", "grpo",
                                at_start=bool(job.validate_at_start))
    out.mkdir(parents=True, exist_ok=True)
    rollout = MemoryToolRollout(env, sets.train, tokenizer, max_rounds=job.max_rounds, step_tokens=job.step_tokens,
                                answer_tokens=job.answer_tokens, temperature=job.temperature,
                                log_path=out / "rollouts.jsonl")
    trainer = GRPOTrainer(model=model, reward_funcs=[r_format, r_rec, r_mem], args=config, train_dataset=dataset,
                          processing_class=tokenizer, peft_config=peft_config, rollout_func=rollout,
                          callbacks=[validation, LogToCurves(curves, "grpo")])
    t0 = time.time()
    trainer.train(resume_from_checkpoint=last_checkpoint(out) if resume else None)
    train_seconds = time.time() - t0
    final = out / "final"
    trainer.model.save_pretrained(str(final))
    refresh_validation_rows(curves, out / "validation", "grpo")
    plot_curves(out / "grpo_curves.csv", out / "grpo_curves.png",
                ["reward", "rewards/r_format/mean", "rewards/r_mem/mean", "rewards/r_rec/mean"],
                "GRPO (reward 0.1 format + 5 rec + 0.1 memory)")
    summary = {
        "stage": "grpo", "model": job.model, "command": command_line(),
        "init_adapter": job.init_adapter, "adapter": str(final),
        "steps": trainer.state.global_step, "group_size": job.num_generations,
        "prompts_per_step": job.prompts_per_step, "learning_rate": job.learning_rate,
        "temperature": job.temperature, "max_rounds": job.max_rounds, "train_prompts": len(sets.train),
        "wall_seconds_total": round(time.time() - started), "wall_seconds_training": round(train_seconds),
        "hardware": cpu_description(), "validation_cases": len(sets.validation),
        "validation_by_step": {str(k): v for k, v in sorted(validation.reports.items())},
    }
    write_json(out / "summary.json", summary)
    env.close()
    return summary
