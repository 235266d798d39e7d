"""Append-only audit history of every memory change, in SQLite beside the store.

Each add / reinforce / supersede / update / delete / feedback is one row with time, user,
memory id, action, source and the text at that moment, so the UI can show what changed and
why, and it survives restarts. SQLite in WAL mode with a synchronous commit per write: once a
write-back is acknowledged it is on disk. Forgetting a user deletes their rows too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


class MemoryHistory:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("""CREATE TABLE IF NOT EXISTS history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, user_id TEXT NOT NULL,
            memory_id TEXT NOT NULL, action TEXT NOT NULL, source TEXT NOT NULL,
            level TEXT NOT NULL, text TEXT NOT NULL, detail TEXT NOT NULL)""")
        self._db.execute("CREATE INDEX IF NOT EXISTS history_user ON history(user_id, seq)")

    def record(self, user_id: str, memory_id: str, action: str, *, source: str = "", level: str = "",
               text: str = "", **detail: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO history(ts, user_id, memory_id, action, source, level, text, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), user_id, memory_id, action, source, level, text, json.dumps(detail, default=str)))

    def for_user(self, user_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, ts, memory_id, action, source, level, text, detail FROM history "
                "WHERE user_id = ? ORDER BY seq DESC LIMIT ?", (user_id, limit)).fetchall()
        return [{"seq": r[0], "ts": r[1], "memory_id": r[2], "action": r[3], "source": r[4],
                 "level": r[5], "text": r[6], "detail": json.loads(r[7])} for r in rows]

    def forget_user(self, user_id: str) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM history WHERE user_id = ?", (user_id,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
