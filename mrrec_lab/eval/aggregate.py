"""Aggregates the evaluator's runs.jsonl into results.json's numbers (eval/runner.py runs the cases).

`summarise` keeps only the runs of the current configuration (a system signature that still
matches) and scores every system on the cases it ran: Recall/NDCG at each depth with bootstrap
CIs per slice (all, warm, cold start), costs (memory tokens, LLM calls, generated tokens,
seconds, fallback and tool-call rates), and, for each distinct set of cases an LLM system ran,
a same-case group with paired bootstrap differences of every system against the best baseline
and of each MR.Rec variant against the full pipeline it varies, so comparisons stay apples to
apples when the LLM systems ran on fewer cases than the others.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import TYPE_CHECKING, Any

from mrrec_chat.config import Settings
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_lab.eval.metrics import bootstrap_ci, clustered_paired_bootstrap_diff, metric_table, paired_bootstrap_diff
from mrrec_lab.eval.systems import BASELINES, DIAGNOSTICS, System

if TYPE_CHECKING:  # annotations only: runner.py imports this module
    from mrrec_lab.eval.runner import Benchmark, EvalConfig, RunLog


def summarise(benchmark: Benchmark, config: EvalConfig, runlog: RunLog, systems: list[System],
              signatures: dict[str, str], evaluated: list[BenchmarkCase], llm_subset: list[BenchmarkCase],
              settings: Settings) -> dict[str, Any]:
    """results.json's content: numbers with bootstrap CIs per slice, same-case groups, costs.

    Slices (per system, over the cases it ran): all, warm, cold_start. Same-case groups: for
    each distinct set of cases an LLM system ran, every system that ran all of those cases,
    scored on exactly them, with paired differences against the best baseline; this keeps
    comparisons apples to apples when LLM systems ran on fewer cases than the others.
    """
    # Only runs of the current configuration count (a resumed run may hold older ones).
    records = {system.name: {cid: r for (name, cid), r in runlog.records.items()
                             if name == system.name and r.get("signature") == signatures[system.name]}
               for system in systems}
    out_systems: dict[str, Any] = {}
    for system in systems:
        mine = records[system.name]
        ran = [c for c in evaluated if c.case_id in mine]
        slices = {}
        for slice_name, cases in (("all", ran), ("warm", [c for c in ran if not c.cold_start]),
                                  ("cold_start", [c for c in ran if c.cold_start])):
            if cases:
                slices[slice_name] = {"n": len(cases), **_scores(cases, mine, config)[1]}
        out_systems[system.name] = {
            "description": system.description, "llm": system.uses_llm, "n_cases": len(ran),
            "subset_only": 0 < len(ran) < len(evaluated), "slices": slices,
            "cost": _costs([mine[c.case_id] for c in ran]),
        }
    groups = []
    ran_ids = {s.name: tuple(c.case_id for c in evaluated if c.case_id in records[s.name]) for s in systems}
    case_sets = {ran_ids[s.name] for s in systems if s.uses_llm}
    for ids in sorted((i for i in case_sets if i), key=len, reverse=True):
        wanted = set(ids)
        cases = [c for c in evaluated if c.case_id in wanted]
        members = [s for s in systems if wanted <= records[s.name].keys()]
        scored = {s.name: _scores(cases, records[s.name], config) for s in members}
        groups.append({
            "n": len(cases), "cold_start": sum(c.cold_start for c in cases),
            "llm_systems": [s.name for s in systems if s.uses_llm and ran_ids[s.name] == ids],
            "case_ids": list(ids),
            "systems": {name: {"metrics": cis, "cost": _costs([records[name][c.case_id] for c in cases])}
                        for name, (_, cis) in scored.items()},
            "comparisons": _comparisons({name: values for name, (values, _) in scored.items()}, config,
                                        [c.user_id for c in cases]),
            "variants": _variant_comparisons({name: values for name, (values, _) in scored.items()}, config),
        })
    all_cases = {s.name: _scores(evaluated, records[s.name], config)[0] for s in systems
                 if len(ran_ids[s.name]) == len(evaluated)}
    builds = [b for cid, b in runlog.memory_builds.items() if cid in {c.case_id for c in evaluated}]
    cold = sum(c.cold_start for c in evaluated)
    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(sys.argv),
        "benchmark": {"name": benchmark.name, "build_report": benchmark.build_report,
                      "catalog_items": len(benchmark.dataset.items), "cases_total": len(benchmark.cases),
                      "cases_evaluated": len(evaluated), "cold_start_evaluated": cold,
                      "llm_subset_cases": len(llm_subset), "seed": config.seed, "depth": config.depth,
                      "exclude_memory_items": config.exclude_memory,
                      "exclude_request_mentions": config.exclude_request_mentions},
        "settings": {k: getattr(settings, k) for k in (
            "llm_backend", "llm_model", "llm_quantization", "llm_threads", "embedding_model", "memory_top_k",
            "global_top_k", "max_rounds", "max_new_tokens", "answer_max_new_tokens", "temperature",
            "max_behavior_records")},
        "metrics": [f"{m}@{k}" for k in config.ks for m in ("recall", "ndcg")],
        "bootstrap": config.bootstrap,
        "systems": out_systems,
        "comparisons_all": _comparisons(all_cases, config, [c.user_id for c in evaluated]),
        "groups": groups,
        "memory_build": {"cases": len(builds),
                         "entries_mean": _mean([b["entries"] for b in builds]),
                         "seconds_mean": _mean([b["seconds"] for b in builds])},
    }


def _scores(cases: list[BenchmarkCase], records: dict[str, dict[str, Any]],
             config: EvalConfig) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """(per-case metric arrays, their means with bootstrap CIs) over `cases`."""
    table = metric_table([records[c.case_id]["ranked"] for c in cases], [set(c.ground_truth) for c in cases],
                         config.ks)
    return table, {metric: _ci(values, config) for metric, values in table.items()}


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


def _variant_comparisons(per_case: dict[str, dict[str, Any]], config: EvalConfig) -> dict[str, Any]:
    """Each MR.Rec variant (ablations, the tuned policy, the no-LLM pipeline) minus the full
    pipeline it varies, paired over the same cases: `mrrec-tuned` when the ablations ran on the
    tuned policy (then `mrrec` is compared with it too), else the untuned `mrrec`."""
    reference = "mrrec-tuned" if config.ablations_on_tuned else "mrrec"
    if reference not in per_case:
        return {}
    out: dict[str, Any] = {"reference": reference, "systems": {}}
    for name, ours in per_case.items():
        if name == reference or not name.startswith("mrrec"):
            continue
        for metric, values in ours.items():
            diff, low, high = paired_bootstrap_diff(values, per_case[reference][metric], n=config.bootstrap,
                                                    seed=config.seed)
            out["systems"].setdefault(name, {})[metric] = {"diff": round(diff, 5), "lo": round(low, 5),
                                                           "hi": round(high, 5)}
    return out if out["systems"] else {}


def _comparisons(per_case: dict[str, dict[str, Any]], config: EvalConfig,
                 users: list[str] | None = None) -> dict[str, Any]:
    """Each non-baseline system minus the best baseline per metric, paired over the same cases;
    with `users` (one per case), also the interval from resampling whole users (seekers)."""
    baselines = {n: v for n, v in per_case.items() if n in BASELINES}
    comparisons: dict[str, Any] = {}
    if not baselines:
        return comparisons
    for name, ours in per_case.items():
        if name in BASELINES or name in DIAGNOSTICS:
            continue
        for metric, values in ours.items():
            best = max(baselines, key=lambda n: float(baselines[n][metric].mean()))
            diff, low, high = paired_bootstrap_diff(values, baselines[best][metric], n=config.bootstrap,
                                                    seed=config.seed)
            comparisons.setdefault(name, {})[metric] = {
                "best_baseline": best, "diff": round(diff, 5), "lo": round(low, 5), "hi": round(high, 5)}
            if users and len(set(users)) > 1:
                _, user_low, user_high = clustered_paired_bootstrap_diff(
                    values, baselines[best][metric], users, n=config.bootstrap, seed=config.seed)
                comparisons[name][metric].update(users=len(set(users)), users_lo=round(user_low, 5),
                                                 users_hi=round(user_high, 5))
    return comparisons
