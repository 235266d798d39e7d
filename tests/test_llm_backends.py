"""LLM backends: the real local model, the LangChain wrapper, and OpenAI-compatible errors."""

from __future__ import annotations

import pytest

from mrrec_chat.llm.base import LLMError, cut_at_stop


def test_cut_at_stop():
    assert cut_at_stop("a<search>q</search> more", ["</search>"]) == ("a<search>q", True)
    assert cut_at_stop("plain", ["</x>"]) == ("plain", False)


def test_local_model_continues_prefix_and_stops(small_llm):
    out = small_llm.continue_chat([{"role": "user", "content": "Count: one, two, three"}], "Sure: one, two,",
                                  max_new_tokens=12, stop=["four"])
    assert out.prompt_tokens > 5 and 0 < out.completion_tokens <= 12
    assert "four" not in out.text


def test_openai_backend_unreachable_server_is_a_clear_error():
    from mrrec_chat.llm.openai_compat import OpenAICompatLLM

    llm = OpenAICompatLLM("http://127.0.0.1:9/v1", "m", timeout_s=1, retries=0)
    with pytest.raises(LLMError, match="did not answer"):
        llm.chat([{"role": "user", "content": "hi"}])
    with pytest.raises(LLMError, match="MRREC_LLM_BASE_URL"):
        OpenAICompatLLM("", "m")


def test_unknown_model_offline_is_a_clear_error(tmp_path, cache_dir):
    from mrrec_chat.config import Settings
    from mrrec_chat.llm.local import LocalLLM

    with pytest.raises(LLMError, match="embedded default"):
        LocalLLM.from_settings(Settings.from_env(llm_model=str(tmp_path / "no-model-here-xyz"),
                                                 cache_dir=cache_dir, llm_adapter="none"))


def test_an_adapter_loads_by_path_and_changes_the_model(cache_dir, tmp_path):
    """A LoRA adapter loads by path (`--llm-adapter DIR`) and changes what the model writes; `auto`
    only picks up checkpoints/<model>-mrrec (none is shipped: checkpoints/README.md). The adapter is
    a fresh random one (tests/lora_helpers.py): the trained adapters' weights are not in the tree."""
    from lora_helpers import write_tiny_adapter

    from mrrec_chat.config import REPO_ROOT, Settings
    from mrrec_chat.llm.local import LocalLLM, default_adapter_dir, resolve_model_dir

    shipped = write_tiny_adapter(resolve_model_dir("smollm2-135m", cache_dir), tmp_path / "adapter")
    files = {p.name: p.stat().st_size for p in shipped.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors"} <= files.keys()
    assert sum(files.values()) < 20e6  # an adapter, not a merged model
    assert default_adapter_dir("smollm2-135m") == REPO_ROOT / "checkpoints" / "smollm2-135m-mrrec"
    tuned = LocalLLM.from_settings(Settings.from_env(cache_dir=cache_dir, llm_device="cpu", llm_quantization="auto",
                                                     llm_adapter=str(shipped)))
    assert tuned.adapter == str(shipped)
    assert tuned.quantization == "bf16"  # auto: a LoRA delta would not survive the 4-bit grid
    prompt = [{"role": "user", "content": "I want a tense crime thriller."}]
    tuned_text = tuned.continue_chat(prompt, "<think>", max_new_tokens=16).text
    base = LocalLLM.from_settings(Settings.from_env(cache_dir=cache_dir, llm_device="cpu", llm_quantization="bf16",
                                                    llm_adapter="none"))
    assert base.adapter is None
    assert base.continue_chat(prompt, "<think>", max_new_tokens=16).text != tuned_text  # the weights changed


def test_auto_quantization_runs_the_embedded_model_on_its_own_4bit_values(small_llm, cache_dir):
    """The default on CPU (llm_quantization=auto, embedded model, no adapter) is int4wo, which is
    lossless only because the embedded weights already sit on a 4-bit grid of 32-weight groups
    (the GGUF's Q4_1): check the choice, the swapped layers, and the grid itself."""
    import doctest
    from pathlib import Path

    import torch
    from safetensors import safe_open

    from mrrec_chat.llm import local

    result = doctest.testmod(local)  # resolve_quantization's cases
    assert result.failed == 0 and result.attempted >= 5
    assert small_llm.quantization == "int4wo"
    layer = small_llm.model.model.layers[0].mlp.gate_proj
    assert type(layer).__name__ == "WeightOnlyLinear" and layer.bits == 4
    checkpoint = Path(local.resolve_model_dir("smollm2-135m", cache_dir)) / "model.safetensors"
    with safe_open(str(checkpoint), framework="pt") as weights:
        for name in ("model.layers.0.self_attn.q_proj.weight", "model.layers.29.mlp.down_proj.weight"):
            grouped = weights.get_tensor(name).to(torch.float64)
            grouped = grouped.view(grouped.shape[0], -1, 32)
            low, high = grouped.amin(-1, keepdim=True), grouped.amax(-1, keepdim=True)
            steps = (grouped - low) / ((high - low) / 15).clamp(min=1e-12)
            assert (steps - steps.round()).abs().max().item() < 1e-3, name  # every weight on its group's grid


def test_importing_the_package_caps_onednn_primitive_cache_unless_set():
    """mrrec_chat/__init__.py: 64 oneDNN shapes instead of 1,024 (resident memory over a chat
    session; README "Performance"); an explicit environment value wins."""
    import os
    import subprocess
    import sys

    code = "import os, mrrec_chat; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip() == "64"
    env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = "16"
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip() == "16"
