"""Turning agent events and memory entries into what the chat shows (Gradio-free, unit-testable).

Messages are plain dicts in Gradio's message format (`role`, `content`, optional `metadata` with
`title`, `id`, `parent_id`, `status`, `duration`); a message with a `title` renders as a
collapsible thought. Everything shown is escaped: memory entries, item titles and model text can
contain HTML or markdown written by users or datasets, and must be displayed literally, never
rendered or executed.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from typing import Any

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.schema import MemoryEntry, RetrievedMemory

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~$])")
_WS = re.compile(r"\s+")

# How memory levels are called in the UI (the store's names are terse).
LEVEL_LABELS = {"behavior": "record", "pattern": "pattern", "profile": "profile", "chat": "chat-learned",
                "global": "global"}
# Shown in the chat: a user message longer than this is cut for display (the model gets the
# service's own limit, with a notice).
MAX_DISPLAY_CHARS = 4000


def escape(text: object) -> str:
    """Escape HTML and markdown so user- or model-written text shows literally in markdown."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def escape_html(text: object, limit: int | None = None) -> str:
    """Escape text for use inside an HTML block: one line (a blank line would end the block)."""
    flat = _WS.sub(" ", str(text)).strip()
    if limit is not None and len(flat) > limit:
        flat = flat[:limit - 1] + "…"
    return html.escape(flat, quote=True)


def level_label(level: str) -> str:
    return LEVEL_LABELS.get(level, level)


def user_message(text: str) -> dict:
    """The user's own message, escaped; very long pastes are cut for display with a note."""
    shown = text if len(text) <= MAX_DISPLAY_CHARS else text[:MAX_DISPLAY_CHARS]
    content = escape(shown)
    if len(text) > MAX_DISPLAY_CHARS:
        content += f"\n\n_… (only the first {MAX_DISPLAY_CHARS:,} characters are shown here)_"
    return {"role": "user", "content": content}


def message(content: str, title: str | None = None, status: str | None = None,
            duration: float | None = None, msg_id: str | None = None, parent_id: str | None = None) -> dict:
    """An assistant message dict; with `title` it renders as a collapsible thought."""
    out: dict = {"role": "assistant", "content": content}
    if title:
        meta: dict = {"title": title}
        if status:
            meta["status"] = status
        if duration is not None:
            meta["duration"] = round(float(duration), 2)
        if msg_id:
            meta["id"] = msg_id
        if parent_id:
            meta["parent_id"] = parent_id
        out["metadata"] = meta
    return out


def memory_lines(memories: list[RetrievedMemory],
                 empty: str = "_No matching memory (a new user, or nothing relevant yet)._") -> str:
    """Retrieved memories as a markdown list: id, level, text (escaped), similarity."""
    if not memories:
        return empty
    return "\n".join(f"- {chip(m.memory_id)} **{level_label(m.entry.level)}** · "
                     f"{escape(m.entry.text)} _(similarity {m.score:.2f})_" for m in memories)


def escape_code(text: object) -> str:
    """Text for inside a markdown code span (no backticks can close it early)."""
    return str(text).replace("`", "'")


# The level a memory id's prefix names (schema.LEVEL_PREFIX), as a chip calls it.
_CHIP_LEVELS = {"b": "record", "p": "pattern", "u": "profile", "c": "chat", "g": "global"}


def short_id(memory_id: object) -> str:
    """The part of a memory id a person can tell entries apart by: what follows the dataset and
    user (the global level has no user), long segments cut to their last 6 characters.

    >>> short_id("c:ml-100k:new-d93f5719e13d:69436bd214-1a249190cdd1"), short_id("p:ml:7:Drama:0")
    ('90cdd1', 'Drama·0')
    """
    parts = str(memory_id).split(":")
    tail = parts[2:] if parts[0] == "g" else parts[3:]
    tail = tail or parts[-1:]
    return "·".join(p if len(p) <= 10 else p[-6:] for p in tail)


def chip_text(memory_id: object) -> str:
    """A memory id as a person reads it: level and a few characters ("chat 90cdd1")."""
    prefix = str(memory_id).split(":", 1)[0]
    level = _CHIP_LEVELS.get(prefix, "memory")
    return f"{level} {short_id(memory_id)}"


