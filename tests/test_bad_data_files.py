"""A corpus of bad data files against every loader: each gets a clear outcome, never a traceback.

Self-contained: every file is written by the test into a temporary directory (nothing from
../shared). Each case starts from a small valid dataset in one format (generic JSONL with
requests, MovieLens Latest CSV, MovieLens-100K in RecBole and GroupLens layout, ReDial
dialogues), breaks one thing, and states the outcome:

* ``refuse``: `DatasetError` (a ValueError) whose message names the file, the line (where there
  is one), the field (where there is one) and a fix;
* ``skip``: the load succeeds, the bad rows are gone and counted, and a warning says so;
* ``convert``: millisecond timestamps become seconds (documented in mrrec_chat/data/checks.py).

The "1 GB line" is simulated: the line cap is lowered to 64 KiB and the line is 3 MiB; the test
checks the loader never holds the line in memory (tracemalloc peak far below the line's size).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from mrrec_chat.data import checks
from mrrec_chat.data.checks import DatasetError, iter_lines, seconds_timestamp
from mrrec_chat.data.jsonl import load_jsonl_dataset_with_report
from mrrec_chat.data.movielens import load_ml100k, load_movielens_csv
from mrrec_chat.data.schema import Dataset, Item
from mrrec_chat.data.sources import load_directory

T0 = 1_600_000_000  # 2020-09-13, seconds
MS = 1_600_000_000_000  # the same moment in milliseconds (read as seconds: year 52671)
SMALL_CAP = 64 * 1024
LONG_LINE_BYTES = 3 * 1024 * 1024
TITLES = [("1", "Heat", 1995, "Action|Crime"), ("2", "Casino", 1995, "Crime|Drama"),
          ("3", "Toy Story", 1995, "Animation|Children")]


# --- valid datasets, one per format ------------------------------------------------------------
def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def write_jsonl_dataset(d: Path) -> None:
    (d / "items.jsonl").write_text(_jsonl([
        {"item_id": i, "title": t, "year": y, "categories": g.split("|")} for i, t, y, g in TITLES]))
    (d / "interactions.jsonl").write_text(_jsonl([
        {"user_id": "u1", "item_id": "1", "rating": 5, "timestamp": T0},
        {"user_id": "u1", "item_id": "2", "rating": 4, "timestamp": T0 + 60},
        {"user_id": "u2", "item_id": "3", "rating": 2, "timestamp": T0 + 120}]))
    (d / "requests.jsonl").write_text(_jsonl([
        {"case_id": "c1", "user_id": "u1", "request": "a crime film", "ground_truth": ["2"], "timestamp": T0 + 90}]))


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_csv_dataset(d: Path) -> None:
    (d / "movies.csv").write_text(_csv([["movieId", "title", "genres"]]
                                       + [[i, f"{t} ({y})", g] for i, t, y, g in TITLES]))
    (d / "ratings.csv").write_text(_csv([["userId", "movieId", "rating", "timestamp"],
                                         [1, 1, 5.0, T0], [1, 2, 4.0, T0 + 60], [2, 3, 2.5, T0 + 120]]))
    (d / "tags.csv").write_text(_csv([["userId", "movieId", "tag", "timestamp"], [1, 1, "heist", T0]]))


RECBOLE_ITEM_HEADER = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
RECBOLE_INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"


def write_recbole_dataset(d: Path) -> None:
    (d / "ml-100k.item").write_text(RECBOLE_ITEM_HEADER + "".join(
        f"{i}\t{t}\t{y}\t{g.replace('|', ' ')}\n" for i, t, y, g in TITLES))
    (d / "ml-100k.inter").write_text(RECBOLE_INTER_HEADER + f"1\t1\t5\t{T0}\n1\t2\t4\t{T0 + 60}\n2\t3\t2\t{T0 + 120}\n")


def _uitem_line(item_id: str, title: str, year: int) -> str:
    return "|".join([item_id, f"{title} ({year})", f"01-Jan-{year}", "", "http://x"] + ["0"] * 18 + ["1"]) + "\n"


def write_grouplens_dataset(d: Path) -> None:
    (d / "u.item").write_bytes("".join(_uitem_line(i, t, y) for i, t, y, _ in TITLES).encode("latin-1"))
    (d / "u.data").write_text(f"1\t1\t5\t{T0}\n1\t2\t4\t{T0 + 60}\n2\t3\t2\t{T0 + 120}\n")


def _dialogue(conversation_id: int, seeker: str = "7", text: str = "I want a crime movie") -> dict:
    return {
        "conversationId": conversation_id, "initiatorWorkerId": seeker, "respondentWorkerId": "9",
        "movieMentions": {"111": "Casino (1995)"},
        "messages": [{"senderWorkerId": seeker, "text": text},
                     {"senderWorkerId": "9", "text": "Try @111"}],
        "initiatorQuestions": {"111": {"suggested": 1, "seen": 0, "liked": 1}},
        "respondentQuestions": [],
    }


def write_redial_dataset(d: Path) -> None:
    (d / "dialogues.jsonl").write_text(_jsonl([_dialogue(1), _dialogue(2, seeker="8")]))


# --- how each format is loaded -----------------------------------------------------------------
def load_jsonl(d: Path) -> tuple[Dataset, dict]:
    dataset, report = load_jsonl_dataset_with_report(d)
    return dataset, {"skipped": report.unknown_item_interactions}


def load_requests(d: Path) -> tuple[Dataset, dict]:
    from mrrec_lab.eval.cases import load_jsonl_cases

    cases = load_jsonl_cases(d)
    dataset, _ = load_jsonl(d)
    return dataset, {"cases": cases}


def load_csv(d: Path) -> tuple[Dataset, dict]:
    return load_movielens_csv(d, "csv"), {}


def load_100k(d: Path) -> tuple[Dataset, dict]:
    return load_ml100k(d, "ml-100k"), {}


def load_redial(d: Path) -> tuple[Dataset, dict]:
    from mrrec_lab.eval.redial import build_redial_cases

    catalog = Dataset("ml", {i: Item(i, t, tuple(g.split("|")), y) for i, t, y, g in TITLES})
    cases, report = build_redial_cases(d / "dialogues.jsonl", catalog)
    return catalog, {"cases": cases, "report": report, "skipped": report.malformed_lines}


FORMATS: dict[str, tuple[Callable[[Path], None], Callable[[Path], tuple[Dataset, dict]]]] = {
    "jsonl": (write_jsonl_dataset, load_jsonl),
    "requests": (write_jsonl_dataset, load_requests),
    "csv": (write_csv_dataset, load_csv),
    "recbole": (write_recbole_dataset, load_100k),
    "grouplens": (write_grouplens_dataset, load_100k),
    "redial": (write_redial_dataset, load_redial),
}


# --- breaking one thing --------------------------------------------------------------------------
def put(name: str, content: str | bytes) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        (d / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return apply


def append(name: str, content: str | bytes) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        with open(d / name, "ab") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
    return apply


def replace_line(name: str, number: int, content: str | bytes) -> Callable[[Path], None]:
    """Replace line `number` (1-based) of the file."""
    def apply(d: Path) -> None:
        lines = (d / name).read_bytes().split(b"\n")
        lines[number - 1] = content.encode("utf-8") if isinstance(content, str) else content
        (d / name).write_bytes(b"\n".join(lines))
    return apply


def long_line(name: str, number: int, prefix: bytes = b"") -> Callable[[Path], None]:
    """Insert a 3 MiB line as line `number` (written in blocks; the test never holds it either)."""
    def apply(d: Path) -> None:
        lines = (d / name).read_bytes().split(b"\n")
        with open(d / name, "wb") as out:
            if number > 1:
                out.write(b"\n".join(lines[:number - 1]) + b"\n")
            out.write(prefix)
            block = b"x" * (1 << 20)
            for _ in range(LONG_LINE_BYTES // len(block)):
                out.write(block)
            out.write(b"\n" + b"\n".join(lines[number - 1:]))
    return apply


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        for change in changes:
            change(d)
    return apply


@dataclass
class Case:
    id: str
    fmt: str
    change: Callable[[Path], None]
    outcome: str  # refuse | skip | convert | load
    # refuse: file, line (None for a whole-file problem), field (None where no field applies)
    file: str = ""
    line: int | None = None
    field: str | None = None
    skipped: int = 0  # skip: the count the loader reports
    check: Callable[[Dataset, dict], None] | None = None
    long: bool = False


def _seconds(dataset: Dataset) -> None:
    stamps = sorted(x.timestamp for x in dataset.interactions)
    assert stamps and stamps[0] == T0, stamps
    for value in stamps:  # the crash of issue 23 was this conversion ("year 53250 is out of range")
        assert dt.datetime.fromtimestamp(value, dt.timezone.utc).year == 2020


BAD_UTF8 = "Am\xe9lie".encode("latin-1")  # latin-1 é: not UTF-8

CORPUS = [
    # --- generic JSONL: items.jsonl, interactions.jsonl ------------------------------------------
    Case("jsonl-ms-timestamps", "jsonl", put("interactions.jsonl", _jsonl([
        {"user_id": "u1", "item_id": "1", "rating": 5, "timestamp": MS},
        {"user_id": "u1", "item_id": "2", "rating": 4, "timestamp": MS + 60_000}])),
        "convert", check=lambda ds, _: _seconds(ds)),
    Case("jsonl-negative-timestamp", "jsonl", replace_line("interactions.jsonl", 2, json.dumps(
        {"user_id": "u1", "item_id": "2", "rating": 4, "timestamp": -5})),
        "refuse", "interactions.jsonl", 2, "timestamp"),
    Case("jsonl-microsecond-timestamp", "jsonl", replace_line("interactions.jsonl", 3, json.dumps(
        {"user_id": "u2", "item_id": "3", "rating": 2, "timestamp": MS * 1000})),
        "refuse", "interactions.jsonl", 3, "timestamp"),
    Case("jsonl-missing-rating", "jsonl", replace_line("interactions.jsonl", 2, json.dumps(
        {"user_id": "u1", "item_id": "2"})), "refuse", "interactions.jsonl", 2, "rating"),
    Case("jsonl-missing-title", "jsonl", replace_line("items.jsonl", 3, json.dumps({"item_id": "3"})),
         "refuse", "items.jsonl", 3, "title"),
    Case("jsonl-rating-is-text", "jsonl", replace_line("interactions.jsonl", 1, json.dumps(
        {"user_id": "u1", "item_id": "1", "rating": "five"})), "refuse", "interactions.jsonl", 1, "rating"),
    Case("jsonl-item-id-is-a-list", "jsonl", replace_line("items.jsonl", 2, json.dumps(
        {"item_id": ["2"], "title": "Casino"})), "refuse", "items.jsonl", 2, "item_id"),
    Case("jsonl-year-is-text", "jsonl", replace_line("items.jsonl", 1, json.dumps(
        {"item_id": "1", "title": "Heat", "year": "1995"})), "refuse", "items.jsonl", 1, "year"),
    Case("jsonl-line-is-a-list", "jsonl", replace_line("items.jsonl", 2, "[1, 2]"), "refuse", "items.jsonl", 2),
    Case("jsonl-not-json", "jsonl", replace_line("interactions.jsonl", 2, '{"user_id": "u1", '),
         "refuse", "interactions.jsonl", 2),
    Case("jsonl-duplicate-item-id", "jsonl",
         append("items.jsonl", json.dumps({"item_id": "2", "title": "Other"}) + "\n"),
         "refuse", "items.jsonl", 4, "item_id '2'"),
    Case("jsonl-unknown-item-ids", "jsonl", append("interactions.jsonl", _jsonl([
        {"user_id": "u1", "item_id": "404", "rating": 3, "timestamp": T0},
        {"user_id": "u2", "item_id": "405", "rating": 3, "timestamp": T0}])), "skip", skipped=2,
        check=lambda ds, _: len(ds.interactions) == 3 or pytest.fail("kept rows")),
    Case("jsonl-empty-items", "jsonl", put("items.jsonl", ""), "refuse", "items.jsonl"),
    Case("jsonl-empty-interactions-is-a-catalog", "jsonl", put("interactions.jsonl", ""), "load",
         check=lambda ds, _: (len(ds.items), len(ds.interactions)) == (3, 0) or pytest.fail("catalog")),
    Case("jsonl-non-utf8", "jsonl", replace_line("items.jsonl", 2, b'{"item_id": "2", "title": "' + BAD_UTF8 + b'"}'),
         "refuse", "items.jsonl", 2),
    Case("jsonl-long-line", "jsonl", long_line("interactions.jsonl", 2), "refuse", "interactions.jsonl", 2, long=True),
    # --- generic JSONL requests (the evaluator's cases) --------------------------------------------
    Case("requests-ms-timestamp", "requests", both(
        put("interactions.jsonl", _jsonl([{"user_id": "u1", "item_id": "1", "rating": 5, "timestamp": MS},
                                          {"user_id": "u1", "item_id": "3", "rating": 4, "timestamp": MS + 60_000}])),
        put("requests.jsonl", _jsonl([{"case_id": "c1", "user_id": "u1", "request": "crime", "ground_truth": ["2"],
                                       "timestamp": MS + 30_000}]))),
        "convert", check=lambda ds, extra: [x.item_id for x in extra["cases"][0].memory_interactions] == ["1"]
        or pytest.fail("memory must be the interactions before the request, all in seconds")),
    Case("requests-negative-timestamp", "requests", put("requests.jsonl", _jsonl([
        {"case_id": "c1", "user_id": "u1", "request": "crime", "ground_truth": ["2"], "timestamp": -1}])),
        "refuse", "requests.jsonl", 1, "timestamp"),
    Case("requests-missing-request", "requests", put("requests.jsonl", _jsonl([
        {"case_id": "c1", "user_id": "u1", "ground_truth": ["2"]}])), "refuse", "requests.jsonl", 1, "request"),
    Case("requests-ground-truth-is-text", "requests", put("requests.jsonl", _jsonl([
        {"case_id": "c1", "user_id": "u1", "request": "x", "ground_truth": "2"}])),
        "refuse", "requests.jsonl", 1, "ground_truth"),
    Case("requests-duplicate-case-id", "requests", append("requests.jsonl", _jsonl([
        {"case_id": "c1", "user_id": "u2", "request": "y", "ground_truth": ["1"]}])),
        "refuse", "requests.jsonl", 2, "case_id"),
    Case("requests-unknown-ground-truth", "requests", put("requests.jsonl", _jsonl([
        {"case_id": "c1", "user_id": "u1", "request": "x", "ground_truth": ["404"]}])),
        "refuse", "requests.jsonl", 1, "ground_truth"),
    Case("requests-empty", "requests", put("requests.jsonl", "\n"), "refuse", "requests.jsonl"),
    Case("requests-non-utf8", "requests", put("requests.jsonl", b'{"case_id": "c1", "user_id": "u1", "request": "'
                                              + BAD_UTF8 + b'", "ground_truth": ["2"]}\n'),
         "refuse", "requests.jsonl", 1),
    Case("requests-long-line", "requests", long_line("requests.jsonl", 1), "refuse", "requests.jsonl", 1, long=True),
    # --- MovieLens Latest CSV ---------------------------------------------------------------------
    Case("csv-ms-timestamps", "csv", put("ratings.csv", _csv([["userId", "movieId", "rating", "timestamp"],
                                                              [1, 1, 5.0, MS], [1, 2, 4.0, MS + 60_000]])),
         "convert", check=lambda ds, _: _seconds(ds)),
    Case("csv-negative-timestamp", "csv", replace_line("ratings.csv", 3, "1,2,4.0,-1"),
         "refuse", "ratings.csv", 3, "timestamp"),
    Case("csv-missing-column", "csv", put("ratings.csv", "userId,movieId,rating\n1,1,5.0\n"),
         "refuse", "ratings.csv", 1, "timestamp"),
    Case("csv-short-row", "csv", replace_line("ratings.csv", 3, "1,2"), "refuse", "ratings.csv", 3),
    Case("csv-empty-user", "csv", replace_line("ratings.csv", 2, f",1,5.0,{T0}"), "refuse", "ratings.csv", 2, "userId"),
    Case("csv-rating-is-text", "csv", replace_line("ratings.csv", 4, f"2,3,five,{T0}"),
         "refuse", "ratings.csv", 4, "rating"),
    Case("csv-rating-is-nan", "csv", replace_line("ratings.csv", 4, f"2,3,nan,{T0}"),
         "refuse", "ratings.csv", 4, "rating"),
    Case("csv-duplicate-movie-id", "csv", append("movies.csv", "2,Other (2001),Drama\n"),
         "refuse", "movies.csv", 5, "item id '2'"),
    Case("csv-unknown-movie-ids", "csv", append("ratings.csv", f"1,404,3.0,{T0}\n1,405,3.0,{T0}\n"), "skip", skipped=2,
         check=lambda ds, _: len(ds.interactions) == 3 or pytest.fail("kept rows")),
    Case("csv-unclosed-quote", "csv", replace_line("movies.csv", 3, '2,"Casino (1995),Crime'),
         "refuse", "movies.csv", 3),
    Case("csv-empty-movies", "csv", put("movies.csv", ""), "refuse", "movies.csv"),
    Case("csv-header-only-movies", "csv", put("movies.csv", "movieId,title,genres\n"), "refuse", "movies.csv"),
    Case("csv-non-utf8", "csv", replace_line("movies.csv", 3, b"2," + BAD_UTF8 + b" (2001),Romance"),
         "refuse", "movies.csv", 3),
    Case("csv-long-line", "csv", long_line("ratings.csv", 3), "refuse", "ratings.csv", 3, long=True),
    Case("csv-byte-order-mark", "csv", put("movies.csv", "\ufeffmovieId,title,genres\n1,Heat (1995),Action\n"
                                           "2,Casino (1995),Crime\n3,Toy Story (1995),Animation\n"),
         "load", check=lambda ds, _: len(ds.items) == 3 or pytest.fail("items")),
    # --- MovieLens-100K, RecBole layout -----------------------------------------------------------
    Case("recbole-ms-timestamps", "recbole",
         put("ml-100k.inter", RECBOLE_INTER_HEADER + f"1\t1\t5\t{MS}\n1\t2\t4\t{MS + 60_000}\n"),
         "convert", check=lambda ds, _: _seconds(ds)),
    Case("recbole-negative-timestamp", "recbole", replace_line("ml-100k.inter", 2, "1\t1\t5\t-100"),
         "refuse", "ml-100k.inter", 2, "timestamp"),
    Case("recbole-missing-header-field", "recbole",
         put("ml-100k.inter", "user_id:token\titem_id:token\trating:float\n1\t1\t5\n"),
         "refuse", "ml-100k.inter", 1, "timestamp"),
    Case("recbole-short-row", "recbole", replace_line("ml-100k.inter", 3, "1\t2"), "refuse", "ml-100k.inter", 3),
    Case("recbole-rating-is-text", "recbole", replace_line("ml-100k.inter", 4, f"2\t3\tbad\t{T0}"),
         "refuse", "ml-100k.inter", 4, "rating"),
    Case("recbole-duplicate-item-id", "recbole", append("ml-100k.item", "3\tOther\t2001\tDrama\n"),
         "refuse", "ml-100k.item", 5, "item id '3'"),
    Case("recbole-unknown-item-ids", "recbole", append("ml-100k.inter", f"1\t404\t3\t{T0}\n"), "skip", skipped=1,
         check=lambda ds, _: len(ds.interactions) == 3 or pytest.fail("kept rows")),
    Case("recbole-empty-inter", "recbole", put("ml-100k.inter", ""), "refuse", "ml-100k.inter"),
    Case("recbole-non-utf8", "recbole", replace_line("ml-100k.item", 3, b"2\t" + BAD_UTF8 + b"\t2001\tRomance"),
         "refuse", "ml-100k.item", 3),
    Case("recbole-long-line", "recbole", long_line("ml-100k.item", 2), "refuse", "ml-100k.item", 2, long=True),
    # --- MovieLens-100K, GroupLens layout (u.item is latin-1 by definition) -----------------------
    Case("grouplens-ms-timestamps", "grouplens", put("u.data", f"1\t1\t5\t{MS}\n1\t2\t4\t{MS + 60_000}\n"),
         "convert", check=lambda ds, _: _seconds(ds)),
    Case("grouplens-negative-timestamp", "grouplens", replace_line("u.data", 1, "1\t1\t5\t-1"),
         "refuse", "u.data", 1, "timestamp"),
    Case("grouplens-missing-field", "grouplens", replace_line("u.data", 2, "1\t2\t4"), "refuse", "u.data", 2),
    Case("grouplens-empty-user", "grouplens", replace_line("u.data", 2, f"\t2\t4\t{T0}"),
         "refuse", "u.data", 2, "user id"),
    Case("grouplens-rating-is-text", "grouplens", replace_line("u.data", 3, f"2\t3\tx\t{T0}"),
         "refuse", "u.data", 3, "rating"),
    Case("grouplens-duplicate-item-id", "grouplens", append("u.item", _uitem_line("1", "Other", 2001)),
         "refuse", "u.item", 4, "item id '1'"),
    Case("grouplens-unknown-item-ids", "grouplens", append("u.data", f"1\t404\t3\t{T0}\n"), "skip", skipped=1,
         check=lambda ds, _: len(ds.interactions) == 3 or pytest.fail("kept rows")),
    Case("grouplens-empty-items", "grouplens", put("u.item", ""), "refuse", "u.item"),
    Case("grouplens-latin1-is-its-encoding", "grouplens",
         append("u.item", _uitem_line("4", "Amélie", 2001).encode("latin-1")),
         "load", check=lambda ds, _: ds.items["4"].title == "Amélie" or pytest.fail(ds.items["4"].title)),
    Case("grouplens-long-line", "grouplens", long_line("u.data", 2), "refuse", "u.data", 2, long=True),
    # --- ReDial dialogues (bad lines are skipped and counted; a file with none is refused) --------
    Case("redial-missing-fields", "redial", append("dialogues.jsonl", json.dumps({"conversationId": 3}) + "\n"),
         "skip", skipped=1),
    Case("redial-wrong-types", "redial",
         append("dialogues.jsonl", json.dumps({**_dialogue(3), "messages": "hi"}) + "\n"),
         "skip", skipped=1),
    Case("redial-not-json", "redial", append("dialogues.jsonl", "{not json\n"), "skip", skipped=1),
    Case("redial-non-utf8", "redial",
         append("dialogues.jsonl", json.dumps(_dialogue(3)).encode()[:-2] + BAD_UTF8 + b"}\n"),
         "skip", skipped=1),
    Case("redial-long-line", "redial", long_line("dialogues.jsonl", 2, prefix=b'{"conversationId": 5, "x": "'),
         "skip", skipped=1, long=True),
    Case("redial-duplicate-dialogue", "redial", append("dialogues.jsonl", json.dumps(_dialogue(1)) + "\n"),
         "load", check=lambda _, extra: extra["report"].duplicate_dialogues == 1 and len(extra["cases"]) == 2
         or pytest.fail("duplicate counted, first copy kept")),
    Case("redial-unknown-movie", "redial", append("dialogues.jsonl", json.dumps(
        {**_dialogue(3), "movieMentions": {"111": "No Such Film (1901)"}}) + "\n"),
        "load", check=lambda _, extra: (extra["report"].no_ground_truth_unmatched, len(extra["cases"])) == (1, 2)
        or pytest.fail("an unmatched movie is counted, not a case")),
    Case("redial-empty", "redial", put("dialogues.jsonl", ""), "refuse", "dialogues.jsonl"),
    Case("redial-nothing-readable", "redial", put("dialogues.jsonl", "{}\n[]\n"), "refuse", "dialogues.jsonl"),
]


def test_corpus_covers_every_format_and_kind_of_damage() -> None:
    kinds = ["ms-timestamp", "negative-timestamp", "missing", "is-", "duplicate", "unknown", "empty",
             "non-utf8", "long-line"]
    for fmt in ("jsonl", "csv", "recbole", "grouplens"):
        ids = [c.id for c in CORPUS if c.fmt == fmt]
        for kind in kinds:
            # u.item is latin-1 by definition, so every byte is valid there
            assert any(kind in i for i in ids) or (kind == "non-utf8" and "grouplens-latin1-is-its-encoding" in ids), \
                (fmt, kind)
    assert len({c.id for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_bad_file(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  caplog: pytest.LogCaptureFixture) -> None:
    write, load = FORMATS[case.fmt]
    write(tmp_path)
    case.change(tmp_path)
    if case.long:
        monkeypatch.setattr(checks, "MAX_LINE_BYTES", SMALL_CAP)
        tracemalloc.start()
    caplog.set_level(logging.INFO)
    try:
        if case.outcome == "refuse":
            with pytest.raises(DatasetError) as raised:
                load(tmp_path)
            message = str(raised.value)
            assert message.startswith(case.file + (f" line {case.line}:" if case.line else ":")), message
            if case.field:  # the field's name (as a whole word), or the offending value
                assert re.search(rf"(?<!\w){re.escape(case.field)}(?!\w)", message), (case.field, message)
            assert "Fix:" in message, message
            assert "Traceback" not in message and len(message) < 600, message
        else:
            dataset, extra = load(tmp_path)
            if case.outcome == "skip":  # counted in the loader's report (where it has one) and in a warning
                assert extra.get("skipped", case.skipped) == case.skipped, extra
                warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
                pattern = rf"(?<!\d){case.skipped} (of \d+ )?(malformed lines|interactions|ratings)"
                assert warnings and re.search(pattern, warnings[0]), warnings
            if case.outcome == "convert":
                assert any("milliseconds" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
            if case.check is not None:
                case.check(dataset, extra)
    finally:
        if case.long:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    if case.long:  # the loader read the 3 MiB line in pieces, never whole
        assert peak < LONG_LINE_BYTES / 3, f"peak {peak:,} bytes while loading a {LONG_LINE_BYTES:,}-byte line"


def test_long_line_at_the_default_cap_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    """`iter_lines` alone: with the cap at 1 MiB, a 3 MiB line is reported and the lines after it still read."""
    path = tmp_path / "f.jsonl"
    with open(path, "wb") as out:
        out.write(b"first\n" + b"y" * LONG_LINE_BYTES + b"\nlast\n")
    got = list(iter_lines(path, max_line_bytes=1 << 20, strict=False))
    assert [n for n, _ in got] == [1, 2, 3]
    assert got[0][1] == "first" and got[2][1] == "last"
    assert isinstance(got[1][1], checks.BadLine) and "longer than 1,048,576 bytes" in got[1][1].problem
    with pytest.raises(DatasetError, match=r"^f\.jsonl line 2: longer than"):
        list(iter_lines(path, max_line_bytes=1 << 20))


@pytest.mark.parametrize("value, expected, converted", [
    (0, 0.0, False), (T0, float(T0), False), (99_999_999_999, 99_999_999_999.0, False),
    (MS, float(T0), True), (1e11 + 1, (1e11 + 1) / 1000, True)])
def test_millisecond_rule(value: float, expected: float, converted: bool) -> None:
    assert seconds_timestamp(value, Path("f"), 1) == (expected, converted)


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), MS * 1000])
def test_impossible_timestamps_are_refused(value: float) -> None:
    with pytest.raises(DatasetError, match=r"^f line 7: field 'timestamp'"):
        seconds_timestamp(value, Path("f"), 7)


def test_directory_loader_reports_bad_file_the_same_way(tmp_path: Path) -> None:
    """`load_directory` (what the app's MRREC_DATASET=DIR uses) passes the loaders' errors through."""
    write_csv_dataset(tmp_path)
    replace_line("ratings.csv", 3, "1,2,4.0,-1")(tmp_path)
    with pytest.raises(DatasetError, match=r"^ratings\.csv line 3: field 'timestamp' is negative"):
        load_directory(tmp_path)


def test_a_bad_dataset_leaves_no_half_built_store(tmp_path: Path) -> None:
    """The Assistant refuses a bad dataset before it creates any collection in the store."""
    import chromadb

    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant

    data = tmp_path / "data"
    data.mkdir()
    write_jsonl_dataset(data)
    append("items.jsonl", json.dumps({"item_id": "1", "title": "Again"}) + "\n")(data)
    store = tmp_path / "store"
    assistant = Assistant(Settings(memory_dir=str(store), dataset=str(data), llm_backend="none"), load_llm=False)
    with pytest.raises(DatasetError, match=r"^items\.jsonl line 4: duplicate item_id '1'"):
        assistant.start()
    client = chromadb.PersistentClient(str(store), settings=chromadb.Settings(anonymized_telemetry=False))
    assert client.list_collections() == []


def test_evaluator_cli_says_what_is_wrong_instead_of_a_traceback(tmp_path: Path, capsys) -> None:
    from mrrec_lab.eval.__main__ import main

    write_jsonl_dataset(tmp_path)
    replace_line("interactions.jsonl", 2, json.dumps({"user_id": "u1", "item_id": "2", "rating": 4,
                                                      "timestamp": MS * 1000}))(tmp_path)
    assert main(["--cases-jsonl", str(tmp_path), "--systems", "popularity", "--out", str(tmp_path / "out"),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Cannot load the benchmark: interactions.jsonl line 2: field 'timestamp'"), err
    assert "Traceback" not in err
