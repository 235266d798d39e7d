"""Validation with the real agent loop: format-follow rate, tool-call rate and mean reward.

Each validation case runs through `MRRecAgent.run` — the app's loop, parser and budgets — with
the model under test, over the case's memory in the training store. Per case we record:

  format_ok  the model's own answer was accepted: produced within the search rounds (not after
             the loop's explicit "answer now" retry), not replaced by the deterministic fallback,
             and parsed without JSON repair (`FORMAT_BREAKING` notes). "missing </answer>" is not
             a fault: the loop stops generation on that string.
  tool_call  the model itself wrote a `<search>` (the loop's forced first search does not count).
  reward     0.1 * format_ok + 5 * R_rec + 0.1 * tool_call, R_rec = NDCG@100 + NDCG@1000 of the
             model's profile, counted only when format_ok — as in GRPO, where an answer that is not
             in the required format earns no R_rec. (`r_rec_any` keeps it for every answer the
             model wrote itself, repaired or not: what the app would actually use.)
  hit@100    whether the loop's final profile (fallback included: what the user would get) puts a
             ground-truth item in the catalog's top 100.

`ModelLLM` lets a model that is being trained (a peft model in memory) serve as the loop's LLM,
reusing `LocalLLM.continue_chat` so generation is identical to the app's.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from mrrec_chat.agent import events as ev
from mrrec_chat.agent.loop import AgentOptions, MRRecAgent, TurnContext
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_chat.llm.local import LocalLLM
from mrrec_lab.train.env import MemoryEnvironment
from mrrec_lab.train.rewards import recommendation_reward, total_reward

FORMAT_BREAKING = ("answer after explicit instruction", "JSON repaired", "missing braces", "plain text",
                   "recovered from broken JSON", "code fence", "without a profile", "model profile rejected",
                   "deterministic profile", "memory ids given as one string", "curly quotes")


class ModelLLM(LocalLLM):
    """`LocalLLM` around an already-loaded model and tokenizer (no loading, no merging)."""

    def __init__(self, model, tokenizer, name: str = "model-under-training"):  # noqa: D107 - see class
        self.model, self.tokenizer, self.name = model, tokenizer, name
        self.device = str(model.device)
        self.quantization, self.adapter = "as-loaded", None
        self._lock = threading.Lock()
        self.kv_reuse = False  # the weights change between validations: never reuse a kept KV cache


@dataclass
class CaseResult:
    case_id: str
    format_ok: bool
    tool_call: bool
    fallback: bool
    r_rec_any: float
    reward: float
    hit_at_100: bool
    seconds: float
    trace: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    n_cases: int
    format_follow_rate: float
    tool_call_rate: float
    fallback_rate: float
    mean_reward: float
    mean_r_rec: float
    mean_r_rec_any: float
    hit_rate_at_100: float
    seconds_per_case: float
    cases: list[CaseResult] = field(default_factory=list)

    def summary(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "cases"}


def case_reward(format_ok: bool, tool_call: bool, r_rec_any: float) -> float:
    """The GRPO reward of one validation case (R_rec only for an answer in the required format)."""
    return total_reward([float(format_ok)], [r_rec_any if format_ok else 0.0], [float(tool_call)])[0]


def run_case(agent: MRRecAgent, env: MemoryEnvironment, case: BenchmarkCase, options: AgentOptions) -> CaseResult:
    started = time.perf_counter()
    user = env.load(case)
    turn = ev.collect(agent.run(TurnContext(user, case.request), options))
    answer, tool_call = turn.answer, turn.model_searched
    trace: list[str] = []
    for event in sorted([*turn.steps, *turn.tool_calls], key=lambda e: (e.round, isinstance(e, ev.ToolCall))):
        if isinstance(event, ev.ToolCall):
            trace.append(f"search{' (forced)' if event.fallback else ''}: {'; '.join(event.queries)}")
        else:
            trace.append(f"step {event.round}: {event.thought[:200]!r} problems={event.problems}")
    assert answer is not None  # the loop always answers (fallback at worst)
    own = not answer.fallback
    format_ok = own and not any(key in problem for problem in answer.problems for key in FORMAT_BREAKING)
    ranks = env.ground_truth_ranks(answer.ideal_item_profile, case.ground_truth)
    r_rec_any = recommendation_reward([ranks])[0] if own else 0.0
    reward = case_reward(format_ok, tool_call, r_rec_any)
    trace.append(f"answer{' (fallback)' if answer.fallback else ''}: {answer.ideal_item_profile[:200]!r} "
                 f"ids={answer.useful_memory_ids[:3]} problems={answer.problems}")
    return CaseResult(case.case_id, format_ok, tool_call, answer.fallback, r_rec_any, reward,
                      bool(ranks) and min(ranks) <= 100, time.perf_counter() - started, trace)


def validate(llm, env: MemoryEnvironment, cases: list[BenchmarkCase], options: AgentOptions | None = None,
             desc: str = "validation") -> ValidationReport:
    """Run the real loop on `cases` with `llm`; greedy decoding unless `options` says otherwise."""
    options = options or AgentOptions()
    agent = MRRecAgent(llm, env.store, env.catalog)
    return summarize([run_case(agent, env, case, options) for case in tqdm(cases, desc=desc, leave=False)])


def summarize(results: list[CaseResult]) -> ValidationReport:
    n = max(1, len(results))

    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else 0.0

    return ValidationReport(
        n_cases=len(results),
        format_follow_rate=sum(r.format_ok for r in results) / n,
        tool_call_rate=sum(r.tool_call for r in results) / n,
        fallback_rate=sum(r.fallback for r in results) / n,
        mean_reward=mean([r.reward for r in results]),
        mean_r_rec=mean([r.r_rec_any if r.format_ok else 0.0 for r in results]),
        mean_r_rec_any=mean([r.r_rec_any for r in results]),
        hit_rate_at_100=sum(r.hit_at_100 for r in results) / n,
        seconds_per_case=mean([r.seconds for r in results]),
        cases=results)


def read_report(path: Path) -> ValidationReport:
    """A report written by `write_report`, re-summarised with the current definitions.

    Reports written before R_rec required the format (field `r_rec`) are read too.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    results = []
    for case in data["cases"]:
        r_rec_any = case.get("r_rec_any", case.get("r_rec", 0.0))
        results.append(CaseResult(
            case["case_id"], case["format_ok"], case["tool_call"], case["fallback"], r_rec_any,
            case_reward(case["format_ok"], case["tool_call"], r_rec_any), case["hit_at_100"], case["seconds"],
            case.get("trace", [])))
    return summarize(results)


def write_report(report: ValidationReport, path: Path, adapter_fingerprint: str = "") -> None:
    """`adapter_fingerprint` (llm.local.adapter_fingerprint) names the weights that were validated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {"adapter_fingerprint": adapter_fingerprint} if adapter_fingerprint else {}
    path.write_text(json.dumps({**head, "summary": report.summary(), "cases": [asdict(c) for c in report.cases]},
                               indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
