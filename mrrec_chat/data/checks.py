"""Reading data files defensively: bounded lines, strict decoding, checked timestamps, one error type.

Every loader (MovieLens ml-100k and Latest CSV, generic JSONL, ReDial dialogues) reads its files
through `iter_lines`, so the same problems get the same answer everywhere:

* a line longer than `MAX_LINE_BYTES` (a damaged file, e.g. a lost newline in a huge export) is
  detected after reading at most that many bytes of it: never the whole line into memory;
* bytes that are not valid in the file's encoding are reported with the line and byte column;
* timestamps go through `seconds_timestamp`: **values above 1e11 are read as milliseconds and
  divided by 1000** (1e11 seconds would be the year 5138, 1e11 ms is 1973), counted and logged;
  negative, non-finite, or still too large values (microseconds, garbage) are refused.

Problems that make a file untrustworthy raise `DatasetError` (a `ValueError`) whose message names
the file, the line, the field and what to do. Rows that are merely unusable (an interaction
whose item is not in the catalog) are skipped with a count by the loaders; nothing is silent.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# No record of any supported format comes near this (a ReDial dialogue is a few KB). A longer
# line means a damaged file; refusing it keeps a "1 GB line" from being read into memory.
MAX_LINE_BYTES = 8 * 1024 * 1024
_SKIP_CHUNK = 1 << 16

# Seconds since 1970 stay below this until the year 5138; milliseconds pass it from 1973 on.
MILLISECONDS_ABOVE = 1e11


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class BadLine:
    """A line `iter_lines` could not turn into text (too long, or not in the file's encoding)."""

    number: int
    problem: str
    fix: str

    def error(self, path: Path) -> DatasetError:
        return DatasetError(f"{path.name} line {self.number}: {self.problem}. Fix: {self.fix}")


def iter_lines(path: Path, encoding: str = "utf-8", *, max_line_bytes: int | None = None,
               strict: bool = True) -> Iterator[tuple[int, str | BadLine]]:
    """Yield (line number, text without its newline) for every line of `path`, 1-based.

    With `strict` (the default) a line that is too long or undecodable raises `DatasetError`;
    otherwise it is yielded as a `BadLine` for the caller to count and skip (the rest of an
    over-long line is skipped in bounded chunks, never held in memory). A UTF-8 byte-order mark
    at the start of the file is dropped.
    """
    cap = MAX_LINE_BYTES if max_line_bytes is None else max_line_bytes
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(cap + 1)
            if not raw:
                return
            number += 1
            bad: BadLine | None = None
            if len(raw) > cap and not raw.endswith(b"\n"):
                while True:  # skip to the end of this line, a chunk at a time
                    rest = handle.readline(_SKIP_CHUNK)
                    if not rest or rest.endswith(b"\n"):
                        break
                bad = BadLine(number, f"longer than {cap:,} bytes",
                              "the file looks damaged (a lost line break?); obtain a fresh copy, "
                              "or split the record over several lines")
            else:
                if number == 1 and raw.startswith(b"\xef\xbb\xbf") and encoding.replace("-", "").lower() == "utf8":
                    raw = raw[3:]
                try:
                    text = raw.decode(encoding)
                except UnicodeDecodeError as exc:
                    bad = BadLine(number, f"byte {exc.start + 1} is not valid {encoding} "
                                          f"(0x{raw[exc.start]:02x})",
                                  f"save the file as {encoding.upper()} "
                                  f"(e.g. `iconv -f latin1 -t utf-8 {path.name}`)")
            if bad is not None:
                if strict:
                    raise bad.error(Path(path))
                yield number, bad
                continue
            yield number, text.rstrip("\r\n")


def seconds_timestamp(value: float, path: Path, line_number: int, field: str = "timestamp") -> tuple[float, bool]:
    """(`value` in seconds since 1970, whether it was converted from milliseconds).

    Raises `DatasetError` for a negative, non-finite, or out-of-range value.
    """
    if math.isfinite(value) and 0 <= value <= MILLISECONDS_ABOVE:  # the usual case, checked without building a message
        return value, False
    where = f"{Path(path).name} line {line_number}: field {field!r}"
    if not math.isfinite(value):
        raise DatasetError(f"{where} is {value!r}, not a finite number. Fix: write seconds since "
                           "1970-01-01 UTC (or leave the field out where it is optional).")
    if value < 0:
        raise DatasetError(f"{where} is negative ({value:g}). Fix: write seconds since 1970-01-01 "
                           "UTC; use 0 for an unknown time (or leave the field out where it is optional).")
    converted = value > MILLISECONDS_ABOVE
    if converted:
        value = value / 1000.0
        if value > MILLISECONDS_ABOVE:
            raise DatasetError(f"{where} is {value * 1000:g}, too large for seconds or milliseconds "
                               "since 1970 (microseconds?). Fix: write seconds since 1970-01-01 UTC.")
    return value, converted


@dataclass
class ConversionCount:
    """Counts the millisecond timestamps a loader converted, to log once per file."""

    milliseconds: int = 0

    def take(self, value: float, path: Path, line_number: int, field: str = "timestamp") -> float:
        seconds, converted = seconds_timestamp(value, path, line_number, field)
        self.milliseconds += converted
        return seconds

    def log(self, path: Path) -> None:
        if self.milliseconds:
            logger.warning("%s: read %d timestamps above 1e11 as milliseconds (divided by 1000)",
                           path, self.milliseconds)


def empty_file_error(path: Path, what: str) -> DatasetError:
    return DatasetError(f"{Path(path).name}: the file is empty (no {what}). Fix: the download or "
                        "export was probably cut short; obtain a fresh copy.")
