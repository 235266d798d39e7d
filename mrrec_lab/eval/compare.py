"""Paired comparison of two evaluator runs of one system: two quantizations, runtimes or models.

    python -m mrrec_lab.eval.compare --redial ../shared/data/redial/dialogues_dev.jsonl \\
        --movielens ../shared/data/ml-latest-small --seekers mrrec_lab/train/split_redial_dev.json \\
        --a 'runs/ev-int4wo/runs.jsonl:mrrec' --b 'runs/ev189/runs.jsonl:mrrec@[bf16]'

Each side is RUNS.jsonl:SYSTEM[@TEXT]: that system's rows in an evaluator's runs.jsonl, only those
whose signature contains TEXT (a runs.jsonl resumed under other settings holds several). The
cases both sides ran are compared: each side's mean, the paired bootstrap of a - b (an interval
that excludes 0 is a measured effect), and how often both ranked the same top 10. The evaluator
itself reports one signature per system; this is for two runs of the same system name.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from mrrec_lab.eval.metrics import bootstrap_ci, ndcg_at_k, paired_bootstrap_diff, recall_at_k

METRICS = (("N@10", ndcg_at_k, 10), ("R@10", recall_at_k, 10), ("R@50", recall_at_k, 50),
           ("N@100", ndcg_at_k, 100), ("R@100", recall_at_k, 100))


def read_rows(spec: str) -> dict[str, dict[str, Any]]:
    """The rows RUNS.jsonl:SYSTEM[@TEXT] names, by case id (a later row of a case replaces an earlier one)."""
    path, _, selector = spec.rpartition(":")
    system, _, contains = selector.partition("@")
    if not path or not system:
        raise ValueError(f"{spec!r}: expected RUNS.jsonl:SYSTEM[@TEXT]")
    rows: dict[str, dict[str, Any]] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interrupted run
            if row.get("system") == system and contains in row.get("signature", ""):
                rows[row["case_id"]] = row
    if not rows:
        raise ValueError(f"no row of system {system!r}{f' with {contains!r} in its signature' if contains else ''} "
                         f"in {path}")
    return rows


def compare(ground_truth: dict[str, set[str]], a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]],
            n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Metrics of a and b on the cases both ran (and that have a ground truth), with paired differences."""
    cases = sorted(set(a) & set(b) & set(ground_truth))
    if not cases:
        raise ValueError("the two runs share no case")
    out: dict[str, Any] = {"cases": len(cases), "metrics": {}}
    for name, metric, k in METRICS:
        values_a = [metric(a[c]["ranked"], ground_truth[c], k) for c in cases]
        values_b = [metric(b[c]["ranked"], ground_truth[c], k) for c in cases]
        out["metrics"][name] = {"a": bootstrap_ci(values_a, n_boot, seed), "b": bootstrap_ci(values_b, n_boot, seed),
                                "a_minus_b": paired_bootstrap_diff(values_a, values_b, n_boot, seed)}
    out["same_top10"] = sum(a[c]["ranked"][:10] == b[c]["ranked"][:10] for c in cases)
    out["same_profile"] = sum(a[c].get("details", {}).get("profile") == b[c].get("details", {}).get("profile")
                              for c in cases)
    for side, rows in (("a", a), ("b", b)):
        out[side] = {"signature": rows[cases[0]].get("signature", ""),
                     "fallback": sum(bool(rows[c].get("details", {}).get("fallback")) for c in cases),
                     "median_s": statistics.median(rows[c].get("seconds", 0.0) for c in cases),
                     "llm_calls": sum(rows[c].get("llm_calls", 0) for c in cases) / len(cases)}
    return out


def to_markdown(result: dict[str, Any], label_a: str, label_b: str) -> str:
    n = result["cases"]
    a, b = result["a"], result["b"]
    lines = [(f"Paired comparison on the {n} cases both runs ran (bootstrap 95% CI; an interval of a - b that "
              f"excludes 0 is a measured effect)."), "",
             f"- a = `{label_a}` ({a['signature']})", f"- b = `{label_b}` ({b['signature']})",
             (f"- same top 10 in {result['same_top10']}/{n} cases, same profile in {result['same_profile']}/{n}; "
              f"fallback profile a {a['fallback']}/{n}, b {b['fallback']}/{n}; "
              f"median s/case a {a['median_s']:.1f}, b {b['median_s']:.1f}; "
              f"LLM calls a {a['llm_calls']:.2f}, b {b['llm_calls']:.2f}"), "",
             "| metric | a | b | a - b [95% CI] |", "|---|---|---|---|"]
    for name, m in result["metrics"].items():
        diff = m["a_minus_b"]
        lines.append(f"| {name} | {m['a'][0]:.3f} | {m['b'][0]:.3f} | {diff[0]:+.3f} [{diff[1]:+.3f}, {diff[2]:+.3f}] |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from mrrec_lab.eval.runner import load_benchmark, restrict_to_seekers

    parser = argparse.ArgumentParser(prog="python -m mrrec_lab.eval.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--redial", help="ReDial dialogues JSONL the runs were made on")
    parser.add_argument("--movielens", help="MovieLens directory the runs were made on")
    parser.add_argument("--cases-jsonl", help="or a generic JSONL cases directory")
    parser.add_argument("--seekers", metavar="SPLIT.json[:KEY]", help="as for the evaluator")
    parser.add_argument("--a", required=True, metavar="RUNS.jsonl:SYSTEM[@TEXT]")
    parser.add_argument("--b", required=True, metavar="RUNS.jsonl:SYSTEM[@TEXT]")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    try:
        rows_a, rows_b = read_rows(args.a), read_rows(args.b)  # before the (slow) benchmark load
        benchmark = load_benchmark(redial=args.redial, movielens=args.movielens, cases_jsonl=args.cases_jsonl)
        if args.seekers:
            benchmark = restrict_to_seekers(benchmark, args.seekers)
        truth = {c.case_id: set(c.ground_truth) for c in benchmark.cases}
        result = compare(truth, rows_a, rows_b, args.bootstrap, args.seed)
    except (ValueError, OSError, KeyError) as exc:
        print(f"Cannot compare: {exc}", file=sys.stderr)
        return 2
    text = to_markdown(result, args.a, args.b)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
