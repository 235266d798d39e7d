"""Ranking metrics of the benchmark (Recall@K, NDCG@K) and bootstrap confidence intervals.

Relevance is binary, as in the paper (§4): an item is relevant if it is one of the case's
ground-truth items. Each metric has a per-case reference function, written to be read against its
formula, and a vectorised version over many cases (`hit_matrix` + `*_batch`) that the evaluator
uses; tests/test_metrics.py checks the two agree on random inputs (the LightFM habit).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant items found in the top k.

        Recall@K = |top-K(ranked) ∩ relevant| / |relevant|      (0 when nothing is relevant)

    Duplicate ids in `ranked` count once.

    >>> recall_at_k(["a", "b", "c"], {"a", "c", "z"}, 2)
    0.3333333333333333
    >>> recall_at_k(["a", "b", "c"], {"a", "c"}, 3)
    1.0
    >>> recall_at_k(["a"], set(), 10)
    0.0
    """
    if not relevant or k <= 0:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Normalised discounted cumulative gain with binary relevance.

        DCG@K  = Σ_{i=1..K} rel_i / log2(i + 1)       rel_i = 1 if the i-th item is relevant
        IDCG@K = Σ_{i=1..min(|relevant|, K)} 1 / log2(i + 1)
        NDCG@K = DCG@K / IDCG@K                       (0 when nothing is relevant)

    A relevant id repeated in `ranked` is credited only at its first position.

    >>> ndcg_at_k(["a", "b"], {"a"}, 10)
    1.0
    >>> round(ndcg_at_k(["x", "a"], {"a"}, 10), 4)   # 1 / log2(3)
    0.6309
    >>> round(ndcg_at_k(["x", "a", "b"], {"a", "b"}, 3), 4)   # (1/log2 3 + 1/log2 4) / (1 + 1/log2 3)
    0.6934
    >>> ndcg_at_k(["x", "a"], {"a"}, 1)
    0.0
    """
    if not relevant or k <= 0:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for position, item in enumerate(ranked[:k], start=1):
        if item in relevant and item not in seen:
            dcg += 1.0 / math.log2(position + 1)
        seen.add(item)
    ideal = sum(1.0 / math.log2(position + 1) for position in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


# --- vectorised over many cases --------------------------------------------------------------

def hit_matrix(rankings: Sequence[Sequence[str]], relevants: Sequence[set[str]], depth: int) -> np.ndarray:
    """Boolean (n_cases, depth) matrix: is the item at each rank a first hit of a relevant item?

    Rankings shorter than `depth` are padded with misses; a repeated relevant id is a hit only
    at its first position (so the batch metrics match the reference functions exactly).
    """
    hits = np.zeros((len(rankings), depth), dtype=bool)
    for row, (ranked, relevant) in enumerate(zip(rankings, relevants)):
        seen: set[str] = set()
        for position, item in enumerate(ranked[:depth]):
            if item in relevant and item not in seen:
                hits[row, position] = True
            seen.add(item)
    return hits


def recall_at_k_batch(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Recall@K per case from a `hit_matrix` and the number of relevant items per case."""
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    found = hits[:, :k].sum(axis=1)
    return np.divide(found, n_relevant, out=np.zeros(len(hits)), where=n_relevant > 0)


def ndcg_at_k_batch(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """NDCG@K per case from a `hit_matrix` (binary relevance; formula in `ndcg_at_k`)."""
    n_relevant = np.asarray(n_relevant, dtype=np.int64)
    k = min(k, hits.shape[1])
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits[:, :k].astype(np.float64) @ discounts
    ideal_cumulative = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = ideal_cumulative[np.minimum(n_relevant, k)]
    return np.divide(dcg, idcg, out=np.zeros(len(hits)), where=idcg > 0)


def metric_table(rankings: Sequence[Sequence[str]], relevants: Sequence[set[str]],
                 ks: Sequence[int] = (10, 50, 100)) -> dict[str, np.ndarray]:
    """Per-case values of Recall@K and NDCG@K for every K, keyed "recall@10", "ndcg@10", ..."""
    hits = hit_matrix(rankings, relevants, max(ks))
    n_relevant = np.array([len(r) for r in relevants])
    table: dict[str, np.ndarray] = {}
    for k in ks:
        table[f"recall@{k}"] = recall_at_k_batch(hits, n_relevant, k)
        table[f"ndcg@{k}"] = ndcg_at_k_batch(hits, n_relevant, k)
    return table


# --- uncertainty ------------------------------------------------------------------------------

def bootstrap_ci(values: Sequence[float], n: int = 1000, seed: int = 0,
                 confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the mean and its percentile-bootstrap confidence interval over cases.

    Cases are resampled with replacement `n` times; the interval is the central `confidence`
    share of the resampled means. Deterministic for a given seed.

    >>> bootstrap_ci([1.0, 1.0, 1.0])
    (1.0, 1.0, 1.0)
    >>> mean, low, high = bootstrap_ci([0.0, 1.0] * 50, seed=1)
    >>> mean, low < 0.5 < high
    (0.5, True)
    """
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return (float("nan"), float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(n, data.size))].mean(axis=1)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(data.mean()), float(low), float(high))


def paired_bootstrap_diff(a: Sequence[float], b: Sequence[float], n: int = 1000, seed: int = 0,
                          confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean of a - b, low, high) with cases resampled jointly, for two systems on the same cases.

    Pairing removes the between-case variance that makes two unpaired intervals overlap even
    when one system wins on nearly every case.

    >>> paired_bootstrap_diff([1.0, 0.5], [0.5, 0.0])
    (0.5, 0.5, 0.5)
    """
    a_values, b_values = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a_values.shape != b_values.shape:
        raise ValueError(f"Paired values need the same cases: {a_values.shape} vs {b_values.shape}.")
    return bootstrap_ci(a_values - b_values, n=n, seed=seed, confidence=confidence)


def clustered_paired_bootstrap_diff(a: Sequence[float], b: Sequence[float], clusters: Sequence[str],
                                    n: int = 1000, seed: int = 0,
                                    confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean of a - b over cases, low, high) resampling whole clusters (e.g. ReDial seekers).

    Cases of one seeker are not independent (the same tastes, often the same films); with few
    seekers, resampling cases understates the uncertainty. Each bootstrap draw takes as many
    seekers as there are, with replacement, and averages the differences over all their cases.

    >>> clustered_paired_bootstrap_diff([1.0, 1.0, 0.0], [0.0, 0.0, 0.0], ["x", "x", "y"])[0]
    0.6666666666666666
    >>> clustered_paired_bootstrap_diff([1.0, 0.0], [0.0, 0.0], ["x", "x"])
    (0.5, 0.5, 0.5)
    """
    diffs = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if diffs.shape != (len(clusters),):
        raise ValueError(f"One cluster per case: {diffs.shape} vs {len(clusters)}.")
    if diffs.size == 0:
        return (float("nan"), float("nan"), float("nan"))
    names = sorted(set(clusters))
    index = {name: k for k, name in enumerate(names)}
    member = np.array([index[c] for c in clusters])
    sums = np.bincount(member, weights=diffs, minlength=len(names))
    counts = np.bincount(member, minlength=len(names)).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(n, len(names)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(diffs.mean()), float(low), float(high))
