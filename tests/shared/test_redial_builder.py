"""Tests on real data: this module reads ../shared/data (MovieLens Latest Small and ReDial dev).

A fresh clone has no ../shared, so the whole module is skipped there. The checks are the
benchmark's guarantees: no leakage from the current dialogue into memory, a sane title match
rate, and every dialogue accounted for. The counts are those recorded in
mrrec_lab/eval/PROTOCOL.md; if a rule changes, update both.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
if not (SHARED_DATA / "redial" / "dialogues_dev.jsonl").is_file():
    pytest.skip(f"{SHARED_DATA} not present (fresh clone): real-data tests skipped",
                allow_module_level=True)

from mrrec_chat.data import Dataset, TitleIndex, load_movielens_csv  # noqa: E402
from mrrec_lab.eval.cases import BenchmarkCase, load_cases, save_cases  # noqa: E402
from mrrec_lab.eval.redial import BuildReport, build_redial_cases  # noqa: E402

DIALOGUES = SHARED_DATA / "redial" / "dialogues_dev.jsonl"


@pytest.fixture(scope="module")
def movielens() -> Dataset:
    return load_movielens_csv(SHARED_DATA / "ml-latest-small")


@pytest.fixture(scope="module")
def built(movielens: Dataset) -> tuple[list[BenchmarkCase], BuildReport]:
    return build_redial_cases(DIALOGUES, movielens)


def test_latest_small_has_the_published_size(movielens: Dataset) -> None:
    assert len(movielens.items) == 9742
    assert len(movielens.interactions) == 100836
    assert len(movielens.by_user) == 610
    assert movielens.items["11"].title == "American President, The"
    assert movielens.items["1"].tags[:1] == ("pixar",)


def test_famous_titles_are_found_in_free_text(movielens: Dataset) -> None:
    index = TitleIndex(movielens)
    found = index.find_mentions("I loved Heat and The Matrix, also Pulp Fiction")
    assert found == ["6", "2571", "296"]


def test_counts_match_the_protocol(built: tuple[list[BenchmarkCase], BuildReport]) -> None:
    cases, report = built
    assert report.dialogues_read == 983 and report.malformed_lines == 0
    assert (report.cases, report.cold_start_cases, report.warm_cases) == (788, 42, 746)


def test_every_dialogue_is_accounted_for(built: tuple[list[BenchmarkCase], BuildReport]) -> None:
    cases, report = built
    dropped = (report.duplicate_dialogues + report.no_questionnaire + report.no_recommendation
               + report.empty_requests + report.no_ground_truth)
    assert report.dialogues_read == len(cases) + dropped
    assert report.no_ground_truth == (report.no_ground_truth_liked_suggestion
                                      + report.no_ground_truth_unmatched
                                      + report.no_ground_truth_all_in_request)
    assert report.cold_start_cases + report.warm_cases == report.cases


def test_title_match_rate_is_sane(built: tuple[list[BenchmarkCase], BuildReport]) -> None:
    _, report = built
    # Unmatched titles are mostly 2018 films newer than the catalog, or ReDial's wrong years.
    assert 0.80 <= report.match_rate <= 0.95
    assert 0.80 <= report.ground_truth_match_rate <= 0.95


def test_no_memory_comes_from_the_current_or_a_later_dialogue(
    built: tuple[list[BenchmarkCase], BuildReport],
) -> None:
    cases, _ = built
    for case in cases:
        current = int(case.conversation_id)
        # The interaction timestamp is the conversationId of the dialogue it came from.
        assert all(x.timestamp < current for x in case.memory_interactions), case.case_id
        assert all(x.user_id == case.user_id for x in case.memory_interactions), case.case_id


def test_no_ground_truth_item_is_remembered_from_the_same_dialogue(
    built: tuple[list[BenchmarkCase], BuildReport],
) -> None:
    cases, _ = built
    for case in cases:
        same_dialogue = {x.item_id for x in case.memory_interactions
                         if x.timestamp == float(case.conversation_id)}
        assert not same_dialogue & set(case.ground_truth), case.case_id


def test_cold_start_means_no_earlier_dialogue(built: tuple[list[BenchmarkCase], BuildReport]) -> None:
    cases, _ = built
    for case in cases:
        if case.cold_start:
            assert not case.memory_interactions and not case.memory_statements, case.case_id
        else:
            assert case.memory_interactions or case.memory_statements, case.case_id


def test_requests_are_readable_and_ground_truth_is_in_the_catalog(
    built: tuple[list[BenchmarkCase], BuildReport], movielens: Dataset,
) -> None:
    cases, _ = built
    ids = [case.case_id for case in cases]
    assert len(ids) == len(set(ids))
    assert [int(c.conversation_id) for c in cases] == sorted(int(c.conversation_id) for c in cases)
    for case in cases:
        assert case.request.strip() and not re.search(r"@\d+", case.request), case.case_id
        assert case.ground_truth and all(i in movielens.items for i in case.ground_truth)
        assert len(case.ground_truth) == len(set(case.ground_truth))
        assert case.user_id.startswith("redial-")


def test_built_cases_round_trip(built: tuple[list[BenchmarkCase], BuildReport], tmp_path: Path) -> None:
    cases, _ = built
    save_cases(cases, tmp_path / "redial_cases.jsonl")
    assert load_cases(tmp_path / "redial_cases.jsonl") == cases
