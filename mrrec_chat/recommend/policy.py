"""The turn policy: what this turn excludes, refuses, prefers and starts from — written once.

The request decides; memory modulates:

* excluded (never shown): items the caller says were consumed (the dataset history in the app),
  items the user rejected (👎, "I hated Heat") or said they have seen, titles named in the request
  (unless a rewatch is asked for), and for a follow-up ("something else") the items this chat
  already listed;
* refused genres (never shown): the request's refusals, plus the user's own current chat dislikes
  of a genre — unless this request *names* that genre ("I hate horror" last week does not
  override "a horror film for Halloween" today, but "something scary with ghosts" only suggests
  horror, so the dislike stands and the request's other signals decide); a *momentary* dislike
  ("no westerns tonight") refuses only for MOMENTARY_SECONDS after it was said, then leans away softly;
* soft: the user's liked items seed collaborative similarity, and their genre taste (ratings and
  chat likes) re-ranks a little; both are features the fused ranker weighs, never filters.

The app (service.py), the evaluator and the benchmarks all build their turns here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from mrrec_chat.memory.facts import BehaviorFact, ChatFact
from mrrec_chat.memory.schema import MemoryEntry
from mrrec_chat.recommend.ranker import RankInputs
from mrrec_chat.recommend.request import REFUSING_MOODS, Request, canonical_genre

MAX_MEMORY_SEEDS = 20
# "No horror tonight" refuses horror for this long after it was said; later it only lowers horror a little.
MOMENTARY_SECONDS = 6 * 3600
# a like said this firmly was stated ("I love comedies": 0.9); below, it was read from a request
# ("recommend a comedy": 0.7, "a comedy please": 0.8), and a card must not say "you told me you like"
STATED = 0.9
DISLIKED = -0.25  # a genre's rating affinity this low is the person's dislike (centred, shrunk, halved)


@dataclass
class TurnPolicy:
    request: Request
    exclude: set[str] = field(default_factory=set)
    refused: tuple[str, ...] = ()
    refused_together: tuple[tuple[str, ...], ...] = ()  # no film that is all of these ("rom-coms")
    seeds: dict[str, float] = field(default_factory=dict)  # request-named titles
    memory_seeds: dict[str, float] = field(default_factory=dict)  # liked items in memory
    memory_seed_ids: dict[str, str] = field(default_factory=dict)  # item id -> memory id
    affinity: dict[str, float] = field(default_factory=dict)  # genre -> [-1, 1]
    affinity_ids: dict[str, str] = field(default_factory=dict)  # genre -> memory id of a chat like
    # genres the person said they like ("I love comedies"), not only asked for ("recommend a comedy")
    affinity_stated: set[str] = field(default_factory=set)
    refused_by_memory: dict[str, str] = field(default_factory=dict)  # genre -> memory id
    # genres this request asked for or its mood suggested that a stated dislike in memory keeps out
    # ("a date-night movie" after "no romance please"): the app says so, and how to override it
    held_back_by_memory: tuple[str, ...] = ()
    shown_before: set[str] = field(default_factory=set)  # listed earlier in this chat, not again now
    remembered: dict[str, float] = field(default_factory=dict)  # liked, not consumed: item id -> weight
    like_genres: tuple[tuple[str, ...], ...] = ()  # genres of the titles in "something like X"
    # What the memory records: consumption (the app: rated items were watched) or mentions (ReDial).
    # The Recommender ranks with the fusion weights fitted for that kind of memory.
    rated_is_consumed: bool = True
    # "something different from what I usually watch": the genres most of the person's films have
    usual_genres: tuple[str, ...] = ()

    @property
    def exploring(self) -> bool:
        r = self.request
        return bool(r.explore and self.usual_genres and not r.wanted and not self.like_genres)

    def inputs(self, request_vector: np.ndarray, profile_vector: np.ndarray | None = None,
               extra_prefer: Iterable[str] = (), extra_seeds: dict[str, float] | None = None) -> RankInputs:
        r = self.request
        seeds = dict(self.seeds)
        for item_id, weight in (extra_seeds or {}).items():
            seeds.setdefault(item_id, weight)
        prefer = tuple(dict.fromkeys((*r.prefer_genres, *extra_prefer)))
        if self.exploring:
            # away from the usual: their genres are a soft filter, and the person's own taste
            # (liked films, genre affinity) no longer pulls the list back towards them
            return RankInputs(
                request_vector=request_vector, profile_vector=None, exclude=set(self.exclude), refused=self.refused,
                refused_together=self.refused_together, year_min=r.year_min, year_max=r.year_max, seeds=seeds,
                lesser_known=r.lesser_known, acclaimed=r.acclaimed, mood_genres=((), tuple(dict.fromkeys(self.usual_genres + self.disliked_genres() + r.avoid_genres))))
        return RankInputs(
            request_vector=request_vector, profile_vector=profile_vector, exclude=set(self.exclude),
            refused=self.refused, refused_together=self.refused_together, genres_any=r.genres_any, genres_all=r.genres_all, year_min=r.year_min,
            year_max=r.year_max, prefer=tuple(g for g in prefer if g not in self.refused),
            avoid=r.avoid_genres, seeds=seeds, memory_seeds=dict(self.memory_seeds), affinity=dict(self.affinity),
            remembered={i: v for i, v in self.remembered.items() if i not in self.exclude},
            like_genres=self.like_genres,
            tag_terms=r.tag_likes,
            series_seeds=tuple(i for i in r.titles if i in self.seeds),
            # only from ratings of watched films (the app's memory; ReDial's memory is mentions, and
            # there the filter cost the training seekers R@100 0.377 -> 0.371), and only beside genres
            # the request asked for: "a four-season tent" from someone who rated tents low lost its
            # answer in the products benchmark (the request's words are the ask, not memory)
            disliked=tuple(g for g in self.disliked_genres() if g not in r.wanted and g not in prefer)
            if self.rated_is_consumed and r.wanted else (),
            head_genres=tuple(g for g in r.genres_all if g in r.genres_named)
            if 0 < len(set(r.genres_all) & set(r.genres_named)) < len(r.genres_all) else (),
            # "something different" from someone whose usual this memory does not show: a surprise
            lesser_known=r.lesser_known or r.explore, acclaimed=r.acclaimed,
            # "what's a good family film?" (no genre named): children's and animated films first,
            # then the family's comedies and adventures (The Full Monty was third)
            audience_genres=tuple(g for g in (canonical_genre(x, r.prefer_genres) for x in ("Children", "Animation"))
                                  if g and g not in self.refused)
            if r.audience == "family" and not r.wanted and not self.like_genres else (),
            mood_genres=self.mood_genres(), nearest_genres=self.nearest_genres())

    def nearest_genres(self) -> tuple[str, ...]:
        """Genres a mood prefers beside genres only theme words suggested ("a detective story": crime,
        noir and thrillers beside mystery), where an era was asked too; () otherwise."""
        r = self.request
        themed = dict(r.themes)
        if not r.genres_any or r.genres_all or r.genres_named or not all(g in themed for g in r.genres_any) \
                or (r.year_min is None and r.year_max is None):
            return ()
        return tuple(g for g in r.prefer_genres if g not in r.genres_any and g not in self.refused)

    def disliked_genres(self) -> tuple[str, ...]:
        """Genres this person rates well below their average: "something different" is not the
        genre they like least (user 42, who rates horror lowest, got Scream second)."""
        return tuple(g for g, a in self.affinity.items() if a <= DISLIKED and g not in self.usual_genres)

    def mood_genres(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(genres the turn's mood or audience asks for, genres it avoids): the ranker's soft "mood" filter."""
        r = self.request
        if (r.moods or r.audience) and not r.wanted and not self.like_genres:
            return tuple(g for g in r.prefer_genres if g not in self.refused), tuple(r.avoid_genres)
        if set(r.moods) & REFUSING_MOODS:
            # "more like Fargo but less violent": the title's genres, less the ones the mood avoids;
            # "we like thrillers but nothing too violent": thrillers that are not also crime films.
            # Only a refusal filters beside an asked genre or title: as filters, the genres a mood
            # prefers turned "a drama that ends happily" into Titanic and Leaving Las Vegas, and
            # "relaxed" took Rear Window (a thriller) from "a mystery for a rainy afternoon"
            return (), tuple(g for g in r.avoid_genres if g not in r.wanted)
        return (), ()


