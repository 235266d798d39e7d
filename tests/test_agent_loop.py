"""Control flow of the reasoning-retrieval loop with a scripted LLM (parser/loop unit tests).

The scripted model stands in only here, to make each branch of the loop happen on purpose;
the real small model is exercised in test_service.py and test_app.py.
"""

from __future__ import annotations

from mrrec_chat.agent import events as ev
from mrrec_chat.agent.loop import AgentOptions, MRRecAgent, TurnContext
from mrrec_chat.llm.base import Completion, LLMBackend
from mrrec_chat.memory.builders import build_user_memory
from mrrec_chat.retrieval import CatalogIndex


class ScriptedLLM(LLMBackend):
    name = "scripted"

    def __init__(self, outputs):
        self.outputs = list(outputs)
        self.calls = []
        self.budgets = []

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        self.calls.append((messages, assistant_prefix))
        self.budgets.append(max_new_tokens)
        out = self.outputs.pop(0) if self.outputs else ""
        return out if isinstance(out, Completion) else Completion(text=out, prompt_tokens=10, completion_tokens=5)


def run(agent, user="alice", request="a gripping crime film", **options):
    turn = TurnContext(user, request)
    return list(agent.run(turn, AgentOptions(**options)))


def make_agent(store, tiny_dataset, embedder, outputs):
    store.add(build_user_memory(tiny_dataset, "alice") + build_user_memory(tiny_dataset, "bob"))
    return MRRecAgent(ScriptedLLM(outputs), store, CatalogIndex(tiny_dataset, embedder))


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_search_then_answer(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, [
        "<think>Check crime taste.</think><search>liked crime movies</search>",
        '<think>Heat fits.</think><answer>{"ideal_item_profile": "A tense 1990s crime thriller with heists",'
        ' "useful_memory_ids": ["p:tiny-movies:alice:Crime:likes", "b:tiny-movies:bob:16"]}</answer>'])
    events = run(agent)
    assert [e.queries for e in of(events, ev.ToolCall)] == [["liked crime movies"]]
    retrieved = {m.memory_id for e in of(events, ev.MemoriesRetrieved) for m in e.memories}
    assert retrieved and all(":alice:" in i for i in retrieved)
    answer = of(events, ev.FinalAnswer)[0]
    assert not answer.fallback and answer.ideal_item_profile.startswith("A tense 1990s crime")
    # bob's id was never retrieved in this turn: it must not be cited.
    assert "b:tiny-movies:bob:16" not in answer.useful_memory_ids
    assert set(answer.useful_memory_ids) <= retrieved
    items = of(events, ev.ItemsRecommended)[0].items
    rated = {i.item_id for i in tiny_dataset.history("alice")}
    assert len(items) == 5
    assert all(r.item.item_id in tiny_dataset.items for r in items)
    # The trajectory continues one assistant turn: the second call's prefix holds the observation.
    second_prefix = agent.llm.calls[1][1]
    assert "<memory>" in second_prefix and "</memory>" in second_prefix
    assert of(events, ev.TurnDone)[0].stats.tool_calls == 1
    del rated


CUT_ANSWER = Completion('<think>Heat fits.</think><answer>{"ideal_item_profile": "A tense 1990s crime thriller',
                        prompt_tokens=10, completion_tokens=96, stop_reason="length")


def test_an_answer_cut_by_the_step_budget_gets_the_answer_budget(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, [
        "<think>Check crime taste.</think><search>liked crime movies</search>", CUT_ANSWER,
        Completion(' with heists", "useful_memory_ids": []}', completion_tokens=12, stop_reason="stop")])
    events = run(agent)
    answer = of(events, ev.FinalAnswer)[0]
    assert answer.ideal_item_profile == "A tense 1990s crime thriller with heists" and not answer.fallback
    assert "truncated JSON repaired" not in answer.problems
    assert agent.llm.budgets == [96, 96, 160 - 96]  # the continuation gets what the answer budget leaves
    assert agent.llm.calls[2][1].endswith("crime thriller")  # it continues the cut text (KV reuse)
    assert of(events, ev.TurnDone)[0].stats.llm_calls == 3


