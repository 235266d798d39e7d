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

`MemoryWriter` decides *what* changes (slots, reinforcement, supersession, audit rows) for every
kind of write — chat statements, feedback, the builders' initial memory, hand-written adds, edits
and deletes — and applies it through `change.apply`, the one write path. Locking and the summary
refresh around each write belong to the memory service (`api.MemoryAPI`).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

from mrrec_chat.memory.change import Change, apply
from mrrec_chat.memory.facts import ChatFact, group_of
from mrrec_chat.memory.history import MemoryHistory
from mrrec_chat.memory.schema import MemoryEntry, make_memory_id
from mrrec_chat.memory.store import MemoryStore

if TYPE_CHECKING:
    from mrrec_chat.data.schema import Item
    from mrrec_chat.nlu import Preference

FEEDBACK_RATING = {"up": 5.0, "down": 1.0, "seen": 3.0}
MAX_PREFERENCES_PER_MESSAGE = 50
TENTATIVE = 0.7  # extractor confidence below which a statement is a hint ("Somewhat likes ...")
# Constraint subjects that are alternatives of one another (the newest wins).
_ERA = re.compile(r"^(?:from the \d{4}s|released (?:after|before) \d{4}|recent|classic)$")
_WHO = re.compile(r"^Their ([\w' -]{1,40}?) (?:now |somewhat |strongly )?(?:loves?|likes?|dislikes?|hated?"
                  r"|is not keen|was not keen|disliked|liked|loved|has seen)\b")
# The annotation keys a chat entry's meaning lives in (rewritten whole when its text is edited).
ANNOTATION_KEYS = ("kind", "subject", "subject_type", "slot", "group", "holder", "polarity", "stated_kind",
                   "who", "item_id", "statements", "momentary", "together")


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


def slot_of(pref: Preference) -> str:
    """The memory slot a statement lives in (see the module doc)."""
    subject = pref.subject.lower()
    if pref.holder == "other":
        key = f"other-{_who(pref)}:{pref.subject_type}:{subject}"
    elif pref.kind == "constraint" and subject.startswith(("at most ", "at least ")):
        key = f"constraint:runtime-{subject.split()[1]}"
    elif pref.kind == "constraint" and _ERA.match(subject):
        key = "constraint:era"
    elif pref.subject_type == "category" and getattr(pref, "together", ()):
        # "I can't stand rom-coms": one statement about the combination (it was stored twice, once
        # per genre), in its own slot ("I love romance" does not replace it)
        key = "category:" + "+".join(g.lower() for g in pref.together)
    else:
        key = f"{pref.subject_type}:{subject}"
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def category_of(pref: Preference) -> str:
    """The entry category of a statement: its genre, a theme's genre ("heist" -> Crime), else general."""
    if pref.subject_type == "category":
        return pref.subject
    return pref.genres[0] if pref.genres else "general"


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
    if getattr(pref, "momentary", False):
        extra["momentary"] = True
    if getattr(pref, "together", ()):
        extra["together"] = ",".join(pref.together)  # Chroma metadata is flat scalars
    return extra


def _same_statement(fact: ChatFact, extra: dict[str, Any]) -> bool:
    """Same slot group and same claim: a repetition, not a change of mind ("I hate westerns" after
    "no westerns tonight" is a new, lasting statement)."""
    return fact.stated_kind == extra["stated_kind"] and fact.subject.lower() == str(extra["subject"]).lower() \
        and fact.momentary == bool(extra.get("momentary", False))


