"""Hybrid grounding: every catalog item scored by several signals, fused by fitted weights.

Signals (one column each of the feature matrix, computed for the whole catalog at once — at
MovieLens sizes, 1.7k-10k items, that is cheaper than a candidate stage and loses nothing):

  sem_request   the request embedded, cosine to the item's text (title, year, genres, tags)
  sem_desc      the request, cosine to the item's *descriptive* text (genres, decade, tags;
                no title words); 0 for a catalog without tags or descriptions
  sem_profile   the model's ideal item profile, cosine to the item's text (0 without a usable one)
  cf_request    item-item collaborative similarity to the titles the request names
  cf_memory     the same, to the items the user liked (memory), mean of the best three
  sem_memory    content similarity to the items the user liked: mean of the best three cosines
                between the item's text and theirs (works without ratings: a new catalog, few users)
  popularity    log(1 + number of ratings)
  quality       Bayesian-average rating minus the catalog mean (0 without ratings)
  genre_fit     share of the request's wanted genres the item has
  mood_fit      soft genre preferences of the request's mood/audience (+) and avoidances (-)
  affinity      the user's taste for the item's genres, from memory ratings and chat likes
  trend         log(1 + ratings in the last three years of the dataset's ratings): what people
                watch now (MovieLens's all-time counts favour films that have had decades to gather
                ratings); equals popularity where all ratings are recent, 0 without timestamps
  recency       how recent the release is within the catalog: 1 for its latest year, falling to 0
                at 30 years older (0 without a year)
  genre_focus   the share of the item's own genres that the request asks for: a romance asked for is
                better met by Sleepless in Seattle (comedy, romance: 1/2) than by Star Wars (five
                genres, romance among them: 1/5); 0 when the request names no genre. Added after
                fusion.json was fitted, so its weight there is 0 and its trees never read it
  remembered    the item itself is one the user liked in memory and is not known to be consumed
                (a memory of what the person *mentioned*, e.g. a suggestion they liked but have not
                seen): recency-weighted, more for an item liked in several sessions; 0 in the app,
                whose rated items are consumption and never shown again

Hard rules come from the turn policy (recommend/policy.py): excluded items, refused genres and
the request's era are never shown; the request's wanted genres filter too, relaxed step by step
(all-of -> any-of -> era -> genres) only when fewer items than asked for remain. One item per
title + year; a little diversity (near-duplicates by embedding are pushed down).

The fusion is fitted on the training seekers of the ReDial development data by
`python -m mrrec_lab.fit_fusion` and saved in fusion.json beside this file: linear `weights` (a
dozen numbers) and, where present, `trees`, a small LightGBM LambdaRank ensemble over the same
features that then does the scoring (150 trees of two splits; evaluated here in numpy, so the app
needs no LightGBM). The trees won the seeker cross-validation (fusion.json `cross_validation`):
they can learn what a line cannot: thresholds and pairs of signals (in the fitted file the
commonest pair of splits is `remembered` with `trend`, then `popularity` with `recency`).
Item-item similarity is a sparse co-occurrence cosine over liked ratings with shrinkage, written
with scipy here: `implicit`'s ItemItemRecommender computes the same thing but would add a
compiled dependency to the app for ten lines of code.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mrrec_chat.data.movielens import series_key
from mrrec_chat.data.schema import Dataset, Item

log = logging.getLogger(__name__)

FEATURES = ("sem_request", "sem_desc", "sem_profile", "cf_request", "cf_memory", "sem_memory", "popularity",
            "quality", "genre_fit", "mood_fit", "affinity", "remembered", "trend", "recency", "genre_focus")
WEIGHTS_FILE = Path(__file__).with_name("fusion.json")
# Used only when fusion.json is missing: the reference ranker's two terms plus equal small
# weights for the rest. fusion.json (fitted) replaces these.
DEFAULT_WEIGHTS = {"sem_request": 1.0, "sem_desc": 0.3, "sem_profile": 0.0, "cf_request": 1.0, "cf_memory": 0.5,
                   "sem_memory": 0.3, "popularity": 0.05, "quality": 0.2, "genre_fit": 0.5, "mood_fit": 0.2,
                   "affinity": 0.2, "remembered": 0.0, "trend": 0.0, "recency": 0.0, "genre_focus": 0.0}
CF_SHRINK = 10.0
BAYES_PRIOR = 10  # ratings of "prior" weight in the Bayesian average
TREND_WINDOW_S = 3 * 365.25 * 86400  # "recent" ratings: the dataset's last three years
RECENCY_SPAN_YEARS = 30
FOCUS_MIN_SHARE = 0.25  # the asked genres' share of an item's genres below which it is tagged, not about them
DUPLICATE_SIMILARITY = 0.97  # item texts this close are the same film listed twice (or a near copy)
SERIES_TAIL = re.compile(r"^(?:\w+ (?:of|for|from|to)|beneath|under|beyond|escape from|conquest of|battle for) (?:the )?(.+)$")
SERIES_CAP = 2  # at most this many films of one series ("Star Trek III", "IV", ...) among the first
SERIES_CAP_DEPTH = 10  # ... this many picks; the others follow


def load_weights(path: Path = WEIGHTS_FILE) -> dict[str, float]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        weights = {k: float(data["weights"][k]) for k in FEATURES if k in data["weights"]}
        return {**{k: 0.0 for k in FEATURES}, **weights}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("Fusion weights not read from %s (%s); using defaults.", path, exc)
        return dict(DEFAULT_WEIGHTS)


def load_trees(path: Path = WEIGHTS_FILE) -> list[dict] | None:
    """The fitted tree ensemble in fusion.json ("trees"), or None where it has none (then the
    linear `weights` rank)."""
    try:
        trees = json.loads(Path(path).read_text(encoding="utf-8")).get("trees")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(trees, list) or not trees:
        return None
    try:
        for tree in trees:
            _check_tree(tree)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("Fusion trees in %s not usable (%s); ranking by the linear weights.", path, exc)
        return None
    return trees


def _check_tree(node: dict) -> None:
    if "v" in node:
        float(node["v"])
        return
    if node["f"] not in FEATURES:
        raise ValueError(f"unknown feature {node['f']!r}")
    float(node["t"])
    _check_tree(node["l"])
    _check_tree(node["r"])


def tree_scores(trees: list[dict], X: np.ndarray) -> np.ndarray:
    """Sum of the ensemble's trees over the rows of X (items x FEATURES). A node is
    {"f": feature, "t": threshold, "l": node, "r": node} (left where X[f] <= t, as LightGBM
    decides) or a leaf {"v": value}: LightGBM's own model, evaluated without the library."""
    X = X.astype(np.float64)
    total = np.zeros(len(X), dtype=np.float64)

    def walk(node: dict, rows: np.ndarray) -> None:
        if "v" in node:
            total[rows] += node["v"]
            return
        left = X[rows, FEATURES.index(node["f"])] <= node["t"]
        walk(node["l"], rows[left])
        walk(node["r"], rows[~left])

    every = np.arange(len(X))
    for tree in trees:
        walk(tree, every)
    return total.astype(np.float32)


