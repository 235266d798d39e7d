"""The Chroma-backed memory store: one collection per memory level, `user_id` in metadata.

The same layout works embedded (`PersistentClient`, default) and against a Chroma server
(`HttpClient`, when `chroma_host` is set). Every per-user read goes through `user_filter`, the
single function that builds a user's `where` clause, so no code path can forget it (mem0 #2170).
The embedded store takes an exclusive file lock: Chroma's embedded client is not process-safe,
so a second process on the same directory is refused with a clear message instead of corrupting it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from mrrec_chat.embedding import Embedder
from mrrec_chat.memory.schema import (GLOBAL_USER, LEVELS, LOCAL_LEVELS, MemoryEntry,
                                      RetrievedMemory, id_segment, validate_user_id)

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    pass


def user_filter(user_id: str, *, current_only: bool = True, **equals: Any) -> dict[str, Any]:
    """The one function that builds every per-user Chroma `where` clause.

    `user_id` is validated first (no wildcards or operators can get through), then combined with
    the status filter and any extra equality conditions under `$and` (Chroma needs `$and` for
    more than one key).
    """
    validate_user_id(user_id)
    return _where(user_id, current_only, equals)


def _where(user_id: str, current_only: bool, equals: dict[str, Any]) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [{"user_id": {"$eq": user_id}}]
    if current_only:
        clauses.append({"status": {"$eq": "current"}})
    for key, value in equals.items():
        if not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"Filter value for {key!r} must be a scalar.")
        clauses.append({key: {"$eq": value}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def make_client(memory_dir: str, chroma_host: str = "", chroma_port: int = 8000):
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False)
    if chroma_host:
        try:
            client = chromadb.HttpClient(host=chroma_host, port=chroma_port, settings=settings)
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"Cannot reach the Chroma server at {chroma_host}:{chroma_port} ({exc}). "
                             f"Start one with `chroma run --path DIR --port {chroma_port}` or unset "
                             f"MRREC_CHROMA_HOST to use the embedded store.") from exc
        return client, None
    path = Path(memory_dir)
    path.mkdir(parents=True, exist_ok=True)
    lock = _acquire_lock(path)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:  # noqa: BLE001
        lock.release()
        raise StoreError(f"The memory store at {path} could not be opened ({exc}). It may be corrupt "
                         f"or from another program: move it aside (nothing is deleted automatically) "
                         f"or point MRREC_MEMORY_DIR to another directory.") from exc
    return client, lock


def _acquire_lock(path: Path):
    from filelock import FileLock, Timeout

    lock = FileLock(str(path / ".mrrec.lock"))
    try:
        lock.acquire(timeout=0.5)
    except Timeout as exc:
        raise StoreError(f"Another MR.Rec process is using the memory store at {path}. The embedded "
                         f"store is single-process: stop the other process, use another "
                         f"MRREC_MEMORY_DIR, or run a Chroma server and set MRREC_CHROMA_HOST.") from exc
    return lock


class MemoryStore:
    """Memory of one dataset (collections are namespaced by dataset name)."""

    def __init__(self, client, dataset: str, embedder: Embedder, lock=None):
        self.client = client
        self.dataset = dataset
        self.embedder = embedder
        self._lock = lock
        self._write_lock = threading.RLock()
        prefix = "mrrec-" + id_segment(dataset).replace("_", "-").replace("'", "").replace("&", "")
        self.collections = {
            level: client.get_or_create_collection(
                f"{prefix}-{level}-{embedder.fingerprint}", embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}})
            for level in LEVELS
        }

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # --- writes ---------------------------------------------------------------------------
    def add(self, entries: Iterable[MemoryEntry], embeddings: np.ndarray | None = None) -> int:
        entries = list(entries)
        if not entries:
            return 0
        if embeddings is None:
            embeddings = self.embedder.embed([e.text for e in entries], show_progress=len(entries) > 500)
        with self._write_lock:
            for level in LEVELS:
                idx = [i for i, e in enumerate(entries) if e.level == level]
                if not idx:
                    continue
                for start in range(0, len(idx), 2000):
                    chunk = idx[start:start + 2000]
                    self.collections[level].upsert(
                        ids=[entries[i].memory_id for i in chunk],
                        embeddings=embeddings[chunk],
                        documents=[entries[i].text for i in chunk],
                        metadatas=[entries[i].metadata() for i in chunk])
            unknown = {e.level for e in entries} - set(LEVELS)
            if unknown:
                raise ValueError(f"Unknown memory level(s): {sorted(unknown)}")
        return len(entries)

    def set_status(self, user_id: str, memory_id: str, status: str, **extra: Any) -> MemoryEntry | None:
        entry = self.get(user_id, memory_id)
        if entry is None:
            return None
        entry.status = status
        entry.extra.update(extra)
        with self._write_lock:
            self.collections[entry.level].update(ids=[memory_id], metadatas=[entry.metadata()])
        return entry

    def delete(self, user_id: str, memory_id: str) -> bool:
        entry = self.get(user_id, memory_id, current_only=False)
        if entry is None:
            return False
        with self._write_lock:
            self.collections[entry.level].delete(ids=[memory_id])
        return True

    def delete_user(self, user_id: str) -> int:
        validate_user_id(user_id)
        removed = 0
        with self._write_lock:
            for level in LOCAL_LEVELS:
                ids = self.collections[level].get(where=user_filter(user_id, current_only=False))["ids"]
                if ids:
                    self.collections[level].delete(ids=ids)
                    removed += len(ids)
        return removed

    # --- reads ----------------------------------------------------------------------------
    def get(self, user_id: str, memory_id: str, *, current_only: bool = False) -> MemoryEntry | None:
        """The entry `memory_id` if it belongs to `user_id` (never another user's)."""
        for level in LOCAL_LEVELS:
            result = self.collections[level].get(ids=[str(memory_id)],
                                                 where=user_filter(user_id, current_only=current_only))
            if result["ids"]:
                return MemoryEntry.from_chroma(result["ids"][0], result["documents"][0], result["metadatas"][0])
        return None

    def count_user(self, user_id: str, level: str | None = None) -> int:
        levels = [level] if level else list(LOCAL_LEVELS)
        return sum(len(self.collections[lv].get(where=user_filter(user_id), include=[])["ids"]) for lv in levels)

    def list_user(self, user_id: str, level: str | None = None, *, current_only: bool = True) -> list[MemoryEntry]:
        levels = [level] if level else list(LOCAL_LEVELS)
        entries: list[MemoryEntry] = []
        for lv in levels:
            result = self.collections[lv].get(where=user_filter(user_id, current_only=current_only))
            entries += [MemoryEntry.from_chroma(i, d, m)
                        for i, d, m in zip(result["ids"], result["documents"], result["metadatas"])]
        entries.sort(key=lambda e: (LEVELS.index(e.level), -e.created_at, e.memory_id))
        return entries

    def search(self, user_id: str, query: str, k: int = 3, levels: Iterable[str] = LOCAL_LEVELS,
               query_embedding: np.ndarray | None = None) -> list[RetrievedMemory]:
        """Top-k current local memories of `user_id` for `query`, merged across `levels`."""
        where = user_filter(user_id)
        vector = self.embedder.embed_one(query) if query_embedding is None else query_embedding
        found: list[RetrievedMemory] = []
        for level in levels:
            if level not in LOCAL_LEVELS:
                raise ValueError(f"{level!r} is not a local memory level")
            found += self._query(self.collections[level], vector, k, where)
        # Chat-learned entries are the user's own current words: a small boost makes them win
        # ties against older dataset-derived entries (issue: "retrieval prefers recent, confirmed").
        found.sort(key=lambda r: r.score + (0.05 if r.entry.level == "chat" else 0.0), reverse=True)
        return found[:k]

    def search_global(self, query: str, k: int = 3, query_embedding: np.ndarray | None = None) -> list[RetrievedMemory]:
        vector = self.embedder.embed_one(query) if query_embedding is None else query_embedding
        return self._query(self.collections["global"], vector, k, _where(GLOBAL_USER, True, {}))

    def count_global(self) -> int:
        return self.collections["global"].count()

    @staticmethod
    def _query(collection, vector: np.ndarray, k: int, where: dict) -> list[RetrievedMemory]:
        if k <= 0:
            return []
        result = collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                  where=where, include=["documents", "metadatas", "distances"])
        return [RetrievedMemory(MemoryEntry.from_chroma(i, d, m), 1.0 - float(dist))
                for i, d, m, dist in zip(result["ids"][0], result["documents"][0],
                                         result["metadatas"][0], result["distances"][0])]