def chip(memory_id: object) -> str:
    """A memory id as a short inline chip (HTML); the full id is its title (hover) and stays searchable."""
    full = escape_html(memory_id)
    return f'<span class="mr-chip" title="{full}">{escape_html(chip_text(memory_id))}</span>'


def chips(memory_ids: list, empty: str = "none", limit: int | None = None) -> str:
    shown = list(memory_ids)[:limit] if limit else list(memory_ids)
    out = " ".join(chip(m) for m in shown) or empty
    if limit and len(memory_ids) > limit:
        out += f" +{len(memory_ids) - limit}"
    return out


def full_id_of(cell: object) -> str:
    """The full memory id of a memory-table cell (a chip carries it in its title), or the cell itself."""
    match = re.search(r'title="([^"]*)"', str(cell))
    return html.unescape(match.group(1)) if match else str(cell)


def item_cards_html(recommendations: list[ev.Recommendation]) -> str:
    """The answer as item cards (title, year, genres, reason, cited memory ids) in one HTML block.

    Every dynamic value is HTML-escaped and kept on one line, so the block cannot be broken out of
    and nothing in it is interpreted as markdown.
    """
    if not recommendations:
        return "I could not find a catalog item that fits. Try describing it differently."
    cards = []
    for n, rec in enumerate(recommendations, 1):
        item = rec.item
        year = f'<span class="mr-year">{item.year}</span>' if item.year else ""
        genres = " · ".join(escape_html(c) for c in item.categories) or "—"
        # The memory line only where a memory was used: "Memory cited: none" on every card of a
        # newcomer's answer is noise.
        cites = f'<div class="mr-cites">Memory cited: {chips(rec.memory_ids)}</div>' if rec.memory_ids else ""
        cards.append(
            f'<div class="mr-card"><div class="mr-card-title"><span class="mr-rank">{n}</span>'
            f'<strong>{escape_html(item.title, 200)}</strong> {year}</div>'
            f'<div class="mr-genres">{genres}</div>'
            f'<div class="mr-reason">{escape_html(rec.reason, 600)}</div>'
            f'{cites}</div>')
    head = ('<div class="mr-cards-head"><strong>Recommendations</strong> — real catalog items; '
            'rate them below the chat.</div>')
    return '<div class="mr-cards">' + head + "".join(cards) + "</div>"


def recommendation_rows(recommendations: list[ev.Recommendation]) -> list[dict[str, Any]]:
    """What the feedback panel needs per recommended item (plain data, kept in session state)."""
    return [{"item_id": r.item.item_id, "title": r.item.title, "year": r.item.year,
             "genres": list(r.item.categories), "feedback": None} for r in recommendations]


