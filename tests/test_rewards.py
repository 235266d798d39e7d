"""Tests for mrrec_lab.train.rewards: hand-computed cases and a naive NDCG reference on random data."""

from __future__ import annotations

import doctest
import math
import random

import pytest

from mrrec_lab.train import rewards
from mrrec_lab.train.rewards import (answer_json, format_reward, memory_reward, ndcg_from_ranks,
                                      recommendation_reward, total_reward)

GOOD = '{"ideal_item_profile": "A 1990s crime thriller with a heist", "useful_memory_ids": ["b:ml:u1:6"]}'


def test_docstring_examples_hold() -> None:
    failures, _ = doctest.testmod(rewards)
    assert failures == 0


@pytest.mark.parametrize("text, expected", [
    (f"<think>they like crime</think>\n<search>liked crime movies</search>\n<memory>\n[b:ml:u1:6] (behavior) "
     f"Rated Heat 5/5.\n</memory>\n<answer>{GOOD}</answer>", 1.0),
    (f"<answer>{GOOD}</answer><|im_end|>", 1.0),           # trailing end token after the closing tag
    (f"<answer>{GOOD}", 1.0),                                # generation stopped at </answer>, tag cut
    (f"<answer>```json\n{GOOD}\n```</answer>", 0.0),          # fenced: the product repairs it, the reward does not
    ('<answer>{"ideal_item_profile": "", "useful_memory_ids": []}</answer>', 0.0),  # empty profile
    ('<answer>{"ideal_item_profile": "x y z", "useful_memory_ids": "b:ml:u1:6"}</answer>', 0.0),  # ids not a list
    ('<answer>["a 90s comedy"]</answer>', 0.0),
    ("<think>I will search</think><search>liked comedies</search>", 0.0),  # never answered
    (f"<answer>{GOOD}</answer>\n<memory>\n[b:ml:u1:6] (behavior) x\n</memory>\n", 0.0),  # answer before last search
])
def test_format_reward_is_strict_about_the_final_answer(text: str, expected: float) -> None:
    assert format_reward([text]) == [expected]


def test_answer_json_returns_the_last_answer_after_the_last_observation() -> None:
    text = ('<answer>{"ideal_item_profile": "first try", "useful_memory_ids": []}</answer>\n<memory>\nx\n</memory>\n'
            '<answer>{"ideal_item_profile": "second try", "useful_memory_ids": ["b:ml:u:1"]}</answer>')
    assert answer_json(text) == {"ideal_item_profile": "second try", "useful_memory_ids": ["b:ml:u:1"]}


def test_memory_reward_counts_any_tool_call() -> None:
    assert memory_reward([0, 1, 2, 0]) == [0.0, 1.0, 1.0, 0.0]


def test_ndcg_hand_computed() -> None:
    # Single relevant item at rank 3: 1 / log2(4) = 0.5.
    assert ndcg_from_ranks([3], 1, 10) == pytest.approx(0.5)
    # Two relevant at ranks 1 and 4, k=4: (1 + 1/log2 5) / (1 + 1/log2 3).
    assert ndcg_from_ranks([1, 4], 2, 4) == pytest.approx((1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    # Beyond the cut-off counts nothing; a duplicated rank counts once.
    assert ndcg_from_ranks([11], 1, 10) == 0.0
    assert ndcg_from_ranks([1, 1], 2, 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_recommendation_reward_sums_both_cutoffs() -> None:
    top, mid, deep, missed = recommendation_reward([[1], [50], [500], [5000]])
    assert top == pytest.approx(2.0)
    assert mid == pytest.approx(2 / math.log2(51))           # counts at @100 and @1000
    assert deep == pytest.approx(1 / math.log2(501))         # only @1000
    assert missed == 0.0
    assert recommendation_reward([[]], [1]) == [0.0]        # no usable profile: no ranks


def test_total_reward_uses_the_paper_weights() -> None:
    assert total_reward([1.0], [0.5], [1.0]) == [pytest.approx(0.1 + 2.5 + 0.1)]
    assert total_reward([0.0, 1.0], [0.0, 0.0], [1.0, 0.0]) == [pytest.approx(0.1), pytest.approx(0.1)]


def _naive_ndcg(ranked: list[str], relevant: set[str], k: int) -> float:
    """Reference: DCG over the ranked list itself, IDCG from the ideal list."""
    dcg = sum(1 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / idcg if idcg else 0.0


def test_rank_based_ndcg_matches_a_naive_list_based_reference_on_random_data() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n_items = rng.randint(1, 60)
        ranked = [f"i{n}" for n in range(n_items)]
        rng.shuffle(ranked)
        relevant = set(rng.sample(ranked, rng.randint(1, min(5, n_items))))
        ranks = [ranked.index(item) + 1 for item in relevant]
        for k in (1, 3, 10, 100):
            assert ndcg_from_ranks(ranks, len(relevant), k) == pytest.approx(_naive_ndcg(ranked, relevant, k))
