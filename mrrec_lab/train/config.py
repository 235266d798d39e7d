"""Configuration of the training jobs: one dataclass per job, with named presets.

`cpu` presets are what was actually run here (2 shared CPU cores, SmolLM2-135M-Instruct, LoRA);
`gpu` presets follow the paper (Qwen2.5-3B-Instruct, group 5, temperature 1.0, ~75 steps) with
4-bit QLoRA and are **untested** (no GPU was available when they were written). Every field is
also a command-line flag (`--field-name`), applied over the preset.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field, fields

from mrrec_chat.config import REPO_ROOT

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@dataclass
class DataOptions:
    """Where the benchmark data lives and how much of it a job uses."""

    redial: str = str(SHARED_DATA / "redial" / "dialogues_dev.jsonl")
    movielens: str = str(SHARED_DATA / "ml-latest-small")
    validation_fraction: float = 0.2
    split_seed: int = 0
    redial_train_cases: int = 100
    """ReDial training cases used (round-robin over training seekers); 0 = all."""
    movielens_cases: int = 40
    """MovieLens pseudo-requests added to training (see data.py)."""
    validation_cases: int = 6
    """Validation cases run through the real loop at each periodic validation."""
    memory_dir: str = str(REPO_ROOT / "runs" / "store")
    """Chroma store of the training environment (catalog vectors, global and per-case memory)."""


@dataclass
class SFTJob:
    """Cold-start SFT on hindsight trajectories (LoRA)."""

    model: str = "smollm2-135m"
    """`smollm2-135m` (embedded) or a local directory / hub id of an instruct model."""
    cache_dir: str = ""
    """Cache of converted models; empty = Settings default (~/.cache/mrrec_chat)."""
    out_dir: str = str(REPO_ROOT / "runs" / "sft")
    trajectories_file: str = ""
    """Cache of hindsight trajectories (JSONL), shared by SFT stages; empty = runs/trajectories-<style>.jsonl."""
    profile_style: str = "restate"
    """Answer style of the trajectories: restate (the request in whole sentences, memory appended only
    where hindsight shows it helps), anchored (the third adapter) or describe (the first adapter).
    See trajectories.py and restate.py."""
    init_adapter: str = ""
    """Continue training this LoRA adapter instead of starting a fresh one (a second SFT stage)."""
    step_offset: int = 0
    """Added to step numbers in the curves (a continued stage: the steps already done)."""
    order_seed: int = 0
    """Seed of the example order (a continued stage uses another one to see a new order)."""
    dtype: str = "bf16"
    """Base weights dtype: bf16 (measured ~6x faster than fp32 on these CPUs), fp32, or nf4 (QLoRA, CUDA)."""
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    learning_rate: float = 3e-4
    epochs: float = 0.58
    """0.58 x 140 examples = 20 steps of 4: what fit on the shared CPU (~5 min per step under load)."""
    batch_size: int = 2
    grad_accum: int = 2
    max_length: int = 1280
    warmup_ratio: float = 0.05
    title_rate: float = 0.1
    """Share of hindsight profiles that name the target's title (see trajectories.py)."""
    validate_every: int = 10
    validate_at_start: int = 0
    """1 = also validate before the first step (costly on CPU: the untuned model rambles)."""
    save_every: int = 5
    seed: int = 0
    threads: int = 1
    """torch CPU threads (0 = all). 1 is fastest on a shared 2-core machine (see common.set_threads)."""
    data: DataOptions = field(default_factory=DataOptions)

    @property
    def trajectories_path(self) -> str:
        return self.trajectories_file or str(REPO_ROOT / "runs" / f"trajectories-{self.profile_style}.jsonl")

    @classmethod
    def preset(cls, name: str) -> "SFTJob":
        if name == "cpu":
            return cls()
        if name == "gpu":  # untested: no GPU was lent while this was written
            return cls(model="Qwen/Qwen2.5-3B-Instruct", dtype="nf4", lora_r=32, lora_alpha=64,
                       learning_rate=1e-4, epochs=2.0, batch_size=8, grad_accum=2, validate_every=50,
                       save_every=50, threads=0,
                       data=DataOptions(redial_train_cases=0, movielens_cases=1000, validation_cases=40))
        raise ValueError(f"Unknown preset {name!r}: use cpu or gpu.")


