"""Benchmark cases: one request, its ground truth, and the memory a recommender may use for it.

A `BenchmarkCase` is what every evaluator run consumes, whatever its source (ReDial dialogues,
see `mrrec_lab.eval.redial`, or the generic JSONL format below). Cases round-trip through JSONL
(`save_cases` / `load_cases`) so a built benchmark can be cached and inspected.

Generic JSONL cases (`load_jsonl_cases`) live in a directory next to a JSONL dataset
(`mrrec_chat.data.jsonl`), whose `items.jsonl` and `interactions.jsonl` they use, plus:

``requests.jsonl``, one object per line::

    {"case_id": "c1", "user_id": "u1", "request": "A waterproof shoe for trail running",
     "ground_truth": ["B0001"], "timestamp": 1700000000, "memory_statements": ["I run daily"]}

    case_id            string or integer, unique, required
    user_id            string or integer, required
    request            non-empty string, required
    ground_truth       non-empty list of item ids, required; ids unknown to items.jsonl are an error
    timestamp          number, optional: the moment of the request (seconds since 1970; above
                       1e11 it is read as milliseconds, as in interactions.jsonl)
    memory_statements  list of strings, optional: things the user said before

Memory = that user's interactions in interactions.jsonl strictly earlier than `timestamp`. Without
a `timestamp` it is all of that user's interactions except those with a ground-truth item, since
an interaction with the answer would leak it. A case with no memory is cold start.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mrrec_chat.data.checks import ConversionCount, empty_file_error
from mrrec_chat.data.jsonl import (
    DatasetError,
    iter_jsonl,
    load_jsonl_dataset,
    require_file,
)
from mrrec_chat.data.schema import Interaction

REQUESTS_FILE = "requests.jsonl"


@dataclass
class BenchmarkCase:
    """One evaluation case. Memory never contains anything from the request's own session."""

    case_id: str
    user_id: str
    request: str
    ground_truth: list[str]
    memory_interactions: list[Interaction] = field(default_factory=list)
    memory_statements: list[str] = field(default_factory=list)
    cold_start: bool = False
    conversation_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkCase:
        return cls(
            case_id=str(data["case_id"]),
            user_id=str(data["user_id"]),
            request=str(data["request"]),
            ground_truth=[str(i) for i in data["ground_truth"]],
            memory_interactions=[Interaction(**x) for x in data.get("memory_interactions", [])],
            memory_statements=[str(s) for s in data.get("memory_statements", [])],
            cold_start=bool(data.get("cold_start", False)),
            conversation_id=str(data.get("conversation_id", "")),
        )


def save_cases(cases: list[BenchmarkCase], path: Path) -> None:
    """Write cases as JSONL, one case per line (UTF-8, titles unescaped for easy reading)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for case in cases:
            handle.write(json.dumps(case.to_dict(), ensure_ascii=False) + "\n")


def load_cases(path: Path) -> list[BenchmarkCase]:
    """Read cases written by `save_cases`; a damaged line raises `DatasetError` with its number."""
    path = require_file(Path(path), "benchmark cases written by save_cases")
    cases: list[BenchmarkCase] = []
    for line_number, record in iter_jsonl(path):
        try:
            cases.append(BenchmarkCase.from_dict(record))
        except (KeyError, TypeError, ValueError) as error:
            raise DatasetError(
                f"{path.name} line {line_number}: not a benchmark case ({error!r}). "
                "Fix: rebuild the file with save_cases."
            ) from None
    return cases


def _request_field(record: dict[str, Any], key: str, path: Path, line_number: int) -> Any:
    value = record.get(key)
    if value is None or value == "" or value == []:
        raise DatasetError(
            f"{path.name} line {line_number}: field {key!r} is missing or empty. Fix: every "
            'request needs "case_id", "user_id", "request" and a non-empty "ground_truth".'
        )
    return value


def load_jsonl_cases(directory: Path) -> list[BenchmarkCase]:
    """Cases from `requests.jsonl` plus the JSONL dataset in the same directory (see above)."""
    directory = Path(directory)
    requests_path = require_file(directory / REQUESTS_FILE, "one JSON request per line")
    dataset = load_jsonl_dataset(directory)
    cases: list[BenchmarkCase] = []
    seen_ids: set[str] = set()
    timestamps = ConversionCount()
    for line_number, record in iter_jsonl(requests_path):
        case_id = str(_request_field(record, "case_id", requests_path, line_number))
        user_id = str(_request_field(record, "user_id", requests_path, line_number))
        request = _request_field(record, "request", requests_path, line_number)
        truth = _request_field(record, "ground_truth", requests_path, line_number)
        where = f"{requests_path.name} line {line_number}"
        if case_id in seen_ids:
            raise DatasetError(f"{where}: duplicate case_id {case_id!r}. Fix: make case ids unique.")
        seen_ids.add(case_id)
        if not isinstance(request, str) or not isinstance(truth, list):
            raise DatasetError(
                f'{where}: "request" must be a string and "ground_truth" a list of item ids. '
                'Fix: write e.g. "request": "a funny film", "ground_truth": ["42"].'
            )
        truth_ids = [str(i) for i in truth]
        unknown = [i for i in truth_ids if i not in dataset.items]
        if unknown:
            raise DatasetError(
                f"{where}: ground_truth ids {unknown} are not in items.jsonl. "
                "Fix: add those items or correct the ids."
            )
        timestamp = record.get("timestamp")
        if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, (int, float))):
            raise DatasetError(f'{where}: "timestamp" must be a number. Fix: use seconds.')
        if timestamp is not None:
            timestamp = timestamps.take(float(timestamp), requests_path, line_number)
        statements = record.get("memory_statements") or []
        if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
            raise DatasetError(f'{where}: "memory_statements" must be a list of strings.')
        history = dataset.history(user_id)
        if timestamp is None:
            memory = [x for x in history if x.item_id not in set(truth_ids)]
        else:
            memory = [x for x in history if x.timestamp < timestamp]
        cases.append(BenchmarkCase(
            case_id=case_id, user_id=user_id, request=request.strip(), ground_truth=truth_ids,
            memory_interactions=memory, memory_statements=list(statements),
            cold_start=not memory and not statements, conversation_id=case_id,
        ))
    timestamps.log(requests_path)
    if not cases:
        raise empty_file_error(requests_path, "requests")
    return cases
