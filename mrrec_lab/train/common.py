"""What the SFT and GRPO jobs share: cases, the policy model, periodic validation and curves."""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from mrrec_chat.config import Settings
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_lab.train.config import DataOptions
from mrrec_lab.train.data import (SPLIT_FILE, movielens_pseudo_cases, partition, read_split, spread_by_user,
                                   write_split)
from mrrec_lab.train.env import MemoryEnvironment
from mrrec_lab.train.validate import ModelLLM, validate, write_report

log = logging.getLogger(__name__)

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class CaseSets:
    train_redial: list[BenchmarkCase]
    train_movielens: list[BenchmarkCase]
    validation: list[BenchmarkCase]
    split: dict[str, Any]

    @property
    def train(self) -> list[BenchmarkCase]:
        return self.train_redial + self.train_movielens


COMMAND_LINE: list[str] = []
"""The `python -m mrrec_lab.train ...` command of this process (set by __main__; stored in summaries)."""


def command_line() -> str | None:
    import shlex

    return shlex.join(["python", "-m", "mrrec_lab.train", *COMMAND_LINE]) if COMMAND_LINE else None


def load_cases(env: MemoryEnvironment, data: DataOptions, seed: int) -> CaseSets:
    """Training and validation cases; writes the seeker split on first use (never overwrites)."""
    from mrrec_lab.eval.redial import build_redial_cases

    cases, _ = build_redial_cases(Path(data.redial), env.dataset)
    if SPLIT_FILE.is_file():
        split = read_split()
    else:
        split = write_split(cases, validation_fraction=data.validation_fraction, seed=data.split_seed,
                            source=Path(data.redial).name)
    train, validation = partition(cases, split)
    train = spread_by_user(train, data.redial_train_cases or None, seed)
    movielens = movielens_pseudo_cases(env.dataset, data.movielens_cases, seed) if data.movielens_cases else []
    return CaseSets(train, movielens, spread_by_user(validation, data.validation_cases, seed), split)


def set_threads(threads: int) -> None:
    """Pin torch's CPU threads. On a shared machine fewer threads than cores is much faster:
    measured here under load, embedding 40 sentences one by one took 81 s with 2 threads and
    8.5 s with 1 (idle spinning of the OpenMP pool against other processes)."""
    import torch

    if threads:
        torch.set_num_threads(threads)


def open_environment(data: DataOptions, threads: int = 0) -> MemoryEnvironment:
    set_threads(threads)
    return MemoryEnvironment.open(data.movielens, data.memory_dir)


def base_model_dir(model: str, cache_dir: str) -> str:
    from mrrec_chat.llm.local import resolve_model_dir

    return resolve_model_dir(model, cache_dir or Settings.from_env().cache_dir)


def load_policy(model: str, cache_dir: str, dtype: str, threads: int):
    """(model, tokenizer) of the base policy in the requested precision."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    set_threads(threads)
    path = base_model_dir(model, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = {}
    if dtype == "nf4":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                           bnb_4bit_compute_dtype=torch.bfloat16)
        kwargs["device_map"] = "auto"
    else:
        kwargs["dtype"] = {"bf16": torch.bfloat16, "fp32": torch.float32, "fp16": torch.float16}[dtype]
    return AutoModelForCausalLM.from_pretrained(path, **kwargs), tokenizer


def lora_config(r: int, alpha: int, dropout: float = 0.05):
    from peft import LoraConfig

    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=LORA_TARGETS,
                      task_type="CAUSAL_LM", bias="none")


class CurveLog:
    """Rows of (stage, step, metric...) appended to a CSV as training goes (survives a crash)."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path.is_file():
            with path.open(encoding="utf-8") as handle:
                self.rows = list(csv.DictReader(handle))

    def add(self, **row: Any) -> None:
        self.rows.append(row)
        columns = list(dict.fromkeys(k for r in self.rows for k in r))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)


