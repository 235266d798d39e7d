"""What the turn benchmark records: each LLM call's token counts and timings, and each turn's parts.

`RecordingLLM` wraps the Assistant's real backend for the benchmark (bench/turn.py) and keeps one
`LLMCall` per generation, labelled as a reasoning step, the loop's forced answer or the
single-shot baseline's one call; a `TurnRecord` holds one chat turn of either system: the
latency the user waits for (request in, items out), its parts (setup, global memory, LLM, memory
tool calls, grounding, write-back, the rest), the memory text put into the prompt, the calls and
the recommended titles, as the JSON rows of the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mrrec_chat.llm.base import Completion, LLMBackend


@dataclass
class LLMCall:
    kind: str  # "step" (a reasoning round), "answer" (the loop's forced answer), "single-shot"
    prompt_tokens: int
    cached_tokens: int
    prefill_s: float
    completion_tokens: int
    seconds: float
    stop_reason: str = ""
    text: str = ""  # the first 400 characters, to see what the tokens were spent on

    @property
    def prefill_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens

    @property
    def decode_tokens(self) -> int:
        return max(0, self.completion_tokens - 1)  # the first new token comes with the prefill

    @property
    def decode_s(self) -> float:
        return max(0.0, self.seconds - self.prefill_s)


class RecordingLLM(LLMBackend):
    """Passes calls to the real backend and keeps each Completion's token counts and timings."""

    def __init__(self, inner: LLMBackend):
        self.inner = inner
        self.name = getattr(inner, "name", "llm")
        self.calls: list[LLMCall] = []
        self.kind = "step"

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None,
                      temperature=0.0) -> Completion:
        completion = self.inner.continue_chat(messages, assistant_prefix, max_new_tokens=max_new_tokens,
                                              stop=stop, temperature=temperature)
        kind = self.kind
        if kind == "step" and assistant_prefix.endswith("<answer>"):
            kind = "answer"
        self.calls.append(LLMCall(kind, completion.prompt_tokens, completion.cached_tokens,
                                  completion.prefill_seconds, completion.completion_tokens, completion.seconds,
                                  completion.stop_reason, completion.text[:400]))
        return completion

    def take(self) -> list[LLMCall]:
        calls, self.calls = self.calls, []
        return calls


@dataclass
class TurnRecord:
    system: str  # "mrrec" or "single-shot"
    user: str
    new_user: bool
    request: str
    answer_s: float = 0.0  # request in -> items out (what the user waits for)
    total_s: float = 0.0  # including write-back
    setup_s: float = 0.0  # context, preference extraction, request embedding
    global_s: float = 0.0
    llm_s: float = 0.0
    memory_s: float = 0.0
    memory_calls: int = 0
    grounding_s: float = 0.0
    writeback_s: float = 0.0
    other_s: float = 0.0
    memory_tokens: int = 0  # memory text put into the prompt (global + observations)
    fallback: bool = False
    model_searched: bool = False
    calls: list[LLMCall] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    profile: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "calls"}
        data["llm_calls"] = [dict(c.__dict__, prefill_tokens=c.prefill_tokens, decode_tokens=c.decode_tokens,
                                  decode_s=c.decode_s) for c in self.calls]
        return data
