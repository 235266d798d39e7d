"""The memory service: everything the app, the UI and the tests do with a user's memory.

One class, built from its components (store, audit history, writer, summary refresher, per-user
locks, the dataset) — not from the Assistant, which builds it in `start()` and exposes it as
`assistant.memory`. Reads: list by level, search, export as JSON, the audit history. Writes, all
through one path (lock the user → `MemoryWriter` decides the change → `change.apply` writes it
with its audit rows → the summaries catch up): the builders' initial memory (`ensure_user`), chat
write-back (`remember`), 👍/👎/seen (`feedback`), hand-written `add`, `edit`, `delete`; and
`forget_user`. Every method validates the user id first (`schema.validate_user_id`) and only ever
touches that user's entries, through the store's single filter builder, so no call can read or
change another user's memory.

Decisions (documented here because the UI relies on them):
- Text limits: empty or whitespace-only text is refused (ValueError). Text over MAX_TEXT_CHARS
  (2,000) is refused too, not truncated: a memory is a statement the assistant will act on, and a
  silently cut statement may mean something else ("I love everything except" ...). The error says
  the length and the limit, so the UI can show it.
- Unknown ids and other users' ids raise the same MemoryNotFound with the same message: the
  caller learns nothing about entries that are not theirs.
- Edits keep the id, re-embed the new text, keep the old text in the history, and count as
  confirmed (confidence 1.0). A chat entry is re-read by the extractor, so editing "Strongly
  dislikes Horror movies" into "Loves horror movies" really flips how grounding treats it.
  Superseded entries are history and cannot be edited.
- Hand-added chat entries replace (supersede) the current entry on the same subject.
- Forgetting deletes every entry of the user from every collection, every audit row, and the
  refresh bookkeeping. For a dataset user it also leaves a salted-hash tombstone, so their memory
  is not silently rebuilt from the dataset on the next visit (which would undo the forgetting);
  choosing that dataset user again explicitly (`rebuild_from_dataset`, the UI's user picker)
  clears the tombstone and rebuilds. New users leave no tombstone at all.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any, Callable

from mrrec_chat.data.schema import Dataset
from mrrec_chat.memory.builders import build_user_memory
from mrrec_chat.memory.history import MemoryHistory
from mrrec_chat.memory.refresh import SummaryRefresher
from mrrec_chat.memory.schema import (LOCAL_LEVELS, MemoryEntry, RetrievedMemory, id_segment, make_memory_id,
                                      validate_user_id)
from mrrec_chat.memory.store import MemoryStore
from mrrec_chat.memory.writeback import ANNOTATION_KEYS, MemoryWriter, WriteResult
from mrrec_chat.nlu import Preference
from mrrec_chat.text import clean_message

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
MAX_CATEGORY_CHARS = 64
MAX_SEARCH_K = 100


class MemoryNotFound(KeyError):
    """No entry with this id for this user (whether it does not exist or is someone else's)."""

    def __init__(self, memory_id: object):
        self.memory_id = memory_id
        super().__init__(f"No memory entry {str(memory_id)[:80]!r} found for this user.")

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


class UserLocks:
    """One lock per user id: each write (read, decide, store) on a user's memory holds it."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, user_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(user_id, threading.Lock())


def clean_text(text: object, what: str = "Memory text") -> str:
    """Normalised text, or ValueError with a message the UI can show as is."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a string.")
    cleaned, _ = clean_message(text, max_chars=10**9)
    if not cleaned:
        raise ValueError(f"{what} is empty: type what should be remembered.")
    if len(cleaned) > MAX_TEXT_CHARS:
        raise ValueError(f"{what} is {len(cleaned):,} characters; the limit is {MAX_TEXT_CHARS:,}. "
                         f"Shorten it or split it into several entries.")
    return cleaned


def _level(level: object, *, allow_none: bool) -> str | None:
    if level is None and allow_none:
        return None
    if level not in LOCAL_LEVELS:
        raise ValueError(f"Unknown memory level {str(level)[:40]!r}: use one of {', '.join(LOCAL_LEVELS)}.")
    return str(level)


