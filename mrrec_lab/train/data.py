"""Training data: ReDial cases split by seeker, MovieLens pseudo-requests, and per-case memory.

* **Split.** ReDial dev cases (`mrrec_lab.eval.redial.build_redial_cases`) are split by seeker
  (`user_id`), never by case, so no validation seeker's words or history are seen in training.
  Seekers are sorted, shuffled with a fixed seed and the first `validation_fraction` go to
  validation. The seeker ids (only ids, no data) are written to `split_redial_dev.json` beside
  this file so the evaluator can report on validation seekers alone.
* **MovieLens pseudo-requests** (extra training data, never used for validation): for a
  MovieLens user, a liked movie from the late part of their history is held out as the ground
  truth, the request is a templated ask built from its genres, era or tags ("Any 1990s crime
  thrillers you'd suggest?"), and the memory is the user's ratings strictly before it.
* **Case memory** mirrors the evaluator's rule (`EvalContext.case_entries` in
  `mrrec_lab/eval/systems.py`): the builder levels over the case's interactions plus its
  statements as chat-level entries, under a per-case user id, so training sees exactly the memory
  layout the benchmark and the app use.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path
from typing import Any

from mrrec_chat.data.schema import Dataset, Interaction, Item
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_chat.memory.builders import build_user_memory
from mrrec_chat.nlu import GENRE_SYNONYMS
from mrrec_chat.memory.schema import MemoryEntry, id_segment, make_memory_id

SPLIT_FILE = Path(__file__).with_name("split_redial_dev.json")


# --- seeker split ------------------------------------------------------------------------------

def split_seekers(user_ids: list[str], validation_fraction: float = 0.2, seed: int = 0) -> tuple[list[str], list[str]]:
    """(train, validation) seeker ids: a seeded shuffle of the sorted unique ids.

    >>> split_seekers(["a", "b", "c", "d", "e"], 0.4, seed=1)
    (['a', 'b', 'e'], ['c', 'd'])
    """
    unique = sorted(set(user_ids))
    random.Random(seed).shuffle(unique)
    n_validation = max(1, round(len(unique) * validation_fraction)) if len(unique) > 1 else 0
    return sorted(unique[n_validation:]), sorted(unique[:n_validation])


def write_split(cases: list[BenchmarkCase], path: Path = SPLIT_FILE, *, validation_fraction: float = 0.2,
                seed: int = 0, source: str = "dialogues_dev.jsonl") -> dict[str, Any]:
    """Split `cases` by seeker and write the seeker ids (and counts) as JSON; returns the record."""
    train, validation = split_seekers([c.user_id for c in cases], validation_fraction, seed)
    in_validation = set(validation)
    record = {
        "source": source,
        "rule": "seekers (case.user_id) sorted, random.Random(seed).shuffle, first "
                "round(n * validation_fraction) are validation",
        "seed": seed,
        "validation_fraction": validation_fraction,
        "counts": {
            "seekers": len(train) + len(validation),
            "train_seekers": len(train), "validation_seekers": len(validation),
            "train_cases": sum(c.user_id not in in_validation for c in cases),
            "validation_cases": sum(c.user_id in in_validation for c in cases),
            "validation_cold_start_cases": sum(c.user_id in in_validation and c.cold_start for c in cases),
        },
        "train_seekers": train,
        "validation_seekers": validation,
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def read_split(path: Path = SPLIT_FILE) -> dict[str, Any]:
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} not found. Create it with `python -m mrrec_lab.train split`.")
    return json.loads(Path(path).read_text(encoding="utf-8"))


def partition(cases: list[BenchmarkCase], split: dict[str, Any]) -> tuple[list[BenchmarkCase], list[BenchmarkCase]]:
    """(train, validation) cases by the seeker lists of a split record."""
    validation = set(split["validation_seekers"])
    return [c for c in cases if c.user_id not in validation], [c for c in cases if c.user_id in validation]


def spread_by_user(cases: list[BenchmarkCase], limit: int | None, seed: int = 0) -> list[BenchmarkCase]:
    """Up to `limit` cases taken round-robin over users (a seeker here has up to 81 cases, so a
    plain prefix would be dominated by a few people), in a seeded order."""
    rng = random.Random(seed)
    by_user: dict[str, list[BenchmarkCase]] = {}
    for case in cases:
        by_user.setdefault(case.user_id, []).append(case)
    queues = [rng.sample(group, len(group)) for _, group in sorted(by_user.items())]
    rng.shuffle(queues)
    picked: list[BenchmarkCase] = []
    while queues and (limit is None or len(picked) < limit):
        for queue in list(queues):
            if limit is not None and len(picked) >= limit:
                break
            picked.append(queue.pop())
            if not queue:
                queues.remove(queue)
    return picked


# --- MovieLens pseudo-requests -----------------------------------------------------------------

# How people name genres in requests (MovieLens's labels read oddly in a sentence).
GENRE_WORDS = {"Sci-Fi": "sci-fi", "Children": "family", "Film-Noir": "noir", "IMAX": "IMAX"}

_REQUEST_TEMPLATES = (
    "Can you recommend a good {genre} movie?",
    "I'm in the mood for a {genre} film tonight.",
    "Any {decade} {genre} movies you'd suggest?",
    "Looking for something {tag}, maybe a {genre} movie.",
    "What should I watch? I feel like a {genre} one with some {genre2}.",
    "Recommend me a {genre} movie, something {tag}.",
    "I want a {genre} movie from the {decade}.",
)


def genre_word(genre: str) -> str:
    return GENRE_WORDS.get(genre, genre.lower())


def decade_of(year: int | None) -> str | None:
    return f"{year // 10 * 10}s" if year else None


def pseudo_request(item: Item, rng: random.Random) -> str:
    """A templated request that the held-out `item` answers (built from its genres, era, tags)."""
    genres = [g for g in item.categories if g != "IMAX"] or ["drama"]
    values = {"genre": genre_word(genres[0]),
              "genre2": genre_word(genres[1]) if len(genres) > 1 else "",
              "decade": decade_of(item.year) or "",
              "tag": next((t for t in item.tags[:3] if 3 <= len(t) <= 25 and t.isascii()), "")}
    usable = [t for t in _REQUEST_TEMPLATES
              if all(values[name] for name in re.findall(r"{(\w+)}", t))]
    return rng.choice(usable).format(**values)


def movielens_pseudo_cases(dataset: Dataset, n_cases: int, seed: int = 0, *, min_history: int = 20,
                           liked_at: float = 4.5) -> list[BenchmarkCase]:
    """`n_cases` pseudo-requests from distinct MovieLens users (seeded; see module docstring).

    The target is a liked (>= `liked_at`) movie in the last 30% of the user's history; memory is
    everything the user rated before it, so the target is never in memory.
    """
    rng = random.Random(seed)
    users = [u for u in dataset.user_ids if len(dataset.history(u)) >= min_history]
    rng.shuffle(users)
    cases: list[BenchmarkCase] = []
    for user in users:
        if len(cases) >= n_cases:
            break
        history = dataset.history(user)
        start = int(len(history) * 0.7)
        liked = [x for x in history[start:] if x.rating >= liked_at and dataset.items[x.item_id].categories]
        if not liked:
            continue
        target = rng.choice(liked)
        memory = [x for x in history if x.timestamp < target.timestamp]
        if len(memory) < 5:
            continue
        item = dataset.items[target.item_id]
        cases.append(BenchmarkCase(
            case_id=f"ml-{user}-{item.item_id}", user_id=f"ml-{user}", request=pseudo_request(item, rng),
            ground_truth=[item.item_id], memory_interactions=memory, cold_start=False,
            conversation_id=str(int(target.timestamp))))
    return cases


# --- per-case memory ---------------------------------------------------------------------------

def case_user_id(case: BenchmarkCase, prefix: str = "train") -> str:
    """A per-case memory owner, so two cases of one seeker never see each other's memory."""
    return f"{prefix}-" + id_segment(case.case_id)[:100]


