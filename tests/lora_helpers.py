"""A fresh, tiny LoRA adapter for the embedded SmolLM2-135M, written in PEFT's on-disk format.

The trained adapters' weights left the tree (checkpoints/README.md); the tests that load, merge or
convert an adapter use this one instead. Random low-rank deltas on every projection of every
layer, seeded, in the exact layout `train ship` writes (rank 16, alpha 32, the seven projections),
so loading, merging into the ONNX export and conversion to a GGUF LoRA see a real adapter (fp16,
~10 MB, like the shipped ones). Written in about a second and never trained: it changes what the
model writes, not how well.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RANK, ALPHA = 16, 32
ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")


def write_tiny_adapter(base_dir: str | Path, out_dir: str | Path, *, seed: int = 0, std: float = 0.05) -> Path:
    """Write `out_dir/adapter_config.json` and `adapter_model.safetensors` for the model in `base_dir`.

    `std` of both factors: with rank 16 and alpha/rank 2, each weight moves by ~0.014 (the base
    weights' spread is ~0.05): the next-token distribution moves far from the base model's
    (measured: KL 0.9 nats per token), so a lost adapter cannot pass for a merged one.
    """
    from safetensors.numpy import save_file

    config = json.loads((Path(base_dir) / "config.json").read_text())
    hidden, inner, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    head_dim = config.get("head_dim") or hidden // config["num_attention_heads"]
    kv = config["num_key_value_heads"] * head_dim
    shapes = {"q_proj": (hidden, hidden), "k_proj": (hidden, kv), "v_proj": (hidden, kv), "o_proj": (hidden, hidden),
              "gate_proj": (hidden, inner), "up_proj": (hidden, inner), "down_proj": (inner, hidden)}
    rng = np.random.default_rng(seed)
    tensors = {}
    for layer in range(layers):
        for module, (n_in, n_out) in shapes.items():
            block = "self_attn" if module in ATTENTION else "mlp"
            prefix = f"base_model.model.model.layers.{layer}.{block}.{module}"
            tensors[f"{prefix}.lora_A.weight"] = rng.normal(0, std, (RANK, n_in)).astype(np.float16)
            tensors[f"{prefix}.lora_B.weight"] = rng.normal(0, std, (n_out, RANK)).astype(np.float16)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "adapter_model.safetensors"))
    (out / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": str(base_dir),
        "r": RANK, "lora_alpha": ALPHA, "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": False,
        "target_modules": list(ATTENTION + MLP), "inference_mode": True, "init_lora_weights": True,
        "use_dora": False, "use_rslora": False, "modules_to_save": None}, indent=2))
    return out