def descriptive_text(item: Item) -> str:
    """What an item is like, without its title: genres, decade, tags, description."""
    parts = []
    if item.categories:
        parts.append(", ".join(item.categories))
    if item.year:
        parts.append(f"from the {item.year // 10 * 10}s")
    if item.tags:
        parts.append("about " + ", ".join(item.tags[:12]))
    if item.description:
        parts.append(item.description)
    return ". ".join(parts)


def dedupe_key(item: Item) -> str:
    return re.sub(r"[^a-z0-9]+", " ", item.title.lower()).strip() + f"|{item.year or ''}"


@dataclass
class Ranked:
    item: Item
    score: float
    features: dict[str, float]
    seed: str | None = None  # the request-named title it is most similar to (collaboratively)
    memory_seed: str | None = None  # the liked memory item it is most similar to
    relaxed: tuple[str, ...] = ()  # which request filters had to be relaxed to fill the list


LESSER_KNOWN_QUANTILE = 0.9  # "hidden gems": at most as many ratings as 90% of the rated items
LESSER_KNOWN_MIN_RATINGS = 20
ACCLAIMED_QUANTILE = 0.9  # "the best ...": rated at least as well as 90% of the films with enough ratings


@dataclass
class RankInputs:
    """What one ranking needs (built by recommend/policy.py)."""

    request_vector: np.ndarray
    profile_vector: np.ndarray | None = None
    exclude: set[str] = field(default_factory=set)
    refused: tuple[str, ...] = ()
    refused_together: tuple[tuple[str, ...], ...] = ()  # ("Romance", "Comedy"): no film that is all of them
    genres_any: tuple[str, ...] = ()
    genres_all: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    prefer: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    seeds: dict[str, float] = field(default_factory=dict)  # item id -> weight
    memory_seeds: dict[str, float] = field(default_factory=dict)
    affinity: dict[str, float] = field(default_factory=dict)  # category -> [-1, 1]
    remembered: dict[str, float] = field(default_factory=dict)  # item id -> (0, ~2]
    like_genres: tuple[tuple[str, ...], ...] = ()  # genres of each title in "something like X"
    # A request whose only taste words are a mood or an audience ("a tearjerker", "something for the
    # family"): (genres it asks for, genres it avoids) — a soft filter, relaxed first.
    mood_genres: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    lesser_known: bool = False  # "an underrated 70s film", "hidden gems": not the most rated films
    audience_genres: tuple[str, ...] = ()  # "a family film": these first (a soft filter, relaxed first)
    acclaimed: bool = False  # "the best sci-fi of all time": the catalog's best-rated films first
    # genres near a genre only a theme word suggested ("a detective story from the 70s": mystery, and
    # crime, noir and thrillers near it): where the era leaves too few of the theme's genre, these
    # fill the list before the era said outright is relaxed (Amadeus and 2001 came third and fourth)
    nearest_genres: tuple[str, ...] = ()
    # of an all-of pair, the kind of film a noun named ("a funny documentary": documentary): once the
    # pair is relaxed, that kind before the other (The Big One, then plain comedies came)
    head_genres: tuple[str, ...] = ()
    # genres this person rates well below their average and did not ask for (user 42, who rates
    # horror lowest, got Scream third for "a thriller"): a soft filter, relaxed first
    disliked: tuple[str, ...] = ()
    # themes and people the request names ("vampire movies", "adam sandler movies"), grounded through
    # the catalog's tags where it has them: the items tagged so come first (a soft filter)
    tag_terms: tuple[str, ...] = ()
    # titles the person named with liking ("I love Planet of the Apes, what do you recommend?"): the
    # other films of their series first (a soft filter; the series cap still spreads the list)
    series_seeds: tuple[str, ...] = ()


