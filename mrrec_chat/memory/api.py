"""The memory API: what a user (through the UI) and the tests may do with a user's memory.

One module, one class, used by the UI and the tests: list by level, search, add, edit, delete one
entry, forget a user entirely, export as JSON, read the audit history. Every method validates the
user id first (`schema.validate_user_id`) and only ever touches that user's entries, through the
store's single filter builder, so no call can read or change another user's memory.

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
import time
import uuid
from typing import TYPE_CHECKING, Any

from mrrec_chat.memory.schema import (LOCAL_LEVELS, MemoryEntry, RetrievedMemory, id_segment, make_memory_id,
                                      validate_user_id)

if TYPE_CHECKING:
    from mrrec_chat.service import Assistant

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


def clean_text(text: object, what: str = "Memory text") -> str:
    """Normalised text, or ValueError with a message the UI can show as is."""
    from mrrec_chat.service import clean_message

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
    def __init__(self, assistant: Assistant):
        self._assistant = assistant

    # --- plumbing -------------------------------------------------------------------------
    @property
    def _a(self) -> Assistant:
        return self._assistant.start()

    def _get(self, user_id: str, memory_id: object) -> MemoryEntry:
        if not isinstance(memory_id, str) or not memory_id or len(memory_id) > 512:
            raise MemoryNotFound(memory_id)
        entry = self._a.store.get(user_id, memory_id, current_only=False)
        if entry is None:
            raise MemoryNotFound(memory_id)
        return entry

    def _note_evidence(self, user_id: str, entries: list[MemoryEntry], stale: list[str] | None = None) -> None:
        """Let summaries catch up (refresh.py); the change itself already stands."""
        self._a._refresh_summaries(user_id, entries, list(stale or []))

    # --- reads ----------------------------------------------------------------------------
    def list(self, user_id: str, level: str | None = None, include_history: bool = False) -> list[MemoryEntry]:
        """The user's entries (current only, or with superseded ones when include_history)."""
        validate_user_id(user_id)
        return self._a.store.list_user(user_id, _level(level, allow_none=True), current_only=not include_history)

    def search(self, user_id: str, query: str, k: int = 10) -> list[RetrievedMemory]:
        """Current entries most similar to `query` (the ranking the assistant itself uses)."""
        validate_user_id(user_id)
        text = clean_text(query, "Search query")
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError("k must be a positive integer.")
        return self._a.store.search(user_id, text, k=min(k, MAX_SEARCH_K))

    def history(self, user_id: str, limit: int = 200) -> list[dict]:
        """Audit rows, newest first: add / reinforce / supersede / update / delete / refresh / feedback."""
        validate_user_id(user_id)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError("limit must be a positive integer.")
        return self._a.history.for_user(user_id, min(limit, 100_000))

    def export_json(self, user_id: str) -> str:
        """Everything stored about the user (all entries, superseded too, and the full history)."""
        validate_user_id(user_id)
        a = self._a
        entries = a.store.list_user(user_id, current_only=False)
        return json.dumps({"user_id": user_id, "dataset": a.dataset.name, "exported_at": time.time(),
                           "entries": [e.to_dict() for e in entries],
                           "history": a.history.for_user(user_id, 10**9)}, ensure_ascii=False, indent=2)

    # --- writes ---------------------------------------------------------------------------
    def add(self, user_id: str, text: str, level: str = "chat", category: str = "general") -> MemoryEntry:
        """Store a hand-written entry (source "user", confidence 1.0) and return it."""
        validate_user_id(user_id)
        text = clean_text(text)
        lv = _level(level, allow_none=False)
        if not isinstance(category, str) or len(category.strip()) > MAX_CATEGORY_CHARS:
            raise ValueError(f"Category must be a string of at most {MAX_CATEGORY_CHARS} characters.")
        category = category.strip() or "general"
        a = self._a
        extra: dict[str, Any] = {"user_written": True, "count": 1}
        now = time.time()
        suffix = uuid.uuid4().hex[:6]
        if lv == "chat":
            extra.update(a.writer.annotate_text(text))
            if extra.get("subject_type") == "category" and extra.get("holder") == "user":
                category = str(extra["subject"])
            part = f"{extra.get('slot', 'note')}-{int(now * 1000):x}{suffix[:2]}"
        else:
            part = f"user-{int(now * 1000):x}{suffix}"
        entry = MemoryEntry(memory_id=make_memory_id(lv, a.dataset.name, user_id, part), level=lv, text=text,
                            user_id=user_id, category=category, source="user", created_at=now,
                            confidence=1.0, extra=extra)
        with a.user_lock(user_id):
            a.store.add([entry])
            a.history.record(user_id, entry.memory_id, "add", source="user", level=lv, text=text,
                             category=category, kind=str(extra.get("kind", "")))
            superseded = a.writer.supersede_rivals(user_id, entry, source="user") if lv == "chat" else []
            self._note_evidence(user_id, [entry], superseded)
        return entry

    def edit(self, user_id: str, memory_id: str, text: str) -> MemoryEntry:
        """Replace an entry's text (same id, re-embedded); the old text stays in the history."""
        validate_user_id(user_id)
        text = clean_text(text)
        a = self._a
        with a.user_lock(user_id):
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
                for key in ("kind", "subject", "subject_type", "slot", "group", "holder", "polarity",
                            "stated_kind", "who", "item_id", "statements"):
                    entry.extra.pop(key, None)
                entry.extra.update(a.writer.annotate_text(text))
                if entry.extra.get("subject_type") == "category" and entry.extra.get("holder") == "user":
                    entry.category = str(entry.extra["subject"])
            # Delete then add: an upsert would merge metadata and keep keys the new text no
            # longer supports (an old item id would keep excluding that item). Embed first, so a
            # failing embedder leaves the old entry in place.
            vector = a.store.embedder.embed([text])
            a.store.delete(user_id, entry.memory_id)
            a.store.add([entry], embeddings=vector)
            a.history.record(user_id, entry.memory_id, "update", source="user", level=entry.level, text=text,
                             previous_text=previous, category=entry.category)
            superseded = a.writer.supersede_rivals(user_id, entry, source="user") if entry.level == "chat" else []
            # Summaries quoting the old wording are rebuilt (the entry's id is "stale" for them).
            self._note_evidence(user_id, [entry], [entry.memory_id, *superseded])
        return entry

    def delete(self, user_id: str, memory_id: str) -> None:
        """Remove one entry (the history keeps a row saying it was deleted, and its text)."""
        validate_user_id(user_id)
        a = self._a
        with a.user_lock(user_id):
            entry = self._get(user_id, memory_id)
            a.store.delete(user_id, entry.memory_id)
            a.history.record(user_id, entry.memory_id, "delete", source="user", level=entry.level,
                             text=entry.text, category=entry.category)
            self._note_evidence(user_id, [entry], [entry.memory_id])

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Right to be forgotten: every entry in every collection, every history row.

        Returns the number removed per level and `history` (audit rows).
        """
        validate_user_id(user_id)
        a = self._a
        with a.user_lock(user_id):
            counts = a.store.delete_user_counts(user_id)
            counts["history"] = a.history.forget_user(user_id)
            if user_id in a.dataset.by_user:
                a.history.mark_forgotten(a.dataset.name, user_id)
        return counts

    def rebuild_from_dataset(self, user_id: str) -> int:
        """The user chose this dataset user again explicitly: clear a tombstone and rebuild.

        Returns the number of current entries; raises ValueError for ids not in the dataset.
        """
        validate_user_id(user_id)
        if user_id not in self._a.dataset.by_user:
            raise ValueError(f"{id_segment(user_id)!r} is not a user of the dataset.")
        return self._a.ensure_user(user_id, explicit=True)

    def is_forgotten(self, user_id: str) -> bool:
        validate_user_id(user_id)
        return self._a.history.is_forgotten(self._a.dataset.name, user_id)
