"""The chat UI's handlers called directly, against a small fake assistant (no model, no store, no server).

Each handler returns or yields an `Update` keyed by component name; these tests check what a
person would see change: the chat, the message box and Send, the memory panel, the editor, the
pop-up messages. The live-app suites (test_ui_api, test_ui_browser) stay as the second tier.
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import typing
from pathlib import Path

import gradio as gr
import pytest

from mrrec_chat.agent import events as ev
from mrrec_chat.data.schema import Dataset, Interaction, Item
from mrrec_chat.memory.schema import MemoryEntry, RetrievedMemory
from mrrec_chat.ui import handlers as h
from mrrec_chat.ui import render
from mrrec_chat.ui.handlers import ChatHandlers, Update

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASET = Dataset("tiny", {
    "1": Item("1", "Heat", ("Action", "Crime", "Thriller"), 1995),
    "2": Item("2", "Casino", ("Crime", "Drama"), 1995),
    "3": Item("3", "Toy Story", ("Animation", "Children", "Comedy"), 1995),
    "4": Item("4", "The Shining", ("Horror",), 1980),
}, [Interaction("alice", "1", 5), Interaction("alice", "2", 4), Interaction("alice", "4", 1),
    Interaction("bob", "3", 5)])


class FakeSettings:
    memory_top_k = 3
    max_rounds = 2


class FakeMemory:
    """The memory API's surface the UI uses, over a dict of entries per user."""

    def __init__(self):
        self.entries: dict[str, dict[str, MemoryEntry]] = {}
        self.forgotten: set[str] = set()
        self.n = 0

    def _of(self, user_id):
        return self.entries.setdefault(user_id, {})

    def put(self, user_id, memory_id, level, text):
        self._of(user_id)[memory_id] = MemoryEntry(memory_id, level, text, user_id)

    def list(self, user_id, level=None, include_history=False):
        return [e for e in self._of(user_id).values() if include_history or e.status == "current"]

    def search(self, user_id, query, k=10):
        if not query.strip():
            raise ValueError("Search text is empty.")
        return [RetrievedMemory(e, 0.9) for e in self.list(user_id) if query.lower() in e.text.lower()][:k]

    def add(self, user_id, text, level="chat", category="general"):
        if not str(text).strip():
            raise ValueError("Memory text is empty.")
        self.n += 1
        memory_id = f"c:tiny:{user_id}:note-{self.n:012x}"
        self.put(user_id, memory_id, "chat", text)
        return self._of(user_id)[memory_id]

    def edit(self, user_id, memory_id, text):
        from mrrec_chat.memory.api import MemoryNotFound

        if memory_id not in self._of(user_id):
            raise MemoryNotFound(memory_id)
        if not str(text).strip():
            raise ValueError("Memory text is empty.")
        self._of(user_id)[memory_id].text = text
        return self._of(user_id)[memory_id]

    def delete(self, user_id, memory_id):
        from mrrec_chat.memory.api import MemoryNotFound

        if self._of(user_id).pop(memory_id, None) is None:
            raise MemoryNotFound(memory_id)

    def forget_user(self, user_id):
        removed = len(self._of(user_id))
        self.entries[user_id] = {}
        self.forgotten.add(user_id)
        return {"chat": removed, "history": 2 * removed}

    def export_json(self, user_id):
        return json.dumps({"user_id": user_id, "entries": [e.to_dict() for e in self.list(user_id)]})

    def rebuild_from_dataset(self, user_id):
        self.forgotten.discard(user_id)
        self.put(user_id, f"u:tiny:{user_id}:0", "profile", f"{user_id} likes crime films.")
        return 1


