"""Write-back: reinforce, supersede, other people's tastes, bounded input, summary refresh.

No LLM (llm=None): write-back and grounding are deterministic; the real model is exercised in
test_service.py and test_conversation_e2e.py.
"""

from __future__ import annotations

import time

import pytest

from mrrec_chat.agent import events as ev
from mrrec_chat.nlu import Preference
from mrrec_chat.memory.schema import MemoryEntry
from mrrec_chat.memory.store import CONFIDENCE_WEIGHT, RECENCY_WEIGHT, retrieval_prior
from mrrec_chat.memory.writeback import MAX_PREFERENCES_PER_MESSAGE, slot_of


def chat(assistant, user, message):
    return list(assistant.chat(user, message))


def written(events) -> ev.MemoryWritten:
    return [e for e in events if isinstance(e, ev.MemoryWritten)][0]


def items(events):
    return [r.item for e in events if isinstance(e, ev.ItemsRecommended) for r in e.items]


def chat_entries(assistant, user, current_only=True):
    return assistant.store.list_user(user, "chat", current_only=current_only)


@pytest.fixture
def assistant(assistant_factory):
    return assistant_factory(llm=None)


def test_repeat_reinforces_instead_of_piling_up(assistant):
    user = assistant.new_user_id()
    first = written(chat(assistant, user, "I can't stand horror"))
    again = written(chat(assistant, user, "Honestly, I can't stand horror movies"))
    assert first.added and again.reinforced == first.added and not again.added
    [entry] = chat_entries(assistant, user)
    assert entry.extra["count"] == 2 and entry.confidence > 0.9
    assert [h["action"] for h in assistant.memory.history(user)] == ["reinforce", "add"]


def test_reversal_supersedes_with_pointer_and_is_not_retrieved(assistant):
    user = assistant.new_user_id()
    old_id = written(chat(assistant, user, "I can't stand horror")).added[0]
    assert "Horror" in assistant.turn_context(user, "x").avoid_categories
    result = written(chat(assistant, user, "Actually I've come to love horror movies"))
    assert result.superseded == [old_id]
    old = assistant.store.get(user, old_id)
    assert old.status == "superseded" and old.extra["superseded_by"] == result.added[0]
    assert old_id not in {m.memory_id for m in assistant.store.search(user, "horror movies", k=10)}
    assert "Horror" not in assistant.turn_context(user, "x").avoid_categories
    actions = [(h["action"], h["memory_id"]) for h in assistant.memory.history(user)]
    assert ("supersede", old_id) in actions and ("add", result.added[0]) in actions


def test_used_to_but_now_supersedes_the_old_taste(assistant):
    user = assistant.new_user_id()
    old_id = written(chat(assistant, user, "I love westerns")).added[0]
    result = written(chat(assistant, user, "I used to love westerns but now I can't stand them"))
    assert result.superseded == [old_id]
    [current] = chat_entries(assistant, user)
    assert current.extra["kind"] == "dislike" and current.extra.get("changed_mind") is True
    # "used to" alone says nothing about now: nothing is stored.
    other = assistant.new_user_id()
    assert not written(chat(assistant, other, "I used to love musicals")).added


def test_contradiction_inside_one_message_keeps_only_the_last_word(assistant):
    user = assistant.new_user_id()
    result = written(chat(assistant, user, "I love horror. No wait, I hate horror."))
    assert len(result.added) == 1 and not result.superseded
    assert [e.extra["kind"] for e in chat_entries(assistant, user, current_only=False)] == ["dislike"]
    # The same rule holds for statements that did not come from the extractor (e.g. an LLM's).
    prefs = [Preference("like", "Comedy", "category", "Loves Comedy.", 0.9),
             Preference("dislike", "Comedy", "category", "Dislikes Comedy.", 0.8),
             Preference("like", "Comedy", "category", "Likes Comedy.", 0.8)]
    result = assistant.writer.write_preferences(user, prefs)
    assert len(result.added) == 1 and not result.superseded
    comedy = [e for e in chat_entries(assistant, user, current_only=False) if e.category == "Comedy"]
    assert [e.text for e in comedy] == ["Likes Comedy."]


