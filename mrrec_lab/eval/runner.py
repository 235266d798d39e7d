"""Runs the compared systems over benchmark cases, resumably, and aggregates the results.

Flow: load the benchmark (ReDial dialogues + MovieLens, or generic JSONL cases), order the cases
by a seeded shuffle, start an Assistant on a private memory directory (its catalog and global
memory are the product's own), run the systems without an LLM on every case and the LLM systems
on the first `llm_limit` cases of the same order, append one JSON line per (system, case) to
`runs.jsonl` as it goes, then aggregate: Recall/NDCG with bootstrap CIs per slice (all, warm,
cold start, the LLM subset), paired differences against the best baseline, and costs.

`--resume` keeps every line whose system signature (model, options, depth, encoder, a digest of
the source code) still matches, so an interrupted or extended run only does what is missing. Each record is flushed as
it is written and the file is fsynced after every case, so a killed run (kill -9, a crashed
worker, a segfault in a native library) loses at most the case in progress; a last line cut
short by the kill is dropped when the run is resumed (tests/test_eval_resume.py).
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from mrrec_chat.config import Settings
from mrrec_chat.data.schema import Dataset
from mrrec_lab.eval.aggregate import _ci, _comparisons, _costs, _mean, _scores, _variant_comparisons, summarise  # noqa: F401 - re-exported
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_lab.eval.systems import LLM_VARIANTS, EvalContext, System, SystemResult, build_systems
from mrrec_chat.llm.base import LLMBackend

log = logging.getLogger(__name__)

RUNS_FILE = "runs.jsonl"


@dataclass
class Benchmark:
    name: str
    dataset: Dataset
    cases: list[BenchmarkCase]
    build_report: dict[str, Any] = field(default_factory=dict)


def load_benchmark(*, redial: str | None = None, movielens: str | None = None,
                   cases_jsonl: str | None = None) -> Benchmark:
    """ReDial dialogues graded on a MovieLens directory, or a generic JSONL cases directory."""
    if cases_jsonl:
        from mrrec_chat.data.jsonl import load_jsonl_dataset
        from mrrec_lab.eval.cases import load_jsonl_cases

        directory = Path(cases_jsonl)
        cases = load_jsonl_cases(directory)
        return Benchmark(directory.name, load_jsonl_dataset(directory), cases,
                         {"source": "jsonl", "cases": len(cases),
                          "cold_start_cases": sum(c.cold_start for c in cases)})
    if not (redial and movielens):
        raise ValueError("Pass --redial FILE and --movielens DIR (ReDial on MovieLens), or --cases-jsonl DIR.")
    from mrrec_chat.data.movielens import load_movielens_csv
    from mrrec_lab.eval.redial import build_redial_cases

    dataset = load_movielens_csv(Path(movielens))
    cases, report = build_redial_cases(Path(redial), dataset)
    return Benchmark(Path(redial).stem, dataset, cases, {"source": "redial", **report.to_dict()})


def restrict_to_seekers(benchmark: Benchmark, spec: str) -> Benchmark:
    """The benchmark with only the cases whose user is listed under KEY of the split JSON `spec`."""
    path, _, key = spec.partition(":")
    users = set(json.loads(Path(path).read_text(encoding="utf-8"))[key or "validation_seekers"])
    cases = [c for c in benchmark.cases if c.user_id in users]
    if not cases:
        raise ValueError(f"no case belongs to the {len(users)} users listed there")
    report = {**benchmark.build_report, "restricted_to": {"split": spec, "users": len(users), "cases": len(cases),
                                                          "of_cases": len(benchmark.cases)}}
    return replace(benchmark, cases=cases, build_report=report)


@dataclass
class EvalConfig:
    out_dir: Path
    systems: list[str]
    limit: int | None = None  # cases for every system (first N of the seeded order)
    llm_limit: int | None = None  # cases for LLM systems (first N of the same order)
    seed: int = 0
    resume: bool = False
    depth: int = 100
    exclude_memory: bool = False
    exclude_request_mentions: bool = False
    ks: tuple[int, ...] = (10, 50, 100)
    bootstrap: int = 1000
    run: bool = True  # False: only aggregate what runs.jsonl holds (--report-only)
    ablations_on_tuned: bool = False  # ablation variants run the tuned adapter (mrrec stays untuned)


def select_cases(cases: list[BenchmarkCase], seed: int, limit: int | None,
                 llm_limit: int | None) -> tuple[list[BenchmarkCase], list[BenchmarkCase]]:
    """(cases for all systems, cases for LLM systems): prefixes of one seeded shuffle, so the
    LLM subset is always inside the evaluated set and the same for every LLM system."""
    order = sorted(cases, key=lambda c: c.case_id)
    random.Random(seed).shuffle(order)
    evaluated = order[:limit] if limit is not None else order
    return evaluated, evaluated[:llm_limit] if llm_limit is not None else evaluated


class RunLog:
    """runs.jsonl: one line per finished (system, case), plus one per case-memory build."""

    def __init__(self, path: Path, resume: bool):
        self.path = path
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.memory_builds: dict[str, dict[str, Any]] = {}
        if resume and path.exists():
            _drop_partial_last_line(path)
            with path.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a damaged line: that case is redone
                    if isinstance(record, dict):
                        self._keep(record)
        elif path.exists():
            log.warning("%s exists and --resume was not given: starting it afresh.", path)
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")

    def _keep(self, record: dict[str, Any]) -> None:
        if record.get("kind") == "memory":
            self.memory_builds[record["case_id"]] = record
        elif "system" in record:
            self.records[(record["system"], record["case_id"])] = record

    def done(self, system: System, signature: str, case_id: str) -> bool:
        record = self.records.get((system.name, case_id))
        return record is not None and record.get("signature") == signature

    def append(self, record: dict[str, Any]) -> None:
        self._keep(record)
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()  # every finished run survives the process being killed

    def sync(self) -> None:
        """Make what was appended durable (called once per finished case)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self.sync()
        self._handle.close()