def plan_turn(request: Request, memory: Iterable[MemoryEntry], *, consumed: Iterable[str] = (),
              categories: Iterable[str] = (), item_categories=None,
              rated_is_consumed: bool = True, shown: Iterable[Iterable[str]] = (),
              now: float | None = None, series=None) -> TurnPolicy:
    """The policy for one turn from the understood request and the user's current memory.

    `consumed`: item ids never to show again (the app passes the user's dataset history; the
    evaluator passes its protocol's exclusions). `item_categories(item_id) -> tuple` lets liked
    items count towards genre taste. `rated_is_consumed`: every item with a behavior record
    (rated in the dataset, or given 👍/👎/seen) is excluded — true in the app; the ReDial
    benchmark's memory is what seekers *mentioned*, not what they watched, so it passes False.
    """
    categories = list(categories)
    consumed = set(consumed)
    now = time.time() if now is None else now
    policy = TurnPolicy(request=request, exclude=set(consumed), rated_is_consumed=rated_is_consumed)
    policy.exclude.update(request.titles_refused)
    if series is not None:  # "no Star Wars stuff please": its sequels neither (`series(item_id) -> ids`)
        for item_id in request.titles_refused:
            policy.exclude.update(series(item_id))
    if request.new_items and not request.rewatch:
        # "something else", "something darker", "not kids stuff": the same request again, so not the
        # films this chat already listed (`shown`: one list per earlier turn)
        policy.shown_before = {i for ids in shown for i in ids}
        policy.exclude.update(policy.shown_before)
    if not request.rewatch:
        policy.exclude.update(request.titles_named)
    policy.seeds = {item_id: 1.0 for item_id in request.titles}
    if item_categories is not None:
        policy.like_genres = tuple(g for g in (tuple(item_categories(i)) for i in request.similar_to) if g)
    named = set(request.genres_named)
    refused = list(request.genres_refused)
    together = list(request.refused_together)
    liked: list[tuple[float, str, str]] = []  # (time, item id, memory id)
    rejected: set[str] = set()
    ratings: dict[str, list[float]] = {}
    all_ratings: list[float] = []
    watched: list[str] = []  # behavior items not disliked: what the person usually watches
    for entry in memory:
        if entry.status != "current":
            continue
        fact = ChatFact.of(entry)
        if fact is not None:
            if not fact.users_own:
                continue
            if fact.is_category:
                genre = canonical_genre(fact.subject, categories) or fact.subject
                if fact.kind == "dislike" and fact.momentary and now - entry.created_at > MOMENTARY_SECONDS:
                    # "no westerns tonight", said days ago: no longer a refusal, a slight lean away
                    policy.affinity[genre] = min(policy.affinity.get(genre, 0.0), -0.5)
                elif fact.kind == "dislike" and fact.together:
                    # "I can't stand rom-coms": no romantic comedy, unless this request names one of them
                    combo = tuple(canonical_genre(g, categories) or g for g in fact.together)
                    if not set(combo) <= named:
                        together.append(combo)
                elif fact.kind == "dislike" and genre not in named:
                    refused.append(genre)
                    policy.refused_by_memory.setdefault(genre, fact.memory_id)
                elif fact.kind == "like":
                    policy.affinity[genre] = max(policy.affinity.get(genre, 0.0), 0.5)
                    policy.affinity_ids.setdefault(genre, fact.memory_id)
                    if entry.confidence >= STATED:
                        policy.affinity_stated.add(genre)
            elif fact.item_id:
                if fact.kind in ("dislike", "seen"):
                    policy.exclude.add(fact.item_id)
                    if fact.kind == "dislike":
                        rejected.add(fact.item_id)
                elif fact.kind == "like":
                    liked.append((entry.created_at, fact.item_id, fact.memory_id))
                    if rated_is_consumed:  # "I love Alien": seen, so not recommended back (the app)
                        policy.exclude.add(fact.item_id)
            continue
        behavior = BehaviorFact.of(entry)
        if behavior is None or not behavior.item_id:
            continue
        if behavior.disliked or rated_is_consumed:
            policy.exclude.add(behavior.item_id)
        if not behavior.disliked:
            watched.append(behavior.item_id)
        if behavior.disliked:
            rejected.add(behavior.item_id)
        if behavior.feedback == "seen":
            policy.exclude.add(behavior.item_id)
        if behavior.liked:
            liked.append((entry.created_at, behavior.item_id, behavior.memory_id))
        if behavior.rating > 0 and item_categories is not None:
            all_ratings.append(behavior.rating)
            for genre in item_categories(behavior.item_id):
                ratings.setdefault(genre, []).append(behavior.rating)
    policy.refused = tuple(dict.fromkeys(refused))
    policy.refused_together = tuple(dict.fromkeys(together))
    policy.held_back_by_memory = tuple(g for g in dict.fromkeys((*request.wanted, *request.prefer_genres))
                                       if g in policy.refused_by_memory)
    if set(policy.refused) & set(request.wanted):
        # A genre the request only suggested and memory refuses is no longer a filter.
        request = replace(request, genres_any=tuple(g for g in request.genres_any if g not in policy.refused),
                          genres_all=tuple(g for g in request.genres_all if g not in policy.refused))
        policy.request = request
    liked.sort(key=lambda t: -t[0])  # most recent first
    if not rated_is_consumed:
        # A memory of mentions: a liked item not known to be consumed is a candidate itself,
        # the more so the more recent it is and the more sessions it was liked in.
        times: dict[str, int] = {}
        order: list[str] = []
        for _, item_id, _ in liked:
            if item_id in rejected:
                continue
            if item_id not in times:
                order.append(item_id)
            times[item_id] = times.get(item_id, 0) + 1
        for pos, item_id in enumerate(order):
            policy.remembered[item_id] = (1.0 / (1.0 + pos / 10.0)) * (1.0 + 0.5 * float(np.log(times[item_id])))
    for _, item_id, memory_id in liked:
        if item_id in policy.memory_seeds or item_id in rejected:
            continue
        if len(policy.memory_seeds) >= MAX_MEMORY_SEEDS:
            break
        policy.memory_seeds[item_id] = 1.0
        policy.memory_seed_ids[item_id] = memory_id
    if request.explore and item_categories is not None:
        policy.usual_genres = usual_genres(
            [i for i in (*(item for _, item, _ in liked), *watched) if i not in rejected], item_categories,
            refused=policy.refused)
    if all_ratings:
        mean = float(np.mean(all_ratings))
        for genre, values in ratings.items():
            # Centred and shrunk: three ratings of a genre say less than thirty.
            value = float(np.mean(values)) - mean
            shrunk = value * len(values) / (len(values) + 3)
            policy.affinity[genre] = float(np.clip(policy.affinity.get(genre, 0.0) + shrunk / 2, -1, 1))
    return policy


USUAL_MIN_ITEMS = 5  # fewer films than this say nothing of a usual


def usual_genres(item_ids: Iterable[str], item_categories, refused: Iterable[str] = (), top: int = 3) -> tuple[str, ...]:
    """The genres most of a person's films have (at most `top`, each on at least a quarter of them):
    what "something different from what I usually watch" moves away from. () for too few films."""
    ids = list(dict.fromkeys(item_ids))
    if len(ids) < USUAL_MIN_ITEMS:
        return ()
    counts: dict[str, int] = {}
    for item_id in ids:
        for genre in item_categories(item_id):
            counts[genre] = counts.get(genre, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return tuple(g for g, c in ranked[:top] if c >= len(ids) / 4 and g not in set(refused))

