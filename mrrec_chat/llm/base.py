"""The LLM interface the agent needs: continue an assistant turn from a prefix, with stop strings.

The MR.Rec trajectory is one assistant turn (`<think>`, `<search>`, the tool's `<memory>`
observation, more reasoning, `<answer>`), continued after each tool call. Keeping it one turn
keeps the prompt prefix identical across rounds (the KV cache can be reused) and matches the
training format, in which the `<memory>` spans are masked out of the loss.
"""

from __future__ import annotations

import re

from abc import ABC, abstractmethod
from dataclasses import dataclass


# The final answer of the MR.Rec protocol (see agent/parser.py). Backends that can constrain
# decoding use it: an OpenAI-compatible server as `response_format`, ONNX Runtime GenAI as
# guidance (llguidance) with the lengths bounded so an answer always closes.
ANSWER_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "ideal_item_profile": {"type": "string"},
        "useful_memory_ids": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["ideal_item_profile", "useful_memory_ids"],
    "additionalProperties": False,
}


def is_answer_step(assistant_prefix: str) -> bool:
    """The call that writes the final answer: the prefix ends with the opened `<answer>` tag."""
    return assistant_prefix.rstrip().endswith("<answer>")


class LLMError(RuntimeError):
    """The LLM could not answer; the message says what to do next."""


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    prefill_seconds: float = 0.0  # time to the first new token (prompt prefill + one step), when known
    cached_tokens: int = 0  # prompt tokens whose keys/values came from the previous call's cache
    stop_reason: str = ""  # "stop" (a stop string), "repeat" (cut where it looped), "length", or ""


class LLMBackend(ABC):
    name: str = "llm"

    @abstractmethod
    def continue_chat(self, messages: list[dict[str, str]], assistant_prefix: str = "", *,
                      max_new_tokens: int = 96, stop: list[str] | None = None,
                      temperature: float = 0.0) -> Completion:
        """Generate the continuation of an assistant message that starts with `assistant_prefix`.

        The returned text excludes the prefix and ends at (and excludes) the first stop string.
        """

    def chat(self, messages: list[dict[str, str]], **kwargs) -> Completion:
        return self.continue_chat(messages, "", **kwargs)

    def warm_up(self) -> None:
        self.chat([{"role": "user", "content": "Hi"}], max_new_tokens=2)


def cut_at_stop(text: str, stop: list[str] | None) -> tuple[str, bool]:
    """Cut `text` at the earliest stop string; return (text, whether a stop string was found)."""
    positions = [text.find(s) for s in (stop or []) if s and s in text]
    if not positions:
        return text, False
    return text[:min(positions)], True


_PIECE_END = re.compile(r"[.!?](?=\s)|\n")
REPEAT_MIN_WORDS = 4


def cut_at_repeat(text: str, min_words: int = REPEAT_MIN_WORDS) -> tuple[str, bool]:
    """(text up to where it starts repeating itself, whether it did): a sentence or line of at least
    `min_words` words identical (case and punctuation aside) to an earlier one. A small model at
    temperature 0 often loops ("The best date-night movie is a classic. The best date-night movie is
    a classic. ...") until its token budget runs out; the backends stop decoding there, so a loop
    costs one sentence, not the budget. Lines of JSON punctuation ("{", "},") are shorter than
    `min_words` and never count.

    >>> cut_at_repeat("A tense heist film. Clever, too. A tense heist film. A")
    ('A tense heist film. Clever, too.', True)
    >>> cut_at_repeat("Tense. Tense. Tense.")
    ('Tense. Tense. Tense.', False)
    """
    seen: set[str] = set()
    start = 0
    for mt in _PIECE_END.finditer(text):
        key = " ".join(re.findall(r"\w+", text[start:mt.end()].lower()))
        if len(key.split()) >= min_words:
            if key in seen:
                return text[:start].rstrip(), True
            seen.add(key)
        start = mt.end()
    return text, False


def cut_generated(text: str, stop: list[str] | None) -> tuple[str, str]:
    """Generated text cut at its first stop string, else where it starts repeating itself; with
    why: "stop", "repeat" or "" (neither, yet). The in-process backends call it as they decode."""
    text, stopped = cut_at_stop(text, stop)
    if stopped:
        return text, "stop"
    text, looped = cut_at_repeat(text)
    return text, "repeat" if looped else ""


def load_chat_tokenizer(source: str, label: str, **kwargs):
    """The Hugging Face tokenizer of `source` (a directory or hub id), which must have a chat template;
    LLMError naming `label` otherwise. The in-process backends render prompts with it."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise LLMError(f"Could not read the tokenizer for {label} ({exc}).") from exc
    if tokenizer.chat_template is None:
        raise LLMError(f"{label} has no chat template; use an instruction-tuned model.")
    return tokenizer


def render_chat_prompt(tokenizer, messages: list[dict[str, str]], assistant_prefix: str = "") -> str:
    """The model's own chat template with the assistant turn opened, then `assistant_prefix`: the same
    text for every in-process backend and for the training data."""
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + assistant_prefix
