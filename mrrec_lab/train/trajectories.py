"""Hindsight trajectories for the cold-start SFT stage, and their loss masks.

No teacher model exists offline, so trajectories are written with hindsight: knowing the case's
ground-truth item, we pick the aspect queries whose *real* memory search returns the entries
most similar to that item, run that search through `MemoryEnvironment` (the app's store and
renderer, so the `<memory>` block is exactly what the loop would show), and write an answer.

Three answer styles (`style`, the `--profile-style` flag):

- "restate" (default since the fourth adapter, `restate.py`): the request in whole sentences
  without small talk, a memory appended only where hindsight shows it clearly helps, at most one
  cited id, memory queries from the request only. Consistent and short (see restate.py for why).
- "anchored" (the third adapter, `-grpo`): the ideal item profile is written only from what
  the policy sees — the request without small talk, plus a liked title or a preference the
  observation showed — and hindsight only *chooses* among such candidates the one whose
  grounding ranks the ground truth best. The model learns a behaviour it can repeat at run time.
- "describe" (the first adapter, `checkpoints/smollm2-135m-mrrec-sft`): the profile describes
  the target item — era, genres, tags, and a liked title the user's memory showed; its title
  only in a small share (`title_rate`). The evaluator showed why this was a mistake: the model
  learned to write confident genre/era descriptions it cannot infer, which ground worse than
  the untuned model's answers (N@10 0.000 vs 0.034 on 24 held-out cases).

All cite the retrieved memories closest to the target (restate: at most one).

One trajectory is one assistant turn in the tag protocol of `mrrec_chat.agent.prompts`:

    <think>…</think>\\n<search>q1; q2</search>   <- model (loss)
    \\n<memory>\\n[id] (level) text\\n…</memory>\\n   <- environment (masked, labels -100)
    <answer>{"ideal_item_profile": …, "useful_memory_ids": […]}</answer><|im_end|>   <- model

The `\\n` after `</search>` and the whole observation are written by the loop, so they are
masked; the prompt (system + user) is masked too. Each step fits the loop's default budget of
96 new tokens (`AgentOptions.max_new_tokens`), which is why the answer step has no `<think>`.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from mrrec_chat.data.schema import Item
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_chat.memory.schema import RetrievedMemory
from mrrec_lab.train.data import decade_of, genre_word, request_genres
from mrrec_lab.train.env import MemoryEnvironment
from mrrec_lab.train.restate import choose_restated, request_queries


@dataclass
class Trajectory:
    """Prompt messages plus the assistant turn as (text, written_by_model) segments."""

    case_id: str
    messages: list[dict[str, str]]
    segments: list[tuple[str, bool]]
    cited: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    @property
    def assistant_text(self) -> str:
        return "".join(text for text, _ in self.segments)

    def to_dict(self) -> dict:
        return {"case_id": self.case_id, "messages": self.messages,
                "segments": [[t, m] for t, m in self.segments], "cited": self.cited, "queries": self.queries}

    @classmethod
    def from_dict(cls, data: dict) -> "Trajectory":
        return cls(data["case_id"], data["messages"], [(t, bool(m)) for t, m in data["segments"]],
                   data.get("cited", []), data.get("queries", []))


# --- query choice ------------------------------------------------------------------------------

def candidate_queries(request: str, target: Item, known_genres: set[str]) -> list[tuple[str, bool]]:
    """(query, grounded_in_request) candidates: aspects a model could ask about for this request."""
    asked = request_genres(request, known_genres)
    candidates: list[tuple[str, bool]] = []
    for genre in asked[:2]:
        word = genre_word(genre)
        candidates += [(f"liked {word} movies", True), (f"favourite {word} films", True)]
    for genre in [g for g in target.categories if g not in asked][:2]:
        candidates.append((f"liked {genre_word(genre)} movies", False))
    if target.year:
        candidates.append((f"favourite {decade_of(target.year)} movies", False))
    candidates += [("disliked genres", True), ("favourite movies", True), ("favourite categories", True)]
    return list(dict.fromkeys(candidates))


def _usefulness(memories: list[RetrievedMemory], env: MemoryEnvironment, target_vector: np.ndarray) -> float:
    if not memories:
        return 0.0
    return float(np.max(env.embed([m.entry.text for m in memories]) @ target_vector))


def choose_queries(env: MemoryEnvironment, user_id: str, request: str, target: Item,
                   rng: random.Random, n_queries: int = 2) -> list[str]:
    """The `n_queries` candidate queries whose real retrieval is most similar to the target.

    The first query is taken from those grounded in the request when there are any (the model
    can only learn queries it could have inferred); the rest are the most useful remaining ones
    that retrieve something new.
    """
    target_vector = env.embed([target.text])[0]
    scored = []
    for query, grounded in candidate_queries(request, target, set(env.dataset.categories)):
        found = env.search(user_id, [query])
        scored.append((_usefulness(found, env, target_vector) + rng.uniform(0, 0.02), grounded, query,
                       {m.memory_id for m in found}))
    scored.sort(key=lambda s: -s[0])
    grounded = [s for s in scored if s[1]]
    first = grounded[0] if grounded and grounded[0][0] >= scored[0][0] - 0.15 else scored[0]
    chosen, covered = [first[2]], set(first[3])
    for _, _, query, ids in scored:
        if len(chosen) >= n_queries:
            break
        if query not in chosen and (not ids or not ids <= covered):
            chosen.append(query)
            covered |= ids
    return chosen


# --- answer ------------------------------------------------------------------------------------

def _is_negative(memory: RetrievedMemory) -> bool:
    entry = memory.entry
    if entry.level == "behavior":
        return float(entry.extra.get("rating", 5)) < 3
    return entry.extra.get("part") == "dislikes" or entry.extra.get("polarity") == "negative"


def cite(env: MemoryEnvironment, memories: list[RetrievedMemory], target: Item, limit: int = 2,
         min_similarity: float = 0.25) -> list[RetrievedMemory]:
    """The positive retrieved memories most similar to the target (at most `limit`)."""
    positive = [m for m in memories if not _is_negative(m)]
    if not positive:
        return []
    sims = env.embed([m.entry.text for m in positive]) @ env.embed([target.text])[0]
    order = np.argsort(-sims, kind="stable")
    return [positive[i] for i in order[:limit] if sims[i] >= min_similarity]


def ideal_profile(target: Item, request: str, cited: list[RetrievedMemory], env: MemoryEnvironment,
                  rng: random.Random, title_rate: float = 0.1, n_tags: int = 3) -> str:
    """A short description of `target` (era, genres, tags) plus a liked title shown in memory."""
    genres = [genre_word(g) for g in target.categories if g != "IMAX"][:3] or ["drama"]
    decade = decade_of(target.year)
    head = (" ".join(genres[:-1]) + " and " + genres[-1] if len(genres) > 1 else genres[0]) + " movie"
    head = f"A {decade} {head}" if decade else f"{'An' if head[0] in 'aeiou' else 'A'} {head}"
    parts = [head]
    tags = [t for t in target.tags[:6] if t.isascii() and 3 <= len(t) <= 24][:n_tags]
    if tags:
        parts.append("with " + ", ".join(tags))
    asked = [genre_word(g) for g in request_genres(request, set(env.dataset.categories)) if genre_word(g) not in genres]
    if asked:
        parts.append(f"that still fits {'an' if asked[0][0] in 'aeiou' else 'a'} {asked[0]} mood")
    liked_titles = []
    for memory in cited:
        item_id = memory.entry.extra.get("item_id")
        if memory.entry.level == "behavior" and item_id in env.dataset.items and item_id != target.item_id:
            liked_titles.append(env.dataset.items[item_id].display_title)
    profile = ", ".join(parts)
    if rng.random() < title_rate:
        profile += f", like {target.display_title}"
    elif liked_titles:
        profile += f", for someone who loved {liked_titles[0]}"
    return profile + "."


# --- anchored answer: only what the policy can see, chosen in hindsight --------------------------

_SMALL_TALK = re.compile(r"^\W*(hi+|hello+|hey+|hiya|good (morning|afternoon|evening)|how are you|"
                         r"(i'?m|i am)( doing)? (good|fine|great|well|ok)|fine|thanks?|thank you|ok(ay)?|yes|no|sure|"
                         r"lol|great)\b",
                         re.IGNORECASE)


def _small_talk(line: str) -> bool:
    """A greeting or pleasantry line ("hello! how are you?"), not a request."""
    return bool(_SMALL_TALK.match(line)) and len(line.split()) <= 6 and "(" not in line


def request_core(request: str, max_words: int = 40) -> str:
    """The request without greeting/small-talk lines, as one line of at most `max_words` words.

    >>> request_core("Hi!\\nI love Alien (1979) and other scary films\\nhow are you?")
    'I love Alien (1979) and other scary films.'
    """
    lines = [" ".join(line.split()) for line in request.splitlines()]
    kept = [line for line in lines if line and not _small_talk(line)] or [line for line in lines if line]
    words = " ".join(line if line[-1] in ".!?" else line + "." for line in kept).split()
    return " ".join(words[:max_words])


_YEAR = re.compile(r"\((\d{4})\)")


def request_titles(request: str, env: MemoryEnvironment) -> list[str]:
    """Catalog titles named with their year in the request ("Alien (1979)"), in order, no repeats.

    The text before each "(year)" is matched against the catalog's titles of that year (longest
    first), because where a title starts cannot be told from the text alone ("I like 2001: A ...").
    """
    by_year: dict[str, list[str]] | None = getattr(env, "_titles_by_year", None)
    if by_year is None:  # built once per environment (its catalog never changes)
        by_year = {}
        for item in env.dataset.items.values():
            if item.year:
                by_year.setdefault(str(item.year), []).append(item.display_title)
        for titles in by_year.values():
            titles.sort(key=len, reverse=True)
        env._titles_by_year = by_year
    found = []
    for match in _YEAR.finditer(request):
        before = request[:match.end()].lower()
        found += [t for t in by_year.get(match.group(1), [])
                  if before.endswith(t.lower()) or before.endswith(_article_first(t).lower())][:1]
    return list(dict.fromkeys(found))


def _article_first(display_title: str) -> str:
    """ "Matrix, The (1999)" -> "The Matrix (1999)" (how people write it)."""
    match = re.match(r"^(.*), (The|A|An) \((\d{4})\)$", display_title)
    return f"{match.group(2)} {match.group(1)} ({match.group(3)})" if match else display_title


def anchored_candidates(request: str, observed: list[RetrievedMemory], env: MemoryEnvironment,
                        max_words: int = 40) -> list[tuple[str, list[RetrievedMemory]]]:
    """(profile, memories it uses) candidates written only from the request and the observation.

    Unlike `ideal_profile`, nothing here comes from the target item, so a model trained on these
    answers learns something it can do at run time: restate what was asked and add what memory
    showed the user enjoys. Hindsight only *chooses* among them (`choose_anchored`).
    """
    core = request_core(request, max_words)
    positive = [m for m in observed if not _is_negative(m)
                and not (m.entry.level == "behavior" and float(m.entry.extra.get("rating", 0)) < 4)]
    liked = [m for m in positive if m.entry.level == "behavior" and m.entry.extra.get("item_id") in env.dataset.items]
    asked = [genre_word(g) for g in request_genres(request, set(env.dataset.categories))]
    candidates: list[tuple[str, list[RetrievedMemory]]] = [(core, [])]
    for memory in liked[:3]:
        title = env.dataset.items[memory.entry.extra["item_id"]].display_title
        candidates.append((f"{core} Something like {title}.", [memory]))
    for memory in [m for m in positive if m.entry.level != "behavior" and m.entry.extra.get("part") != "habits"][:3]:
        candidates.append((f"{core} {' '.join(memory.entry.text.split()[:14])}", [memory]))  # habits: counts
    named = [_article_first(t) for t in request_titles(request, env)]
    if asked or named:
        head = f"A {' and '.join(asked[:2])} movie" if asked else "A movie"
        head = "An" + head[1:] if head[2] in "aeiou" else head
        titles = named[:2] + [env.dataset.items[m.entry.extra["item_id"]].display_title for m in liked[:1]]
        candidates.append((head + (" like " + " or ".join(titles) if titles else "") + ".", liked[:1]))
    return candidates


def choose_anchored(env: MemoryEnvironment, case: BenchmarkCase, observed: list[RetrievedMemory],
                    max_words: int = 40) -> tuple[str, list[RetrievedMemory]]:
    """The candidate whose grounding ranks the case's ground truth best (earliest on ties)."""
    best = None
    for n, (profile, used) in enumerate(anchored_candidates(case.request, observed, env, max_words)):
        ranks = env.ground_truth_ranks(profile, case.ground_truth) or [10 ** 9]
        key = (min(ranks), n)
        if best is None or key < best[0]:
            best = (key, profile, used)
    return best[1], best[2]


