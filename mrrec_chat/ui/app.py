"""The Gradio chat app: streams the agent's events, picks the user, shows and edits memory.

The one `Assistant` (model, store) is shared; everything about a browser session lives in
`gr.State` / `gr.BrowserState` and is passed to handlers — never in module globals, so one
person's user id, history or items can never reach another session.
"""

from __future__ import annotations

import json
import logging
import time

import gradio as gr

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.schema import InvalidUserId, validate_user_id
from mrrec_chat.service import Assistant
from mrrec_chat.ui.render import escape, event_messages, message

log = logging.getLogger(__name__)

EXAMPLES = ["A tense crime thriller for tonight", "Something funny and light for a family evening",
            "I can't stand horror. Any feel-good classics from the 80s?", "A sci-fi movie like The Matrix"]


def new_session(user_id: str) -> dict:
    return {"user_id": user_id, "earlier": [], "items": {}}


def build_app(assistant: Assistant) -> gr.Blocks:
    assistant.start()
    users = assistant.dataset_users(200)

    def memory_rows(user_id: str) -> list[list[str]]:
        try:
            entries = assistant.store.list_user(user_id)
        except InvalidUserId:
            return []
        return [[e.level, e.memory_id, e.text[:300]] for e in entries[:300]]

    def user_label(user_id: str) -> str:
        kind = "dataset user" if user_id in assistant.dataset.by_user else "new user"
        return f"**Current user:** `{escape(user_id)}` ({kind})"

    def on_load(browser_user: str):
        user_id = browser_user
        try:
            validate_user_id(user_id)
        except InvalidUserId:
            user_id = assistant.new_user_id()
        assistant.ensure_user(user_id)
        return new_session(user_id), user_label(user_id), memory_rows(user_id), user_id, []

    def select_user(dataset_user: str | None, session: dict):
        try:
            user_id = validate_user_id(str(dataset_user or ""))
        except InvalidUserId as exc:
            gr.Warning(str(exc))
            return session, user_label(session["user_id"]), memory_rows(session["user_id"]), session["user_id"], gr.update()
        if user_id not in assistant.dataset.by_user:
            gr.Warning(f"{user_id} is not a user of the dataset; pick one from the list.")
            return session, user_label(session["user_id"]), memory_rows(session["user_id"]), session["user_id"], gr.update()
        assistant.ensure_user(user_id)
        return new_session(user_id), user_label(user_id), memory_rows(user_id), user_id, []

    def start_new_user(session: dict):
        user_id = assistant.new_user_id()
        assistant.ensure_user(user_id)
        return new_session(user_id), user_label(user_id), memory_rows(user_id), user_id, []

    def chat(user_message: str, history: list, session: dict, show_trace: bool):
        history = list(history or [])
        history.append({"role": "user", "content": escape((user_message or "")[:2000])})
        yield history, session, gr.update(), gr.update(), ""
        user_id = session["user_id"]
        tool_messages: dict[int, dict] = {}
        items: dict[str, str] = {}
        try:
            for event in assistant.chat(user_id, user_message, session["earlier"]):
                if isinstance(event, ev.MemoriesRetrieved) and event.round in tool_messages:
                    tool_messages[event.round]["metadata"]["status"] = "done"
                for msg in event_messages(event, show_trace):
                    history.append(msg)
                    if isinstance(event, ev.ToolCall):
                        tool_messages[event.round] = msg
                if isinstance(event, ev.ItemsRecommended):
                    items = {f"{r.item.display_title} [{r.item.item_id}]": r.item.item_id for r in event.items}
                    yield history, session, gr.update(choices=list(items), value=None), gr.update(), ""
                elif isinstance(event, ev.MemoryWritten):
                    yield history, session, gr.update(), memory_rows(user_id), ""
                else:
                    yield history, session, gr.update(), gr.update(), ""
        except Exception:  # noqa: BLE001 - a failed turn must not kill the session
            log.exception("chat turn failed")
            history.append(message("⚠️ Sorry, something went wrong while answering. Your memory is unchanged; "
                                   "please try again."))
        text = (user_message or "").strip()
        session = {**session, "earlier": (session["earlier"] + [text[:300]])[-4:] if text else session["earlier"],
                   "items": items or session["items"]}
        yield history, session, gr.update(), memory_rows(user_id), ""

    def feedback(kind: str, choice: str | None, session: dict):
        item_id = (session.get("items") or {}).get(choice or "")
        if not item_id:
            gr.Warning("Pick one of the recommended items first.")
            return memory_rows(session["user_id"])
        assistant.feedback(session["user_id"], item_id, kind)
        gr.Info({"up": "Noted: you like it.", "down": "Noted: it will not be recommended again.",
                 "seen": "Noted: you've seen it."}[kind])
        return memory_rows(session["user_id"])

    def recommend(user_id: str, request: str) -> dict:
        """API: one chat turn for `user_id`; returns items, the profile and the cited memory ids."""
        try:
            validate_user_id(user_id)
        except InvalidUserId as exc:
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

    def memory_json(user_id: str) -> str:
        try:
            validate_user_id(user_id)
        except InvalidUserId as exc:
            return json.dumps({"error": str(exc)})
        return json.dumps([e.to_dict() for e in assistant.store.list_user(user_id)], ensure_ascii=False)

    with gr.Blocks(title="MR.Rec Chat") as demo:
        session = gr.State(new_session(""))
        browser_user = gr.BrowserState("", storage_key="mrrec_user_id")
        gr.Markdown("# MR.Rec Chat\nA movie recommender that remembers you: it reasons, searches your memory, "
                    "and recommends real catalog items with reasons that cite the memories used.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", height=560, sanitize_html=True,
                                     render_markdown=True, group_consecutive_messages=False)
                with gr.Row():
                    box = gr.Textbox(label="Your message", placeholder="What would you like to watch?",
                                     scale=5, max_lines=6, autofocus=True)
                    send = gr.Button("Send", variant="primary", scale=1)
                    stop = gr.Button("Stop", variant="stop", scale=1)
                gr.Examples(EXAMPLES, inputs=box, label="Try")
            with gr.Column(scale=2):
                who = gr.Markdown()
                with gr.Row():
                    pick = gr.Dropdown(users, label="Dataset user", allow_custom_value=False)
                    new_btn = gr.Button("Start as a new user")
                show_trace = gr.Checkbox(value=assistant.settings.show_trace, label="Show reasoning trace")
                items = gr.Dropdown([], label="A recommended item")
                with gr.Row():
                    up = gr.Button("👍 Like")
                    down = gr.Button("👎 Not for me")
                    seen = gr.Button("Seen it")
                memory = gr.Dataframe(headers=["level", "id", "text"], label="Your memory",
                                      interactive=False, wrap=True)
        user_id_box = gr.Textbox(visible=False)

        outputs = [session, who, memory, browser_user, chatbot]
        demo.load(on_load, [browser_user], outputs, api_name=False)
        pick.change(select_user, [pick, session], outputs, api_name=False)
        new_btn.click(start_new_user, [session], outputs, api_name=False)
        chat_outputs = [chatbot, session, items, memory, box]
        submit = box.submit(chat, [box, chatbot, session, show_trace], chat_outputs, api_name=False,
                            concurrency_limit=4, concurrency_id="chat")
        clicked = send.click(chat, [box, chatbot, session, show_trace], chat_outputs, api_name=False,
                             concurrency_limit=4, concurrency_id="chat")
        stop.click(None, None, None, cancels=[submit, clicked], api_name=False)
        for button, kind in ((up, "up"), (down, "down"), (seen, "seen")):
            button.click(lambda choice, s, k=kind: feedback(k, choice, s), [items, session], [memory], api_name=False)
        # Programmatic API (gradio_client): names pinned.
        user_id_box.submit(recommend, [user_id_box, box], gr.JSON(visible=False), api_name="recommend",
                           concurrency_limit=4, concurrency_id="chat")
        user_id_box.change(memory_json, [user_id_box], gr.Textbox(visible=False), api_name="memory")
    demo.queue(default_concurrency_limit=8, max_size=64)
    return demo
