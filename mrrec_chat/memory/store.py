"""The Chroma-backed memory store: one collection per memory level, `user_id` in metadata.

The same layout works embedded (`PersistentClient`, default) and against a Chroma server
(`HttpClient`, when `chroma_host` is set). Every per-user read goes through `user_filter`, the
single function that builds a user's `where` clause, so no code path can forget it (mem0 #2170).
The embedded store takes an exclusive file lock: Chroma's embedded client is not process-safe,
so a second process on the same directory is refused with a clear message instead of corrupting it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from mrrec_chat.embedding import Embedder
from mrrec_chat.memory.schema import (GLOBAL_USER, LEVELS, LOCAL_LEVELS, MemoryEntry,
                                      RetrievedMemory, id_segment, validate_user_id)
from mrrec_chat.memory.rowcache import Rows, UserRowsCache

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    pass


class MemoryIdConflict(StoreError, ValueError):
    """A write would overwrite an entry that belongs to another user (ids are upserted)."""


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


# Retrieval prior ("retrieval prefers recent, confirmed entries"): a bonus added to the cosine
# similarity when ranking, never stored. It is at most RECENCY_WEIGHT + CONFIDENCE_WEIGHT = 0.08:
# with MiniLM, a relevant and an unrelated memory differ by 0.15-0.4 in cosine, so the prior only
# reorders near-ties (e.g. yesterday's "can't stand horror" beats a 1998 rating of a horror film
# that is equally similar) and never lets a fresh but off-topic entry outrank a relevant one.
RECENCY_WEIGHT = 0.05
RECENCY_HALF_LIFE_DAYS = 90.0
CONFIDENCE_WEIGHT = 0.03


def _current_of(metadata: dict[str, Any], user_id: str) -> bool:
    return metadata.get("status") == "current" and metadata.get("user_id") == user_id


def retrieval_prior(entry: MemoryEntry, now: float) -> float:
    """Recency (exponential decay, 90-day half-life, by `created_at`, which a reinforcement
    refreshes) plus confidence (1.0 for data and user-confirmed entries; the extractor's 0.5-1.0
    for chat statements, raised by each repetition)."""
    age_days = max(0.0, now - float(entry.created_at or 0.0)) / 86400.0
    recency = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    confidence = min(1.0, max(0.0, float(entry.confidence)))
    return RECENCY_WEIGHT * recency + CONFIDENCE_WEIGHT * confidence


def make_client(memory_dir: str, chroma_host: str = "", chroma_port: int = 8000):
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False)
    if chroma_host:
        host, ssl = _split_scheme(chroma_host)
        try:
            client = chromadb.HttpClient(host=host, port=int(chroma_port), ssl=ssl, settings=settings)
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"Cannot reach the Chroma server at {chroma_host}:{chroma_port} ({exc}). "
                             f"Start one with `chroma run --path DIR --port {chroma_port}` or unset "
                             f"MRREC_CHROMA_HOST to use the embedded store.") from exc
        return client, None
    path = Path(memory_dir)
    check_store_dir(path)  # before anything is created: a foreign directory is never written to
    _check_chroma_file(path)
    path.mkdir(parents=True, exist_ok=True)
    lock = _acquire_lock(path)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=settings)
    except StoreError:
        lock.release()
        raise
    except Exception as exc:  # noqa: BLE001
        lock.release()
        raise StoreError(f"The memory store at {path} could not be opened ({exc}). It may be corrupt "
                         f"or from another program: move it aside (nothing is deleted automatically) "
                         f"or point MRREC_MEMORY_DIR to another directory.") from exc
    return client, lock


def _split_scheme(host: str) -> tuple[str, bool]:
    """`https://h` -> (h, ssl=True); `http://h` or `h` -> (h, False); a trailing slash is dropped."""
    host = host.strip().rstrip("/")
    for scheme, ssl in (("https://", True), ("http://", False)):
        if host.lower().startswith(scheme):
            return host[len(scheme):], ssl
    return host, False


# What an MR.Rec memory directory may hold: Chroma's database and its segment folders (named by
# UUID), the audit history, the process lock. Anything else means it is not (only) ours.
_STORE_FILES = re.compile(r"^(chroma\.sqlite3|history\.sqlite3)(-wal|-shm|-journal)?$|^\.mrrec\.lock$|"
                          r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_store_dir(path: Path) -> None:
    """Refuse a memory directory that is not an MR.Rec store, without writing anything to it.

    A missing or empty directory is fine (a new store). One that holds Chroma's database is an
    existing store (its database is checked by `_check_chroma_file`). A directory with
    other files and no Chroma database is someone else's: Chroma would silently create its
    database among them, so it is refused with a clear message instead.
    """
    if path.exists() and not path.is_dir():
        raise StoreError(f"The memory store path {path} is a file, not a directory. Point "
                         f"MRREC_MEMORY_DIR (--memory-dir) to a directory; nothing was changed.")
    if not path.is_dir() or (path / "chroma.sqlite3").exists():
        return
    foreign = sorted(p.name for p in path.iterdir() if not _STORE_FILES.match(p.name))
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise StoreError(f"{path} is not an MR.Rec memory store: it holds other files ({shown}) and no "
                         f"Chroma database. Nothing was changed. Point MRREC_MEMORY_DIR (--memory-dir) "
                         f"to an empty or new directory, or to an existing MR.Rec store.")


def _check_chroma_file(path: Path) -> None:
    """An existing `chroma.sqlite3` must be a readable SQLite database with Chroma's tables.

    Chroma would otherwise create its tables inside any SQLite file of that name (another
    program's data) or fail later with a low-level message. Only read: the one write SQLite may do
    is rolling back a transaction a crash left open (a hot journal), as Chroma itself would.
    """
    import sqlite3

    db_file = path / "chroma.sqlite3"
    if not db_file.exists():
        return
    try:
        db = sqlite3.connect(str(db_file), timeout=10)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise StoreError(f"The memory store at {path} is corrupt or unreadable ({exc}). Nothing was changed "
                             f"or deleted: restore it from a backup or move it aside, or point MRREC_MEMORY_DIR "
                             f"(--memory-dir) to another directory.") from exc
        raise StoreError(f"The memory store at {path} is locked by another program ({exc}); stop it and "
                         f"try again. Nothing was changed.") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The memory store at {path} is corrupt or not a Chroma database ({exc}). Nothing "
                         f"was changed or deleted: restore it from a backup or move it aside, or point "
                         f"MRREC_MEMORY_DIR (--memory-dir) to another directory.") from exc
    if tables and not {"collections", "embeddings"} <= tables:
        raise StoreError(f"{db_file} is an SQLite database of another program (tables: "
                         f"{', '.join(sorted(tables)[:5])}), not an MR.Rec memory store. Nothing was changed. "
                         f"Point MRREC_MEMORY_DIR (--memory-dir) to an empty or new directory.")


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

    def __init__(self, client, dataset: str, embedder: Embedder, lock=None, cache_rows: int | None = None):
        """`cache_rows`: rows of the user-row cache (`memory.rowcache`); default 50,000 when this
        process holds the store's lock (the embedded store), 0 (no cache) otherwise: a Chroma
        server may have other writers, so every search reads it."""
        self.client = client
        if cache_rows is None:
            cache_rows = 50_000 if lock is not None else 0
        self.row_cache = UserRowsCache(cache_rows) if cache_rows > 0 else None
        self.dataset = dataset
        self.embedder = embedder
        self._lock = lock
        self._write_lock = threading.RLock()
        prefix = "mrrec-" + id_segment(dataset).replace("_", "-").replace("'", "").replace("&", "")
        try:
            self.collections = {
                level: client.get_or_create_collection(
                    f"{prefix}-{level}-{embedder.fingerprint}", embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}})
                for level in LEVELS
            }
        except Exception as exc:  # noqa: BLE001 - Chroma's errors are not one class
            self.close()
            raise StoreError(f"The memory collections could not be opened ({exc}). The store may be corrupt "
                             f"or the Chroma server unhealthy; nothing was deleted.") from exc

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # --- writes ---------------------------------------------------------------------------
    def add(self, entries: Iterable[MemoryEntry], embeddings: np.ndarray | None = None) -> int:
        entries = list(entries)
        if not entries:
            return 0
        unknown = {e.level for e in entries} - set(LEVELS)
        if unknown:  # checked before anything is written: a batch is stored whole or not at all
            raise ValueError(f"Unknown memory level(s): {sorted(unknown)}")
        if embeddings is None:
            embeddings = self.embedder.embed([e.text for e in entries], show_progress=len(entries) > 500)
        with self._write_lock:
            batches = []
            for level in LEVELS:
                idx = [i for i, e in enumerate(entries) if e.level == level]
                for start in range(0, len(idx), 2000):
                    chunk = idx[start:start + 2000]
                    self._refuse_foreign_ids(level, [entries[i] for i in chunk])
                    batches.append((level, chunk))
            for level, chunk in batches:
                metadatas = [entries[i].metadata() for i in chunk]
                self.collections[level].upsert(
                    ids=[entries[i].memory_id for i in chunk],
                    embeddings=embeddings[chunk],
                    documents=[entries[i].text for i in chunk],
                    metadatas=metadatas)
                if self.row_cache is not None:
                    self.row_cache.upserted(level, [(entries[i].user_id, entries[i].memory_id, entries[i].text,
                                                     meta, embeddings[i]) for i, meta in zip(chunk, metadatas)])
        return len(entries)

    def _refuse_foreign_ids(self, level: str, entries: list[MemoryEntry]) -> None:
        """Upserting by id must never take over another user's entry.

        Two different user ids can map to the same id segment (`id_segment` turns `@` and `+` into
        `_`, so `a@b` and `a_b` share `b:<dataset>:a_b:<item>`); without this check the second
        user's write would silently replace the first user's entry.
        """
        ids = [e.memory_id for e in entries]
        owner = {e.memory_id: e.user_id for e in entries}
        found = self.collections[level].get(ids=ids, include=["metadatas"])
        for memory_id, meta in zip(found["ids"], found["metadatas"]):
            if (meta or {}).get("user_id") != owner[memory_id]:
                # The message names no id: the caller must learn nothing about the other entry.
                raise MemoryIdConflict("This memory entry could not be stored: its id is taken by another user "
                                       "id that differs only in '@', '+' or '_'. Nothing was written; use "
                                       "another user id.")

    def set_status(self, user_id: str, memory_id: str, status: str, **extra: Any) -> MemoryEntry | None:
        entry = self.get(user_id, memory_id)
        if entry is None:
            return None
        entry.status = status
        entry.extra.update(extra)
        with self._write_lock:
            self.collections[entry.level].update(ids=[memory_id], metadatas=[entry.metadata()])
            if self.row_cache is not None:
                self.row_cache.metadata_changed(entry.level, [(entry.user_id, memory_id, entry.metadata())])
        return entry

    def delete(self, user_id: str, memory_id: str) -> bool:
        entry = self.get(user_id, memory_id, current_only=False)
        if entry is None:
            return False
        with self._write_lock:
            self.collections[entry.level].delete(ids=[memory_id])
            if self.row_cache is not None:
                self.row_cache.deleted(entry.user_id, entry.level, [memory_id])
        return True

    def delete_user(self, user_id: str) -> int:
        return sum(self.delete_user_counts(user_id).values())

    def delete_user_counts(self, user_id: str) -> dict[str, int]:
        """Delete every entry of `user_id` (current and superseded) from every local level.

        Returns the number removed per level. Global memory holds no user data by construction
        (it is built from aggregates and `user_id` there is always GLOBAL_USER).
        """
        validate_user_id(user_id)
        removed: dict[str, int] = {}
        with self._write_lock:
            for level in LOCAL_LEVELS:
                ids = self.collections[level].get(where=user_filter(user_id, current_only=False), include=[])["ids"]
                if ids:
                    self.collections[level].delete(ids=ids)
                removed[level] = len(ids)
            if self.row_cache is not None:
                self.row_cache.forget_user(user_id)
        return removed

    def update_metadata(self, entries: Iterable[MemoryEntry]) -> int:
        """Rewrite metadata only (status, confidence, counts): the text and its vector are unchanged,
        so reinforcing or superseding an entry costs no embedding."""
        entries = list(entries)
        with self._write_lock:
            for level in {e.level for e in entries}:
                chunk = [e for e in entries if e.level == level]
                self.collections[level].update(ids=[e.memory_id for e in chunk],
                                               metadatas=[e.metadata() for e in chunk])
                if self.row_cache is not None:
                    self.row_cache.metadata_changed(level, [(e.user_id, e.memory_id, e.metadata()) for e in chunk])
        return len(entries)

    # --- reads ----------------------------------------------------------------------------
    def get(self, user_id: str, memory_id: str, *, current_only: bool = False) -> MemoryEntry | None:
        """The entry `memory_id` if it belongs to `user_id` (never another user's)."""
        for level in LOCAL_LEVELS:
            result = self.collections[level].get(ids=[str(memory_id)],
                                                 where=user_filter(user_id, current_only=current_only))
            if result["ids"]:
                return MemoryEntry.from_chroma(result["ids"][0], result["documents"][0], result["metadatas"][0])
        return None

    def warm_user(self, user_id: str) -> int:
        """Load `user_id`'s rows of every local level into the row cache; return how many rows.

        Called when a session opens (`Assistant.ensure_user`), so a chat turn's searches and
        listings, including the first, read no Chroma: the per-user `get` grows with the whole
        collection (~110 ms per level at 1M entries, README "Performance"). No-op without a cache.
        """
        if self.row_cache is None:
            return 0
        return sum(len(self._user_rows(level, user_id)) for level in LOCAL_LEVELS)

    def _user_rows(self, level: str, user_id: str) -> Rows:
        """All of `user_id`'s rows of one local level (every status), from the row cache if enabled."""
        return self._load_rows(self.collections[level], user_filter(user_id, current_only=False), user_id,
                               self.row_cache, level)

    def count_user(self, user_id: str, level: str | None = None) -> int:
        levels = [level] if level else list(LOCAL_LEVELS)
        if self.row_cache is not None:
            return sum(sum(1 for m in self._user_rows(lv, user_id).metadatas if _current_of(m, user_id))
                       for lv in levels)
        return sum(len(self.collections[lv].get(where=user_filter(user_id), include=[])["ids"]) for lv in levels)

    def list_user(self, user_id: str, level: str | None = None, *, current_only: bool = True) -> list[MemoryEntry]:
        levels = [level] if level else list(LOCAL_LEVELS)
        entries: list[MemoryEntry] = []
        for lv in levels:
            if self.row_cache is not None:
                rows = self._user_rows(lv, user_id)
                entries += [MemoryEntry.from_chroma(i, d, m) for i, d, m in zip(rows.ids, rows.documents, rows.metadatas)
                            if (_current_of(m, user_id) if current_only else m.get("user_id") == user_id)]
                continue
            result = self.collections[lv].get(where=user_filter(user_id, current_only=current_only))
            entries += [MemoryEntry.from_chroma(i, d, m)
                        for i, d, m in zip(result["ids"], result["documents"], result["metadatas"])]
        entries.sort(key=lambda e: (LEVELS.index(e.level), -e.created_at, e.memory_id))
        return entries

    def search(self, user_id: str, query: str, k: int = 3, levels: Iterable[str] = LOCAL_LEVELS,
               query_embedding: np.ndarray | None = None) -> list[RetrievedMemory]:
        """Top-k current local memories of `user_id` for `query`, merged across `levels`.

        Exact search over the user's own rows: Chroma `get` by the user-id filter alone, then the
        status check and one matrix product here. A filtered HNSW query, or a `get` under `$and`
        with the status, grows with the whole collection (measured: `python -m mrrec_lab.bench
        memory`). The `get` still grows with the collection, so the rows it returns are kept in
        `row_cache` (embedded store only) and later searches of the same user read no Chroma.
        """
        where = user_filter(user_id, current_only=False)
        vector = self.embedder.embed_one(query) if query_embedding is None else query_embedding
        found: list[RetrievedMemory] = []
        # A few extra candidates per level so the prior below can reorder near-ties across levels.
        fetch = k + min(k, 5) if k > 0 else 0
        for level in levels:
            if level not in LOCAL_LEVELS:
                raise ValueError(f"{level!r} is not a local memory level")
            found += self._scan(self.collections[level], vector, fetch, where, user_id,
                                self.row_cache, level)
        now = time.time()
        found.sort(key=lambda r: r.score + retrieval_prior(r.entry, now), reverse=True)
        return found[:k]

    def search_global(self, query: str, k: int = 3, query_embedding: np.ndarray | None = None) -> list[RetrievedMemory]:
        vector = self.embedder.embed_one(query) if query_embedding is None else query_embedding
        return self._query(self.collections["global"], vector, k, _where(GLOBAL_USER, True, {}))

    def count_global(self) -> int:
        return self.collections["global"].count()

    @staticmethod
    def _scan(collection, vector: np.ndarray, k: int, where: dict, user_id: str,
              cache: UserRowsCache | None = None, level: str = "") -> list[RetrievedMemory]:
        """The k most cosine-similar current rows among those `where` selects (exact)."""
        if k <= 0:
            return []
        rows = MemoryStore._load_rows(collection, where, user_id, cache, level)
        keep = [n for n, m in enumerate(rows.metadatas) if _current_of(m, user_id)]  # belt and braces
        if not keep:
            return []
        query = np.asarray(vector, dtype=np.float32)
        scores = rows.vectors[keep] @ (query / max(float(np.linalg.norm(query)), 1e-12))
        best = np.argsort(-scores, kind="stable")[:k]
        return [RetrievedMemory(MemoryEntry.from_chroma(rows.ids[keep[i]], rows.documents[keep[i]],
                                                        rows.metadatas[keep[i]]), float(scores[i]))
                for i in best]

    @staticmethod
    def _load_rows(collection, where: dict, user_id: str, cache: UserRowsCache | None, level: str) -> Rows:
        """The rows `where` selects: from `cache` when it holds them, else read from Chroma (and cached)."""
        rows = cache.get(user_id, level) if cache is not None else None
        if rows is None:
            generation = cache.generation(user_id) if cache is not None else 0
            rows = Rows.from_chroma(collection.get(where=where, include=["embeddings", "documents", "metadatas"]))
            if cache is not None:
                cache.put(user_id, level, rows, generation)
        return rows

    @staticmethod
    def _query(collection, vector: np.ndarray, k: int, where: dict) -> list[RetrievedMemory]:
        if k <= 0:
            return []
        for attempt in range(3):
            try:
                result = collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k,
                                          where=where, include=["documents", "metadatas", "distances"])
                break
            except Exception as exc:  # noqa: BLE001
                # A Chroma *server* answers "Error creating hnsw segment reader: Nothing found on
                # disk" for a read of a new collection while its first write is being indexed
                # (found by the soak: mrrec_lab/chroma_churn.py --pattern first-write; upstream
                # chroma-core/chroma#4212). The write stands; a moment later the read succeeds.
                if "Nothing found on disk" not in str(exc) or attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))
        return [RetrievedMemory(MemoryEntry.from_chroma(i, d, m), 1.0 - float(dist))
                for i, d, m, dist in zip(result["ids"][0], result["documents"][0],
                                         result["metadatas"][0], result["distances"][0])]
