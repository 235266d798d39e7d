"""CPU kernels for the in-process transformers backend: grouped eager attention, weight-only linears.

`cpu_attention` picks the attention implementation LocalLLM (llm/local.py) uses on CPU: for
architectures known to use plain softmax attention it registers `gqa_eager_attention`, which is
transformers' eager attention without copying keys and values once per query head (same math,
~2x faster on CPU, and chunked prefill stays bit-identical to one pass, which KV-cache reuse
relies on), else transformers' own eager. `quantize_weight_only` swaps the model's linear layers
for torch's weight-only int4 (grouped, the embedded GGUF's own Q4_1 values) or int8 CPU kernels
(llm_quantization `int4wo` / `int8wo`). torch and transformers are imported inside the functions,
and `WeightOnlyLinear` is built on first use, so importing this module stays light.
"""

from __future__ import annotations

import functools

GQA_ATTENTION = "mrrec_gqa_eager"
_GQA_MODEL_TYPES = ("llama", "mistral", "qwen2", "qwen3")  # plain softmax attention, no sinks or softcaps


def cpu_attention(model_dir: str) -> str:
    """The attention implementation for CPU: grouped eager attention where the architecture is known
    to use plain attention, else transformers' eager."""
    try:
        from transformers import AutoConfig

        model_type = AutoConfig.from_pretrained(model_dir).model_type
    except Exception:  # noqa: BLE001 - a hub id offline etc.: from_pretrained reports it properly
        return "eager"
    if model_type not in _GQA_MODEL_TYPES:
        return "eager"
    _register_gqa_attention()
    return GQA_ATTENTION


@functools.lru_cache(maxsize=None)
def _register_gqa_attention() -> None:
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.masking_utils import eager_mask

    AttentionInterface.register(GQA_ATTENTION, gqa_eager_attention)
    AttentionMaskInterface.register(GQA_ATTENTION, eager_mask)


def gqa_eager_attention(module, query, key, value, attention_mask, scaling: float, dropout: float = 0.0, **kwargs):
    """transformers' eager attention without `repeat_kv`: the query heads that share a key/value
    head are stacked as extra rows, so keys and values are not copied once per query head and each
    product is one batched matmul per key/value head. Same math (fp32 softmax), ~2x faster on CPU.
    """
    import torch

    batch, heads, q_len, dim = query.shape
    kv_heads, kv_len = key.shape[1], key.shape[2]
    group = heads // kv_heads
    grouped = query.reshape(batch, kv_heads, group * q_len, dim)  # head h = kv * group + j
    weights = torch.matmul(grouped, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        weights = (weights.view(batch, kv_heads, group, q_len, kv_len)
                   + attention_mask[:, :, None, :, :kv_len]).view(batch, kv_heads, group * q_len, kv_len)
    weights = torch.nn.functional.softmax(weights, dim=-1, dtype=torch.float32).to(query.dtype)
    if dropout and module.training:
        weights = torch.nn.functional.dropout(weights, p=dropout)
    output = torch.matmul(weights, value).view(batch, heads, q_len, dim)
    return output.transpose(1, 2).contiguous(), None


# --- torch weight-only CPU quantization ------------------------------------------------------

def quantize_weight_only(model, bits: int = 4, group_size: int = 32, head_bits: int = 8) -> dict[str, int]:
    """Replace the model's linear layers by torch weight-only int4/int8 CPU kernels, in place.

    bits=4: asymmetric 4-bit in groups of `group_size` input features (torch's
    `_weight_int4pack_mm_for_cpu`). For the embedded GGUF (Q4_1: 4-bit, min + scale per 32
    inputs, min and max of each block on the grid) this recovers the GGUF's own quantized values
    up to bf16 rounding of the per-group scale and offset, i.e. what llama.cpp computes with.
    bits=8: symmetric int8 per output channel (`_weight_int8pack_mm`).
    The output head (tied to the embeddings) uses `head_bits` (8 by default, as the GGUF's Q8_0
    token embedding; the embedding lookup itself stays bf16). Activations stay bf16. Layers whose
    shapes the kernels cannot take are left as they are. Returns counts of replaced layers.
    """
    import torch

    WeightOnlyLinear = _weight_only_linear_class()  # noqa: N806 - a class
    replaced = {"int4": 0, "int8": 0, "kept": 0}
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    targets = [(name, module) for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]
    for name, module in targets:
        want = head_bits if module is head else bits
        new = None
        if want == 4 and WeightOnlyLinear.fits_int4(module, group_size):
            new = WeightOnlyLinear(module, 4, group_size)
        elif want in (4, 8):
            new = WeightOnlyLinear(module, 8)
        if new is None:
            replaced["kept"] += 1
            continue
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child, new)
        replaced["int4" if new.bits == 4 else "int8"] += 1
    return replaced


