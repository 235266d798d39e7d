"""Chat-turn latency of the default configuration, and a single-shot RAG baseline in the same run.

The Assistant is built exactly as the app builds it (default settings, dataset ml-100k) except
that the memory store lives in a temporary directory. Each request runs twice, on the same memory:

  single-shot RAG  one retrieval of the user's memory with the request (and the same global
                   memory), one generation asked for the final answer directly, with the whole
                   MR.Rec token budget (max_rounds x max_new_tokens + answer_max_new_tokens),
                   the same parser, fallback and grounding; no write-back.
  MR.Rec           `Assistant.chat`: the reasoning-retrieval loop, grounding, then write-back.

The baseline runs first so both see the same memory (the MR.Rec turn then writes back). A dataset
user's memory is built on first use (`ensure_user`) before both, timed separately.

With `kv_compare` > 0, that many requests are re-run afterwards through the agent alone (no
write-back), once with KV-cache reuse off and once on, to measure it and to check that the
answers are identical.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from mrrec_chat.bench.common import markdown_table, peak_rss_mb, summary
from mrrec_chat.llm.base import Completion, LLMBackend

log = logging.getLogger(__name__)

# Varied requests: genres, moods, eras, named titles, dislikes, constraints, odd phrasing.
REQUESTS = [
    "Something like Star Wars but a bit darker.",
    "A funny movie for a rainy evening.",
    "I want a romantic comedy from the 90s, nothing too cheesy.",
    "Recommend a gripping crime thriller, I loved Pulp Fiction.",
    "Any good westerns? Not too long please.",
    "I can't stand horror. What should I watch tonight?",
    "A classic film noir with a great detective.",
    "Something my kids (8 and 10) and I can watch together.",
    "A war movie that is more about people than battles.",
    "Give me a mind-bending sci-fi film.",
    "I'm in the mood for a musical.",
    "A documentary, please.",
    "What's a good date-night movie?",
    "Recommend an animated film that adults will enjoy too.",
    "A slow, beautiful drama about family.",
    "Something with great action scenes, like Die Hard.",
    "I just watched Fargo and loved it. More like that?",
    "A scary movie, but more suspense than gore.",
    "An old Hitchcock-style mystery.",
    "Surprise me with something I probably haven't seen.",
    "A feel-good sports movie.",
    "Something short and light, under 90 minutes.",
    "I love Tom Hanks movies. What else would I like?",
    "A heist movie with a clever twist.",
    "Epic adventure with a quest, like Indiana Jones.",
    "A fantasy film with a fairy-tale feel.",
    "Recommend a thoughtful science fiction movie without much violence.",
    "I hated Titanic. Something romantic but not sappy?",
    "A movie about friendship and growing up.",
    "A dark comedy.",
    "Something French or at least very European in style.",
    "Best courtroom drama you can find.",
    "An 80s movie with a great soundtrack.",
    "I want to cry a little. A moving drama.",
    "A spy thriller, smart not silly.",
    "Something with dinosaurs or monsters, fun not scary.",
    "A crime movie, but no mafia stories please.",
    "Animated musicals, like The Lion King.",
    "Quiet character study, independent film.",
    "What should I watch with my grandparents?",
]


@dataclass
class LLMCall:
    kind: str  # "step" (a reasoning round), "answer" (the loop's forced answer), "single-shot"
    prompt_tokens: int
    cached_tokens: int
    prefill_s: float
    completion_tokens: int
    seconds: float
    stop_reason: str = ""
    text: str = ""  # the first 400 characters, to see what the tokens were spent on

    @property
    def prefill_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens

    @property
    def decode_tokens(self) -> int:
        return max(0, self.completion_tokens - 1)  # the first new token comes with the prefill

    @property
    def decode_s(self) -> float:
        return max(0.0, self.seconds - self.prefill_s)


class RecordingLLM(LLMBackend):
    """Passes calls to the real backend and keeps each Completion's token counts and timings."""

    def __init__(self, inner: LLMBackend):
        self.inner = inner
        self.name = getattr(inner, "name", "llm")
        self.calls: list[LLMCall] = []
        self.kind = "step"

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None,
                      temperature=0.0) -> Completion:
        completion = self.inner.continue_chat(messages, assistant_prefix, max_new_tokens=max_new_tokens,
                                              stop=stop, temperature=temperature)
        kind = self.kind
        if kind == "step" and assistant_prefix.endswith("<answer>"):
            kind = "answer"
        self.calls.append(LLMCall(kind, completion.prompt_tokens, completion.cached_tokens,
                                  completion.prefill_seconds, completion.completion_tokens, completion.seconds,
                                  completion.stop_reason, completion.text[:400]))
        return completion

    def take(self) -> list[LLMCall]:
        calls, self.calls = self.calls, []
        return calls


