"""The LangChain integration against the real store: a user's memory as a retriever and as a tool.

Real embedder, real Chroma, the tiny catalog (conftest.py); the chat-model adapter on the real
small LLM (a slow-tier test).
"""

from __future__ import annotations

import pytest

from mrrec_chat.integrations.langchain import MemoryRetriever, MRRecChatModel, memory_search_tool
from mrrec_chat.memory.builders import build_user_memory
from mrrec_chat.memory.schema import InvalidUserId, MemoryEntry


@pytest.fixture
def filled_store(store, tiny_dataset):
    for user in ("alice", "bob"):
        store.add(build_user_memory(tiny_dataset, user))
    store.add([MemoryEntry("c:tiny-movies:alice:1", "chat", "I can't stand horror movies.", "alice", "Horror", "chat")])
    return store


def test_retriever_returns_the_users_memories_as_documents_best_first(filled_store):
    retriever = MemoryRetriever(store=filled_store, user_id="alice", k=3)
    docs = retriever.invoke("horror movies")
    expected = filled_store.search("alice", "horror movies", k=3)
    assert [d.id for d in docs] == [m.memory_id for m in expected]  # the agent's own search, same order
    assert docs[0].id == "c:tiny-movies:alice:1" and docs[0].page_content == "I can't stand horror movies."
    assert {d.metadata["level"] for d in docs} <= {"behavior", "pattern", "profile", "chat"}
    scores = [d.metadata["score"] for d in docs]
    assert all(isinstance(s, float) for s in scores)
    assert all(d.metadata["memory_id"].split(":")[2] == "alice" for d in docs)


def test_retriever_never_returns_another_users_memory(filled_store):
    for user in ("alice", "bob"):
        for query in ("crime", "animated family comedy", "bob's favourite", "alice"):
            docs = MemoryRetriever(store=filled_store, user_id=user, k=10).invoke(query)
            assert docs and {d.id.split(":")[2] for d in docs} == {user}
    assert MemoryRetriever(store=filled_store, user_id="dave").invoke("crime") == []


def test_retriever_refuses_bad_user_ids_and_levels(filled_store):
    for bad in ("", "*", "__global__", "a:b"):
        with pytest.raises((InvalidUserId, ValueError)):
            MemoryRetriever(store=filled_store, user_id=bad)
    with pytest.raises(ValueError, match="memory levels"):
        MemoryRetriever(store=filled_store, user_id="alice", levels=("global",))
    only_chat = MemoryRetriever(store=filled_store, user_id="alice", k=5, levels=("chat",)).invoke("movies")
    assert [d.metadata["level"] for d in only_chat] == ["chat"]


def test_retriever_composes_in_a_chain(filled_store):
    from langchain_core.runnables import RunnableLambda

    chain = MemoryRetriever(store=filled_store, user_id="alice", k=2) | RunnableLambda(
        lambda docs: "\n".join(f"[{d.id}] {d.page_content}" for d in docs))
    context = chain.invoke("what does she refuse to watch?")
    assert context.count("\n") == 1 and all(line.startswith("[") for line in context.splitlines())


def test_tool_call_from_a_chat_model_returns_what_the_policy_reads(filled_store):
    from langchain_core.messages import ToolMessage

    tool = memory_search_tool(filled_store, "alice", k=3)
    assert set(tool.args) == {"query"}, "the user is bound, never an argument a model fills in"
    message = tool.invoke({"name": "search_memory", "args": {"query": "horror"}, "id": "call-1", "type": "tool_call"})
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    rendered = [m.render() for m in filled_store.search("alice", "horror", k=3)]
    assert message.content == "\n".join(rendered)  # the agent's `[id] (level) text` lines
    assert [d.id for d in message.artifact] == [line[1:line.index("]")] for line in rendered]
    assert memory_search_tool(filled_store, "dave").invoke({"query": "horror"}).startswith("(no memory found")


def test_chat_model_adapter_runs_the_real_small_llm(small_llm):
    from langchain_core.messages import HumanMessage

    chat_model = MRRecChatModel(backend=small_llm, max_new_tokens=8)
    reply = chat_model.invoke([HumanMessage("Say hello")])
    assert isinstance(reply.content, str) and 0 < reply.usage_metadata["output_tokens"] <= 8
