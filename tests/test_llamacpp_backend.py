"""The optional llama.cpp backend: clear refusals always; real turns where llama-cpp-python is installed.

llama-cpp-python is not in requirements.txt (it compiles for minutes; see requirements-llamacpp.txt),
so the tests that run the model skip where it is absent; the refusal tests need no model and always run.
"""

from __future__ import annotations

import sys

import pytest

from mrrec_chat.config import Settings
from mrrec_chat.llm import build_llm
from mrrec_chat.llm.base import LLMError


def _has_llama_cpp() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except Exception:  # noqa: BLE001
        return False
    return True


needs_llama_cpp = pytest.mark.skipif(not _has_llama_cpp(), reason="llama-cpp-python not installed "
                                     "(optional: pip install -r requirements-llamacpp.txt)")


def test_an_unusable_adapter_is_refused_not_silently_dropped(cache_dir, tmp_path):
    from lora_helpers import write_tiny_adapter

    from mrrec_chat.llm.local import resolve_model_dir

    settings = Settings.from_env(cache_dir=cache_dir, llm_backend="llamacpp", llm_adapter=str(tmp_path))
    with pytest.raises(LLMError, match="not a PEFT LoRA adapter"):
        build_llm(settings)
    (tmp_path / "model.gguf").write_bytes(b"GGUF")  # another GGUF: no Hugging Face config to convert against
    adapter = write_tiny_adapter(resolve_model_dir("smollm2-135m", cache_dir), tmp_path / "adapter")
    with pytest.raises(LLMError, match="only to the embedded model"):
        build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="llamacpp", llm_model=str(tmp_path / "model.gguf"),
                                    llm_adapter=str(adapter)))


def test_a_model_that_is_not_a_gguf_file_is_a_clear_error(cache_dir, tmp_path):
    for model in ("Qwen/Qwen2.5-1.5B-Instruct", str(tmp_path), str(tmp_path / "missing.gguf")):
        with pytest.raises(LLMError, match=r"\.gguf"):
            build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="llamacpp", llm_adapter="none",
                                        llm_model=model))


def test_missing_llama_cpp_says_how_to_install(cache_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp now raises ImportError
    with pytest.raises(LLMError, match="requirements-llamacpp.txt"):
        build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="llamacpp", llm_adapter="none"))


@pytest.fixture(scope="module")
def llama(cache_dir):
    llm = build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="llamacpp", llm_adapter="none",
                                      llm_threads=1))
    yield llm
    llm.close()


@needs_llama_cpp
def test_continues_a_prefix_stops_and_reuses_the_prompt_cache(llama):
    messages = [{"role": "user", "content": "Count from one to ten in words, separated by commas."}]
    first = llama.continue_chat(messages, "one, two, three,", max_new_tokens=24, stop=["seven"])
    assert first.prompt_tokens > 10 and 0 < first.completion_tokens <= 24
    assert "seven" not in first.text and first.stop_reason in ("stop", "length", "")
    again = llama.continue_chat(messages, "one, two, three,", max_new_tokens=24, stop=["seven"])
    assert again.text == first.text, "greedy decoding is deterministic, with or without the reused cache"
    assert again.cached_tokens >= first.prompt_tokens - 1
    longer = llama.continue_chat(messages, "one, two, three," + first.text, max_new_tokens=4)
    assert longer.cached_tokens >= first.prompt_tokens - 1 and longer.completion_tokens <= 4
    assert longer.stop_reason in ("length", "")


@needs_llama_cpp
def test_reuse_can_be_switched_off_and_a_closed_model_refuses(cache_dir):
    llm = build_llm(Settings.from_env(cache_dir=cache_dir, llm_backend="llamacpp", llm_adapter="none",
                                      llm_threads=1))
    messages = [{"role": "user", "content": "Name three colours."}]
    first = llm.continue_chat(messages, "Red,", max_new_tokens=8)
    llm.kv_reuse = False
    again = llm.continue_chat(messages, "Red,", max_new_tokens=8)
    assert again.cached_tokens == 0 and again.text == first.text
    llm.kv_reuse = True
    llm.reset_cache()
    assert llm.continue_chat(messages, "Red,", max_new_tokens=8).cached_tokens == 0
    llm.close()
    with pytest.raises(LLMError, match="closed"):
        llm.continue_chat(messages, max_new_tokens=2)


def test_the_ui_runs_two_chat_turns_at_once_on_llama_cpp():
    from types import SimpleNamespace

    from mrrec_chat.ui.app import queue_plan

    assert queue_plan(SimpleNamespace(settings=Settings(llm_backend="llamacpp")))["chat"] == 2  # in-process, one lock
    assert queue_plan(SimpleNamespace(settings=Settings(llm_backend="openai")))["chat"] == 8


@needs_llama_cpp
def test_a_real_agent_turn_runs_on_llama_cpp(check_agent_turn, llama):
    check_agent_turn(llama)