@dataclass
class TurnRecord:
    system: str  # "mrrec" or "single-shot"
    user: str
    new_user: bool
    request: str
    answer_s: float = 0.0  # request in -> items out (what the user waits for)
    total_s: float = 0.0  # including write-back
    setup_s: float = 0.0  # context, preference extraction, request embedding
    global_s: float = 0.0
    llm_s: float = 0.0
    memory_s: float = 0.0
    memory_calls: int = 0
    grounding_s: float = 0.0
    writeback_s: float = 0.0
    other_s: float = 0.0
    memory_tokens: int = 0  # memory text put into the prompt (global + observations)
    fallback: bool = False
    model_searched: bool = False
    calls: list[LLMCall] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    profile: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "calls"}
        data["llm_calls"] = [dict(c.__dict__, prefill_tokens=c.prefill_tokens, decode_tokens=c.decode_tokens,
                                  decode_s=c.decode_s) for c in self.calls]
        return data


def mrrec_turn(assistant, recorder: RecordingLLM, user: str, request: str, earlier: list[str],
               new_user: bool) -> TurnRecord:
    from mrrec_chat.agent import events as ev

    record = TurnRecord("mrrec", user, new_user, request)
    recorder.kind = "step"
    recorder.take()
    started = time.perf_counter()
    first_event_at = None
    for event in assistant.chat(user, request, earlier):
        now = time.perf_counter() - started
        if first_event_at is None and not isinstance(event, ev.Notice):
            first_event_at = now
        if isinstance(event, ev.GlobalMemoryUsed):
            record.global_s = event.seconds
            record.setup_s = now - event.seconds
        elif isinstance(event, ev.MemoriesRetrieved):
            record.memory_s += event.seconds
            record.memory_calls += 1
        elif isinstance(event, ev.ToolCall):
            record.model_searched |= not event.fallback
        elif isinstance(event, ev.FinalAnswer):
            record.fallback = event.fallback
            record.profile = event.ideal_item_profile
        elif isinstance(event, ev.ItemsRecommended):
            record.grounding_s = event.seconds
            record.answer_s = now
            record.items = [r.item.display_title for r in event.items]
        elif isinstance(event, ev.MemoryWritten):
            record.writeback_s = event.seconds
        elif isinstance(event, ev.TurnDone):
            record.memory_tokens = event.stats.memory_tokens
    record.total_s = time.perf_counter() - started
    record.calls = recorder.take()
    record.llm_s = sum(c.seconds for c in record.calls)
    record.other_s = record.answer_s - (record.setup_s + record.global_s + record.llm_s + record.memory_s
                                        + record.grounding_s)
    return record


def single_shot_turn(assistant, recorder: RecordingLLM, user: str, request: str, earlier: list[str],
                     new_user: bool) -> TurnRecord:
    """One retrieval with the request, one generation of the answer, the same grounding."""
    from mrrec_chat.agent import events as ev
    from mrrec_chat.agent.loop import fallback_profile, usable_profile
    from mrrec_chat.agent.parser import parse_step
    from mrrec_chat.agent.prompts import ANSWER_NOW, render_observation, system_prompt, user_prompt

    record = TurnRecord("single-shot", user, new_user, request)
    opts = assistant.options()
    budget = opts.max_rounds * opts.max_new_tokens + opts.answer_max_new_tokens
    recorder.kind = "single-shot"
    recorder.take()
    started = time.perf_counter()
    turn = assistant.turn_context(user, request, earlier)
    apply_message_preferences(assistant, turn, request)
    vector = assistant.store.embedder.embed_one(request)
    record.setup_s = time.perf_counter() - started
    t = time.perf_counter()
    global_memories = assistant.store.search_global(request, opts.global_top_k, query_embedding=vector)
    record.global_s = time.perf_counter() - t
    t = time.perf_counter()
    memories = assistant.store.search(user, request, opts.top_k, levels=opts.local_levels, query_embedding=vector)
    record.memory_s, record.memory_calls = time.perf_counter() - t, 1
    messages = [{"role": "system", "content": system_prompt(global_memories)},
                {"role": "user", "content": user_prompt(request, earlier)}]
    observation = render_observation(memories)
    record.memory_tokens = (sum(assistant._count_tokens(m.entry.text) for m in global_memories)
                            + assistant._count_tokens(observation))
    prefix = observation + "\n" + ANSWER_NOW + "\n<answer>"
    completion = recorder.continue_chat(messages, prefix, max_new_tokens=budget, stop=["</answer>"],
                                        temperature=opts.temperature)
    step = parse_step("<answer>" + completion.text + "</answer>")
    retrieved = {m.memory_id: m for m in memories}
    if step.answer is not None and usable_profile(step.answer.ideal_item_profile):
        answer = ev.FinalAnswer(step.answer.ideal_item_profile, step.answer.useful_memory_ids)
    else:
        answer = ev.FinalAnswer(fallback_profile(request, memories), list(retrieved), fallback=True)
    answer.useful_memory_ids = [i for i in answer.useful_memory_ids if i in retrieved] or list(retrieved)
    t = time.perf_counter()
    items = assistant.agent.ground(answer, turn, memories, global_memories, opts.n_items)
    record.grounding_s = time.perf_counter() - t
    record.answer_s = record.total_s = time.perf_counter() - started
    record.calls = recorder.take()
    record.llm_s = sum(c.seconds for c in record.calls)
    record.other_s = record.answer_s - (record.setup_s + record.global_s + record.llm_s + record.memory_s
                                        + record.grounding_s)
    record.fallback, record.profile = answer.fallback, answer.ideal_item_profile
    record.items = [r.item.display_title for r in items]
    return record