class MemoryWriter:
    def __init__(self, store: MemoryStore, history: MemoryHistory, categories: Sequence[str],
                 title_lookup: Callable[[str], list[tuple[str, str]]] | None = None):
        self.store = store
        self.history = history
        self.categories = list(categories)
        self.title_lookup = title_lookup

    def apply(self, change: Change) -> None:
        """The one write path (`change.apply`)."""
        apply(self.store, self.history, change)

    def extract(self, message: str) -> list[Preference]:
        """Statements in `message`; one more than the cap, so write-back can tell it was cut."""
        from mrrec_chat.nlu import extract_preferences

        return extract_preferences(message, categories=self.categories or None, title_lookup=self.title_lookup,
                                   max_preferences=MAX_PREFERENCES_PER_MESSAGE + 1)

    # --- chat statements -----------------------------------------------------------------------
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

        One change for the whole message (one embedding call for the new texts, metadata-only
        updates for the rest, all audit rows in one transaction), so a message with 50 statements
        costs about as much as one with a single statement.
        """
        prefs, truncated = self.collapse(list(prefs))
        result = WriteResult([], [], [], truncated=truncated)
        if not prefs:
            return result
        by_slot: dict[str, list[tuple[MemoryEntry, ChatFact]]] = {}
        for entry in self.store.list_user(user_id, "chat"):
            fact = ChatFact.of(entry)
            if fact is not None:
                by_slot.setdefault(fact.slot, []).append((entry, fact))
        now = time.time()
        change = Change()
        changed: dict[str, MemoryEntry] = {}  # metadata-only updates (reinforced, superseded)
        for n, pref in enumerate(prefs):
            extra = annotations(pref)
            rivals = [(e, f) for e, f in by_slot.get(extra["slot"], []) if f.group == extra["group"]
                      and e.status == "current"]
            same = [e for e, f in rivals if _same_statement(f, extra)]
            if extra.get("momentary") and any(not f.momentary for _, f in rivals):
                # "no westerns tonight" neither overturns "I love westerns" nor softens "I hate
                # westerns": the lasting statement stands, and this turn's request refuses them anyway
                continue
            if same and not pref.supersedes_past:
                entry = same[0]
                entry.extra["count"] = int(entry.extra.get("count", 1)) + 1
                # Each repetition is confirmation: confidence rises towards 1.
                entry.confidence = round(min(1.0, max(entry.confidence, pref.confidence) + 0.05), 2)
                entry.created_at = now
                entry.extra["turn_id"] = turn_id
                changed[entry.memory_id] = entry
                change.audit(entry, "reinforce", source, turn_id=turn_id, count=entry.extra["count"])
                result.reinforced.append(entry.memory_id)
                result.entries.append(entry)
                continue
            if (extra["group"] == "polar" and pref.confidence < TENTATIVE and not pref.supersedes_past
                    and any(f.polarity != extra["polarity"] and e.confidence > pref.confidence for e, f in rivals)):
                # A hint ("something scary" -> somewhat likes Horror) never overturns a firmer
                # verdict in memory ("I can't stand horror"); saying so plainly does.
                continue
            memory_id = make_memory_id("chat", self.store.dataset, user_id, f"{extra['slot']}-{int(now * 1000):x}{n}")
            entry = MemoryEntry(
                memory_id=memory_id, level="chat", text=pref.text, user_id=user_id,
                category=category_of(pref), source=source,
                created_at=now, confidence=pref.confidence, extra={**extra, "count": 1, "turn_id": turn_id})
            if pref.supersedes_past:  # "used to ... but now ...": keep the reason for the audit
                entry.extra["changed_mind"] = True
            if extra["group"] != "context":  # a new claim in the slot replaces every other current one
                for old, _ in rivals:
                    old.status = "superseded"
                    old.extra["superseded_by"] = memory_id
                    changed[old.memory_id] = old
                    change.audit(old, "supersede", source, superseded_by=memory_id, turn_id=turn_id,
                                 new_text=entry.text)
                    result.superseded.append(old.memory_id)
            change.add.append(entry)
            change.audit(entry, "add", source, turn_id=turn_id, kind=extra["kind"], confidence=pref.confidence,
                         holder=pref.holder, category=entry.category)
            by_slot.setdefault(extra["slot"], []).append((entry, ChatFact.of(entry)))
            result.added.append(memory_id)
            result.entries.append(entry)
        change.update = list(changed.values())
        self.apply(change)
        return result

    # --- the builders' initial memory ----------------------------------------------------------
    def add_built(self, entries: list[MemoryEntry]) -> None:
        """Store a dataset user's initial memory (behavior records are not audited one by one)."""
        change = Change(add=list(entries))
        for entry in entries:
            if entry.level != "behavior":
                change.audit(entry, "add", "builder")
        self.apply(change)

    # --- entries the user writes, edits or deletes by hand (MemoryAPI) ---------------------------
    def annotate_text(self, text: str) -> tuple[dict[str, Any], str | None]:
        """Annotations for a hand-written chat entry (those of its first statement, else a note),
        and the category it is about when it is the user's own statement on one.

        Only the user's own statements count; "my wife hates westerns" typed by hand is context.
        """
        prefs = self.extract(text)[:MAX_PREFERENCES_PER_MESSAGE]
        if not prefs:
            return {"kind": "note", "group": "note", "holder": "user", "polarity": "neutral"}, None
        user_prefs = [p for p in prefs if p.holder == "user"]
        first = (user_prefs or prefs)[0]
        extra = annotations(first)
        if len(prefs) > 1:
            extra["statements"] = len(prefs)
        category = category_of(first)
        return extra, (category if first.holder == "user" and category != "general" else None)

    def add_by_hand(self, entry: MemoryEntry) -> list[str]:
        """Store a hand-written entry; returns the ids of the chat entries it supersedes."""
        change = Change(add=[entry])
        change.audit(entry, "add", "user", category=entry.category, kind=str(entry.extra.get("kind", "")))
        superseded = self._supersede_rivals(entry, change) if entry.level == "chat" else []
        self.apply(change)
        return superseded

    def replace_by_hand(self, entry: MemoryEntry, previous_text: str) -> list[str]:
        """Store an edited entry (same id, new text); returns the ids it supersedes.

        Delete then add: an upsert would merge metadata and keep keys the new text no longer
        supports (an old item id would keep excluding that item). Embedded first, so a failing
        embedder leaves the old entry in place.
        """
        change = Change(delete=[entry], add=[entry], embeddings=self.store.embedder.embed([entry.text]))
        change.audit(entry, "update", "user", previous_text=previous_text, category=entry.category)
        superseded = self._supersede_rivals(entry, change) if entry.level == "chat" else []
        self.apply(change)
        return superseded

    def delete_by_hand(self, entry: MemoryEntry) -> None:
        """Remove one entry; the history keeps a row saying it was deleted, and its text."""
        change = Change(delete=[entry])
        change.audit(entry, "delete", "user", category=entry.category)
        self.apply(change)

    def _supersede_rivals(self, entry: MemoryEntry, change: Change) -> list[str]:
        """Mark current chat entries in `entry`'s slot group as superseded by it (in `change`)."""
        fact = ChatFact.of(entry)
        if fact is None or not fact.slot or fact.group in ("note", "context"):
            return []
        rivals = []
        for old in self.store.list_user(entry.user_id, "chat"):
            other = ChatFact.of(old)
            if old.memory_id != entry.memory_id and other is not None and other.slot == fact.slot \
                    and other.group == fact.group:
                rivals.append(old)
        for old in rivals:
            old.status = "superseded"
            old.extra["superseded_by"] = entry.memory_id
            change.audit(old, "supersede", "user", superseded_by=entry.memory_id, new_text=entry.text)
        change.update += rivals
        return [old.memory_id for old in rivals]

    # --- feedback ----------------------------------------------------------------------------
    def feedback(self, user_id: str, item: Item, kind: str) -> MemoryEntry:
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
            change = Change()
            change.audit(previous, "feedback-seen", "feedback", item_id=item.item_id, unchanged=True)
            self.apply(change)
            return previous
        verb = {"up": "Liked", "down": "Rejected", "seen": "Has already seen"}[kind]
        entry = MemoryEntry(
            memory_id=memory_id, level="behavior",
            text=f"{verb} {item.display_title} [{', '.join(item.categories)}] (feedback in chat).",
            user_id=user_id, category=item.category, source="feedback", created_at=time.time(),
            extra={"item_id": item.item_id, "rating": FEEDBACK_RATING[kind], "feedback": kind,
                   "polarity": polarity_of({"up": "like", "down": "dislike"}.get(kind, kind))})
        detail: dict[str, Any] = {"item_id": item.item_id, "categories": list(item.categories)}
        if previous is not None:
            detail["previous_text"] = previous.text
        change = Change(add=[entry])
        change.audit(entry, f"feedback-{kind}", "feedback", **detail)
        self.apply(change)
        return entry