class FakeAssistant:
    """Scripted turns: `script` is the list of events the next chat yields (an Exception is raised)."""

    def __init__(self):
        self.settings = FakeSettings()
        self.dataset = DATASET
        self.memory = FakeMemory()
        self.script: list = []
        self.chats: list[tuple] = []
        self.shown: list[list] = []
        self.closed = 0
        self.ids = 0

    def new_user_id(self):
        self.ids += 1
        return f"new-{self.ids:012x}"

    def ensure_user(self, user_id, explicit=False):
        if user_id in self.dataset.by_user and not self.memory.list(user_id) and user_id not in self.memory.forgotten:
            self.memory.rebuild_from_dataset(user_id)
        return len(self.memory.list(user_id))

    def dataset_users(self, limit=50):
        return self.dataset.user_ids[:limit]

    def options(self, **overrides):
        return overrides

    def chat(self, user_id, text, earlier=None, options=None, shown=()):
        self.chats.append((user_id, text, list(earlier or []), options))
        self.shown.append([list(ids) for ids in shown])
        try:
            for event in self.script:
                if isinstance(event, Exception):
                    raise event
                yield event
        finally:
            self.closed += 1

    def feedback(self, user_id, item_id, kind):
        if kind not in ("up", "down", "seen"):
            raise ValueError(f"Feedback must be up, down or seen, not {kind!r}.")
        if item_id not in self.dataset.items:
            raise KeyError(f"No item {item_id!r} in the catalog.")
        title = self.dataset.items[item_id].title
        self.memory.put(user_id, f"b:tiny:{user_id}:{item_id}", "behavior",
                        {"up": "Liked", "down": "Rejected", "seen": "Seen"}[kind] + f" {title}")
        self.memory._of(user_id)[f"b:tiny:{user_id}:{item_id}"].extra.update(item_id=item_id, feedback=kind)
        return self.memory._of(user_id)[f"b:tiny:{user_id}:{item_id}"]


@pytest.fixture
def fake():
    return FakeAssistant()


@pytest.fixture
def ui(fake, tmp_path):
    return ChatHandlers(fake, fake.memory, export_dir=tmp_path / "exports")


def session(user_id: str) -> dict:
    return h.new_session(user_id, "new")


def text_of(messages: list[dict]) -> str:
    return "\n".join(m["content"] + (m.get("metadata") or {}).get("title", "") for m in messages)


def a_turn(user_id: str) -> list:
    chat_id = f"c:tiny:{user_id}:genre-dislike-horror-18f2a9c0de1"
    memory = [RetrievedMemory(MemoryEntry(chat_id, "chat", "Dislikes Horror", user_id), 0.8),
              RetrievedMemory(MemoryEntry(f"b:tiny:{user_id}:1", "behavior", "Rated Heat 5/5", user_id), 0.7)]
    recs = [ev.Recommendation(DATASET.items["1"], 0.9, "A tense crime film you rated highly.", [chat_id]),
            ev.Recommendation(DATASET.items["2"], 0.8, "Crime, like Heat.", [])]
    return [ev.ReasoningStep(1, "Comedy is a great way to enjoy a comedy", 0.5),
            ev.ToolCall(1, ["crime", "horror"]),
            ev.MemoriesRetrieved(1, "crime", memory, 0.01),
            ev.MemoriesRetrieved(1, "horror", memory[:1], 0.01),
            ev.FinalAnswer("A tense crime film, no horror.", [chat_id, f"b:tiny:{user_id}:1"]),
            ev.ItemsRecommended(recs),
            ev.TurnDone(ev.TurnStats(llm_calls=2, generated_tokens=40, tool_calls=1, seconds_total=3.2)),
            ev.MemoryWritten([chat_id], [], [])]


# --- chat ---------------------------------------------------------------------------------------------


