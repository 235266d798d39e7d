"""Memory entries and their ids: the hierarchical levels of MR.Rec (paper §3.1) plus chat memory.

Levels:
  behavior  raw history: one entry per (user, item) with rating, review and time
  pattern   one summary per (user, category), chunked into likes / dislikes / habits segments
  profile   a high-level summary over the user's patterns (chunked)
  chat      statements learned from the conversation (write-back) and explicit feedback
  global    cross-user aspects per category; never user-specific (user_id = GLOBAL_USER)

Ids are stable and readable, so an answer's citations can be audited:
  b:<dataset>:<user>:<item>   p:<dataset>:<user>:<category>:<part>   u:<dataset>:<user>:<n>
  c:<dataset>:<user>:<hash>   g:<dataset>:<category>:<aspect>
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("behavior", "pattern", "profile", "chat", "global")
LOCAL_LEVELS = ("behavior", "pattern", "profile", "chat")
LEVEL_PREFIX = {"behavior": "b", "pattern": "p", "profile": "u", "chat": "c", "global": "g"}
GLOBAL_USER = "__global__"

_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
_ID_SEGMENT = re.compile(r"[^A-Za-z0-9._'&-]+")


class InvalidUserId(ValueError):
    pass


def validate_user_id(user_id: object) -> str:
    """Return `user_id` if it is a safe id, else raise InvalidUserId with a clear message.

    Only letters, digits and . _ @ + - (max 128 chars, starting alphanumeric). This rejects
    empty ids, wildcards, `$ne`-style operators, look-alike unicode and the reserved global id.
    """
    # fullmatch, not match: `$` also matches before a trailing newline, so "alice\n" passed and,
    # with the newline cut from its memory ids, shared (and overwrote) alice's ids.
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id) or user_id == GLOBAL_USER:
        shown = repr(user_id)[:60]
        raise InvalidUserId(
            f"Invalid user id {shown}: use 1-128 ASCII letters, digits or . _ @ + - "
            f"(starting with a letter or digit).")
    return user_id


def id_segment(text: str) -> str:
    """Make `text` safe as one colon-free segment of a memory id."""
    return _ID_SEGMENT.sub("_", str(text)).strip("_")[:64] or "x"


def make_memory_id(level: str, dataset: str, *parts: str) -> str:
    return ":".join([LEVEL_PREFIX[level], id_segment(dataset), *(id_segment(p) for p in parts)])


def _stored_float(value: float) -> float:
    """`value` as Chroma stores it exactly (6 decimals; see `MemoryEntry.metadata`)."""
    return round(float(value), 6)


@dataclass
class MemoryEntry:
    memory_id: str
    level: str
    text: str
    user_id: str
    category: str = "general"
    source: str = "dataset"
    created_at: float = field(default_factory=time.time)
    status: str = "current"  # current | superseded
    confidence: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """Chroma metadata (scalars only; None is not allowed there).

        Floats are rounded to 6 decimals: Chroma hands back about one in ten full-precision
        timestamps one ulp off (measured), and the row cache (memory/rowcache.py), fed from this
        dict, must hold exactly what Chroma returns. Six decimals come back exactly.
        """
        meta: dict[str, Any] = {
            "level": self.level, "user_id": self.user_id, "category": self.category,
            "source": self.source, "created_at": _stored_float(self.created_at), "status": self.status,
            "confidence": _stored_float(self.confidence),
        }
        for key, value in self.extra.items():
            if isinstance(value, float):
                meta[f"x_{key}"] = _stored_float(value)
            elif isinstance(value, (str, int, bool)):
                meta[f"x_{key}"] = value
        return meta

    @classmethod
    def from_chroma(cls, memory_id: str, text: str, meta: dict[str, Any]) -> "MemoryEntry":
        extra = {k[2:]: v for k, v in meta.items() if k.startswith("x_")}
        return cls(memory_id=memory_id, level=meta.get("level", ""), text=text or "",
                   user_id=meta.get("user_id", ""), category=meta.get("category", "general"),
                   source=meta.get("source", ""), created_at=float(meta.get("created_at", 0.0)),
                   status=meta.get("status", "current"), confidence=float(meta.get("confidence", 1.0)),
                   extra=extra)

    def to_dict(self) -> dict[str, Any]:
        return {"memory_id": self.memory_id, "level": self.level, "text": self.text,
                "user_id": self.user_id, "category": self.category, "source": self.source,
                "created_at": self.created_at, "status": self.status,
                "confidence": self.confidence, "extra": dict(self.extra)}


@dataclass
class RetrievedMemory:
    entry: MemoryEntry
    score: float  # cosine similarity to the query

    @property
    def memory_id(self) -> str:
        return self.entry.memory_id

    def render(self) -> str:
        """One line as the policy sees it: [id] (level) text."""
        return f"[{self.entry.memory_id}] ({self.entry.level}) {self.entry.text}"
