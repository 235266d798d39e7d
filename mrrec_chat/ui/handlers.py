"""The chat UI's event handlers: identity, the streamed chat turn, feedback and the memory panel.

`ChatHandlers` holds the shared `Assistant` and its memory API; each method is one event handler.
A handler returns (or, for the chat turn, yields) an `Update`: the new values of the components it
changes, keyed by component name (`session`, `chatbot`, `mem_table`, ...; absent = unchanged), and
the pop-up message to show, if any. `build_app` (ui/app.py) maps the names to its components and
shows the messages; unit tests call the methods directly with a fake assistant
(tests/test_ui_handlers.py).

Everything about a session (user id, earlier requests, the items to rate, settings) comes in as
handler arguments from `gr.State`, `gr.BrowserState` or component values and goes back in the
`Update`, never into the handler object or module globals, so one person's state cannot reach
another session. The chat turn is the one that holds the model; the rest are fast memory
operations.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.facts import BehaviorFact
from mrrec_chat.memory.schema import LOCAL_LEVELS, InvalidUserId, validate_user_id
from mrrec_chat.ui import render
from mrrec_chat.ui.identity import NotYourUser, authorize, resolve_user

log = logging.getLogger(__name__)

MAX_TOP_K = 10
MAX_ROUNDS = 6
MEMORY_TABLE_ROWS = 500
SEARCH_MIN_SIMILARITY = 0.3  # MiniLM cosine; below this a "match" is usually unrelated
MESSAGE_PLACEHOLDER = "Ask for a movie…"
EMPTY_MESSAGE_HINT = "✏️ Type a request first"

# The component names each handler's `Update` may set (build_app binds them in this order).
IDENTITY = ("session", "browser_user", "who", "recs", "chatbot", "mem_summary", "mem_table", "mem_id", "mem_text",
            "confirm_box", "export_out")
CHAT = ("chatbot", "box", "send", "session", "recs")
STOP = ("chatbot", "box", "send")
FEEDBACK = ("recs", "mem_summary", "mem_table")
MEMORY_VIEW = ("mem_summary", "mem_table")
SELECT_ROW = ("mem_id", "mem_text", "editor")
EDIT = ("mem_summary", "mem_table", "mem_id", "mem_text")
ADD = ("mem_summary", "mem_table", "new_text")
FORGET = ("session", "recs", "chatbot", "mem_summary", "mem_table", "confirm_box", "mem_id", "mem_text",
          "export_out")
EXPORT = ("export_out",)


@dataclass
class Update:
    """What one handler call changes: component values by name, and an optional pop-up message."""

    values: dict[str, Any] = field(default_factory=dict)
    info: str = ""
    warning: str = ""

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        return name in self.values


def new_session(user_id: str = "", how: str = "") -> dict:
    """Per-session state: the user, their recent requests and the items each turn listed
    (conversation context: "something else" means the last request again, without those items)."""
    return {"user_id": user_id, "how": how, "earlier": [], "shown": []}


def _username(profile: Any) -> str | None:
    return getattr(profile, "username", None) if profile is not None else None


def _clamp(value: Any, low: int, high: int, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(high, number))


def _memory_not_found() -> type[Exception]:
    from mrrec_chat.memory.api import MemoryNotFound

    return MemoryNotFound


class ChatHandlers:
    """The handlers `build_app` binds to its components (one instance per app, no session state)."""

    def __init__(self, assistant: Any, memory: Any, export_dir: str | Path | None = None):
        self.assistant = assistant
        self.memory = memory
        self.export_dir = Path(export_dir or Path(tempfile.gettempdir()) / "mrrec_chat_exports")

    @property
    def settings(self):
        return self.assistant.settings

    @property
    def dataset_users(self) -> dict:
        return self.assistant.dataset.by_user

    # --- views ------------------------------------------------------------------------------------
    def who_markdown(self, user_id: str, how: str) -> str:
        if not user_id:
            return "Loading…"
        if how == "signed-in":
            kind = "your Hugging Face account"
        elif user_id in self.dataset_users:
            kind = "a dataset user"
        else:
            kind = "a new user, remembered in this browser"
        return f"**You are** `{render.escape_code(user_id)}` — {kind}."

    def memory_view(self, user_id: str, query: str = "", level: str = "all", include_history: bool = False,
                    notes: list[str] | None = None) -> dict[str, Any]:
        """The memory panel's summary and table rows (`mem_summary`, `mem_table`)."""
        try:
            validate_user_id(user_id)
        except InvalidUserId:
            return {"mem_summary": "No user yet.", "mem_table": []}
        counts = {lv: 0 for lv in LOCAL_LEVELS}
        entries = self.memory.list(user_id, include_history=bool(include_history))
        for entry in entries:
            if entry.status == "current":
                counts[entry.level] = counts.get(entry.level, 0) + 1
        wanted = level if level in LOCAL_LEVELS else None
        query = (query or "").strip()
        if query:
            try:
                found: list = self.memory.search(user_id, query[:500], k=50)
            except ValueError as exc:
                if notes is not None:
                    notes.append(str(exc))
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
        return {"mem_summary": summary, "mem_table": render.memory_rows(shown[:MEMORY_TABLE_ROWS]),
                "_count": sum(counts.values())}

    def _view(self, user_id: str, query: str = "", level: str = "all", include_history: bool = False,
              **values: Any) -> Update:
        notes: list[str] = []
        view = self.memory_view(user_id, query, level, include_history, notes)
        view.pop("_count", None)
        return Update({**view, **values}, warning=" ".join(notes))

    def identity(self, user_id: str, how: str) -> Update:
        """Everything a change of user resets: session, chat, memory panel, editor, dialogs."""
        view = self.memory_view(user_id)
        if how == "returning" and not view.pop("_count", 0):
            how = "new"  # nothing is remembered (e.g. after "Forget me"): no "Welcome back"
        view.pop("_count", None)
        greeting = []
        if how == "returning":
            greeting = [render.message("👋 Welcome back. What I remember about you is under “Your memory”; ask for something to watch.")]
        elif how == "signed-in":
            greeting = [render.message("👋 Signed in: your memory belongs to your Hugging Face account.")]
        return Update({"session": new_session(user_id, how), "browser_user": user_id,
                       "who": self.who_markdown(user_id, how), "recs": [], "chatbot": greeting, **view,
                       "mem_id": "", "mem_text": "", "confirm_box": gr.update(visible=False),
                       "export_out": gr.update(value=None, visible=False)})

    # --- identity ---------------------------------------------------------------------------------
    def on_load(self, stored: str, profile: gr.OAuthProfile | None = None) -> Update:
        user_id, how = resolve_user(stored, _username(profile), self.assistant.new_user_id)
        self.assistant.ensure_user(user_id)
        return self.identity(user_id, how)

    def select_user(self, choice: str | None, session: dict, profile: gr.OAuthProfile | None = None) -> Update:
        if not choice:
            return Update()  # the picker was cleared or closed without a choice
        try:
            user_id = authorize(str(choice or ""), _username(profile))
            if user_id not in self.dataset_users:
                raise InvalidUserId(f"{user_id} is not a user of the dataset; pick one from the list.")
            self.memory.rebuild_from_dataset(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return Update(warning=str(exc))
        return self.identity(user_id, "dataset")

    def start_new_user(self) -> Update:
        user_id = self.assistant.new_user_id()
        self.assistant.ensure_user(user_id)
        return self.identity(user_id, "new")

    # --- chat -------------------------------------------------------------------------------------
    def chat(self, message: str, history: list, session: dict, top_k: float, max_rounds: float,
             show_trace: bool, profile: gr.OAuthProfile | None = None) -> Iterator[Update]:
        """One streamed chat turn: the trace, item cards, then the write-back (`CHAT` names)."""
        history = list(history or [])
        session = dict(session or new_session())
        text = message if isinstance(message, str) else ""
        unlock = {"box": gr.update(value="", interactive=True, placeholder=MESSAGE_PLACEHOLDER, elem_classes=[]),
                  "send": gr.update(interactive=True)}
        if not text.strip():
            # Nothing to send: say so where the person is looking (the message box), keep the chat.
            yield Update({"chatbot": history, "box": gr.update(value="", interactive=True,
                                                               placeholder=EMPTY_MESSAGE_HINT,
                                                               elem_classes=["mr-empty"]),
                          "send": gr.update(interactive=True), "session": session})
            return
        try:
            user_id = authorize(session.get("user_id") or "", _username(profile))
        except (InvalidUserId, NotYourUser):
            user_id = self.assistant.new_user_id()  # an API client without a session: a fresh user
            session = new_session(user_id, "new")
        history.append(render.user_message(text))
        view = render.TurnView(show_trace=bool(show_trace))
        locked = {"box": gr.update(value="", interactive=False, placeholder=MESSAGE_PLACEHOLDER, elem_classes=[]),
                  "send": gr.update(interactive=False)}
        yield Update({"chatbot": history + view.render(), **locked, "session": session})
        options = self.assistant.options(
            top_k=_clamp(top_k, 1, MAX_TOP_K, self.settings.memory_top_k),
            max_rounds=_clamp(max_rounds, 1, MAX_ROUNDS, self.settings.max_rounds))
        stream = self.assistant.chat(user_id, text, session.get("earlier") or [], options=options,
                                     shown=session.get("shown") or [])
        recs: list[dict] | None = None
        listed: list[str] = []
        n_events = 0
        try:
            for event in stream:
                n_events += 1
                view.apply(event)
                values = {"chatbot": history + view.render(), **locked, "session": session}
                if isinstance(event, ev.ItemsRecommended):
                    recs = render.recommendation_rows(event.items)
                    listed = [r.item.item_id for r in event.items]
                    values["recs"] = recs
                yield Update(values)
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
            session["shown"] = (list(session.get("shown") or []) + [listed])[-4:]
        final = {"chatbot": history + view.render(), **unlock, "session": session}
        if recs is not None:
            final["recs"] = recs
        yield Update(final)

    def on_stop(self, history: list) -> Update:
        return Update({"chatbot": render.stop_history(history), "box": gr.update(interactive=True),
                       "send": gr.update(interactive=True)})

    # --- feedback ---------------------------------------------------------------------------------
    def give_feedback(self, item_id: str, kind: str, session: dict, recs: list, query: str = "", level: str = "all",
                      include_history: bool = False, profile: gr.OAuthProfile | None = None) -> Update:
        user_id = (session or {}).get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            self.assistant.feedback(user_id, item_id, kind)
        except (InvalidUserId, NotYourUser, KeyError, ValueError) as exc:
            return Update(warning=str(exc).strip("'\""))
        # Each row's mark comes from memory, not only from this click: two quick clicks on different
        # rows each start from the same `recs` state, and the later reply must not undo the earlier.
        marks = {f.item_id: f.feedback for e in self.memory.list(user_id, level="behavior")
                 if (f := BehaviorFact.of(e)) is not None and f.feedback}
        marks[item_id] = kind
        recs = [dict(r, feedback=marks.get(str(r.get("item_id")), r.get("feedback"))) for r in recs or []]
        update = self._view(user_id, query, level, include_history, recs=recs)
        update.info = {"up": "Noted: you like it.", "down": "Noted: it will not be recommended again.",
                       "seen": "Noted: you've seen it; it will not be recommended again."}[kind]
        return update

    def feedback_for(self, item_id: str, kind: str) -> Callable[..., Update]:
        """A click handler bound to one item and one kind (its type hints let Gradio inject the profile)."""

        def handler(session: dict, recs: list, query: str, level: str, include_history: bool,
                    profile: gr.OAuthProfile | None = None) -> Update:
            return self.give_feedback(item_id, kind, session, recs, query, level, include_history, profile)

        return handler

    # --- memory panel -----------------------------------------------------------------------------
    def refresh_memory(self, session: dict, query: str = "", level: str = "all",
                       include_history: bool = False) -> Update:
        return self._view((session or {}).get("user_id", ""), query, level, include_history)

    def select_row(self, evt: gr.SelectData) -> Update:
        return self.select_row_values(list(evt.row_value or []))

    def select_row_values(self, row: list) -> Update:
        """A clicked table row [chip, text]: its full id and text go to the editor, which opens."""
        if len(row) < 2:
            return Update()
        text = str(row[-1])
        if text.startswith("(replaced) "):
            text = text[len("(replaced) "):]
        return Update({"mem_id": render.full_id_of(row[0]), "mem_text": text, "editor": gr.update(open=True)})

    def edit_entry(self, memory_id: str, text: str, session: dict, query: str = "", level: str = "all",
                   include_history: bool = False, profile: gr.OAuthProfile | None = None) -> Update:
        user_id = (session or {}).get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            if not memory_id:
                raise ValueError("Select a memory entry in the table first.")
            self.memory.edit(user_id, memory_id, text)
        except (InvalidUserId, NotYourUser, _memory_not_found(), ValueError) as exc:
            return Update(warning=str(exc).strip("'\""))
        update = self._view(user_id, query, level, include_history, mem_id=memory_id, mem_text=text)
        update.info = "Memory entry saved."
        return update

    def delete_entry(self, memory_id: str, session: dict, query: str = "", level: str = "all",
                     include_history: bool = False, profile: gr.OAuthProfile | None = None) -> Update:
        user_id = (session or {}).get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            if not memory_id:
                raise ValueError("Select a memory entry in the table first.")
            self.memory.delete(user_id, memory_id)
        except (InvalidUserId, NotYourUser, _memory_not_found(), ValueError) as exc:
            return Update(warning=str(exc).strip("'\""))
        update = self._view(user_id, query, level, include_history, mem_id="", mem_text="")
        update.info = "Memory entry deleted."
        return update

    def add_entry(self, text: str, session: dict, query: str = "", level: str = "all",
                  include_history: bool = False, profile: gr.OAuthProfile | None = None) -> Update:
        user_id = (session or {}).get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            self.memory.add(user_id, text or "")
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return Update(warning=str(exc))
        update = self._view(user_id, query, level, include_history, new_text="")
        update.info = "Remembered."
        return update

    def forget_me(self, session: dict, profile: gr.OAuthProfile | None = None) -> Update:
        user_id = (session or {}).get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            counts = self.memory.forget_user(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return Update(warning=str(exc))
        entries = sum(v for k, v in counts.items() if k != "history")
        note = render.message(f"🗑️ Forgotten: {entries} memory {'entry' if entries == 1 else 'entries'} and "
                              f"{counts.get('history', 0)} history rows were deleted. Nothing about you is "
                              f"stored now; ask for something to watch to start afresh.")
        session = dict(session, earlier=[], shown=[], how="forgotten")
        return self._view(user_id, session=session, recs=[], chatbot=[note], confirm_box=gr.update(visible=False),
                          mem_id="", mem_text="", export_out=gr.update(value=None, visible=False))

    def export_file(self, session: dict, profile: gr.OAuthProfile | None = None) -> Update:
        user_id = (session or {}).get("user_id", "")
        try:
            authorize(user_id, _username(profile))
            data = self.memory.export_json(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return Update(warning=str(exc))
        self.export_dir.mkdir(parents=True, exist_ok=True)
        for old in self.export_dir.glob("*/*.json"):  # exports are copied to Gradio's cache at once
            if time.time() - old.stat().st_mtime > 3600:
                old.unlink(missing_ok=True)
        folder = Path(tempfile.mkdtemp(dir=self.export_dir))
        path = folder / f"mrrec-memory-{re.sub(r'[^A-Za-z0-9._-]', '_', user_id)}.json"
        path.write_text(data, encoding="utf-8")
        return Update({"export_out": gr.update(value=str(path), visible=True)})
