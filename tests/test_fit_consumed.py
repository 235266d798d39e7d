"""The consumption fit (mrrec_lab/fit_consumed.py) and the hook that picks its weights.

Pure: a hand-made catalog with hand-made vectors, no embedder, no store."""

from __future__ import annotations

import json

import numpy as np

from mrrec_chat.data.schema import Dataset, Interaction, Item
from mrrec_chat.recommend import CONSUMED_WEIGHTS_FILE, Recommender, load_consumed_weights
from mrrec_chat.recommend.policy import plan_turn
from mrrec_chat.recommend.ranker import FEATURES, WEIGHTS_FILE, CatalogSignals, load_weights
from mrrec_chat.recommend.request import understand
from mrrec_lab import fit_consumed as fc
from mrrec_lab.fit_fusion import coordinate_ascent, objective

GENRES = ["Action", "Animation", "Children's", "Comedy", "Crime", "Drama"]
ITEMS = {i.item_id: i for i in [
    Item("1", "Heat", ("Action", "Crime"), 1995), Item("2", "Casino", ("Crime", "Drama"), 1995),
    Item("3", "Dumbo", ("Animation", "Children's"), 1941), Item("4", "Big", ("Comedy",), 1988),
    Item("5", "Fargo", ("Comedy", "Crime"), 1996), Item("6", "Pinocchio", ("Animation", "Children's"), 1940),
    Item("7", "Airplane!", ("Comedy",), 1980), Item("8", "Ran", ("Drama",), 1985)]}


def _dataset():
    """Three users with 6 ratings each at increasing times; the last two are each user's future."""
    plan = {"u1": [("1", 5), ("2", 4), ("3", 2), ("4", 5), ("5", 5), ("6", 4)],
            "u2": [("6", 5), ("3", 5), ("7", 3), ("8", 4), ("1", 5), ("2", 2)],
            "u3": [("4", 4), ("7", 5), ("5", 4), ("1", 3), ("3", 4), ("8", 5)]}
    inter = [Interaction(u, i, float(r), timestamp=1000.0 * n + k)
             for k, (u, rows) in enumerate(plan.items()) for n, (i, r) in enumerate(rows)]
    return Dataset("unit", dict(ITEMS), inter)


class _Catalog:  # what the ranker reads of retrieval.CatalogIndex
    def __init__(self, dataset):
        self.item_ids = sorted(dataset.items)
        rng = np.random.default_rng(0)
        self.matrix = rng.normal(size=(len(self.item_ids), 8)).astype(np.float32)
        self.matrix /= np.linalg.norm(self.matrix, axis=1, keepdims=True)


# --- the protocol: users, time, no leakage ------------------------------------------------------

def test_user_split_is_seeded_disjoint_and_covers_everyone():
    users = [str(n) for n in range(1, 101)]
    train, held = fc.split_users(users, seed=0, held_out=0.2)
    assert len(held) == 20 and len(train) == 80 and not set(train) & set(held)
    assert set(train) | set(held) == set(users)
    assert fc.split_users(users, seed=0, held_out=0.2) == (train, held)
    assert fc.split_users(users, seed=1, held_out=0.2)[1] != held


def test_future_ratings_are_absent_from_the_dataset_the_signals_are_built_from():
    dataset = _dataset()
    past_dataset, past, future = fc.temporal_split(dataset, future=2)
    for user, rows in future.items():
        assert len(rows) == 2
        # the future is the *latest* ratings
        assert min(i.timestamp for i in rows) > max(i.timestamp for i in past[user])
    future_keys = {(i.user_id, i.item_id) for rows in future.values() for i in rows}
    past_keys = {(i.user_id, i.item_id) for i in past_dataset.interactions}
    assert future_keys and not future_keys & past_keys
    assert len(past_keys) + len(future_keys) == len(dataset.interactions)
    signals = CatalogSignals(past_dataset, _Catalog(past_dataset))
    assert not {(i.user_id, i.item_id) for i in signals.dataset.interactions} & future_keys
    # Item "6": rated by u1 only in their future, by u2 in the past -> one rating left.
    assert signals.counts[signals.row["6"]] == 1
    # Item "8": u2's past like; u3's like is in the future -> liked by one user only.
    assert signals.liked_counts[signals.row["8"]] == 1


def test_random_split_is_seeded_and_keeps_the_future_out_of_the_signals():
    dataset = _dataset()
    past_dataset, past, future = fc.random_split(dataset, future=2, seed=0)
    again = fc.random_split(dataset, future=2, seed=0)[2]
    assert {u: [i.item_id for i in r] for u, r in future.items()} == {u: [i.item_id for i in r] for u, r in again.items()}
    for user, rows in future.items():
        assert len(rows) == 2 and len(past[user]) == 4
        assert not {i.item_id for i in rows} & {i.item_id for i in past[user]}
    future_keys = {(i.user_id, i.item_id) for rows in future.values() for i in rows}
    assert not future_keys & {(i.user_id, i.item_id) for i in past_dataset.interactions}
    assert len(past_dataset.interactions) + len(future_keys) == len(dataset.interactions)


