"""Write-back: what the user says and does in the chat becomes local memory ("chat" level).

After every turn the user's message goes through the preference extractor; each statement is
stored with source, turn id, time and confidence. Memory slots are (subject type, subject) and,
within a slot, a *group* of statements that can contradict each other:

  polar       like / dislike of a category, title or attribute (the user's own)
  seen        "I've seen Heat" (never contradicted by liking or hating it)
  constraint  one slot per family: a new runtime limit replaces the old one, a new era wish
              ("classics" -> "recent ones") replaces the old era wish
  context     "watching with my kids": one slot per context, nothing contradicts it
  other       statements about someone else ("my wife hates westerns"), keyed by who they are;
              stored as kind "context" with holder "other", so no code path can read them as the
              user's own dislike; a later statement about the same person and subject replaces it

A repeated statement reinforces its entry (count, confidence, time; no re-embedding) instead of
piling up; a different statement in the same slot group supersedes the old entry, which stays in
the store and the history marked `superseded` with a pointer to its successor and is no longer
retrieved. Contradictions *inside one message* resolve to the last statement ("I love horror...
no, I hate it"): only that one is stored. At most MAX_PREFERENCES_PER_MESSAGE statements are
stored per message (a pasted list of 500 is cut, and the caller is told).

Feedback on items (👍 / 👎 / seen) becomes behavior records; 👎 items are never recommended again.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mrrec_chat.memory.history import MemoryHistory
from mrrec_chat.memory.schema import MemoryEntry, make_memory_id
from mrrec_chat.memory.store import MemoryStore

if TYPE_CHECKING:
    from mrrec_chat.nlu import Preference

OPPOSITE = {"like": "dislike", "dislike": "like"}
FEEDBACK_RATING = {"up": 5.0, "down": 1.0, "seen": 3.0}
MAX_PREFERENCES_PER_MESSAGE = 50
_POLAR = ("like", "dislike")
# Constraint subjects that are alternatives of one another (the newest wins).
_ERA = re.compile(r"^(?:from the \d{4}s|released (?:after|before) \d{4}|recent|classic)$")
_WHO = re.compile(r"^Their ([\w' -]{1,40}?) (?:now |somewhat |strongly )?(?:loves?|likes?|dislikes?|hated?"
                  r"|is not keen|was not keen|disliked|liked|loved|has seen)\b")


@dataclass
class WriteResult:
    added: list[str]
    reinforced: list[str]
    superseded: list[str]
    truncated: bool = False  # the message held more than MAX_PREFERENCES_PER_MESSAGE statements
    entries: list[MemoryEntry] = field(default_factory=list)  # added + reinforced, for refresh.py


def _who(pref: Preference) -> str:
    """Who a statement about someone else is about ("wife"), read from the extractor's text."""
    mt = _WHO.match(pref.text)
    return mt.group(1).lower() if mt else "someone"


def group_of(kind: str, holder: str) -> str:
    if holder == "other":
        return "other"
    return "polar" if kind in _POLAR else kind


def slot_of(pref: Preference) -> str:
    """The memory slot a statement lives in (see the module doc)."""
    subject = pref.subject.lower()
    if pref.holder == "other":
        key = f"other-{_who(pref)}:{pref.subject_type}:{subject}"
    elif pref.kind == "constraint" and subject.startswith(("at most ", "at least ")):
        key = f"constraint:runtime-{subject.split()[1]}"
    elif pref.kind == "constraint" and _ERA.match(subject):
        key = "constraint:era"
    else:
        key = f"{pref.subject_type}:{subject}"
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def polarity_of(kind: str) -> str:
    return "negative" if kind == "dislike" else "positive" if kind == "like" else "neutral"


def annotations(pref: Preference) -> dict[str, Any]:
    """The `extra` fields that make a chat entry usable by grounding and conflict handling."""
    user_held = pref.holder == "user"
    kind = pref.kind if user_held else "context"
    extra: dict[str, Any] = {
        "kind": kind, "subject": pref.subject, "subject_type": pref.subject_type, "slot": slot_of(pref),
        "group": group_of(pref.kind, pref.holder), "holder": pref.holder,
        # "Their wife hates westerns" is context with a negative tone, never the user's dislike.
        "polarity": polarity_of(pref.kind), "stated_kind": pref.kind}
    if not user_held:
        extra["who"] = _who(pref)
    if pref.item_id:
        extra["item_id"] = pref.item_id
    return extra


