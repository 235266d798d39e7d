"""Runs the compared systems over benchmark cases, resumably, and aggregates the results.

Flow: load the benchmark (ReDial dialogues + MovieLens, or generic JSONL cases), order the cases
by a seeded shuffle, start an Assistant on a private memory directory (its catalog and global
memory are the product's own), run the systems without an LLM on every case and the LLM systems
on the first `llm_limit` cases of the same order, append one JSON line per (system, case) to
`runs.jsonl` as it goes, then aggregate: Recall/NDCG with bootstrap CIs per slice (all, warm,
cold start, the LLM subset), paired differences against the best baseline, and costs.

`--resume` keeps every line whose system signature (model, options, depth, encoder) still
matches, so an interrupted or extended run only does what is missing.
"""

from __future__ import annotations

import json
import logging
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from mrrec_chat.config import Settings
from mrrec_chat.data.schema import Dataset
from mrrec_chat.eval.cases import BenchmarkCase
from mrrec_chat.eval.metrics import bootstrap_ci, metric_table, paired_bootstrap_diff
from mrrec_chat.eval.systems import (BASELINES, LLM_VARIANTS, EvalContext, System, SystemResult,
                                     build_systems)

log = logging.getLogger(__name__)

RUNS_FILE = "runs.jsonl"
SLICES = ("all", "warm", "cold_start", "llm_subset")


@dataclass
class Benchmark:
    name: str
    dataset: Dataset
    cases: list[BenchmarkCase]
    build_report: dict[str, Any] = field(default_factory=dict)


def load_benchmark(*, redial: str | None = None, movielens: str | None = None,
                   cases_jsonl: str | None = None) -> Benchmark:
    """ReDial dialogues graded on a MovieLens directory, or a generic JSONL cases directory."""
    if cases_jsonl:
        from mrrec_chat.data.jsonl import load_jsonl_dataset
        from mrrec_chat.eval.cases import load_jsonl_cases

        directory = Path(cases_jsonl)
        cases = load_jsonl_cases(directory)
        return Benchmark(directory.name, load_jsonl_dataset(directory), cases,
                         {"source": "jsonl", "cases": len(cases),
                          "cold_start_cases": sum(c.cold_start for c in cases)})
    if not (redial and movielens):
        raise ValueError("Pass --redial FILE and --movielens DIR (ReDial on MovieLens), or --cases-jsonl DIR.")
    from mrrec_chat.data.movielens import load_movielens_csv
    from mrrec_chat.eval.redial import build_redial_cases

    dataset = load_movielens_csv(Path(movielens))
    cases, report = build_redial_cases(Path(redial), dataset)
    return Benchmark(Path(redial).stem, dataset, cases, {"source": "redial", **report.to_dict()})


@dataclass
class EvalConfig:
    out_dir: Path
    systems: list[str]
    limit: int | None = None  # cases for every system (first N of the seeded order)
    llm_limit: int | None = None  # cases for LLM systems (first N of the same order)
    seed: int = 0
    resume: bool = False
    depth: int = 100
    exclude_memory: bool = False
    exclude_request_mentions: bool = False
    ks: tuple[int, ...] = (10, 50, 100)
    bootstrap: int = 1000


def select_cases(cases: list[BenchmarkCase], seed: int, limit: int | None,
                 llm_limit: int | None) -> tuple[list[BenchmarkCase], list[BenchmarkCase]]:
    """(cases for all systems, cases for LLM systems): prefixes of one seeded shuffle, so the
    LLM subset is always inside the evaluated set and the same for every LLM system."""
    order = sorted(cases, key=lambda c: c.case_id)
    random.Random(seed).shuffle(order)
    evaluated = order[:limit] if limit is not None else order
    return evaluated, evaluated[:llm_limit] if llm_limit is not None else evaluated


