"""Decode speed of the default model in each CPU mode, next to the memory-bandwidth bound.

Modes (all from the same weights: the embedded SmolLM2-135M GGUF, converted once to the cached
safetensors checkpoint):

  fp32, bf16          transformers, plain dtypes, with the app's CPU attention (grouped eager)
  bf16-eager          bf16 with transformers' eager attention (repeat_kv), for comparison
  bf16-sdpa           bf16 with PyTorch SDPA attention (transformers' default), for comparison
  int8-dynamic        torch.ao quantize_dynamic, per-tensor int8 weights and activations (deprecated)
  int8-dynamic-pc     the same with per-channel weight scales
  bnb-nf4, bnb-int8   bitsandbytes on CPU (quantization_config, as the app loads them)
  int8wo, int4wo      torch weight-only CPU kernels (`llm_quantization=int8wo|int4wo`; int4wo uses
                      groups of 32 inputs, the GGUF's own Q4_1 grid, with an int8 output head)
  onnx-int8, onnx-int4  the default runtime: the model exported to ONNX with 8-bit (4-bit) weight
                      blocks of 32 and an 8-bit head (`llm/onnx_export.py`), run by onnxruntime-genai
  llama.cpp           llama-cpp-python on the GGUF file itself (optional; skipped when absent)

Per mode: decode tokens/s (greedy, a fixed number of new tokens after a chat prompt; prefill
timed separately), bytes of weights read per generated token, the bound read-bandwidth / bytes
with the bandwidth measured in the same run, and quality: mean negative log-likelihood of a fixed
reference answer (teacher-forced) next to fp32's, how many greedy tokens match fp32's, and the
greedy answer to a recommendation prompt.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from mrrec_lab.bench.common import markdown_table

log = logging.getLogger(__name__)

ALL_MODES = ("fp32", "bf16", "bf16-eager", "bf16-sdpa", "int8-dynamic", "int8-dynamic-pc", "bnb-nf4", "bnb-int8", "int8wo", "int4wo",
             "onnx-int8", "onnx-int4", "llama.cpp")

SPEED_REQUEST = "Something like Heat or The Usual Suspects, but no horror please."
# The decode speed is measured at the context length of a real reasoning round: the agent's
# system prompt, a request and one <memory> observation (~400 tokens), then greedy decoding.
SPEED_MEMORY = [f"[b:ml-100k:42:{n}] (behavior) Rated {title} {stars}/5." for n, (title, stars) in enumerate([
    ("Heat (1995)", 5), ("Casino (1995)", 4), ("The Usual Suspects (1995)", 5), ("Fargo (1996)", 4),
    ("Scream (1996)", 1), ("Se7en (1995)", 4), ("Alien (1979)", 2), ("Reservoir Dogs (1992)", 5)])] + [
    "[p:ml-100k:42:Crime:likes] (pattern) Crime: loved Heat (1995), Casino (1995), Reservoir Dogs (1992); "
    "prefers the 1990s; rates this genre 4.3 on average.",
    "[p:ml-100k:42:Horror:dislikes] (pattern) Horror: disliked Scream (1996), Alien (1979); rates this genre "
    "1.5 on average.",
    "[u:ml-100k:42:0] (profile) Favourite genres: Crime, Thriller, Drama. Least liked: Horror. Mostly films "
    "from the 1990s; generous rater (average 3.9)."]
QUALITY_PROMPT = ("I loved Heat and The Usual Suspects but I can't stand horror. "
                  "Recommend two movies and say why in one sentence each.")
# A reference answer for the teacher-forced likelihood (written for this benchmark).
REFERENCE_ANSWER = (
    "Since you enjoyed Heat and The Usual Suspects, you like smart crime stories with strong "
    "characters and a twist. Try L.A. Confidential (1997): three detectives uncover corruption in "
    "1950s Los Angeles, and the plot keeps surprising you until the end. You could also watch "
    "Reservoir Dogs (1992), a tense heist-gone-wrong film told out of order, with sharp dialogue "
    "and no supernatural scares. Both are thrillers rather than horror, so they should suit you.")


def _speed_ids(tokenizer):
    """The token ids of a reasoning round's context (see SPEED_MEMORY)."""
    import torch

    from mrrec_chat.agent.prompts import system_prompt, user_prompt

    messages = [{"role": "system", "content": system_prompt([])},
                {"role": "user", "content": user_prompt(SPEED_REQUEST)}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompt += ("<think>They want a crime thriller without horror; check their taste.</think>"
               "<search>liked crime thrillers; disliked genres</search>\n<memory>\n" + "\n".join(SPEED_MEMORY)
               + "\n</memory>\n<think>")
    return torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]])


