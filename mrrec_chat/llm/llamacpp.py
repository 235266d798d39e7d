"""llama.cpp backend (optional): the GGUF file itself, through llama-cpp-python.

Why: on a laptop CPU the agent's time is almost all decoding, and llama.cpp decodes the embedded
SmolLM2 Q4_1 GGUF ~4x faster than transformers in bf16 (README "Performance", `python -m
mrrec_lab.bench decode`). It is opt-in (`MRREC_LLM_BACKEND=llamacpp`) because llama-cpp-python
has no prebuilt wheel here and compiles for minutes (`pip install -r requirements-llamacpp.txt`).

The prompt is rendered with the model's own Hugging Face chat template and tokenizer (the same
text the `local` backend and the training data use) and passed to llama.cpp as token ids.
llama-cpp-python keeps the previous call's tokens and re-evaluates only the suffix after the
longest common prefix, so the agent's growing assistant turn reuses its KV cache for free.

A LoRA adapter (the tuned policy in `checkpoints/`) is converted once to a GGUF LoRA
(`gguf_lora.py`, cached by content hash) and applied by llama.cpp on top of the quantized base.
That needs the base's Hugging Face config (the embedded model has it); otherwise the adapter is
refused with a clear message rather than silently ignored.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from pathlib import Path

from mrrec_chat.llm.base import Completion, LLMBackend, LLMError, cut_generated, load_chat_tokenizer, render_chat_prompt

N_CTX = 4096
INSTALL_HINT = ("llm_backend=llamacpp needs llama-cpp-python: `pip install -r requirements-llamacpp.txt` "
                "(it compiles llama.cpp, several minutes), or use MRREC_LLM_BACKEND=local.")


def resolve_gguf(model: str, cache_dir: str) -> tuple[Path, str]:
    """(GGUF file, tokenizer source) for `llm_model`: the embedded name, a .gguf file, or a
    directory holding exactly one .gguf file (its tokenizer is read from the GGUF itself)."""
    from mrrec_chat.llm.local import EMBEDDED_MODELS, resolve_model_dir

    if model in EMBEDDED_MODELS:
        from mrrec_chat import assets

        return assets.smollm2_gguf(cache_dir), resolve_model_dir(model, cache_dir)
    path = Path(model).expanduser()
    if path.is_dir():
        found = sorted(path.glob("*.gguf"))
        if len(found) != 1:
            raise LLMError(f"llm_backend=llamacpp: {path} holds {len(found)} .gguf files; set MRREC_LLM_MODEL "
                           f"to one .gguf file.")
        path = found[0]
    if path.suffix != ".gguf" or not path.is_file():
        raise LLMError(f"llm_backend=llamacpp needs MRREC_LLM_MODEL to be `smollm2-135m` or a local .gguf file; "
                       f"{model!r} is neither (hub ids are not fetched by this backend).")
    return path, ""


def _close_ref(ref) -> None:
    llm = ref()
    if llm is not None:
        llm.close()


class LlamaCppLLM(LLMBackend):
    """A GGUF model run by llama.cpp, with the Hugging Face chat template and tokenizer."""

    def __init__(self, gguf: str | Path, tokenizer_source: str = "", *, threads: int = 0, n_ctx: int = N_CTX,
                 name: str | None = None, lora: str | Path | None = None, adapter: str | None = None):
        try:
            from llama_cpp import Llama
        except Exception as exc:  # noqa: BLE001 - ImportError, or a broken native build
            raise LLMError(f"{INSTALL_HINT} ({exc!r})") from exc
        gguf = Path(gguf)
        self.name = name or gguf.stem
        self.quantization = "gguf"
        self.adapter = adapter if lora else None
        self.tokenizer = (load_chat_tokenizer(tokenizer_source, str(gguf)) if tokenizer_source else
                          load_chat_tokenizer(str(gguf.parent), str(gguf), gguf_file=gguf.name))
        threads = threads or os.cpu_count() or 1
        try:
            self.model = Llama(model_path=str(gguf), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                               lora_path=str(lora) if lora else None, verbose=False)
        except Exception as exc:  # noqa: BLE001 - llama.cpp raises ValueError for an unreadable file
            raise LLMError(f"llama.cpp could not load {gguf} ({exc}).") from exc
        self.n_ctx = n_ctx
        self.eos = {int(t) for t in (self.model.token_eos(), self.tokenizer.eos_token_id) if t is not None and t >= 0}
        self._lock = threading.Lock()
        self.kv_reuse = True
        # Free the native model before interpreter teardown (llama-cpp-python's __del__ at exit
        # otherwise prints a traceback from half-unloaded modules).
        atexit.register(_close_ref, weakref.ref(self))

    def reset_cache(self) -> None:
        """Forget the kept prompt (the next call evaluates its whole prompt)."""
        if self.model is not None:
            with self._lock:
                self.model.reset()

    def close(self) -> None:
        model, self.model = getattr(self, "model", None), None
        if model is not None:
            model.close()

    @classmethod
    def from_settings(cls, settings) -> LlamaCppLLM:
        from mrrec_chat.llm.local import configured_adapter

        adapter = configured_adapter(settings)
        gguf, tokenizer_source = resolve_gguf(settings.llm_model, settings.cache_dir)
        lora = None
        if adapter:
            from mrrec_chat.llm import gguf_lora

            if not tokenizer_source:
                raise LLMError(f"llm_backend=llamacpp can apply the LoRA adapter {adapter} only to the embedded "
                               f"model (converting it needs the base's Hugging Face config). Use "
                               f"MRREC_LLM_BACKEND=local for the tuned policy, or MRREC_LLM_ADAPTER=none.")
            lora = gguf_lora.convert(adapter, Path(tokenizer_source) / "config.json",
                                     Path(settings.cache_dir) / "lora-gguf")
        return cls(gguf, tokenizer_source, threads=settings.llm_threads, name=settings.llm_model, lora=lora,
                   adapter=adapter)

    def render_prompt(self, messages: list[dict[str, str]], assistant_prefix: str = "") -> str:
        return render_chat_prompt(self.tokenizer, messages, assistant_prefix)

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        if self.model is None:
            raise LLMError("This llama.cpp model was closed.")
        prompt = self.render_prompt(messages, assistant_prefix)
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(ids) + max_new_tokens > self.n_ctx:
            raise LLMError(f"The prompt ({len(ids)} tokens) plus {max_new_tokens} new tokens exceeds the "
                           f"llama.cpp context of {self.n_ctx} tokens.")
        sampling = (dict(temp=temperature, top_p=0.95, top_k=0, min_p=0.0) if temperature > 0 else
                    dict(temp=0.0, top_k=1, top_p=1.0, min_p=0.0))
        new: list[int] = []
        text, cut = "", ""
        with self._lock:
            if not self.kv_reuse:
                self.model.reset()
            kept = list(self.model._input_ids[:self.model.n_tokens])  # what llama.cpp will reuse
            cached = 0
            for a, b in zip(kept, ids):
                if a != b:
                    break
                cached += 1
            started = time.perf_counter()
            first = 0.0
            for token in self.model.generate(ids, repeat_penalty=1.0, reset=True, **sampling):
                if not first:
                    first = time.perf_counter()
                if int(token) in self.eos:
                    break
                new.append(int(token))
                if stop:
                    text, cut = cut_generated(self.tokenizer.decode(new, skip_special_tokens=True), stop)
                    if cut:
                        break
                if len(new) >= max_new_tokens:
                    break
            seconds = time.perf_counter() - started
        if not cut:
            text, cut = cut_generated(self.tokenizer.decode(new, skip_special_tokens=True), stop)
        reason = cut or ("length" if len(new) >= max_new_tokens else "")
        return Completion(text=text, prompt_tokens=len(ids), completion_tokens=len(new), seconds=seconds,
                          prefill_seconds=(first - started) if first else seconds,
                          cached_tokens=min(cached, len(ids) - 1), stop_reason=reason)
