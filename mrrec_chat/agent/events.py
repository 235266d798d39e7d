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


@dataclass
class TurnResult:
    """A whole turn folded from its events (`collect`): what the API, the evaluator, training
    validation and the benchmarks read, instead of each walking the stream itself."""

    answer: FinalAnswer | None = None
    items: list[Recommendation] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    steps: list[ReasoningStep] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    retrievals: list[MemoriesRetrieved] = field(default_factory=list)
    global_memories: list[RetrievedMemory] = field(default_factory=list)
    stats: TurnStats = field(default_factory=TurnStats)
    written: MemoryWritten | None = None
    grounding_seconds: float = 0.0
    timeline: list[tuple[float, Event]] = field(default_factory=list)  # (seconds since start, event)

    @property
    def model_searched(self) -> bool:
        """The model called the memory tool itself (not the controller's automatic search)."""
        return any(not call.fallback for call in self.tool_calls)


def collect(events, clock=None) -> TurnResult:
    """Fold a turn's events into a `TurnResult`. `clock()` (e.g. time.perf_counter) stamps each
    event's arrival in `timeline`, for benchmarks."""
    result = TurnResult()
    start = clock() if clock else 0.0
    for event in events:
        if clock:
            result.timeline.append((clock() - start, event))
        if isinstance(event, FinalAnswer):
            result.answer = event
        elif isinstance(event, ItemsRecommended):
            result.items, result.grounding_seconds = list(event.items), event.seconds
        elif isinstance(event, Notice):
            result.notices.append(event)
        elif isinstance(event, ReasoningStep):
            result.steps.append(event)
        elif isinstance(event, ToolCall):
            result.tool_calls.append(event)
        elif isinstance(event, MemoriesRetrieved):
            result.retrievals.append(event)
        elif isinstance(event, GlobalMemoryUsed):
            result.global_memories = list(event.memories)
        elif isinstance(event, TurnDone):
            result.stats = event.stats
        elif isinstance(event, MemoryWritten):
            result.written = event
    return result
