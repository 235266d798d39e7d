"""Summaries stay current: rebuild a category's preference pattern and the profile from evidence.

Every chat statement or feedback that touches a category (a genre named, or a title of that
genre) is one piece of evidence for it; the count lives in the history database
(`refresh_pending`). When a category reaches REFRESH_THRESHOLD (3) pieces since its last refresh,
its pattern entries and the user's profile are rebuilt — deterministically, with the same
builders as the initial memory (`builders.py`), so nothing is invented:

  ratings   the dataset history (unless the user was forgotten) with chat feedback on top: 👍 counts
            as the scale's top rating, 👎 as its bottom one, the newest verdict on an item wins;
            "seen" is not a rating and is left out
  stated    the user's own current chat statements about the category (or its titles), quoted as
            the extractor wrote them ("said in chat: now loves Horror movies")

Threshold, not every turn: one remark should not rewrite a summary built from hundreds of ratings,
and each rebuild costs embeddings. Entries the user added or edited by hand are never rewritten
(the user's correction wins). Every changed or removed summary leaves a `refresh` /
`refresh-remove` row in the history with the previous text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable

from mrrec_chat.data.schema import Dataset, Interaction
from mrrec_chat.memory.builders import preference_patterns, user_profile
from mrrec_chat.memory.change import Change, apply
from mrrec_chat.memory.facts import BehaviorFact, ChatFact
from mrrec_chat.memory.history import MemoryHistory
from mrrec_chat.memory.schema import MemoryEntry, make_memory_id
from mrrec_chat.memory.store import MemoryStore

REFRESH_THRESHOLD = 3
MAX_STATED = 5


@dataclass
class RefreshResult:
    categories: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _clause(text: str) -> str:
    """An entry's sentence as a clause: "Now loves Horror movies." -> "now loves Horror movies"."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