def _chat_ids(tokenizer, user: str, assistant: str = ""):
    import torch

    prompt = tokenizer.apply_chat_template([{"role": "user", "content": user}], add_generation_prompt=True,
                                           tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(assistant, add_special_tokens=False)["input_ids"] if assistant else []
    return torch.tensor([prompt_ids + answer_ids]), len(prompt_ids)


# --- weight bytes ---------------------------------------------------------------------------

def weight_bytes_per_token(model) -> int:
    """Bytes of weights read to generate one token: every matrix that is multiplied, once.

    The token-embedding table counts one row (a lookup), unless it is tied to the output head,
    which reads all of it. Quantized layers count their packed weights plus scales.
    """
    import torch

    seen: set[int] = set()
    total = 0

    def add(tensor) -> None:
        nonlocal total
        if tensor is None:
            return
        if tensor.is_quantized:  # unpacked on demand: a fresh tensor each time, never shared
            total += tensor.numel() * tensor.element_size()
            if tensor.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
                total += tensor.q_per_channel_scales().numel() * 4
            return
        key = tensor.data_ptr()
        if key in seen:
            return
        seen.add(key)
        total += tensor.numel() * tensor.element_size()

    embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    for module in model.modules():
        kind = type(module).__name__
        if kind == "WeightOnlyLinear":
            total += module.weight_bytes()
            if module.bias is not None:
                add(module.bias)
        elif kind == "Linear" and type(module).__module__.startswith("torch.ao.nn.quantized.dynamic"):
            weight, bias = module._packed_params._weight_bias()
            add(weight)
            add(bias)
        elif kind == "Linear4bit":
            add(module.weight)
            state = getattr(module.weight, "quant_state", None)
            if state is not None:
                add(state.absmax)
                if getattr(state, "state2", None) is not None:
                    add(state.state2.absmax)
            add(module.bias)
        elif kind == "Linear8bitLt":
            add(module.weight)
            add(getattr(module.weight, "SCB", None))
            add(module.bias)
        elif module is embeddings:
            continue  # handled below
        else:
            for tensor in list(module.parameters(recurse=False)) + list(module.buffers(recurse=False)):
                if tensor.dtype.is_floating_point and tensor.numel() > 1 and "rotary" not in kind.lower():
                    add(tensor)
    if embeddings is not None:
        weight = embeddings.weight
        if weight.data_ptr() not in seen:  # untied (or the head was quantized separately): one row
            total += weight.shape[1] * weight.element_size()
    return total


def gguf_tensor_bytes(path: Path) -> int:
    """Bytes of all tensors in a GGUF file (token_embd doubles as the output head: read in full)."""
    from gguf import GGUFReader

    return int(sum(int(t.n_bytes) for t in GGUFReader(str(path)).tensors))


# --- transformers modes ---------------------------------------------------------------------

def load_hf_mode(mode: str, model_dir: str, threads: int = 0):
    """A LocalLLM in `mode` (the app's loader; the int8-dynamic variants are applied after it)."""
    import torch

    from mrrec_chat.llm.local import LocalLLM

    quantization = {"fp32": "fp32", "bf16": "bf16", "bf16-eager": "bf16", "bf16-sdpa": "bf16", "int8-dynamic": "fp32", "int8-dynamic-pc": "fp32",
                    "bnb-nf4": "nf4", "bnb-int8": "int8", "int8wo": "int8wo", "int4wo": "int4wo"}[mode]
    llm = LocalLLM(model_dir, device="cpu", quantization=quantization, threads=threads,
                   attn_implementation={"bf16-sdpa": "sdpa", "bf16-eager": "eager"}.get(mode))
    if mode.startswith("int8-dynamic"):
        import warnings

        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec: Any = {torch.nn.Linear} if mode == "int8-dynamic" else {torch.nn.Linear: per_channel_dynamic_qconfig}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            llm.model = quantize_dynamic(llm.model, spec, dtype=torch.qint8)
        llm.reset_cache()
    return llm


def hf_decode_speed(llm, new_tokens: int, repeats: int) -> dict[str, float]:
    import torch

    from mrrec_chat.llm.local import _FirstTokenClock

    ids = _speed_ids(llm.tokenizer)
    runs = []
    for run in range(repeats + 1):  # the first run warms up
        clock = _FirstTokenClock()
        with torch.inference_mode():
            started = time.perf_counter()
            out = llm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                                     min_new_tokens=new_tokens, do_sample=False, temperature=None, top_p=None,
                                     top_k=None, pad_token_id=llm.tokenizer.eos_token_id, stopping_criteria=[clock])
            total = time.perf_counter() - started
        generated = int(out.shape[1] - ids.shape[1])
        prefill = clock.at - started
        if run:
            runs.append({"prefill_s": prefill, "decode_s": total - prefill, "decoded": generated - 1,
                         "prompt_tokens": int(ids.shape[1])})
    best = min(runs, key=lambda r: r["decode_s"] / max(1, r["decoded"]))
    rates = [r["decoded"] / r["decode_s"] for r in runs]
    return {"decode_tok_s": max(rates), "decode_tok_s_median": statistics.median(rates),
            "prefill_tok_s": best["prompt_tokens"] / best["prefill_s"], "prompt_tokens": best["prompt_tokens"],
            "new_tokens": new_tokens, "repeats": repeats}