def test_another_persons_taste_is_context_never_the_users_dislike(assistant):
    user = assistant.new_user_id()
    events = chat(assistant, user, "My wife hates westerns")
    [entry] = chat_entries(assistant, user)
    assert entry.extra["kind"] == "context" and entry.extra["holder"] == "other"
    assert entry.extra["who"] == "wife" and entry.text.startswith("Their wife")
    assert "Western" not in assistant.turn_context(user, "x").avoid_categories
    assert written(events).added
    # Her change of mind replaces her entry; the user's own taste is a separate slot.
    again = written(chat(assistant, user, "My wife loves westerns now"))
    assert again.superseded == [entry.memory_id]
    mine = written(chat(assistant, user, "I can't stand westerns"))
    assert mine.added and not mine.superseded
    kinds = sorted((e.extra["holder"], e.extra["kind"]) for e in chat_entries(assistant, user))
    assert kinds == [("other", "context"), ("user", "dislike")]
    assert "Western" in assistant.turn_context(user, "x").avoid_categories


def test_forget_it_alone_changes_nothing(assistant):
    user = assistant.new_user_id()
    chat(assistant, user, "I can't stand horror")
    before = chat_entries(assistant, user)
    events = chat(assistant, user, "forget it")
    result = written(events)
    assert not (result.added or result.reinforced or result.superseded)
    assert [e.memory_id for e in chat_entries(assistant, user)] == [e.memory_id for e in before]


def test_constraints_replace_within_their_family(assistant):
    user = assistant.new_user_id()
    first = written(chat(assistant, user, "Nothing longer than 2 hours please")).added[0]
    result = written(chat(assistant, user, "Actually nothing longer than 90 minutes"))
    assert result.superseded == [first]
    era = written(chat(assistant, user, "I want classics")).added[0]
    assert written(chat(assistant, user, "Actually something recent")).superseded == [era]
    assert len(chat_entries(assistant, user)) == 2


def test_five_hundred_preferences_are_bounded(assistant_factory, tiny_dataset):
    assistant = assistant_factory(llm=None, max_message_chars=50_000)
    user = assistant.new_user_id()
    subjects = [i.display_title for i in tiny_dataset.items.values()] + list(tiny_dataset.categories)
    message = " ".join(f"I {'love' if n % 2 else 'hate'} {subjects[n % len(subjects)]}." for n in range(500))
    started = time.perf_counter()
    events = chat(assistant, user, message)
    assert time.perf_counter() - started < 60
    assert written(events) and len(chat_entries(assistant, user)) <= MAX_PREFERENCES_PER_MESSAGE
    # Direct callers are bounded too (an LLM extractor could return anything).
    prefs = [Preference("constraint", f"released after {1500 + n}", "attribute", f"After {1500 + n}.", 0.8)
             for n in range(500)]
    other = assistant.new_user_id()
    result = assistant.writer.write_preferences(other, prefs)
    assert len(result.added) == 1 and result.truncated is False  # one era slot: the last one wins
    prefs = [Preference("context", f"context {n}", "context", f"Context {n}.", 0.8) for n in range(500)]
    result = assistant.writer.write_preferences(other, prefs)
    assert len(result.added) == MAX_PREFERENCES_PER_MESSAGE and result.truncated
    # A chat turn whose message held more than the cap says so (this catalog is too small to
    # phrase 51 distinct statements, so the extractor's output is stood in for).
    assistant.writer.extract = lambda message: prefs
    events = chat(assistant, assistant.new_user_id(), "a long list")
    assert any("remembered the first 50" in n.text for n in events if isinstance(n, ev.Notice))


def test_seen_and_loved_the_same_title_are_both_kept(assistant):
    user = assistant.new_user_id()
    result = written(chat(assistant, user, "I've seen Heat and loved it"))
    kinds = sorted(e.extra["kind"] for e in chat_entries(assistant, user))
    assert kinds == ["like", "seen"] and len(set(result.added)) == 2


def test_slot_keys_person_and_subject():
    wife = Preference("dislike", "Western", "category", "Their wife dislikes Western.", 0.5, holder="other")
    son = Preference("dislike", "Western", "category", "Their son dislikes Western.", 0.5, holder="other")
    me = Preference("dislike", "Western", "category", "Dislikes Western.", 0.8)
    assert len({slot_of(wife), slot_of(son), slot_of(me)}) == 3


def test_retrieval_prior_prefers_recent_confirmed_and_stays_small():
    now = time.time()

    def entry(age_days, confidence):
        return MemoryEntry("c:x:u:1", "chat", "t", "u", created_at=now - age_days * 86400, confidence=confidence)

    assert retrieval_prior(entry(0, 1.0), now) > retrieval_prior(entry(200, 1.0), now)
    assert retrieval_prior(entry(0, 1.0), now) > retrieval_prior(entry(0, 0.5), now)
    assert retrieval_prior(entry(0, 1.0), now) <= RECENCY_WEIGHT + CONFIDENCE_WEIGHT <= 0.1
    assert retrieval_prior(MemoryEntry("b:x:u:1", "behavior", "t", "u", created_at=0.0), now) < 0.031


