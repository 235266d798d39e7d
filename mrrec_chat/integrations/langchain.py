"""MR.Rec for LangChain apps: a user's memory as a retriever and as a tool, the policy model as a chat model.

    from mrrec_chat.integrations.langchain import MemoryRetriever, memory_search_tool
    retriever = MemoryRetriever(store=assistant.store, user_id="alice", k=3)
    retriever.invoke("what does she think of horror?")   # -> list[Document], best first
    tool = memory_search_tool(assistant.store, "alice")    # bind to any tool-calling chat model
    tool.invoke({"query": "favourite crime films"})        # the lines the MR.Rec policy reads

Both search exactly as the agent's memory tool does (`MemoryStore.search`: the user's current
local memories, behavior records, preference patterns, profile and chat-learned facts, top-k by
cosine with the recency/level prior), so a LangChain chain sees what MR.Rec's policy sees.

The user is fixed when the retriever or tool is made and is never an argument a model can fill
in: a tool whose arguments come from an LLM must not be able to read another user's memory.
`MRRecChatModel` wraps any `LLMBackend` (the embedded SmolLM2 by default) as a LangChain chat
model. Only `langchain-core` is needed.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import StructuredTool
from pydantic import ConfigDict, Field, field_validator

from mrrec_chat.memory.schema import LOCAL_LEVELS, RetrievedMemory, validate_user_id

NO_MEMORY = "(no memory found: this may be a new user)"


def to_document(found: RetrievedMemory) -> Document:
    """One retrieved memory as a LangChain document: its text, with id, level and score in metadata."""
    entry = found.entry
    return Document(id=entry.memory_id, page_content=entry.text,
                    metadata={"memory_id": entry.memory_id, "level": entry.level, "category": entry.category,
                              "source": entry.source, "created_at": entry.created_at, "score": found.score})


class MemoryRetriever(BaseRetriever):
    """One user's MR.Rec memory as a LangChain retriever (`store` is a `MemoryStore`)."""

    store: Any
    user_id: str
    k: int = Field(default=3, ge=1, le=100)
    levels: tuple[str, ...] = LOCAL_LEVELS
    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_validator("user_id")
    @classmethod
    def _valid_user(cls, user_id: str) -> str:
        return validate_user_id(user_id)

    @field_validator("levels")
    @classmethod
    def _local_levels(cls, levels: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [level for level in levels if level not in LOCAL_LEVELS]
        if unknown:
            raise ValueError(f"levels {unknown} are not a user's memory levels; use some of {list(LOCAL_LEVELS)}")
        return levels

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(found) for found in self.store.search(self.user_id, query, k=self.k, levels=self.levels)]


def memory_search_tool(store: Any, user_id: str, k: int = 3, *, name: str = "search_memory") -> StructuredTool:
    """The agent's memory tool for a LangChain agent: `query` in, the user's top-k memories out.

    The content is what the MR.Rec policy reads (`[id] (level) text`, one line each); the artifact
    is the same memories as documents, for code that wants ids and scores.
    """
    retriever = MemoryRetriever(store=store, user_id=user_id, k=k)

    def search_memory(query: str) -> tuple[str, list[Document]]:
        found = store.search(retriever.user_id, query, k=retriever.k, levels=retriever.levels)
        text = "\n".join(memory.render() for memory in found) or NO_MEMORY
        return text, [to_document(memory) for memory in found]

    return StructuredTool.from_function(
        search_memory, name=name, response_format="content_and_artifact",
        description=("Search what this user has told the assistant and how they rated things: their "
                     "behavior records, preference patterns per genre, profile, and facts learned in chat. "
                     "Query with one aspect at a time, e.g. 'liked crime films' or 'dislikes'."))


class MRRecChatModel(BaseChatModel):
    """Any MR.Rec `LLMBackend` (e.g. `build_llm(settings)`) as a LangChain chat model."""

    backend: Any
    max_new_tokens: int = 128
    temperature: float = 0.0
    model_config = ConfigDict(arbitrary_types_allowed=True)

    @property
    def _llm_type(self) -> str:
        return "mrrec-" + getattr(self.backend, "name", "llm")

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None,
                  **kwargs: Any) -> ChatResult:
        completion = self.backend.chat(convert_to_openai_messages(messages),
                                       max_new_tokens=kwargs.get("max_new_tokens", self.max_new_tokens),
                                       stop=stop, temperature=self.temperature)
        message = AIMessage(content=completion.text, usage_metadata={
            "input_tokens": completion.prompt_tokens, "output_tokens": completion.completion_tokens,
            "total_tokens": completion.prompt_tokens + completion.completion_tokens})
        return ChatResult(generations=[ChatGeneration(message=message)])