def _drop_partial_last_line(path: Path) -> None:
    """Cut a last line that has no newline (a write interrupted by a kill), so that the next
    record does not get glued onto it and lost with it."""
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        keep, position = 0, size
        while position > 0:  # find the last newline, reading backwards in blocks
            start = max(0, position - 65536)
            handle.seek(start)
            block = handle.read(position - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        log.warning("%s: dropping a last line cut short by an interrupted run (%d bytes)", path, size - keep)
        handle.truncate(keep)


LLMFactory = Callable[[str | None], Any]


class LazyLLM(LLMBackend):
    """Loads the model on first use, so a resumed run with nothing left to generate (or one
    that only re-summarises) never loads it."""

    def __init__(self, factory: LLMFactory, adapter: str | None):
        self._factory, self._adapter, self._llm = factory, adapter, None

    def continue_chat(self, messages, assistant_prefix="", **kwargs):
        if self._llm is None:
            self._llm = self._factory(self._adapter)
        return self._llm.continue_chat(messages, assistant_prefix, **kwargs)


def default_llm_factory(settings: Settings) -> LLMFactory:
    def make(adapter: str | None):
        from mrrec_chat.llm import build_llm

        llm = build_llm(settings.replace(llm_adapter=adapter or "none"))
        llm.warm_up()
        return llm
    return make


def resolve_tuned_adapter(settings: Settings) -> tuple[str | None, str]:
    """(adapter directory for mrrec-tuned, or None with the reason it is skipped)."""
    if settings.llm_backend not in ("local", "onnx"):
        return None, "LoRA adapters apply to the local and onnx backends only"
    if settings.llm_adapter not in ("auto", "none", ""):
        return settings.llm_adapter, ""
    from mrrec_chat.llm.local import auto_adapter, default_adapter_dir

    found = auto_adapter(settings.llm_model)
    if found:
        return str(found), ""
    return None, f"no adapter at {default_adapter_dir(settings.llm_model)} (train one, or pass --llm-adapter DIR)"


def run_evaluation(benchmark: Benchmark, config: EvalConfig, settings: Settings, *, embedder=None,
                   llm_factory: LLMFactory | None = None, progress: bool = True) -> dict[str, Any]:
    """Run and aggregate; writes runs.jsonl, results.json, results.md and the plots to out_dir."""
    from tqdm.auto import tqdm

    from mrrec_lab.eval import report
    from mrrec_chat.service import Assistant

    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    evaluated, llm_subset = select_cases(benchmark.cases, config.seed, config.limit, config.llm_limit)
    started = time.perf_counter()
    if settings.llm_threads:
        import torch

        # Process-wide: the encoder obeys it too. On a shared CPU, one thread per process avoids
        # the oversubscription that made decoding 10x slower here (see results analysis).
        torch.set_num_threads(settings.llm_threads)
    assistant = Assistant(settings, dataset=benchmark.dataset, embedder=embedder, load_llm=False).start()
    runlog = RunLog(out / RUNS_FILE, config.resume)
    try:
        ctx = EvalContext(assistant, depth=config.depth, exclude_memory=config.exclude_memory,
                          exclude_request_mentions=config.exclude_request_mentions,
                          max_behavior_records=settings.max_behavior_records, vector_cache=out / "cache")
        names, skipped, llms = _prepare_llms(config.systems, settings, llm_factory or default_llm_factory(settings),
                                             config.ablations_on_tuned)
        systems = build_systems(names, ctx, assistant.options(n_items=config.depth), **llms,
                                ablations_on_tuned=config.ablations_on_tuned)
        signatures = {s.name: s.signature(ctx) for s in systems}
        phases = [("systems without LLM", [s for s in systems if not s.uses_llm], evaluated),
                  ("LLM systems", [s for s in systems if s.uses_llm], llm_subset)]
        errors: dict[str, list[str]] = defaultdict(list)
        for title, phase_systems, phase_cases in phases if config.run else []:
            todo = [(case, [s for s in phase_systems if not runlog.done(s, signatures[s.name], case.case_id)])
                    for case in phase_cases]
            total = sum(len(t) for _, t in todo)
            if not total:
                continue
            needing_memory = [case for case, pending in todo if any(s.needs_case_memory for s in pending)]
            if needing_memory:
                log.info("Embedding the memory of %d cases (%s)", len(needing_memory), title)
                ctx.prepare(needing_memory)
            with tqdm(total=total, desc=title, unit="run", disable=not progress, file=sys.stderr) as bar:
                for case, pending in todo:
                    if pending:
                        _run_case(case, pending, ctx, runlog, signatures, errors, bar)
        results = summarise(benchmark, config, runlog, systems, signatures, evaluated, llm_subset, settings)
        results["skipped"] = skipped
        results["errors"] = {name: {"count": len(e), "examples": e[:3]} for name, e in errors.items()}
        results["wall_seconds"] = round(time.perf_counter() - started, 1)
        results["startup_seconds"] = {k: round(v, 2) for k, v in assistant.startup_seconds.items()}
    finally:
        runlog.close()
        assistant.close()
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report.write_markdown(results, out / "results.md")
    report.write_plots(results, out)
    return results


def local_label(settings: Settings, adapter: str | None) -> str:
    """The in-process model as it will run, e.g. `smollm2-135m[onnx-int8]` or `smollm2-135m[int4wo]`:
    `auto` quantization is resolved, so resumed rows never mix runs whose `auto` meant different kernels."""
    from mrrec_chat.llm.local import resolve_quantization

    if settings.llm_backend == "onnx":
        from mrrec_chat.llm.onnx_genai import onnx_bits

        return f"{settings.llm_model}[onnx-int{onnx_bits(settings.llm_quantization)}]"

    device = settings.llm_device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return f"{settings.llm_model}[{resolve_quantization(settings.llm_quantization, device, settings.llm_model, adapter)}]"


def _prepare_llms(names: list[str], settings: Settings, factory: LLMFactory,
                  ablations_on_tuned: bool = False) -> tuple[list[str], dict[str, str], dict]:
    """Load the LLMs the requested systems need; drop (with a reason) the ones that cannot run."""
    skipped: dict[str, str] = {}
    llms: dict[str, Any] = {}
    label = (local_label(settings, None) if settings.llm_backend in ("local", "onnx")
             else f"{settings.llm_model}@{settings.llm_base_url}")
    on_tuned = {n for n in names if n in LLM_VARIANTS and n != "mrrec" and (ablations_on_tuned or n == "mrrec-tuned")}
    if any(n in LLM_VARIANTS and n not in on_tuned for n in names):
        llms.update(llm=LazyLLM(factory, None), llm_label=label)
    if on_tuned:
        adapter, reason = resolve_tuned_adapter(settings)
        if adapter is None:
            for name in sorted(on_tuned):
                skipped[name] = reason
            log.warning("Skipping %s: %s", ", ".join(sorted(on_tuned)), reason)
        else:
            from mrrec_chat.llm.local import adapter_fingerprint

            # Labelled by content, not by directory: a retrained adapter of the same name never resumes
            # the old one's runs, and a renamed directory keeps its own.
            llms.update(tuned_llm=LazyLLM(factory, adapter),
                        tuned_label=f"{local_label(settings, adapter)}+lora@{adapter_fingerprint(adapter)}")
    return [n for n in names if n not in skipped], skipped, llms


def _run_case(case: BenchmarkCase, pending: list[System], ctx: EvalContext, runlog: RunLog,
              signatures: dict[str, str], errors: dict[str, list[str]], bar) -> None:
    loaded = False
    try:
        if any(s.needs_case_memory for s in pending):
            t0 = time.perf_counter()
            entries = ctx.load_case_memory(case)
            loaded = True
            runlog.append({"kind": "memory", "case_id": case.case_id, "entries": entries,
                           "seconds": round(time.perf_counter() - t0, 4)})
        for system in pending:
            bar.set_postfix_str(system.name, refresh=False)
            try:
                result = system.run(case, ctx)
            except Exception as exc:  # noqa: BLE001 - one failing case must not end a long run
                log.warning("%s failed on %s: %r", system.name, case.case_id, exc)
                errors[system.name].append(f"{case.case_id}: {exc!r}"[:300])
            else:
                runlog.append(_record(system, signatures[system.name], case, result))
            bar.update(1)
    finally:
        runlog.sync()
        if loaded:
            ctx.drop_case_memory(case)


def _record(system: System, signature: str, case: BenchmarkCase, result: SystemResult) -> dict[str, Any]:
    record = {"system": system.name, "signature": signature, "case_id": case.case_id}
    record.update(asdict(result))
    record["seconds"] = round(result.seconds, 4)
    return record
