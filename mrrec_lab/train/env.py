"""The memory environment of training: the app's own store, prompts, search and catalog.

Every training stage talks to memory through this one class so that what the model sees while
learning is byte-for-byte what `MRRecAgent.run` shows it at run time: the same system prompt
with the request's global memory, the same `Request: ...` user prompt, the same top-k search
over the same Chroma store, rendered by the same `render_observation`. It wraps a started
`mrrec_chat.service.Assistant` (no LLM loaded) on a private memory directory and adds the two
things only training needs: loading a benchmark case's memory under a per-case user id, and the
catalog ranks of a case's ground truth for a profile (the reward's R_rec).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from mrrec_chat.agent.prompts import render_observation, system_prompt, user_prompt
from mrrec_chat.config import Settings
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_chat.memory.schema import LOCAL_LEVELS, RetrievedMemory
from mrrec_lab.train.data import case_memory_entries, case_user_id

log = logging.getLogger(__name__)


class MemoryEnvironment:
    """Per-case memory, prompts, memory search and catalog ranking (see module docstring)."""

    def __init__(self, assistant, *, top_k: int = 3, global_top_k: int = 3, user_prefix: str = "train"):
        self.assistant = assistant.start()
        self.dataset = self.assistant.dataset
        self.store = self.assistant.store
        self.catalog = self.assistant.catalog
        self.embedder = self.store.embedder
        self.top_k, self.global_top_k, self.user_prefix = top_k, global_top_k, user_prefix
        self._vectors: dict[str, np.ndarray] = {}
        self._loaded: set[str] = set()

    @classmethod
    def open(cls, dataset_dir: str | Path, memory_dir: str | Path, **kwargs) -> "MemoryEnvironment":
        """An environment over a MovieLens directory, with its own store under `memory_dir`."""
        from mrrec_chat.service import Assistant

        settings = Settings.from_env(dataset=str(dataset_dir), memory_dir=str(memory_dir))
        return cls(Assistant(settings, load_llm=False), **kwargs)

    def close(self) -> None:
        self.assistant.close()

    # --- case memory ---------------------------------------------------------------------------
    def user_id(self, case: BenchmarkCase) -> str:
        return case_user_id(case, self.user_prefix)

    def load(self, case: BenchmarkCase) -> str:
        """Write the case's memory to the store (once per process) and return its user id."""
        user = self.user_id(case)
        if user in self._loaded:
            return user
        self.store.delete_user(user)  # an interrupted earlier run may have left part of it
        entries = case_memory_entries(self.dataset, case, user)
        if entries:
            self.store.add(entries, embeddings=self.embed([e.text for e in entries]))
        self._loaded.add(user)
        return user

    def unload(self, case: BenchmarkCase) -> None:
        user = self.user_id(case)
        self.store.delete_user(user)
        self._loaded.discard(user)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for `texts`, cached by text (a seeker's memory repeats across cases)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            if len(self._vectors) > 200_000:
                self._vectors.clear()
            self._vectors.update(zip(missing, self.embedder.embed(missing)))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, self.embedder.dimension))

    # --- what the policy sees ------------------------------------------------------------------
    def messages(self, request: str) -> list[dict[str, str]]:
        """System + user messages exactly as `MRRecAgent.run` builds them for a first turn."""
        globals_ = self.store.search_global(request, self.global_top_k) if self.global_top_k > 0 else []
        return [{"role": "system", "content": system_prompt(globals_)},
                {"role": "user", "content": user_prompt(request)}]

    def search(self, user_id: str, queries: list[str]) -> list[RetrievedMemory]:
        """One tool call: top-k per query, merged in order without duplicates (as the loop does)."""
        observation: list[RetrievedMemory] = []
        seen: set[str] = set()
        for query in queries:
            for memory in self.store.search(user_id, query, self.top_k, levels=LOCAL_LEVELS):
                if memory.memory_id not in seen:
                    seen.add(memory.memory_id)
                    observation.append(memory)
        return observation

    @staticmethod
    def render(memories: list[RetrievedMemory]) -> str:
        return render_observation(memories)

    # --- reward ----------------------------------------------------------------------------
    def ground_truth_ranks(self, profile: str, ground_truth: list[str]) -> list[int]:
        """1-based ranks of the ground-truth items when `profile` retrieves from the whole catalog.

        No exclusion, like the evaluator's default (ReDial memory is interest, not consumption).
        Rank = 1 + the number of items scoring more than the item itself by over 1e-6 (the item's
        own score is recomputed from its row, which may differ from the matrix product in the
        last float32 bits).
        """
        query = self.embedder.embed_one(profile)
        scores = self.catalog.scores(query)
        ranks = []
        for item_id in ground_truth:
            vector = self.catalog.vector(item_id)
            if vector is not None:
                ranks.append(1 + int(np.sum(scores > float(vector @ query) + 1e-6)))
        return ranks
