"""KV-cache reuse across reasoning rounds: same greedy output as re-encoding, on the real model.

The agent continues one assistant turn after each `<memory>` observation, so every call's prompt
extends the previous one; LocalLLM keeps the previous call's cache and prefills only the suffix.
"""

from __future__ import annotations

import pytest

from mrrec_chat.agent.prompts import ANSWER_NOW, STOP_AFTER_SEARCH, system_prompt, user_prompt


def _messages(request: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt([])}, {"role": "user", "content": user_prompt(request)}]


MESSAGES = _messages("A gritty crime thriller like Heat, but no horror please")
OBSERVATION = "</search>\n<memory>\n[b:t:alice:1] (behavior) Heat (1995), rated 5/5.\n</memory>\n"


def _trajectory(llm, reuse: bool, messages=MESSAGES, fresh: bool = True) -> list:
    """Three reasoning rounds and the answer step, as the agent loop issues them."""
    llm.kv_reuse = reuse
    if fresh:
        llm.reset_cache()
    completions, prefix = [], ""
    for _ in range(3):
        completion = llm.continue_chat(messages, prefix, max_new_tokens=20, stop=STOP_AFTER_SEARCH)
        completions.append(completion)
        prefix += completion.text + OBSERVATION
    completions.append(llm.continue_chat(messages, prefix + "\n" + ANSWER_NOW + "\n<answer>", max_new_tokens=24,
                                         stop=["</answer>"]))
    return completions


@pytest.fixture
def llm(small_llm):
    original = small_llm.kv_reuse
    yield small_llm
    small_llm.kv_reuse = original
    small_llm.reset_cache()


def test_reuse_gives_the_same_greedy_tokens_and_prefills_less(llm):
    plain = _trajectory(llm, reuse=False)
    reused = _trajectory(llm, reuse=True)
    assert [c.text for c in reused] == [c.text for c in plain]
    assert [c.completion_tokens for c in reused] == [c.completion_tokens for c in plain]
    assert [c.prompt_tokens for c in reused] == [c.prompt_tokens for c in plain]
    assert all(c.cached_tokens == 0 for c in plain)
    # round 1 starts cold; every later round reuses at least the previous prompt
    assert reused[0].cached_tokens == 0
    for before, after in zip(reused, reused[1:]):
        assert after.cached_tokens >= before.prompt_tokens - 2  # the whole previous prompt, at most 2 less
        assert after.cached_tokens < after.prompt_tokens


def test_next_turn_reuses_the_system_prompt_with_the_same_tokens(llm):
    second = _messages("Something funny for kids, please")
    plain = _trajectory(llm, reuse=False, messages=second)
    _trajectory(llm, reuse=True)  # the previous turn leaves its cache behind
    reused = _trajectory(llm, reuse=True, messages=second, fresh=False)
    assert [c.text for c in reused] == [c.text for c in plain]
    assert reused[0].cached_tokens >= 32  # the shared system prompt


def test_unrelated_prompt_after_a_cached_one_is_unaffected(llm):
    other = [{"role": "user", "content": "Name three colours."}]
    llm.kv_reuse = False
    llm.reset_cache()
    expected = llm.continue_chat(other, "", max_new_tokens=12)
    llm.kv_reuse = True
    llm.reset_cache()
    llm.continue_chat(MESSAGES, "", max_new_tokens=12)  # leaves a cache of a different prompt
    got = llm.continue_chat(other, "", max_new_tokens=12)
    assert got.text == expected.text
    assert got.cached_tokens == 0  # only the chat template's opening is shared: not reused


def test_identical_prompt_recomputes_only_the_last_tokens(llm):
    llm.kv_reuse = True
    llm.reset_cache()
    first = llm.continue_chat(MESSAGES, "<think>", max_new_tokens=8)
    second = llm.continue_chat(MESSAGES, "<think>", max_new_tokens=8)
    assert second.text == first.text
    assert second.cached_tokens == second.prompt_tokens - 2


def test_weight_only_layers_match_their_dequantized_weights():
    import torch

    from mrrec_chat.llm.local import WeightOnlyLinear

    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 32, bias=True)
    x = torch.randn(3, 64)
    for bits in (4, 8):
        layer = WeightOnlyLinear(linear, bits, group_size=32)
        weight = linear.weight.detach()
        if bits == 4:  # dequantize the same way the layer quantized
            grouped = weight.view(32, 2, 32)
            low, high = grouped.amin(-1, keepdim=True), grouped.amax(-1, keepdim=True)
            scale = (high - low) / 15
            deq = (torch.round((grouped - low) / scale) * scale + low).view(32, 64)
        else:
            scale = weight.abs().amax(1, keepdim=True) / 127
            deq = torch.round(weight / scale) * scale
        expected = x @ deq.T + linear.bias.detach()
        got = layer(x).float()
        assert torch.allclose(got, expected, atol=0.05 * expected.abs().max().item()), bits
        assert layer.weight_bytes() <= weight.numel() * (0.625 if bits == 4 else 1.1)  # 4 bits + 2 bf16 per 32
