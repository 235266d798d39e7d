"""GRPO rollouts in the app's tag protocol, with the memory tool's output masked from the loss.

Why not TRL's own tool support: TRL 1.16's GRPOTrainer runs tools (`tools=` / the experimental
`environment_factory=`) only through the chat template's function-calling format — it parses
`tool_calls` with the tokenizer's response schema and feeds results back as `tool`-role
messages, and it refuses a tokenizer whose template has no tool-calling support (SmolLM2's has
none). Our protocol is one assistant turn in which `<search>…</search>` is answered by an inline
`<memory>…</memory>` block and the same turn continues; TRL cannot express that. What TRL does
offer is the experimental `rollout_func`: we generate the turn ourselves and return the token
ids with an `env_mask` (0 on tool-output tokens), which the trainer multiplies into the loss
mask — exactly the paper's masking of retrieved memory. This module is that rollout function.

One rollout, for a prompt whose user message carries the case id (`CASE_KEY`):

1. sample a step (temperature 1.0) until `</search>`, `</answer>` or end of turn;
2. if the step searches (tolerant `parse_step`, as in the app) and rounds remain, append the
   observation `\\n<memory>…</memory>\\n` from the real store (env_mask 0) and go to 1;
3. otherwise stop. There is no forced "answer now" retry: a rollout that never answers gets
   R_format = 0 and R_rec = 0, which is the signal.

An answer the policy begins inside a step and that the step budget cuts mid-JSON is continued
up to `answer_tokens` in all, as the app's loop does (`AgentLoop._finish_own_answer`), so
training and the app judge the same answers: the format reward punishes run-ons that never
close, not answers the step budget happened to cut.

Extra fields returned per rollout (forwarded to the reward functions by TRL): `tool_calls`
(searches run), `ground_truth_ranks` (catalog ranks of the ground truth for the strictly parsed
profile; empty when the answer is not in the required format) and `n_relevant`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mrrec_chat.agent.loop import answer_was_cut
from mrrec_chat.agent.parser import parse_step
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_lab.train.env import MemoryEnvironment
from mrrec_lab.train.rewards import answer_json

log = logging.getLogger(__name__)

CASE_KEY = "mrrec_case"
STOP_STRINGS = ["</search>", "</answer>", "<memory>"]


def case_prompt(env: MemoryEnvironment, case: BenchmarkCase) -> list[dict[str, str]]:
    """The conversational prompt of a case, its user message tagged with the case id.

    Chat templates ignore unknown message keys, so the tag never reaches the model; it is how the
    rollout (which receives only prompts) finds the case's memory.
    """
    system, user = env.messages(case.request)
    return [{**system, CASE_KEY: ""}, {**user, CASE_KEY: case.case_id}]


@dataclass
class _Rollout:
    case: BenchmarkCase
    user_id: str
    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    env_mask: list[int] = field(default_factory=list)
    text: str = ""
    tool_calls: int = 0
    asked: set[str] = field(default_factory=set)
    done: bool = False
    cut_answer: bool = False
    """The last step began an answer whose JSON the step budget cut; it gets the answer budget."""


class MemoryToolRollout:
    """`rollout_func` for `trl.GRPOTrainer` (see module docstring)."""

    def __init__(self, env: MemoryEnvironment, cases: list[BenchmarkCase], tokenizer, *, max_rounds: int = 2,
                 step_tokens: int = 96, answer_tokens: int = 160, temperature: float = 1.0, top_p: float = 1.0,
                 log_path: Path | None = None):
        self.env, self.tokenizer, self.log_path = env, tokenizer, log_path
        self.cases = {c.case_id: c for c in cases}
        self.max_rounds, self.step_tokens, self.answer_tokens = max_rounds, step_tokens, answer_tokens
        self.temperature, self.top_p = temperature, top_p
        self.end_ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")} - {None}

    def __call__(self, prompts: list[list[dict[str, str]]], trainer) -> dict[str, list]:
        model = trainer.model
        rollouts = [self._start(prompt) for prompt in prompts]
        was_training = model.training
        model.eval()
        try:
            for round_no in range(1, self.max_rounds + 2):  # the last round can only answer
                active = [r for r in rollouts if not r.done]
                if not active:
                    break
                steps = self._generate(model, active)
                for rollout, step_ids in zip(active, steps):
                    self._advance(rollout, step_ids, allow_search=round_no <= self.max_rounds)
                self._finish_cut_answers(model, active)
        finally:
            model.train(was_training)
        ranks, relevant = [], []
        for rollout in rollouts:
            answer = answer_json(rollout.text)
            truth = rollout.case.ground_truth
            ranks.append(self.env.ground_truth_ranks(answer["ideal_item_profile"], truth) if answer else [])
            relevant.append(len(truth))
        if self.log_path is not None:  # every rollout, for reading what the policy actually wrote
            with self.log_path.open("a", encoding="utf-8") as handle:
                for rollout, rank in zip(rollouts, ranks):
                    handle.write(json.dumps({"step": trainer.state.global_step, "case_id": rollout.case.case_id,
                                             "tool_calls": rollout.tool_calls, "ranks": rank,
                                             "text": rollout.text}, ensure_ascii=False) + "\n")
        return {"prompt_ids": [r.prompt_ids for r in rollouts],
                "completion_ids": [r.completion_ids for r in rollouts],
                "logprobs": None,  # only used for vLLM importance sampling, which we do not use
                "env_mask": [r.env_mask for r in rollouts],
                "tool_calls": [r.tool_calls for r in rollouts],
                "ground_truth_ranks": ranks, "n_relevant": relevant}

    # --- steps -----------------------------------------------------------------------------
    def _start(self, prompt: list[dict[str, str]]) -> _Rollout:
        case_id = next((m.get(CASE_KEY) for m in prompt if m.get(CASE_KEY)), None)
        if case_id not in self.cases:
            raise KeyError(f"Prompt without a known {CASE_KEY!r}; build prompts with rollout.case_prompt().")
        case = self.cases[case_id]
        messages = [{"role": m["role"], "content": m["content"]} for m in prompt]
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return _Rollout(case, self.env.load(case), self.tokenizer.encode(text, add_special_tokens=False))

    def _generate(self, model, rollouts: list[_Rollout], max_new_tokens: int | None = None) -> list[list[int]]:
        """One sampled step for each rollout (left-padded batch), cut after its stop string or end token."""
        pad = self.tokenizer.pad_token_id
        contexts = [r.prompt_ids + r.completion_ids for r in rollouts]
        width = max(len(c) for c in contexts)
        input_ids = torch.tensor([[pad] * (width - len(c)) + c for c in contexts], device=model.device)
        attention = torch.tensor([[0] * (width - len(c)) + [1] * len(c) for c in contexts], device=model.device)
        with torch.no_grad():
            output = model.generate(input_ids=input_ids, attention_mask=attention, do_sample=True,
                                    temperature=self.temperature, top_p=self.top_p, top_k=0,
                                    max_new_tokens=max_new_tokens or self.step_tokens, stop_strings=STOP_STRINGS,
                                    tokenizer=self.tokenizer, pad_token_id=pad)
        return [self._cut(row[width:].tolist()) for row in output]

    def _cut(self, ids: list[int]) -> list[int]:
        """Tokens up to and including the one that ends the turn or completes a stop string.

        One left-to-right pass: a row that stopped early is padded with the pad token, which can
        equal the end token, so the stop string must be found before any later "end" token.
        """
        for n, token in enumerate(ids):
            if token in self.end_ids:
                return ids[:n + 1]
            piece = self.tokenizer.decode(ids[max(0, n - 8):n + 1])
            if ">" in piece and any(stop in self.tokenizer.decode(ids[:n + 1]) for stop in STOP_STRINGS):
                return ids[:n + 1]
        return ids

    def _advance(self, rollout: _Rollout, step_ids: list[int], allow_search: bool) -> None:
        step_text = self.tokenizer.decode(step_ids, skip_special_tokens=True)
        rollout.completion_ids += step_ids
        rollout.env_mask += [1] * len(step_ids)
        rollout.text += step_text
        ended = bool(step_ids) and step_ids[-1] in self.end_ids
        step = parse_step(step_text)
        rollout.cut_answer = not ended and len(step_ids) >= self.step_tokens and answer_was_cut(step_text)
        queries = [q for q in step.queries if q.lower() not in rollout.asked] if step.action == "search" else []
        if ended or step.action != "search" or not queries or not allow_search:
            rollout.done = True
            return
        rollout.asked.update(q.lower() for q in queries)
        rollout.tool_calls += 1
        observation = "\n" + self.env.render(self.env.search(rollout.user_id, queries))
        observation_ids = self.tokenizer.encode(observation, add_special_tokens=False)
        rollout.completion_ids += observation_ids
        rollout.env_mask += [0] * len(observation_ids)
        rollout.text += observation

    def _finish_cut_answers(self, model, rollouts: list[_Rollout]) -> None:
        """Continue each answer the step budget cut mid-JSON, up to `answer_tokens` for the step."""
        cut = [r for r in rollouts if r.cut_answer]
        budget = self.answer_tokens - self.step_tokens
        if not cut or budget <= 0:
            return
        for rollout, more_ids in zip(cut, self._generate(model, cut, budget)):
            rollout.completion_ids += more_ids
            rollout.env_mask += [1] * len(more_ids)  # the policy's own tokens: trained on
            rollout.text += self.tokenizer.decode(more_ids, skip_special_tokens=True)
            rollout.cut_answer = False
