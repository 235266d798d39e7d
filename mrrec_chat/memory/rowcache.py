"""An in-process cache of each user's memory rows, kept in step with this process's own writes.

Why: the exact per-user search (`MemoryStore.search`) first asks Chroma for the user's rows by a
metadata filter, and that lookup grows with the whole collection (≈110-140 ms at 1M entries here,
`python -m mrrec_lab.bench memory`), while scoring the user's few hundred rows takes well under a
millisecond. One chat turn searches the same user several times (each reasoning round, each level),
so the user's rows are read from Chroma once and then served from here. They are read when the
user's session opens (`MemoryStore.warm_user`, called by `Assistant.ensure_user`), so a chat turn's
searches, listings and counts read no Chroma at all.

Correctness rests on one fact: only this process writes the store. The embedded store holds an
exclusive file lock (`store._acquire_lock`), so `MemoryStore` enables the cache only then; against a
Chroma server other writers may exist and every search reads Chroma. Every write goes through
`MemoryStore`, which reports it here: upserts and metadata changes update cached users in place,
deletes remove rows. A generation counter per user stops a read that raced with a write from
caching rows older than that write. Least-recently-used users are evicted beyond `max_rows`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np


@dataclass
class Rows:
    """One user's rows of one level: ids, documents, metadata and unit-normalised vectors."""

    ids: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    metadatas: list[dict[str, Any]] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    @classmethod
    def from_chroma(cls, result: dict[str, Any]) -> "Rows":
        vectors = np.asarray(result["embeddings"], dtype=np.float32) if len(result["ids"]) else np.zeros((0, 0), np.float32)
        return cls(list(result["ids"]), list(result["documents"]), [dict(m or {}) for m in result["metadatas"]],
                   _unit(vectors))

    def __len__(self) -> int:
        return len(self.ids)

    # Rows are never changed in place (a search may be reading them): each change returns new Rows.
    def with_upsert(self, memory_id: str, document: str, metadata: dict[str, Any], vector: np.ndarray) -> "Rows":
        vector = _unit(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if memory_id in self.ids:
            n = self.ids.index(memory_id)
            vectors = self.vectors.copy()
            vectors[n] = vector[0]
            return Rows(self.ids, _replace(self.documents, n, document), _replace(self.metadatas, n, dict(metadata)),
                        vectors)
        return Rows([*self.ids, memory_id], [*self.documents, document], [*self.metadatas, dict(metadata)],
                    vector if not len(self.vectors) else np.vstack([self.vectors, vector]))

    def with_metadata(self, memory_id: str, metadata: dict[str, Any]) -> "Rows":
        if memory_id not in self.ids:
            return self
        return Rows(self.ids, self.documents, _replace(self.metadatas, self.ids.index(memory_id), dict(metadata)),
                    self.vectors)

    def without(self, memory_ids: set[str]) -> "Rows":
        keep = [n for n, i in enumerate(self.ids) if i not in memory_ids]
        if len(keep) == len(self.ids):
            return self
        return Rows([self.ids[n] for n in keep], [self.documents[n] for n in keep],
                    [self.metadatas[n] for n in keep],
                    self.vectors[keep] if keep else np.zeros((0, 0), dtype=np.float32))


def _replace(values: list, n: int, value) -> list:
    out = list(values)
    out[n] = value
    return out


def _unit(matrix: np.ndarray) -> np.ndarray:
    if not matrix.size:
        return matrix
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class UserRowsCache:
    """(user, level) → Rows, LRU by user, bounded by the total number of cached rows."""

    def __init__(self, max_rows: int = 50_000):
        self.max_rows = max_rows
        self._users: OrderedDict[str, dict[str, Rows]] = OrderedDict()
        self._generation: dict[str, int] = {}
        self._rows = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def generation(self, user_id: str) -> int:
        with self._lock:
            return self._generation.get(user_id, 0)

    def get(self, user_id: str, level: str) -> Rows | None:
        with self._lock:
            levels = self._users.get(user_id)
            rows = None if levels is None else levels.get(level)
            if rows is None:
                self.misses += 1
                return None
            self._users.move_to_end(user_id)
            self.hits += 1
            return rows

    def put(self, user_id: str, level: str, rows: Rows, generation: int) -> None:
        """Cache rows read from Chroma, unless a write for this user happened since `generation`."""
        with self._lock:
            if self._generation.get(user_id, 0) != generation or len(rows) > self.max_rows:
                return
            levels = self._users.setdefault(user_id, {})
            self._rows += len(rows) - len(levels.get(level, ()))
            levels[level] = rows
            self._users.move_to_end(user_id)
            while self._rows > self.max_rows and len(self._users) > 1:
                _, evicted = self._users.popitem(last=False)
                self._rows -= sum(len(r) for r in evicted.values())

    # --- write notifications (called by MemoryStore after Chroma accepted the write) ------------
    def upserted(self, level: str, items: Iterable[tuple[str, str, str, dict[str, Any], np.ndarray]]) -> None:
        """items: (user_id, memory_id, document, metadata, vector)."""
        with self._lock:
            for user_id, memory_id, document, metadata, vector in items:
                self._bump(user_id)
                self._change(user_id, level, lambda rows: rows.with_upsert(memory_id, document, metadata, vector))

    def metadata_changed(self, level: str, items: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """items: (user_id, memory_id, metadata)."""
        with self._lock:
            for user_id, memory_id, metadata in items:
                self._bump(user_id)
                self._change(user_id, level, lambda rows: rows.with_metadata(memory_id, metadata))

    def deleted(self, user_id: str, level: str, memory_ids: Iterable[str]) -> None:
        with self._lock:
            self._bump(user_id)
            gone = set(memory_ids)
            self._change(user_id, level, lambda rows: rows.without(gone))

    def forget_user(self, user_id: str) -> None:
        with self._lock:
            self._bump(user_id)
            levels = self._users.pop(user_id, None)
            if levels:
                self._rows -= sum(len(r) for r in levels.values())

    def _change(self, user_id: str, level: str, change) -> None:
        levels = self._users.get(user_id)
        rows = None if levels is None else levels.get(level)
        if rows is not None:
            levels[level] = changed = change(rows)
            self._rows += len(changed) - len(rows)

    def _bump(self, user_id: str) -> None:
        self._generation[user_id] = self._generation.get(user_id, 0) + 1

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"users": len(self._users), "rows": self._rows, "hits": self.hits, "misses": self.misses}
