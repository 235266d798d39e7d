"""Tests for the evaluator (mrrec_lab.eval systems, runner, report, CLI); self-contained.

A tiny JSONL catalog and benchmark cases are written to a temporary directory; the real
embedder is used; the LLM systems run on a scripted fake LLM (no model is loaded), which checks
the plumbing of the agent path, not any model's quality. No expected metric value is hard-coded
except where the tiny data makes it certain by construction.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mrrec_chat.config import Settings
from mrrec_lab.eval.__main__ import build_parser, main
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_lab.eval.runner import (RUNS_FILE, EvalConfig, load_benchmark, resolve_tuned_adapter,
                                    restrict_to_seekers, run_evaluation, select_cases)
from mrrec_lab.eval.systems import NO_LLM_SYSTEMS, EvalContext, build_systems
from mrrec_chat.llm.base import Completion, LLMBackend
from mrrec_chat.llm.local import adapter_fingerprint

GENRES = ["Comedy", "Horror", "Drama", "Sci-Fi", "Romance", "Western"]
WORDS = ["River", "Night", "Stone", "Echo", "Harbor", "Signal", "Orchard", "Lantern", "Mirror", "Falcon"]
N_ITEMS = 120
DEPTH = 100


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny-bench")
    items = []
    for n in range(N_ITEMS):
        genre = GENRES[n % len(GENRES)]
        title = f"The {WORDS[n % len(WORDS)]} {WORDS[(n // len(WORDS)) % len(WORDS)]} {n}"
        items.append({"item_id": f"m{n}", "title": title, "categories": [genre], "year": 1960 + n % 60,
                      "tags": [f"{genre.lower()} classic"] if n % 3 == 0 else []})
    # One distinctive item that BM25 and the encoder must find from its own words.
    items.append({"item_id": "zebra", "title": "Zebra Crossing Marathon", "categories": ["Comedy"],
                  "year": 1999, "tags": ["zebra", "marathon"]})
    _write_jsonl(directory / "items.jsonl", items)
    interactions = []
    for u in range(4):
        for n in range(u, 60, 4):
            interactions.append({"user_id": f"u{u}", "item_id": f"m{n}", "rating": 5 if n % 6 == u % 6 else 2,
                                 "timestamp": 1000 + n, "review": "great fun" if n % 5 == 0 else ""})
    _write_jsonl(directory / "interactions.jsonl", interactions)
    requests = [
        {"case_id": "c1", "user_id": "u0", "request": "A silly comedy for tonight", "ground_truth": ["m0", "m6"],
         "timestamp": 1030, "memory_statements": ["I love comedies", "I can't stand horror"]},
        {"case_id": "c2", "user_id": "u1", "request": "Something scary", "ground_truth": ["m1"], "timestamp": 1050},
        {"case_id": "c3", "user_id": "u2", "request": "a zebra marathon film", "ground_truth": ["zebra"],
         "timestamp": 1059},
        {"case_id": "c4", "user_id": "u3", "request": "A western with horses", "ground_truth": ["m5", "m11"]},
        {"case_id": "c5", "user_id": "newbie", "request": "A romance please", "ground_truth": ["m4"]},
    ]
    _write_jsonl(directory / "requests.jsonl", requests)
    return directory


@pytest.fixture(scope="module")
def embedder():
    from mrrec_chat.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="module")
def benchmark(bench_dir):
    return load_benchmark(cases_jsonl=str(bench_dir))


class ScriptedLLM(LLMBackend):
    """Searches once, then answers: what a well-behaved policy does, without a model."""

    name = "scripted"

    def __init__(self) -> None:
        self.calls = 0

    def continue_chat(self, messages, assistant_prefix="", *, max_new_tokens=96, stop=None, temperature=0.0):
        self.calls += 1
        if "<memory>" not in assistant_prefix:
            text = "<think>Check their taste.</think><search>favourite genres"
        else:
            text = ('<think>Done.</think><answer>{"ideal_item_profile": "A light comedy classic with a zebra '
                    'marathon", "useful_memory_ids": []}')
        return Completion(text=text, prompt_tokens=50, completion_tokens=12, seconds=0.01, stop_reason="stop")

    def warm_up(self) -> None:
        pass


class ExplodingLLM(ScriptedLLM):
    def continue_chat(self, *args, **kwargs):
        raise AssertionError("a resumed run must not call the LLM again")


@pytest.fixture(scope="module")
def context(benchmark, embedder, tmp_path_factory):
    from mrrec_chat.service import Assistant

    settings = Settings(memory_dir=str(tmp_path_factory.mktemp("eval-memory")))
    assistant = Assistant(settings, dataset=benchmark.dataset, embedder=embedder, load_llm=False).start()
    yield EvalContext(assistant, depth=DEPTH)
    assistant.close()


def test_benchmark_cases_have_memory_and_a_cold_start(benchmark) -> None:
    cases = {c.case_id: c for c in benchmark.cases}
    assert len(cases) == 5
    assert cases["c5"].cold_start and not cases["c1"].cold_start
    assert all(i.timestamp < 1030 for i in cases["c1"].memory_interactions)


def test_every_non_llm_system_returns_a_valid_ranking(benchmark, context) -> None:
    systems = build_systems(list(NO_LLM_SYSTEMS), context, context.assistant.options())
    catalog = set(benchmark.dataset.items)
    for case in benchmark.cases:
        context.load_case_memory(case)
        try:
            for system in systems:
                result = system.run(case, context)
                assert len(result.ranked) == DEPTH, system.name
                assert len(set(result.ranked)) == DEPTH, f"{system.name} repeats items"
                assert set(result.ranked) <= catalog, system.name
                assert result.llm_calls == 0 and result.seconds >= 0
        finally:
            context.drop_case_memory(case)


def test_memory_free_baselines_put_no_memory_in_the_query(benchmark, context) -> None:
    case = next(c for c in benchmark.cases if c.case_id == "c1")
    by_name = {s.name: s for s in build_systems(list(NO_LLM_SYSTEMS), context, context.assistant.options())}
    assert by_name["dense-no-memory"].run(case, context).memory_tokens == 0
    assert by_name["bm25"].run(case, context).memory_tokens == 0
    assert by_name["dense-naive-memory"].run(case, context).memory_tokens > 0
    assert by_name["dense-static-memory"].run(case, context).memory_tokens > 0


def test_lexical_and_dense_find_the_item_named_by_its_own_words(benchmark, context) -> None:
    case = next(c for c in benchmark.cases if c.case_id == "c3")
    by_name = {s.name: s for s in build_systems(["bm25", "dense-no-memory", "popularity"], context,
                                                 context.assistant.options())}
    assert by_name["bm25"].run(case, context).ranked[0] == "zebra"
    assert "zebra" in by_name["dense-no-memory"].run(case, context).ranked[:3]
    # Popularity ignores the request: the same list for every case.
    other = benchmark.cases[0]
    assert by_name["popularity"].run(case, context).ranked == by_name["popularity"].run(other, context).ranked


def test_remembered_likes_puts_the_latest_liked_memory_item_first(benchmark, context) -> None:
    case = next(c for c in benchmark.cases if c.case_id == "c1")
    liked = [i for i in case.memory_interactions if i.rating >= 4]
    ranked = build_systems(["remembered-likes"], context, context.assistant.options())[0].run(case, context).ranked
    assert liked and ranked[0] == max(liked, key=lambda i: i.timestamp).item_id


def test_case_memory_is_private_to_its_case_and_removed_after(benchmark, context) -> None:
    first, second = benchmark.cases[0], benchmark.cases[1]
    assert context.load_case_memory(first) > 0
    try:
        mine = context.store.search(context.user_id(first), "comedy", 3)
        assert mine and all(m.entry.user_id == context.user_id(first) for m in mine)
        assert context.store.search(context.user_id(second), "comedy", 3) == []
        statements = [e for e in context.store.list_user(context.user_id(first), "chat")]
        assert {e.text for e in statements} == {"I love comedies", "I can't stand horror"}
    finally:
        context.drop_case_memory(first)
    assert context.store.count_user(context.user_id(first)) == 0


def test_memory_items_are_kept_unless_exclusion_is_asked_for(benchmark, context) -> None:
    case = next(c for c in benchmark.cases if c.case_id == "c1")
    assert context.exclusions(case) == set()
    strict = EvalContext(context.assistant, depth=DEPTH, exclude_memory=True)
    remembered = {i.item_id for i in case.memory_interactions}
    ranked = build_systems(["popularity"], strict, context.assistant.options())[0].run(case, strict).ranked
    assert remembered and not remembered & set(ranked)


def test_mrrec_system_runs_the_agent_and_reports_its_cost(benchmark, context) -> None:
    llm = ScriptedLLM()
    system = build_systems(["mrrec"], context, context.assistant.options(), llm=llm, llm_label="scripted")[0]
    case = next(c for c in benchmark.cases if c.case_id == "c1")
    context.load_case_memory(case)
    try:
        result = system.run(case, context)
    finally:
        context.drop_case_memory(case)
    assert len(result.ranked) == DEPTH and len(set(result.ranked)) == DEPTH
    assert result.llm_calls == llm.calls == 2
    assert result.generated_tokens == 24
    assert result.memory_tokens > 0
    assert result.details["fallback"] is False and "zebra" in result.details["profile"]
    assert result.details["tool_calls"] == 1 and result.details["forced_search"] == 0


def test_select_cases_gives_the_llm_subset_as_a_prefix(benchmark) -> None:
    evaluated, subset = select_cases(benchmark.cases, seed=3, limit=4, llm_limit=2)
    assert len(evaluated) == 4 and subset == evaluated[:2]
    assert select_cases(benchmark.cases, seed=3, limit=4, llm_limit=2)[0] == evaluated
    everything, same = select_cases(benchmark.cases, seed=0, limit=None, llm_limit=None)
    assert len(everything) == 5 and same == everything


def test_runner_writes_outputs_and_resume_skips_finished_runs(benchmark, embedder, tmp_path) -> None:
    out = tmp_path / "out"
    settings = Settings(memory_dir=str(out / "memory"))
    names = ["popularity", "dense-no-memory", "mrrec-nollm", "mrrec", "mrrec-no-local"]
    config = EvalConfig(out_dir=out, systems=names, llm_limit=2, depth=DEPTH, bootstrap=200)
    results = run_evaluation(benchmark, config, settings, embedder=embedder,
                             llm_factory=lambda adapter: ScriptedLLM(), progress=False)
    for name in ("results.json", "results.md", "metrics_all.png", "metrics_same_2_cases.png", "cost_quality.png"):
        assert (out / name).stat().st_size > 0, name
    saved = json.loads((out / "results.json").read_text())
    assert saved["systems"].keys() == set(names)
    assert saved["systems"]["mrrec"]["subset_only"] and not saved["systems"]["popularity"]["subset_only"]
    assert saved["systems"]["popularity"]["slices"]["all"]["n"] == 5
    assert saved["systems"]["mrrec"]["slices"]["all"]["n"] == 2
    assert saved["systems"]["popularity"]["slices"]["cold_start"]["n"] == 1
    recall = saved["systems"]["dense-no-memory"]["slices"]["all"]["recall@100"]
    assert 0.0 <= recall["lo"] <= recall["mean"] <= recall["hi"] <= 1.0
    assert saved["systems"]["mrrec"]["cost"]["llm_calls_mean"] == 2
    # One same-case group: the 2 LLM cases, with every system scored on exactly those.
    (group,) = saved["groups"]
    assert group["n"] == 2 and group["llm_systems"] == ["mrrec", "mrrec-no-local"]
    assert group["systems"].keys() == set(names)
    assert group["case_ids"] == [c.case_id for c in select_cases(benchmark.cases, 0, None, 2)[1]]
    assert group["comparisons"]["mrrec"]["ndcg@10"]["best_baseline"] in ("popularity", "dense-no-memory")
    assert "mrrec-nollm" in saved["comparisons_all"] and "mrrec" not in saved["comparisons_all"]
    # Variants minus the full pipeline, paired: the reference itself and the baselines are not listed.
    variants = group["variants"]
    assert variants["reference"] == "mrrec" and variants["systems"].keys() == {"mrrec-nollm", "mrrec-no-local"}
    paired = variants["systems"]["mrrec-no-local"]["ndcg@10"]
    assert paired["lo"] <= paired["diff"] <= paired["hi"]
    per_case = {n: group["systems"][n]["metrics"]["ndcg@10"]["mean"] for n in ("mrrec", "mrrec-no-local")}
    assert paired["diff"] == pytest.approx(per_case["mrrec-no-local"] - per_case["mrrec"], abs=1e-4)
    markdown = (out / "results.md").read_text()
    assert "| mrrec (LLM) |" in markdown and "Same 2 cases" in markdown
    assert "minus the full pipeline `mrrec`" in markdown
    lines = [json.loads(line) for line in (out / RUNS_FILE).read_text().splitlines()]
    runs = [r for r in lines if "system" in r]
    assert len(runs) == 3 * 5 + 2 * 2
    assert results["wall_seconds"] >= 0

    # Resume with an LLM that fails if called: nothing is rerun, the numbers are unchanged.
    again = run_evaluation(benchmark, EvalConfig(out_dir=out, systems=names, llm_limit=2, depth=DEPTH,
                                                 bootstrap=200, resume=True),
                           settings, embedder=embedder, llm_factory=lambda adapter: ExplodingLLM(), progress=False)
    after = [json.loads(line) for line in (out / RUNS_FILE).read_text().splitlines()]
    assert len([r for r in after if "system" in r]) == len(runs)
    assert again["systems"]["mrrec"]["slices"] == results["systems"]["mrrec"]["slices"]

    assert list((out / "cache").glob("memory-vectors-*/texts.json")), "memory vectors are cached for reruns"

    # Report only: nothing runs; a requested system without runs is listed without numbers.
    report = run_evaluation(benchmark, EvalConfig(out_dir=out, systems=names + ["bm25"], llm_limit=2, depth=DEPTH,
                                                  bootstrap=200, resume=True, run=False),
                            settings, embedder=embedder, llm_factory=lambda adapter: ExplodingLLM(), progress=False)
    assert report["systems"]["bm25"]["n_cases"] == 0
    assert report["systems"]["popularity"]["slices"] == results["systems"]["popularity"]["slices"]

    # A larger LLM subset on resume runs only the new cases.
    llm = ScriptedLLM()
    run_evaluation(benchmark, EvalConfig(out_dir=out, systems=["mrrec"], llm_limit=3, depth=DEPTH,
                                         bootstrap=200, resume=True),
                   settings, embedder=embedder, llm_factory=lambda adapter: llm, progress=False)
    assert llm.calls == 2  # one case, two calls


def test_tuned_system_is_skipped_with_a_reason_when_no_adapter_exists() -> None:
    adapter, reason = resolve_tuned_adapter(Settings(llm_model="no-such-model"))
    assert adapter is None and "no adapter" in reason
    assert resolve_tuned_adapter(Settings(llm_adapter="/some/dir"))[0] == "/some/dir"


def test_cli_accepts_settings_flags_and_rejects_unknown_systems(capsys) -> None:
    args = build_parser().parse_args(["--cases-jsonl", "x", "--llm-model", "Qwen/Qwen2.5-1.5B-Instruct",
                                      "--max-rounds", "2", "--llm-limit", "5"])
    settings = Settings.from_args(args)
    assert settings.llm_model == "Qwen/Qwen2.5-1.5B-Instruct" and settings.max_rounds == 2
    assert args.llm_limit == 5
    assert main(["--cases-jsonl", "x", "--systems", "popularity,oracle"]) == 2
    assert "oracle" in capsys.readouterr().err


def test_case_round_trip_keeps_the_fields_systems_use(benchmark) -> None:
    case = benchmark.cases[0]
    assert BenchmarkCase.from_dict(case.to_dict()) == case


def test_seekers_option_keeps_only_the_listed_users(benchmark, tmp_path) -> None:

    split = tmp_path / "split.json"
    split.write_text(json.dumps({"validation_seekers": ["u1", "newbie"], "train_seekers": ["u0"]}))
    held_out = restrict_to_seekers(benchmark, str(split))
    assert sorted(c.case_id for c in held_out.cases) == ["c2", "c5"]
    assert held_out.build_report["restricted_to"]["of_cases"] == len(benchmark.cases) == 5
    assert [c.case_id for c in restrict_to_seekers(benchmark, f"{split}:train_seekers").cases] == ["c1"]
    split.write_text(json.dumps({"validation_seekers": ["nobody"]}))
    with pytest.raises(ValueError, match="no case"):
        restrict_to_seekers(benchmark, str(split))


def test_ablations_on_tuned_run_the_adapter_and_mrrec_stays_untuned(benchmark, embedder, tmp_path) -> None:
    out = tmp_path / "out"
    settings = Settings(memory_dir=str(out / "memory"), llm_adapter=str(tmp_path / "adapter"))
    asked: list = []

    def factory(adapter):
        asked.append(adapter)
        return ScriptedLLM()

    names = ["mrrec", "mrrec-no-global", "mrrec-tuned"]
    config = EvalConfig(out_dir=out, systems=names, llm_limit=1, depth=DEPTH, bootstrap=50, ablations_on_tuned=True)
    saved = run_evaluation(benchmark, config, settings, embedder=embedder, llm_factory=factory, progress=False)
    assert sorted(asked, key=str) == sorted([None, str(tmp_path / "adapter")], key=str)  # two models, no more
    tuned = f"+lora@{adapter_fingerprint(tmp_path / 'adapter')}"  # labelled by content, not by name
    assert tuned in saved["systems"]["mrrec-no-global"]["description"]
    assert "+lora@" not in saved["systems"]["mrrec"]["description"]


def test_a_retrained_adapter_of_the_same_name_does_not_resume_the_old_runs(benchmark, embedder, tmp_path) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    settings = Settings(memory_dir=str(tmp_path / "out" / "memory"), llm_adapter=str(adapter))
    asked: list = []

    def factory(path):
        asked.append(path)
        return ScriptedLLM()

    def run() -> None:
        config = EvalConfig(out_dir=tmp_path / "out", systems=["mrrec-tuned"], llm_limit=1, depth=DEPTH,
                            bootstrap=20, resume=True)
        run_evaluation(benchmark, config, settings, embedder=embedder, llm_factory=factory, progress=False)

    run()
    run()
    assert len(asked) == 1  # the same adapter: resumed, nothing re-run
    (adapter / "adapter_config.json").write_text('{"r": 16}')  # retrained in place
    run()
    assert len(asked) == 2


def test_grounding_probe_reproduces_the_agents_ranking(benchmark, embedder, tmp_path) -> None:
    from mrrec_lab.eval.probe import probe
    from mrrec_chat.service import Assistant

    out = tmp_path / "out"
    settings = Settings(memory_dir=str(out / "memory"))
    config = EvalConfig(out_dir=out, systems=["mrrec"], llm_limit=3, depth=DEPTH, bootstrap=50)
    run_evaluation(benchmark, config, settings, embedder=embedder, llm_factory=lambda adapter: ScriptedLLM(),
                   progress=False)
    assistant = Assistant(settings, dataset=benchmark.dataset, embedder=embedder, load_llm=False).start()
    try:
        result = probe(out / RUNS_FILE, {c.case_id: c for c in benchmark.cases}, EvalContext(assistant, depth=DEPTH))
    finally:
        assistant.close()
    assert result["mrrec"]["n"] == 3 and result["mrrec"]["profile_ranking_reproduced"] == 1.0
    assert set(result["mrrec"]["modes"]) == {"profile", "no-profile", "profile+request", "request"}


def test_the_fusion_digest_changes_with_the_trees_not_only_the_weights():
    from types import SimpleNamespace

    from mrrec_lab.eval.systems import fusion_digest

    def ctx(weights, trees):
        ranker = SimpleNamespace(weights=weights, trees=trees)
        return SimpleNamespace(assistant=SimpleNamespace(recommender=SimpleNamespace(ranker=ranker)))

    linear = fusion_digest(ctx({"sem_request": 1.0}, None))
    assert linear == fusion_digest(ctx({"sem_request": 1.0}, None))
    assert linear != fusion_digest(ctx({"sem_request": 1.0}, [{"split": [0], "value": [0.1]}]))
    assert linear != fusion_digest(ctx({"sem_request": 0.5}, None))


def test_the_code_digest_changes_with_the_source(tmp_path, monkeypatch):
    """`--resume` keeps only runs of the same code: the signature carries a digest of the source."""
    from mrrec_lab.eval import systems

    first = systems.code_digest()
    assert first == systems.code_digest() and len(first) == 12
    monkeypatch.setattr(systems, "_CODE_DIGEST", [])
    monkeypatch.setattr(systems.Path, "read_bytes", lambda self: b"changed " + self.name.encode())
    assert systems.code_digest() != first
