"""Grounding: the ideal item profile -> real catalog items by dense retrieval (paper §3.2).

Item metadata texts are embedded once and persisted in a Chroma collection (the embedding
cache); at start-up the vectors are loaded into one matrix so that ranking is an exact dot
product over the whole catalog — approximate HNSW search could drop the ground-truth item
from a top-100 list and bias Recall@100. Items the user already consumed or rejected are
excluded, and items in categories the user said they cannot stand are pushed down.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np

from mrrec_chat.data.schema import Dataset, Item
from mrrec_chat.embedding import Embedder
from mrrec_chat.memory.schema import id_segment

log = logging.getLogger(__name__)


@dataclass
class ScoredItem:
    item: Item
    score: float


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class CatalogIndex:
    def __init__(self, dataset: Dataset, embedder: Embedder, client=None, *, text_of=None, kind: str = "catalog"):
        """`text_of(item)`: the text embedded per item (default `item.text`); `kind` names the
        Chroma collection that caches those vectors (one per text kind)."""
        self.dataset = dataset
        self.embedder = embedder
        self.item_ids = sorted(dataset.items)
        texts = [(text_of or (lambda item: item.text))(dataset.items[i]) for i in self.item_ids]
        vectors: dict[str, np.ndarray] = {}
        collection = None
        if client is not None:
            name = f"mrrec-{id_segment(dataset.name).replace('_', '-')}-{kind}-{embedder.fingerprint}"
            collection = client.get_or_create_collection(name, embedding_function=None,
                                                         configuration={"hnsw": {"space": "cosine"}})
            stored = collection.get(include=["embeddings", "metadatas"])
            for item_id, vector, meta in zip(stored["ids"], stored["embeddings"], stored["metadatas"]):
                vectors[item_id] = (np.asarray(vector, dtype=np.float32), (meta or {}).get("text_hash"))
        missing = [n for n, (i, t) in enumerate(zip(self.item_ids, texts))
                   if i not in vectors or vectors[i][1] != _text_hash(t)]
        if missing:
            log.info("Embedding %d catalog items", len(missing))
            new = embedder.embed([texts[n] for n in missing], show_progress=len(missing) > 200)
            for n, vector in zip(missing, new):
                vectors[self.item_ids[n]] = (vector, _text_hash(texts[n]))
            if collection is not None:
                for start in range(0, len(missing), 2000):
                    chunk = missing[start:start + 2000]
                    collection.upsert(ids=[self.item_ids[n] for n in chunk],
                                      embeddings=np.stack([vectors[self.item_ids[n]][0] for n in chunk]),
                                      documents=[texts[n] for n in chunk],
                                      metadatas=[{"text_hash": _text_hash(texts[n])} for n in chunk])
        self.matrix = np.stack([vectors[i][0] for i in self.item_ids]).astype(np.float32)
        self._row = {item_id: n for n, item_id in enumerate(self.item_ids)}
        self._category_mask = {c: np.array([c in dataset.items[i].categories for i in self.item_ids])
                                for c in dataset.categories}

    def scores(self, query_vector: np.ndarray) -> np.ndarray:
        return self.matrix @ np.asarray(query_vector, dtype=np.float32)

    def rank(self, query_vector: np.ndarray, k: int = 10, exclude: set[str] | frozenset = frozenset(),
             avoid_categories: set[str] | frozenset = frozenset(), avoid_penalty: float = 1.0) -> list[ScoredItem]:
        """Top-k items by cosine similarity, excluding `exclude`, penalising `avoid_categories`."""
        scores = self.scores(query_vector).copy()
        for category in avoid_categories:
            mask = self._category_mask.get(category)
            if mask is not None:
                scores[mask] -= avoid_penalty
        scores[self.rows(exclude)] = -np.inf
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [ScoredItem(self.dataset.items[self.item_ids[n]], float(scores[n])) for n in top
                if np.isfinite(scores[n])]

    def search(self, text: str, k: int = 10, **kwargs) -> list[ScoredItem]:
        return self.rank(self.embedder.embed_one(text), k, **kwargs)

    def rows(self, item_ids) -> np.ndarray:
        """Matrix rows of the given item ids (ids not in the catalog are skipped)."""
        return np.array([self._row[i] for i in item_ids if i in self._row], dtype=np.int64)

    def vector(self, item_id: str) -> np.ndarray | None:
        row = self._row.get(item_id)
        return None if row is None else self.matrix[row]
