"""Turns results.json's content into results.md (Markdown tables) and PNG plots (matplotlib, Agg).

Tables: every system on all evaluated cases; warm vs cold start; every system on the LLM
subset (the only apples-to-apples view of LLM and non-LLM systems when --llm-limit is set);
costs; paired differences against the best baseline. Plots: metrics per system with 95%
bootstrap error bars, and cost (memory tokens, latency) against quality.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _metric_rows(results: dict[str, Any], slice_name: str, metrics: list[str], names: list[str],
                 ci: bool = True) -> list[str]:
    rows = ["| system | n | " + " | ".join(_short(m) for m in metrics) + " |",
            "|---|---|" + "---|" * len(metrics)]
    for name in names:
        stats = results["systems"][name]["slices"].get(slice_name)
        if not stats:
            continue
        mark = " (LLM)" if results["systems"][name]["llm"] else ""
        rows.append(f"| {name}{mark} | {stats['n']} | " + " | ".join(_cell(stats.get(m), ci) for m in metrics) + " |")
    return rows


def write_markdown(results: dict[str, Any], path: Path) -> None:
    bench, systems = results["benchmark"], results["systems"]
    metrics = results["metrics"]
    names = list(systems)
    on_all = [n for n in names if not systems[n]["subset_only"]]
    lines = [
        f"# Benchmark results: {bench['name']}",
        "",
        f"Generated {results['created']} by `python -m mrrec_chat.eval` "
        f"(numbers: mean [95% bootstrap CI over cases, {results.get('bootstrap', 1000)} resamples]).",
        "",
        f"- Cases: {bench['cases_evaluated']} evaluated of {bench['cases_total']} built "
        f"({bench['cold_start_evaluated']} cold start); LLM systems ran on the first "
        f"{bench['llm_subset_cases']} of the same seeded order (seed {bench['seed']}).",
        f"- Catalog: {bench['catalog_items']:,} items; every system ranks the top {bench['depth']}. "
        f"Memory items {'are' if bench['exclude_memory_items'] else 'are NOT'} excluded from rankings "
        "(ReDial memory is mentions and likes, not consumption; see mrrec_chat/eval/PROTOCOL.md); "
        f"titles named in the request {'are' if bench.get('exclude_request_mentions') else 'are NOT'} excluded.",
        f"- Encoder {results['settings']['embedding_model']}; LLM {results['settings']['llm_model']} "
        f"({results['settings']['llm_backend']}, temperature {results['settings']['temperature']}); "
        f"memory top-k {results['settings']['memory_top_k']}, max rounds {results['settings']['max_rounds']}.",
        "",
        f"## All evaluated cases ({bench['cases_evaluated']})",
        "",
        *_metric_rows(results, "all", metrics, on_all),
        "",
        "## Warm vs cold start (all evaluated cases)",
        "",
    ]
    for slice_name in ("warm", "cold_start"):
        lines += [f"**{slice_name.replace('_', ' ')}**", "",
                  *_metric_rows(results, slice_name, list(HEADLINE), on_all), ""]
    if bench["llm_subset_cases"] < bench["cases_evaluated"]:
        lines += [f"## Same {bench['llm_subset_cases']} cases for every system (the LLM subset)", "",
                  "The only apples-to-apples view of LLM and non-LLM systems: every row is the same cases.", "",
                  *_metric_rows(results, "llm_subset", metrics, names), ""]
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
    comparisons = results.get("comparisons", {})
    if comparisons:
        lines += ["", "## MR.Rec minus the best baseline (paired bootstrap over the same cases)", "",
                  "| slice | system | " + " | ".join(_short(m) for m in HEADLINE) + " |",
                  "|---|---|" + "---|" * len(HEADLINE)]
        for slice_name, by_system in comparisons.items():
            for name, by_metric in by_system.items():
                cells = []
                for metric in HEADLINE:
                    c = by_metric.get(metric)
                    cells.append("–" if not c else
                                 f"{c['diff']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}] vs {c['best_baseline']}")
                lines.append(f"| {slice_name} | {name} | " + " | ".join(cells) + " |")
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
    """metrics_all.png, metrics_llm_subset.png, cost_quality.png (whichever have data)."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers or in CI
    written = []
    bench = results["benchmark"]
    slices = ["all"] + (["llm_subset"] if bench["llm_subset_cases"] < bench["cases_evaluated"] else [])
    for slice_name in slices:
        path = Path(out_dir) / f"metrics_{slice_name}.png"
        if _plot_metrics(results, slice_name, path):
            written.append(path)
    path = Path(out_dir) / "cost_quality.png"
    if _plot_cost_quality(results, path):
        written.append(path)
    return written


def _plot_metrics(results: dict[str, Any], slice_name: str, path: Path) -> bool:
    import matplotlib.pyplot as plt
    import numpy as np

    names = [n for n, s in results["systems"].items() if slice_name in s["slices"]
             and (slice_name != "all" or not s["subset_only"])]
    if not names:
        return False
    width = 0.8 / len(HEADLINE)
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(names) + 3), 4.5))
    x = np.arange(len(names))
    for offset, metric in enumerate(HEADLINE):
        stats = [results["systems"][n]["slices"][slice_name][metric] for n in names]
        means = np.array([s["mean"] for s in stats])
        errors = np.array([[s["mean"] - s["lo"] for s in stats], [s["hi"] - s["mean"] for s in stats]])
        ax.bar(x + (offset - (len(HEADLINE) - 1) / 2) * width, means, width, yerr=errors, capsize=2,
               label=_short(metric))
    n = results["systems"][names[0]]["slices"][slice_name]["n"]
    ax.set_xticks(x, names, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("mean over cases (95% bootstrap CI)")
    ax.set_title(f"{results['benchmark']['name']}: {slice_name.replace('_', ' ')} ({n} cases)")
    ax.legend(ncols=len(HEADLINE), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _plot_cost_quality(results: dict[str, Any], path: Path, metric: str = "ndcg@10") -> bool:
    import matplotlib.pyplot as plt

    slice_name = "llm_subset"
    points = []
    for name, s in results["systems"].items():
        stats, cost = s["slices"].get(slice_name, {}).get(metric), s.get("cost_llm_subset") or {}
        if stats and cost:
            points.append((name, cost["memory_tokens_mean"] or 0.0, cost["seconds_median"], stats, s["llm"]))
    if not points:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, index, label in ((axes[0], 1, "mean memory tokens per request"),
                             (axes[1], 2, "median seconds per request (log)")):
        for name, *values, stats, llm in points:
            x = values[index - 1]
            ax.errorbar(x, stats["mean"], yerr=[[stats["mean"] - stats["lo"]], [stats["hi"] - stats["mean"]]],
                        fmt="s" if llm else "o", color="tab:red" if llm else "tab:blue", capsize=2)
            ax.annotate(name, (x, stats["mean"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_xscale("log")
    axes[0].set_ylabel(f"{_short(metric)} (95% CI)")
    fig.suptitle(f"Cost vs quality on the same {results['benchmark']['llm_subset_cases']} cases "
                 "(red squares: LLM systems)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
