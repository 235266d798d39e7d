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
/memory_search, /memory_add, /memory_edit, /memory_delete, /feedback, /forget, /export,
/recommend_in_chat.
"""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from mrrec_chat.ui import handlers as h
from mrrec_chat.ui import render
from mrrec_chat.ui.api import ENDPOINTS, ApiHandlers
from mrrec_chat.ui.compat import gpu, oauth_enabled
from mrrec_chat.ui.handlers import MAX_ROUNDS, MAX_TOP_K, ChatHandlers, Update, new_session

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
TOAST_SECONDS = 4  # pop-ups stack at the top right: short-lived, so they do not hide the memory panel for long


SCROLL_CHAT_JS = """() => {
  for (const el of document.querySelectorAll('#chatbot *')) {
    const y = getComputedStyle(el).overflowY;
    if ((y === 'auto' || y === 'scroll') && el.scrollHeight > el.clientHeight) el.scrollTop = el.scrollHeight;
  }
}"""


def queue_plan(assistant: Any) -> dict[str, int]:
    """Concurrency limits, chosen deliberately.

    chat: an in-process model (onnx, local, llamacpp) generates one step at a time (lock), so 2
    turns at once lets one retrieve and ground while the other generates; more would only slow
    everyone's turn down and hold worker threads. An external server (openai backend) batches
    requests itself, and the memory-only mode has no model: 8 there. memory: all fast operations,
    16 at once.
    """
    backend = assistant.settings.llm_backend
    return {"chat": 2 if backend in IN_PROCESS_BACKENDS else 8, "memory": 16, "queue_size": 256}


def adapter_label(llm: Any) -> str:
    """The LoRA adapter the loaded model runs with, as the settings panel names it ("" for none).

    Read from the backend object (`adapter`: the resolved directory), so the UI needs no knowledge
    of how backends find adapters; an external server's own weights are not ours to name.
    """
    adapter = getattr(llm, "adapter", None)
    return Path(str(adapter)).name if adapter else ""


def bind(fn: Callable[..., Any], names: tuple[str, ...], components: dict[str, Any]):
    """`fn` (returns or yields `Update`s) as a Gradio event function for the components `names`.

    Returns (function, outputs). The function returns a value per output, in order (`gr.skip()`
    for a component the update leaves alone) and shows the update's pop-up message. `functools.wraps`
    keeps `fn`'s signature and type hints, so Gradio still injects `gr.OAuthProfile`/`gr.SelectData`.
    """
    outputs = [components[name] for name in names]

    def values(update: Update):
        unknown = set(update.values) - set(names)
        if unknown:
            raise KeyError(f"{getattr(fn, '__name__', fn)} set {sorted(unknown)}, not among its outputs {names}")
        if update.warning:
            gr.Warning(update.warning, duration=TOAST_SECONDS + 2)
        if update.info:
            gr.Info(update.info, duration=TOAST_SECONDS)
        out = tuple(update.values.get(name, gr.skip()) for name in names)
        return out if len(out) > 1 else out[0]

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def stream(*args, **kwargs):
            updates = fn(*args, **kwargs)
            try:
                for update in updates:
                    yield values(update)
            finally:
                updates.close()  # Stop: closes the handler's generator too (it logs and skips the write-back)

        return stream, outputs

    @functools.wraps(fn)
    def call(*args, **kwargs):
        return values(fn(*args, **kwargs))

    return call, outputs


def user_choices(assistant: Any, limit: int = 2000) -> list[tuple[str, str]]:
    """The dataset-user picker's choices: (one-line summary, user id)."""
    return [(render.user_summary(assistant.dataset, u), u) for u in assistant.dataset_users(limit)]


