"""Turns results.json's content into results.md (Markdown tables) and PNG plots (matplotlib, Agg).

Tables: every system on all evaluated cases; warm vs cold start; for each set of cases the
LLM systems ran (--llm-limit), every system on exactly those cases (the only apples-to-apples
view of LLM and non-LLM systems), with costs and paired differences against the best baseline.
Plots: metrics per system with 95% bootstrap error bars, and cost (memory tokens, latency)
against quality.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mrrec_lab.eval.systems import DIAGNOSTICS

HEADLINE = ("recall@10", "recall@100", "ndcg@10", "ndcg@100")
LABELS = {"recall": "R", "ndcg": "N"}


def _short(metric: str) -> str:
    name, k = metric.split("@")
    return f"{LABELS.get(name, name)}@{k}"


def _cell(stats: dict[str, float] | None, ci: bool = True) -> str:
    if not stats:
        return "–"
    if not ci:
        return f"{stats['mean']:.3f}"
    return f"{stats['mean']:.3f} [{stats['lo']:.3f}, {stats['hi']:.3f}]"


def _num(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _mark(results: dict[str, Any], name: str) -> str:
    return " (LLM)" if results["systems"][name]["llm"] else " (diagnostic)" if name in DIAGNOSTICS else ""


def _metric_rows(results: dict[str, Any], slice_name: str, metrics: list[str], names: list[str],
                 ci: bool = True) -> list[str]:
    rows = ["| system | n | " + " | ".join(_short(m) for m in metrics) + " |",
            "|---|---|" + "---|" * len(metrics)]
    for name in names:
        stats = results["systems"][name]["slices"].get(slice_name)
        if not stats:
            continue
        cells = " | ".join(_cell(stats.get(m), ci) for m in metrics)
        rows.append(f"| {name}{_mark(results, name)} | {stats['n']} | {cells} |")
    return rows


def _group_rows(results: dict[str, Any], group: dict[str, Any], metrics: list[str]) -> list[str]:
    rows = ["| system | " + " | ".join(_short(m) for m in metrics) + " | memory tokens | LLM calls | "
            "generated tokens | median s |",
            "|---|" + "---|" * (len(metrics) + 4)]
    for name, entry in group["systems"].items():
        cost = entry["cost"]
        rows.append(f"| {name}{_mark(results, name)} | " + " | ".join(_cell(entry["metrics"].get(m)) for m in metrics)
                    + f" | {_num(cost['memory_tokens_mean'])} | {_num(cost['llm_calls_mean'], 2)} | "
                    f"{_num(cost['generated_tokens_mean'])} | {_num(cost['seconds_median'], 2)} |")
    return rows


def _comparison_rows(comparisons: dict[str, Any]) -> list[str]:
    rows = ["| system | " + " | ".join(_short(m) for m in HEADLINE) + " |", "|---|" + "---|" * len(HEADLINE)]
    for name, by_metric in comparisons.items():
        cells = []
        for metric in HEADLINE:
            c = by_metric.get(metric)
            cell = "–" if not c else f"{c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}] vs {c['best_baseline']}"
            if c and "users_lo" in c:
                cell += f"; by user ({c['users']}): [{c['users_lo']:+.3f}, {c['users_hi']:+.3f}]"
            cells.append(cell)
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def _variant_rows(variants: dict[str, Any]) -> list[str]:
    rows = ["| system | " + " | ".join(_short(m) for m in HEADLINE) + " |", "|---|" + "---|" * len(HEADLINE)]
    for name, by_metric in variants["systems"].items():
        cells = [("–" if not (c := by_metric.get(metric)) else f"{c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}]")
                 for metric in HEADLINE]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def write_markdown(results: dict[str, Any], path: Path) -> None:
    bench, systems = results["benchmark"], results["systems"]
    metrics = results["metrics"]
    names = list(systems)
    on_all = [n for n in names if not systems[n]["subset_only"]]
    lines = [
        f"# Benchmark results: {bench['name']}",
        "",
        f"Generated {results['created']} by `python -m mrrec_lab.eval` "
        f"(numbers: mean [95% bootstrap CI over cases, {results.get('bootstrap', 1000)} resamples]).",
        "",
        f"- Cases: {bench['cases_evaluated']} evaluated of {bench['cases_total']} built "
        f"({bench['cold_start_evaluated']} cold start); LLM systems ran on the first "
        f"{bench['llm_subset_cases']} of the same seeded order (seed {bench['seed']}).",
        f"- Catalog: {bench['catalog_items']:,} items; every system ranks the top {bench['depth']}. "
        f"Memory items {'are' if bench['exclude_memory_items'] else 'are NOT'} excluded from rankings "
        "(ReDial memory is mentions and likes, not consumption; see mrrec_lab/eval/PROTOCOL.md); "
        f"titles named in the request {'are' if bench.get('exclude_request_mentions') else 'are NOT'} excluded.",
        f"- Encoder {results['settings']['embedding_model']}; LLM {results['settings']['llm_model']} "
        f"({results['settings']['llm_backend']}, temperature {results['settings']['temperature']}); "
        f"memory top-k {results['settings']['memory_top_k']}, max rounds {results['settings']['max_rounds']}.",
        "",
    ]
    if on_all:
        lines += [f"## All evaluated cases ({bench['cases_evaluated']})", "",
                  *_metric_rows(results, "all", metrics, on_all), "",
                  "## Warm vs cold start (all evaluated cases)", ""]
        for slice_name in ("warm", "cold_start"):
            lines += [f"**{slice_name.replace('_', ' ')}**", "",
                      *_metric_rows(results, slice_name, list(HEADLINE), on_all), ""]
    for group in results.get("groups", []):
        lines += [f"## Same {group['n']} cases for every system ({group['cold_start']} cold start; "
                  f"LLM systems that ran exactly these: {', '.join(group['llm_systems']) or '–'})", "",
                  "Apples to apples: every row is scored on exactly these cases (the first cases of the "
                  "seeded order).", "",
                  *_group_rows(results, group, metrics), ""]
        if group["comparisons"]:
            lines += ["Minus the best baseline on these cases (paired bootstrap, 95% CI, resampling cases; "
                      "\"by user\": resampling whole users, e.g. ReDial seekers, whose cases are not "
                      "independent — the honest interval when there are few of them):", "",
                      *_comparison_rows(group["comparisons"]), ""]
        if group.get("variants"):
            lines += [f"MR.Rec variants minus the full pipeline `{group['variants']['reference']}` on these "
                      f"cases (paired bootstrap, 95% CI; an interval that excludes 0 is a measured effect):", "",
                      *_variant_rows(group["variants"]), ""]
    lines += ["## Cost per request", "",
              "Memory tokens: memory text put into the query or prompt (~4 characters per token, the "
              "same rule for every system). Seconds: wall time per case on this machine "
              "(memory building excluded: it is offline in the paper).", "",
              "| system | cases | memory tokens | LLM calls | generated tokens | median s | p90 s | "
              "fallback profile | model called tool |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name in names:
        cost = systems[name]["cost"]
        if not cost:
            continue
        lines.append(f"| {name} | {cost['n']} | {_num(cost['memory_tokens_mean'])} | "
                     f"{_num(cost['llm_calls_mean'], 2)} | {_num(cost['generated_tokens_mean'])} | "
                     f"{_num(cost['seconds_median'], 3)} | {_num(cost['seconds_p90'], 3)} | "
                     f"{_num(cost.get('fallback_profile_rate'), 2)} | {_num(cost.get('model_called_tool_rate'), 2)} |")
    if results.get("comparisons_all"):
        lines += ["", f"## Minus the best baseline on all {bench['cases_evaluated']} cases (paired bootstrap)", "",
                  *_comparison_rows(results["comparisons_all"])]
    if results.get("skipped"):
        lines += ["", "## Skipped", ""] + [f"- {n}: {why}" for n, why in results["skipped"].items()]
    if any(e["count"] for e in results.get("errors", {}).values()):
        lines += ["", "## Errors", ""] + [f"- {n}: {e['count']} cases failed, e.g. {e['examples'][0]}"
                                          for n, e in results["errors"].items() if e["count"]]
    lines += ["", "## Build report", "", "| count | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in bench["build_report"].items() if not isinstance(v, (list, dict))]
    lines += ["", "Descriptions:", ""] + [f"- **{n}**: {systems[n]['description']}" for n in names]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_plots(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """metrics_all.png, metrics_same_<n>_cases.png per same-case group, cost_quality.png."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers or in CI
    written = []
    path = Path(out_dir) / "metrics_all.png"
    names = [n for n, s in results["systems"].items() if "all" in s["slices"] and not s["subset_only"]]
    stats = {n: results["systems"][n]["slices"]["all"] for n in names}
    if names and _plot_metrics(stats, f"all {results['benchmark']['cases_evaluated']} cases", results, path):
        written.append(path)
    for group in results.get("groups", []):
        path = Path(out_dir) / f"metrics_same_{group['n']}_cases.png"
        stats = {n: e["metrics"] for n, e in group["systems"].items()}
        if _plot_metrics(stats, f"the same {group['n']} cases", results, path):
            written.append(path)
    path = Path(out_dir) / "cost_quality.png"
    if _plot_cost_quality(results, path):
        written.append(path)
    return written