class SummaryRefresher:
    def __init__(self, dataset: Dataset, store: MemoryStore, history: MemoryHistory,
                 threshold: int = REFRESH_THRESHOLD):
        self.dataset = dataset
        self.store = store
        self.history = history
        self.threshold = max(1, int(threshold))

    # --- evidence ---------------------------------------------------------------------------
    def categories_of(self, entry: MemoryEntry) -> list[str]:
        chat, behavior = ChatFact.of(entry), BehaviorFact.of(entry)
        if chat is not None:
            if not chat.users_own:
                return []  # someone else's taste is not evidence about the user's categories
            if chat.is_category:
                return [chat.subject or entry.category]
            if chat.subject_type == "theme" and entry.category in self.dataset.categories:
                return [entry.category]  # "heist" counts for Crime
        item_id = chat.item_id if chat is not None else behavior.item_id if behavior is not None else None
        item = self.dataset.items.get(item_id or "")
        return list(item.categories) if item else []

    def note(self, user_id: str, entries: Iterable[MemoryEntry], stale: Iterable[str] = ()) -> RefreshResult:
        """Count new evidence; refresh the categories that reached the threshold.

        `stale`: ids of statements that stopped being current (superseded, edited, deleted). A
        summary quoting one of them is rebuilt at once, whatever the count: it must never keep
        saying "strongly dislikes Horror" after the user said they love it now.
        """
        touched = [c for e in entries for c in self.categories_of(e)]
        pending = self.history.bump_pending(user_id, touched)
        due = {c for c, n in pending.items() if n >= self.threshold}
        quoted_categories, quoted_profile = self.quoting(user_id, set(stale))
        due |= quoted_categories
        if not due and not quoted_profile:
            return RefreshResult()
        return self.refresh(user_id, due)

    def quoting(self, user_id: str, ids: set[str]) -> tuple[set[str], bool]:
        """Categories whose summary, and whether the profile, quote any of `ids`."""
        if not ids:
            return set(), False

        def quotes(entry: MemoryEntry) -> bool:
            return bool(ids & set(str(entry.extra.get("from", "")).split(",")))

        categories = {e.category for e in self.store.list_user(user_id, "pattern") if quotes(e)}
        return categories, any(quotes(e) for e in self.store.list_user(user_id, "profile"))

    # --- rebuilding -----------------------------------------------------------------------
    def ratings(self, user_id: str) -> list[Interaction]:
        """Dataset ratings (unless forgotten) with chat feedback on top, oldest first."""
        lo, hi = self.dataset.rating_scale
        by_item: dict[str, Interaction] = {}
        if not self.history.is_forgotten(self.dataset.name, user_id):
            deleted = self.history.deleted_ids(user_id)  # ratings the user removed stay removed
            for inter in self.dataset.history(user_id):
                if make_memory_id("behavior", self.dataset.name, user_id, inter.item_id) not in deleted:
                    by_item[inter.item_id] = inter
        for entry in self.store.list_user(user_id, "behavior"):
            fact = BehaviorFact.of(entry)
            if entry.source == "feedback" and fact is not None and fact.feedback in ("up", "down") \
                    and fact.item_id in self.dataset.items:
                by_item[fact.item_id] = Interaction(user_id, fact.item_id, hi if fact.feedback == "up" else lo,
                                                    entry.created_at)
        return sorted(by_item.values(), key=lambda i: i.timestamp)

    def stated(self, user_id: str, category: str | None) -> list[MemoryEntry]:
        """The user's own current chat statements about `category` (None: category-level ones)."""
        out = []
        for entry in self.store.list_user(user_id, "chat"):  # newest first
            fact = ChatFact.of(entry)
            if fact is None or not fact.users_own or fact.kind not in ("like", "dislike"):
                continue
            if category is None:
                if fact.is_category:
                    out.append(entry)
            elif category in self.categories_of(entry):
                out.append(entry)
        return out[:MAX_STATED]

    def refresh(self, user_id: str, categories: Iterable[str]) -> RefreshResult:
        """Rebuild the pattern entries of `categories` and the profile (always)."""
        result = RefreshResult(categories=sorted(set(categories)))
        now = time.time()
        history = self.ratings(user_id)
        patterns = [e for e in preference_patterns(self.dataset, user_id, history) if e.category in result.categories]
        for category in result.categories:
            said = self.stated(user_id, category)
            if said:
                patterns.append(MemoryEntry(
                    memory_id=make_memory_id("pattern", self.dataset.name, user_id, category, "stated"),
                    level="pattern", text=f"{category}: said in chat: " + "; ".join(_clause(e.text) for e in said) + ".",
                    user_id=user_id, category=category, source="refresh", created_at=now,
                    extra={"part": "stated", "from": ",".join(e.memory_id for e in said)[:500]}))
        old_patterns = [e for e in self.store.list_user(user_id, "pattern") if e.category in result.categories]
        change = Change()
        self._diff(user_id, patterns, old_patterns, now, result, change)
        profile = user_profile(self.dataset, user_id, history)
        said = self.stated(user_id, None)
        if said:
            profile.append(MemoryEntry(
                memory_id=make_memory_id("profile", self.dataset.name, user_id, "chat"), level="profile",
                text="Profile: said in chat: " + "; ".join(_clause(e.text) for e in said) + ".",
                user_id=user_id, category="general", source="refresh", created_at=now,
                extra={"from": ",".join(e.memory_id for e in said)[:500]}))
        self._diff(user_id, profile, self.store.list_user(user_id, "profile"), now, result, change)
        apply(self.store, self.history, change)  # one embedding batch for everything that changed
        for category in result.categories:
            self.history.clear_pending(user_id, category)
        return result

    def _diff(self, user_id: str, new: list[MemoryEntry], old: list[MemoryEntry], now: float,
              result: RefreshResult, change: Change) -> None:
        """Add to `change` the entries to write and the stale ones to remove, with the previous
        texts for the history. Hand-written entries stay as the user wrote them."""
        old_by_id = {e.memory_id: e for e in old}
        protected = {i for i, e in old_by_id.items() if e.extra.get("user_edited") or e.extra.get("user_written")}
        protected |= self.history.deleted_ids(user_id)  # a summary the user deleted is not recreated
        write: list[MemoryEntry] = []
        for entry in new:
            if entry.memory_id in protected:
                continue
            previous = old_by_id.get(entry.memory_id)
            if previous is not None and previous.text == entry.text:
                continue
            entry.created_at = now  # a rebuilt summary is current evidence (retrieval prior)
            entry.source = "refresh"
            write.append(entry)
            change.audit(entry, "refresh", "refresh", previous_text=previous.text if previous else None,
                         category=entry.category)
        new_ids = {e.memory_id for e in new}
        gone = [e for i, e in old_by_id.items() if i not in new_ids and i not in protected and e.source != "user"]
        for entry in gone:
            change.audit(entry, "refresh-remove", "refresh", category=entry.category)
        change.add += write
        change.delete += gone
        result.updated += [e.memory_id for e in write]
        result.removed += [e.memory_id for e in gone]
