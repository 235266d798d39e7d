"""The fusion fit's pieces that decide what generalises: seeker weighting and seeker folds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mrrec_chat.recommend.ranker import FEATURES, tree_scores
from mrrec_lab.fit_fusion import (
    coordinate_ascent,
    cross_validate,
    objective,
    seeker_folds,
    seeker_weights,
    trees_from_lightgbm,
)


def _cases(counts):
    return [SimpleNamespace(user_id=u, case_id=f"{u}-{n}") for u, k in counts.items() for n in range(k)]


def test_each_seeker_weighs_the_same_however_many_cases_they_have():
    cases = _cases({"a": 8, "b": 1, "c": 3})
    w = seeker_weights(cases)
    totals = {u: sum(x for x, c in zip(w, cases) if c.user_id == u) for u in "abc"}
    assert np.allclose(list(totals.values()), totals["a"]) and np.isclose(w.sum(), len(cases))


def test_folds_never_split_a_seeker_and_cover_every_case():
    cases = _cases({f"s{n}": n % 4 + 1 for n in range(11)})
    folds = seeker_folds(cases, 5)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(cases)))
    for fold in folds:
        inside = {cases[i].user_id for i in fold}
        assert all(cases[i].user_id not in inside for other in folds if other is not fold for i in other)


def test_objective_weights_cases():
    # Case 1 is ranked perfectly by feature 0, case 2 not at all: weighting moves the mean.
    hit = (np.array([[1.0], [0.0]], np.float32), np.array([True, False]), 1, np.zeros(2, np.float32))
    miss = (np.array([[1.0], [0.0]], np.float32), np.array([False, False]), 1, np.zeros(2, np.float32))
    w = np.array([1.0], np.float32)
    assert np.isclose(objective([hit, miss], w)[1], 0.5)
    assert np.isclose(objective([hit, miss], w, np.array([3.0, 1.0]))[1], 0.75)


def test_repeated_folds_deal_seekers_differently_and_still_never_split_one():
    cases = _cases({f"s{n}": n % 4 + 1 for n in range(20)})
    first, second = seeker_folds(cases, 5, 0), seeker_folds(cases, 5, 1)
    assert sorted(np.concatenate(second).tolist()) == list(range(len(cases)))
    assert [f.tolist() for f in first] != [f.tolist() for f in second]
    for fold in second:
        inside = {cases[i].user_id for i in fold}
        assert all(cases[i].user_id not in inside for other in second if other is not fold for i in other)


def _toy(n_cases=12, seed=0):
    """Cases where feature 1 (sem_desc) finds the truth and feature 0 (sem_request) is noise."""
    rng = np.random.default_rng(seed)
    per_case = []
    for _ in range(n_cases):
        X = rng.normal(size=(40, len(FEATURES))).astype(np.float32) * 0.1
        truth = np.zeros(40, bool)
        truth[:2] = True
        X[:2, 1] += 1.0
        per_case.append((X, truth, 2, np.zeros(40, np.float32)))
    return per_case


def test_coordinate_ascent_finds_the_signal_and_a_penalty_or_a_limit_holds_it_back():
    per_case = _toy()
    w0 = np.zeros(len(FEATURES), np.float32)
    w0[0] = 1.0
    free = coordinate_ascent(per_case, w0, [1], passes=2)
    assert free[1] > 0.3 and objective(per_case, free)[1] > objective(per_case, w0)[1]
    capped = coordinate_ascent(per_case, w0, [1], passes=2, limits={1: 0.3})
    assert abs(capped[1]) <= 0.3
    held = coordinate_ascent(per_case, w0, [1], passes=2, prior=w0, penalty=100.0, scales=np.ones(len(FEATURES)))
    assert held[1] == 0.0  # no departure from the prior pays for itself at this price


def test_a_nonnegative_feature_never_gets_a_negative_weight():
    per_case = [(-X, truth, k, extra) for X, truth, k, extra in _toy()]  # feature 1 now points away
    w0 = np.zeros(len(FEATURES), np.float32)
    w0[0], w0[1] = 1.0, 0.5
    free = coordinate_ascent(per_case, w0, [1], passes=2)
    assert free[1] < 0  # unconstrained, the fit turns the weight around
    kept = coordinate_ascent(per_case, w0, [1], passes=2, nonnegative={1})
    assert kept[1] == 0.0


def test_cross_validate_scores_every_case_on_folds_that_did_not_fit_it():
    per_case = _toy()
    cases = _cases({f"s{n}": 2 for n in range(6)})
    seen = []

    def fit(subset):
        seen.append(set(subset))
        w = np.zeros(len(FEATURES), np.float32)
        w[1] = 1.0
        return w

    cv = cross_validate(per_case, cases, fit, 3, repeats=2)
    assert len(seen) == 6 and all(len(s) == 8 for s in seen)
    assert cv["ndcg10"] == cv["ndcg10_per_seeker"] == 1.0 and cv["repeats"] == 2


def test_lightgbm_trees_in_the_rankers_form_score_as_lightgbm_does():
    lightgbm = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, len(FEATURES))).astype(np.float32)
    y = (X[:, 3] + 0.5 * X[:, 6] > 0.8).astype(int)
    data = lightgbm.Dataset(X, y, group=[60] * 10, feature_name=list(FEATURES))
    model = lightgbm.train({"objective": "lambdarank", "num_leaves": 3, "min_data_in_leaf": 20, "verbose": -1},
                           data, 20)
    trees = trees_from_lightgbm(model)
    assert len(trees) == 20
    assert np.allclose(tree_scores(trees, X), model.predict(X), atol=1e-5)


def test_the_feature_cache_is_not_reused_after_the_product_code_changes(tmp_path, monkeypatch):
    """Before, the cache was keyed by the feature names and cases only: a refit after a change of
    request understanding silently fitted the old features."""
    from mrrec_lab.eval import systems
    from mrrec_lab.fit_fusion import cached_features

    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cached_features(tmp_path, ["cases"], compute) == 1
    assert cached_features(tmp_path, ["cases"], compute) == 1  # same code, same cases: reused
    monkeypatch.setattr(systems, "_CODE_DIGEST", ["another-code"])
    assert cached_features(tmp_path, ["cases"], compute) == 2  # other code: computed again


@pytest.mark.parametrize("flag", ["--drop", "--nonnegative"])
def test_an_unknown_feature_name_is_refused_before_any_data_is_read(flag):
    from mrrec_lab.fit_fusion import main

    with pytest.raises(SystemExit, match="unknown features"):
        main(["--redial", "/nonexistent.jsonl", "--movielens", "/nonexistent", flag, "afinity"])
