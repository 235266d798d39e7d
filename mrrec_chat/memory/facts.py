"""A typed view of memory entries: what a chat statement or a behavior record *means*.

Entries keep their meaning in `extra` (Chroma metadata is flat scalars). Code that needs to know
"is this the user's own dislike of a category?" reads it through `ChatFact.of(entry)` or
`BehaviorFact.of(entry)` instead of string keys, so the keys are spelled in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from mrrec_chat.memory.schema import MemoryEntry

KINDS = ("like", "dislike", "seen", "constraint", "context")


def group_of(kind: str, holder: str) -> str:
    """Which statements can contradict one another: polar (like/dislike), seen, constraint,
    context, note, and "other" (statements about someone else)."""
    if holder == "other":
        return "other"
    return "polar" if kind in ("like", "dislike") else kind


@dataclass(frozen=True)
class ChatFact:
    """One statement learned in chat (level "chat")."""

    memory_id: str
    kind: str  # like | dislike | seen | constraint | context
    holder: str  # "user" (the person chatting) or "other" (someone they mentioned)
    subject: str  # a category, a title, a person, a theme, a constraint text
    subject_type: str  # category | item (a title) | person | theme | attribute | context
    item_id: str | None  # the catalog item, when the subject is a title found in the catalog
    polarity: str  # positive | negative | neutral
    current: bool
    text: str
    category: str
    slot: str = ""  # the write-back slot (writeback.slot_of): statements on one subject share it
    group: str = ""  # polar | seen | constraint | context | other | note: which statements contradict
    stated_kind: str = ""  # the kind as said ("dislike" for "my wife hates westerns", stored as context)
    momentary: bool = False  # "no horror tonight": a refusal for that evening, not a lasting dislike
    together: tuple[str, ...] = ()  # "I can't stand rom-coms": said of Romance and Comedy together

    @classmethod
    def of(cls, entry: MemoryEntry) -> "ChatFact | None":
        if entry.level != "chat":
            return None
        x = entry.extra
        kind = str(x.get("kind") or "context")
        holder = str(x.get("holder") or "user")
        item = x.get("item_id")
        return cls(memory_id=entry.memory_id, kind=kind, holder=holder,
                   subject=str(x.get("subject") or ""), subject_type=str(x.get("subject_type") or ""),
                   item_id=str(item) if item not in (None, "") else None,
                   polarity=str(x.get("polarity") or ("negative" if kind == "dislike" else
                                                      "positive" if kind == "like" else "neutral")),
                   current=entry.status == "current", text=entry.text, category=entry.category,
                   slot=str(x.get("slot") or ""), group=str(x.get("group") or group_of(kind, holder)),
                   stated_kind=str(x.get("stated_kind") or kind), momentary=bool(x.get("momentary", False)),
                   together=tuple(g for g in str(x.get("together") or "").split(",") if g))

    @property
    def users_own(self) -> bool:
        return self.holder == "user"

    @property
    def is_category(self) -> bool:
        return self.subject_type == "category"


@dataclass(frozen=True)
class BehaviorFact:
    """One rated item (level "behavior"): dataset history or 👍/👎/seen feedback."""

    memory_id: str
    item_id: str | None
    rating: float
    feedback: str | None  # up | down | seen, when it came from the chat's buttons
    text: str

    @classmethod
    def of(cls, entry: MemoryEntry) -> "BehaviorFact | None":
        if entry.level != "behavior":
            return None
        x = entry.extra
        item = x.get("item_id")
        try:
            rating = float(x.get("rating", 0.0))
        except (TypeError, ValueError):
            rating = 0.0
        feedback = x.get("feedback")
        return cls(memory_id=entry.memory_id, item_id=str(item) if item not in (None, "") else None,
                   rating=rating, feedback=str(feedback) if feedback else None, text=entry.text)

    @property
    def liked(self) -> bool:
        return self.feedback == "up" or (self.feedback is None and self.rating >= 4.0)

    @property
    def disliked(self) -> bool:
        return self.feedback == "down" or (self.feedback is None and 0 < self.rating <= 2.5)