class RunLog:
    """runs.jsonl: one line per finished (system, case), plus one per case-memory build."""

    def __init__(self, path: Path, resume: bool):
        self.path = path
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.memory_builds: dict[str, dict[str, Any]] = {}
        if resume and path.exists():
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by an interrupted run: that case is redone
                    self._keep(record)
        elif path.exists():
            log.warning("%s exists and --resume was not given: starting it afresh.", path)
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")

    def _keep(self, record: dict[str, Any]) -> None:
        if record.get("kind") == "memory":
            self.memory_builds[record["case_id"]] = record
        elif "system" in record:
            self.records[(record["system"], record["case_id"])] = record

    def done(self, system: System, signature: str, case_id: str) -> bool:
        record = self.records.get((system.name, case_id))
        return record is not None and record.get("signature") == signature

    def append(self, record: dict[str, Any]) -> None:
        self._keep(record)
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()  # every finished case survives an interruption

    def close(self) -> None:
        self._handle.close()


LLMFactory = Callable[[str | None], Any]


def default_llm_factory(settings: Settings) -> LLMFactory:
    def make(adapter: str | None):
        from mrrec_chat.llm import build_llm

        llm = build_llm(settings.replace(llm_adapter=adapter or "none"))
        llm.warm_up()
        return llm
    return make


def resolve_tuned_adapter(settings: Settings) -> tuple[str | None, str]:
    """(adapter directory for mrrec-tuned, or None with the reason it is skipped)."""
    if settings.llm_backend != "local":
        return None, "LoRA adapters apply to the local backend only"
    if settings.llm_adapter not in ("auto", "none", ""):
        return settings.llm_adapter, ""
    from mrrec_chat.llm.local import default_adapter_dir

    candidate = default_adapter_dir(settings.llm_model)
    if (candidate / "adapter_config.json").exists():
        return str(candidate), ""
    return None, f"no adapter at {candidate} (train one, or pass --llm-adapter DIR)"


def run_evaluation(benchmark: Benchmark, config: EvalConfig, settings: Settings, *, embedder=None,
                   llm_factory: LLMFactory | None = None, progress: bool = True) -> dict[str, Any]:
    """Run and aggregate; writes runs.jsonl, results.json, results.md and the plots to out_dir."""
    from tqdm.auto import tqdm

    from mrrec_chat.eval import report
    from mrrec_chat.service import Assistant

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    evaluated, llm_subset = select_cases(benchmark.cases, config.seed, config.limit, config.llm_limit)
    started = time.perf_counter()
    assistant = Assistant(settings, dataset=benchmark.dataset, embedder=embedder, load_llm=False).start()
    runlog = RunLog(out / RUNS_FILE, config.resume)
    try:
        ctx = EvalContext(assistant, depth=config.depth, exclude_memory=config.exclude_memory,
                          exclude_request_mentions=config.exclude_request_mentions,
                          max_behavior_records=settings.max_behavior_records)
        names, skipped, llms = _prepare_llms(config.systems, settings, llm_factory or default_llm_factory(settings))
        systems = build_systems(names, ctx, assistant.options(n_items=config.depth), **llms)
        signatures = {s.name: s.signature(ctx) for s in systems}
        phases = [("systems without LLM", [s for s in systems if not s.uses_llm], evaluated),
                  ("LLM systems", [s for s in systems if s.uses_llm], llm_subset)]
        errors: dict[str, list[str]] = defaultdict(list)
        for title, phase_systems, phase_cases in phases:
            todo = [(case, [s for s in phase_systems if not runlog.done(s, signatures[s.name], case.case_id)])
                    for case in phase_cases]
            total = sum(len(t) for _, t in todo)
            if not total:
                continue
            needing_memory = [case for case, pending in todo if any(s.needs_case_memory for s in pending)]
            if needing_memory:
                log.info("Embedding the memory of %d cases (%s)", len(needing_memory), title)
                ctx.prepare(needing_memory)
            with tqdm(total=total, desc=title, unit="run", disable=not progress, file=sys.stderr) as bar:
                for case, pending in todo:
                    if pending:
                        _run_case(case, pending, ctx, runlog, signatures, errors, bar)
        results = summarise(benchmark, config, runlog, systems, evaluated, llm_subset, settings)
        results["skipped"] = skipped
        results["errors"] = {name: {"count": len(e), "examples": e[:3]} for name, e in errors.items()}
        results["wall_seconds"] = round(time.perf_counter() - started, 1)
        results["startup_seconds"] = {k: round(v, 2) for k, v in assistant.startup_seconds.items()}
    finally:
        runlog.close()
        assistant.close()
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report.write_markdown(results, out / "results.md")
    report.write_plots(results, out)
    return results


