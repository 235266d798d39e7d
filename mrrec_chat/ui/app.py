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

import gradio as gr

from mrrec_chat.service import Assistant
from mrrec_chat.ui import render
from mrrec_chat.ui.api import api_handlers
from mrrec_chat.ui.compat import oauth_enabled
from mrrec_chat.ui.handlers import (  # noqa: F401 - the others re-exported
    MAX_ROUNDS,
    MAX_TOP_K,
    MEMORY_TABLE_ROWS,
    SEARCH_MIN_SIMILARITY,
    _clamp,
    _username,
    new_session,
    ui_handlers,
)

EXAMPLES = ["A tense crime thriller for tonight",
            "Something funny and light for a family evening",
            "I can't stand horror. Any feel-good classics from the 80s?",
            "A sci-fi movie like The Matrix"]
LEVEL_CHOICES = [("All", "all"), ("Records", "behavior"), ("Patterns", "pattern"), ("Profile", "profile"),
                 ("Chat-learned", "chat")]
# localStorage key and the key BrowserState encrypts it with. The key is sent to the browser
# (decryption happens there), so it protects nothing; it must only stay the same across restarts,
# or a returning visitor's id could not be read back.
BROWSER_STORAGE_KEY = "mrrec_user_id"
IN_PROCESS_BACKENDS = ("onnx", "local", "llamacpp")  # one model in this process, generating under a lock
BROWSER_SECRET = "mrrec-chat-browser-state-v1"


def queue_plan(assistant: Assistant) -> dict[str, int]:
    """Concurrency limits, chosen deliberately.

    chat: an in-process model generates one step at a time (lock), so 2 turns at once lets one
    retrieve and ground while the other generates; more would only slow everyone's turn down and
    hold worker threads. An external server (openai backend) batches requests itself, and the
    memory-only mode has no model: 8 there. The onnx and llama.cpp backends run in-process too (one lock): 2. memory: all fast operations, 16 at once.
    """
    backend = assistant.settings.llm_backend
    return {"chat": 2 if backend in IN_PROCESS_BACKENDS else 8, "memory": 16, "queue_size": 256}


def adapter_label(settings) -> str:
    """The LoRA adapter the model runs with, as the settings panel names it ("" for none).

    `auto` is resolved here, so the panel says whether the tuned policy was found.
    """
    adapter = settings.llm_adapter
    if settings.llm_backend not in IN_PROCESS_BACKENDS or adapter in ("", "none"):
        return ""
    if adapter == "auto":
        from mrrec_chat.llm.local import auto_adapter

        found = auto_adapter(settings.llm_model)
        return f"{found.name} (tuned policy, auto)" if found else ""
    return adapter


def build_app(assistant: Assistant) -> gr.Blocks:
    """The Blocks app. `launch_kwargs()` gives the matching theme/CSS for `launch()`."""
    assistant.start()
    memory = getattr(assistant, "memory", None)
    if memory is None:  # the Assistant predates the memory API attribute
        from mrrec_chat.memory.api import MemoryAPI

        memory = MemoryAPI(assistant)

    settings = assistant.settings
    plan = queue_plan(assistant)
    users = assistant.dataset_users(2000)
    ui = ui_handlers(assistant, memory)
    on_load, select_user, start_new_user = ui.on_load, ui.select_user, ui.start_new_user
    chat, on_stop, feedback_handler = ui.chat, ui.on_stop, ui.feedback_handler
    refresh_memory, select_row, edit_entry = ui.refresh_memory, ui.select_row, ui.edit_entry
    delete_entry, add_entry, forget_me, export_file = ui.delete_entry, ui.add_entry, ui.forget_me, ui.export_file
    endpoints = api_handlers(assistant, memory)
    recommend, memory_json, memory_search = endpoints.recommend, endpoints.memory_json, endpoints.memory_search
    memory_add, memory_edit, memory_delete = endpoints.memory_add, endpoints.memory_edit, endpoints.memory_delete
    feedback_api, forget_api, export_api = endpoints.feedback_api, endpoints.forget_api, endpoints.export_api

    # --- layout ---------------------------------------------------------------------------------
    adapter = adapter_label(settings)
    model_note = (f"**Model:** `{render.escape_code(settings.llm_backend)}` · "
                  f"`{render.escape_code(settings.llm_model)}`"
                  + (f" · adapter `{render.escape_code(adapter)}`" if adapter else "")
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
