"""PEFT LoRA -> llama.cpp GGUF LoRA conversion (mrrec_chat/llm/gguf_lora.py).

The q/k row permutation is checked against the embedded GGUF itself; the written file is read
back with the `gguf` reader; with llama-cpp-python installed, the converted adapter must make
llama.cpp write what transformers writes with the same adapter merged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mrrec_chat.llm.base import LLMError
from mrrec_chat.llm.gguf_lora import convert, permute



@pytest.fixture(scope="module")
def base_dir(cache_dir) -> Path:
    from mrrec_chat.llm.local import resolve_model_dir

    return Path(resolve_model_dir("smollm2-135m", cache_dir))


@pytest.fixture(scope="module")
def adapter(base_dir, tmp_path_factory) -> Path:
    """A fresh random LoRA in the shipped layout (tests/lora_helpers.py; trained weights are not in the tree)."""
    from lora_helpers import write_tiny_adapter

    return write_tiny_adapter(base_dir, tmp_path_factory.mktemp("adapter") / "tiny-lora")


def test_permutation_maps_the_hf_layout_onto_the_embedded_gguf(cache_dir, base_dir) -> None:
    import json

    import gguf
    from safetensors.numpy import load_file

    from mrrec_chat import assets

    config = json.loads((base_dir / "config.json").read_text())
    weights = load_file(str(base_dir / "model.safetensors"))
    tensors = {t.name: t for t in gguf.GGUFReader(str(assets.smollm2_gguf(cache_dir))).tensors}
    for hf, name, heads in (("q_proj", "attn_q", config["num_attention_heads"]),
                            ("k_proj", "attn_k", config["num_key_value_heads"])):
        ours = weights[f"model.layers.3.self_attn.{hf}.weight"].astype(np.float32)
        stored = tensors[f"blk.3.{name}.weight"]
        theirs = gguf.quants.dequantize(stored.data, stored.tensor_type).reshape(ours.shape)
        assert np.abs(permute(ours, heads) - theirs).max() < 1e-6  # exact: HF weights came from this file
        assert np.abs(ours - theirs).max() > 0.1  # and the permutation is not a no-op


def test_converted_file_has_llama_cpp_lora_layout_and_is_cached(base_dir, adapter, tmp_path) -> None:
    import gguf

    out = convert(adapter, base_dir / "config.json", tmp_path)
    reader = gguf.GGUFReader(str(out))

    def field(name):
        part = reader.fields[name].parts[-1]
        return part.tobytes().decode() if part.dtype == np.uint8 else float(part[0])

    assert (field("general.type"), field("adapter.type"), field("general.architecture")) == ("adapter", "lora", "llama")
    assert field("adapter.lora.alpha") == 32.0
    shapes = {t.name: tuple(int(n) for n in t.shape) for t in reader.tensors}  # ggml order: (ne0, ne1)
    assert len(shapes) == 30 * 7 * 2
    assert shapes["blk.0.attn_q.weight.lora_a"] == (576, 16) and shapes["blk.0.attn_q.weight.lora_b"] == (16, 576)
    assert shapes["blk.29.ffn_down.weight.lora_a"] == (1536, 16) and shapes["blk.29.ffn_down.weight.lora_b"] == (16, 576)
    stamp = out.stat().st_mtime_ns
    assert convert(adapter, base_dir / "config.json", tmp_path) == out and out.stat().st_mtime_ns == stamp
    changed = tmp_path / "changed"
    shutil.copytree(adapter, changed)
    with (changed / "adapter_config.json").open("a") as handle:
        handle.write("\n")
    assert convert(changed, base_dir / "config.json", tmp_path) != out  # new content, new file
    assert not list(tmp_path.glob("*.partial"))


def test_a_directory_without_an_adapter_is_a_clear_error(base_dir, tmp_path) -> None:
    with pytest.raises(LLMError, match="not a PEFT LoRA adapter"):
        convert(tmp_path, base_dir / "config.json", tmp_path / "out")


def test_llama_cpp_with_the_converted_adapter_writes_what_transformers_writes(cache_dir, adapter) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed (optional)")
    from mrrec_chat.config import Settings
    from mrrec_chat.llm import build_llm

    messages = [{"role": "system", "content": "You are MR.Rec, a movies recommendation assistant that remembers "
                 "each user.\nThink briefly in <think></think>. To read the user's memory write "
                 "<search>aspect query</search> and wait for <memory>."},
                {"role": "user", "content": "Request: I want a funny movie like Superbad (2007)"}]
    texts = {}
    for backend, name in (("llamacpp", str(adapter)), ("local", str(adapter)), ("llamacpp", "none")):
        llm = build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend=backend, llm_adapter=name,
                                          llm_threads=1, llm_quantization="bf16"))
        texts[backend, name] = llm.continue_chat(messages, max_new_tokens=24).text
        getattr(llm, "close", lambda: None)()
    assert texts["llamacpp", str(adapter)] == texts["local", str(adapter)]
    assert texts["llamacpp", str(adapter)] != texts["llamacpp", "none"]