def test_cases_truth_is_liked_future_and_the_genre_request_keeps_its_genre():
    dataset = _dataset()
    _, _, future = fc.temporal_split(dataset, future=2)
    cases, skipped = fc.build_cases(["u1", "u2", "u3"], future, dataset, lambda g: g in GENRES, seed=0)
    by_id = {c.case_id: c for c in cases}
    assert by_id["u1:open"].ground_truth == ("5", "6")  # both rated >= 4
    assert by_id["u2:open"].ground_truth == ("1",)  # "2" was rated 2
    genre = by_id["u1:genre"]
    assert genre.genre in {"Comedy", "Crime", "Animation", "Children's"}
    assert genre.ground_truth and all(genre.genre in ITEMS[i].categories for i in genre.ground_truth)
    assert genre.request == f"a good {genre.genre} film"
    assert skipped == {"no_future": 0, "no_liked_future": 0}
    assert not any(c.kind == "like" for c in cases)  # only given the past and a title finder
    _, past, _ = fc.temporal_split(dataset, future=2)
    named = []
    cases, _ = fc.build_cases(["u1", "u2", "u3"], future, dataset, lambda g: g in GENRES, seed=0, past=past,
                              names_title=lambda text, item: named.append((text, item)) or item != "7")
    like = {c.user_id: c for c in cases if c.kind == "like"}
    assert named[0] == ("something like Big", "4")  # u1's most recent past 5-star rating
    assert like["u1"].request == "something like Big" and like["u1"].ground_truth == ("5", "6")
    assert "u2" in like and "u3" not in like  # u3's loved past film is not found by the title finder