def apply_message_preferences(assistant, turn, text: str) -> None:
    """What `Assistant.chat` does with this message's own preferences before the agent runs."""
    try:
        preferences = assistant.writer.extract(text)
    except Exception:  # noqa: BLE001
        return
    for pref in preferences:
        if pref.holder != "user":
            continue
        if pref.kind == "dislike" and pref.subject_type == "category":
            turn.avoid_categories.add(pref.subject)
        elif pref.kind == "like" and pref.subject_type == "category":
            turn.avoid_categories.discard(pref.subject)
        elif pref.kind in ("dislike", "seen") and pref.item_id:
            turn.exclude_items.add(pref.item_id)


def plan_requests(dataset_users: list[str], n_requests: int) -> list[tuple[str, bool, str]]:
    """(user, is_new_user, request): two of every three turns for dataset users, one for new users;
    each user gets two turns, so second turns carry the first as chat context."""
    plan = []
    n_dataset = n_new = 0
    for i in range(n_requests):
        request = REQUESTS[i % len(REQUESTS)]
        if i % 3 == 2:
            user, new = f"new-bench-{n_new // 2:02d}", True
            n_new += 1
        else:
            user, new = dataset_users[(n_dataset // 2) % len(dataset_users)], False
            n_dataset += 1
        plan.append((user, new, request))
    return plan


def run_turn(n_requests: int = 36, kv_compare: int = 12, dataset: str | None = None,
             progress: Callable[[str], None] = print, keep_store: bool = False) -> dict[str, Any]:
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    memory_dir = tempfile.mkdtemp(prefix="mrrec-bench-turn-")
    overrides: dict[str, Any] = {"memory_dir": memory_dir}
    if dataset:
        overrides["dataset"] = dataset
    settings = Settings.from_env(**overrides)
    progress(f"starting the Assistant (default config, memory in {memory_dir}) ...")
    started = time.perf_counter()
    assistant = Assistant(settings).start()
    start_s = time.perf_counter() - started
    progress(f"  started in {start_s:.1f} s: " + ", ".join(f"{k} {v:.1f}s" for k, v in assistant.startup_seconds.items()))
    if assistant.llm is None:
        raise RuntimeError("The turn benchmark needs an LLM (llm_backend=none is memory-only).")
    recorder = RecordingLLM(assistant.llm)
    assistant.agent.llm = recorder
    users = assistant.dataset.user_ids
    step = max(1, len(users) // 16)
    plan = plan_requests(users[::step][:16], n_requests)
    earlier: dict[str, list[str]] = {}
    builds: list[float] = []
    mrrec: list[TurnRecord] = []
    single: list[TurnRecord] = []
    try:
        for n, (user, new, request) in enumerate(plan, 1):
            if user not in earlier:
                t = time.perf_counter()
                assistant.ensure_user(user)
                if not new:
                    builds.append(time.perf_counter() - t)
            context = earlier.setdefault(user, [])
            # Each turn starts without a kept KV cache, so neither system reuses the other's prompt
            # (within a turn, MR.Rec's rounds reuse their own; across turns both would reuse the
            # shared system prompt equally).
            _reset(assistant.llm)
            single.append(single_shot_turn(assistant, recorder, user, request, list(context), new))
            _reset(assistant.llm)
            mrrec.append(mrrec_turn(assistant, recorder, user, request, list(context), new))
            context.append(request)
            m, s = mrrec[-1], single[-1]
            progress(f"[{n:2d}/{len(plan)}] {'new ' if new else 'data'} user {user:>13}: MR.Rec {m.answer_s:5.2f}s "
                     f"({len(m.calls)} LLM calls, {sum(c.completion_tokens for c in m.calls)} tok) | single-shot "
                     f"{s.answer_s:5.2f}s ({sum(c.completion_tokens for c in s.calls)} tok) | {request[:40]}")
        kv = compare_kv(assistant, recorder, plan[:kv_compare], earlier_default=[], progress=progress) \
            if kv_compare else None
    finally:
        assistant.close()
        if not keep_store:
            shutil.rmtree(memory_dir, ignore_errors=True)
    return {
        "settings": {k: getattr(settings, k) for k in ("llm_model", "llm_quantization", "llm_adapter", "dataset",
                                                       "memory_top_k", "global_top_k", "max_rounds",
                                                       "max_new_tokens", "answer_max_new_tokens")},
        "llm": {"name": assistant.llm.name, "quantization": getattr(assistant.llm, "quantization", "?"),
                "adapter": getattr(assistant.llm, "adapter", None),
                "kv_reuse": getattr(assistant.llm, "kv_reuse", None)},
        "start_in_process_s": start_s, "startup_seconds": dict(assistant.startup_seconds),
        "n_requests": len(plan), "user_memory_build_s": summary(builds),
        "mrrec": aggregate(mrrec), "single_shot": aggregate(single),
        "ratio_median_answer": _ratio(mrrec, single, "answer_s", 50),
        "ratio_p90_answer": _ratio(mrrec, single, "answer_s", 90),
        "kv_compare": kv,
        "peak_rss_mb": peak_rss_mb(),
        "turns": [r.as_dict() for r in mrrec], "single_shot_turns": [r.as_dict() for r in single],
    }


def _reset(llm) -> None:
    if hasattr(llm, "reset_cache"):
        llm.reset_cache()


def _ratio(a: list[TurnRecord], b: list[TurnRecord], key: str, q: float) -> float:
    from mrrec_chat.bench.common import percentile

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


def compare_kv(assistant, recorder: RecordingLLM, plan, earlier_default, progress) -> dict[str, Any]:
    """Agent-only turns (no write-back) with KV reuse off then on, on the same memory."""
    llm = recorder.inner
    if not hasattr(llm, "kv_reuse"):
        return {"skipped": "backend has no KV reuse switch"}
    rows = []
    original = llm.kv_reuse
    try:
        for user, _new, request in plan:
            result = {}
            for reuse in (False, True):
                llm.kv_reuse = reuse
                llm.reset_cache()
                turn = assistant.turn_context(user, request, [])
                apply_message_preferences(assistant, turn, request)
                recorder.kind = "step"
                recorder.take()
                started = time.perf_counter()
                events = list(assistant.agent.run(turn, assistant.options()))
                seconds = time.perf_counter() - started
                calls = recorder.take()
                from mrrec_chat.agent import events as ev

                answer = next(e for e in events if isinstance(e, ev.FinalAnswer))
                items = next(e for e in events if isinstance(e, ev.ItemsRecommended))
                result[reuse] = {"seconds": seconds, "llm_s": sum(c.seconds for c in calls),
                                 "prefill_tokens": sum(c.prefill_tokens for c in calls),
                                 "prefill_s": sum(c.prefill_s for c in calls),
                                 "prompt_tokens": sum(c.prompt_tokens for c in calls),
                                 "profile": answer.ideal_item_profile,
                                 "items": [r.item.item_id for r in items.items]}
            same = (result[False]["profile"] == result[True]["profile"]
                    and result[False]["items"] == result[True]["items"])
            rows.append({"user": user, "request": request, "off": result[False], "on": result[True], "same_answer": same})
            progress(f"  KV reuse off {result[False]['seconds']:.2f}s / on {result[True]['seconds']:.2f}s; "
                     f"prefilled {result[False]['prefill_tokens']} -> {result[True]['prefill_tokens']} tokens; "
                     f"same answer: {same}")
    finally:
        llm.kv_reuse = original
    off = [r["off"] for r in rows]
    on = [r["on"] for r in rows]
    return {
        "n": len(rows),
        "same_answers": sum(r["same_answer"] for r in rows),
        "turn_s_off": summary([r["seconds"] for r in off]), "turn_s_on": summary([r["seconds"] for r in on]),
        "prefill_s_off": summary([r["prefill_s"] for r in off]), "prefill_s_on": summary([r["prefill_s"] for r in on]),
        "prefill_tokens_off": summary([r["prefill_tokens"] for r in off]),
        "prefill_tokens_on": summary([r["prefill_tokens"] for r in on]),
        "rows": rows,
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
