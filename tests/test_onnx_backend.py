"""The default backend: the embedded model exported to ONNX (8-bit weights) and run by onnxruntime-genai.

The export and the model are real (the embedded SmolLM2-135M, exported once per cache directory,
~20 s); the quantizers are also checked on synthetic blocks laid out like the GGUF's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from mrrec_chat.config import Settings
from mrrec_chat.llm import build_llm
from mrrec_chat.llm.base import LLMError
from mrrec_chat.llm.onnx_export import model_fingerprint, quantize_block_asym, quantize_block_sym8


def _dequantize(packed, scales, zeros, bits, n, k):
    if bits == 4:
        q = np.stack([packed & 0x0F, packed >> 4], -1).reshape(n, k // 32, 32).astype(np.float64)
        zero = np.stack([zeros.reshape(n, -1) & 0x0F, zeros.reshape(n, -1) >> 4], -1).reshape(n, -1)[:, :k // 32]
    else:
        q = packed.reshape(n, k // 32, 32).astype(np.float64)
        zero = np.full((n, k // 32), 128) if zeros is None else zeros.reshape(n, k // 32)
    return ((q - zero[..., None]) * scales.reshape(n, k // 32)[..., None]).reshape(n, k)


def test_quantizers_recover_gguf_style_blocks():
    rng = np.random.default_rng(0)
    n, k = 64, 96
    # Q8_0: d * q with |q| <= 127 and the block's largest magnitude on 127 -> recovered exactly
    d = rng.uniform(1e-3, 1e-2, (n, k // 32, 1))
    q = rng.integers(-127, 128, (n, k // 32, 32))
    q[..., 0] = 127
    q8 = (d * q).reshape(n, k).astype(np.float32)
    packed, scales, zeros, error = quantize_block_sym8(q8)
    assert error < 1e-6 and np.allclose(_dequantize(packed, scales, zeros, 8, n, k), q8, atol=1e-7)
    # Q4_1: min + d * q, q in 0..15 with 0 and 15 present
    q = rng.integers(0, 16, (n, k // 32, 32))
    q[..., 0], q[..., 1] = 0, 15
    low = -d * rng.uniform(1, 14, (n, k // 32, 1))  # spans 0, as a weight block does
    low[:4] = -d[:4] * 20  # a few blocks entirely below 0
    q41 = (low + d * q).reshape(n, k).astype(np.float32)
    for bits in (8, 4):
        packed, scales, zeros, error = quantize_block_asym(q41, bits)
        step = scales.reshape(n, k // 32)
        back = _dequantize(packed, scales, zeros, bits, n, k)
        assert np.all(np.abs(back - q41).reshape(n, k // 32, 32) <= step[..., None] / 2 + 1e-7)
        if bits == 4:
            assert np.allclose(step[4:], d[4:, :, 0], rtol=1e-5), "the 4-bit step is the Q4_1 step"
        else:
            block_error = np.abs(back - q41).reshape(n, k // 32, 32).max(-1)
            assert np.all(block_error[4:] < d[4:, :, 0] / 30), "8-bit blocks are ~34x finer than the Q4_1 step"


@pytest.fixture(scope="module")
def adapter(cache_dir, tmp_path_factory) -> str:
    """A fresh random LoRA in the shipped layout (tests/lora_helpers.py; trained weights are not in the tree)."""
    from lora_helpers import write_tiny_adapter

    from mrrec_chat.llm.local import resolve_model_dir

    return str(write_tiny_adapter(resolve_model_dir("smollm2-135m", cache_dir),
                                  tmp_path_factory.mktemp("adapter") / "tiny-lora"))


def test_export_names_change_with_bits_and_adapter(cache_dir, adapter):
    from mrrec_chat.llm.local import resolve_model_dir

    model_dir = resolve_model_dir("smollm2-135m", cache_dir)
    names = {model_fingerprint(model_dir, None, 8), model_fingerprint(model_dir, None, 4),
             model_fingerprint(model_dir, adapter, 8)}
    assert len(names) == 3


@pytest.fixture(scope="module")
def onnx_llm(cache_dir):
    return build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="onnx", llm_adapter="none"))


def test_the_default_backend_is_onnx_int8(onnx_llm):
    from mrrec_chat.llm.onnx_genai import OnnxLLM

    assert Settings().llm_backend == "onnx"
    assert isinstance(onnx_llm, OnnxLLM) and onnx_llm.quantization == "onnx-int8"
    assert (onnx_llm.onnx_dir / ".complete").exists()


def test_the_exported_head_is_the_gguf_q8_embedding_exactly(onnx_llm, cache_dir):
    import onnx
    from onnx import numpy_helper
    from safetensors.numpy import load_file

    from mrrec_chat.llm.local import resolve_model_dir

    model = onnx.load(str(onnx_llm.onnx_dir / "model.onnx"))
    inits = {i.name: i for i in model.graph.initializer}
    kinds = [(n.op_type, {a.name: a.i for a in n.attribute}.get("bits")) for n in model.graph.node]
    assert ("MatMul", None) not in kinds, "every weight matmul is quantized"
    assert kinds.count(("MatMulNBits", 8)) == 30 * 5 + 1  # qkv, o, gate, up, down per layer, and the head
    head = next(n for n in model.graph.node if "logits" in n.output)
    n, k = (next(a.i for a in head.attribute if a.name == name) for name in ("N", "K"))
    back = _dequantize(numpy_helper.to_array(inits[head.input[1]]), numpy_helper.to_array(inits[head.input[2]]),
                       None, 8, n, k)
    weights = load_file(str(Path(resolve_model_dir("smollm2-135m", cache_dir)) / "model.safetensors"))
    embedding = weights["model.embed_tokens.weight"].astype(np.float64)
    assert back.shape == embedding.shape and np.abs(back - embedding).max() < 1e-6


def test_continues_a_prefix_stops_and_reuses_the_prompt_cache(onnx_llm):
    messages = [{"role": "user", "content": "Count from one to ten in words, separated by commas."}]
    first = onnx_llm.continue_chat(messages, "one, two, three,", max_new_tokens=24, stop=["seven"])
    assert first.prompt_tokens > 10 and 0 < first.completion_tokens <= 24
    assert "seven" not in first.text and first.stop_reason in ("stop", "length", "")
    again = onnx_llm.continue_chat(messages, "one, two, three,", max_new_tokens=24, stop=["seven"])
    assert again.text == first.text and again.cached_tokens == first.prompt_tokens - 1
    short = onnx_llm.continue_chat(messages, "one, two, three,", max_new_tokens=3)
    assert short.completion_tokens == 3 and short.stop_reason == "length"


def test_sampling_varies_and_greedy_stays_greedy_after_it(onnx_llm):
    messages = [{"role": "user", "content": "Name a movie."}]
    greedy = onnx_llm.continue_chat(messages, max_new_tokens=12).text
    samples = {onnx_llm.continue_chat(messages, max_new_tokens=12, temperature=0.9).text for _ in range(4)}
    assert len(samples) >= 2
    assert onnx_llm.continue_chat(messages, max_new_tokens=12).text == greedy


def _fresh(llm, messages, prefix, **kwargs):
    llm.kv_reuse = False
    try:
        return llm.continue_chat(messages, prefix, **kwargs)
    finally:
        llm.kv_reuse = True


def test_reusing_the_cache_never_changes_the_tokens(onnx_llm):
    system = {"role": "system", "content": "You recommend movies. Answer in one short sentence."}
    onnx_llm.continue_chat([system, {"role": "user", "content": "A crime film like Heat?"}], max_new_tokens=12)
    other = [system, {"role": "user", "content": "Something like Heat, but no horror please."}]
    reused = onnx_llm.continue_chat(other, max_new_tokens=24)
    assert reused.cached_tokens >= 15, "the shared system prompt came from the kept cache"
    fresh = _fresh(onnx_llm, other, "", max_new_tokens=24)
    assert fresh.cached_tokens == 0 and fresh.text == reused.text
    # The agent's next round continues the same assistant turn after the text just generated: the
    # cache holds that text as decoded one token at a time, which rounds differently from a prefill
    # (it flipped a greedy token here before only prompt positions were kept).
    turn = [{"role": "system", "content": "You recommend movies."},
            {"role": "user", "content": "Something like Heat, no horror."}]
    first = onnx_llm.continue_chat(turn, "<think>", max_new_tokens=40, stop=["</think>"])
    prefix = "<think>" + first.text + "</think><answer>"
    second = onnx_llm.continue_chat(turn, prefix, max_new_tokens=40)
    assert second.cached_tokens >= first.prompt_tokens - 1
    assert second.text == _fresh(onnx_llm, turn, prefix, max_new_tokens=40).text


def test_context_overflow_and_a_broken_export_are_clear_errors(onnx_llm, tmp_path):
    from mrrec_chat.llm.onnx_genai import OnnxLLM

    with pytest.raises(LLMError, match="exceeds the context"):
        onnx_llm.continue_chat([{"role": "user", "content": "word " * 5000}], max_new_tokens=8)
    assert onnx_llm.continue_chat([{"role": "user", "content": "Hi"}], max_new_tokens=2).completion_tokens <= 2
    with pytest.raises(LLMError, match="Delete that directory"):
        OnnxLLM(tmp_path, str(onnx_llm.onnx_dir.parents[1] / "models" / "SmolLM2-135M-Instruct"))


def test_a_cuda_device_runs_the_local_backend(cache_dir, monkeypatch):
    from mrrec_chat.llm import onnx_genai
    from mrrec_chat.llm.local import LocalLLM

    monkeypatch.setattr(onnx_genai, "use_cuda", lambda device: True)  # as on a GPU machine (model stays on CPU here)
    llm = build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="onnx", llm_adapter="none", llm_device="cpu",
                                      llm_quantization="int8"))
    assert isinstance(llm, LocalLLM) and llm.quantization == "int4wo", "onnx-only quantization names become auto"


def test_unsupported_settings_are_refused(cache_dir, tmp_path, monkeypatch):
    with pytest.raises(LLMError, match="int8 or int4"):
        build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="onnx", llm_quantization="nf4"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(LLMError, match="Offline, use the embedded default"):
        build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="onnx", llm_model="Org/not-here"))
    from mrrec_chat.llm.onnx_genai import OnnxLLM, use_cuda

    assert use_cuda("cuda:1") and not use_cuda("cpu"), "a GPU device runs the local backend instead"
    monkeypatch.setitem(sys.modules, "onnxruntime_genai", None)  # import now raises ImportError

    with pytest.raises(LLMError, match="requirements.txt"):
        OnnxLLM(tmp_path, "unused")


def test_a_real_agent_turn_runs_on_the_onnx_backend(check_agent_turn, onnx_llm):
    check_agent_turn(onnx_llm)


def _onnx_log_probs(llm, ids: list[int]):
    """Teacher-forced next-token log-probabilities of an ONNX model over `ids` (one prefill)."""
    import onnxruntime_genai as og
    import torch

    params = og.GeneratorParams(llm.model)
    params.set_search_options(max_length=len(ids) + 1, do_sample=False)
    generator = og.Generator(llm.model, params)
    generator.append_tokens(ids)
    return torch.log_softmax(torch.from_numpy(np.asarray(generator.get_output("logits"), dtype=np.float64)[0]), -1)


def test_an_adapter_is_merged_into_the_export_and_predicts_what_transformers_predicts(cache_dir, onnx_llm, adapter):
    """The export with the adapter merged gives, token by token over a reasoning turn, the next-token
    distribution of transformers running the same adapter (bf16), far closer than the base export's.
    Compared as distributions, not greedy text: greedy decoding flips at near-ties."""
    import torch

    tuned = build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="onnx", llm_adapter=adapter))
    assert tuned.adapter == adapter and tuned.onnx_dir != onnx_llm.onnx_dir
    reference = build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="local", llm_adapter=adapter,
                                            llm_quantization="bf16", llm_device="cpu"))
    messages = [{"role": "system", "content": "You are MR.Rec, a movies recommendation assistant that remembers "
                 "each user.\nThink briefly in <think></think>. To read the user's memory write "
                 "<search>aspect query</search> and wait for <memory>."},
                {"role": "user", "content": "Request: a tense crime thriller for tonight"}]
    text = tuned.render_prompt(messages, "<think>The user wants a tense crime film tonight.</think>"
                                         "<search>crime thriller</search>")
    ids = tuned.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        expected = torch.log_softmax(reference.model(torch.tensor([ids])).logits[0].double(), -1)

    def kl(log_probs):  # mean KL(reference || model) per position, in nats
        return (expected.exp() * (expected - log_probs)).sum(-1).mean().item()

    merged, base = kl(_onnx_log_probs(tuned, ids)), kl(_onnx_log_probs(onnx_llm, ids))
    # Measured with the tiny adapter: merged 0.011 (8-bit weights vs bf16), base 0.91.
    assert merged < 0.05 and base > 10 * merged, (merged, base)


def test_an_export_never_replaces_a_finished_one_nor_leaves_a_half_one(tmp_path, monkeypatch):
    """Control flow of `export` (builder and quantizer replaced by stand-ins that write marker files)."""
    from mrrec_chat.llm import onnx_export

    def fake_builder(source, out, cache, threads=0):
        out.mkdir(parents=True)

    def fake_quantize(src, dst, bits=8):
        dst.mkdir(parents=True)
        (dst / "model.onnx").write_text("ours")

    monkeypatch.setattr(onnx_export, "run_builder", fake_builder)
    monkeypatch.setattr(onnx_export, "quantize_matmuls", fake_quantize)
    out = tmp_path / "onnx" / "m"
    onnx_export.export(tmp_path, out)
    assert (out / ".complete").exists() and (out / "model.onnx").read_text() == "ours"
    assert [p.name for p in out.parent.iterdir()] == ["m"], "no temporary directory is left behind"

    def racing_quantize(src, dst, bits=8):  # another process finishes the same export meanwhile
        fake_quantize(src, dst, bits)
        (out / "model.onnx").write_text("theirs")
        (out / ".complete").write_text("done")

    (out / ".complete").unlink()
    monkeypatch.setattr(onnx_export, "quantize_matmuls", racing_quantize)
    onnx_export.export(tmp_path, out)
    assert (out / "model.onnx").read_text() == "theirs", "a finished export (maybe loading elsewhere) is kept"
    (out / ".complete").unlink()  # an incomplete leftover (written by an older version) is replaced
    monkeypatch.setattr(onnx_export, "quantize_matmuls", fake_quantize)
    onnx_export.export(tmp_path, out)
    assert (out / "model.onnx").read_text() == "ours" and (out / ".complete").exists()

    def failing_builder(source, out_, cache, threads=0):
        raise onnx_export.LLMError("builder failed")

    monkeypatch.setattr(onnx_export, "run_builder", failing_builder)
    with pytest.raises(onnx_export.LLMError):
        onnx_export.export(tmp_path, tmp_path / "onnx" / "other")
    assert sorted(p.name for p in out.parent.iterdir()) == ["m"]


def test_a_guided_answer_is_valid_json_and_leaves_the_kept_cache_alone(onnx_llm):
    import json

    messages = [{"role": "user", "content": "Recommend a 90s crime thriller."}]
    thinking = onnx_llm.continue_chat(messages, "<think>", max_new_tokens=8)
    assert thinking.text
    held = list(onnx_llm._held)
    onnx_llm.guided_answers = True
    try:
        answer = onnx_llm.continue_chat(messages, "<think>The user wants a thriller.</think>\n<answer>",
                                        max_new_tokens=160)
    finally:
        onnx_llm.guided_answers = False
    data = json.loads(answer.text)  # always an object of the schema, closed within the budget
    assert set(data) == {"ideal_item_profile", "useful_memory_ids"} and isinstance(data["useful_memory_ids"], list)
    assert answer.cached_tokens == 0 and onnx_llm._held == held  # a one-off generator
    # Unguided, the same step is free text (and reuses the kept prompt cache).
    free = onnx_llm.continue_chat(messages, "<think>The user wants a thriller.</think>\n<answer>", max_new_tokens=8)
    assert free.cached_tokens > 0