def _prepare_llms(names: list[str], settings: Settings, factory: LLMFactory) -> tuple[list[str], dict[str, str], dict]:
    """Load the LLMs the requested systems need; drop (with a reason) the ones that cannot run."""
    skipped: dict[str, str] = {}
    llms: dict[str, Any] = {}
    label = settings.llm_model if settings.llm_backend == "local" else f"{settings.llm_model}@{settings.llm_base_url}"
    if any(n in LLM_VARIANTS and n != "mrrec-tuned" for n in names):
        llms.update(llm=factory(None), llm_label=label)
    if "mrrec-tuned" in names:
        adapter, reason = resolve_tuned_adapter(settings)
        if adapter is None:
            skipped["mrrec-tuned"] = reason
            log.warning("Skipping mrrec-tuned: %s", reason)
        else:
            llms.update(tuned_llm=factory(adapter), tuned_label=f"{label}+{Path(adapter).name}")
    return [n for n in names if n not in skipped], skipped, llms


def _run_case(case: BenchmarkCase, pending: list[System], ctx: EvalContext, runlog: RunLog,
              signatures: dict[str, str], errors: dict[str, list[str]], bar) -> None:
    loaded = False
    try:
        if any(s.needs_case_memory for s in pending):
            t0 = time.perf_counter()
            entries = ctx.load_case_memory(case)
            loaded = True
            runlog.append({"kind": "memory", "case_id": case.case_id, "entries": entries,
                           "seconds": round(time.perf_counter() - t0, 4)})
        for system in pending:
            bar.set_postfix_str(system.name, refresh=False)
            try:
                result = system.run(case, ctx)
            except Exception as exc:  # noqa: BLE001 - one failing case must not end a long run
                log.warning("%s failed on %s: %r", system.name, case.case_id, exc)
                errors[system.name].append(f"{case.case_id}: {exc!r}"[:300])
            else:
                runlog.append(_record(system, signatures[system.name], case, result))
            bar.update(1)
    finally:
        if loaded:
            ctx.drop_case_memory(case)


def _record(system: System, signature: str, case: BenchmarkCase, result: SystemResult) -> dict[str, Any]:
    record = {"system": system.name, "signature": signature, "case_id": case.case_id}
    record.update(asdict(result))
    record["seconds"] = round(result.seconds, 4)
    return record


# --- aggregation ------------------------------------------------------------------------------

def summarise(benchmark: Benchmark, config: EvalConfig, runlog: RunLog, systems: list[System],
              evaluated: list[BenchmarkCase], llm_subset: list[BenchmarkCase], settings: Settings) -> dict[str, Any]:
    """results.json's content: numbers with bootstrap CIs per slice, paired comparisons, costs."""
    subset_ids = {c.case_id for c in llm_subset}
    slice_cases = {
        "all": evaluated,
        "warm": [c for c in evaluated if not c.cold_start],
        "cold_start": [c for c in evaluated if c.cold_start],
        "llm_subset": llm_subset,
    }
    per_case: dict[str, dict[str, dict[str, Any]]] = {}  # system -> slice -> {"ids", metric arrays}
    out_systems: dict[str, Any] = {}
    for system in systems:
        records = {cid: r for (name, cid), r in runlog.records.items() if name == system.name}
        ran = [c for c in evaluated if c.case_id in records]
        slices: dict[str, Any] = {}
        per_case[system.name] = {}
        for slice_name, cases in slice_cases.items():
            cases = [c for c in cases if c.case_id in records]
            if not cases:
                continue
            table = metric_table([records[c.case_id]["ranked"] for c in cases],
                                 [set(c.ground_truth) for c in cases], config.ks)
            per_case[system.name][slice_name] = {"ids": [c.case_id for c in cases], **table}
            slices[slice_name] = {"n": len(cases), **{
                metric: _ci(values, config) for metric, values in table.items()}}
        out_systems[system.name] = {
            "description": system.description, "llm": system.uses_llm,
            "n_cases": len(ran), "subset_only": bool(ran) and {c.case_id for c in ran} <= subset_ids
            and len(ran) < len(evaluated),
            "slices": slices, "cost": _costs([records[c.case_id] for c in ran]),
            "cost_llm_subset": _costs([records[c.case_id] for c in ran if c.case_id in subset_ids]),
        }
    builds = [b for cid, b in runlog.memory_builds.items() if cid in {c.case_id for c in evaluated}]
    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(sys.argv),
        "benchmark": {"name": benchmark.name, "build_report": benchmark.build_report,
                      "catalog_items": len(benchmark.dataset.items), "cases_total": len(benchmark.cases),
                      "cases_evaluated": len(evaluated), "cold_start_evaluated": len(slice_cases["cold_start"]),
                      "llm_subset_cases": len(llm_subset), "seed": config.seed, "depth": config.depth,
                      "exclude_memory_items": config.exclude_memory,
                      "exclude_request_mentions": config.exclude_request_mentions},
        "settings": {k: getattr(settings, k) for k in (
            "llm_backend", "llm_model", "llm_quantization", "embedding_model", "memory_top_k", "global_top_k",
            "max_rounds", "max_new_tokens", "answer_max_new_tokens", "temperature", "max_behavior_records")},
        "metrics": [f"{m}@{k}" for k in config.ks for m in ("recall", "ndcg")],
        "bootstrap": config.bootstrap,
        "systems": out_systems,
        "comparisons": _comparisons(per_case, config, ("all", "llm_subset") if len(llm_subset) < len(evaluated)
                                    else ("all",)),
        "memory_build": {"cases": len(builds),
                         "entries_mean": _mean([b["entries"] for b in builds]),
                         "seconds_mean": _mean([b["seconds"] for b in builds])},
    }


