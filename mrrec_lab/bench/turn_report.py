"""Aggregates and the Markdown report of the turn benchmark (bench/turn.py's `run_turn` results).

`aggregate` summarises one system's turns: each part of the latency (median, p90, ...), the LLM
calls by position in the turn (step 1, step 2, the forced answer, the single-shot call) with
prompt, cached, prefilled and decoded tokens and the decode and prefill speeds, fallback and
model-search rates, and dataset users apart from new users; `turn_markdown` writes the results
file's text: MR.Rec against the single-shot RAG baseline, the parts and steps tables, and the
KV-cache reuse comparison when it ran.
"""

from __future__ import annotations

from typing import Any

from mrrec_lab.bench.common import markdown_table, summary
from mrrec_lab.bench.turn_records import LLMCall, TurnRecord


def _ratio(a: list[TurnRecord], b: list[TurnRecord], key: str, q: float) -> float:
    from mrrec_lab.bench.common import percentile

    num = percentile([getattr(r, key) for r in a], q)
    den = percentile([getattr(r, key) for r in b], q)
    return num / den if den else float("nan")


PARTS = ("answer_s", "total_s", "setup_s", "global_s", "llm_s", "memory_s", "grounding_s", "writeback_s", "other_s")


def aggregate(records: list[TurnRecord]) -> dict[str, Any]:
    """Per-part summaries, LLM steps by position, token totals and decode speed."""
    out: dict[str, Any] = {part: summary([getattr(r, part) for r in records]) for part in PARTS}
    out["memory_calls"] = summary([r.memory_calls for r in records])
    out["memory_tokens"] = summary([r.memory_tokens for r in records])
    out["llm_calls_per_turn"] = summary([len(r.calls) for r in records])
    out["fallback_rate"] = sum(r.fallback for r in records) / max(1, len(records))
    out["model_search_rate"] = sum(r.model_searched for r in records) / max(1, len(records))
    steps: dict[str, list[LLMCall]] = {}
    for r in records:
        n = 0
        for call in r.calls:
            if call.kind == "step":
                n += 1
                steps.setdefault(f"step {n}", []).append(call)
            else:
                steps.setdefault(call.kind, []).append(call)
    out["llm_steps"] = {name: _calls_summary(calls) for name, calls in steps.items()}
    calls = [c for r in records for c in r.calls]
    out["llm_all"] = _calls_summary(calls)
    for group, subset in (("dataset_users", [r for r in records if not r.new_user]),
                          ("new_users", [r for r in records if r.new_user])):
        out[group] = {"answer_s": summary([r.answer_s for r in subset])}
    return out


def _calls_summary(calls: list[LLMCall]) -> dict[str, Any]:
    decode_tokens = sum(c.decode_tokens for c in calls)
    decode_s = sum(c.decode_s for c in calls)
    prefill_tokens = sum(c.prefill_tokens for c in calls)
    prefill_s = sum(c.prefill_s for c in calls)
    return {
        "n": len(calls),
        "prompt_tokens": summary([c.prompt_tokens for c in calls]),
        "cached_tokens": summary([c.cached_tokens for c in calls]),
        "prefill_tokens": summary([c.prefill_tokens for c in calls]),
        "prefill_s": summary([c.prefill_s for c in calls]),
        "decode_tokens": summary([c.decode_tokens for c in calls]),
        "decode_s": summary([c.decode_s for c in calls]),
        "seconds": summary([c.seconds for c in calls]),
        "decode_tok_s": decode_tokens / decode_s if decode_s else float("nan"),
        "prefill_tok_s": prefill_tokens / prefill_s if prefill_s else float("nan"),
    }


