"""The memory API: list / search / add / edit / delete / forget / export / history, and bad input.

No LLM (llm=None): the API is pure memory. Forgetting is checked against the raw collections
(every collection the client holds, current and superseded entries) and the history database.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from mrrec_chat.memory.api import MAX_TEXT_CHARS, MemoryAPI, MemoryNotFound
from mrrec_chat.memory.schema import InvalidUserId


@pytest.fixture
def assistant(assistant_factory):
    return assistant_factory(llm=None)


@pytest.fixture
def api(assistant) -> MemoryAPI:
    return assistant.memory


def test_add_list_search_edit_delete_round_trip(assistant, api):
    user = assistant.new_user_id()
    entry = api.add(user, "I can't stand musicals")
    assert entry.source == "user" and entry.confidence == 1.0 and entry.level == "chat"
    assert entry.extra["kind"] == "dislike" and entry.category == "Musical"
    assert "Musical" in assistant.turn_context(user, "x").avoid_categories
    assert [e.memory_id for e in api.list(user)] == [entry.memory_id]
    assert api.list(user, "profile") == []
    assert api.search(user, "musical films", k=3)[0].memory_id == entry.memory_id

    edited = api.edit(user, entry.memory_id, "I love musicals")
    assert edited.memory_id == entry.memory_id and edited.extra["kind"] == "like"
    assert "Musical" not in assistant.turn_context(user, "x").avoid_categories
    hit = api.search(user, "I love musicals", k=1)[0]
    assert hit.memory_id == entry.memory_id and hit.score > 0.95, "the new text was re-embedded"
    assert api.edit(user, entry.memory_id, "I love musicals").text == "I love musicals"  # no-op

    api.delete(user, entry.memory_id)
    assert api.list(user, include_history=True) == []
    actions = [(h["action"], h["text"], h["detail"].get("previous_text")) for h in api.history(user)]
    assert actions == [("delete", "I love musicals", None),
                       ("update", "I love musicals", "I can't stand musicals"),
                       ("add", "I can't stand musicals", None)]


def test_hand_added_entry_supersedes_the_same_subject(assistant, api):
    user = assistant.new_user_id()
    list(assistant.chat(user, "I can't stand horror"))
    [old] = api.list(user, "chat")
    new = api.add(user, "Horror is great, I love it now")
    assert assistant.store.get(user, old.memory_id).extra["superseded_by"] == new.memory_id
    assert [e.memory_id for e in api.list(user, "chat")] == [new.memory_id]
    assert len(api.list(user, "chat", include_history=True)) == 2
    with pytest.raises(ValueError, match="superseded"):
        api.edit(user, old.memory_id, "something else")


def test_other_levels_and_categories(assistant, api):
    assistant.ensure_user("alice")
    note = api.add("alice", "Prefers films under two hours on weeknights", level="profile")
    assert note.level == "profile" and note.memory_id.startswith("u:tiny-movies:alice:")
    assert note.memory_id in {e.memory_id for e in api.list("alice", "profile")}
    assert api.add("alice", "Some note", category="Crime").category == "Crime"
    levels = {e.level for e in api.list("alice")}
    assert levels == {"behavior", "pattern", "profile", "chat"}


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b\u200b", None, 42])
def test_empty_or_non_text_is_refused(assistant, api, text):
    user = assistant.new_user_id()
    kept = api.add(user, "I like comedies")
    for call in (lambda: api.add(user, text), lambda: api.edit(user, kept.memory_id, text)):
        with pytest.raises(ValueError, match="empty|string"):
            call()
    assert api.list(user)[0].text == "I like comedies"


def test_huge_text_is_refused_with_the_limit(assistant, api):
    user = assistant.new_user_id()
    kept = api.add(user, "x" * MAX_TEXT_CHARS)  # exactly at the limit is fine
    for call in (lambda: api.add(user, "y" * (MAX_TEXT_CHARS + 1)),
                 lambda: api.edit(user, kept.memory_id, "z" * 1_000_000)):
        with pytest.raises(ValueError, match="limit is 2,000"):
            call()
    assert [e.text for e in api.list(user)] == ["x" * MAX_TEXT_CHARS]


def test_bad_level_category_user_and_arguments(assistant, api):
    for bad in ("global", "nope", "", None):
        with pytest.raises(ValueError, match="Unknown memory level"):
            api.add("alice", "text", level=bad)
    with pytest.raises(ValueError, match="Unknown memory level"):
        api.list("alice", "global")
    with pytest.raises(ValueError, match="Category"):
        api.add("alice", "text", category="c" * 500)
    for call in (lambda: api.list("$ne"), lambda: api.add("*", "x"), lambda: api.history("__global__"),
                 lambda: api.forget_user(""), lambda: api.export_json("a b"), lambda: api.search("x:y", "q")):
        with pytest.raises(InvalidUserId):
            call()
    with pytest.raises(ValueError):
        api.search("alice", "   ")
    with pytest.raises(ValueError):
        api.search("alice", "crime", k=0)
    with pytest.raises(ValueError):
        api.history("alice", limit=-1)


def test_unknown_or_foreign_ids_look_the_same_and_change_nothing(assistant, api):
    assistant.ensure_user("alice")
    assistant.ensure_user("bob")
    alice_entry = api.add("alice", "I love heist movies")
    bob_before = api.export_json("bob")
    messages = []
    for user, memory_id in (("bob", alice_entry.memory_id), ("bob", "c:tiny-movies:bob:nope"),
                            ("bob", ""), ("bob", None), ("bob", "x" * 10_000)):
        for call in (lambda: api.delete(user, memory_id), lambda: api.edit(user, memory_id, "hijacked")):
            with pytest.raises(MemoryNotFound) as info:
                call()
            assert isinstance(info.value, KeyError)
            messages.append(re.sub(r"'.*'", "'ID'", str(info.value)))
    assert set(messages) == {"No memory entry 'ID' found for this user."}
    assert assistant.store.get("alice", alice_entry.memory_id).text == "I love heist movies"
    assert json.loads(api.export_json("bob"))["entries"] == json.loads(bob_before)["entries"]
    assert not [h for h in api.history("bob") if h["source"] == "user"]


def test_export_json_has_everything_of_the_user_only(assistant, api):
    assistant.ensure_user("alice")
    list(assistant.chat("alice", "I love comedies"))
    list(assistant.chat("alice", "Actually I can't stand comedies"))
    assistant.ensure_user("bob")
    data = json.loads(api.export_json("alice"))
    assert data["user_id"] == "alice" and data["dataset"] == "tiny-movies"
    statuses = {e["status"] for e in data["entries"] if e["level"] == "chat"}
    assert statuses == {"current", "superseded"}
    assert {e["user_id"] for e in data["entries"]} == {"alice"}
    assert {"add", "supersede"} <= {h["action"] for h in data["history"]}
    assert ":bob:" not in json.dumps(data)


def _traces(assistant, user: str) -> list[str]:
    """Every place the user still appears: any collection (all statuses), the history tables."""
    found = []
    for collection in assistant.client.list_collections():
        got = collection.get(include=["metadatas", "documents"])
        for memory_id, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]):
            if f":{user}:" in memory_id or (meta or {}).get("user_id") == user:
                found.append(f"{collection.name}: {memory_id}")
        found += [f"{collection.name} (where)" for _ in collection.get(where={"user_id": user}, include=[])["ids"]]
    db = sqlite3.connect(assistant.history.path)
    for table, column in (("history", "user_id"), ("refresh_pending", "user_id")):
        found += [table for _ in db.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (user,))]
    found += ["history text" for _ in db.execute("SELECT 1 FROM history WHERE memory_id LIKE ?", (f"%:{user}:%",))]
    db.close()
    return found


def test_forget_user_removes_every_trace(assistant, api):
    user, other = "alice", "bob"
    assistant.ensure_user(user)
    assistant.ensure_user(other)
    list(assistant.chat(user, "I can't stand horror"))
    list(assistant.chat(user, "Actually I've come to love horror movies"))  # a superseded entry too
    assistant.feedback(user, "3", "up")
    assistant.feedback(user, "6", "down")
    edited = api.add(user, "I only watch films on Sundays")
    api.edit(user, edited.memory_id, "I mostly watch films on Sundays")
    assistant.refresher.refresh(user, ["Crime"])
    other_before = api.export_json(other)
    assert _traces(assistant, user)

    counts = api.forget_user(user)
    assert counts["history"] > 0 and counts["chat"] >= 3 and counts["behavior"] > 0
    assert set(counts) == {"behavior", "pattern", "profile", "chat", "history"}
    assert _traces(assistant, user) == []
    assert api.list(user, include_history=True) == [] and api.history(user) == []
    assert assistant.store.search(user, "horror", k=50) == []
    assert json.loads(api.export_json(other))["entries"] == json.loads(other_before)["entries"]

    # Not silently rebuilt from the dataset on the next visit; the dataset's ratings are not used
    # to exclude items either. Choosing the dataset user again explicitly rebuilds.
    assert api.is_forgotten(user)
    assert assistant.ensure_user(user) == 0
    list(assistant.chat(user, "a crime film"))
    assert api.list(user, "behavior") == [] and assistant.turn_context(user, "x").exclude_items == set()
    assert api.rebuild_from_dataset(user) > 0 and not api.is_forgotten(user)
    assert api.list(user, "profile")


def test_forgetting_a_new_user_leaves_no_tombstone(assistant, api):
    user = assistant.new_user_id()
    list(assistant.chat(user, "I love westerns"))
    assert api.forget_user(user)["chat"] == 1
    db = sqlite3.connect(assistant.history.path)
    assert db.execute("SELECT COUNT(*) FROM forgotten").fetchone()[0] == 0
    db.close()
    assert _traces(assistant, user) == []
    with pytest.raises(ValueError, match="not a user of the dataset"):
        api.rebuild_from_dataset(user)


def test_deleted_dataset_entries_are_not_rebuilt(assistant, api):
    assistant.ensure_user("carol")
    for entry in api.list("carol", "profile") + api.list("carol", "behavior"):
        api.delete("carol", entry.memory_id)
    assistant.ensure_user("carol")
    assert api.list("carol", "profile") == [] and api.list("carol", "behavior") == []


def test_history_and_memory_survive_a_restart(assistant_factory, tiny_dataset, embedder, tmp_path):
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    first = assistant_factory(llm=None)
    user = first.new_user_id()
    list(first.chat(user, "I can't stand horror"))
    list(first.chat(user, "I've come to love horror movies"))
    added = first.memory.add(user, "Watches with subtitles only")
    before = first.memory.export_json(user)
    first.close()
    again = Assistant(Settings.from_env(memory_dir=first.settings.memory_dir), dataset=tiny_dataset,
                      embedder=embedder, load_llm=False).start()
    try:
        after = json.loads(again.memory.export_json(user))
        assert after["entries"] == json.loads(before)["entries"]
        assert after["history"] == json.loads(before)["history"]
        assert again.memory.search(user, "subtitles", k=1)[0].memory_id == added.memory_id
    finally:
        again.close()


def test_memory_service_is_built_from_components_without_an_assistant(tmp_path, tiny_dataset, embedder):
    """One memory boundary: the service needs store, history, writer, refresher and the dataset."""
    from mrrec_chat.memory.history import MemoryHistory
    from mrrec_chat.memory.refresh import SummaryRefresher
    from mrrec_chat.memory.store import MemoryStore, make_client
    from mrrec_chat.memory.writeback import MemoryWriter

    client, lock = make_client(str(tmp_path / "store"))
    store = MemoryStore(client, tiny_dataset.name, embedder, lock)
    history = MemoryHistory(tmp_path / "history.sqlite3")
    try:
        memory = MemoryAPI(store, history, MemoryWriter(store, history, tiny_dataset.categories),
                           SummaryRefresher(tiny_dataset, store, history), tiny_dataset)
        assert memory.ensure_user("alice") > 0  # the builders write through the service
        entry = memory.add("alice", "I can't stand westerns")
        result = memory.remember("alice", memory._writer.extract("Actually I love westerns now"))
        assert entry.memory_id in result.superseded
        item_id = next(iter(tiny_dataset.items))
        memory.feedback("alice", item_id, "down")
        actions = [h["action"] for h in memory.history("alice", limit=1000)]
        assert {"add", "supersede", "feedback-down"} <= set(actions)
    finally:
        history.close()
        store.close()


def test_nothing_in_memory_imports_the_service():
    import ast
    from pathlib import Path

    import mrrec_chat.memory as package

    for path in Path(package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.startswith(("mrrec_chat.service", "mrrec_chat.ui", "mrrec_lab"))}, path
