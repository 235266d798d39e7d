"""The benchmark command: run the baselines, MR.Rec and its ablations, write results and plots.

    # every system without an LLM on all ReDial dev cases, LLM systems on the first 40
    python -m mrrec_lab.eval --redial ../shared/data/redial/dialogues_dev.jsonl \\
        --movielens ../shared/data/ml-latest-small --llm-limit 40 --out runs/redial-dev

    # add or rerun systems later without redoing finished cases; another model for the LLM ones
    python -m mrrec_lab.eval ... --systems mrrec,mrrec-no-global --resume \\
        --llm-model Qwen/Qwen2.5-1.5B-Instruct

    # re-aggregate what runs.jsonl holds (e.g. after merging runs from another machine)
    python -m mrrec_lab.eval ... --report-only

Outputs in --out: runs.jsonl (one line per system and case; what --resume reads), results.json,
results.md, metrics_all.png, metrics_same_<N>_cases.png, cost_quality.png, memory/ (the eval's
own Chroma store: the app's memory is never touched) and cache/ (memory-text vectors). Only
results.json, results.md and the PNGs are meant for the repository: runs.jsonl quotes requests.
Every Settings flag (--llm-model, --llm-backend, --llm-base-url, --memory-top-k, --max-rounds,
...) applies to the LLM systems; on a shared CPU pass --llm-threads 1. --llm-adapter DIR selects
the adapter of `mrrec-tuned`; the other MR.Rec systems run the base model.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mrrec_chat.config import Settings
from mrrec_lab.eval.systems import ALL_SYSTEMS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mrrec_lab.eval", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Systems: " + ", ".join(ALL_SYSTEMS))
    bench = parser.add_argument_group("benchmark")
    bench.add_argument("--redial", help="ReDial dialogues JSONL (e.g. ../shared/data/redial/dialogues_dev.jsonl)")
    bench.add_argument("--movielens", help="MovieLens Latest directory (movies.csv, ratings.csv, tags.csv)")
    bench.add_argument("--cases-jsonl",
                       help="instead: a directory with items.jsonl, interactions.jsonl, requests.jsonl")
    bench.add_argument("--systems", default=",".join(ALL_SYSTEMS), help="comma-separated (default: all)")
    bench.add_argument("--limit", type=int, help="evaluate only the first N cases of the seeded order")
    bench.add_argument("--llm-limit", type=int, help="LLM systems: only the first N of those cases")
    bench.add_argument("--seekers", metavar="SPLIT.json[:KEY]",
                       help="only the cases of the users listed under KEY (default validation_seekers) of a "
                            "split file, e.g. mrrec_lab/train/split_redial_dev.json: the seekers the "
                            "policy was never trained on (use it whenever mrrec-tuned is compared)")
    bench.add_argument("--ablations-on-tuned", action="store_true",
                       help="run the ablation variants with the tuned adapter (as the paper ablates its trained "
                            "policy); `mrrec` stays the untuned reference")
    bench.add_argument("--seed", type=int, default=0, help="case order and bootstrap seed (default 0)")
    bench.add_argument("--out", default="runs/redial-dev",
                       help="output directory (default runs/redial-dev, git-ignored; results/<name> to publish)")
    bench.add_argument("--resume", action="store_true", help="keep finished (system, case) runs in --out")
    bench.add_argument("--depth", type=int, default=100, help="items ranked per case (default 100)")
    bench.add_argument("--exclude-memory-items", action="store_true",
                       help="exclude the case's memory items from every ranking (consumption-style "
                            "memory; off for ReDial, whose memory is mentions and likes)")
    bench.add_argument("--exclude-request-mentions", action="store_true", default=True,
                       help="exclude catalog titles named in the request from every ranking (the default: the "
                            "seeker knows them and ReDial's ground truth never holds them)")
    bench.add_argument("--keep-request-mentions", dest="exclude_request_mentions", action="store_false",
                       help="the old setting: titles named in the request may be ranked")
    bench.add_argument("--report-only", action="store_true",
                       help="run nothing: aggregate the runs already in --out/runs.jsonl (implies --resume)")
    bench.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    Settings.add_arguments(parser.add_argument_group("settings (as for app.py)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    from mrrec_lab.eval.runner import EvalConfig, load_benchmark, restrict_to_seekers, run_evaluation

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if not args.quiet else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    settings = Settings.from_args(args)
    if args.memory_dir is None:
        # Never the app's store (nor MRREC_MEMORY_DIR): eval users and caches stay in --out.
        settings.memory_dir = str(out / "memory")
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in ALL_SYSTEMS]
    if unknown:
        print(f"Unknown system(s): {', '.join(unknown)}. Known: {', '.join(ALL_SYSTEMS)}.", file=sys.stderr)
        return 2
    try:
        benchmark = load_benchmark(redial=args.redial, movielens=args.movielens, cases_jsonl=args.cases_jsonl)
    except (ValueError, OSError) as exc:
        print(f"Cannot load the benchmark: {exc}", file=sys.stderr)
        return 2
    if args.seekers:
        try:
            benchmark = restrict_to_seekers(benchmark, args.seekers)
        except (ValueError, OSError, KeyError) as exc:
            print(f"Cannot use --seekers {args.seekers}: {exc}", file=sys.stderr)
            return 2
    config = EvalConfig(out_dir=out, systems=systems, limit=args.limit, llm_limit=args.llm_limit,
                        seed=args.seed, resume=args.resume or args.report_only, depth=args.depth,
                        run=not args.report_only,
                        exclude_memory=args.exclude_memory_items,
                        exclude_request_mentions=args.exclude_request_mentions, bootstrap=args.bootstrap,
                        ablations_on_tuned=args.ablations_on_tuned)
    results = run_evaluation(benchmark, config, settings, progress=not args.quiet)
    print((out / "results.md").read_text(encoding="utf-8"))
    for name, why in results["skipped"].items():
        print(f"note: {name} skipped: {why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