def think_text(request: str, queries: list[str], env: MemoryEnvironment, rng: random.Random) -> str:
    asked = [genre_word(g) for g in request_genres(request, set(env.dataset.categories))]
    want = " and ".join(asked[:2]) + " movies" if asked else "a movie"
    templates = ("They want {want}. Check their taste: {aspects}.",
                 "Request: {want}. Look up {aspects} in memory.",
                 "They ask for {want}; memory should show {aspects}.")
    return rng.choice(templates).format(want=want, aspects=" and ".join(queries[:2]))


def build_trajectory(env: MemoryEnvironment, case: BenchmarkCase, rng: random.Random, *,
                     title_rate: float = 0.1, n_queries: int = 2, max_step_tokens: int = 92,
                     count_tokens: Callable[[str], int] = lambda text: len(text) // 3,
                     style: str = "restate") -> Trajectory:
    """One hindsight trajectory for `case` (its memory is loaded into the store here).

    `style` picks the answer: "restate" (default, `restate.choose_restated`); "anchored"
    restates the request plus what memory showed, choosing among such candidates the one that
    grounds the ground truth best (`choose_anchored`); "describe" describes the target item
    itself (`ideal_profile`, the first adapter's data).

    The answer step is shortened (fewer tags, then fewer cited ids) until it fits
    `max_step_tokens` by `count_tokens`, so the loop's per-step budget never truncates it.
    """
    user = env.load(case)
    target = env.dataset.items[case.ground_truth[0]]
    if style == "restate":
        queries = request_queries(case.request, set(env.dataset.categories), n_queries)
    else:
        queries = choose_queries(env, user, case.request, target, rng, n_queries)
    observed = env.search(user, queries)
    cited = cite(env, observed, target)
    with_title = rng.random() < title_rate
    answer_text = ""
    if style == "restate":  # drop the appended memory before cutting the request short, the id last
        for max_words, with_memory, n_ids in ((15, True, 1), (10, True, 1), (15, False, 1), (10, False, 1),
                                              (6, False, 1), (10, False, 0)):
            profile, used = choose_restated(env, case, observed, max_words, with_memory=with_memory)
            ids = list(dict.fromkeys([m.memory_id for m in used] + [m.memory_id for m in cited]))
            answer = {"ideal_item_profile": profile, "useful_memory_ids": ids[:n_ids]}
            answer_text = f"<answer>{json.dumps(answer, ensure_ascii=False)}</answer>"
            if count_tokens(answer_text) <= max_step_tokens:
                break
    elif style == "anchored":  # shorten the restated request before giving up cited ids
        chosen: dict[int, tuple[str, list[RetrievedMemory]]] = {}
        for max_words, n_ids in ((40, 2), (40, 1), (30, 1), (22, 1), (15, 1), (10, 1), (6, 1), (10, 0), (6, 0)):
            if max_words not in chosen:
                chosen[max_words] = choose_anchored(env, case, observed, max_words)
            profile, used = chosen[max_words]
            ids = list(dict.fromkeys([m.memory_id for m in used] + [m.memory_id for m in cited]))
            answer = {"ideal_item_profile": profile, "useful_memory_ids": ids[:n_ids]}
            answer_text = f"<answer>{json.dumps(answer, ensure_ascii=False)}</answer>"
            if count_tokens(answer_text) <= max_step_tokens:
                break
    elif style == "describe":
        for n_ids, n_tags in ((2, 3), (2, 2), (1, 3), (1, 2), (1, 1), (1, 0), (0, 1), (0, 0)):
            answer = {"ideal_item_profile": ideal_profile(target, case.request, cited[:n_ids], env, rng,
                                                          1.0 if with_title else 0.0, n_tags),
                      "useful_memory_ids": [m.memory_id for m in cited[:n_ids]]}
            answer_text = f"<answer>{json.dumps(answer, ensure_ascii=False)}</answer>"
            if count_tokens(answer_text) <= max_step_tokens:
                break
    else:
        raise ValueError(f"Unknown profile style {style!r}: use restate, anchored or describe.")
    segments = [
        (f"<think>{think_text(case.request, queries, env, rng)}</think>\n<search>{'; '.join(queries)}</search>", True),
        ("\n" + env.render(observed), False),
        (answer_text, True),
    ]
    return Trajectory(case.case_id, env.messages(case.request), segments, answer["useful_memory_ids"], queries)


# --- tokenization with masks -------------------------------------------------------------------

def tokenize(tokenizer, trajectory: Trajectory, end_token: str = "<|im_end|>") -> dict[str, list[int]]:
    """`input_ids` and `assistant_masks` (1 = model-written token, trained on; 0 = masked).

    The text is the chat template's prompt with the generation header, then the assistant turn,
    then `end_token` (trained on: it teaches the model to stop). It is tokenized in one piece, as
    `LocalLLM.render_prompt` + prefix is at run time; a token counts as the model's only if it
    lies entirely inside a model-written segment.
    """
    prompt = tokenizer.apply_chat_template(trajectory.messages, add_generation_prompt=True, tokenize=False)
    spans: list[tuple[int, int]] = []
    text = prompt
    for segment, by_model in trajectory.segments:
        if by_model:
            spans.append((len(text), len(text) + len(segment)))
        text += segment
    spans.append((len(text), len(text) + len(end_token)))
    text += end_token
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(any(lo <= start and end <= hi for lo, hi in spans)) if end > start else 0
            for start, end in encoded["offset_mapping"]]
    return {"input_ids": list(encoded["input_ids"]), "assistant_masks": mask}