@dataclass
class GRPOJob:
    """GRPO (paper §3.3) from the SFT adapter, with memory-tool rollouts."""

    model: str = "smollm2-135m"
    cache_dir: str = ""
    init_adapter: str = str(REPO_ROOT / "runs" / "sft" / "final")
    """Adapter to start from (the SFT stage's output); empty = a fresh LoRA on the instruct model,
    as in the paper (which ran GRPO without SFT)."""
    out_dir: str = str(REPO_ROOT / "runs" / "grpo")
    dtype: str = "bf16"
    lora_r: int = 16
    lora_alpha: int = 32
    learning_rate: float = 5e-5
    """A dozen CPU steps of LoRA on a 135M model need far more than the paper's full-model 1e-6."""
    num_generations: int = 4
    """Group size (paper: 5)."""
    prompts_per_step: int = 1
    max_steps: int = 12
    """What fits on the shared CPU (~6 min per step under load); the paper ran ~75."""
    temperature: float = 1.0
    max_rounds: int = 2
    """Memory-tool rounds per rollout before it must answer."""
    step_tokens: int = 96
    """New tokens per generation step (the app's AgentOptions.max_new_tokens)."""
    answer_tokens: int = 160
    """Budget of a step that began an answer (the app's AgentOptions.answer_max_new_tokens)."""
    beta: float = 0.0
    """KL weight; 0 as in TRL's default (the paper does not state one)."""
    epsilon: float = 0.2
    """PPO clip range."""
    validate_every: int = 6
    validate_at_start: int = 0
    save_every: int = 3
    seed: int = 0
    threads: int = 1
    """torch CPU threads (0 = all). 1 is fastest on a shared 2-core machine (see common.set_threads)."""
    data: DataOptions = field(default_factory=lambda: DataOptions(redial_train_cases=0, movielens_cases=40))

    @classmethod
    def preset(cls, name: str) -> "GRPOJob":
        if name == "cpu":
            return cls()
        if name == "gpu":
            # Paper: Qwen2.5-3B-Instruct, group 5, batch 256, temperature 1.0, lr 1e-6, ~75 steps.
            # 52 prompts x 5 = 260 rollouts per step (256 is not a multiple of 5). lr 1e-5: the
            # paper's 1e-6 was for all weights; pass --learning-rate 1e-6 to copy it exactly.
            return cls(model="Qwen/Qwen2.5-3B-Instruct", init_adapter="", dtype="nf4", lora_r=32, lora_alpha=64,
                       learning_rate=1e-5, num_generations=5, prompts_per_step=52, max_steps=75,
                       max_rounds=3, step_tokens=256, validate_every=15, save_every=15, threads=0,
                       data=DataOptions(redial_train_cases=0, movielens_cases=2000, validation_cases=40))
        raise ValueError(f"Unknown preset {name!r}: use cpu or gpu.")


def add_arguments(parser: argparse.ArgumentParser, job_type: type) -> None:
    """One `--flag` per field of the job and of its DataOptions (defaults None = keep preset)."""
    for f in [*fields(job_type), *fields(DataOptions)]:
        if f.name == "data":
            continue
        kind = {"int": int, "float": float}.get(str(f.type), str)
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind, default=None)


def apply_arguments(job, args: argparse.Namespace):
    """The preset `job` with every flag the user gave applied (job fields and data fields)."""
    given = {k: v for k, v in vars(args).items() if v is not None}
    job_fields = {f.name for f in fields(job)} - {"data"}
    data = dataclasses.replace(job.data, **{k: v for k, v in given.items() if k in {f.name for f in fields(DataOptions)}})
    return dataclasses.replace(job, data=data, **{k: v for k, v in given.items() if k in job_fields})
