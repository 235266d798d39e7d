"""Turning agent events into chat messages (Gradio-free: plain dicts in Gradio's message format).

Everything shown is escaped: memory entries and model text can contain HTML or markdown from
users or datasets, and must be displayed as text, never rendered or executed.
"""

from __future__ import annotations

import html
import re

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.schema import RetrievedMemory

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-!|~])")


def escape(text: str) -> str:
    """Escape HTML and markdown so user- or model-written text shows literally."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def memory_lines(memories: list[RetrievedMemory]) -> str:
    if not memories:
        return "_No matching memory (new user or nothing relevant yet)._"
    return "\n".join(f"- `{m.memory_id}` · {m.entry.level} · {escape(m.entry.text)}" for m in memories)


def item_cards(recommendations: list[ev.Recommendation]) -> str:
    if not recommendations:
        return "I could not find a catalog item that fits. Try describing it differently."
    lines = ["**Recommendations** (real catalog items; reasons cite your memory ids):", ""]
    for n, rec in enumerate(recommendations, 1):
        item = rec.item
        genres = ", ".join(item.categories) or "—"
        lines.append(f"{n}. **{escape(item.display_title)}** · {escape(genres)}  ")
        lines.append(f"   {escape(rec.reason)}")
    return "\n".join(lines)


def message(content: str, title: str | None = None, status: str | None = None,
            duration: float | None = None, msg_id: str | None = None) -> dict:
    """A chat message dict; with `title` it renders as a collapsible thought."""
    out: dict = {"role": "assistant", "content": content}
    if title:
        meta: dict = {"title": title}
        if status:
            meta["status"] = status
        if duration is not None:
            meta["duration"] = round(duration, 2)
        if msg_id:
            meta["id"] = msg_id
        out["metadata"] = meta
    return out


def event_messages(event: ev.Event, show_trace: bool = True) -> list[dict]:
    """Messages to append for one event (tool calls are updated in place by the caller)."""
    if isinstance(event, ev.GlobalMemoryUsed) and show_trace:
        return [message(memory_lines(event.memories), "🌐 Global memory (what people weigh)", "done", event.seconds)]
    if isinstance(event, ev.ReasoningStep) and show_trace:
        text = escape(event.thought) if event.thought and not event.withheld else (event.thought or "_(no reasoning text)_")
        return [message(text, f"💭 Reasoning, round {event.round}", "done", event.seconds)]
    if isinstance(event, ev.ToolCall) and show_trace:
        label = "🔎 Memory search" + (" (automatic)" if event.fallback else "")
        return [message("Searching: " + "; ".join(escape(q) for q in event.queries), label, "pending",
                        msg_id=f"tool-{event.round}")]
    if isinstance(event, ev.MemoriesRetrieved) and show_trace:
        return [message(memory_lines(event.memories), f"📚 Memory for “{escape(event.query[:60])}”", "done",
                        event.seconds)]
    if isinstance(event, ev.FinalAnswer) and show_trace:
        source = "deterministic fallback" if event.fallback else "model"
        cited = ", ".join(f"`{i}`" for i in event.useful_memory_ids) or "none"
        return [message(f"{escape(event.ideal_item_profile)}\n\nCited memory: {cited}",
                        f"📝 Ideal item profile ({source})", "done")]
    if isinstance(event, ev.ItemsRecommended):
        return [message(item_cards(event.items))]
    if isinstance(event, ev.Notice):
        return [message(("⚠️ " if event.level == "warning" else "ℹ️ ") + escape(event.text))]
    if isinstance(event, ev.MemoryWritten) and (event.added or event.superseded or event.reinforced):
        parts = []
        if event.added:
            parts.append(f"learned {len(event.added)}")
        if event.reinforced:
            parts.append(f"reinforced {len(event.reinforced)}")
        if event.superseded:
            parts.append(f"replaced {len(event.superseded)}")
        return [message("🧠 Memory updated: " + ", ".join(parts) + ".")]
    return []