def hf_quality(llm) -> dict[str, Any]:
    import torch

    ids, n_prompt = _chat_ids(llm.tokenizer, QUALITY_PROMPT, REFERENCE_ANSWER)
    with torch.inference_mode():
        logits = llm.model(ids).logits[0].float()
    nll = _mean_nll(logits, ids[0], n_prompt)
    answer = llm.chat([{"role": "user", "content": QUALITY_PROMPT}], max_new_tokens=48)
    speed_ids = _speed_ids(llm.tokenizer)
    with torch.inference_mode():
        out = llm.model.generate(speed_ids, attention_mask=torch.ones_like(speed_ids), max_new_tokens=48,
                                 do_sample=False, temperature=None, top_p=None, top_k=None,
                                 pad_token_id=llm.tokenizer.eos_token_id)
    return {"nll": nll, "answer": answer.text.strip(), "greedy_ids": out[0, speed_ids.shape[1]:].tolist()}


def _mean_nll(logits, ids, n_prompt: int) -> float:
    import torch

    log_probs = torch.log_softmax(logits[n_prompt - 1:-1], dim=-1)
    target = ids[n_prompt:]
    return float(-log_probs.gather(1, target[:, None]).mean())


# --- llama.cpp ------------------------------------------------------------------------------

def llama_cpp_available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except Exception:  # noqa: BLE001 - ImportError or a broken native build
        return False
    return True


