"""Chat turns through the Assistant with the real small LLM, real embedder and real Chroma.

These exercise model behaviour end to end; the answers must stay grounded whatever the untuned
135M model writes. Kept to a handful of turns because each costs seconds on a CPU.
"""

from __future__ import annotations

import pytest

from mrrec_chat.agent import events as ev
from mrrec_chat.memory.schema import InvalidUserId
from mrrec_chat.service import clean_message


def collect(assistant, user, message, **kw):
    return list(assistant.chat(user, message, **kw))


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


@pytest.fixture
def assistant(assistant_factory, small_llm):
    return assistant_factory(llm=small_llm, max_rounds=2, max_new_tokens=48, answer_max_new_tokens=64)


def test_dataset_user_turn_with_real_model_is_grounded(assistant, tiny_dataset):
    events = collect(assistant, "alice", "I want a tense crime movie tonight")
    assert of(events, ev.ReasoningStep), "the model was called"
    assert of(events, ev.ToolCall), "memory was searched (by the model or the controller)"
    retrieved = {m.memory_id for e in of(events, ev.MemoriesRetrieved) for m in e.memories}
    assert retrieved and all(":alice:" in i for i in retrieved)
    items = of(events, ev.ItemsRecommended)[0].items
    assert items and all(r.item.item_id in tiny_dataset.items for r in items)
    already_rated = {i.item_id for i in tiny_dataset.history("alice")}
    assert not already_rated & {r.item.item_id for r in items}
    for rec in items:
        assert set(rec.memory_ids) <= retrieved
    stats = of(events, ev.TurnDone)[0].stats
    assert stats.llm_calls >= 2 and stats.generated_tokens > 0


def test_new_user_works_from_first_message_and_learns(assistant):
    user = assistant.new_user_id()
    events = collect(assistant, user, "I love comedies but I can't stand horror")
    assert of(events, ev.ItemsRecommended)[0].items
    written = of(events, ev.MemoryWritten)[0]
    assert written.added
    kinds = {e.extra.get("kind"): e for e in assistant.store.list_user(user, "chat")}
    assert kinds["dislike"].category == "Horror"
    # From the next turn on, nothing recommended is a horror film.
    events = collect(assistant, user, "something scary with ghosts please")
    items = of(events, ev.ItemsRecommended)[0].items
    assert items and all("Horror" not in r.item.categories for r in items)


@pytest.mark.parametrize("message", [
    "<script>alert('x')</script> a comedy", "¿Una película de terror? 怖い映画", "\u200b\u202eevil\u200f comedy",
    "x" * 100_000, "crime " * 5000,
])
def test_odd_input_gets_an_answer_without_crashing(assistant_factory, message):
    assistant = assistant_factory(llm=None)  # control flow and grounding only: no model needed
    events = collect(assistant, "bob", message)
    assert of(events, ev.ItemsRecommended)
    if len(message) > assistant.settings.max_message_chars:
        assert any("only the first" in n.text for n in of(events, ev.Notice))


@pytest.mark.parametrize("message", ["", "   ", "\n\t", "\u200b\u200b", None])
def test_empty_message_gets_a_clear_message(assistant_factory, message):
    assistant = assistant_factory(llm=None)
    events = collect(assistant, "bob", message)
    assert [type(e) for e in events] == [ev.Notice]
    assert "Please type" in events[0].text
    assert assistant.store.list_user("bob", "chat") == []


def test_invalid_user_id_is_refused(assistant_factory):
    assistant = assistant_factory(llm=None)
    with pytest.raises(InvalidUserId, match="Invalid user id"):
        collect(assistant, "$ne", "a comedy")


def test_clean_message_handles_bytes_and_surrogates():
    assert clean_message(b"caf\xc3\xa9 \xff", 100)[0] == "café \ufffd"
    assert clean_message("a\ud800b", 100)[0] == "a\ufffdb"
    text, notices = clean_message("y" * 50, 10)
    assert text == "y" * 10 and notices


def test_feedback_excludes_rejected_item(assistant_factory):
    assistant = assistant_factory(llm=None)
    first = of(collect(assistant, "carol", "an animated family film"), ev.ItemsRecommended)[0].items[0]
    assistant.feedback("carol", first.item.item_id, "down")
    again = of(collect(assistant, "carol", "an animated family film"), ev.ItemsRecommended)[0].items
    assert first.item.item_id not in {r.item.item_id for r in again}
    with pytest.raises(KeyError):
        assistant.feedback("carol", "no-such-item", "down")


def test_opening_a_session_loads_the_users_memory_before_the_first_turn(assistant_factory):
    assistant = assistant_factory(llm=None)
    assert assistant.ensure_user("carol") > 0  # the page load / user pick in the UI
    cache = assistant.store.row_cache
    opened = cache.stats()
    assert opened["users"] == 1 and opened["misses"] == 4, "all four local levels loaded once"
    events = collect(assistant, "carol", "an animated family film")
    assert of(events, ev.ItemsRecommended)[0].items
    assert cache.stats()["misses"] == opened["misses"], "the turn was served from the loaded rows"