@functools.lru_cache(maxsize=None)
def _weight_only_linear_class():
    import torch

    class WeightOnlyLinear(torch.nn.Module):
        """A bias-optional linear layer with int4 (grouped) or int8 (per-channel) weights."""

        def __init__(self, linear: "torch.nn.Linear", bits: int, group_size: int = 32):
            super().__init__()
            weight = linear.weight.detach().to(torch.float32)
            out_features, in_features = weight.shape
            self.in_features, self.out_features, self.bits, self.group_size = in_features, out_features, bits, group_size
            self.bias = None if linear.bias is None else torch.nn.Parameter(
                linear.bias.detach().to(torch.bfloat16), requires_grad=False)
            if bits == 4:
                grouped = weight.view(out_features, in_features // group_size, group_size)
                low, high = grouped.amin(-1), grouped.amax(-1)
                scale = ((high - low) / 15).clamp(min=1e-10)
                q = torch.round((grouped - low[..., None]) / scale[..., None]).clamp(0, 15)
                q = q.to(torch.int32).view(out_features, in_features)
                # the kernel computes (q - 8) * scale + zero, so zero = low + 8 * scale
                zeros = low + 8 * scale
                self.register_buffer("packed", torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1))
                self.register_buffer("scales_and_zeros", torch.stack([scale, zeros], -1)
                                     .transpose(0, 1).contiguous().to(torch.bfloat16))
            elif bits == 8:
                scale = (weight.abs().amax(1) / 127).clamp(min=1e-10)
                self.register_buffer("qweight", torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8))
                self.register_buffer("scales", scale.to(torch.bfloat16))
            else:
                raise ValueError(f"bits must be 4 or 8, not {bits}")

        @staticmethod
        def fits_int4(linear: "torch.nn.Linear", group_size: int) -> bool:
            out_features, in_features = linear.weight.shape
            return in_features % group_size == 0 and out_features % 16 == 0

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            shape = x.shape
            flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
            if self.bits == 4:
                y = torch.ops.aten._weight_int4pack_mm_for_cpu(flat, self.packed, self.group_size,
                                                               self.scales_and_zeros)
            else:
                y = torch.ops.aten._weight_int8pack_mm(flat, self.qweight, self.scales)
            if self.bias is not None:
                y = y + self.bias
            return y.reshape(*shape[:-1], self.out_features).to(x.dtype)

        def weight_bytes(self) -> int:
            """Bytes read per forward pass (the quantized weights and their scales)."""
            tensors = [self.packed, self.scales_and_zeros] if self.bits == 4 else [self.qweight, self.scales]
            return sum(t.numel() * t.element_size() for t in tensors)

        def extra_repr(self) -> str:
            return f"in={self.in_features}, out={self.out_features}, bits={self.bits}, group={self.group_size}"

    return WeightOnlyLinear


def __getattr__(name: str):
    # WeightOnlyLinear subclasses torch.nn.Module; build it lazily so importing this module stays light.
    if name == "WeightOnlyLinear":
        return _weight_only_linear_class()
    raise AttributeError(name)