def build_app(assistant: Any) -> gr.Blocks:
    """The Blocks app. `launch_kwargs()` gives the matching theme/CSS for `launch()`."""
    assistant.start()
    settings = assistant.settings
    plan = queue_plan(assistant)
    ui = ChatHandlers(assistant, assistant.memory)
    api_fns = ApiHandlers(assistant, assistant.memory)

    # --- layout ---------------------------------------------------------------------------------
    adapter = adapter_label(assistant.llm)
    model_note = (f"**Model:** `{render.escape_code(settings.llm_backend)}` · "
                  f"`{render.escape_code(settings.llm_model)}`"
                  + (f" · adapter `{render.escape_code(adapter)}`" if adapter else "")
                  + "\n\nChanging the model needs a restart: `python app.py --llm-model …` "
                    "(or `MRREC_LLM_MODEL`); see the README.")
    limits = {"chat": plan["chat"], "memory": plan["memory"]}
    c: dict[str, Any] = {}  # component name (handlers.py's output names) -> component

    with gr.Blocks(title="MR.Rec Chat", delete_cache=(3600, 3600)) as demo:
        c["session"] = gr.State(new_session())
        c["recs"] = gr.State([])
        c["browser_user"] = gr.BrowserState("", storage_key=BROWSER_STORAGE_KEY, secret=BROWSER_SECRET)

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
                c["who"] = gr.Markdown("Loading…", elem_id="who")
                # The picker gets the column's width: its choices are one-line summaries.
                c["pick"] = gr.Dropdown(user_choices(assistant), value=None, label="Be a dataset user",
                                        info="Ratings count and favourite genres; type to filter.",
                                        filterable=True, elem_id="pick-user")
                new_btn = gr.Button("Start as a new user", elem_id="new-user", size="sm")
                if oauth_enabled():
                    gr.LoginButton(size="sm")

        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                c["chatbot"] = gr.Chatbot(
                    label="Conversation", show_label=False, elem_id="chatbot", height=580, sanitize_html=True,
                    render_markdown=True, group_consecutive_messages=False, latex_delimiters=[],
                    buttons=["copy_all"], feedback_options=None,
                    placeholder="Ask for a movie: what mood, which genres, what you loved or can't stand. "
                                "What it remembers about you is under “Your memory”.")
                with gr.Row(equal_height=True, elem_id="composer"):
                    c["box"] = gr.Textbox(label="Your message", show_label=False, placeholder=h.MESSAGE_PLACEHOLDER,
                                          elem_id="message", scale=6, lines=1, max_lines=6, autofocus=True,
                                          submit_btn=False, min_width=160)
                    c["send"] = gr.Button("Send", variant="primary", elem_id="send", scale=0, min_width=76)
                    stop = gr.Button("Stop", variant="stop", elem_id="stop", scale=0, min_width=76)
                gr.Examples(EXAMPLES, inputs=c["box"], label="Example requests")
                gr.Markdown("### Rate the recommendations", elem_id="rate-heading")

                @gr.render(inputs=[c["recs"]])
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
                                fn, outs = bind(ui.feedback_for(item_id, kind), h.FEEDBACK, c)
                                button.click(fn, [c["session"], c["recs"], mem_query, mem_level, mem_hist], outs,
                                             api_visibility="private", concurrency_id="memory",
                                             concurrency_limit=limits["memory"])

            with gr.Column(scale=2, min_width=300, elem_id="memory-panel"):
                gr.Markdown("## Your memory")
                c["mem_summary"] = gr.Markdown(elem_id="memory-summary")
                mem_query = gr.Textbox(label="Search your memory", placeholder="e.g. horror, 90s crime",
                                       elem_id="memory-search", submit_btn="Search")
                mem_level = gr.Radio(LEVEL_CHOICES, value="all", label="Level", elem_id="memory-level")
                mem_hist = gr.Checkbox(label="Include replaced entries", value=False, elem_id="memory-history",
                                       container=False)
                c["mem_table"] = gr.Dataframe(
                    headers=render.MEMORY_TABLE_HEADERS, datatype=["html", "str"],
                    label="Entries (click a row to edit or delete it; hover an entry for its full id)",
                    interactive=False, wrap=True, max_height=420, elem_id="memory-table",
                    column_widths=["34%", "66%"])
                with gr.Accordion("Edit, add or delete entries", open=False, elem_id="memory-editor") as editor:
                    c["editor"] = editor
                    c["mem_id"] = gr.Textbox(label="Selected memory id", interactive=False, elem_id="memory-id")
                    c["mem_text"] = gr.Textbox(label="Entry text", lines=2, max_lines=6, elem_id="memory-text")
                    with gr.Row():
                        save_btn = gr.Button("Save edit", size="sm", elem_id="memory-save")
                        del_btn = gr.Button("Delete entry", size="sm", variant="stop", elem_id="memory-delete")
                    c["new_text"] = gr.Textbox(label="Tell it something to remember",
                                               placeholder="e.g. I love slow-burn mysteries", elem_id="memory-new")
                    add_btn = gr.Button("Remember this", size="sm", elem_id="memory-add")
                with gr.Row():
                    export_btn = gr.Button("Export my memory (JSON)", size="sm", elem_id="export")
                    forget_btn = gr.Button("Forget me…", size="sm", variant="stop", elem_id="forget")
                c["export_out"] = gr.File(label="Your memory export", visible=False, interactive=False,
                                          elem_id="export-file")
                with gr.Column(visible=False, variant="panel", elem_id="forget-confirm") as confirm_box:
                    c["confirm_box"] = confirm_box
                    gr.Markdown("**Delete everything stored about you?** Every memory entry and its history "
                                "is removed. This cannot be undone.")
                    with gr.Row():
                        forget_yes = gr.Button("Yes, forget me", variant="stop", size="sm", elem_id="forget-yes")
                        forget_no = gr.Button("Cancel", variant="secondary", size="sm", elem_id="forget-no")

        # --- events -------------------------------------------------------------------------
        quick = dict(api_visibility="private", concurrency_id="memory", concurrency_limit=limits["memory"])
        mem_inputs = [c["session"], mem_query, mem_level, mem_hist]

        fn, outs = bind(ui.on_load, h.IDENTITY, c)
        demo.load(fn, [c["browser_user"]], outs, **quick)
        fn, outs = bind(ui.select_user, h.IDENTITY, c)
        c["pick"].input(fn, [c["pick"], c["session"]], outs, **quick)
        fn, outs = bind(ui.start_new_user, h.IDENTITY, c)
        new_btn.click(fn, None, outs, **quick)

        fn, outs = bind(ui.chat, h.CHAT, c)
        chat_event = gr.on([c["box"].submit, c["send"].click], gpu(duration=120)(fn),
                           [c["box"], c["chatbot"], c["session"], top_k, rounds, show_trace], outs,
                           api_name="chat", trigger_mode="once", concurrency_id="chat",
                           concurrency_limit=limits["chat"], show_progress="minimal", show_progress_on=[c["box"]])
        # The finished answer in view: Gradio's autoscroll stops following once the view is not at
        # the bottom, and a second answer then stayed below the fold behind its ↓ button.
        chat_event.then(None, None, None, js=SCROLL_CHAT_JS, api_visibility="private", queue=False)
        fn, outs = bind(ui.refresh_memory, h.MEMORY_VIEW, c)
        chat_event.then(fn, mem_inputs, outs, **quick)
        gr.on([mem_query.submit, mem_level.change, mem_hist.change], fn, mem_inputs, outs,
              trigger_mode="always_last", **quick)
        fn, outs = bind(ui.on_stop, h.STOP, c)
        stop.click(fn, [c["chatbot"]], outs, cancels=[chat_event], api_visibility="private", queue=False)

        fn, outs = bind(ui.select_row, h.SELECT_ROW, c)
        c["mem_table"].select(fn, None, outs, **quick)
        fn, outs = bind(ui.edit_entry, h.EDIT, c)
        save_btn.click(fn, [c["mem_id"], c["mem_text"], *mem_inputs], outs, **quick)
        fn, outs = bind(ui.delete_entry, h.EDIT, c)
        del_btn.click(fn, [c["mem_id"], *mem_inputs], outs, **quick)
        fn, outs = bind(ui.add_entry, h.ADD, c)
        gr.on([add_btn.click, c["new_text"].submit], fn, [c["new_text"], *mem_inputs], outs, **quick)
        forget_btn.click(lambda: gr.update(visible=True), None, confirm_box, queue=False, api_visibility="private")
        forget_no.click(lambda: gr.update(visible=False), None, confirm_box, queue=False, api_visibility="private")
        fn, outs = bind(ui.forget_me, h.FORGET, c)
        forget_yes.click(fn, [c["session"]], outs, **quick)
        fn, outs = bind(ui.export_file, h.EXPORT, c)
        export_btn.click(fn, [c["session"]], outs, **quick)

        for api_name, method in ENDPOINTS.items():
            group = ("chat", limits["chat"]) if api_name.startswith("recommend") else ("memory", limits["memory"])
            gr.api(getattr(api_fns, method), api_name=api_name, concurrency_id=group[0], concurrency_limit=group[1])
    demo.queue(default_concurrency_limit=8, max_size=plan["queue_size"])
    return demo


def launch_kwargs() -> dict:
    """Theme and CSS for `demo.launch(...)` (Gradio 6 takes them at launch, not in Blocks)."""
    from mrrec_chat.ui.style import CSS, theme

    return {"theme": theme(), "css": CSS}