class LoopValidation(TrainerCallback):
    """Runs the real agent loop on validation cases (at the start if asked), every N steps, at the end.

    The start is optional because its numbers are known: the untuned model's come from
    `python -m mrrec_lab.train validate` (LocalLLM, as the app runs it), and GRPO starts from the
    SFT stage's final validation.
    """

    def __init__(self, env: MemoryEnvironment, cases: list[BenchmarkCase], tokenizer, every: int,
                 curves: CurveLog, report_dir: Path, stage: str, at_start: bool = True, step_offset: int = 0):
        self.env, self.cases, self.tokenizer, self.every = env, cases, tokenizer, every
        self.at_start, self.step_offset = at_start, step_offset
        self.curves, self.report_dir, self.stage = curves, report_dir, stage
        self.model = None
        self.done_steps: set[int] = {int(float(r["step"])) - step_offset for r in curves.rows
                                     if r.get("kind") == "validation" and r.get("stage") == stage}
        self.reports: dict[int, dict[str, Any]] = {}

    def run(self, model, step: int) -> dict[str, Any]:
        was_training = model.training
        model.eval()
        started = time.perf_counter()
        report = validate(ModelLLM(model, self.tokenizer), self.env, self.cases, desc=f"{self.stage} validation @{step}")
        model.train(was_training)
        write_report(report, self.report_dir / f"validation_step{step:04d}.json")
        summary = report.summary()
        self.reports[step] = summary
        self.done_steps.add(step)
        self.curves.add(kind="validation", stage=self.stage, step=step + self.step_offset, **summary)
        log.warning("%s validation @%d: %s (%.0f s)", self.stage, step,
                    json.dumps({k: round(v, 3) for k, v in summary.items()}), time.perf_counter() - started)
        return summary

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.model = model
        if self.at_start and state.global_step not in self.done_steps:
            self.run(model, state.global_step)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.every and state.global_step % self.every == 0 and state.global_step not in self.done_steps \
                and state.global_step < state.max_steps:
            self.run(model, state.global_step)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if state.global_step not in self.done_steps:
            self.run(model, state.global_step)


def refresh_validation_rows(curves: CurveLog, report_dir: Path, stage: str, step_offset: int = 0) -> None:
    """Rewrite the stage's validation rows from its saved reports under the current definitions
    (validate.read_report), so curves made by an older definition stay comparable."""
    from mrrec_lab.train.validate import read_report

    rows = [r for r in curves.rows if not (r.get("kind") == "validation" and r.get("stage") == stage)]
    for path in sorted(report_dir.glob("validation_step*.json")):
        step = int(path.stem.removeprefix("validation_step"))
        rows.append({"kind": "validation", "stage": stage, "step": step + step_offset, **read_report(path).summary()})
    curves.rows = []
    for row in rows:
        curves.add(**row)


class LogToCurves(TrainerCallback):
    """Copies the trainer's log lines (loss, reward, lr, ...) into the curves CSV."""

    def __init__(self, curves: CurveLog, stage: str, step_offset: int = 0):
        self.curves, self.stage, self.step_offset = curves, stage, step_offset
        self.started = time.time()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            numeric = {k: v for k, v in logs.items() if isinstance(v, (int, float))}
            self.curves.add(kind="train", stage=self.stage, step=state.global_step + self.step_offset,
                            wall_s=round(time.time() - self.started, 1), **numeric)


def plot_curves(csv_path: Path, png_path: Path, train_keys: list[str], title: str) -> None:
    """Training metrics (left) and loop validation rates and reward (right) against steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    train = [r for r in rows if r.get("kind") == "train"]
    for key in train_keys:
        points = [(float(r["step"]), float(r[key])) for r in train if r.get(key) not in (None, "")]
        if points:
            left.plot(*zip(*points), label=key)
    left.set_xlabel("step"), left.set_title("training"), left.legend(fontsize=8)
    validation = [r for r in rows if r.get("kind") == "validation"]
    for key in ("format_follow_rate", "tool_call_rate", "hit_rate_at_100"):
        points = [(float(r["step"]), float(r[key])) for r in validation if r.get(key) not in (None, "")]
        if points:
            right.plot(*zip(*points), marker="o", label=key)
    reward_axis = right.twinx()
    points = [(float(r["step"]), float(r["mean_reward"])) for r in validation if r.get("mean_reward")]
    if points:
        reward_axis.plot(*zip(*points), marker="s", color="black", linestyle="--", label="mean_reward")
        reward_axis.set_ylabel("mean reward")
    right.set_xlabel("step"), right.set_ylim(-0.05, 1.05), right.set_title("validation (real agent loop)")
    right.legend(fontsize=8, loc="upper left")
    figure.suptitle(title)
    figure.tight_layout()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png_path, dpi=110)
    plt.close(figure)


def last_checkpoint(out_dir: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    directory = out_dir / "checkpoints"
    return get_last_checkpoint(str(directory)) if directory.is_dir() else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def cpu_description() -> str:
    name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({name or 'unknown CPU'}), no GPU"
