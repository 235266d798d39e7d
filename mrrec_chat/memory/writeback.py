"""Write-back: what the user says and does in the chat becomes local memory ("chat" level).

After every turn the user's message goes through the preference extractor; each statement is
stored with source, turn id, time and confidence. Memory slots are (subject type, subject): a
repeated statement reinforces its entry (count, confidence, time) instead of piling up; an
opposite statement about the same subject supersedes the old entry, which stays in the store
and the history marked `superseded` with a pointer to its successor and is no longer retrieved.
Feedback on items (👍 / 👎 / seen) becomes behavior records; 👎 items are never recommended again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mrrec_chat.memory.history import MemoryHistory
from mrrec_chat.memory.schema import MemoryEntry, make_memory_id
from mrrec_chat.memory.store import MemoryStore

if TYPE_CHECKING:
    from mrrec_chat.memory.extract import Preference

OPPOSITE = {"like": "dislike", "dislike": "like"}
FEEDBACK_RATING = {"up": 5.0, "down": 1.0, "seen": 3.0}


@dataclass
class WriteResult:
    added: list[str]
    reinforced: list[str]
    superseded: list[str]


def slot_of(pref: Preference) -> str:
    holder = "other-" if pref.holder == "other" else ""
    return hashlib.sha1(f"{holder}{pref.subject_type}:{pref.subject.lower()}".encode()).hexdigest()[:10]


class MemoryWriter:
    def __init__(self, store: MemoryStore, history: MemoryHistory, categories: list[str],
                 title_lookup=None):
        self.store = store
        self.history = history
        self.categories = categories
        self.title_lookup = title_lookup

    def extract(self, message: str) -> list[Preference]:
        from mrrec_chat.memory.extract import extract_preferences

        return extract_preferences(message, categories=self.categories or None, title_lookup=self.title_lookup)

    def write_message(self, user_id: str, message: str, turn_id: str = "") -> WriteResult:
        return self.write_preferences(user_id, self.extract(message), source="chat", turn_id=turn_id)

    def write_preferences(self, user_id: str, prefs: list[Preference], *, source: str = "chat",
                          turn_id: str = "") -> WriteResult:
        result = WriteResult([], [], [])
        current = [e for e in self.store.list_user(user_id, "chat")]
        by_slot: dict[str, list[MemoryEntry]] = {}
        for entry in current:
            by_slot.setdefault(str(entry.extra.get("slot", "")), []).append(entry)
        now = time.time()
        for pref in prefs:
            slot = slot_of(pref)
            existing = by_slot.get(slot, [])
            kind = pref.kind if pref.holder == "user" else "context"
            same = [e for e in existing if e.extra.get("kind") == kind]
            if same:
                entry = same[0]
                entry.extra["count"] = int(entry.extra.get("count", 1)) + 1
                entry.confidence = min(1.0, max(entry.confidence, pref.confidence) + 0.05)
                entry.created_at = now
                entry.extra["turn_id"] = turn_id
                self.store.add([entry])
                self.history.record(user_id, entry.memory_id, "reinforce", source=source, level="chat",
                                    text=entry.text, turn_id=turn_id)
                result.reinforced.append(entry.memory_id)
                continue
            memory_id = make_memory_id("chat", self.store.dataset, user_id, f"{slot}-{int(now * 1000):x}")
            entry = MemoryEntry(
                memory_id=memory_id, level="chat", text=pref.text, user_id=user_id,
                category=pref.subject if pref.subject_type == "category" else "general", source=source,
                created_at=now, confidence=pref.confidence,
                extra={"kind": kind, "subject": pref.subject, "subject_type": pref.subject_type, "slot": slot,
                       "holder": pref.holder, "count": 1, "turn_id": turn_id,
                       "polarity": "negative" if kind == "dislike" else "positive" if kind == "like" else "neutral",
                       **({"item_id": pref.item_id} if pref.item_id else {})})
            for old in existing:
                if old.extra.get("kind") in (OPPOSITE.get(kind), ) or (pref.supersedes_past and old.extra.get("kind") != kind):
                    self.store.set_status(user_id, old.memory_id, "superseded", superseded_by=memory_id)
                    self.history.record(user_id, old.memory_id, "supersede", source=source, level="chat",
                                        text=old.text, superseded_by=memory_id, turn_id=turn_id)
                    result.superseded.append(old.memory_id)
            self.store.add([entry])
            self.history.record(user_id, memory_id, "add", source=source, level="chat", text=entry.text,
                                turn_id=turn_id, kind=kind, confidence=pref.confidence)
            by_slot.setdefault(slot, []).append(entry)
            result.added.append(memory_id)
        return result

    def feedback(self, user_id: str, item, kind: str) -> MemoryEntry:
        """Record 👍 ('up'), 👎 ('down') or 'seen' on a recommended item as a behavior record."""
        if kind not in FEEDBACK_RATING:
            raise ValueError(f"Unknown feedback {kind!r}: use up, down or seen.")
        verb = {"up": "Liked", "down": "Rejected", "seen": "Has already seen"}[kind]
        entry = MemoryEntry(
            memory_id=make_memory_id("behavior", self.store.dataset, user_id, item.item_id), level="behavior",
            text=f"{verb} {item.display_title} [{', '.join(item.categories)}] (feedback in chat).",
            user_id=user_id, category=item.category, source="feedback", created_at=time.time(),
            extra={"item_id": item.item_id, "rating": FEEDBACK_RATING[kind], "feedback": kind,
                   "polarity": "negative" if kind == "down" else "positive" if kind == "up" else "neutral"})
        self.store.add([entry])
        self.history.record(user_id, entry.memory_id, f"feedback-{kind}", source="feedback", level="behavior",
                            text=entry.text, item_id=item.item_id)
        return entry