def test_a_chat_turn_streams_locked_then_ends_with_cards_and_a_collapsed_trace(ui, fake):
    fake.script = a_turn("new-1")
    updates = list(ui.chat("A crime film, no horror", [], session("new-1"), 3, 2, True))
    assert all(set(u.values) <= set(h.CHAT) for u in updates)
    first, last = updates[0], updates[-1]
    assert first["box"]["interactive"] is False and first["send"]["interactive"] is False
    assert first["chatbot"][0] == {"role": "user", "content": "A crime film, no horror"}
    assert "Working" in text_of(first["chatbot"])
    assert last["box"] == {"__type__": "update", "value": "", "interactive": True,
                           "placeholder": h.MESSAGE_PLACEHOLDER, "elem_classes": []}
    assert last["send"]["interactive"] is True
    chat = last["chatbot"]
    assert "Working" not in text_of(chat)
    assert [r["item_id"] for r in last["recs"]] == ["1", "2"] and last["recs"][0]["feedback"] is None
    assert last["session"]["earlier"] == ["A crime film, no horror"]
    assert last["session"]["shown"] == [["1", "2"]]  # what this turn listed, for "something else" next
    assert fake.chats[0][3] == {"top_k": 3, "max_rounds": 2}

    # One trace thought, collapsed, saying what happened; every step nested inside it.
    root = next(m for m in chat if (m.get("metadata") or {}).get("id") == "trace")
    assert root["metadata"]["status"] == "done"
    assert root["metadata"]["log"] == "searched your memory twice, 2 entries used"
    steps = [m for m in chat if (m.get("metadata") or {}).get("parent_id") == "trace"]
    assert any("Reasoning" in m["metadata"]["title"] for m in steps)
    assert all(m["metadata"].get("status") == "done" for m in chat if m.get("metadata"))
    top_level = [m for m in chat[1:] if not (m.get("metadata") or {}).get("parent_id")]
    assert len(top_level) == 3 and top_level[0] is root
    assert top_level[1]["content"].startswith('<div class="mr-cards">')
    assert top_level[2]["content"].startswith("🧠 Memory updated: learned 1.")

    # Memory ids appear as short chips with the full id in the title.
    cards = top_level[1]["content"]
    assert 'title="c:tiny:new-1:genre-dislike-horror-18f2a9c0de1"' in cards and ">chat a9c0de1<" not in cards
    assert '<span class="mr-chip" title="c:tiny:new-1:genre-dislike-horror-18f2a9c0de1">chat 9c0de1</span>' in cards


def test_without_the_trace_only_the_answer_is_shown(ui, fake):
    fake.script = a_turn("new-1")
    last = list(ui.chat("A crime film", [], session("new-1"), 3, 2, False))[-1]
    assert not any(m.get("metadata") for m in last["chatbot"])
    assert 'class="mr-card"' in text_of(last["chatbot"])


def test_an_empty_message_says_what_to_do_and_sends_nothing(ui, fake):
    history = [{"role": "user", "content": "earlier"}]
    updates = list(ui.chat("   \n", history, session("new-1"), 3, 2, True))
    assert len(updates) == 1 and fake.chats == []
    box = updates[0]["box"]
    assert box["placeholder"] == h.EMPTY_MESSAGE_HINT and box["elem_classes"] == ["mr-empty"]
    assert updates[0]["chatbot"] == history and "recs" not in updates[0]


def test_a_failing_turn_shows_an_apology_and_unlocks(ui, fake, caplog):
    fake.script = a_turn("new-1")[:2] + [RuntimeError("boom")]
    with caplog.at_level(logging.ERROR):
        last = list(ui.chat("A crime film", [], session("new-1"), 3, 2, True))[-1]
    assert "something went wrong" in text_of(last["chatbot"]) and "boom" not in text_of(last["chatbot"])
    assert last["box"]["interactive"] is True and "recs" not in last
    assert fake.closed == 1


def test_stop_closes_the_turn_and_the_assistant_stream(ui, fake, caplog):
    fake.script = a_turn("new-1")
    turn = ui.chat("A crime film", [], session("new-1"), 3, 2, True)
    next(turn), next(turn)
    with caplog.at_level(logging.INFO):
        turn.close()  # what Gradio does when Stop cancels the event
    assert fake.closed == 1 and "stopped (Stop or tab closed)" in caplog.text
    stopped = ui.on_stop([{"role": "assistant", "content": "…", "metadata": {"id": "working", "status": "pending"}}])
    assert "Stopped" in stopped["chatbot"][-1]["content"] and stopped["send"]["interactive"] is True


def test_a_client_without_a_session_gets_a_fresh_user(ui, fake):
    fake.script = []
    last = list(ui.chat("hello", [], {}, 3, 2, True))[-1]
    assert last["session"]["user_id"].startswith("new-") and fake.chats[0][0] == last["session"]["user_id"]
    fake.chats.clear()
    list(ui.chat("hello", [], session("hf-someone"), 3, 2, True))  # an account id without that sign-in
    assert fake.chats[0][0] != "hf-someone"


def test_top_k_and_rounds_are_clamped(ui, fake):
    list(ui.chat("x", [], session("new-1"), 99, "junk", True))
    assert fake.chats[0][3] == {"top_k": h.MAX_TOP_K, "max_rounds": 2}