def llama_cpp_mode(gguf: Path, tokenizer, new_tokens: int, repeats: int, threads: int) -> dict[str, Any]:
    import numpy as np
    import torch
    from llama_cpp import Llama

    started = time.perf_counter()
    llm = Llama(model_path=str(gguf), n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    load_s = time.perf_counter() - started
    tokens = _speed_ids(tokenizer)[0].tolist()
    runs = []
    for run in range(repeats + 1):
        llm.reset()
        started = time.perf_counter()
        first = 0.0
        count = 0
        for _token in llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0,
                                   reset=True):
            count += 1
            if count == 1:
                first = time.perf_counter()
            if count >= new_tokens:
                break
        end = time.perf_counter()
        if run:
            runs.append({"prefill_s": first - started, "decode_s": end - first, "decoded": count - 1})
    rates = [r["decoded"] / r["decode_s"] for r in runs]
    best = min(runs, key=lambda r: r["decode_s"])
    result: dict[str, Any] = {"decode_tok_s": max(rates), "decode_tok_s_median": statistics.median(rates),
                              "prefill_tok_s": len(tokens) / best["prefill_s"], "prompt_tokens": len(tokens),
                              "new_tokens": new_tokens, "repeats": repeats, "load_s": load_s}
    # greedy tokens (for agreement with fp32) and the greedy answer
    llm.reset()
    greedy = []
    for token in llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, reset=True):
        greedy.append(int(token))
        if len(greedy) >= 48:
            break
    q_ids, n_prompt = _chat_ids(tokenizer, QUALITY_PROMPT)
    llm.reset()
    answer = []
    for token in llm.generate(q_ids[0].tolist(), temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0,
                              reset=True):
        if token == tokenizer.eos_token_id or len(answer) >= 48:
            break
        answer.append(int(token))
    del llm
    # teacher-forced likelihood needs the logits of every position
    scorer = Llama(model_path=str(gguf), n_ctx=512, n_threads=threads, logits_all=True, verbose=False)
    ref_ids, n_prompt = _chat_ids(tokenizer, QUALITY_PROMPT, REFERENCE_ANSWER)
    ref = ref_ids[0].tolist()
    scorer.eval(ref)
    nll = _mean_nll(torch.from_numpy(np.asarray(scorer.scores[:len(ref)], dtype=np.float64)), ref_ids[0], n_prompt)
    del scorer
    result.update(nll=nll, answer=tokenizer.decode(answer, skip_special_tokens=True).strip(), greedy_ids=greedy,
                  bytes_per_token=gguf_tensor_bytes(gguf))
    return result


# --- onnxruntime-genai (the default runtime) ---------------------------------------------------

def onnx_mode(bits: int, tokenizer, new_tokens: int, repeats: int, threads: int) -> dict[str, Any]:
    import numpy as np
    import onnxruntime_genai as og
    import torch

    from mrrec_chat.config import Settings
    from mrrec_chat.llm.onnx_genai import OnnxLLM

    settings = Settings.from_env(llm_backend="onnx", llm_adapter="none", llm_quantization=f"int{bits}",
                                 llm_threads=threads)
    started = time.perf_counter()
    llm = OnnxLLM.from_settings(settings)  # exports once (cached), then loads
    load_s = time.perf_counter() - started
    model = llm.model

    def generator(max_length: int):
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=max_length, do_sample=False)
        return og.Generator(model, params)

    tokens = _speed_ids(tokenizer)[0].tolist()
    runs, greedy = [], []
    for run in range(repeats + 1):
        gen = generator(len(tokens) + new_tokens + 1)
        started = time.perf_counter()
        gen.append_tokens(tokens)
        gen.generate_next_token()
        first = time.perf_counter()
        out = [int(gen.get_next_tokens()[0])]
        while len(out) < new_tokens:
            gen.generate_next_token()
            out.append(int(gen.get_next_tokens()[0]))
        end = time.perf_counter()
        greedy = out[:48]
        if run:
            runs.append({"prefill_s": first - started, "decode_s": end - first, "decoded": len(out) - 1})
    rates = [r["decoded"] / r["decode_s"] for r in runs]
    best = min(runs, key=lambda r: r["decode_s"])
    answer = llm.chat([{"role": "user", "content": QUALITY_PROMPT}], max_new_tokens=48).text.strip()
    ref_ids, n_prompt = _chat_ids(tokenizer, QUALITY_PROMPT, REFERENCE_ANSWER)
    ref = ref_ids[0].tolist()
    gen = generator(len(ref) + 1)
    gen.append_tokens(ref)
    nll = _mean_nll(torch.from_numpy(np.asarray(gen.get_output("logits"), dtype=np.float64)[0]), ref_ids[0], n_prompt)
    return {"decode_tok_s": max(rates), "decode_tok_s_median": statistics.median(rates),
            "prefill_tok_s": len(tokens) / best["prefill_s"], "prompt_tokens": len(tokens), "new_tokens": new_tokens,
            "repeats": repeats, "load_s": load_s, "nll": nll, "answer": answer, "greedy_ids": greedy,
            "bytes_per_token": onnx_weight_bytes(llm.onnx_dir)}


