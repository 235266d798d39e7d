"""The reasoning-retrieval loop of MR.Rec (paper §3.2) as a generator of typed events.

1. Global memory for the request goes into the system prompt.
2. The policy reasons and calls the memory tool (`<search>`); each query returns the user's
   top-k local memories, appended as a `<memory>` observation; up to `max_rounds` rounds.
3. The final answer is an ideal item profile plus the memory ids it used. Broken output is
   parsed tolerantly, retried once with an explicit instruction, and finally replaced by a
   deterministic profile built from the request and the retrieved memories.
4. The profile is grounded to catalog items (retrieval.CatalogIndex) with reasons citing memory.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from mrrec_chat.agent import events as ev
from mrrec_chat.agent.answer_json import TRUNCATED_JSON
from mrrec_chat.agent.parser import parse_step
from mrrec_chat.agent.prompts import (ANSWER_NOW, STOP_AFTER_SEARCH, render_observation, system_prompt,
                                      user_prompt)
from mrrec_chat.agent.safety import filter_model_text
from mrrec_chat.llm.base import Completion, LLMBackend
from mrrec_chat.memory.schema import LOCAL_LEVELS, RetrievedMemory
from mrrec_chat.retrieval import CatalogIndex

if TYPE_CHECKING:
    from mrrec_chat.recommend import Recommender, TurnPolicy


@dataclass
class AgentOptions:
    """Knobs of one run; the evaluator's ablations are settings of these."""

    top_k: int = 3
    global_top_k: int = 3
    max_rounds: int = 3
    n_items: int = 5
    use_global: bool = True
    local_levels: tuple[str, ...] = LOCAL_LEVELS
    max_new_tokens: int = 96
    answer_max_new_tokens: int = 160
    temperature: float = 0.0
    forced_first_search: bool = True  # search with the request when the model never calls the tool


@dataclass
class TurnContext:
    """What the caller knows about the user for this turn."""

    user_id: str
    request: str
    earlier_requests: list[str] = field(default_factory=list)
    exclude_items: set[str] = field(default_factory=set)  # consumed or rejected
    avoid_categories: set[str] = field(default_factory=set)  # current explicit dislikes
    # The turn's constraints and memory signals (recommend/policy.py). With it and a recommender,
    # grounding is the hybrid ranker; without (older callers), plain dense grounding.
    policy: "TurnPolicy | None" = None