# --- feedback -----------------------------------------------------------------------------------------


def test_feedback_marks_the_item_and_shows_it_in_memory(ui, fake):
    recs = [{"item_id": "1", "title": "Heat", "feedback": None}, {"item_id": "2", "title": "Casino", "feedback": None}]
    update = ui.feedback_for("1", "down")(session("new-1"), recs, "", "all", False)
    assert set(update.values) <= set(h.FEEDBACK)
    assert [r["feedback"] for r in update["recs"]] == ["down", None]
    assert update.info == "Noted: it will not be recommended again." and not update.warning
    assert [row[1] for row in update["mem_table"]] == ["Rejected Heat"]
    assert "title=\"b:tiny:new-1:1\"" in update["mem_table"][0][0]
    assert update["mem_summary"].startswith("**1** entry for `new-1`")
    # A second quick click starts from the same `recs` state: the first click's mark is kept.
    second = ui.feedback_for("2", "up")(session("new-1"), recs, "", "all", False)
    assert [r["feedback"] for r in second["recs"]] == ["down", "up"]


@pytest.mark.parametrize("user_id,item_id,kind,message", [
    ("new-1", "1", "meh", "up, down or seen"),
    ("new-1", "no-such", "up", "No item"),
    ("hf-someone", "1", "up", "sign in"),
    ("$ne", "1", "up", ""),
])
def test_bad_feedback_is_a_warning_and_changes_nothing(ui, user_id, item_id, kind, message):
    update = ui.give_feedback(item_id, kind, session(user_id), [{"item_id": "1"}])
    assert update.values == {} and update.warning and message in update.warning


# --- memory panel: edit, add, delete, search ----------------------------------------------------------


def test_select_edit_and_delete_an_entry(ui, fake):
    added = ui.add_entry("I love heist films", session("new-1"))
    assert added.info == "Remembered." and added["new_text"] == ""
    row = added["mem_table"][0]
    selected = ui.select_row_values(row)
    memory_id = selected["mem_id"]
    assert memory_id.startswith("c:tiny:new-1:note-") and selected["mem_text"] == "I love heist films"
    assert selected["editor"] == {"__type__": "update", "open": True}

    edited = ui.edit_entry(memory_id, "I love slow-burn mysteries", session("new-1"))
    assert set(edited.values) <= set(h.EDIT) and edited.info == "Memory entry saved."
    assert edited["mem_table"][0][1] == "I love slow-burn mysteries" and edited["mem_id"] == memory_id

    assert "Select a memory entry" in ui.edit_entry("", "x", session("new-1")).warning
    assert ui.edit_entry("c:tiny:new-1:nope", "x", session("new-1")).warning
    assert ui.edit_entry(memory_id, "   ", session("new-1")).warning == "Memory text is empty."
    assert ui.edit_entry(memory_id, "x", session("new-2")).warning  # another user's entry

    deleted = ui.delete_entry(memory_id, session("new-1"))
    assert deleted.info == "Memory entry deleted." and deleted["mem_table"] == []
    assert deleted["mem_id"] == "" and deleted["mem_text"] == ""
    assert ui.delete_entry(memory_id, session("new-1")).warning


def test_a_replaced_row_selects_its_text_without_the_mark(ui):
    row = [render.chip("c:tiny:u:note-1"), "(replaced) I liked westerns"]
    assert ui.select_row_values(row).values == {"mem_id": "c:tiny:u:note-1", "mem_text": "I liked westerns",
                                                "editor": {"__type__": "update", "open": True}}
    assert ui.select_row_values([]).values == {}


def test_search_and_level_filter(ui, fake):
    for text in ("I love heist films", "Too many superhero films", "Cosy mysteries on Sundays"):
        ui.add_entry(text, session("new-1"))
    fake.memory.put("new-1", "b:tiny:new-1:1", "behavior", "Liked Heat")
    found = ui.refresh_memory(session("new-1"), "films", "all", False)
    assert sorted(row[1] for row in found["mem_table"]) == ["I love heist films", "Too many superhero films"]
    assert "2 matching “films”" in found["mem_summary"]
    records = ui.refresh_memory(session("new-1"), "", "behavior", False)
    assert [row[1] for row in records["mem_table"]] == ["Liked Heat"]
    assert ui.refresh_memory({}, "", "all", False)["mem_summary"] == "No user yet."


