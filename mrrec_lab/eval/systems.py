"""The systems the benchmark compares: the paper's baselines, MR.Rec, and MR.Rec's ablations.

Every system maps a `BenchmarkCase` to a ranked list of catalog item ids (at least `depth`,
default 100, when the catalog allows) over the same catalog the Assistant grounds to, and
reports its cost: memory tokens put into the query or prompt, LLM calls, generated tokens and
wall seconds. Memory tokens are counted with one tokenizer-free rule for every system
(`count_tokens_rough`, ~4 characters per token), so the figures compare across systems and LLMs.

Baselines (paper §4, with our encoder all-MiniLM-L6-v2 instead of BLAIR/Qwen3-Embedding):
  popularity            global interaction count in the catalog's dataset, the same list for all
  bm25                  BM25 (bm25s) over item text, the request as the query
  dense-no-memory       the request embedded, nearest items
  dense-naive-memory    request + the user's last 10 memory interactions rendered as text
  dense-static-memory   request + a static profile (builders.user_profile over the memory)
  dense-pop             the strong simple reference: request embedding + 0.05·log(1 + rating count)
Diagnostic (not a baseline in comparisons):
  remembered-likes      liked memory items, most recent first, then popularity; ignores the request
MR.Rec:
  mrrec-nollm           no LLM: the user's top-k memories for the request -> deterministic profile
  mrrec-nollm-no-chat   the same without chat-level memory (statements), dataset levels only
  hybrid                the product's recommendation step without the LLM: request understanding,
                        turn policy, fused ranker (mrrec_chat/recommend) over the case's memory
  hybrid-no-memory      the same with memory's soft signals removed (liked-item seeds, genre taste)
  mrrec                 the agent with the real LLM (global + local memory, several rounds)
  mrrec-no-global, mrrec-no-local, mrrec-behavior, mrrec-pattern, mrrec-profile, mrrec-chat,
  mrrec-single-round    ablations, each one AgentOptions setting
  mrrec-tuned           the same agent with the fine-tuned LoRA adapter (skipped when absent)

Case memory: a case's memory (its `memory_interactions` through `build_user_memory`, and its
`memory_statements` as chat-level entries) is written to the store under a per-case user id
`eval-<case_id>`, so no two cases ever share memory, and deleted when the case is done.

Exclusion: by default nothing is excluded. ReDial memory records what a seeker mentioned or
liked in earlier dialogues, often suggestions not yet seen, not consumption, and 315 dev cases
have ground truth in earlier memory (mrrec_lab/eval/PROTOCOL.md); excluding remembered items
would make those cases unwinnable. `exclude_memory=True` applies consumption-style exclusion to
every system alike, for datasets whose memory is consumption. `exclude_request_mentions=True`
removes titles named in the request (off by default; the effect is reported in analysis.md).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mrrec_chat.agent import events as ev
from mrrec_chat.agent.loop import AgentOptions, MRRecAgent, TurnContext, fallback_profile
from mrrec_chat.agent.prompts import render_observation
from mrrec_chat.data.schema import Dataset
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_chat.memory.builders import behavior_records, build_user_memory, count_tokens_rough, user_profile
from mrrec_chat.memory.schema import LOCAL_LEVELS, MemoryEntry, id_segment, make_memory_id

log = logging.getLogger(__name__)

NAIVE_MEMORY_INTERACTIONS = 10  # the paper's "last 10 interactions"

BASELINES = ("popularity", "bm25", "dense-no-memory", "dense-naive-memory", "dense-static-memory", "dense-pop")
DIAGNOSTICS = ("remembered-likes",)  # not the paper's: probes what the benchmark rewards
NO_LLM_SYSTEMS = (*BASELINES, *DIAGNOSTICS, "mrrec-nollm", "mrrec-nollm-no-chat", "hybrid", "hybrid-no-memory")
# name -> AgentOptions overrides; the ablations of the paper's §4 plus our chat level alone.
LLM_VARIANTS: dict[str, dict[str, Any]] = {
    "mrrec": {},
    "mrrec-no-global": {"use_global": False},
    "mrrec-no-local": {"local_levels": ()},
    "mrrec-behavior": {"local_levels": ("behavior",)},
    "mrrec-pattern": {"local_levels": ("pattern",)},
    "mrrec-profile": {"local_levels": ("profile",)},
    "mrrec-chat": {"local_levels": ("chat",)},
    "mrrec-single-round": {"max_rounds": 1},
    "mrrec-tuned": {},
}
ALL_SYSTEMS = (*NO_LLM_SYSTEMS, *LLM_VARIANTS)


@dataclass
class SystemResult:
    """One system's answer to one case."""

    ranked: list[str]
    memory_tokens: int = 0
    llm_calls: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


