"""LLM backends behind one small interface, and a factory keyed by `Settings.llm_backend`.

The heavy imports (torch, transformers) happen only when a backend is built.
"""

from __future__ import annotations

from mrrec_chat.llm.base import Completion, LLMBackend, LLMError


def build_llm(settings) -> LLMBackend:
    if settings.llm_backend == "local":
        from mrrec_chat.llm.local import LocalLLM

        return LocalLLM.from_settings(settings)
    if settings.llm_backend == "openai":
        from mrrec_chat.llm.openai_compat import OpenAICompatLLM

        return OpenAICompatLLM.from_settings(settings)
    if settings.llm_backend == "onnx":
        from mrrec_chat.llm.onnx_genai import OnnxLLM, use_cuda

        if use_cuda(settings.llm_device):  # the ONNX export runs on CPU; a GPU runs transformers
            from mrrec_chat.llm.local import LocalLLM

            return LocalLLM.from_settings(settings.replace(
                llm_quantization="auto" if settings.llm_quantization in ("int8", "int4") else settings.llm_quantization))
        return OnnxLLM.from_settings(settings)
    if settings.llm_backend == "llamacpp":
        from mrrec_chat.llm.llamacpp import LlamaCppLLM

        return LlamaCppLLM.from_settings(settings)
    raise LLMError(f"Unknown llm_backend {settings.llm_backend!r}: use 'onnx', 'local', 'llamacpp' or 'openai'.")


__all__ = ["Completion", "LLMBackend", "LLMError", "build_llm"]
