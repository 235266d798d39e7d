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
from typing import Any, Callable

from mrrec_chat.agent import events as ev
from mrrec_lab.bench.common import peak_rss_mb, summary
from mrrec_lab.bench.turn_records import RecordingLLM, TurnRecord
from mrrec_lab.bench.turn_report import _ratio, aggregate

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


def mrrec_turn(assistant, recorder: RecordingLLM, user: str, request: str, earlier: list[str],
               new_user: bool) -> TurnRecord:

    record = TurnRecord("mrrec", user, new_user, request)
    recorder.kind = "step"
    recorder.take()
    started = time.perf_counter()
    turn = ev.collect(assistant.chat(user, request, earlier), clock=time.perf_counter)
    for now, event in turn.timeline:
        if isinstance(event, ev.GlobalMemoryUsed):
            record.global_s = event.seconds
            record.setup_s = now - event.seconds
        elif isinstance(event, ev.ItemsRecommended):
            record.answer_s = now
    record.memory_s = sum(r.seconds for r in turn.retrievals)
    record.memory_calls = len(turn.retrievals)
    record.model_searched = turn.model_searched
    if turn.answer is not None:
        record.fallback, record.profile = turn.answer.fallback, turn.answer.ideal_item_profile
    record.grounding_s = turn.grounding_seconds
    record.items = [r.item.display_title for r in turn.items]
    if turn.written is not None:
        record.writeback_s = turn.written.seconds
    record.memory_tokens = turn.stats.memory_tokens
    record.total_s = time.perf_counter() - started
    record.calls = recorder.take()
    record.llm_s = sum(c.seconds for c in record.calls)
    record.other_s = record.answer_s - (record.setup_s + record.global_s + record.llm_s + record.memory_s
                                        + record.grounding_s)
    return record


def single_shot_turn(assistant, recorder: RecordingLLM, user: str, request: str, earlier: list[str],
                     new_user: bool) -> TurnRecord:
    """One retrieval with the request, one generation of the answer, the same grounding."""
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
        kv = compare_kv(assistant, recorder, plan[:kv_compare], progress=progress) \
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

def compare_kv(assistant, recorder: RecordingLLM, plan, progress) -> dict[str, Any]:
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
                done = ev.collect(assistant.agent.run(turn, assistant.options()))
                seconds = time.perf_counter() - started
                calls = recorder.take()
                result[reuse] = {"seconds": seconds, "llm_s": sum(c.seconds for c in calls),
                                 "prefill_tokens": sum(c.prefill_tokens for c in calls),
                                 "prefill_s": sum(c.prefill_s for c in calls),
                                 "prompt_tokens": sum(c.prompt_tokens for c in calls),
                                 "profile": done.answer.ideal_item_profile,
                                 "items": [r.item.item_id for r in done.items]}
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