def rough_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class MRRecAgent:
    def __init__(self, llm: LLMBackend | None, store, catalog: CatalogIndex, *,
                 count_tokens: Callable[[str], int] = rough_tokens, recommender: "Recommender | None" = None):
        self.llm = llm
        self.store = store
        self.catalog = catalog
        self.count_tokens = count_tokens
        self.recommender = recommender

    def run(self, turn: TurnContext, options: AgentOptions | None = None) -> Iterator[ev.Event]:
        opts = options or AgentOptions()
        stats = ev.TurnStats()
        started = time.perf_counter()
        request_vector = self.store.embedder.embed_one(turn.request)

        global_memories: list[RetrievedMemory] = []
        if opts.use_global and opts.global_top_k > 0:
            t0 = time.perf_counter()
            global_memories = self.store.search_global(turn.request, opts.global_top_k, query_embedding=request_vector)
            stats.seconds_global = time.perf_counter() - t0
            stats.memory_tokens += sum(self.count_tokens(m.entry.text) for m in global_memories)
            yield ev.GlobalMemoryUsed(global_memories, stats.seconds_global)

        messages = [{"role": "system", "content": system_prompt(global_memories)},
                    {"role": "user", "content": user_prompt(turn.request, turn.earlier_requests,
                                                            turn.policy.request.describe() if turn.policy else "")}]
        trajectory = ""
        retrieved: dict[str, RetrievedMemory] = {}
        answer: ev.FinalAnswer | None = None
        problems: list[str] = []
        asked: set[str] = set()

        for round_no in range(1, opts.max_rounds + 1):
            thought, proposed = "", []
            if self.llm is not None:
                completion = self.llm.continue_chat(messages, trajectory, max_new_tokens=opts.max_new_tokens,
                                                    stop=STOP_AFTER_SEARCH, temperature=opts.temperature)
                self._count(stats, completion)
                completion = self._finish_own_answer(messages, trajectory, completion, opts, stats)
                step = parse_step(completion.text)
                thought = step.thought
                shown, withheld = filter_model_text(step.thought)
                yield ev.ReasoningStep(round_no, shown, completion.seconds, completion.prompt_tokens,
                                       completion.completion_tokens, withheld, step.problems)
                if step.action == "answer" and step.answer is not None:
                    answer = ev.FinalAnswer(step.answer.ideal_item_profile, step.answer.useful_memory_ids,
                                            problems=step.problems)
                    break
                proposed = step.queries if step.action == "search" else []
            queries = [q for q in proposed if q.lower() not in asked]
            fallback = False
            if not queries:
                if asked or not opts.forced_first_search:
                    break  # no new query: go to the answer step
                queries, fallback = [turn.request[:200]], True
            asked.update(q.lower() for q in queries)
            yield ev.ToolCall(round_no, queries, fallback)
            stats.tool_calls += 1
            observation: list[RetrievedMemory] = []
            for query in queries:
                t0 = time.perf_counter()
                found = self.store.search(turn.user_id, query, opts.top_k, levels=opts.local_levels) if opts.local_levels else []
                seconds = time.perf_counter() - t0
                stats.seconds_memory += seconds
                yield ev.MemoriesRetrieved(round_no, query, found, seconds)
                observation += [m for m in found if m.memory_id not in {o.memory_id for o in observation}]
            for memory in observation:
                retrieved.setdefault(memory.memory_id, memory)
            rendered = render_observation(observation)
            stats.memory_tokens += self.count_tokens(rendered)
            think = f"<think>{thought.strip()[:400]}</think>\n" if thought.strip() else ""
            trajectory += f"{think}<search>{'; '.join(queries)}</search>\n{rendered}"

        if answer is None and self.llm is not None:
            completion = self.llm.continue_chat(
                messages + [], trajectory + "\n" + ANSWER_NOW + "\n<answer>",
                max_new_tokens=opts.answer_max_new_tokens, stop=["</answer>"], temperature=opts.temperature)
            self._count(stats, completion)
            step = parse_step("<answer>" + completion.text + "</answer>")
            if step.answer is not None:
                answer = ev.FinalAnswer(step.answer.ideal_item_profile, step.answer.useful_memory_ids,
                                        problems=step.problems + ["answer after explicit instruction"])
            else:
                problems += step.problems
        if answer is not None and not usable_profile(answer.ideal_item_profile):
            problems += answer.problems + ["model profile rejected (refusal, junk or too short)"]
            answer = None
        use_ranker = self.recommender is not None and turn.policy is not None
        reading = None
        if answer is not None and use_ranker:
            reading = self.recommender.read_profile(answer.ideal_item_profile, turn.policy.request)
            if reading is not None and not reading.usable:
                problems += answer.problems + [f"model profile rejected ({p})" for p in reading.problems]
                answer, reading = None, None
        if answer is None:
            answer = ev.FinalAnswer(fallback_profile(turn.request, list(retrieved.values())),
                                    list(retrieved), fallback=True,
                                    problems=problems + ["deterministic profile (model output unusable)"])
            # No chat notice: with the ranker the profile is one soft signal, and a warning on most
            # turns of the small default model was noise. The trace's profile step says it; the
            # /recommend API's `fallback` flag too.
        # Cite only memories this turn actually retrieved (never invented or foreign ids).
        answer.useful_memory_ids = [i for i in dict.fromkeys(answer.useful_memory_ids) if i in retrieved] \
            or list(retrieved)
        yield answer

        t0 = time.perf_counter()
        if use_ranker:
            profile = None if answer.fallback else answer.ideal_item_profile
            ranked = self.recommender.rank(turn.policy, request_vector, opts.n_items, profile, reading)
            items = self.recommender.explain(ranked, turn.policy)
            # any card that meets only part of the request, not just the first, gets the list its notice
            relaxed = tuple(dict.fromkeys(step for r in ranked for step in r.relaxed))
            for notice in self.recommender.notices(turn.policy, relaxed):
                yield ev.Notice(notice, "info")
        else:
            items = self.ground(answer, turn, list(retrieved.values()), global_memories, opts.n_items)
        stats.seconds_grounding = time.perf_counter() - t0
        yield ev.ItemsRecommended(items, stats.seconds_grounding)
        stats.seconds_total = time.perf_counter() - started
        yield ev.TurnDone(stats)

    def ground(self, answer: ev.FinalAnswer, turn: TurnContext, retrieved: list[RetrievedMemory],
               global_memories: list[RetrievedMemory], n_items: int) -> list[ev.Recommendation]:
        vector = self.store.embedder.embed_one(answer.ideal_item_profile)
        ranked = self.catalog.rank(vector, n_items, exclude=turn.exclude_items,
                                   avoid_categories=turn.avoid_categories)
        cited = [m for m in retrieved if m.memory_id in answer.useful_memory_ids] or retrieved
        # A reason must rest on something the user likes; dislikes act through exclusion instead.
        cited = [m for m in cited if not is_negative(m)]
        memory_vectors = self.store.embedder.embed([m.entry.text for m in cited]) if cited else None
        recommendations = []
        for scored in ranked:
            item = scored.item
            basis = " · ".join(filter(None, [", ".join(item.categories[:3]), str(item.year or "")]))
            if memory_vectors is not None:
                sims = memory_vectors @ self.catalog.vector(item.item_id)
                best = cited[int(np.argmax(sims))]
                reason = f"{basis} — because: “{_gist(best.entry.text)}” [{best.memory_id}]"
                ids = [best.memory_id]
            elif global_memories:
                best = global_memories[0]
                reason = f"{basis} — matches your request; {_gist(best.entry.text)} [{best.memory_id}]"
                ids = [best.memory_id]
            else:
                reason, ids = f"{basis} — matches your request.", []
            recommendations.append(ev.Recommendation(item, scored.score, reason, ids))
        return recommendations

    def _finish_own_answer(self, messages: list[dict[str, str]], trajectory: str, completion: Completion,
                           opts: AgentOptions, stats: ev.TurnStats) -> Completion:
        """Give an answer the model began on its own the answer step's token budget.

        A reasoning step stops at `max_new_tokens`; an answer written after the explicit
        instruction gets `answer_max_new_tokens`. Without this, an answer the model starts by
        itself late in a reasoning step is cut mid-JSON and only survives by repair. The
        continuation reuses the KV cache, so it costs only the extra tokens.
        """
        text = completion.text
        budget = opts.answer_max_new_tokens - completion.completion_tokens
        if completion.stop_reason != "length" or budget <= 0 or not answer_was_cut(text):
            return completion
        more = self.llm.continue_chat(messages, trajectory + text, max_new_tokens=budget, stop=["</answer>"],
                                      temperature=opts.temperature)
        self._count(stats, more)
        closed = "</answer>" if more.stop_reason == "stop" else ""
        return Completion(text + more.text + closed, completion.prompt_tokens,
                          completion.completion_tokens + more.completion_tokens, completion.seconds + more.seconds,
                          completion.prefill_seconds, completion.cached_tokens, more.stop_reason)

    @staticmethod
    def _count(stats: ev.TurnStats, completion) -> None:
        stats.llm_calls += 1
        stats.prompt_tokens += completion.prompt_tokens
        stats.generated_tokens += completion.completion_tokens
        stats.seconds_llm += completion.seconds


