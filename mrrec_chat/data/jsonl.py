"""The generic JSONL dataset format, so any catalog (movies, books, e-commerce) can be loaded.

A dataset is a directory with two files, one JSON object per line (blank lines are ignored):

``items.jsonl`` — the catalog::

    {"item_id": "B0001", "title": "Trail running shoe", "categories": ["Shoes", "Running"],
     "year": 2021, "tags": ["lightweight", "waterproof"], "description": "A shoe for ..."}

    item_id      string or integer (stored as a string), unique, required
    title        non-empty string, required
    categories   list of strings, optional (default []); the first one is the primary category
    year         integer or null, optional
    tags         list of strings, optional
    description  string, optional

``interactions.jsonl`` — who rated what (may be empty for a catalog-only dataset)::

    {"user_id": "u1", "item_id": "B0001", "rating": 4.5, "timestamp": 1700000000,
     "review": "Comfortable from the first run."}

    user_id      string or integer, required
    item_id      string or integer, required; should be an item_id of items.jsonl
    rating       number, required
    timestamp    number (seconds since 1970), optional (default 0); orders a user's history.
                 Values above 1e11 are read as milliseconds and divided by 1000 (counted and
                 logged); negative ones are refused (see mrrec_chat/data/checks.py)
    review       string, optional

The rating scale is (1, 5) unless some rating falls outside it, in which case it is the
observed (min, max). The dataset name defaults to the directory name.

Errors are strict where silence would corrupt results and lenient where the data is merely
incomplete: a missing or empty items file, a malformed line, a missing or mistyped field, a
duplicate item_id, bytes that are not UTF-8 or a line over `checks.MAX_LINE_BYTES` raise
`DatasetError` naming the file, the line, the field and the fix; an interaction whose item is
not in the catalog is skipped and counted in the `JsonlLoadReport` (and logged), because real
exports often contain delisted items.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrrec_chat.data.checks import ConversionCount, DatasetError, empty_file_error, iter_lines
from mrrec_chat.data.schema import Dataset, Interaction, Item

logger = logging.getLogger(__name__)

ITEMS_FILE = "items.jsonl"
INTERACTIONS_FILE = "interactions.jsonl"


@dataclass
class JsonlLoadReport:
    """What the JSONL loader kept and what it skipped (nothing is dropped without a count)."""

    items: int = 0
    interactions: int = 0
    unknown_item_interactions: int = 0
    millisecond_timestamps: int = 0


def require_file(path: Path, what: str) -> Path:
    """Return `path` if it is a file, else raise a `DatasetError` that says what was expected."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found. Expected {what} here; check the directory.")
    return path


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; raise on a line that is not an object
    (or not UTF-8, or longer than `checks.MAX_LINE_BYTES`)."""
    for line_number, line in iter_lines(path):
        assert isinstance(line, str)  # strict: bad lines raise
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(
                f"{path.name} line {line_number}: not valid JSON ({error.msg} at column {error.colno}). "
                "Fix: write exactly one JSON object per line."
            ) from None
        except RecursionError:
            raise DatasetError(
                f"{path.name} line {line_number}: JSON nested too deeply. Fix: write flat objects."
            ) from None
        if not isinstance(record, dict):
            raise DatasetError(
                f"{path.name} line {line_number}: expected a JSON object, got "
                f"{type(record).__name__}. Fix: write one {{...}} object per line."
            )
        yield line_number, record


def _where(path: Path, line_number: int) -> str:
    return f"{path.name} line {line_number}"


def _id_field(record: dict[str, Any], key: str, path: Path, line_number: int) -> str:
    # Ids may be ints in exported data; the schema keeps every id a string.
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise DatasetError(
            f"{_where(path, line_number)}: field {key!r} is missing or not a string/integer. "
            f"Fix: give every line a non-empty {key!r}."
        )
    return str(value).strip()


def _string_list(record: dict[str, Any], key: str, path: Path, line_number: int) -> tuple[str, ...]:
    value = record.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(
            f"{_where(path, line_number)}: field {key!r} must be a list of strings. "
            f'Fix: write it like "{key}": ["a", "b"].'
        )
    return tuple(v.strip() for v in value if v.strip())


def _number(record: dict[str, Any], key: str, path: Path, line_number: int, default: float | None) -> float:
    value = record.get(key, default)
    if value is None and default is not None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DatasetError(
            f"{_where(path, line_number)}: field {key!r} must be a finite number, got {value!r}. "
            f"Fix: write it as a JSON number, e.g. \"{key}\": 4.0."
        )
    return float(value)


def parse_item(record: dict[str, Any], path: Path, line_number: int) -> Item:
    """Turn one items.jsonl object into an `Item` (strict about types, lenient about extras)."""
    item_id = _id_field(record, "item_id", path, line_number)
    title = record.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DatasetError(
            f"{_where(path, line_number)}: field 'title' is missing or empty. "
            'Fix: give every item a "title" string.'
        )
    year = record.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise DatasetError(
            f"{_where(path, line_number)}: field 'year' must be an integer or null, got {year!r}. "
            'Fix: write e.g. "year": 1995.'
        )
    description = record.get("description") or ""
    if not isinstance(description, str):
        raise DatasetError(
            f"{_where(path, line_number)}: field 'description' must be a string. "
            "Fix: join multi-part descriptions into one string."
        )
    return Item(
        item_id=item_id,
        title=title.strip(),
        categories=_string_list(record, "categories", path, line_number),
        year=year,
        tags=_string_list(record, "tags", path, line_number),
        description=description.strip(),
    )


def parse_interaction(record: dict[str, Any], path: Path, line_number: int,
                      timestamps: ConversionCount | None = None) -> Interaction:
    """Turn one interactions.jsonl object into an `Interaction` (timestamps checked, see checks.py)."""
    review = record.get("review") or ""
    if not isinstance(review, str):
        raise DatasetError(
            f"{_where(path, line_number)}: field 'review' must be a string. Fix: quote the text."
        )
    return Interaction(
        user_id=_id_field(record, "user_id", path, line_number),
        item_id=_id_field(record, "item_id", path, line_number),
        rating=_number(record, "rating", path, line_number, default=None),
        timestamp=(timestamps or ConversionCount()).take(
            _number(record, "timestamp", path, line_number, default=0.0), path, line_number),
        review=review.strip(),
    )


def load_items_jsonl(path: Path) -> dict[str, Item]:
    """Read items.jsonl; duplicate ids are an error because they would silently shadow items."""
    require_file(path, "the catalog, one JSON item per line (see mrrec_chat/data/jsonl.py)")
    items: dict[str, Item] = {}
    for line_number, record in iter_jsonl(path):
        item = parse_item(record, path, line_number)
        if item.item_id in items:
            raise DatasetError(
                f"{_where(path, line_number)}: duplicate item_id {item.item_id!r}. "
                "Fix: keep one line per item."
            )
        items[item.item_id] = item
    if not items:
        raise empty_file_error(path, "items: a catalog needs at least one")
    return items


def load_jsonl_dataset_with_report(
    directory: Path, name: str | None = None
) -> tuple[Dataset, JsonlLoadReport]:
    """Load a JSONL dataset directory and say how many interactions were skipped and why."""
    directory = Path(directory)
    items = load_items_jsonl(directory / ITEMS_FILE)
    interactions_path = require_file(
        directory / INTERACTIONS_FILE,
        "user ratings, one JSON interaction per line (an empty file is fine for a catalog only)",
    )
    report = JsonlLoadReport(items=len(items))
    interactions: list[Interaction] = []
    timestamps = ConversionCount()
    for line_number, record in iter_jsonl(interactions_path):
        interaction = parse_interaction(record, interactions_path, line_number, timestamps)
        if interaction.item_id not in items:
            report.unknown_item_interactions += 1
            continue
        interactions.append(interaction)
    report.interactions = len(interactions)
    report.millisecond_timestamps = timestamps.milliseconds
    timestamps.log(interactions_path)
    if report.unknown_item_interactions:
        logger.warning(
            "%s: skipped %d interactions whose item_id is not in %s",
            interactions_path, report.unknown_item_interactions, ITEMS_FILE,
        )
    scale = (1.0, 5.0)
    if interactions:
        low = min(x.rating for x in interactions)
        high = max(x.rating for x in interactions)
        if low < scale[0] or high > scale[1]:
            scale = (low, high)
    dataset = Dataset(
        name=name or directory.resolve().name,
        items=items,
        interactions=interactions,
        rating_scale=scale,
    )
    return dataset, report


def load_jsonl_dataset(directory: Path, name: str | None = None) -> Dataset:
    """Load a dataset in the generic JSONL format described in this module's docstring."""
    dataset, _ = load_jsonl_dataset_with_report(directory, name)
    return dataset
