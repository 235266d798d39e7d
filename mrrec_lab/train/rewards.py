"""The GRPO reward of MR.Rec (paper §3.3) as pure, typed `list -> list[float]` functions.

One rollout's reward is

    r = 0.1 * R_format + 5 * R_rec + 0.1 * R_mem

    R_format  1 if the final answer is `<answer>{"ideal_item_profile": str,
              "useful_memory_ids": [str, ...]}</answer>` in strict JSON, else 0
    R_rec     NDCG@100 + NDCG@1000 of the ground truth when the profile retrieves from the
              catalog (binary relevance; several ground-truth items allowed, as in ReDial)
    R_mem     1 if the memory tool was called at least once, else 0

Cut-offs. The paper's catalog has 1,058,417 items, so its 100 and 1000 are 0.01% and 0.1% of
the catalog. Ours (MovieLens Latest Small) has 9,742 items; scaling the cut-offs with the
catalog would give 1 and 10, a reward that is 0 for nearly every rollout of a small model, so
every GRPO group would have zero advantage and nothing would be learned. We keep the paper's
absolute cut-offs 100 and 1000: NDCG@100 still rewards a precise profile, and NDCG@1000 (the top
~10% of our catalog) gives the dense, graded signal the deep cut-off exists for. They are
arguments (`cutoffs`) so a larger catalog can use others.

Everything impure (embedding the profile, ranking 9,742 items) happens in the rollout
(`mrrec_lab.train.rollout`); these functions only see its results: the completion text, the
1-based catalog ranks of the ground-truth items, and the number of tool calls.
"""

from __future__ import annotations

import json
import math
import re
from typing import Sequence

FORMAT_WEIGHT = 0.1
RECOMMENDATION_WEIGHT = 5.0
MEMORY_WEIGHT = 0.1
DEFAULT_CUTOFFS = (100, 1000)

_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL)


def answer_json(text: str) -> dict | None:
    """The final answer object if `text` ends its trajectory in the required format, else None.

    Strict on purpose: no repair, no fences, no extra keys needed. The last `<answer>` after the
    last tool observation counts (an answer written before searching would be overwritten by
    the loop anyway). A missing `</answer>` is allowed only at the very end, because generation
    stops on that string and some callers cut it.

    >>> answer_json('<answer>{"ideal_item_profile": "a 90s comedy", "useful_memory_ids": ["b:x:1:2"]}</answer>')
    {'ideal_item_profile': 'a 90s comedy', 'useful_memory_ids': ['b:x:1:2']}
    >>> answer_json('<answer>{"ideal_item_profile": "a 90s comedy"}</answer>') is None   # ids missing
    True
    >>> answer_json("<answer>a 90s comedy</answer>") is None
    True
    """
    tail = text[text.rfind("</memory>") + len("</memory>"):] if "</memory>" in text else text
    matches = list(_ANSWER.finditer(tail))
    if not matches:
        return None
    body = matches[-1].group(1).strip()
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    profile, ids = obj.get("ideal_item_profile"), obj.get("useful_memory_ids")
    if not isinstance(profile, str) or not profile.strip():
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return None
    return obj


def format_reward(completions: list[str]) -> list[float]:
    """R_format: 1.0 when the trajectory ends in a strictly valid answer, else 0.0.

    >>> format_reward(['<think>t</think><answer>{"ideal_item_profile": "x y z", "useful_memory_ids": []}</answer>',
    ...                '<answer>{"ideal_item_profile": "x y z", "useful_memory_ids": [}</answer>',
    ...                '<search>liked comedies</search>'])
    [1.0, 0.0, 0.0]
    """
    return [1.0 if answer_json(text) is not None else 0.0 for text in completions]


def memory_reward(tool_calls: list[int]) -> list[float]:
    """R_mem: 1.0 when the memory tool was called at least once in the rollout, else 0.0.

    >>> memory_reward([0, 1, 3])
    [0.0, 1.0, 1.0]
    """
    return [1.0 if calls > 0 else 0.0 for calls in tool_calls]


def ndcg_from_ranks(ranks: Sequence[int], n_relevant: int, k: int) -> float:
    """NDCG@k with binary relevance, from the 1-based ranks of the relevant items.

        DCG@k  = Σ_{r in ranks, r <= k} 1 / log2(r + 1)
        IDCG@k = Σ_{i=1..min(n_relevant, k)} 1 / log2(i + 1)

    Equal to `mrrec_lab.eval.metrics.ndcg_at_k` on the ranked list, but needs only the ranks,
    which the rollout gets from one dot product with the whole catalog.

    >>> ndcg_from_ranks([1], 1, 10)
    1.0
    >>> round(ndcg_from_ranks([2], 1, 10), 4)          # 1 / log2(3)
    0.6309
    >>> round(ndcg_from_ranks([2, 3], 2, 3), 4)        # (1/log2 3 + 1/log2 4) / (1 + 1/log2 3)
    0.6934
    >>> ndcg_from_ranks([11], 1, 10), ndcg_from_ranks([], 0, 10)
    (0.0, 0.0)
    """
    if n_relevant <= 0 or k <= 0:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank in set(ranks) if 1 <= rank <= k)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_relevant, k) + 1))
    return dcg / ideal


def recommendation_reward(ground_truth_ranks: list[list[int]], n_relevant: list[int] | None = None,
                          cutoffs: Sequence[int] = DEFAULT_CUTOFFS) -> list[float]:
    """R_rec: Σ over `cutoffs` of NDCG@cutoff (so 0..2 with the default two cut-offs).

    `ground_truth_ranks[i]` are the 1-based catalog ranks of rollout i's ground-truth items
    (empty when it produced no usable profile); `n_relevant[i]` defaults to their number.

    >>> [round(r, 4) for r in recommendation_reward([[1], [], [2]])]
    [2.0, 0.0, 1.2619]
    >>> [round(r, 4) for r in recommendation_reward([[101]], cutoffs=(100, 1000))]  # only @1000 counts
    [0.1499]
    """
    counts = n_relevant if n_relevant is not None else [len(r) for r in ground_truth_ranks]
    return [sum(ndcg_from_ranks(ranks, n, k) for k in cutoffs)
            for ranks, n in zip(ground_truth_ranks, counts, strict=True)]


def total_reward(format_rewards: list[float], recommendation_rewards: list[float],
                 memory_rewards: list[float]) -> list[float]:
    """The paper's weighted sum 0.1 * R_format + 5 * R_rec + 0.1 * R_mem.

    >>> total_reward([1.0, 0.0], [2.0, 0.0], [1.0, 0.0])
    [10.2, 0.0]
    """
    return [FORMAT_WEIGHT * f + RECOMMENDATION_WEIGHT * r + MEMORY_WEIGHT * m
            for f, r, m in zip(format_rewards, recommendation_rewards, memory_rewards, strict=True)]