_REFUSAL = re.compile(r"\b(i'?m sorry|i am sorry|i can(?:no|')t|i'?m (?:not|unable)|unable to|as an ai|"
                      r"language model|i don'?t have|please provide|misunderstanding)\b", re.IGNORECASE)


def answer_was_cut(step_text: str) -> bool:
    """The step began an answer (and no search) whose JSON never closed: if the step also stopped
    on its token budget, the budget cut it. The loop and GRPO rollouts continue such answers.

    >>> answer_was_cut('<answer>{"ideal_item_profile": "A tense heist thriller, like Heat (1995)')
    True
    >>> answer_was_cut('<answer>{"ideal_item_profile": "A tense heist thriller", "useful_memory_ids": []}')
    False
    >>> answer_was_cut('<search>liked crime movies</search>')
    False
    """
    if "<answer>" not in step_text or "<search>" in step_text:
        return False
    step = parse_step(step_text)
    return not (step.action == "answer" and step.answer is not None and TRUNCATED_JSON not in step.problems)


def usable_profile(profile: str) -> bool:
    """Reject refusals, apologies and fragments; they would ground to arbitrary items."""
    text = profile.strip()
    return len(text) >= 12 and len(text.split()) >= 3 and not _REFUSAL.search(text)


def is_negative(memory: RetrievedMemory) -> bool:
    entry = memory.entry
    if entry.extra.get("polarity") == "negative" or entry.extra.get("part") == "dislikes":
        return True
    return entry.level == "behavior" and float(entry.extra.get("rating", 5)) <= 2.5


def fallback_profile(request: str, memories: list[RetrievedMemory]) -> str:
    """A deterministic ideal item profile: the request plus positive evidence from memory.

    Negative evidence is left out on purpose: dense embeddings do not model negation, so
    "not horror" would pull horror items closer. Dislikes act in grounding instead.
    """
    positives = []
    for memory in memories:
        entry = memory.entry
        if is_negative(memory) or (entry.level == "behavior" and float(entry.extra.get("rating", 0)) < 4):
            continue
        positives.append(entry.text)
    profile = request.strip()
    if positives:
        profile += " Similar to what the user enjoys: " + " ".join(positives[:4])
    return profile[:1200]


def _gist(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