def test_adding_empty_text_is_a_warning(ui):
    update = ui.add_entry("  ", session("new-1"))
    assert update.values == {} and update.warning == "Memory text is empty."


# --- identity and forget ------------------------------------------------------------------------------


def test_first_visit_new_user_and_returning_visitor(ui, fake):
    first = ui.on_load("", None)
    assert set(first.values) == set(h.IDENTITY)
    user = first["browser_user"]
    assert user.startswith("new-") and first["chatbot"] == [] and "a new user" in first["who"]
    assert ui.on_load(user, None)["chatbot"] == []  # nothing remembered yet: no "Welcome back"
    ui.add_entry("I love heist films", session(user))
    back = ui.on_load(user, None)
    assert back["browser_user"] == user and "Welcome back" in text_of(back["chatbot"])
    assert back["session"] == {"user_id": user, "how": "returning", "earlier": [], "shown": []}


def test_forget_me_clears_everything_and_the_next_visit_is_no_welcome_back(ui, fake):
    user = ui.on_load("", None)["browser_user"]
    ui.add_entry("I love heist films", session(user))
    ui.add_entry("I hate musicals", session(user))
    forgotten = ui.forget_me(dict(session(user), earlier=["a crime film"], shown=[["1"]]))
    assert set(forgotten.values) <= set(h.FORGET)
    assert forgotten["mem_table"] == [] and forgotten["recs"] == [] and forgotten["session"]["earlier"] == []
    assert forgotten["session"]["shown"] == []
    assert "Forgotten: 2 memory entries and 4 history rows" in text_of(forgotten["chatbot"])
    assert forgotten["confirm_box"] == {"__type__": "update", "visible": False}
    reload = ui.on_load(user, None)
    assert reload["browser_user"] == user and "Welcome back" not in text_of(reload["chatbot"])
    assert ui.forget_me(session("hf-someone")).warning


def test_picking_a_dataset_user(ui, fake):
    picked = ui.select_user("alice", session("new-1"))
    assert picked["session"]["user_id"] == "alice" and "a dataset user" in picked["who"]
    assert [row[1] for row in picked["mem_table"]] == ["alice likes crime films."]
    bad = ui.select_user("new-1", session("new-1"))
    assert bad.values == {} and "not a user of the dataset" in bad.warning
    assert ui.select_user("hf-x", session("new-1")).warning
    assert ui.select_user("", session("new-1")) == Update()  # the picker closed without a choice: nothing
    assert ui.start_new_user()["session"]["user_id"].startswith("new-")


def test_export_writes_the_users_json(ui):
    ui.add_entry("I love heist films", session("new-1"))
    path = ui.export_file(session("new-1"))["export_out"]["value"]
    assert Path(path).name == "mrrec-memory-new-1.json"
    assert json.loads(Path(path).read_text())["entries"][0]["text"] == "I love heist films"
    assert ui.export_file(session("$ne")).warning


# --- binding and the picker ---------------------------------------------------------------------------


def test_bind_orders_outputs_by_name_and_refuses_unknown_names():
    from mrrec_chat.ui.app import bind

    components = {"a": "A", "b": "B", "c": "C"}

    def handler(x: str, profile: gr.OAuthProfile | None = None) -> Update:
        return Update({"b": x})

    fn, outputs = bind(handler, ("a", "b"), components)
    assert outputs == ["A", "B"]
    assert fn("v")[1] == "v" and fn("v")[0] == gr.skip()
    assert list(inspect.signature(fn).parameters) == ["x", "profile"]
    assert "profile" in typing.get_type_hints(fn)  # Gradio finds the OAuth profile parameter

    def streaming(x):
        yield Update({"a": 1})
        yield Update({"c": 2})

    fn, _ = bind(streaming, ("a", "b"), components)
    with pytest.raises(KeyError):
        list(fn(0))


