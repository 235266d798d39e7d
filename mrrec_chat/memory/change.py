"""The one write path of memory: a `Change` to one user's entries, applied with its audit rows.

Every write — the builders' initial memory, chat write-back, 👍/👎/seen feedback, hand-written
adds, edits and deletes, summary refreshes — is expressed as a `Change` and goes through `apply`,
the only function here that writes entries. The order is fixed: deletions, then new or replaced
entries (embedded in one batch unless vectors are given), then metadata-only updates (reinforced or
superseded entries: no re-embedding), and the audit rows last, in one transaction, so the history
never claims a change that failed. (Forgetting a user erases everything at once instead; see
`api.MemoryAPI.forget_user`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mrrec_chat.memory.history import MemoryHistory
from mrrec_chat.memory.schema import MemoryEntry
from mrrec_chat.memory.store import MemoryStore

# (user_id, memory_id, action, source, level, text, detail): one row of `MemoryHistory`.
AuditRow = tuple[str, str, str, str, str, str, dict[str, Any]]


@dataclass
class Change:
    """What one write does to a user's memory (see the module doc for the order of application)."""

    add: list[MemoryEntry] = field(default_factory=list)
    update: list[MemoryEntry] = field(default_factory=list)  # metadata only
    delete: list[MemoryEntry] = field(default_factory=list)
    rows: list[AuditRow] = field(default_factory=list)
    embeddings: np.ndarray | None = None  # vectors of `add`, when the caller already has them

    def audit(self, entry: MemoryEntry, action: str, source: str, **detail: Any) -> None:
        """Add the audit row for `action` on `entry` (its text as it is now)."""
        self.rows.append((entry.user_id, entry.memory_id, action, source, entry.level, entry.text, detail))


def apply(store: MemoryStore, history: MemoryHistory, change: Change) -> None:
    """Write `change`: deletions, additions, metadata updates, then its audit rows."""
    for entry in change.delete:
        store.delete(entry.user_id, entry.memory_id)
    if change.add:
        store.add(change.add, embeddings=change.embeddings)
    if change.update:
        store.update_metadata(change.update)
    history.record_many(change.rows)