class MemoryAPI:
    def __init__(self, store: MemoryStore, history: MemoryHistory, writer: MemoryWriter,
                 refresher: SummaryRefresher, dataset: Dataset, *,
                 locks: Callable[[str], threading.Lock] | None = None, max_behavior_records: int = 200):
        self._store, self._history, self._writer, self._refresher = store, history, writer, refresher
        self.dataset = dataset
        self.lock = locks or UserLocks()  # lock(user_id) -> that user's lock
        self.max_behavior_records = max_behavior_records

    # --- plumbing -------------------------------------------------------------------------
    def _get(self, user_id: str, memory_id: object) -> MemoryEntry:
        if not isinstance(memory_id, str) or not memory_id or len(memory_id) > 512:
            raise MemoryNotFound(memory_id)
        entry = self._store.get(user_id, memory_id, current_only=False)
        if entry is None:
            raise MemoryNotFound(memory_id)
        return entry

    def _caught_up(self, user_id: str, entries: list[MemoryEntry], stale: list[str] | None = None) -> None:
        """Let summaries catch up (refresh.py). The write itself already stands, so a failed
        refresh is logged, not reported as a failed write; the next evidence retries it."""
        try:
            self._refresher.note(user_id, entries, stale=list(stale or []))
        except Exception:  # noqa: BLE001
            log.exception("summary refresh failed for %s", user_id)

    # --- reads ----------------------------------------------------------------------------
    def list(self, user_id: str, level: str | None = None, include_history: bool = False) -> list[MemoryEntry]:
        """The user's entries (current only, or with superseded ones when include_history)."""
        validate_user_id(user_id)
        return self._store.list_user(user_id, _level(level, allow_none=True), current_only=not include_history)

    def search(self, user_id: str, query: str, k: int = 10) -> list[RetrievedMemory]:
        """Current entries most similar to `query` (the ranking the assistant itself uses)."""
        validate_user_id(user_id)
        text = clean_text(query, "Search query")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError("k must be a positive integer.")
        return self._store.search(user_id, text, k=min(k, MAX_SEARCH_K))

    def history(self, user_id: str, limit: int = 200) -> list[dict]:
        """Audit rows, newest first: add / reinforce / supersede / update / delete / refresh / feedback."""
        validate_user_id(user_id)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError("limit must be a positive integer.")
        return self._history.for_user(user_id, min(limit, 100_000))

    def export_json(self, user_id: str) -> str:
        """Everything stored about the user (all entries, superseded too, and the full history)."""
        validate_user_id(user_id)
        entries = self._store.list_user(user_id, current_only=False)
        return json.dumps({"user_id": user_id, "dataset": self.dataset.name, "exported_at": time.time(),
                           "entries": [e.to_dict() for e in entries],
                           "history": self._history.for_user(user_id, 10**9)}, ensure_ascii=False, indent=2)

    def is_forgotten(self, user_id: str) -> bool:
        validate_user_id(user_id)
        return self._history.is_forgotten(self.dataset.name, user_id)

    # --- writes: the builders, the chat, feedback -------------------------------------------
    def ensure_user(self, user_id: str, explicit: bool = False) -> int:
        """Build a dataset user's memory on first use; return the number of current entries.

        Built once: entries the user later deletes are not rebuilt behind their back. A dataset
        user who asked to be forgotten is not rebuilt either, unless `explicit` (the person picked
        that dataset user again), which clears the tombstone. Also loads the user's rows into the
        store's row cache, so the first chat turn reads no Chroma.
        """
        validate_user_id(user_id)
        known = user_id in self.dataset.by_user
        with self.lock(user_id):
            if known and explicit and self._history.is_forgotten(self.dataset.name, user_id):
                self._history.clear_forgotten(self.dataset.name, user_id)
            if known and self._store.count_user(user_id, "profile") == 0 \
                    and self._store.count_user(user_id, "behavior") == 0 \
                    and not self._history.has_source(user_id, "builder") \
                    and not self._history.is_forgotten(self.dataset.name, user_id):
                self._writer.add_built(build_user_memory(self.dataset, user_id,
                                                        max_records=self.max_behavior_records))
            # Load the user's rows now (page load, user pick), not inside the first chat turn.
            self._store.warm_user(user_id)
            return self._store.count_user(user_id)

    def remember(self, user_id: str, preferences: list[Preference], *, source: str = "chat",
                 turn_id: str = "") -> WriteResult:
        """Chat write-back: store a message's statements (reinforce repeats, supersede contradictions)."""
        validate_user_id(user_id)
        with self.lock(user_id):
            result = self._writer.write_preferences(user_id, preferences, source=source, turn_id=turn_id)
            self._caught_up(user_id, result.entries, result.superseded)
        return result

    def feedback(self, user_id: str, item_id: str, kind: str) -> MemoryEntry:
        """👍 ('up'), 👎 ('down') or 'seen' on a catalog item, as a behavior record."""
        validate_user_id(user_id)
        item = self.dataset.items.get(str(item_id))
        if item is None:
            raise KeyError(f"Unknown item id {item_id!r}.")
        # A dataset user's memory is built before their first feedback: built afterwards, it would
        # be skipped for good (it is built only while the user has no behavior records).
        self.ensure_user(user_id)
        with self.lock(user_id):
            entry = self._writer.feedback(user_id, item, kind)
            self._caught_up(user_id, [entry])
        return entry

    # --- writes by hand ---------------------------------------------------------------------
    def add(self, user_id: str, text: str, level: str = "chat", category: str = "general") -> MemoryEntry:
        """Store a hand-written entry (source "user", confidence 1.0) and return it."""
        validate_user_id(user_id)
        text = clean_text(text)
        lv = _level(level, allow_none=False)
        if not isinstance(category, str) or len(category.strip()) > MAX_CATEGORY_CHARS:
            raise ValueError(f"Category must be a string of at most {MAX_CATEGORY_CHARS} characters.")
        category = category.strip() or "general"
        extra: dict[str, Any] = {"user_written": True, "count": 1}
        now = time.time()
        suffix = uuid.uuid4().hex[:6]
        if lv == "chat":
            annotations, about = self._writer.annotate_text(text)
            extra.update(annotations)
            category = about or category
            part = f"{extra.get('slot', 'note')}-{int(now * 1000):x}{suffix[:2]}"
        else:
            part = f"user-{int(now * 1000):x}{suffix}"
        entry = MemoryEntry(memory_id=make_memory_id(lv, self.dataset.name, user_id, part), level=lv, text=text,
                            user_id=user_id, category=category, source="user", created_at=now,
                            confidence=1.0, extra=extra)
        with self.lock(user_id):
            superseded = self._writer.add_by_hand(entry)
            self._caught_up(user_id, [entry], superseded)
        return entry

    def edit(self, user_id: str, memory_id: str, text: str) -> MemoryEntry:
        """Replace an entry's text (same id, re-embedded); the old text stays in the history."""
        validate_user_id(user_id)
        text = clean_text(text)
        with self.lock(user_id):
            entry = self._get(user_id, memory_id)
            if entry.status != "current":
                raise ValueError(f"Memory entry {memory_id!r} is superseded and kept as history; "
                                 f"edit the entry that replaced it instead.")
            if text == entry.text:
                return entry
            previous = entry.text
            entry.text = text
            entry.confidence = 1.0  # the user wrote it: confirmed
            entry.created_at = time.time()
            entry.extra["user_edited"] = True
            if entry.level == "chat":
                for key in ANNOTATION_KEYS:
                    entry.extra.pop(key, None)
                annotations, about = self._writer.annotate_text(text)
                entry.extra.update(annotations)
                if about:
                    entry.category = about
            superseded = self._writer.replace_by_hand(entry, previous)
            # Summaries quoting the old wording are rebuilt (the entry's id is "stale" for them).
            self._caught_up(user_id, [entry], [entry.memory_id, *superseded])
        return entry

    def delete(self, user_id: str, memory_id: str) -> None:
        """Remove one entry (the history keeps a row saying it was deleted, and its text)."""
        validate_user_id(user_id)
        with self.lock(user_id):
            entry = self._get(user_id, memory_id)
            self._writer.delete_by_hand(entry)
            self._caught_up(user_id, [entry], [entry.memory_id])

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Right to be forgotten: every entry in every collection, every history row.

        Erasure, not a change: nothing of the user is left to audit. Returns the number removed
        per level and `history` (audit rows).
        """
        validate_user_id(user_id)
        with self.lock(user_id):
            counts = self._store.delete_user_counts(user_id)
            counts["history"] = self._history.forget_user(user_id)
            if user_id in self.dataset.by_user:
                self._history.mark_forgotten(self.dataset.name, user_id)
        return counts

    def rebuild_from_dataset(self, user_id: str) -> int:
        """The user chose this dataset user again explicitly: clear a tombstone and rebuild.

        Returns the number of current entries; raises ValueError for ids not in the dataset.
        """
        validate_user_id(user_id)
        if user_id not in self.dataset.by_user:
            raise ValueError(f"{id_segment(user_id)!r} is not a user of the dataset.")
        return self.ensure_user(user_id, explicit=True)