def test_picker_summaries():
    assert render.user_summary(DATASET, "alice") == "alice · 3 ratings · likes Crime, Action"
    assert render.user_summary(DATASET, "bob") == "bob · 1 rating · likes Animation, Children"
    assert render.user_summary(DATASET, "nobody") == "nobody · 0 ratings"


def test_no_ui_module_imports_the_llm_package():
    for path in sorted((REPO_ROOT / "mrrec_chat" / "ui").glob("*.py")):
        tree = ast.parse(path.read_text())
        names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [n for n in names if n.startswith("mrrec_chat.llm")], path.name


# --- the API endpoints' functions ---------------------------------------------------------------------


def test_api_recommend_collects_the_turn_and_errors_are_data(fake):
    from mrrec_chat.ui.api import ENDPOINTS, ApiHandlers

    api = ApiHandlers(fake, fake.memory)
    assert set(ENDPOINTS) == {"recommend", "recommend_in_chat", "memory", "memory_search", "memory_add",
                              "memory_edit", "memory_delete", "feedback", "forget", "export"}
    assert all(callable(getattr(api, m)) for m in ENDPOINTS.values())
    fake.script = a_turn("alice")
    result = api.recommend("alice", "a crime film")
    assert [i["item_id"] for i in result["items"]] == ["1", "2"] and result["profile"].startswith("A tense")
    assert result["memory_written"]["added"]
    assert "error" in api.recommend("hf-x", "a crime film")
    fake.script = a_turn("alice")
    assert api.recommend_in_chat("alice", "something else", ["a crime film"], [["1", "2"]])["items"]
    assert fake.shown[-1] == [["1", "2"]] and fake.chats[-1][2] == ["a crime film"]
    assert "shown must be" in api.recommend_in_chat("alice", "more", [], [[1, 2]])["error"]
    assert "error" in json.loads(api.memory_json("$ne"))
    entry = api.memory_add("new-1", "I love heist films")["entry"]
    assert api.memory_search("new-1", "heist")["results"][0]["memory_id"] == entry["memory_id"]
    assert api.memory_edit("new-1", entry["memory_id"], "x")["entry"]["text"] == "x"
    assert "error" in api.memory_delete("new-1", "c:tiny:new-1:nope")
    assert "error" in api.feedback_api("new-1", "1", "meh")
    assert api.forget_api("new-1") == {"forgotten": {"chat": 1, "history": 2}}


def test_two_feedbacks_do_not_make_a_critical_rater():
    """Issue 22: "a critical rater" after one 👍 and one 👎; the profile says it only from 5 ratings."""
    from mrrec_chat.memory.builders import user_profile

    two = [Interaction("u", "1", 5), Interaction("u", "4", 1)]
    assert "rater" not in user_profile(DATASET, "u", two)[0].text
    many = [Interaction("u", i, 1) for i in ("1", "2", "3", "4")] + [Interaction("u", "1", 2)]
    assert "(a critical rater)" in user_profile(DATASET, "u", many)[0].text


# --- the page shown while the app starts -----------------------------------------------------------


def test_a_page_opened_early_says_what_is_loading_and_hands_the_port_over():
    import importlib.util
    import socket
    import urllib.error
    import urllib.request

    spec = importlib.util.spec_from_file_location("mrrec_app_entry", REPO_ROOT / "app.py")
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    progress = {"store": 0.4, "dataset": 1.2}
    page = entry.LoadingPage("127.0.0.1", 0, lambda: progress)
    port = page.server.server_address[1]
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "is starting" in text and 'http-equiv="refresh"' in text
        # it polls rather than reloads (a reload in the moment Gradio takes the port would end on an error page)
        assert "<noscript><meta http-equiv=\"refresh\"" in text and "fetch('/'" in text
        assert "✅ catalog and ratings <small>(1.2 s)</small>" in text and "⏳ <strong>embedding model</strong>" in text
        progress["embedder"] = 3.0
        assert "⏳ <strong>memory and catalog index" in urllib.request.urlopen(
            f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        with pytest.raises(urllib.error.HTTPError) as err:  # an API call while starting: 503, retry later
            urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=10)
        assert err.value.code == 503 and err.value.headers["Retry-After"] == "2"
    finally:
        page.stop()
    with socket.socket() as sock:  # the port is free for Gradio right away (it binds with SO_REUSEADDR too)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