def test_a_cut_answer_is_repaired_when_the_answer_budget_has_no_room(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, [
        "<think>Check crime taste.</think><search>liked crime movies</search>", CUT_ANSWER])
    answer = of(run(agent, answer_max_new_tokens=96), ev.FinalAnswer)[0]
    assert answer.ideal_item_profile == "A tense 1990s crime thriller" and "truncated JSON repaired" in answer.problems
    assert agent.llm.budgets == [96, 96]


def test_an_answer_that_closed_at_the_step_budget_is_not_continued(store, tiny_dataset, embedder):
    closed = Completion('<answer>{"ideal_item_profile": "A tense 1990s crime thriller", "useful_memory_ids": []}',
                        completion_tokens=96, stop_reason="length")
    agent = make_agent(store, tiny_dataset, embedder, ["<search>liked crime movies</search>", closed, "junk"])
    answer = of(run(agent), ev.FinalAnswer)[0]
    assert answer.ideal_item_profile == "A tense 1990s crime thriller" and agent.llm.budgets == [96, 96]


def test_no_tool_call_forces_one_search_and_falls_back(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, ["I'm sorry, I cannot help with that.", "", "junk"])
    events = run(agent)
    calls = of(events, ev.ToolCall)
    assert calls[0].fallback and calls[0].queries == ["a gripping crime film"]
    answer = of(events, ev.FinalAnswer)[0]
    assert answer.fallback and "a gripping crime film" in answer.ideal_item_profile
    assert of(events, ev.ItemsRecommended)[0].items
    # said in the trace (the fallback flag and its problems), not as a chat notice on most turns
    assert not any(isinstance(e, ev.Notice) and "unusable" in e.text for e in events)
    assert "deterministic profile (model output unusable)" in answer.problems


def test_refusal_inside_answer_is_not_used_as_profile(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, [
        "<search>crime</search>", '<answer>{"ideal_item_profile": "I\'m sorry, I can\'t do that."}</answer>'])
    answer = of(run(agent), ev.FinalAnswer)[0]
    assert answer.fallback


def test_round_cap_and_repeated_queries(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, ["<search>crime</search>"] * 10)
    events = run(agent, max_rounds=3)
    # The repeated query ends the loop early; the answer step still happens (one forced call).
    assert len(of(events, ev.ToolCall)) == 1
    assert len(agent.llm.calls) == 3  # round 1, round 2 (repeat -> stop), forced answer


def test_round_cap_with_new_queries(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, [f"<search>query {n}</search>" for n in range(10)])
    events = run(agent, max_rounds=2)
    assert len(of(events, ev.ToolCall)) == 2
    assert len(agent.llm.calls) == 3


def test_exclusion_and_avoided_categories(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, [
        '<answer>{"ideal_item_profile": "a scary horror movie with ghosts"}</answer>'])
    turn = TurnContext("alice", "scary movie", exclude_items={"11"}, avoid_categories={"Horror"})
    items = of(list(agent.run(turn, AgentOptions())), ev.ItemsRecommended)[0].items
    assert all("Horror" not in r.item.categories and r.item.item_id != "11" for r in items)


def test_reasons_cite_positive_memories_only(store, tiny_dataset, embedder):
    agent = make_agent(store, tiny_dataset, embedder, ["<search>horror; crime</search>", ""])
    items = of(run(agent), ev.ItemsRecommended)[0].items
    for rec in items:
        assert "dislike" not in rec.reason.lower()
        for memory_id in rec.memory_ids:
            assert ":alice:" in memory_id or memory_id.startswith("g:")


def test_no_llm_runs_deterministically(store, tiny_dataset, embedder):
    store.add(build_user_memory(tiny_dataset, "alice"))
    agent = MRRecAgent(None, store, CatalogIndex(tiny_dataset, embedder))
    events = run(agent)
    assert of(events, ev.ToolCall)[0].fallback and of(events, ev.MemoriesRetrieved)[0].memories
    first = of(events, ev.ItemsRecommended)[0].items
    second = of(run(agent), ev.ItemsRecommended)[0].items
    assert [r.item.item_id for r in first] == [r.item.item_id for r in second]


def test_the_cut_answer_rule_shared_by_loop_and_rollouts() -> None:
    import doctest

    from mrrec_chat.agent import loop

    result = doctest.testmod(loop)  # answer_was_cut: cut, closed, and a search step
    assert result.attempted >= 3 and result.failed == 0