def case_memory_entries(dataset: Dataset, case: BenchmarkCase, user_id: str,
                        max_records: int = 200) -> list[MemoryEntry]:
    """The case's local memory (same rule as the evaluator; see module docstring)."""
    # A seeker who discussed a film in several dialogues keeps their latest opinion of it (one
    # behavior record per item; memory ids are per item).
    latest_opinion = {i.item_id: i for i in sorted(case.memory_interactions, key=lambda i: i.timestamp)}
    history = [dataclasses.replace(i, user_id=user_id) for i in latest_opinion.values()]
    entries = build_user_memory(dataset, user_id, history, max_records=max_records) if history else []
    # A seeker repeats themselves across dialogues; the latest copy of each statement is kept.
    latest = {text.strip(): n for n, text in enumerate(case.memory_statements) if text.strip()}
    for text, n in sorted(latest.items(), key=lambda kv: kv[1]):
        entries.append(MemoryEntry(
            memory_id=make_memory_id("chat", dataset.name, user_id, f"s{n}"), level="chat",
            text=text, user_id=user_id, source="benchmark-statement", created_at=float(n),
            extra={"kind": "statement", "polarity": "neutral"}))
    return entries


# --- request reading ---------------------------------------------------------------------------

_GENRE_PATTERNS = [(re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), genres) for pattern, genres in GENRE_SYNONYMS]


def request_genres(request: str, known: set[str] | None = None) -> list[str]:
    """Catalog genres named in a request, in order of first mention.

    >>> request_genres("Any good rom-coms or maybe a scary movie?")
    ['Romance', 'Comedy', 'Horror']
    """
    hits: list[tuple[int, str]] = []
    for pattern, genres in _GENRE_PATTERNS:
        match = pattern.search(request)
        if match:
            hits += [(match.start(), g) for g in genres]
    ordered = [g for _, g in sorted(hits, key=lambda h: h[0])]
    return [g for g in dict.fromkeys(ordered) if known is None or g in known]

