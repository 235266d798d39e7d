"""Tests for mrrec_lab.eval.metrics: hand-computed tiny cases, and batch vs reference on random data.

The random check follows LightFM's evaluation tests: the fast vectorised metric must equal a
plain per-case reference implementation on many random rankings, edge cases included.
"""

from __future__ import annotations

import doctest
import math
import random

import numpy as np
import pytest

from mrrec_lab.eval import metrics
from mrrec_lab.eval.metrics import (
    bootstrap_ci,
    hit_matrix,
    metric_table,
    ndcg_at_k,
    ndcg_at_k_batch,
    paired_bootstrap_diff,
    recall_at_k,
    recall_at_k_batch,
)


def test_docstring_examples_hold() -> None:
    failures, _ = doctest.testmod(metrics)
    assert failures == 0


def test_recall_counts_hits_in_top_k_over_all_relevant() -> None:
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"b", "d"}, 1) == 0.0
    assert recall_at_k(ranked, {"b", "d"}, 2) == 0.5
    assert recall_at_k(ranked, {"b", "d"}, 4) == 1.0
    # A relevant item outside the catalog ranking can never be found: recall stays below 1.
    assert recall_at_k(ranked, {"b", "zz"}, 100) == 0.5


def test_ndcg_by_hand() -> None:
    # Hit at rank 3 only, one relevant item: DCG = 1/log2(4) = 0.5, IDCG = 1.
    assert ndcg_at_k(["x", "y", "a"], {"a"}, 10) == pytest.approx(0.5)
    # Two relevant, hits at ranks 1 and 4: DCG = 1 + 1/log2(5); IDCG = 1 + 1/log2(3).
    expected = (1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["a", "x", "y", "b"], {"a", "b"}, 10) == pytest.approx(expected)
    # Ideal DCG uses min(|relevant|, k) positions: three relevant, k = 2, perfect top 2 -> 1.
    assert ndcg_at_k(["a", "b", "x"], {"a", "b", "c"}, 2) == pytest.approx(1.0)


def test_repeated_relevant_id_counts_once() -> None:
    assert recall_at_k(["a", "a", "b"], {"a", "b"}, 2) == 0.5
    assert ndcg_at_k(["a", "a"], {"a", "b"}, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_empty_relevant_or_zero_k_scores_zero() -> None:
    assert recall_at_k(["a"], set(), 5) == 0.0
    assert ndcg_at_k(["a"], set(), 5) == 0.0
    assert recall_at_k(["a"], {"a"}, 0) == 0.0
    assert ndcg_at_k(["a"], {"a"}, 0) == 0.0


def test_hit_matrix_by_hand() -> None:
    hits = hit_matrix([["a", "b", "a"], ["x"]], [{"a"}, {"x", "y"}], depth=4)
    assert hits.tolist() == [[True, False, False, False], [True, False, False, False]]
    assert recall_at_k_batch(hits, np.array([1, 2]), 4).tolist() == [1.0, 0.5]


def test_batch_metrics_match_reference_on_random_rankings() -> None:
    rng = random.Random(7)
    catalog = [f"i{n}" for n in range(60)]
    rankings, relevants = [], []
    for _ in range(400):
        length = rng.randint(0, 40)
        # With replacement, so repeated ids occur; short rankings exercise the padding.
        rankings.append([rng.choice(catalog) for _ in range(length)])
        relevants.append(set(rng.sample(catalog, rng.randint(0, 8))))
    depth = 30
    hits = hit_matrix(rankings, relevants, depth)
    n_relevant = np.array([len(r) for r in relevants])
    for k in (1, 3, 10, 30):
        fast_recall = recall_at_k_batch(hits, n_relevant, k)
        fast_ndcg = ndcg_at_k_batch(hits, n_relevant, k)
        for row, (ranked, relevant) in enumerate(zip(rankings, relevants)):
            assert fast_recall[row] == pytest.approx(recall_at_k(ranked, relevant, k))
            assert fast_ndcg[row] == pytest.approx(ndcg_at_k(ranked, relevant, k))


def test_metric_table_keys_and_values() -> None:
    table = metric_table([["a", "b"], ["c"]], [{"b"}, {"z"}], ks=(1, 2))
    assert set(table) == {"recall@1", "ndcg@1", "recall@2", "ndcg@2"}
    assert table["recall@1"].tolist() == [0.0, 0.0]
    assert table["recall@2"].tolist() == [1.0, 0.0]
    assert table["ndcg@2"][0] == pytest.approx(1 / math.log2(3))


def test_bootstrap_interval_contains_mean_and_is_reproducible() -> None:
    values = np.random.default_rng(3).random(200)
    mean, low, high = bootstrap_ci(values, n=500, seed=11)
    assert low <= mean <= high
    assert mean == pytest.approx(values.mean())
    assert bootstrap_ci(values, n=500, seed=11) == (mean, low, high)
    # About 1.96 standard errors each side for a 95% interval.
    stderr = values.std() / np.sqrt(len(values))
    assert (high - low) == pytest.approx(2 * 1.96 * stderr, rel=0.25)


def test_bootstrap_of_nothing_is_nan() -> None:
    assert all(math.isnan(x) for x in bootstrap_ci([]))


def test_paired_difference_detects_consistent_win() -> None:
    base = np.random.default_rng(5).random(100)
    better = base + 0.01  # wins on every case by a hair; unpaired intervals would overlap
    diff, low, high = paired_bootstrap_diff(better, base)
    assert diff == pytest.approx(0.01)
    assert low > 0
    with pytest.raises(ValueError):
        paired_bootstrap_diff([1.0], [1.0, 2.0])


def test_resampling_users_widens_the_interval_when_their_cases_agree() -> None:
    """Four users with 25 identical cases each: resampling cases pretends there are 100
    independent cases; resampling users sees only four, so its interval is wider."""
    diffs = [0.4] * 25 + [0.0] * 25 + [-0.1] * 25 + [0.1] * 25
    users = ["a"] * 25 + ["b"] * 25 + ["c"] * 25 + ["d"] * 25
    zeros = [0.0] * 100
    mean, low, high = paired_bootstrap_diff(diffs, zeros)
    c_mean, c_low, c_high = metrics.clustered_paired_bootstrap_diff(diffs, zeros, users)
    assert c_mean == pytest.approx(mean) == pytest.approx(0.1)
    assert c_high - c_low > 2 * (high - low)
    with pytest.raises(ValueError):
        metrics.clustered_paired_bootstrap_diff(diffs, zeros, users[:-1])