def _plot_metrics(stats: dict[str, dict[str, Any]], title: str, results: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(stats)
    if not names:
        return False
    width = 0.8 / len(HEADLINE)
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(names) + 3), 4.5))
    x = np.arange(len(names))
    for offset, metric in enumerate(HEADLINE):
        values = [stats[n][metric] for n in names]
        means = np.array([v["mean"] for v in values])
        errors = np.array([[v["mean"] - v["lo"] for v in values], [v["hi"] - v["mean"] for v in values]])
        ax.bar(x + (offset - (len(HEADLINE) - 1) / 2) * width, means, width, yerr=errors, capsize=2,
               label=_short(metric))
    labels = [f"{n} (LLM)" if results["systems"][n]["llm"] else n for n in names]
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("mean over cases (95% bootstrap CI)")
    ax.set_title(f"{results['benchmark']['name']}: {title}")
    ax.legend(ncols=len(HEADLINE), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _plot_cost_quality(results: dict[str, Any], path: Path, metric: str = "ndcg@10") -> bool:
    """Quality against memory tokens and latency, on the largest same-case group (or all cases)."""
    import matplotlib.pyplot as plt

    groups = results.get("groups") or []
    if groups:
        entries = {n: (e["metrics"], e["cost"]) for n, e in groups[0]["systems"].items()}
        scope = f"the same {groups[0]['n']} cases"
    else:
        entries = {n: (s["slices"]["all"], s["cost"]) for n, s in results["systems"].items() if "all" in s["slices"]}
        scope = f"all {results['benchmark']['cases_evaluated']} cases"
    points = [(n, cost["memory_tokens_mean"] or 0.0, max(cost["seconds_median"], 1e-4), stats[metric],
               results["systems"][n]["llm"]) for n, (stats, cost) in entries.items() if cost]
    if not points:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, index, label in ((axes[0], 1, "mean memory tokens per request"),
                             (axes[1], 2, "median seconds per request (log)")):
        for point in points:
            name, x, stats, llm = point[0], point[index], point[3], point[4]
            ax.errorbar(x, stats["mean"], yerr=[[stats["mean"] - stats["lo"]], [stats["hi"] - stats["mean"]]],
                        fmt="s" if llm else "o", color="tab:red" if llm else "tab:blue", capsize=2)
            ax.annotate(name, (x, stats["mean"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_xscale("log")
    axes[0].set_ylabel(f"{_short(metric)} (95% CI)")
    fig.suptitle(f"Cost vs quality on {scope} (red squares: LLM systems)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