def test_feedback_evidence_refreshes_pattern_and_profile_faithfully(assistant, tiny_dataset):
    assistant.ensure_user("alice")
    old_patterns = {e.memory_id: e.text for e in assistant.memory.list("alice", "pattern")}
    crime = [i for i in ("3", "6", "8") if i not in {x.item_id for x in tiny_dataset.history("alice")}]
    for item_id in crime[:2]:
        assistant.feedback("alice", item_id, "up")
    assert not [h for h in assistant.memory.history("alice") if h["action"] == "refresh"]
    chat(assistant, "alice", "I really love crime movies")  # third piece of Crime evidence
    refreshed = [h for h in assistant.memory.history("alice") if h["action"] == "refresh"]
    assert refreshed, "the Crime summary and the profile were rebuilt"
    crime_likes = assistant.store.get("alice", "p:tiny-movies:alice:Crime:likes")
    assert all(tiny_dataset.items[i].display_title in crime_likes.text for i in crime[:2])
    previous = [h for h in refreshed if h["memory_id"] == crime_likes.memory_id][0]
    assert previous["detail"]["previous_text"] == old_patterns[crime_likes.memory_id]
    stated = assistant.store.get("alice", "p:tiny-movies:alice:Crime:stated")
    assert stated is not None and "crime" in stated.text.lower()
    # Nothing invented: every title in the refreshed summaries was rated or given feedback.
    known = {tiny_dataset.items[i.item_id].display_title for i in tiny_dataset.history("alice")}
    known |= {tiny_dataset.items[i].display_title for i in crime[:2]}
    for entry in assistant.memory.list("alice", "pattern"):
        for title in (t.display_title for t in tiny_dataset.items.values()):
            if title in entry.text:
                assert title in known, (title, entry.text)
    assert any("Crime" in e.text or "crime" in e.text for e in assistant.memory.list("alice", "profile"))


def test_refresh_never_rewrites_a_hand_edited_summary(assistant):
    assistant.ensure_user("alice")
    assistant.memory.edit("alice", "p:tiny-movies:alice:Horror:dislikes", "Horror: I only hated the slashers.")
    assistant.refresher.refresh("alice", ["Horror"])
    assert assistant.store.get("alice", "p:tiny-movies:alice:Horror:dislikes").text == \
        "Horror: I only hated the slashers."


def test_a_summary_never_keeps_quoting_a_superseded_statement(assistant):
    user = assistant.new_user_id()
    for _ in range(3):  # third piece of Horror evidence: the summary is built and quotes the dislike
        chat(assistant, user, "I can't stand horror")
    stated = assistant.store.get(user, f"p:tiny-movies:{user}:Horror:stated")
    assert stated is not None and "dislikes" in stated.text
    chat(assistant, user, "Actually I've come to love horror movies")  # one statement, rebuilt at once
    stated = assistant.store.get(user, f"p:tiny-movies:{user}:Horror:stated")
    assert "dislikes" not in stated.text and "loves" in stated.text.lower()
    retrieved = assistant.store.search(user, "horror movies", k=10)
    assert retrieved and not [m for m in retrieved if "dislikes" in m.entry.text.lower()]
    previous = [h for h in assistant.memory.history(user) if h["memory_id"] == stated.memory_id]
    assert previous[0]["action"] == "refresh" and "dislikes" in previous[0]["detail"]["previous_text"]


def test_a_momentary_refusal_is_remembered_as_such_and_never_overturns_a_lasting_statement(assistant):
    """"No westerns tonight" is kept as a mood of that evening; "I hate westerns" later is lasting;
    a momentary refusal neither overturns "I love horror" nor softens "I hate musicals"."""
    user = assistant.new_user_id()
    momentary = written(chat(assistant, user, "No westerns tonight please"))
    [entry] = chat_entries(assistant, user)
    assert entry.extra.get("momentary") is True and "not in the mood" in entry.text.lower()
    lasting = written(chat(assistant, user, "Actually I hate westerns, always have"))
    assert lasting.superseded == momentary.added
    [entry] = chat_entries(assistant, user)
    assert not entry.extra.get("momentary") and "dislikes western" in entry.text.lower()
    liked = written(chat(assistant, user, "I love horror movies"))
    again = written(chat(assistant, user, "not in the mood for horror tonight, something funny"))
    assert liked.added and not set(again.superseded) & set(liked.added)
    kinds = {e.extra["subject"]: e.extra["kind"] for e in chat_entries(assistant, user)}
    assert kinds["Horror"] == "like" and kinds["Western"] == "dislike"
