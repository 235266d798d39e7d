"""The chat UI's event handlers: identity, the streamed chat turn, feedback and the memory panel.

`ui_handlers` builds them once per app as closures over the shared `Assistant` and its memory
API; everything about a session (user id, earlier requests, the items to rate, settings) comes
in as handler arguments from `gr.State`, `gr.BrowserState` or component values and goes back as
return values, never into these closures or module globals, so one person's state cannot reach
another session. `build_app` (ui/app.py) wires the handlers to the layout; the chat turn is the
one that holds the model (and carries `gpu` for ZeroGPU Spaces), the rest are fast memory
operations.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import gradio as gr

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.schema import LOCAL_LEVELS, InvalidUserId, validate_user_id
from mrrec_chat.service import Assistant
from mrrec_chat.ui import render
from mrrec_chat.ui.compat import gpu
from mrrec_chat.ui.identity import NotYourUser, authorize, resolve_user

log = logging.getLogger(__name__)

MAX_TOP_K = 10
MAX_ROUNDS = 6
MEMORY_TABLE_ROWS = 500
SEARCH_MIN_SIMILARITY = 0.3  # MiniLM cosine; below this a "match" is usually unrelated


def new_session(user_id: str = "", how: str = "") -> dict:
    """Per-session state: the user and their recent requests (conversation context)."""
    return {"user_id": user_id, "how": how, "earlier": []}


def _username(profile: Any) -> str | None:
    return getattr(profile, "username", None) if profile is not None else None


def _clamp(value: Any, low: int, high: int, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


def ui_handlers(assistant: Assistant, memory: Any) -> SimpleNamespace:
    """The handlers `build_app` binds to its components, as attributes of one namespace."""
    from mrrec_chat.memory.api import MemoryNotFound

    settings = assistant.settings
    dataset_users = set(assistant.dataset.by_user)
    export_dir = Path(tempfile.gettempdir()) / "mrrec_chat_exports"

    # --- helpers ------------------------------------------------------------------------------
    def who_markdown(user_id: str, how: str) -> str:
        if not user_id:
            return "Loading…"
        if how == "signed-in":
            kind = "your Hugging Face account"
        elif user_id in dataset_users:
            kind = "a dataset user"
        else:
            kind = "a new user, remembered in this browser"
        return f"**You are** `{render.escape_code(user_id)}` — {kind}."

    def memory_view(user_id: str, query: str = "", level: str = "all", include_history: bool = False):
        """(summary markdown, table rows) for the memory panel."""
        try:
            validate_user_id(user_id)
        except InvalidUserId:
            return "No user yet.", []
        counts = {lv: 0 for lv in LOCAL_LEVELS}
        entries = memory.list(user_id, include_history=bool(include_history))
        for entry in entries:
            if entry.status == "current":
                counts[entry.level] = counts.get(entry.level, 0) + 1
        wanted = level if level in LOCAL_LEVELS else None
        query = (query or "").strip()
        if query:
            try:
                found: list = memory.search(user_id, query[:500], k=50)
            except ValueError as exc:
                gr.Warning(str(exc))
                found = []
            # A search narrows the list: close matches by meaning, or entries containing the words.
            needle = query.lower()
            close = [m.entry for m in found if m.score >= SEARCH_MIN_SIMILARITY or needle in m.entry.text.lower()]
            seen_ids = {e.memory_id for e in close}
            close += [e for e in entries if needle in e.text.lower() and e.memory_id not in seen_ids]
            shown = [e for e in close if wanted is None or e.level == wanted]
        else:
            shown = [e for e in entries if wanted is None or e.level == wanted]
            order = {lv: n for n, lv in enumerate(("chat", "profile", "pattern", "behavior"))}
            shown.sort(key=lambda e: (order.get(e.level, 9), e.status != "current", -float(e.created_at or 0)))
        summary = render.memory_summary(counts, user_id)
        if query:
            summary += f" — {len(shown)} matching “{render.escape(query[:80])}”"
        return summary, render.memory_rows(shown[:MEMORY_TABLE_ROWS])

    def identity_outputs(user_id: str, how: str):
        summary, rows = memory_view(user_id)
        greeting = []
        if how == "returning":
            greeting = [render.message("👋 Welcome back. Your memory is on the right; ask for something to watch.")]
        elif how == "signed-in":
            greeting = [render.message("👋 Signed in: your memory belongs to your Hugging Face account.")]
        return (new_session(user_id, how), user_id, who_markdown(user_id, how), [], greeting, summary, rows,
                "", "", gr.update(visible=False), gr.update(value=None, visible=False))

    # --- identity -----------------------------------------------------------------------------
    def on_load(stored: str, profile: gr.OAuthProfile | None = None):
        user_id, how = resolve_user(stored, _username(profile), assistant.new_user_id)
        assistant.ensure_user(user_id)
        return identity_outputs(user_id, how)

    def select_user(choice: str | None, session: dict, profile: gr.OAuthProfile | None = None):
        try:
            user_id = authorize(str(choice or ""), _username(profile))
            if user_id not in dataset_users:
                raise InvalidUserId(f"{user_id} is not a user of the dataset; pick one from the list.")
            memory.rebuild_from_dataset(user_id) if hasattr(memory, "rebuild_from_dataset") \
                else assistant.ensure_user(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            gr.Warning(str(exc))
            return (gr.skip(),) * 11
        return identity_outputs(user_id, "dataset")

    def start_new_user():
        user_id = assistant.new_user_id()
        assistant.ensure_user(user_id)
        return identity_outputs(user_id, "new")

    # --- chat -----------------------------------------------------------------------------------
    @gpu(duration=120)
    def chat(message: str, history: list, session: dict, top_k: float, max_rounds: float,
             show_trace: bool, profile: gr.OAuthProfile | None = None) -> Iterator[tuple]:
        """One streamed chat turn: trace thoughts, item cards, then the write-back."""
        history = list(history or [])
        session = dict(session or new_session())
        text = message if isinstance(message, str) else ""
        unlock = (gr.update(value="", interactive=True), gr.update(interactive=True))
        if not text.strip():
            yield (history, *unlock, session, gr.skip())
            return
        try:
            user_id = authorize(session.get("user_id") or "", _username(profile))
        except (InvalidUserId, NotYourUser):
            user_id = assistant.new_user_id()  # an API client without a session: a fresh user
            session = new_session(user_id, "new")
        history.append(render.user_message(text))
        view = render.TurnView(show_trace=bool(show_trace))
        locked = (gr.update(value="", interactive=False), gr.update(interactive=False))
        yield (history + view.render(), *locked, session, gr.skip())
        options = assistant.options(top_k=_clamp(top_k, 1, MAX_TOP_K, settings.memory_top_k),
                                    max_rounds=_clamp(max_rounds, 1, MAX_ROUNDS, settings.max_rounds))
        stream = assistant.chat(user_id, text, session.get("earlier") or [], options=options)
        recs: list[dict] | None = None
        n_events = 0
        try:
            for event in stream:
                n_events += 1
                view.apply(event)
                if isinstance(event, ev.ItemsRecommended):
                    recs = render.recommendation_rows(event.items)
                    yield (history + view.render(), *locked, session, recs)
                else:
                    yield (history + view.render(), *locked, session, gr.skip())
        except GeneratorExit:
            # Stop pressed, or the tab closed: Gradio closes this generator between two events.
            log.info("chat turn for %s stopped (Stop or tab closed) after %d events; no write-back",
                     user_id, n_events)
            raise
        except Exception:  # noqa: BLE001 - a failed turn must not kill the session
            log.exception("chat turn failed")
            view.error("Sorry, something went wrong while answering. Please try again.")
        finally:
            stream.close()
        view.finish()
        clean = text.strip()
        if clean:
            session["earlier"] = (list(session.get("earlier") or []) + [clean[:300]])[-4:]
        yield (history + view.render(), *unlock, session, recs if recs is not None else gr.skip())

    def on_stop(history: list):
        return render.stop_history(history), gr.update(interactive=True), gr.update(interactive=True)

    # --- feedback -----------------------------------------------------------------------------
    def give_feedback(item_id: str, kind: str, session: dict, recs: list, query: str, level: str,
                      include_history: bool, profile: gr.OAuthProfile | None = None):
        user_id = session.get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            assistant.feedback(user_id, item_id, kind)
        except (InvalidUserId, NotYourUser, KeyError, ValueError) as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), gr.skip()
        recs = [dict(r, feedback=kind) if r.get("item_id") == item_id else r for r in recs or []]
        gr.Info({"up": "Noted: you like it.", "down": "Noted: it will not be recommended again.",
                 "seen": "Noted: you've seen it; it will not be recommended again."}[kind])
        summary, rows = memory_view(user_id, query, level, include_history)
        return recs, summary, rows

    def feedback_handler(item_id: str, kind: str):
        """A click handler bound to one item and one kind (type hints let Gradio inject the profile)."""

        def handler(session: dict, recs: list, query: str, level: str, include_history: bool,
                    profile: gr.OAuthProfile | None = None):
            return give_feedback(item_id, kind, session, recs, query, level, include_history, profile)

        return handler

    # --- memory panel ---------------------------------------------------------------------------
    def refresh_memory(session: dict, query: str, level: str, include_history: bool):
        return memory_view(session.get("user_id", ""), query, level, include_history)

    def select_row(evt: gr.SelectData):
        row = list(evt.row_value or [])
        if len(row) < 3:
            return gr.skip(), gr.skip(), gr.skip()
        text = str(row[2])
        if text.startswith("(replaced) "):
            text = text[len("(replaced) "):]
        return str(row[1]), text, gr.update(open=True)

    def edit_entry(memory_id: str, text: str, session: dict, query: str, level: str, include_history: bool,
                   profile: gr.OAuthProfile | None = None):
        user_id = session.get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            if not memory_id:
                raise ValueError("Select a memory entry in the table first.")
            memory.edit(user_id, memory_id, text)
            gr.Info("Memory entry saved.")
        except (InvalidUserId, NotYourUser, MemoryNotFound, ValueError) as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        summary, rows = memory_view(user_id, query, level, include_history)
        return summary, rows, memory_id, text

    def delete_entry(memory_id: str, session: dict, query: str, level: str, include_history: bool,
                     profile: gr.OAuthProfile | None = None):
        user_id = session.get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            if not memory_id:
                raise ValueError("Select a memory entry in the table first.")
            memory.delete(user_id, memory_id)
            gr.Info("Memory entry deleted.")
        except (InvalidUserId, NotYourUser, MemoryNotFound, ValueError) as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        summary, rows = memory_view(user_id, query, level, include_history)
        return summary, rows, "", ""

    def add_entry(text: str, session: dict, query: str, level: str, include_history: bool,
                  profile: gr.OAuthProfile | None = None):
        user_id = session.get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            memory.add(user_id, text or "")
            gr.Info("Remembered.")
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), gr.skip()
        summary, rows = memory_view(user_id, query, level, include_history)
        return summary, rows, ""

    def forget_me(session: dict, profile: gr.OAuthProfile | None = None):
        user_id = session.get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            counts = memory.forget_user(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            gr.Warning(str(exc))
            return (gr.skip(),) * 9
        gr.Info(f"Forgotten: {sum(v for k, v in counts.items() if k != 'history')} memory entries and "
                f"{counts.get('history', 0)} history rows.")
        summary, rows = memory_view(user_id)
        session = dict(session, earlier=[])
        return (session, [], [], summary, rows, gr.update(visible=False), "", "",
                gr.update(value=None, visible=False))

    def export_file(session: dict, profile: gr.OAuthProfile | None = None):
        user_id = session.get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            data = memory.export_json(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            gr.Warning(str(exc))
            return gr.skip()
        export_dir.mkdir(parents=True, exist_ok=True)
        for old in export_dir.glob("*/*.json"):  # exports are copied to Gradio's cache at once
            if time.time() - old.stat().st_mtime > 3600:
                old.unlink(missing_ok=True)
        folder = Path(tempfile.mkdtemp(dir=export_dir))
        path = folder / f"mrrec-memory-{re.sub(r'[^A-Za-z0-9._-]', '_', user_id)}.json"
        path.write_text(data, encoding="utf-8")
        return gr.update(value=str(path), visible=True)


    return SimpleNamespace(on_load=on_load, select_user=select_user, start_new_user=start_new_user, chat=chat,
                           on_stop=on_stop, feedback_handler=feedback_handler, refresh_memory=refresh_memory,
                           select_row=select_row, edit_entry=edit_entry, delete_entry=delete_entry,
                           add_entry=add_entry, forget_me=forget_me, export_file=export_file)
