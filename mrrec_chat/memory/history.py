"""Append-only audit history of every memory change, in SQLite beside the store.

Each add / reinforce / supersede / update / delete / refresh / feedback is one row with time,
user, memory id, action, source and the text at that moment (an update or refresh also keeps the
previous text in `detail`), so the UI can show what changed and why, and it survives restarts.
SQLite in WAL mode with a synchronous commit per write: once a write-back is acknowledged it is
on disk. A write-back's rows go in one transaction (one fsync per turn, not one per row).

Two small side tables live in the same file:
  refresh_pending  per (user, category): chat/feedback evidence since the category's summary was
                   last rebuilt (see refresh.py)
  forgotten        dataset users who asked to be forgotten, as a salted hash only, so their memory
                   is not silently rebuilt from the dataset on the next visit (see api.py)
Forgetting a user deletes their history and pending rows; `secure_delete` overwrites the freed
pages, so the deleted text does not linger in the database file either.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable


class MemoryHistory:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("""CREATE TABLE IF NOT EXISTS history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, user_id TEXT NOT NULL,
            memory_id TEXT NOT NULL, action TEXT NOT NULL, source TEXT NOT NULL,
            level TEXT NOT NULL, text TEXT NOT NULL, detail TEXT NOT NULL)""")
        self._db.execute("CREATE INDEX IF NOT EXISTS history_user ON history(user_id, seq)")
        self._db.execute("""CREATE TABLE IF NOT EXISTS refresh_pending (
            user_id TEXT NOT NULL, category TEXT NOT NULL, pending INTEGER NOT NULL,
            PRIMARY KEY (user_id, category))""")
        self._db.execute("CREATE TABLE IF NOT EXISTS forgotten (key TEXT PRIMARY KEY, ts REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = self._db.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()
        if row is None:  # per-store salt: the tombstone of "196" differs between installations
            import secrets

            self._db.execute("INSERT OR IGNORE INTO meta(name, value) VALUES ('salt', ?)", (secrets.token_hex(16),))
            row = self._db.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()
        self._salt = row[0]

    # --- audit rows -----------------------------------------------------------------------
    def record(self, user_id: str, memory_id: str, action: str, *, source: str = "", level: str = "",
               text: str = "", **detail: Any) -> None:
        self.record_many([(user_id, memory_id, action, source, level, text, detail)])

    def record_many(self, rows: Iterable[tuple[str, str, str, str, str, str, dict[str, Any]]]) -> int:
        """Rows of (user_id, memory_id, action, source, level, text, detail) in one transaction."""
        now = time.time()
        values = [(now, u, m, a, s, lv, t, json.dumps(d, default=str)) for u, m, a, s, lv, t, d in rows]
        if not values:
            return 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO history(ts, user_id, memory_id, action, source, level, text, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return len(values)

    def for_user(self, user_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, ts, memory_id, action, source, level, text, detail FROM history "
                "WHERE user_id = ? ORDER BY seq DESC LIMIT ?", (user_id, limit)).fetchall()
        return [{"seq": r[0], "ts": r[1], "memory_id": r[2], "action": r[3], "source": r[4],
                 "level": r[5], "text": r[6], "detail": json.loads(r[7])} for r in rows]

    def count_user(self, user_id: str) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM history WHERE user_id = ?", (user_id,)).fetchone()[0])

    def has_source(self, user_id: str, source: str) -> bool:
        """Whether any row of the user came from `source` (e.g. "builder": memory was built once)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM history WHERE user_id = ? AND source = ? LIMIT 1",
                                    (user_id, source)).fetchone() is not None

    def deleted_ids(self, user_id: str) -> set[str]:
        """Ids the user deleted by hand: refresh must not bring them back."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT memory_id FROM history WHERE user_id = ? AND action = 'delete'",
                                    (user_id,)).fetchall()
        return {r[0] for r in rows}

    # --- summary refresh bookkeeping --------------------------------------------------------
    def bump_pending(self, user_id: str, categories: Iterable[str]) -> dict[str, int]:
        """Add one piece of evidence per category occurrence; return the new pending counts."""
        counts: dict[str, int] = {}
        for category in categories:
            counts[category] = counts.get(category, 0) + 1
        if not counts:
            return {}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for category, n in counts.items():
                    self._db.execute(
                        "INSERT INTO refresh_pending(user_id, category, pending) VALUES (?, ?, ?) "
                        "ON CONFLICT(user_id, category) DO UPDATE SET pending = pending + excluded.pending",
                        (user_id, category, n))
                marks = ",".join("?" * len(counts))
                rows = self._db.execute(f"SELECT category, pending FROM refresh_pending WHERE user_id = ? "
                                        f"AND category IN ({marks})", (user_id, *counts)).fetchall()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return {c: int(p) for c, p in rows}

    def clear_pending(self, user_id: str, category: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM refresh_pending WHERE user_id = ? AND category = ?", (user_id, category))

    # --- forgetting -----------------------------------------------------------------------
    def _tombstone(self, dataset: str, user_id: str) -> str:
        return hashlib.sha256(f"{self._salt}\x00{dataset}\x00{user_id}".encode()).hexdigest()

    def mark_forgotten(self, dataset: str, user_id: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO forgotten(key, ts) VALUES (?, ?)",
                             (self._tombstone(dataset, user_id), time.time()))

    def is_forgotten(self, dataset: str, user_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM forgotten WHERE key = ?",
                                    (self._tombstone(dataset, user_id),)).fetchone() is not None

    def clear_forgotten(self, dataset: str, user_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM forgotten WHERE key = ?", (self._tombstone(dataset, user_id),))

    def forget_user(self, user_id: str) -> int:
        """Delete the user's audit rows and refresh bookkeeping; returns the audit rows removed."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._db.execute("DELETE FROM history WHERE user_id = ?", (user_id,)).rowcount
                self._db.execute("DELETE FROM refresh_pending WHERE user_id = ?", (user_id,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            # Move the WAL's copies of the deleted pages into the main file (now zeroed there).
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()