def tag_key(text: str) -> str:
    """A tag or a theme as compared: lower case, words only, each word singular ("Vampires" ->
    "vampire", "time-travel" -> "time travel", "superheroes" -> "superhero")."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    out = []
    for w in words:
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 4 and w.endswith(("oes", "ses", "xes", "zes")):
            w = w[:-2]
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return " ".join(out)


class CatalogSignals:
    """Per-item arrays that do not depend on the request (built once per catalog)."""

    def __init__(self, dataset: Dataset, catalog, desc_matrix: np.ndarray | None = None):
        from scipy import sparse

        self.dataset = dataset
        self.catalog = catalog
        self.item_ids: list[str] = list(catalog.item_ids)
        self.row = {item_id: n for n, item_id in enumerate(self.item_ids)}
        self.items = [dataset.items[i] for i in self.item_ids]
        self.categories = list(dataset.categories)
        self.cat_index = {c: n for n, c in enumerate(self.categories)}
        self.genres = np.zeros((len(self.items), max(1, len(self.categories))), dtype=np.float32)
        for n, item in enumerate(self.items):
            for c in item.categories:
                if c in self.cat_index:
                    self.genres[n, self.cat_index[c]] = 1.0
        self.years = np.array([item.year or 0 for item in self.items], dtype=np.int32)
        counts = np.zeros(len(self.items), dtype=np.float64)
        recent = np.zeros(len(self.items), dtype=np.float64)
        sums = np.zeros(len(self.items), dtype=np.float64)
        latest_rating = max((inter.timestamp or 0.0 for inter in dataset.interactions), default=0.0)
        low, high = dataset.rating_scale
        liked_at = low + 0.75 * (high - low)  # 4 on a 1-5 scale
        users: dict[str, int] = {}
        rows, cols = [], []
        for inter in dataset.interactions:
            n = self.row.get(inter.item_id)
            if n is None:
                continue
            counts[n] += 1
            sums[n] += inter.rating
            if latest_rating > 0 and (inter.timestamp or 0.0) >= latest_rating - TREND_WINDOW_S:
                recent[n] += 1
            if inter.rating >= liked_at:
                rows.append(users.setdefault(inter.user_id, len(users)))
                cols.append(n)
        self.counts = counts
        self.popularity = np.log1p(counts).astype(np.float32)
        self.trend = np.log1p(recent).astype(np.float32)
        latest_year = int(self.years.max()) if len(self.years) else 0
        self.recency = np.where(self.years > 0, np.clip(
            1.0 - (latest_year - self.years) / RECENCY_SPAN_YEARS, 0.0, 1.0), 0.0).astype(np.float32)
        if counts.sum() > 0:
            mean = sums.sum() / counts.sum()
            self.bayes = ((sums + BAYES_PRIOR * mean) / (counts + BAYES_PRIOR)).astype(np.float32)
            self.quality = ((self.bayes - mean) / max(1e-6, (high - low) / 4)).astype(np.float32)
        else:
            self.bayes = np.zeros(len(self.items), dtype=np.float32)
            self.quality = np.zeros(len(self.items), dtype=np.float32)
        liked = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                  shape=(max(1, len(users)), len(self.items)))
        self.liked_t = liked.T.tocsr()  # items x users
        self.liked = liked.tocsc()
        self.liked_counts = np.asarray(liked.sum(axis=0)).ravel().astype(np.float32)
        self.desc_matrix = desc_matrix
        # What "similar content" compares: the descriptive text where the catalog has one (no
        # title words), else the full item text.
        self.content_matrix = desc_matrix if desc_matrix is not None else catalog.matrix
        keys = [dedupe_key(item) for item in self.items]
        first: dict[str, int] = {}
        self.duplicate_of = np.array([first.setdefault(k, n) for n, k in enumerate(keys)])
        names = [series_key(item.title) for item in self.items]
        known = set(names)
        for n, name in enumerate(names):
            # "Rise of the Planet of the Apes", "Revenge of the Pink Panther": of the series another
            # title of the catalog is named by (two words at least: "Night of the Hunter" is no "Hunter")
            mt = SERIES_TAIL.match(name)
            if mt and len(mt.group(1).split()) >= 2 and mt.group(1) in known:
                names[n] = mt.group(1)
        series: dict[str, int] = {}
        self.series_of = np.array([series.setdefault(name, n) for n, name in enumerate(names)])
        self.tag_rows: dict[str, list[int]] = {}  # tag_key(tag) -> rows
        for n, item in enumerate(self.items):
            for tag in item.tags or ():
                self.tag_rows.setdefault(tag_key(tag), []).append(n)

    def tagged(self, terms) -> np.ndarray:
        """Items one of whose tags is one of `terms` (compared by `tag_key`)."""
        ok = np.zeros(len(self.items), dtype=bool)
        for term in terms:
            key = tag_key(term)
            rows = self.tag_rows.get(key)
            if rows is None and len(key) >= 8 and " " in key:
                # a name misspelt by one or two letters ("Will Ferril"): the closest tag that is a name too
                first = key.split()[0] + " "
                close = difflib.get_close_matches(key, [k for k in self.tag_rows if k.startswith(first)], n=1, cutoff=0.85)
                rows = self.tag_rows[close[0]] if close else None
            ok[rows or []] = True
        return ok

    def item_item(self, seed_rows: list[int]) -> np.ndarray:
        """seeds x items shrunk cosine of co-liking (0 where nobody liked both)."""
        if not seed_rows:
            return np.zeros((0, len(self.items)), dtype=np.float32)
        co = (self.liked_t[seed_rows] @ self.liked).toarray().astype(np.float32)  # seeds x items
        norm = np.sqrt(np.outer(self.liked_counts[seed_rows], self.liked_counts)) + CF_SHRINK
        sims = co / norm
        for k, row in enumerate(seed_rows):
            sims[k, row] = 0.0  # an item is not its own neighbour
        return sims


class Ranker:
    def __init__(self, signals: CatalogSignals, weights: dict[str, float] | None = None,
                 trees: list[dict] | None = None):
        """Without `weights`, fusion.json's: its tree ensemble where it has one, else its linear
        weights. Given `weights` (and no `trees`), the linear fusion of those weights."""
        self.signals = signals
        if weights is None:
            weights = load_weights()
            trees = load_trees() if trees is None else trees
        self.weights = weights
        self.trees = trees
        self.w = np.array([self.weights.get(f, 0.0) for f in FEATURES], dtype=np.float32)

    def score(self, X: np.ndarray) -> np.ndarray:
        """Fused score of each row of the feature matrix."""
        if self.trees:
            return tree_scores(self.trees, X)
        return X @ self.w

    # --- features -----------------------------------------------------------------------
    def features(self, inputs: RankInputs) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(items x FEATURES matrix, helper arrays for reasons)."""
        s = self.signals
        n_items = len(s.items)
        X = np.zeros((n_items, len(FEATURES)), dtype=np.float32)
        X[:, 0] = s.catalog.matrix @ inputs.request_vector
        if s.desc_matrix is not None:
            X[:, 1] = s.desc_matrix @ inputs.request_vector
        if inputs.profile_vector is not None:
            X[:, 2] = s.catalog.matrix @ inputs.profile_vector
        helpers: dict[str, np.ndarray] = {}
        seed_ids = [i for i in inputs.seeds if i in s.row]
        if seed_ids:
            sims = s.item_item([s.row[i] for i in seed_ids]) * np.array(
                [inputs.seeds[i] for i in seed_ids], dtype=np.float32)[:, None]
            X[:, 3] = sims.max(axis=0)
            helpers["seed"] = np.array(seed_ids, dtype=object)[sims.argmax(axis=0)]
        memory_ids = [i for i in inputs.memory_seeds if i in s.row]
        if memory_ids:
            sims = s.item_item([s.row[i] for i in memory_ids]) * np.array(
                [inputs.memory_seeds[i] for i in memory_ids], dtype=np.float32)[:, None]
            top = np.sort(sims, axis=0)[-3:]
            X[:, 4] = top.mean(axis=0)
            helpers["memory_seed"] = np.array(memory_ids, dtype=object)[sims.argmax(axis=0)]
            helpers["memory_sim"] = sims.max(axis=0)
            content = s.content_matrix
            liked_rows = [s.row[i] for i in memory_ids]
            csims = content @ content[liked_rows].T  # items x liked
            csims[liked_rows, np.arange(len(liked_rows))] = 0.0  # an item is not similar to itself
            X[:, 5] = np.sort(csims, axis=1)[:, -3:].mean(axis=1)
            helpers["content_seed"] = np.array(memory_ids, dtype=object)[csims.argmax(axis=1)]
        X[:, 6] = s.popularity
        X[:, 7] = s.quality
        wanted = list(dict.fromkeys(inputs.genres_all + inputs.genres_any))
        cols = [s.cat_index[g] for g in wanted if g in s.cat_index]
        if cols:
            have = s.genres[:, cols]
            X[:, 8] = np.maximum(have.mean(axis=1), have.max(axis=1) * (1.0 if not inputs.genres_all else 0.5))
            X[:, 14] = have.sum(axis=1) / np.maximum(1.0, s.genres.sum(axis=1))
        prefer = [s.cat_index[g] for g in inputs.prefer if g in s.cat_index]
        avoid = [s.cat_index[g] for g in inputs.avoid if g in s.cat_index]
        if prefer:
            X[:, 9] += s.genres[:, prefer].max(axis=1)
        if avoid:
            X[:, 9] -= s.genres[:, avoid].max(axis=1)
        if inputs.affinity:
            vec = np.zeros(len(s.categories), dtype=np.float32)
            for c, value in inputs.affinity.items():
                if c in s.cat_index:
                    vec[s.cat_index[c]] = value
            n_genres = np.maximum(1.0, s.genres.sum(axis=1))
            X[:, 10] = (s.genres @ vec) / n_genres
        X[:, 12] = s.trend
        X[:, 13] = s.recency
        for item_id, value in inputs.remembered.items():
            row = s.row.get(item_id)
            if row is not None:
                X[row, 11] = value
        return X, helpers

    # --- masks --------------------------------------------------------------------------
    def masks(self, inputs: RankInputs) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
        """(hard mask, [(name, soft filter mask)] in the order they are relaxed)."""
        s = self.signals
        hard = np.ones(len(s.items), dtype=bool)
        for item_id in inputs.exclude:
            row = s.row.get(item_id)
            if row is not None:
                hard[row] = False
        refused = [s.cat_index[g] for g in inputs.refused if g in s.cat_index]
        if refused:
            hard &= s.genres[:, refused].max(axis=1) == 0
        for combo in inputs.refused_together:
            cols = [s.cat_index[g] for g in combo if g in s.cat_index]
            if len(cols) == len(combo) and cols:
                hard &= s.genres[:, cols].min(axis=1) == 0
        filters: list[tuple[str, np.ndarray]] = []
        if inputs.like_genres:
            # "something like Toy Story" (no genre named): the named title's genres are the
            # request's — at least two of them shared (its one genre if it has one). The first
            # filter relaxed; without it, co-liking alone put Star Wars first for Toy Story.
            ok = np.zeros(len(s.items), dtype=bool)
            # "like The Lion King but for adults": children's films refused, one of the others will do;
            # "like Fargo but less violent": likewise without the genres the mood avoids
            blocked = set(inputs.refused) | set(inputs.mood_genres[1])
            for genres in inputs.like_genres:
                cols = [s.cat_index[g] for g in genres if g in s.cat_index and g not in blocked]
                need = 1 if any(g in blocked for g in genres) else min(2, len(cols))
                if cols:
                    ok |= s.genres[:, cols].sum(axis=1) >= need
            if ok.any():
                filters.append(("like the named title", ok))
            common = set.intersection(*(set(g) for g in inputs.like_genres)) - set(inputs.refused) \
                if len(inputs.like_genres) > 1 else set()
            cols = [s.cat_index[g] for g in common if g in s.cat_index]
            if cols:
                # "I liked Titanic and Jerry Maguire": what the named titles share (drama, romance)
                # is the request, relaxed first; one title's other tag (Titanic's action) is not
                both = s.genres[:, cols].sum(axis=1) >= min(2, len(cols))
                if self.weights.get("genre_focus", 0.0) > 0:  # as for asked genres: a real part of the film
                    both &= s.genres[:, cols].sum(axis=1) / np.maximum(1.0, s.genres.sum(axis=1)) >= FOCUS_MIN_SHARE
                if both.any():
                    filters.insert(len(filters) - 1, ("what the named titles share", both))
        mood_prefer, mood_avoid = ([s.cat_index[g] for g in group if g in s.cat_index]
                                   for group in inputs.mood_genres)
        if mood_prefer or mood_avoid:
            # "a tearjerker": a drama or a romance, and not a horror film; without it the mood was
            # one small term and an open request's popular films (Scream, Liar Liar) came first.
            ok = s.genres[:, mood_prefer].max(axis=1) > 0 if mood_prefer else np.ones(len(s.items), dtype=bool)
            if mood_avoid:
                ok &= s.genres[:, mood_avoid].max(axis=1) == 0
            if ok.any():
                filters.insert(0, ("mood", ok))
            if mood_prefer and self.weights.get("genre_focus", 0.0) > 0:
                # "a film to watch with my girlfriend": a romance, not Star Wars (one of its five tags)
                share = s.genres[:, mood_prefer].sum(axis=1) / np.maximum(1.0, s.genres.sum(axis=1))
                focused = ok & (share >= FOCUS_MIN_SHARE)
                if focused.any():
                    filters.insert(0, ("mood focus", focused))
        all_cols = [s.cat_index[g] for g in inputs.genres_all if g in s.cat_index]
        any_cols = [s.cat_index[g] for g in (*inputs.genres_all, *inputs.genres_any) if g in s.cat_index]
        if all_cols and len(all_cols) > 1:
            filters.append(("all-of genres", s.genres[:, all_cols].min(axis=1) > 0))
        if inputs.year_min is not None or inputs.year_max is not None:
            ok = s.years > 0
            if inputs.year_min is not None:
                ok &= s.years >= inputs.year_min
            if inputs.year_max is not None:
                ok &= s.years <= inputs.year_max
            filters.append(("era", ok))
        head = [s.cat_index[g] for g in inputs.head_genres if g in s.cat_index]
        if len(all_cols) > 1 and head:
            filters.append(("the kind of film named", s.genres[:, head].max(axis=1) > 0))
        if any_cols:
            filters.append(("genres", s.genres[:, any_cols].max(axis=1) > 0))
            near = [s.cat_index[g] for g in inputs.nearest_genres if g in s.cat_index]
            names = [name for name, _ in filters]
            if near and "era" in names:
                # the theme's genre is relaxed before the era, then its nearest genres
                filters.insert(names.index("era"), filters.pop())
                filters.append(("nearest genres", s.genres[:, any_cols + near].max(axis=1) > 0))
        if any_cols and self.weights.get("genre_focus", 0.0) > 0:
            # "a war movie": a film the asked genres are a real part of, not one of five or more tags
            # (Star Wars is Action|Adventure|Romance|Sci-Fi|War in ml-100k and came second for "a war
            # movie" and for "a date-night movie"). The first filter relaxed; only where the fitted
            # weights value genre focus (the app's, fitted on ml-100k users: +1.5). ReDial's fit gave
            # it nothing, and the filter cost its training seekers R@100 0.380 -> 0.372.
            focus = s.genres[:, any_cols].sum(axis=1) / np.maximum(1.0, s.genres.sum(axis=1))
            focused = focus >= FOCUS_MIN_SHARE
            if focused.any():
                filters.insert(0, ("genre focus", focused))
        if inputs.acclaimed and s.counts.max() > 0:
            # "the best ...": among the films rated by enough people, the best-rated tenth (relaxed
            # where the rest of the request leaves too few)
            rated = s.counts >= LESSER_KNOWN_MIN_RATINGS
            if rated.any():
                ok = rated & (s.bayes >= np.quantile(s.bayes[rated], ACCLAIMED_QUANTILE))
                filters.insert(0, ("best rated", ok))
        audience = [s.cat_index[g] for g in inputs.audience_genres if g in s.cat_index]
        if audience:
            ok = s.genres[:, audience].max(axis=1) > 0
            if ok.any():
                filters.insert(0, ("films for children", ok))
        seed_rows = [s.row[i] for i in inputs.series_seeds if i in s.row]
        if seed_rows:
            ok = np.isin(s.series_of, s.series_of[seed_rows])
            ok[seed_rows] = False
            if ok.any():
                filters.insert(0, ("the named title's series", ok))
        if inputs.tag_terms:
            ok = s.tagged(inputs.tag_terms)
            if ok.any():
                filters.insert(0, ("tagged as asked", ok))
        disliked = [s.cat_index[g] for g in inputs.disliked if g in s.cat_index]
        if disliked:
            ok = s.genres[:, disliked].max(axis=1) == 0
            if ok.any():
                filters.insert(0, ("genres you rate lowest", ok))
        if inputs.lesser_known and s.counts.max() > 0:
            # "hidden gems": outside the catalog's most rated tenth, yet rated by enough people for
            # their average to mean something; the first filter relaxed
            rated = s.counts[s.counts > 0]
            ok = (s.counts <= np.quantile(rated, LESSER_KNOWN_QUANTILE)) & (s.counts >= LESSER_KNOWN_MIN_RATINGS)
            if ok.any():
                filters.insert(0, ("lesser known", ok))
        return hard, filters

    def allowed(self, inputs: RankInputs, n: int) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
        """(items that may be shown, names of the request filters relaxed to leave at least n,
        each allowed item's tier: 0 = meets every request filter, 1 = one relaxed filter missed, ...).

        Relaxing never reorders: items meeting every filter still come first ("a western from
        the 60s" shows the 60s westerns the catalog has, then westerns of other decades)."""
        hard, filters = self.masks(inputs)
        relaxed: list[str] = []
        active = list(filters)
        tier = np.zeros(len(hard), dtype=np.int32)
        while True:  # relax from the front: all-of first, era next, genres last
            mask = hard.copy()
            for _, f in active:
                mask &= f
            if mask.sum() >= n or not active:
                for _, f in filters:
                    tier += ~f
                return mask, tuple(relaxed), tier
            relaxed.append(active.pop(0)[0])

    def era_distance(self, inputs: RankInputs) -> np.ndarray:
        """0 for items inside the request's era (or without one), else 1-3 by decades outside it:
        where the era must be relaxed ("a 60s war film" once the three the catalog has are shown),
        the 50s and 70s come before the 90s."""
        years = self.signals.years
        out = np.zeros(len(years), dtype=np.int32)
        if inputs.year_min is None and inputs.year_max is None:
            return out
        below = np.where(inputs.year_min is not None, (inputs.year_min or 0) - years, 0)
        above = np.where(inputs.year_max is not None, years - (inputs.year_max or 0), 0)
        miss = np.maximum(np.maximum(below, above), 0)
        out = np.where(miss > 0, np.minimum(3, (miss + 9) // 10), 0)
        return np.where(years > 0, out, 3).astype(np.int32)

    def rank(self, inputs: RankInputs, n: int, *, diversity: float = 0.05) -> list[Ranked]:
        s = self.signals
        X, helpers = self.features(inputs)
        scores = self.score(X)
        mask, relaxed, tier = self.allowed(inputs, n)
        tier = tier * 10 + self.era_distance(inputs)  # tiers first; within one, the nearer era first
        order = np.lexsort((-np.where(mask, scores, -np.inf), tier))
        candidates = [int(r) for r in order[mask[order]][:n * 3 + 50]]
        matrix = s.catalog.matrix
        cand_vecs = matrix[candidates]
        max_sim = np.zeros(len(candidates), dtype=np.float32)
        alive = np.ones(len(candidates), dtype=bool)
        base = scores[candidates] - 1000.0 * tier[candidates]  # tiers first, then score
        chosen: list[int] = []
        seen_keys: set[int] = set()
        per_series: dict[int, int] = {}
        held: list[int] = []  # a series' third film and later, after the first SERIES_CAP_DEPTH picks
        while alive.any() and len(chosen) < n:
            adjusted = np.where(alive, base - diversity * max_sim, -np.inf)
            k = int(np.argmax(adjusted))
            alive[k] = False
            row = candidates[k]
            key = int(s.duplicate_of[row])
            if key in seen_keys or max_sim[k] >= DUPLICATE_SIMILARITY:
                continue  # the same film listed twice in the catalog
            series = int(s.series_of[row])
            if len(chosen) < SERIES_CAP_DEPTH and per_series.get(series, 0) >= SERIES_CAP:
                held.append(k)  # three Star Trek films in a list of five is one suggestion, thrice
                continue
            seen_keys.add(key)
            per_series[series] = per_series.get(series, 0) + 1
            chosen.append(row)
            max_sim = np.maximum(max_sim, cand_vecs @ matrix[row])
            if len(chosen) == SERIES_CAP_DEPTH and held:
                alive[held] = True  # back in the running below the first picks
                held = []
        for k in held:  # too few others: the held films rather than a short list
            key = int(s.duplicate_of[candidates[k]])
            if len(chosen) < n and key not in seen_keys:
                seen_keys.add(key)
                chosen.append(candidates[k])
        results = []
        for row in chosen:
            feats = {f: float(X[row, k]) for k, f in enumerate(FEATURES)}
            seed = helpers["seed"][row] if "seed" in helpers and X[row, 3] > 0 else None
            memory_seed = helpers["memory_seed"][row] if "memory_seed" in helpers and helpers["memory_sim"][row] > 0 \
                else None
            if memory_seed is None and "content_seed" in helpers:
                memory_seed = helpers["content_seed"][row]
            results.append(Ranked(s.items[row], float(scores[row]), feats, seed, memory_seed, relaxed))
        return results
