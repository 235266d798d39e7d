"""The fusion fit's pieces that decide what generalises: seeker weighting and seeker folds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from mrrec_lab.fit_fusion import objective, seeker_folds, seeker_weights


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