def turn_markdown(data: dict[str, Any]) -> str:
    m, s = data["mrrec"], data["single_shot"]
    labels = {"answer_s": "**answer (request → items)**", "total_s": "total incl. write-back",
              "setup_s": "setup (context, extraction, request embedding)", "global_s": "global-memory retrieval",
              "llm_s": "LLM (all steps)", "memory_s": "memory tool calls", "grounding_s": "grounding",
              "writeback_s": "write-back (after the answer)", "other_s": "other (parsing, events)"}
    rows = [[label, m[p]["median"], m[p]["p90"], s[p]["median"], s[p]["p90"]] for p, label in labels.items()]
    parts = markdown_table(["part (seconds)", "MR.Rec median", "MR.Rec p90", "single-shot median",
                            "single-shot p90"], rows)
    step_rows = []
    for system, agg in (("MR.Rec", m), ("single-shot", s)):
        for name, st in agg["llm_steps"].items():
            step_rows.append([system, name, st["n"], st["prompt_tokens"]["median"], st["cached_tokens"]["median"],
                              st["prefill_tokens"]["median"], st["prefill_s"]["median"], st["decode_tokens"]["median"],
                              st["decode_s"]["median"], st["decode_tok_s"]])
    steps = markdown_table(["system", "LLM step", "calls", "prompt tok", "cached tok", "prefilled tok", "prefill s",
                            "decoded tok", "decode s", "decode tok/s"], step_rows)
    lines = [
        f"Default config ({data['llm']['name']}, {data['llm']['quantization']}, KV reuse "
        f"{'on' if data['llm']['kv_reuse'] else 'off'}, dataset {data['settings']['dataset']}), "
        f"{data['n_requests']} requests (dataset users and new users, two turns each).",
        "",
        f"- **MR.Rec answer latency: median {m['answer_s']['median']:.2f} s, p90 {m['answer_s']['p90']:.2f} s**; "
        f"single-shot RAG: median {s['answer_s']['median']:.2f} s, p90 {s['answer_s']['p90']:.2f} s; "
        f"**ratio of medians {data['ratio_median_answer']:.2f}×** (p90 {data['ratio_p90_answer']:.2f}×).",
        f"- Dataset users: median {m['dataset_users']['answer_s']['median']:.2f} s; new users: "
        f"median {m['new_users']['answer_s']['median']:.2f} s. First turn of a dataset user also builds "
        f"its memory: median {data['user_memory_build_s'].get('median', float('nan')):.2f} s (not in the turn times).",
        f"- LLM calls per MR.Rec turn: median {m['llm_calls_per_turn']['median']:.0f}; the model called the "
        f"memory tool itself in {100 * m['model_search_rate']:.0f}% of turns; deterministic fallback profile in "
        f"{100 * m['fallback_rate']:.0f}% (single-shot {100 * s['fallback_rate']:.0f}%).",
        f"- Memory text in the prompt per MR.Rec turn (global + observations): median "
        f"{m['memory_tokens']['median']:.0f} tokens (the paper: ~95 per request).",
        f"- Decode speed inside turns: {m['llm_all']['decode_tok_s']:.1f} tok/s; prefill "
        f"{m['llm_all']['prefill_tok_s']:.0f} tok/s. Peak RSS {data['peak_rss_mb']:.0f} MiB. In-process start "
        f"{data['start_in_process_s']:.1f} s.",
        "", parts, "", steps,
    ]
    kv = data.get("kv_compare")
    if kv and "n" in kv:
        lines += ["", f"KV-cache reuse across reasoning rounds ({kv['n']} requests, agent only, same memory): "
                      f"turn median {kv['turn_s_off']['median']:.2f} s off → {kv['turn_s_on']['median']:.2f} s on; "
                      f"prefill per turn {kv['prefill_s_off']['median']:.2f} s → {kv['prefill_s_on']['median']:.2f} s "
                      f"({kv['prefill_tokens_off']['median']:.0f} → {kv['prefill_tokens_on']['median']:.0f} tokens "
                      f"prefilled); identical answers and items in {kv['same_answers']}/{kv['n']}."]
    return "\n".join(lines) + "\n"
