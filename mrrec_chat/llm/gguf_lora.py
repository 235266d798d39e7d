"""Convert a PEFT LoRA adapter of a Llama-architecture model to a llama.cpp GGUF LoRA adapter.

Why hand-written: llama.cpp's own `convert_lora_to_gguf.py` ships only in the llama.cpp source
tree, not in any wheel here; the `gguf` package (its writer library, already a dependency of
transformers' GGUF loading) is all this needs. The format, as llama.cpp's `llama_adapter_lora_init`
reads it: metadata `general.type = "adapter"`, `adapter.type = "lora"`, `adapter.lora.alpha`, the
base model's `general.architecture`; for every adapted weight `W` of the base GGUF two tensors
`W.lora_a` (rank x in, PEFT's `lora_A`) and `W.lora_b` (out x rank, PEFT's `lora_B`). llama.cpp
scales the product by alpha / rank, as PEFT does.

One subtlety: llama.cpp's converter stores Llama's q and k projections with their rows permuted
for its rotary embedding layout (`permute` below), and transformers undoes that when it loads a
GGUF. An adapter trained on the Hugging Face layout must therefore have the rows of its q/k
`lora_B` permuted the same way; since (P B) A = P (B A), the adapted weight then equals
P (W + B A) exactly. `tests/test_gguf_lora.py` checks the permutation against the embedded GGUF.

Converted files are cached by the adapter's content hash, so a changed adapter is reconverted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from mrrec_chat.llm.base import LLMError
from mrrec_chat.llm.local import adapter_fingerprint

# PEFT module name -> llama.cpp tensor name (Llama architecture).
MODULES = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
           "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
           "mlp.down_proj": "ffn_down"}
_KEY = re.compile(r"^base_model\.model\.model\.layers\.(\d+)\.(\w+\.\w+)\.lora_([AB])\.weight$")


def permute(rows: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row order: per head, the two rotary halves interleaved.

    >>> permute(np.arange(8).reshape(8, 1), 2).ravel().tolist()
    [0, 2, 1, 3, 4, 6, 5, 7]
    """
    return (rows.reshape(n_head, 2, rows.shape[0] // n_head // 2, *rows.shape[1:])
            .swapaxes(1, 2).reshape(rows.shape))


def convert(adapter: str | Path, base_config: str | Path, out_dir: str | Path) -> Path:
    """GGUF LoRA file for the PEFT `adapter` directory (cached in `out_dir` by content hash).

    `base_config` is the base model's Hugging Face config.json (heads, for the q/k permutation).
    """
    import gguf
    from safetensors.torch import load_file  # numpy cannot read bf16 (how `train ship` stores adapters)

    adapter = Path(adapter)
    if not (adapter / "adapter_config.json").is_file() or not (adapter / "adapter_model.safetensors").is_file():
        raise LLMError(f"{adapter} is not a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors).")
    settings = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    config = json.loads(Path(base_config).read_text(encoding="utf-8"))
    if settings.get("peft_type") != "LORA" or settings.get("use_dora") or settings.get("use_rslora"):
        raise LLMError(f"{adapter}: only plain LoRA adapters convert to GGUF (not DoRA or rsLoRA).")
    if config.get("model_type") != "llama":
        raise LLMError(f"{adapter}: GGUF conversion supports Llama-architecture models only "
                       f"(this base is {config.get('model_type')!r}).")
    out = Path(out_dir) / f"{adapter.resolve().name}-{adapter_fingerprint(adapter)}.gguf"
    if out.is_file():
        return out
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    heads = {"attn_q": config["num_attention_heads"],
             "attn_k": config.get("num_key_value_heads") or config["num_attention_heads"]}
    writer_tensors: dict[str, np.ndarray] = {}
    for key, value in tensors.items():
        match = _KEY.match(key)
        if match is None or match.group(2) not in MODULES:
            raise LLMError(f"{adapter}: cannot place adapter tensor {key!r} in the GGUF model.")
        layer, module, part = match.groups()
        name = f"blk.{layer}.{MODULES[module]}.weight.lora_{part.lower()}"
        value = value.float().numpy()
        if part == "B" and MODULES[module] in heads:
            value = permute(value, heads[MODULES[module]])
        writer_tensors[name] = value.astype(np.float16)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    writer = gguf.GGUFWriter(str(partial), "llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(settings.get("lora_alpha", settings["r"])))
    for name, value in sorted(writer_tensors.items()):
        writer.add_tensor(name, value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(out)  # a crash mid-write never leaves a truncated adapter under the final name
    return out