def _ci(values, config: EvalConfig) -> dict[str, float]:
    mean, low, high = bootstrap_ci(values, n=config.bootstrap, seed=config.seed)
    return {"mean": round(mean, 5), "lo": round(low, 5), "hi": round(high, 5)}


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _costs(records: list[dict[str, Any]]) -> dict[str, Any]:
    if not records:
        return {}
    seconds = sorted(r["seconds"] for r in records)
    costs = {
        "n": len(records),
        "memory_tokens_mean": _mean([r["memory_tokens"] for r in records]),
        "llm_calls_mean": _mean([r["llm_calls"] for r in records]),
        "generated_tokens_mean": _mean([r["generated_tokens"] for r in records]),
        "seconds_median": round(statistics.median(seconds), 4),
        "seconds_mean": _mean(seconds),
        "seconds_p90": round(seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))], 4),
    }
    details = [r.get("details") or {} for r in records]
    if any("fallback" in d for d in details):
        costs["fallback_profile_rate"] = _mean([float(bool(d.get("fallback"))) for d in details])
        costs["model_called_tool_rate"] = _mean(
            [float(d.get("tool_calls", 0) > d.get("forced_search", 0)) for d in details])
        costs["tool_calls_mean"] = _mean([d.get("tool_calls", 0) for d in details])
    return costs


def _comparisons(per_case: dict[str, dict[str, dict[str, Any]]], config: EvalConfig,
                 slices: tuple[str, ...]) -> dict[str, Any]:
    """Each MR.Rec system minus the best baseline (per metric and slice), paired over cases."""
    comparisons: dict[str, Any] = {}
    for slice_name in slices:
        baselines = {n: per_case[n][slice_name] for n in BASELINES if slice_name in per_case.get(n, {})}
        for name, slices in per_case.items():
            if name in BASELINES or slice_name not in slices:
                continue
            ours = slices[slice_name]
            for metric in (k for k in ours if k != "ids"):
                rivals = {n: b for n, b in baselines.items() if b["ids"] == ours["ids"]}
                if not rivals:
                    continue
                best = max(rivals, key=lambda n: float(rivals[n][metric].mean()))
                diff, low, high = paired_bootstrap_diff(ours[metric], rivals[best][metric],
                                                        n=config.bootstrap, seed=config.seed)
                comparisons.setdefault(slice_name, {}).setdefault(name, {})[metric] = {
                    "best_baseline": best, "diff": round(diff, 5), "lo": round(low, 5), "hi": round(high, 5)}
    return comparisons
