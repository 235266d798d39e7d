"""A LangChain `BaseChatModel` over any MR.Rec backend, and the reverse adapter.

`MRRecChatModel` lets LangChain code (chains, agents, evaluators) use the in-process SmolLM2 or
any backend here with standard message types; `LangChainBackend` lets any LangChain chat model
(e.g. a hosted one) act as the MR.Rec policy. The loop itself only needs `LLMBackend`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from mrrec_chat.llm.base import Completion, LLMBackend, cut_at_stop


class MRRecChatModel(BaseChatModel):
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


class LangChainBackend(LLMBackend):
    """Use a LangChain chat model as the policy (the assistant prefix is sent as a partial turn)."""

    def __init__(self, chat_model: BaseChatModel, name: str = "langchain"):
        self.chat_model = chat_model
        self.name = name

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        history = list(messages) + ([{"role": "assistant", "content": assistant_prefix}] if assistant_prefix else [])
        result = self.chat_model.invoke(history, stop=stop)
        text, _ = cut_at_stop(str(result.content), stop)
        usage = getattr(result, "usage_metadata", None) or {}
        return Completion(text=text, prompt_tokens=usage.get("input_tokens", 0),
                          completion_tokens=usage.get("output_tokens", 0))
