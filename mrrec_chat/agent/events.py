"""Typed events the agent yields; the UI streams them and the evaluator consumes them."""

from __future__ import annotations

from dataclasses import dataclass, field

from mrrec_chat.data.schema import Item
from mrrec_chat.memory.schema import RetrievedMemory


@dataclass
class GlobalMemoryUsed:
    memories: list[RetrievedMemory]
    seconds: float = 0.0


@dataclass
class ReasoningStep:
    round: int
    thought: str  # already passed through the output filter
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    withheld: bool = False  # the filter withheld model text
    problems: list[str] = field(default_factory=list)


@dataclass
class ToolCall:
    round: int
    queries: list[str]
    fallback: bool = False  # issued by the controller because the model did not call the tool


@dataclass
class MemoriesRetrieved:
    round: int
    query: str
    memories: list[RetrievedMemory]
    seconds: float = 0.0


@dataclass
class FinalAnswer:
    ideal_item_profile: str
    useful_memory_ids: list[str]
    fallback: bool = False  # the deterministic profile replaced unusable model output
    problems: list[str] = field(default_factory=list)


@dataclass
class Recommendation:
    item: Item
    score: float
    reason: str
    memory_ids: list[str]


@dataclass
class ItemsRecommended:
    items: list[Recommendation]
    seconds: float = 0.0


@dataclass
class Notice:
    text: str
    level: str = "info"  # info | warning


@dataclass
class TurnStats:
    llm_calls: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    memory_tokens: int = 0  # tokens of memory text put into the prompt (paper's efficiency figure)
    tool_calls: int = 0
    seconds_global: float = 0.0
    seconds_llm: float = 0.0
    seconds_memory: float = 0.0
    seconds_grounding: float = 0.0
    seconds_total: float = 0.0


@dataclass
class TurnDone:
    stats: TurnStats



@dataclass
class MemoryWritten:
    """Write-back finished (after the answer was shown)."""

    added: list[str]
    reinforced: list[str]
    superseded: list[str]
    seconds: float = 0.0


Event = (GlobalMemoryUsed | ReasoningStep | ToolCall | MemoriesRetrieved | FinalAnswer
         | ItemsRecommended | Notice | TurnDone | MemoryWritten)