def onnx_weight_bytes(onnx_dir: Path) -> int:
    """Bytes of weights read per token by an exported model: every MatMulNBits' packed weights,
    scales and zero points, plus one row of the token embedding (a lookup)."""
    import onnx

    model = onnx.load(str(Path(onnx_dir) / "model.onnx"), load_external_data=False)
    sizes = {init.name: _tensor_bytes(init) for init in model.graph.initializer}
    dims = {init.name: list(init.dims) for init in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type == "MatMulNBits":
            total += sum(sizes.get(name, 0) for name in node.input[1:])
        elif node.op_type == "Gather" and node.input[0] in dims:
            rows = dims[node.input[0]][0] or 1
            total += sizes[node.input[0]] // rows
        elif node.op_type in ("SkipSimplifiedLayerNormalization", "SimplifiedLayerNormalization"):
            total += sum(sizes.get(name, 0) for name in node.input[1:])
    return total


def _tensor_bytes(init) -> int:
    import onnx

    count = math.prod(init.dims) if init.dims else 1
    return count * onnx.helper.tensor_dtype_to_np_dtype(init.data_type).itemsize


# --- the benchmark --------------------------------------------------------------------------

def run_decode(modes: tuple[str, ...] = ALL_MODES, new_tokens: int = 64, repeats: int = 3,
               threads: int = 0, bandwidth_bytes: int = 1 << 30,
               progress: Callable[[str], None] = print) -> dict[str, Any]:
    import torch

    from mrrec_chat import assets
    from mrrec_lab.bench.bandwidth import read_bandwidth
    from mrrec_lab.bench.common import current_rss_mb
    from mrrec_chat.config import Settings
    from mrrec_chat.llm.local import resolve_model_dir

    settings = Settings.from_env()
    model_dir = resolve_model_dir(settings.llm_model, settings.cache_dir)
    gguf = assets.smollm2_gguf(settings.cache_dir)
    threads = threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    progress(f"measuring read bandwidth ({bandwidth_bytes / 1e9:.1f} GB array, best of 5) ...")
    bandwidth = read_bandwidth(bandwidth_bytes, threads=threads)
    progress(f"  {bandwidth['gb_s']:.1f} GB/s (1 thread {bandwidth['gb_s_1_thread']:.1f}, "
             f"{threads} threads {bandwidth['gb_s_all_threads']:.1f})")
    results: dict[str, dict[str, Any]] = {}
    tokenizer = None
    for mode in modes:
        progress(f"mode {mode} ...")
        try:
            if mode == "llama.cpp":
                if not llama_cpp_available():
                    results[mode] = {"skipped": "llama_cpp is not importable: `pip install llama-cpp-python==0.3.36` "
                                                "(optional; compiles from source, ~9 min on 2 cores)"}
                    progress("  skipped (llama_cpp not installed)")
                    continue
                if tokenizer is None:
                    from transformers import AutoTokenizer

                    tokenizer = AutoTokenizer.from_pretrained(model_dir)
                row = llama_cpp_mode(gguf, tokenizer, new_tokens, repeats, threads)
                row["weights"] = "GGUF Q4_1 (token_embd/output Q8_0)"
            elif mode.startswith("onnx-int"):
                if tokenizer is None:
                    from transformers import AutoTokenizer

                    tokenizer = AutoTokenizer.from_pretrained(model_dir)
                row = onnx_mode(int(mode.removeprefix("onnx-int")), tokenizer, new_tokens, repeats, threads)
                row["rss_mb_after_load"] = current_rss_mb()
            else:
                started = time.perf_counter()
                llm = load_hf_mode(mode, model_dir, threads)
                load_s = time.perf_counter() - started
                tokenizer = llm.tokenizer
                row = {"load_s": load_s, "bytes_per_token": weight_bytes_per_token(llm.model),
                       "rss_mb_after_load": current_rss_mb()}
                row.update(hf_decode_speed(llm, new_tokens, repeats))
                row.update(hf_quality(llm))
                del llm
                gc.collect()
        except Exception as exc:  # noqa: BLE001 - one broken mode must not end the benchmark
            log.exception("mode %s failed", mode)
            results[mode] = {"error": f"{type(exc).__name__}: {exc}"}
            progress(f"  failed: {exc}")
            continue
        row["bound_tok_s"] = bandwidth["gb_s"] * 1e9 / row["bytes_per_token"]
        row["fraction_of_bound"] = row["decode_tok_s"] / row["bound_tok_s"]
        results[mode] = row
        progress(f"  {row['decode_tok_s']:.1f} tok/s (bound {row['bound_tok_s']:.0f}), NLL {row['nll']:.3f}")
    reference = results.get("fp32", {})
    for mode, row in results.items():
        if "greedy_ids" in row and "greedy_ids" in reference:
            row["greedy_match_fp32"] = _common_prefix(row["greedy_ids"], reference["greedy_ids"])
        if "nll" in row and "nll" in reference:
            row["nll_delta_vs_fp32"] = row["nll"] - reference["nll"]
    prompt_tokens = next((row["prompt_tokens"] for row in results.values() if "prompt_tokens" in row), None)
    return {"bandwidth": bandwidth, "threads": threads, "model_dir": model_dir, "gguf": str(gguf),
            "prompt_tokens": prompt_tokens,
            "new_tokens": new_tokens, "repeats": repeats, "modes": results}


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def decode_markdown(data: dict[str, Any]) -> str:
    bw = data["bandwidth"]
    rows = []
    for mode, row in data["modes"].items():
        if "decode_tok_s" not in row:
            rows.append([mode, row.get("skipped") or row.get("error"), "", "", "", "", "", "", ""])
            continue
        rows.append([mode, row["decode_tok_s"], row["prefill_tok_s"], row["bytes_per_token"] / 1e6,
                     row["bound_tok_s"], f"{100 * row['fraction_of_bound']:.0f}%", row["nll"],
                     f"{row.get('greedy_match_fp32', '–')}/{len(row.get('greedy_ids', []))}",
                     row.get("load_s", math.nan)])
    table = markdown_table(["mode", "decode tok/s", "prefill tok/s", "MB read/token", "bound tok/s",
                            "of bound", "NLL (ref.)", "greedy = fp32", "load s"], rows)
    answers = "\n".join(f"- **{mode}**: {row['answer'][:240]!r}" for mode, row in data["modes"].items()
                        if "answer" in row)
    return (f"Read bandwidth (numpy sum over {bw['bytes'] / 1e9:.1f} GB, best of 5): {bw['gb_s']:.1f} GB/s "
            f"(1 thread {bw['gb_s_1_thread']:.1f}, {int(bw['threads'])} threads {bw['gb_s_all_threads']:.1f}); "
            f"bound = bandwidth / weight bytes read per token. Decode: greedy, {data['new_tokens']} new tokens "
            f"after a reasoning round's context ({data.get('prompt_tokens', '?')} tokens: system prompt, request, "
            f"a <memory> observation), "
            f"best of {data['repeats']}, {data['threads']} threads. NLL: mean negative log-likelihood of a "
            f"fixed reference answer (lower is better); greedy = fp32: leading greedy tokens identical "
            f"to fp32's.\n\n{table}\n\nGreedy answers to {QUALITY_PROMPT!r} (48 tokens max):\n\n{answers}\n")