def _same_statement(entry: MemoryEntry, extra: dict[str, Any]) -> bool:
    """Same slot group and same claim: a repetition, not a change of mind."""
    return (entry.extra.get("stated_kind", entry.extra.get("kind")) == extra["stated_kind"]
            and str(entry.extra.get("subject", "")).lower() == str(extra["subject"]).lower())


def _group(entry: MemoryEntry) -> str:
    kind = str(entry.extra.get("kind", ""))
    return str(entry.extra.get("group") or group_of(kind, str(entry.extra.get("holder", "user"))))


class MemoryWriter:
    def __init__(self, store: MemoryStore, history: MemoryHistory, categories: list[str],
                 title_lookup=None):
        self.store = store
        self.history = history
        self.categories = categories
        self.title_lookup = title_lookup

    def extract(self, message: str) -> list[Preference]:
        """Statements in `message`; one more than the cap, so write-back can tell it was cut."""
        from mrrec_chat.nlu import extract_preferences

        return extract_preferences(message, categories=self.categories or None, title_lookup=self.title_lookup,
                                   max_preferences=MAX_PREFERENCES_PER_MESSAGE + 1)

    def write_message(self, user_id: str, message: str, turn_id: str = "") -> WriteResult:
        return self.write_preferences(user_id, self.extract(message), source="chat", turn_id=turn_id)

    @staticmethod
    def collapse(prefs: list[Preference]) -> tuple[list[Preference], bool]:
        """One statement per slot group, the last one said winning; at most the cap, in message order."""
        last: dict[tuple[str, str], int] = {}
        for i, pref in enumerate(prefs):
            group = group_of(pref.kind, pref.holder)
            # Contexts never contradict each other; everything else: the last word in a slot wins.
            key = (slot_of(pref), f"{group}:{pref.subject.lower()}" if group == "context" else group)
            last[key] = i
        kept = [prefs[i] for i in sorted(last.values())]
        return kept[:MAX_PREFERENCES_PER_MESSAGE], len(kept) > MAX_PREFERENCES_PER_MESSAGE

    def write_preferences(self, user_id: str, prefs: list[Preference], *, source: str = "chat",
                          turn_id: str = "") -> WriteResult:
        """Store a message's statements: reinforce repeats, supersede contradicted entries.

        All store writes are batched (one embedding call for the new texts, metadata-only updates
        for the rest) and all audit rows go in one transaction, so a message with 50 statements
        costs about as much as one with a single statement.
        """
        prefs, truncated = self.collapse(list(prefs))
        result = WriteResult([], [], [], truncated=truncated)
        if not prefs:
            return result
        by_slot: dict[str, list[MemoryEntry]] = {}
        for entry in self.store.list_user(user_id, "chat"):
            by_slot.setdefault(str(entry.extra.get("slot", "")), []).append(entry)
        now = time.time()
        new: list[MemoryEntry] = []
        changed: dict[str, MemoryEntry] = {}  # metadata-only updates (reinforced, superseded)
        rows: list[tuple[str, str, str, str, str, str, dict[str, Any]]] = []
        for n, pref in enumerate(prefs):
            extra = annotations(pref)
            rivals = [e for e in by_slot.get(extra["slot"], []) if _group(e) == extra["group"]
                      and e.status == "current"]
            same = [e for e in rivals if _same_statement(e, extra)]
            if same and not pref.supersedes_past:
                entry = same[0]
                entry.extra["count"] = int(entry.extra.get("count", 1)) + 1
                # Each repetition is confirmation: confidence rises towards 1.
                entry.confidence = round(min(1.0, max(entry.confidence, pref.confidence) + 0.05), 2)
                entry.created_at = now
                entry.extra["turn_id"] = turn_id
                changed[entry.memory_id] = entry
                rows.append((user_id, entry.memory_id, "reinforce", source, "chat", entry.text,
                             {"turn_id": turn_id, "count": entry.extra["count"]}))
                result.reinforced.append(entry.memory_id)
                result.entries.append(entry)
                continue
            memory_id = make_memory_id("chat", self.store.dataset, user_id, f"{extra['slot']}-{int(now * 1000):x}{n}")
            entry = MemoryEntry(
                memory_id=memory_id, level="chat", text=pref.text, user_id=user_id,
                category=pref.subject if pref.subject_type == "category" else "general", source=source,
                created_at=now, confidence=pref.confidence, extra={**extra, "count": 1, "turn_id": turn_id})
            if pref.supersedes_past:  # "used to ... but now ...": keep the reason for the audit
                entry.extra["changed_mind"] = True
            if extra["group"] != "context":  # a new claim in the slot replaces every other current one
                for old in rivals:
                    old.status = "superseded"
                    old.extra["superseded_by"] = memory_id
                    changed[old.memory_id] = old
                    rows.append((user_id, old.memory_id, "supersede", source, "chat", old.text,
                                 {"superseded_by": memory_id, "turn_id": turn_id, "new_text": entry.text}))
                    result.superseded.append(old.memory_id)
            new.append(entry)
            rows.append((user_id, memory_id, "add", source, "chat", entry.text,
                         {"turn_id": turn_id, "kind": extra["kind"], "confidence": pref.confidence,
                          "holder": pref.holder, "category": entry.category}))
            by_slot.setdefault(extra["slot"], []).append(entry)
            result.added.append(memory_id)
            result.entries.append(entry)
        if new:
            self.store.add(new)
        if changed:
            self.store.update_metadata(changed.values())
        self.history.record_many(rows)
        return result

    # --- entries the user writes or edits by hand (MemoryAPI) ----------------------------------
    def annotate_text(self, text: str) -> dict[str, Any]:
        """Annotations for a hand-written chat entry: those of its first statement, else a note.

        Only the user's own statements count; "my wife hates westerns" typed by hand is context.
        """
        prefs = self.extract(text)[:MAX_PREFERENCES_PER_MESSAGE]
        if not prefs:
            return {"kind": "note", "group": "note", "holder": "user", "polarity": "neutral"}
        user_prefs = [p for p in prefs if p.holder == "user"]
        extra = annotations((user_prefs or prefs)[0])
        if len(prefs) > 1:
            extra["statements"] = len(prefs)
        return extra

    def supersede_rivals(self, user_id: str, entry: MemoryEntry, *, source: str) -> list[str]:
        """Mark current chat entries in `entry`'s slot group as superseded by it (hand edits/adds)."""
        slot, group = entry.extra.get("slot"), entry.extra.get("group")
        if not slot or group in (None, "note", "context"):
            return []
        rivals = [e for e in self.store.list_user(user_id, "chat") if e.memory_id != entry.memory_id
                  and e.extra.get("slot") == slot and _group(e) == group]
        for old in rivals:
            old.status = "superseded"
            old.extra["superseded_by"] = entry.memory_id
        if rivals:
            self.store.update_metadata(rivals)
            self.history.record_many([(user_id, old.memory_id, "supersede", source, "chat", old.text,
                                       {"superseded_by": entry.memory_id, "new_text": entry.text})
                                      for old in rivals])
        return [old.memory_id for old in rivals]

    # --- feedback ----------------------------------------------------------------------------
    def feedback(self, user_id: str, item, kind: str) -> MemoryEntry:
        """Record 👍 ('up'), 👎 ('down') or 'seen' on a recommended item as a behavior record.

        The record's id is the item's behavior id, so the newest verdict replaces an older one (the
        previous text stays in the history). 'Seen' never overwrites a verdict or a rating: it adds
        nothing new about taste, and the item is excluded either way.
        """
        if kind not in FEEDBACK_RATING:
            raise ValueError(f"Unknown feedback {kind!r}: use up, down or seen.")
        memory_id = make_memory_id("behavior", self.store.dataset, user_id, item.item_id)
        previous = self.store.get(user_id, memory_id)
        if kind == "seen" and previous is not None:
            self.history.record(user_id, memory_id, "feedback-seen", source="feedback", level="behavior",
                                text=previous.text, item_id=item.item_id, unchanged=True)
            return previous
        verb = {"up": "Liked", "down": "Rejected", "seen": "Has already seen"}[kind]
        entry = MemoryEntry(
            memory_id=memory_id, level="behavior",
            text=f"{verb} {item.display_title} [{', '.join(item.categories)}] (feedback in chat).",
            user_id=user_id, category=item.category, source="feedback", created_at=time.time(),
            extra={"item_id": item.item_id, "rating": FEEDBACK_RATING[kind], "feedback": kind,
                   "polarity": "negative" if kind == "down" else "positive" if kind == "up" else "neutral"})
        self.store.add([entry])
        detail: dict[str, Any] = {"item_id": item.item_id, "categories": list(item.categories)}
        if previous is not None:
            detail["previous_text"] = previous.text
        self.history.record(user_id, entry.memory_id, f"feedback-{kind}", source="feedback", level="behavior",
                            text=entry.text, **detail)
        return entry
