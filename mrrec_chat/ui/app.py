"""The Gradio chat app: streamed reasoning and memory, item cards, feedback, the memory panel.

One `Assistant` (model, store) is shared by every browser session; everything about a session
(user id, earlier requests, the items to rate, settings) lives in `gr.State`, `gr.BrowserState`
or component values and is passed to handlers, never in module globals, so one person's state
cannot reach another session.

Concurrency (see `queue_plan`): chat turns share the model, which generates one step at a time
behind a lock, so they have their own concurrency group with a small limit; every memory
operation (panel, feedback, identity, export) is fast and has a separate group, so it never waits
behind a chat turn. Stop cancels the running turn: Gradio closes the turn's generator, which stops
the agent loop before its next model call (the call in progress, at most `max_new_tokens`, runs
to its end because generation holds the model lock) and skips the write-back.

Pinned API names (gradio_client): /chat (the UI's streamed turn), /recommend, /memory,
/memory_search, /memory_add, /memory_edit, /memory_delete, /feedback, /forget, /export.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.schema import LOCAL_LEVELS, InvalidUserId, validate_user_id
from mrrec_chat.service import Assistant
from mrrec_chat.ui import render
from mrrec_chat.ui.compat import gpu, oauth_enabled
from mrrec_chat.ui.identity import NotYourUser, authorize, resolve_user

log = logging.getLogger(__name__)

EXAMPLES = ["A tense crime thriller for tonight",
            "Something funny and light for a family evening",
            "I can't stand horror. Any feel-good classics from the 80s?",
            "A sci-fi movie like The Matrix"]
LEVEL_CHOICES = [("All", "all"), ("Records", "behavior"), ("Patterns", "pattern"), ("Profile", "profile"),
                 ("Chat-learned", "chat")]
MAX_TOP_K = 10
MAX_ROUNDS = 6
MEMORY_TABLE_ROWS = 500
SEARCH_MIN_SIMILARITY = 0.3  # MiniLM cosine; below this a "match" is usually unrelated
# localStorage key and the key BrowserState encrypts it with. The key is sent to the browser
# (decryption happens there), so it protects nothing; it must only stay the same across restarts,
# or a returning visitor's id could not be read back.
BROWSER_STORAGE_KEY = "mrrec_user_id"
BROWSER_SECRET = "mrrec-chat-browser-state-v1"


def queue_plan(assistant: Assistant) -> dict[str, int]:
    """Concurrency limits, chosen deliberately.

    chat: an in-process model generates one step at a time (lock), so 2 turns at once lets one
    retrieve and ground while the other generates; more would only slow everyone's turn down and
    hold worker threads. An external server (openai backend) batches requests itself, and the
    memory-only mode has no model: 8 there. llama.cpp runs in-process too (one lock): 2. memory: all fast operations, 16 at once.
    """
    backend = assistant.settings.llm_backend
    return {"chat": 2 if backend in ("local", "llamacpp") else 8, "memory": 16, "queue_size": 256}


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


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks app. `launch_kwargs()` gives the matching theme/CSS for `launch()`."""
    assistant.start()
    memory = getattr(assistant, "memory", None)
    if memory is None:  # the Assistant predates the memory API attribute
        from mrrec_chat.memory.api import MemoryAPI

        memory = MemoryAPI(assistant)
    from mrrec_chat.memory.api import MemoryNotFound

    settings = assistant.settings
    plan = queue_plan(assistant)
    users = assistant.dataset_users(2000)
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

    # --- programmatic API (gradio_client), names pinned ------------------------------------------
    def _api_user(user_id: str, profile: Any) -> str:
        return authorize(user_id, _username(profile))

    def recommend(user_id: str, request: str, profile: gr.OAuthProfile | None = None) -> dict:
        """One chat turn for `user_id`; returns items, the profile and the cited memory ids."""
        try:
            _api_user(user_id, profile)
        except (InvalidUserId, NotYourUser) as exc:
            return {"error": str(exc)}
        result: dict = {"user_id": user_id, "items": [], "notices": []}
        for event in assistant.chat(user_id, request):
            if isinstance(event, ev.FinalAnswer):
                result.update(profile=event.ideal_item_profile, memory_ids=event.useful_memory_ids,
                              fallback=event.fallback)
            elif isinstance(event, ev.ItemsRecommended):
                result["items"] = [{"item_id": r.item.item_id, "title": r.item.display_title,
                                    "categories": list(r.item.categories), "reason": r.reason,
                                    "memory_ids": r.memory_ids} for r in event.items]
            elif isinstance(event, ev.Notice):
                result["notices"].append(event.text)
            elif isinstance(event, ev.MemoryWritten):
                result["memory_written"] = {"added": event.added, "superseded": event.superseded}
        return result

    def memory_json(user_id: str, profile: gr.OAuthProfile | None = None) -> str:
        """The user's current memory entries as a JSON list."""
        try:
            _api_user(user_id, profile)
        except (InvalidUserId, NotYourUser) as exc:
            return json.dumps({"error": str(exc)})
        return json.dumps([e.to_dict() for e in memory.list(user_id)], ensure_ascii=False)

    def memory_search(user_id: str, query: str, k: int = 10, profile: gr.OAuthProfile | None = None) -> dict:
        """The user's current entries most similar to `query`, with their similarity."""
        try:
            _api_user(user_id, profile)
            found = memory.search(user_id, query, k=_clamp(k, 1, 100, 10))
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return {"error": str(exc)}
        return {"results": [dict(m.entry.to_dict(), score=round(float(m.score), 4)) for m in found]}

    def memory_add(user_id: str, text: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Remember a hand-written statement (chat level)."""
        try:
            _api_user(user_id, profile)
            return {"entry": memory.add(user_id, text).to_dict()}
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return {"error": str(exc)}

    def memory_edit(user_id: str, memory_id: str, text: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Replace one entry's text (same id; the old text stays in the history)."""
        try:
            _api_user(user_id, profile)
            return {"entry": memory.edit(user_id, memory_id, text).to_dict()}
        except (InvalidUserId, NotYourUser, MemoryNotFound, ValueError) as exc:
            return {"error": str(exc)}

    def memory_delete(user_id: str, memory_id: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Delete one entry of the user."""
        try:
            _api_user(user_id, profile)
            memory.delete(user_id, memory_id)
        except (InvalidUserId, NotYourUser, MemoryNotFound, ValueError) as exc:
            return {"error": str(exc)}
        return {"deleted": memory_id}

    def feedback_api(user_id: str, item_id: str, kind: str, profile: gr.OAuthProfile | None = None) -> dict:
        """👍 (up), 👎 (down) or seen on an item; stored as a behavior record."""
        try:
            _api_user(user_id, profile)
            return {"entry": assistant.feedback(user_id, item_id, kind).to_dict()}
        except (InvalidUserId, NotYourUser, KeyError, ValueError) as exc:
            return {"error": str(exc).strip("'\"")}

    def forget_api(user_id: str, profile: gr.OAuthProfile | None = None) -> dict:
        """Delete everything stored about the user; returns the counts removed."""
        try:
            _api_user(user_id, profile)
            return {"forgotten": memory.forget_user(user_id)}
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return {"error": str(exc)}

    def export_api(user_id: str, profile: gr.OAuthProfile | None = None) -> str:
        """Everything stored about the user (entries, superseded ones, history) as JSON text."""
        try:
            _api_user(user_id, profile)
            return memory.export_json(user_id)
        except (InvalidUserId, NotYourUser, ValueError) as exc:
            return json.dumps({"error": str(exc)})

    # --- layout ---------------------------------------------------------------------------------
    adapter = settings.llm_adapter
    model_note = (f"**Model:** `{render.escape_code(settings.llm_backend)}` · "
                  f"`{render.escape_code(settings.llm_model)}`"
                  + (f" · adapter `{render.escape_code(adapter)}`" if adapter not in ("", "none") else "")
                  + "\n\nChanging the model needs a restart: `python app.py --llm-model …` "
                    "(or `MRREC_LLM_MODEL`); see the README.")
    mem = {"chat": plan["chat"], "memory": plan["memory"]}

    with gr.Blocks(title="MR.Rec Chat", delete_cache=(3600, 3600)) as demo:
        session = gr.State(new_session())
        recs = gr.State([])
        browser_user = gr.BrowserState("", storage_key=BROWSER_STORAGE_KEY, secret=BROWSER_SECRET)

        with gr.Sidebar(label="Settings", open=False, position="right", elem_id="settings"):
            gr.Markdown("### Settings\nThese apply to this browser tab only.")
            gr.Markdown(model_note)
            top_k = gr.Slider(1, MAX_TOP_K, value=settings.memory_top_k, step=1, label="Memory top-k",
                              info="Memories returned per search (paper: 3).")
            rounds = gr.Slider(1, max(MAX_ROUNDS, settings.max_rounds), value=min(settings.max_rounds, MAX_ROUNDS),
                               step=1, label="Max reasoning rounds", info="Memory-tool rounds per request.")
            show_trace = gr.Checkbox(value=settings.show_trace, label="Show the reasoning trace")

        with gr.Row(equal_height=True):
            with gr.Column(scale=3, min_width=320):
                gr.Markdown("# 🎬 MR.Rec Chat\nA movie recommender that remembers you: it reasons, searches "
                            "your memory, and recommends real catalog items with reasons that cite that memory.",
                            elem_classes="mr-header")
            with gr.Column(scale=2, min_width=300):
                who = gr.Markdown("Loading…", elem_id="who")
                with gr.Row():
                    pick = gr.Dropdown(users, value=None, label="Be a dataset user", filterable=True,
                                       elem_id="pick-user", scale=2)
                    new_btn = gr.Button("Start as a new user", elem_id="new-user", scale=1)
                if oauth_enabled():
                    gr.LoginButton(size="sm")

        with gr.Row():
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(label="Conversation", elem_id="chatbot", height=580, sanitize_html=True,
                                     render_markdown=True, group_consecutive_messages=False,
                                     latex_delimiters=[], buttons=["copy_all"], feedback_options=None,
                                     placeholder="Ask for a movie: what mood, which genres, what you loved or "
                                                 "can't stand. Your memory is on the right.")
                with gr.Row():
                    box = gr.Textbox(label="Your message", placeholder="What would you like to watch? (Enter sends)",
                                     elem_id="message", scale=6, lines=1, max_lines=6, autofocus=True,
                                     submit_btn=False)
                    send = gr.Button("Send", variant="primary", elem_id="send", scale=1, min_width=80)
                    stop = gr.Button("Stop", variant="stop", elem_id="stop", scale=1, min_width=80)
                gr.Examples(EXAMPLES, inputs=box, label="Example requests")
                gr.Markdown("### Rate the recommendations", elem_id="rate-heading")

                @gr.render(inputs=[recs])
                def feedback_panel(rec_list: list):
                    if not rec_list:
                        gr.Markdown("_Recommended items appear here; 👍 / 👎 / seen goes straight into your memory._")
                        return
                    for rec in rec_list:
                        item_id = str(rec.get("item_id", ""))
                        title = render.escape(rec.get("title", ""))
                        year = f" ({rec['year']})" if rec.get("year") else ""
                        done = rec.get("feedback")
                        with gr.Row(elem_classes="mr-fb-row", key=f"fb-{item_id}", equal_height=True):
                            label = f"**{title}**{year}"
                            if done:
                                label += {"up": " — 👍 liked", "down": " — 👎 not for you", "seen": " — seen"}[done]
                            gr.Markdown(label, elem_classes="mr-fb-title", scale=3)
                            for kind, text in (("up", "👍 Like"), ("down", "👎 Not for me"), ("seen", "👁 Seen it")):
                                button = gr.Button(text, size="sm", min_width=112, scale=0, variant="secondary",
                                                   interactive=done != kind,
                                                   elem_classes=f"mr-fb mr-fb-{kind}")
                                button.click(
                                    feedback_handler(item_id, kind),
                                    [session, recs, mem_query, mem_level, mem_hist], [recs, mem_summary, mem_table],
                                    api_visibility="private", concurrency_id="memory",
                                    concurrency_limit=mem["memory"])

            with gr.Column(scale=2, min_width=300, elem_id="memory-panel"):
                gr.Markdown("## Your memory")
                mem_summary = gr.Markdown(elem_id="memory-summary")
                with gr.Row():
                    mem_query = gr.Textbox(label="Search your memory", placeholder="e.g. horror, 90s crime",
                                           elem_id="memory-search", scale=3, submit_btn="Search")
                    mem_hist = gr.Checkbox(label="Include replaced entries", value=False, scale=1)
                mem_level = gr.Radio(LEVEL_CHOICES, value="all", label="Level", elem_id="memory-level")
                mem_table = gr.Dataframe(headers=["level", "memory id", "text"], datatype="str",
                                         label="Entries (click a row to edit or delete it)", interactive=False,
                                         wrap=True, max_height=420, elem_id="memory-table",
                                         column_widths=["22%", "30%", "48%"])
                with gr.Accordion("Edit, add or delete entries", open=False, elem_id="memory-editor") as editor:
                    mem_id = gr.Textbox(label="Selected memory id", interactive=False, elem_id="memory-id")
                    mem_text = gr.Textbox(label="Entry text", lines=2, max_lines=6, elem_id="memory-text")
                    with gr.Row():
                        save_btn = gr.Button("Save edit", size="sm", elem_id="memory-save")
                        del_btn = gr.Button("Delete entry", size="sm", variant="stop", elem_id="memory-delete")
                    new_text = gr.Textbox(label="Tell it something to remember",
                                          placeholder="e.g. I love slow-burn mysteries", elem_id="memory-new")
                    add_btn = gr.Button("Remember this", size="sm", elem_id="memory-add")
                with gr.Row():
                    export_btn = gr.Button("Export my memory (JSON)", size="sm", elem_id="export")
                    forget_btn = gr.Button("Forget me…", size="sm", variant="stop", elem_id="forget")
                export_out = gr.File(label="Your memory export", visible=False, interactive=False,
                                     elem_id="export-file")
                with gr.Group(visible=False, elem_id="forget-confirm") as confirm_box:
                    gr.Markdown("**Delete everything stored about you?** Every memory entry and its history "
                                "is removed. This cannot be undone.")
                    with gr.Row():
                        forget_yes = gr.Button("Yes, forget me", variant="stop", size="sm", elem_id="forget-yes")
                        forget_no = gr.Button("Cancel", size="sm", elem_id="forget-no")

        # --- events -------------------------------------------------------------------------
        ident_out = [session, browser_user, who, recs, chatbot, mem_summary, mem_table, mem_id, mem_text,
                     confirm_box, export_out]
        quick = dict(api_visibility="private", concurrency_id="memory", concurrency_limit=mem["memory"])
        demo.load(on_load, [browser_user], ident_out, **quick)
        pick.input(select_user, [pick, session], ident_out, **quick)
        new_btn.click(start_new_user, None, ident_out, **quick)

        chat_event = gr.on([box.submit, send.click], chat, [box, chatbot, session, top_k, rounds, show_trace],
                           [chatbot, box, send, session, recs], api_name="chat", trigger_mode="once",
                           concurrency_id="chat", concurrency_limit=mem["chat"], show_progress="minimal",
                           show_progress_on=[box])
        mem_inputs = [session, mem_query, mem_level, mem_hist]
        chat_event.then(refresh_memory, mem_inputs, [mem_summary, mem_table], **quick)
        stop.click(on_stop, [chatbot], [chatbot, box, send], cancels=[chat_event], api_visibility="private",
                   queue=False)

        gr.on([mem_query.submit, mem_level.change, mem_hist.change], refresh_memory, mem_inputs,
              [mem_summary, mem_table], trigger_mode="always_last", **quick)
        mem_table.select(select_row, None, [mem_id, mem_text, editor], **quick)
        save_btn.click(edit_entry, [mem_id, mem_text, *mem_inputs], [mem_summary, mem_table, mem_id, mem_text],
                       **quick)
        del_btn.click(delete_entry, [mem_id, *mem_inputs], [mem_summary, mem_table, mem_id, mem_text], **quick)
        gr.on([add_btn.click, new_text.submit], add_entry, [new_text, *mem_inputs], [mem_summary, mem_table, new_text],
              **quick)
        forget_btn.click(lambda: gr.update(visible=True), None, confirm_box, queue=False, api_visibility="private")
        forget_no.click(lambda: gr.update(visible=False), None, confirm_box, queue=False, api_visibility="private")
        forget_yes.click(forget_me, [session], [session, recs, chatbot, mem_summary, mem_table, confirm_box,
                                                mem_id, mem_text, export_out], **quick)
        export_btn.click(export_file, [session], [export_out], **quick)

        api = dict(concurrency_id="memory", concurrency_limit=mem["memory"])
        gr.api(recommend, api_name="recommend", concurrency_id="chat", concurrency_limit=mem["chat"])
        gr.api(memory_json, api_name="memory", **api)
        gr.api(memory_search, api_name="memory_search", **api)
        gr.api(memory_add, api_name="memory_add", **api)
        gr.api(memory_edit, api_name="memory_edit", **api)
        gr.api(memory_delete, api_name="memory_delete", **api)
        gr.api(feedback_api, api_name="feedback", **api)
        gr.api(forget_api, api_name="forget", **api)
        gr.api(export_api, api_name="export", **api)
    demo.queue(default_concurrency_limit=8, max_size=plan["queue_size"])
    return demo


def launch_kwargs() -> dict:
    """Theme and CSS for `demo.launch(...)` (Gradio 6 takes them at launch, not in Blocks)."""
    from mrrec_chat.ui.style import CSS, theme

    return {"theme": theme(), "css": CSS}
