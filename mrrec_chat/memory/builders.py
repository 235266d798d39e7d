"""Deterministic memory builders: behavior records, preference patterns, profile, global memory.

The paper builds memory with a large LLM; the default model here is 135M parameters and would
invent facts, so every sentence below is computed from the data (counts, averages, titles the
user actually rated). Nothing is stated that the history does not support.

Global memory follows the paper's idea — contrast what people chose with similar items they
did not — adapted to rating data: per category, compare items users rated highly (>= liked
threshold) with items they rated low (<= disliked threshold) and describe the aspects (era,
genre blend, reputation, themes from tags, how divisive the category is) that separate them.
It aggregates over all users and names no user and no single rating.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from statistics import mean, pstdev

from mrrec_chat.data.schema import Dataset, Interaction, Item
from mrrec_chat.memory.schema import GLOBAL_USER, MemoryEntry, make_memory_id

MIN_RATINGS_FOR_RATER = 5  # fewer ratings: the profile does not call the user generous or critical


def liked_threshold(dataset: Dataset) -> float:
    return dataset.rating_scale[1] * 0.8  # 4 of 5


def disliked_threshold(dataset: Dataset) -> float:
    return dataset.rating_scale[1] * 0.4  # 2 of 5


def _fmt_rating(rating: float, scale_max: float) -> str:
    return f"{rating:g}/{scale_max:g}"


def _titles(items: list[Item], limit: int = 6) -> str:
    shown = [i.display_title for i in items[:limit]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _decade(year: int | None) -> str | None:
    return f"{year // 10 * 10}s" if year else None


def behavior_records(dataset: Dataset, user_id: str, history: list[Interaction],
                     max_records: int = 200) -> list[MemoryEntry]:
    """Level 1: one entry per rated item (the most recent `max_records`)."""
    scale_max = dataset.rating_scale[1]
    entries = []
    for inter in history[-max_records:]:
        item = dataset.items.get(inter.item_id)
        if item is None:
            continue
        when = dt.datetime.fromtimestamp(inter.timestamp, dt.timezone.utc).strftime("%Y-%m-%d") if inter.timestamp else ""
        text = f"Rated {item.display_title} {_fmt_rating(inter.rating, scale_max)}"
        if item.categories:
            text += f" [{', '.join(item.categories)}]"
        if when:
            text += f" on {when}"
        text += "."
        if inter.review:
            text += f' Said: "{inter.review[:300]}"'
        entries.append(MemoryEntry(
            memory_id=make_memory_id("behavior", dataset.name, user_id, item.item_id), level="behavior",
            text=text, user_id=user_id, category=item.category, source="dataset",
            created_at=inter.timestamp or 0.0,
            extra={"item_id": item.item_id, "rating": float(inter.rating)}))
    return entries


def preference_patterns(dataset: Dataset, user_id: str, history: list[Interaction],
                        min_ratings: int = 2) -> list[MemoryEntry]:
    """Level 2: per category, a summary chunked into likes / dislikes / habits segments."""
    scale_max = dataset.rating_scale[1]
    like_at, dislike_at = liked_threshold(dataset), disliked_threshold(dataset)
    overall = mean(i.rating for i in history) if history else 0.0
    by_category: dict[str, list[tuple[Interaction, Item]]] = defaultdict(list)
    for inter in history:
        item = dataset.items.get(inter.item_id)
        if item:
            for category in item.categories or ("general",):
                by_category[category].append((inter, item))
    latest = max((i.timestamp for i in history), default=0.0)
    entries: list[MemoryEntry] = []
    for category, rated in sorted(by_category.items()):
        if len(rated) < min_ratings:
            continue
        rated.sort(key=lambda pair: (-pair[0].rating, -pair[0].timestamp))
        liked = [item for inter, item in rated if inter.rating >= like_at]
        disliked = [item for inter, item in reversed(rated) if inter.rating <= dislike_at]
        avg = mean(inter.rating for inter, _ in rated)
        decades = Counter(d for _, item in rated if (d := _decade(item.year)))
        segments: dict[str, str] = {}
        if liked:
            segments["likes"] = f"{category}: loved {_titles(liked)} (rated {like_at:g}+ of {scale_max:g})."
        if disliked:
            segments["dislikes"] = f"{category}: disliked {_titles(disliked)} (rated {dislike_at:g} or less)."
        stance = ("a favoured category" if avg >= overall + 0.25 else
                  "a weaker category" if avg <= overall - 0.25 else "about their usual rating")
        habit = f"{category}: {len(rated)} rated, average {avg:.1f} vs overall {overall:.1f} ({stance})."
        if decades:
            top = [d for d, _ in decades.most_common(2)]
            habit += f" Mostly {' and '.join(top)} releases."
        segments["habits"] = habit
        for part, text in segments.items():
            entries.append(MemoryEntry(
                memory_id=make_memory_id("pattern", dataset.name, user_id, category, part), level="pattern",
                text=text, user_id=user_id, category=category, source="builder", created_at=latest,
                extra={"part": part, "n_ratings": len(rated), "avg": round(avg, 3)}))
    return entries


def user_profile(dataset: Dataset, user_id: str, history: list[Interaction]) -> list[MemoryEntry]:
    """Level 3: a high-level summary over the patterns, chunked into three short entries."""
    if not history:
        return []
    like_at = liked_threshold(dataset)
    scale_max = dataset.rating_scale[1]
    overall = mean(i.rating for i in history)
    per_category: dict[str, list[float]] = defaultdict(list)
    decades: Counter[str] = Counter()
    for inter in history:
        item = dataset.items.get(inter.item_id)
        if not item:
            continue
        for category in item.categories:
            per_category[category].append(inter.rating)
        if inter.rating >= like_at and (d := _decade(item.year)):
            decades[d] += 1
    # Rank categories by a shrunk average so one lucky rating does not make a favourite.
    shrunk = {c: (sum(r) + 3 * overall) / (len(r) + 3) for c, r in per_category.items() if len(r) >= 2}
    ranked = sorted(shrunk, key=shrunk.get, reverse=True)
    favourite, least = ranked[:3], [c for c in ranked[::-1][:2] if shrunk[c] < overall - 0.1]
    most_watched = [c for c, _ in sorted(per_category.items(), key=lambda kv: -len(kv[1]))[:3]]
    top_items = [dataset.items[i.item_id] for i in sorted(history, key=lambda i: (-i.rating, -i.timestamp))
                 if i.item_id in dataset.items and i.rating >= like_at][:5]
    generosity = "generous" if overall >= scale_max * 0.75 else "critical" if overall <= scale_max * 0.6 else "moderate"
    # A handful of ratings (e.g. one 👍 and one 👎 in chat) says nothing about how someone rates.
    rater = f" (a {generosity} rater)" if len(history) >= MIN_RATINGS_FOR_RATER else ""
    plural = "" if len(history) == 1 else "s"
    texts = [f"Profile: {len(history)} rating{plural}, average {overall:.1f}/{scale_max:g}{rater}. "
             f"Watches mostly {', '.join(most_watched)}."]
    if favourite:
        line = f"Profile: favourite categories {', '.join(favourite)}"
        if least:
            line += f"; least liked {', '.join(least)}"
        if decades:
            line += f"; favourite eras {', '.join(d for d, _ in decades.most_common(2))}"
        texts.append(line + ".")
    if top_items:
        texts.append(f"Profile: all-time favourites include {_titles(top_items, 5)}.")
    latest = max(i.timestamp for i in history)
    return [MemoryEntry(memory_id=make_memory_id("profile", dataset.name, user_id, str(n)), level="profile",
                        text=text, user_id=user_id, category="general", source="builder", created_at=latest)
            for n, text in enumerate(texts)]


def build_user_memory(dataset: Dataset, user_id: str, history: list[Interaction] | None = None,
                      max_records: int = 200) -> list[MemoryEntry]:
    """All three local levels for one user (history defaults to the dataset's)."""
    history = dataset.history(user_id) if history is None else sorted(history, key=lambda i: i.timestamp)
    history = [i for i in history if i.item_id in dataset.items]
    return (behavior_records(dataset, user_id, history, max_records)
            + preference_patterns(dataset, user_id, history)
            + user_profile(dataset, user_id, history))


def global_memory(dataset: Dataset, min_support: int = 20) -> list[MemoryEntry]:
    """Cross-user aspects per category, contrasting liked with disliked items (see module doc)."""
    like_at, dislike_at = liked_threshold(dataset), disliked_threshold(dataset)
    item_ratings: dict[str, list[float]] = defaultdict(list)
    for inter in dataset.interactions:
        item_ratings[inter.item_id].append(inter.rating)
    # Once per item, not once per rating of it below (that recomputation took ~8 s of a first start on ml-100k).
    item_mean = {item_id: mean(ratings) for item_id, ratings in item_ratings.items()}
    liked: dict[str, list[Item]] = defaultdict(list)
    disliked: dict[str, list[Item]] = defaultdict(list)
    ratings_in: dict[str, list[float]] = defaultdict(list)
    for inter in dataset.interactions:
        item = dataset.items.get(inter.item_id)
        if not item:
            continue
        for category in item.categories:
            ratings_in[category].append(inter.rating)
            if inter.rating >= like_at:
                liked[category].append(item)
            elif inter.rating <= dislike_at:
                disliked[category].append(item)
    entries: list[MemoryEntry] = []

    def add(category: str, aspect: str, text: str) -> None:
        entries.append(MemoryEntry(memory_id=make_memory_id("global", dataset.name, category, aspect),
                                   level="global", text=f"{category} — {aspect}: {text}", user_id=GLOBAL_USER,
                                   category=category, source="builder", created_at=0.0, extra={"aspect": aspect}))

    for category in dataset.categories:
        good, bad = liked[category], disliked[category]
        if len(good) < min_support or len(bad) < min_support // 2:
            continue
        # Era: which decades are over-represented among liked vs disliked picks.
        lift = _lift(Counter(_decade(i.year) for i in good if i.year), Counter(_decade(i.year) for i in bad if i.year))
        if lift:
            up = [d for d, v in lift if v > 1.1][:2]
            down = [d for d, v in lift[::-1] if v < 0.9][:2]
            if up:
                add(category, "era", f"people rate {', '.join(up)} titles higher" +
                    (f" and {', '.join(down)} titles lower" if down else "") + "; weigh release era.")
        # Genre blend: co-categories that lift or sink satisfaction.
        lift = _lift(Counter(c for i in good for c in i.categories if c != category),
                     Counter(c for i in bad for c in i.categories if c != category))
        up = [c for c, v in lift if v > 1.15][:3]
        down = [c for c, v in lift[::-1] if v < 0.85][:2]
        if up or down:
            parts = []
            if up:
                parts.append(f"blends with {', '.join(up)} satisfy more")
            if down:
                parts.append(f"blends with {', '.join(down)} disappoint more often")
            add(category, "genre blend", "; ".join(parts) + ".")
        # Reputation: how much the crowd's verdict on a title predicts satisfaction.
        good_avg = mean(item_mean[i.item_id] for i in good)
        bad_avg = mean(item_mean[i.item_id] for i in bad)
        good_pop = mean(len(item_ratings[i.item_id]) for i in good)
        bad_pop = mean(len(item_ratings[i.item_id]) for i in bad)
        add(category, "reputation",
            f"titles people loved average {good_avg:.1f} from everyone vs {bad_avg:.1f} for ones they disliked, "
            f"and are {'more' if good_pop > bad_pop else 'less'} widely seen ({good_pop:.0f} vs {bad_pop:.0f} "
            f"ratings); well-regarded titles are the safer choice.")
        # Divisiveness: how often the category disappoints.
        values = ratings_in[category]
        low_share = sum(r <= dislike_at for r in values) / len(values)
        add(category, "divisiveness",
            f"{low_share:.0%} of ratings are low (spread {pstdev(values):.2f}); "
            + ("a divisive category — check the person's stance before recommending." if low_share > 0.15
               else "rarely disappoints its audience."))
        # Themes: tags over-represented among liked titles (datasets with tags only).
        lift = _lift(Counter(t for i in good for t in i.tags[:10]), Counter(t for i in bad for t in i.tags[:10]), min_count=3)
        themes = [t for t, v in lift if v > 1.3][:4]
        if themes:
            add(category, "themes", f"liked titles are often tagged {', '.join(themes)}.")
    return entries


def _lift(good: Counter, bad: Counter, min_count: int = 5) -> list[tuple[str, float]]:
    """Keys sorted by (share among good) / (share among bad), smoothed; rare keys dropped."""
    total_good, total_bad = sum(good.values()) or 1, sum(bad.values()) or 1
    scores = {}
    for key in set(good) | set(bad):
        if key is None or good[key] + bad[key] < min_count:
            continue
        scores[key] = ((good[key] + 1) / (total_good + 1)) / ((bad[key] + 1) / (total_bad + 1))
    return sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))


def count_tokens_rough(text: str) -> int:
    """A tokenizer-free token estimate (~4 chars per token) for cost reports."""
    return math.ceil(len(text) / 4)