@dataclass
class TurnView:
    """The messages of one chat turn, built up event by event.

    The trace (global memory, reasoning, memory searches with their results nested inside, the
    ideal item profile, the turn's statistics) sits inside one collapsed thought whose title line
    says what happened ("searched your memory twice, 3 entries used"); it opens on click. The
    answer (item cards), notices and the write-back note are top-level messages. While the
    assistant works a "Working…" pending thought sits at the end, replaced by the next real event.
    """

    show_trace: bool = True
    messages: list[dict] = field(default_factory=list)
    items: list[ev.Recommendation] = field(default_factory=list)
    finished: bool = False
    searches: int = 0
    found: set[str] = field(default_factory=set)
    used: list[str] | None = None
    _root: dict | None = None
    _tools: dict[int, dict] = field(default_factory=dict)
    _tool_started: dict[int, float] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: how often memory was searched and how many entries the answer used."""
        times = {1: "once", 2: "twice"}.get(self.searches, f"{self.searches} times")
        head = f"searched your memory {times}" if self.searches else "no memory search"
        if self.used is not None:
            n = len(self.used)
            return f"{head}, {n} {'entry' if n == 1 else 'entries'} used"
        if self.found:
            n = len(self.found)
            return f"{head}, {n} {'entry' if n == 1 else 'entries'} found"
        return head

    def _trace(self, msg: dict) -> dict:
        """Add `msg` to the trace (under the collapsed trace thought, created on first use)."""
        if self._root is None:
            self._root = message("Each step the assistant took for this answer, in order.", "🧠 Reasoning trace",
                                 "done", msg_id="trace")
            self.messages.append(self._root)
        msg.setdefault("metadata", {}).setdefault("parent_id", "trace")
        self.messages.append(msg)
        self._root["metadata"]["log"] = self.summary()
        return msg

    def apply(self, event: ev.Event) -> None:
        t = self.show_trace
        if isinstance(event, ev.GlobalMemoryUsed) and t:
            self._trace(message(memory_lines(event.memories, "_No global memory matches this request._"),
                                "🌐 Global memory: what people weigh", "done", event.seconds))
        elif isinstance(event, ev.ReasoningStep) and t:
            if event.withheld:
                text = "_(The model's text was withheld by the output filter.)_"
            else:
                text = escape(event.thought) if event.thought.strip() else "_(no reasoning text)_"
            self._trace(message(text, f"💭 Reasoning, round {event.round}", "done", event.seconds))
        elif isinstance(event, ev.ToolCall) and t:
            label = "🔎 Memory search, round %d" % event.round + (" (automatic)" if event.fallback else "")
            msg = message("Queries: " + "; ".join(f"“{escape(q)}”" for q in event.queries), label, "pending",
                          msg_id=f"tool-{event.round}")
            self._tools[event.round] = msg
            self._tool_started[event.round] = time.perf_counter()
            self._trace(msg)
        elif isinstance(event, ev.MemoriesRetrieved):
            self.searches += 1
            self.found.update(m.memory_id for m in event.memories)
            if not t:
                return
            parent = self._tools.get(event.round)
            self._trace(message(memory_lines(event.memories), f"📚 Memory for “{escape(event.query[:60])}”", "done",
                                event.seconds, parent_id=parent["metadata"]["id"] if parent else None))
            if parent is not None:
                parent["metadata"]["status"] = "done"
                parent["metadata"]["duration"] = round(time.perf_counter() - self._tool_started[event.round], 2)
        elif isinstance(event, ev.FinalAnswer):
            self.used = list(dict.fromkeys(event.useful_memory_ids))
            if not t:
                return
            source = "deterministic fallback" if event.fallback else "model"
            why = ("The model's answer was unusable, so this profile was built from your request and your "
                   "memories.\n\n") if event.fallback else ""
            self._trace(message(f"{why}{escape(event.ideal_item_profile)}\n\nCited memory: {chips(self.used)}",
                                f"📝 Ideal item profile ({source})", "done"))
        elif isinstance(event, ev.ItemsRecommended):
            self.items = list(event.items)
            self.messages.append(message(item_cards_html(event.items)))
        elif isinstance(event, ev.Notice):
            self.messages.append(message(("⚠️ " if event.level == "warning" else "ℹ️ ") + escape(event.text)))
        elif isinstance(event, ev.MemoryWritten):
            parts = []
            if event.added:
                parts.append(f"learned {len(event.added)}")
            if event.reinforced:
                parts.append(f"reinforced {len(event.reinforced)}")
            if event.superseded:
                parts.append(f"replaced {len(event.superseded)}")
            if parts:
                new = f" New: {chips(event.added, limit=5)}" if event.added else ""
                self.messages.append(message("🧠 Memory updated: " + ", ".join(parts) + "." + new))
        elif isinstance(event, ev.TurnDone) and t:
            s = event.stats
            self._trace(message(
                f"{s.llm_calls} model calls, {s.generated_tokens} tokens generated, {s.tool_calls} memory searches; "
                f"model {s.seconds_llm:.1f} s, memory {s.seconds_memory:.2f} s, grounding {s.seconds_grounding:.2f} s.",
                "⏱️ Turn statistics", "done", s.seconds_total))
            if self._root is not None:
                self._root["metadata"]["duration"] = round(float(s.seconds_total), 2)

    def error(self, text: str) -> None:
        self.messages.append(message("⚠️ " + escape(text)))

    def stopped(self) -> None:
        """The user pressed Stop: close open thoughts and say what happened."""
        self._close_pending()
        self.messages.append(message("⏹️ Stopped. Nothing from this message was written to your memory."))
        self.finished = True

    def finish(self) -> None:
        self._close_pending()
        self.finished = True

    def _close_pending(self) -> None:
        for msg in self.messages:
            meta = msg.get("metadata") or {}
            if meta.get("status") == "pending":
                meta["status"] = "done"

    def render(self) -> list[dict]:
        """The turn's messages (copies: Gradio may hold on to what it was given), plus a pending
        "Working…" thought while the turn is not finished."""
        out = [dict(m, metadata=dict(m["metadata"])) if "metadata" in m else dict(m) for m in self.messages]
        if self.finished:
            return out
        return out + [message("Reading your memory and reasoning…", "⏳ Working", "pending", msg_id="working")]


def stop_history(history: list[dict]) -> list[dict]:
    """The chat after Stop: pending thoughts closed, the "Working…" placeholder replaced by a note."""
    out: list[dict] = []
    for msg in history or []:
        msg = dict(msg)
        meta = dict(msg.get("metadata") or {})
        if meta.get("id") == "working":
            continue
        if meta.get("status") == "pending":
            meta["status"] = "done"
        if meta:
            msg["metadata"] = meta
        out.append(msg)
    out.append(message("⏹️ Stopped. Nothing from this message was written to your memory."))
    return out


MEMORY_TABLE_HEADERS = ["entry", "text"]


def memory_rows(entries: list[MemoryEntry] | list[RetrievedMemory]) -> list[list[str]]:
    """Rows for the memory table: the entry's chip (level and short id, full id in its title) and its
    text (superseded entries are marked)."""
    rows = []
    for e in entries:
        entry = e.entry if isinstance(e, RetrievedMemory) else e
        text = entry.text if entry.status == "current" else f"(replaced) {entry.text}"
        rows.append([chip(entry.memory_id), text])
    return rows


def user_summary(dataset: Any, user_id: str, top: int = 2) -> str:
    """One line about a dataset user for the picker: ratings count and favourite categories (those
    most over-represented among the items they rated highly, compared with the whole catalog's
    ratings).

    >>> from mrrec_chat.data.schema import Dataset, Interaction, Item
    >>> items = {"1": Item("1", "A", ("Crime",)), "2": Item("2", "B", ("Comedy",)), "3": Item("3", "C", ("Crime",))}
    >>> data = Dataset("t", items, [Interaction("u", "1", 5), Interaction("u", "3", 4), Interaction("v", "2", 5)])
    >>> user_summary(data, "u")
    'u · 2 ratings · likes Crime'
    """
    history = dataset.by_user.get(user_id, [])
    n = len(history)
    line = f"{user_id} · {n} rating{'' if n == 1 else 's'}"
    likes = favourite_categories(dataset, user_id, top)
    return line + (f" · likes {', '.join(likes)}" if likes else "")


def favourite_categories(dataset: Any, user_id: str, top: int = 2) -> list[str]:
    from collections import Counter

    low, high = dataset.rating_scale
    liked_at = low + 0.75 * (high - low)  # 4 of 1-5
    liked = [x for x in dataset.by_user.get(user_id, []) if x.rating is None or x.rating >= liked_at]
    counts = Counter(c for x in liked for c in dataset.items[x.item_id].categories)
    if not counts:
        return []
    overall = _category_shares(dataset)
    total = sum(counts.values())
    floor = max(2, 0.1 * len(liked)) if len(liked) >= 4 else 1
    ranked = sorted((c for c, k in counts.items() if k >= floor),
                    key=lambda c: (-(counts[c] / total) / overall.get(c, 1.0), -counts[c], c))
    return ranked[:top]


_SHARES: dict[int, dict[str, float]] = {}


def _category_shares(dataset: Any) -> dict[str, float]:
    """Each category's share of all rated items' categories (cached per dataset object)."""
    key = id(dataset)
    if key not in _SHARES:
        from collections import Counter

        counts = Counter(c for x in dataset.interactions if x.item_id in dataset.items
                         for c in dataset.items[x.item_id].categories)
        total = sum(counts.values()) or 1
        _SHARES.clear()
        _SHARES[key] = {c: k / total for c, k in counts.items()}
    return _SHARES[key]


def memory_summary(counts: dict[str, int], user_id: str) -> str:
    """One line: how many entries per level (markdown, user id escaped)."""
    names = {"behavior": ("record", "records"), "pattern": ("pattern", "patterns"),
             "profile": ("profile chunk", "profile chunks"), "chat": ("chat-learned", "chat-learned")}
    parts = [f"{counts.get(level, 0)} {names[level][counts.get(level, 0) != 1]}" for level in names]
    total = sum(counts.values())
    return (f"**{total}** {'entry' if total == 1 else 'entries'} for `{escape_code(user_id)}`: "
            + " · ".join(parts))