class _Assistant:
    """What PlanContext reads of a started Assistant."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.recommender = Recommender(dataset, _Catalog(dataset), embedder=None)
        self.store = type("Store", (), {"embedder": None})()

    def extract_statements(self, text):
        return []


def test_the_policy_is_the_apps_over_past_ratings_only():
    dataset = _dataset()
    past_dataset, past, _ = fc.temporal_split(dataset, future=2)
    ctx = fc.PlanContext(_Assistant(past_dataset), past, max_records=200)
    policy = ctx.plan(fc.Case("u1:open", "u1", "open", fc.OPEN_REQUEST, ("5", "6")))
    assert policy.rated_is_consumed and policy.remembered == {}
    assert policy.exclude == {"1", "2", "3", "4"}  # the past, consumed; the future stays allowed
    assert set(policy.memory_seeds) == {"1", "2", "4"}  # past likes (>= 4) only
    assert all(e.extra["item_id"] in {"1", "2", "3", "4"} for e in ctx.memory("u1"))


# --- the hook: consumption weights for the app, mention weights for ReDial ----------------------

def test_the_recommender_ranks_with_the_weights_of_the_policys_kind_of_memory():
    dataset = _dataset()
    only = lambda f: {**{k: 0.0 for k in FEATURES}, f: 1.0}
    recommender = Recommender(dataset, _Catalog(dataset), embedder=None,
                              weights=only("quality"), consumed_weights=only("popularity"))
    request = understand("a film", categories=GENRES)
    app = recommender.plan(request, [])
    redial = recommender.plan(request, [], rated_is_consumed=False)
    assert app.rated_is_consumed and not redial.rated_is_consumed
    assert recommender.ranker_for(app) is recommender.consumed_ranker
    assert recommender.ranker_for(redial) is recommender.ranker
    vector = np.zeros(8, np.float32)
    signals = recommender.signals
    top_app = recommender.rank(app, vector, 1)[0].item.item_id
    top_redial = recommender.rank(redial, vector, 1)[0].item.item_id
    assert signals.popularity[signals.row[top_app]] == signals.popularity.max()
    assert signals.quality[signals.row[top_redial]] == signals.quality.max()
    assert top_app != top_redial  # the two weightings disagree here, so the choice shows
    # plan_turn records the kind of memory itself
    assert plan_turn(request, [], categories=GENRES).rated_is_consumed
    assert not plan_turn(request, [], categories=GENRES, rated_is_consumed=False).rated_is_consumed


def test_default_weights_come_from_the_two_files_and_a_missing_consumed_file_falls_back(tmp_path, monkeypatch):
    from mrrec_chat import recommend

    dataset = _dataset()
    recommender = Recommender(dataset, _Catalog(dataset), embedder=None)
    assert recommender.ranker.weights == load_weights(WEIGHTS_FILE)
    assert recommender.consumed_ranker.weights == load_weights(WEIGHTS_FILE)  # not the catalog it was fitted on
    if CONSUMED_WEIGHTS_FILE.exists():
        from mrrec_chat.data.schema import Dataset

        ml = Dataset("ml-100k", dataset.items, dataset.interactions)
        on_ml = Recommender(ml, _Catalog(ml), embedder=None)
        assert on_ml.consumed_ranker.weights == load_consumed_weights() != load_weights(WEIGHTS_FILE)
    assert load_consumed_weights(tmp_path / "absent.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("not json")
    assert load_consumed_weights(broken) is None
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"weights": {"sem_request": 1.0, "affinity": 7.0}}))
    assert load_consumed_weights(good)["affinity"] == 7.0
    # Fitted on another catalog: not used for this one.
    assert load_consumed_weights(CONSUMED_WEIGHTS_FILE, dataset_name="products") is None
    if CONSUMED_WEIGHTS_FILE.exists():
        assert load_consumed_weights(CONSUMED_WEIGHTS_FILE, dataset_name="ml-100k") is not None
    # Without the file (or on another catalog), a memory of consumption is ranked by fusion.json's
    # linear weights, without its trees (fitted on ReDial's memory of mentions).
    monkeypatch.setattr(recommend, "load_consumed_weights", lambda **kw: None)
    fallback = Recommender(dataset, _Catalog(dataset), embedder=None)
    assert fallback.consumed_ranker.weights == load_weights(WEIGHTS_FILE) and fallback.consumed_ranker.trees is None
    assert fallback.ranker_for(fallback.plan(understand("a film", categories=GENRES), [])) is fallback.consumed_ranker
    # Explicit weights alone are used for both kinds of memory.
    w = {f: 0.5 for f in FEATURES}
    explicit = Recommender(dataset, _Catalog(dataset), embedder=None, weights=w)
    assert explicit.ranker.weights == w and explicit.consumed_ranker.weights == w


def test_the_shipped_consumed_weights_file_loads_completely():
    if not CONSUMED_WEIGHTS_FILE.exists():
        return  # the fallback is tested above
    data = json.loads(CONSUMED_WEIGHTS_FILE.read_text(encoding="utf-8"))
    assert set(data["weights"]) == set(FEATURES)
    assert load_consumed_weights() == {**{f: 0.0 for f in FEATURES},
                                       **{f: float(v) for f, v in data["weights"].items()}}
    assert data["data"]["training_users"] > data["data"]["held_out_users"] > 0


# --- the fit ------------------------------------------------------------------------------------

def _toy_cases(n_users=40, seed=0):
    """Per case ~60 candidates; the truth is the items with high feature 'affinity', which the start
    weights (popularity only) ignore."""
    rng = np.random.default_rng(seed)
    k_aff, k_pop = FEATURES.index("affinity"), FEATURES.index("popularity")
    per_case, cases = [], []
    for u in range(n_users):
        X = np.zeros((60, len(FEATURES)), np.float32)
        X[:, k_pop] = rng.random(60)
        X[:, k_aff] = rng.random(60)
        truth = X[:, k_aff] > 0.85
        per_case.append((X, truth, int(truth.sum()), np.zeros(60, np.float32)))
        cases.append(fc.Case(f"{u}:open", str(u), "open", fc.OPEN_REQUEST, ()))
    return per_case, cases


def test_coordinate_ascent_improves_a_toy_objective_and_cv_sees_it():
    per_case, cases = _toy_cases()
    w0 = fc.vec({"sem_request": 1.0, "popularity": 1.0})
    fitted = [FEATURES.index(f) for f in ("sem_request", "popularity", "affinity")]
    w = coordinate_ascent(per_case, w0, fitted, passes=2)
    assert objective(per_case, w)[0] > objective(per_case, w0)[0] + 0.2
    assert w[FEATURES.index("affinity")] > 0
    cv = fc.cross_validate(per_case, cases, {"start": w0}, {"start as is": w0}, fitted, k=4, passes=2)
    assert cv["fitted from start"]["ndcg10"] > cv["start as is"]["ndcg10"] + 0.2
    scores = fc.scores(per_case, cases, w)
    assert 0 < scores["ndcg10"] <= 1 and scores["ndcg10_open"] == scores["ndcg10"]


def test_the_one_se_rule_raises_a_weight_only_while_the_fit_stays_within_one_standard_error():
    per_case, cases = _toy_cases(n_users=60)
    k_aff, k_pop = FEATURES.index("affinity"), FEATURES.index("popularity")
    rng = np.random.default_rng(1)
    noisy = []  # affinity finds the truth only roughly, so users' scores spread
    for X, _, _, extra in per_case:
        truth = X[:, k_aff] + 0.6 * rng.random(len(X)) > 1.2
        noisy.append((X, truth, max(1, int(truth.sum())), extra))
    per_case = noisy
    w = fc.vec({"affinity": 1.0})
    # popularity is noise here: a little of it costs less than a standard error, much of it more
    raised, report = fc.raise_within_one_se(per_case, cases, w, k_pop)
    base = fc.per_user_objective(per_case, cases, w)
    assert 0 < raised[k_pop] < 2.0 and report["chosen"] == raised[k_pop]
    assert fc.per_user_objective(per_case, cases, raised).mean() >= base.mean() - report["one_se"]
    beyond = raised.copy()
    beyond[k_pop] = min(g for g in fc.ONE_SE_GRID if g > raised[k_pop])
    assert fc.per_user_objective(per_case, cases, beyond).mean() < base.mean() - report["one_se"]
    assert raised[k_aff] == 1.0