class EvalContext:
    """What all systems share: the dataset, the Assistant's store and catalog, case memory.

    `assistant` is a started `mrrec_chat.service.Assistant` (its store holds the global memory,
    its catalog the item vectors). Entry embeddings are cached here by text, because a seeker's
    memory grows dialogue by dialogue and most of it repeats across their cases.
    """

    def __init__(self, assistant, *, depth: int = 100, exclude_memory: bool = False,
                 exclude_request_mentions: bool = False, max_behavior_records: int = 200,
                 vector_cache: Path | None = None):
        self.assistant = assistant
        self.dataset: Dataset = assistant.dataset
        self.store = assistant.store
        self.catalog = assistant.catalog
        self.embedder = assistant.store.embedder
        self.depth = min(depth, len(self.catalog.item_ids))
        self.exclude_memory = exclude_memory
        self.exclude_request_mentions = exclude_request_mentions
        self.max_behavior_records = max_behavior_records
        self._vectors: dict[str, np.ndarray] = {}
        # Memory-text vectors persist between runs (embedding them is most of a no-LLM pass).
        self.vector_cache = Path(vector_cache) / f"memory-vectors-{self.embedder.fingerprint}" \
            if vector_cache else None
        self._load_vectors()

    @staticmethod
    def user_id(case: BenchmarkCase) -> str:
        return "eval-" + id_segment(case.case_id)[:100]

    def exclusions(self, case: BenchmarkCase) -> set[str]:
        excluded = {i.item_id for i in case.memory_interactions} if self.exclude_memory else set()
        if self.exclude_request_mentions:
            # Titles the user names as examples ("like Heat") are known to them, and ReDial's
            # ground truth drops them, so ranking them is a sure miss for every system.
            excluded.update(self.assistant.titles.find_mentions(case.request))
        return excluded

    def case_entries(self, case: BenchmarkCase) -> list[MemoryEntry]:
        """The case's local memory: builder levels over its interactions, plus its statements."""
        user = self.user_id(case)
        # One behavior record per item (its id is per user and item): a seeker who discussed a
        # film in several dialogues keeps their latest opinion of it.
        latest_opinion = {i.item_id: i for i in sorted(case.memory_interactions, key=lambda i: i.timestamp)}
        history = [dataclasses.replace(i, user_id=user) for i in latest_opinion.values()]
        entries = build_user_memory(self.dataset, user, history, max_records=self.max_behavior_records) \
            if history else []
        # A seeker repeats themselves across dialogues; keep the latest copy of each statement so
        # duplicates do not fill the top-k.
        latest = {text.strip(): n for n, text in enumerate(case.memory_statements) if text.strip()}
        for text, n in sorted(latest.items(), key=lambda kv: kv[1]):
            entries.append(MemoryEntry(
                memory_id=make_memory_id("chat", self.dataset.name, user, f"s{n}"), level="chat",
                text=text, user_id=user, source="benchmark-statement", created_at=float(n),
                extra={"kind": "statement", "polarity": "neutral"}))
        return entries

    def prepare(self, cases: list[BenchmarkCase]) -> int:
        """Embed every memory text of `cases` in one pass (the encoder batches by length, and
        most texts repeat across a seeker's cases); returns the number of distinct texts."""
        texts = list(dict.fromkeys(e.text for case in cases for e in self.case_entries(case)))
        known = len(self._vectors)
        self._embed(texts, show_progress=True)
        if len(self._vectors) > known:
            self._save_vectors()
        return len(texts)

    def _load_vectors(self) -> None:
        if self.vector_cache is None or not (self.vector_cache / "texts.json").exists():
            return
        try:
            texts = json.loads((self.vector_cache / "texts.json").read_text(encoding="utf-8"))
            matrix = np.load(self.vector_cache / "vectors.npy")
        except (OSError, ValueError) as exc:  # a damaged cache only costs re-embedding
            log.warning("Ignoring the memory-vector cache at %s (%s).", self.vector_cache, exc)
            return
        if len(texts) == len(matrix):
            self._vectors.update(zip(texts, matrix))

    def _save_vectors(self) -> None:
        if self.vector_cache is None:
            return
        self.vector_cache.mkdir(parents=True, exist_ok=True)
        texts = list(self._vectors)
        np.save(self.vector_cache / "vectors.npy", np.stack([self._vectors[t] for t in texts]))
        (self.vector_cache / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")

    def load_case_memory(self, case: BenchmarkCase) -> int:
        """(Re)write the case's memory to the store; returns the number of entries."""
        user = self.user_id(case)
        self.store.delete_user(user)  # a crashed earlier run may have left part of it
        entries = self.case_entries(case)
        if entries:
            self.store.add(entries, embeddings=self._embed([e.text for e in entries]))
        return len(entries)

    def drop_case_memory(self, case: BenchmarkCase) -> None:
        self.store.delete_user(self.user_id(case))

    def _embed(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            if len(self._vectors) > 200_000:
                self._vectors.clear()  # bound memory on very large benchmarks
            show_progress = show_progress and len(missing) > 500
            try:
                vectors = self.embedder.embed(missing, show_progress=show_progress)
            except KeyError:
                # Embedder.embed loses earlier-cached texts when its cache overflows mid-call
                # (reported to the lead); the retry finds them missing and embeds them again.
                vectors = self.embedder.embed(missing, show_progress=show_progress)
            self._vectors.update(zip(missing, vectors))
        return np.stack([self._vectors[t] for t in texts])

    def plan(self, case: BenchmarkCase, with_memory: bool = True):
        """The product's turn policy for the case, over the case's memory entries (the same
        entries `load_case_memory` writes to the store; the policy reads no embeddings)."""
        recommender = self.assistant.recommender
        request = recommender.understand(case.request, self.assistant.extract_statements(case.request))
        memory = [e for e in self.case_entries(case) if e.level in ("behavior", "chat")] if with_memory else []
        # every memory entry is from an earlier conversation: "not in the mood for horror" said
        # there no longer refuses (plan_turn's MOMENTARY_SECONDS), whenever the benchmark runs
        return recommender.plan(request, memory, consumed=self.exclusions(case), rated_is_consumed=self.exclude_memory,
                                now=float("inf"))

    def rank_vector(self, vector: np.ndarray, case: BenchmarkCase) -> list[str]:
        return [s.item.item_id for s in self.catalog.rank(vector, self.depth, exclude=self.exclusions(case))]


class System(ABC):
    """One compared system. `signature` changes whenever its results would (used by --resume)."""

    name: str = ""
    uses_llm: bool = False
    needs_case_memory: bool = False  # reads the case's memory from the store
    description: str = ""

    def signature(self, ctx: EvalContext) -> str:
        return (f"{self.name}|depth={ctx.depth}|exclude={ctx.exclude_memory}|"
                f"mentions={ctx.exclude_request_mentions}|emb={ctx.embedder.fingerprint}|code={code_digest()}")

    def run(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        started = time.perf_counter()
        result = self.rank(case, ctx)
        result.seconds = time.perf_counter() - started
        return result

    @abstractmethod
    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult: ...


class Popularity(System):
    name, description = "popularity", "most-rated items first (same list for every case)"

    def __init__(self, ctx: EvalContext):
        popularity = ctx.dataset.popularity
        self.order = sorted(ctx.catalog.item_ids, key=lambda i: (-popularity.get(i, 0), i))

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        excluded = ctx.exclusions(case)
        return SystemResult([i for i in self.order if i not in excluded][:ctx.depth])


class RememberedLikes(System):
    """Diagnostic: the items the user liked in memory (most recent first), then popularity.

    No request, no model. On ReDial it measures how much of the score is re-surfacing what the
    seeker already named in earlier dialogues (see PROTOCOL.md's caveat)."""

    name = "remembered-likes"
    description = "diagnostic: liked memory items, most recent first, then popularity (ignores the request)"

    def __init__(self, ctx: EvalContext):
        self.popular = Popularity(ctx)
        self.like_at = ctx.dataset.rating_scale[1] * 0.8

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        excluded = ctx.exclusions(case)
        liked = [i.item_id for i in sorted(case.memory_interactions, key=lambda i: -i.timestamp)
                 if i.rating >= self.like_at and i.item_id in ctx.dataset.items]
        ranked = [i for i in dict.fromkeys(liked + self.popular.order) if i not in excluded]
        return SystemResult(ranked[:ctx.depth])


class BM25(System):
    name, description = "bm25", "BM25 (bm25s) over item text; ties and empty queries by popularity"

    def __init__(self, ctx: EvalContext):
        import bm25s

        self._bm25s = bm25s
        self.item_ids = list(ctx.catalog.item_ids)
        corpus = [ctx.dataset.items[i].text for i in self.item_ids]
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
        popularity = ctx.dataset.popularity
        self.popularity = np.array([popularity.get(i, 0) for i in self.item_ids], dtype=np.float64)

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        tokens = self._bm25s.tokenize([case.request], stopwords="en", return_ids=False, show_progress=False)[0]
        scores = self.retriever.get_scores(tokens) if tokens else np.zeros(len(self.item_ids))
        # Most items score 0 for a short query: break ties by popularity, never by id order.
        order = np.lexsort((-self.popularity, -np.asarray(scores, dtype=np.float64)))
        excluded = ctx.exclusions(case)
        ranked = [self.item_ids[n] for n in order[:ctx.depth + len(excluded)] if self.item_ids[n] not in excluded]
        return SystemResult(ranked[:ctx.depth])


class Dense(System):
    """The request, optionally with memory text appended, embedded and matched to item text."""

    def __init__(self, memory: str):
        if memory not in ("none", "naive", "static"):
            raise ValueError(f"Unknown dense memory setting {memory!r}: none, naive or static.")
        self.memory = memory
        self.name = f"dense-{memory}-memory" if memory != "none" else "dense-no-memory"
        self.description = {
            "none": "request only, embedded",
            "naive": f"request + last {NAIVE_MEMORY_INTERACTIONS} memory interactions as text, embedded",
            "static": "request + static profile (builders.user_profile over the memory), embedded",
        }[memory]

    def memory_text(self, case: BenchmarkCase, ctx: EvalContext) -> str:
        history = sorted(case.memory_interactions, key=lambda i: i.timestamp)  # stable within a dialogue
        if not history or self.memory == "none":
            return ""
        if self.memory == "naive":
            records = behavior_records(ctx.dataset, case.user_id, history[-NAIVE_MEMORY_INTERACTIONS:])
            return "Recent interactions: " + " ".join(r.text for r in records)
        return " ".join(e.text for e in user_profile(ctx.dataset, case.user_id, history))

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        memory = self.memory_text(case, ctx)
        # The request goes first: the encoder truncates long inputs (256 word pieces for MiniLM).
        query = f"{case.request}\n{memory}" if memory else case.request
        ranked = ctx.rank_vector(ctx.embedder.embed_one(query), case)
        return SystemResult(ranked, memory_tokens=count_tokens_rough(memory) if memory else 0)


class DensePop(System):
    """The strong simple reference: request embedding + 0.05·log(1 + the item's rating count)."""

    name, description = "dense-pop", "request embedded + 0.05·log(1 + rating count) (reference)"

    def __init__(self, ctx: EvalContext):
        popularity = ctx.dataset.popularity
        self.prior = 0.05 * np.log1p(np.array([popularity.get(i, 0) for i in ctx.catalog.item_ids], dtype=np.float32))

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        scores = ctx.catalog.scores(ctx.embedder.embed_one(case.request)) + self.prior
        scores[ctx.catalog.rows(ctx.exclusions(case))] = -np.inf
        order = np.argsort(-scores, kind="stable")[:ctx.depth]
        return SystemResult([ctx.catalog.item_ids[n] for n in order if np.isfinite(scores[n])])


_CODE_DIGEST: list[str] = []


def code_digest() -> str:
    """A short digest of the product's and the evaluator's source (mrrec_chat/, mrrec_lab/eval/): a
    change to request understanding or ranking changes results, so `--resume` must not keep runs
    of other code (before, a resumed run could mix two versions under one table)."""
    if not _CODE_DIGEST:
        import hashlib

        root = Path(__file__).resolve().parents[2]
        digest = hashlib.sha1()
        for path in sorted([*(root / "mrrec_chat").rglob("*.py"), *(root / "mrrec_lab" / "eval").rglob("*.py"),
                            *(root / "mrrec_chat").rglob("*.json")]):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
        _CODE_DIGEST.append(digest.hexdigest()[:12])
    return _CODE_DIGEST[0]


def fusion_digest(ctx: EvalContext) -> str:
    """A short digest of the ranker's fusion (linear weights and trees): a refit changes every
    result of the systems that rank with it, so `--resume` must not mix runs across fits."""
    import hashlib
    import json

    recommender = ctx.assistant.recommender
    rankers = [recommender.ranker, getattr(recommender, "consumed_ranker", recommender.ranker)]  # mentions, consumption
    blob = json.dumps([[sorted((k, round(v, 6)) for k, v in r.weights.items()), r.trees] for r in rankers],
                      sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


class Hybrid(System):
    """The product's recommendation step (mrrec_chat/recommend) with no LLM."""

    def __init__(self, with_memory: bool = True):
        self.with_memory = with_memory
        self.name = "hybrid" if with_memory else "hybrid-no-memory"
        self.description = ("request understanding + turn policy + fused ranker (no LLM)"
                            + ("" if with_memory else ", memory's soft signals off"))

    def signature(self, ctx: EvalContext) -> str:
        return f"{super().signature(ctx)}|fusion={fusion_digest(ctx)}"

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        policy = ctx.plan(case, self.with_memory)
        ranked = ctx.assistant.recommender.rank(policy, ctx.embedder.embed_one(case.request), ctx.depth)
        return SystemResult([r.item.item_id for r in ranked],
                            details={"constraints": policy.request.describe(), "relaxed": list(ranked[0].relaxed)
                                     if ranked else []})


class MRRecNoLLM(System):
    """MR.Rec's memory path without the LLM: one memory search with the request, then the
    agent's deterministic `fallback_profile`. Separates what memory adds from what the LLM adds."""

    needs_case_memory = True

    def __init__(self, top_k: int = 3, levels: tuple[str, ...] = LOCAL_LEVELS, name: str = "mrrec-nollm"):
        self.top_k, self.levels, self.name = top_k, levels, name
        self.description = (f"top-{top_k} local memories ({'/'.join(levels)}) for the request -> "
                            "deterministic profile (no LLM)")

    def signature(self, ctx: EvalContext) -> str:
        return f"{super().signature(ctx)}|k={self.top_k}|levels={','.join(self.levels)}"

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        found = ctx.store.search(ctx.user_id(case), case.request, self.top_k, levels=self.levels) \
            if self.levels and self.top_k > 0 else []
        profile = fallback_profile(case.request, found)
        ranked = ctx.rank_vector(ctx.embedder.embed_one(profile), case)
        return SystemResult(ranked, memory_tokens=count_tokens_rough(render_observation(found)) if found else 0,
                            details={"profile": profile[:600], "memory_ids": [m.memory_id for m in found]})


class MRRec(System):
    """The MR.Rec agent (agent/loop.py) with an LLM; `overrides` are the ablation's AgentOptions."""

    uses_llm, needs_case_memory = True, True

    def __init__(self, name: str, llm, options: AgentOptions, llm_label: str):
        self.name, self.llm, self.options, self.llm_label = name, llm, options, llm_label
        self.description = f"MR.Rec agent, LLM {llm_label}" + (
            f", {_describe(LLM_VARIANTS.get(name, {}))}" if LLM_VARIANTS.get(name) else "")

    def signature(self, ctx: EvalContext) -> str:
        o = self.options
        return (f"{super().signature(ctx)}|fusion={fusion_digest(ctx)}|llm={self.llm_label}|k={o.top_k}|g={o.global_top_k}|"
                f"rounds={o.max_rounds}|global={o.use_global}|levels={','.join(o.local_levels)}|"
                f"tokens={o.max_new_tokens}/{o.answer_max_new_tokens}|t={o.temperature}")

    def rank(self, case: BenchmarkCase, ctx: EvalContext) -> SystemResult:
        agent = MRRecAgent(self.llm, ctx.store, ctx.catalog, count_tokens=count_tokens_rough,
                           recommender=ctx.assistant.recommender)
        policy = ctx.plan(case)
        turn = TurnContext(ctx.user_id(case), case.request, [], set(policy.exclude), set(policy.refused),
                           policy=policy)
        turn_result = ev.collect(agent.run(turn, dataclasses.replace(self.options, n_items=ctx.depth)))
        answer, stats = turn_result.answer, turn_result.stats
        items = [r.item.item_id for r in turn_result.items]
        tool_calls = len(turn_result.tool_calls)
        forced = sum(call.fallback for call in turn_result.tool_calls)
        details = {"tool_calls": tool_calls, "forced_search": forced,
                   "seconds_llm": round(stats.seconds_llm, 3), "prompt_tokens": stats.prompt_tokens}
        if answer is not None:
            details.update(profile=answer.ideal_item_profile[:600], fallback=answer.fallback,
                           memory_ids=answer.useful_memory_ids[:10], problems=answer.problems[:5])
        return SystemResult(items, memory_tokens=stats.memory_tokens, llm_calls=stats.llm_calls,
                            generated_tokens=stats.generated_tokens, details=details)


def _describe(overrides: dict[str, Any]) -> str:
    def show(value: Any) -> str:
        return ("/".join(value) or "none") if isinstance(value, tuple) else str(value)
    return ", ".join(f"{key}={show(value)}" for key, value in overrides.items())


def build_systems(names: list[str], ctx: EvalContext, base_options: AgentOptions, *,
                  llm=None, llm_label: str = "", tuned_llm=None, tuned_label: str = "",
                  ablations_on_tuned: bool = False) -> list[System]:
    """Systems by name, in the given order. LLM systems need `llm` (and `tuned_llm` for
    mrrec-tuned); the caller decides which to skip when an LLM is unavailable.
    `ablations_on_tuned`: the ablation variants (all but `mrrec`) run the tuned policy, as the
    paper's ablations do; `mrrec` stays the untuned reference."""
    unknown = [n for n in names if n not in ALL_SYSTEMS]
    if unknown:
        raise ValueError(f"Unknown system(s) {unknown}. Known: {', '.join(ALL_SYSTEMS)}.")
    systems: list[System] = []
    for name in names:
        if name == "popularity":
            systems.append(Popularity(ctx))
        elif name == "dense-pop":
            systems.append(DensePop(ctx))
        elif name in ("hybrid", "hybrid-no-memory"):
            systems.append(Hybrid(name == "hybrid"))
        elif name == "remembered-likes":
            systems.append(RememberedLikes(ctx))
        elif name == "bm25":
            systems.append(BM25(ctx))
        elif name.startswith("dense-"):  # dense-pop is handled above
            systems.append(Dense({"dense-no-memory": "none", "dense-naive-memory": "naive",
                                  "dense-static-memory": "static"}[name]))
        elif name == "mrrec-nollm":
            systems.append(MRRecNoLLM(base_options.top_k))
        elif name == "mrrec-nollm-no-chat":
            # Without chat-level memory: for ReDial, the seeker's earlier utterances, which are
            # phrased like requests and so win request-similarity retrieval.
            systems.append(MRRecNoLLM(base_options.top_k, ("behavior", "pattern", "profile"), name))
        elif name == "mrrec-tuned":
            if tuned_llm is None:
                raise ValueError("mrrec-tuned needs the tuned LLM (an adapter).")
            systems.append(MRRec(name, tuned_llm, base_options, tuned_label))
        else:
            policy, label = (tuned_llm, tuned_label) if ablations_on_tuned and name != "mrrec" else (llm, llm_label)
            if policy is None:
                raise ValueError(f"{name} needs an LLM.")
            systems.append(MRRec(name, policy, dataclasses.replace(base_options, **LLM_VARIANTS[name]), label))
    return systems
