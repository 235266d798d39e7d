"""Tolerant parsing of one step of the policy LLM's output into a typed action.

This module owns the contract between the raw text a (small, often broken) policy model
generates and the agent loop: the tag protocol

    <think>reasoning</think> <search>query one; query two</search>
    <think>reasoning</think>
    <answer>{"ideal_item_profile": "...", "useful_memory_ids": [...]}</answer>

is turned into a `ParsedStep` (thought, action, queries or `FinalAnswer`, and a list of the
repairs that were needed). It also owns `extract_memory_ids`, the pattern for memory ids in
free text. It does not own prompting, checking ids against what was actually retrieved, or
the loop itself.

Design rules:
  * `parse_step` never raises on any `str` (a crash would kill a chat turn or a rollout);
    anything unusable becomes action "none" with the cleaned text as the thought.
  * The first action in the text wins: the model is meant to stop after `</search>`, so text
    after it (often a hallucinated `<memory>` block and answer) is ignored.
  * `<memory>` is written only by the tool, never by the model, so model-written memory
    blocks are cut before anything else is parsed.
  * Broken JSON is repaired with the `json-repair` library rather than hand-written code;
    regexes are only a last resort for fields the library cannot recover.
  * Every repair is recorded in `ParsedStep.problems`, so callers can log format errors or
    turn them into a format reward.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import json_repair

__all__ = [
    "FinalAnswer",
    "ParsedStep",
    "parse_step",
    "extract_memory_ids",
    "MAX_QUERY_CHARS",
    "MAX_PROFILE_CHARS",
    "MAX_THOUGHT_CHARS",
]

Action = Literal["search", "answer", "none"]

MAX_QUERY_CHARS = 200
MAX_PROFILE_CHARS = 1200
MAX_THOUGHT_CHARS = 2000
MAX_MEMORY_IDS = 64
# A step is a few hundred generated tokens; anything longer is runaway output. Repetition is
# collapsed before the cap, so a long loop followed by a real action keeps the action.
_MAX_RAW_CHARS = 2_000_000
_MAX_TEXT_CHARS = 32_000
# Bounds the work of the JSON scanner / json-repair and of the backtracking phrase regex.
_MAX_JSON_CHARS = 8_000
_MAX_FIELD_WORK_CHARS = 8_000
_MAX_JSON_DEPTH = 32


@dataclass
class FinalAnswer:
    """The policy's final output: a description of the ideal item and the memories it used."""

    ideal_item_profile: str
    useful_memory_ids: list[str] = field(default_factory=list)


@dataclass
class ParsedStep:
    """One parsed generation step.

    `queries` is non-empty only for action "search", `answer` is set only for action
    "answer"; `problems` lists human-readable notes on what had to be repaired or ignored.
    """

    thought: str
    action: Action
    queries: list[str] = field(default_factory=list)
    answer: FinalAnswer | None = None
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

# Protocol tags, tolerant of case, inner spaces (`< /answer >`) and stray attributes. Synonyms
# small models drift to are mapped onto the four real tags.
_TAG = re.compile(
    r"<\s*(/?)\s*(think|thinking|search_query|search|final_answer|answer|memory|memories)"
    r"\s*(?:\s[^<>\n]{0,60})?>",
    re.IGNORECASE,
)
_TAG_KIND = {
    "think": "think", "thinking": "think",
    "search": "search", "search_query": "search",
    "answer": "answer", "final_answer": "answer",
    "memory": "memory", "memories": "memory",
}

# One lowercase level letter, then at least two colon-separated segments. The look-behind
# stops matches inside words ("Note:" must not yield "e:..."); a colon before is allowed so
# that "ids:b:ml-100k:1:2" still yields the id.
_MEMORY_ID = re.compile(r"(?<![A-Za-z0-9_])[a-z](?::[A-Za-z0-9._'&-]+){2,}")

# C0 controls except tab/newline, DEL, zero-width characters and the BOM: invisible noise
# that breaks tag and JSON matching.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2060\ufeff]")
_SCRIPT_BLOCK = re.compile(r"<\s*(script|style)\b[^>]*>.*?(?:<\s*/\s*\1\s*>|$)",
                           re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]{0,30}(?:\s[^<>]{0,300})?/?>")
_LONG_BLANKS = re.compile(r"[ \t]{16,}")
_LONG_NEWLINES = re.compile(r"\n[\s]{2,}\n")
_FENCE = re.compile(r"```[A-Za-z0-9_-]{0,20}")
# Units for repetition collapse: lines, and sentences (Latin and CJK sentence ends).
_UNIT_SPLIT = re.compile(r"(\n+|(?<=[.!?])[ \t]+|(?<=[。！？]))")
# A short phrase repeated 4+ times in a row ("very very very very", "lalalala").
_REPEATED_PHRASE = re.compile(r"(.{3,100}?)\1{3,}")

_PROFILE_KEY_RE = (r"(?:ideal[ _-]?item[ _-]?profile|ideal[ _-]?profile|item[ _-]?profile"
                   r"|profile)")
# A profile key as it appears in JSON-ish text: optional opening quote, key, optional closing
# quote, then ':' or '='.
_PROFILE_KEY = re.compile(r"([\"'“]?)" + _PROFILE_KEY_RE + r"\s*[\"'”]?\s*[:=]",
                          re.IGNORECASE)
# Last-resort value grab when even json-repair yields nothing: up to a closing quote that is
# followed by ',' or '}', or to the end of the line.
_PROFILE_VALUE = re.compile(
    _PROFILE_KEY_RE + r"[\"'”]?\s*[:=]\s*[\"'“]?(?P<v>[^\n]*?)(?:[\"'”]\s*[,}]|\n|$)",
    re.IGNORECASE)
_PROFILE_LABEL = re.compile(r"^\s*(?:the\s+)?" + _PROFILE_KEY_RE + r"\s*[\"'”]?\s*[:=：-]\s*",
                            re.IGNORECASE)
_IDS_LABEL = re.compile(r"(?:useful[ _-]?)?memor(?:y|ies)(?:[ _-]?ids?)?\s*[:=：]",
                        re.IGNORECASE)

# Fallbacks for models that ignore the tags.
_SEARCH_LINE = re.compile(
    r"^[ \t>*_#-]*search(?:[ _-]?(?:query|queries|memory|memories))?[ \t*_]*[:：][ \t*_]*(.*)$",
    re.IGNORECASE | re.MULTILINE)
# Only with a quoted/list argument or `query=`, so prose like "search (again)" is no call.
_SEARCH_CALL = re.compile(
    r"\bsearch(?:_?(?:memory|memories|query|queries|tool))?\s*\(\s*"
    r"(?=[\"'“\[]|quer(?:y|ies)\s*=)", re.IGNORECASE)
_TRAILING_LABEL = re.compile(r"(?:```[A-Za-z0-9_-]{0,20}|\b(?:final\s+)?answer\s*[:：])\s*$",
                             re.IGNORECASE)
_QUOTED = re.compile(r"\"([^\"\n]{1,400})\"|'([^'\n]{1,400})'|“([^”\n]{1,400})”")
_QUERY_SPLIT = re.compile(r"[;\n；]+")
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\d{1,2}[.)])\s+")
_QUERY_LABEL = re.compile(
    r"^\s*(?:search(?:[ _-]?quer(?:y|ies))?|quer(?:y|ies)|q)\s*\d*\s*[:=：]\s*", re.IGNORECASE)

_PROFILE_KEYS = ("idealitemprofile", "idealprofile", "itemprofile", "profile", "idealitem",
                 "itemdescription", "description")
_ID_KEYS = ("usefulmemoryids", "memoryids", "usefulmemories", "usefulmemoryid", "memoryid",
            "memories", "usefulids", "ids", "memory")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def extract_memory_ids(text: str) -> list[str]:
    """All memory ids in `text`, in order of first appearance, without duplicates.

    Ids look like `b:ml-100k:196:242` or `p:ml-100k:196:Crime:likes`: one lowercase letter,
    then colon-separated segments of `[A-Za-z0-9._'&-]`. Used when the answer JSON is broken
    or the model lists ids outside it. Never raises.
    """
    if not isinstance(text, str) or not text:
        return []
    found: list[str] = []
    seen: set[str] = set()
    for match in _MEMORY_ID.finditer(text[:_MAX_TEXT_CHARS * 4]):
        # Sentence-final '.' and the closing quote of single-quoted JSON are in the segment
        # alphabet, so they get swallowed by the regex; drop them.
        memory_id = match.group(0).rstrip(".'&-")
        parts = memory_id.split(":")
        if len(parts) < 3 or not all(parts) or len(memory_id) > 300 or memory_id in seen:
            continue
        seen.add(memory_id)
        found.append(memory_id)
        if len(found) >= MAX_MEMORY_IDS:
            break
    return found


def parse_step(text: str, *, max_queries: int = 3) -> ParsedStep:
    """Parse one generation of the policy into a `ParsedStep`. Never raises.

    See the module docstring for the protocol; `max_queries` caps the search queries kept.
    """
    try:
        return _parse_step(text, max_queries)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not end the chat turn
        thought = ""
        try:
            thought = _sanitize(text if isinstance(text, str) else str(text))[:MAX_THOUGHT_CHARS]
        except Exception:  # noqa: BLE001 - even str() of a weird object may fail
            pass
        return ParsedStep(thought=thought, action="none",
                          problems=[f"parser error ({type(exc).__name__}); output ignored"])


# --------------------------------------------------------------------------------------------
# Implementation
# --------------------------------------------------------------------------------------------

class _Notes(list[str]):
    """`problems` without duplicates, in first-seen order."""

    def add(self, note: str) -> None:
        if note not in self:
            self.append(note)


@dataclass
class _Tag:
    start: int
    end: int
    closing: bool
    kind: str


def _find_tags(text: str) -> list[_Tag]:
    return [_Tag(m.start(), m.end(), bool(m.group(1)), _TAG_KIND[m.group(2).lower()])
            for m in _TAG.finditer(text)]


def _parse_step(text: str, max_queries: int) -> ParsedStep:
    notes = _Notes()
    try:
        limit = max(1, int(max_queries))
    except (TypeError, ValueError, OverflowError):
        limit = 3
    if not isinstance(text, str):
        text = str(text)
        notes.add("input was not a string")

    clean = _prepare(text, notes)
    tags = _find_tags(clean)

    # 1) Tagged actions, in text order; the first usable one wins.
    for index, tag in enumerate(tags):
        if tag.closing or tag.kind not in ("search", "answer"):
            continue
        local = _Notes()
        body_end, region_end = _region_end(tags, index, len(clean), local)
        body = clean[tag.end:body_end]
        tail = clean[region_end:]
        step = _try_action(tag.kind, body, tail, limit, local)
        if step is not None:
            _note_think(tags, tag.start, notes)
            notes.extend(n for n in local if n not in notes)
            if tail.strip():
                notes.add(f"ignored text after the {tag.kind}")
            return _finish(clean[:tag.start], step, notes)
        notes.add(f"unusable <{tag.kind}> ignored")

    # 2) Untagged fallbacks, outside closed <think> blocks (planning text inside them such as
    #    "search: ..." is not an action).
    masked = _mask_think(clean, tags)
    for start, kind, body, tail, note in _fallback_candidates(masked, clean):
        local = _Notes([note])
        step = _try_action(kind, body, tail, limit, local)
        if step is not None:
            _note_think(tags, start, notes)
            notes.extend(n for n in local if n not in notes)
            return _finish(clean[:start], step, notes)

    notes.add("no usable <search> or <answer>")
    return ParsedStep(thought=_clean_thought(clean), action="none", problems=list(notes))


def _prepare(text: str, notes: _Notes) -> str:
    """Sanitize, cut hallucinated memory, collapse repetition, cap length."""
    if len(text) > _MAX_RAW_CHARS:
        text = text[:_MAX_RAW_CHARS]
    text = _sanitize(text)
    text = _cut_memory(text, notes)
    # Runs of blanks carry no meaning (not even inside JSON strings) but eat the length cap.
    text = _LONG_NEWLINES.sub("\n\n", _LONG_BLANKS.sub(" ", text))
    collapsed = _collapse_units(text)
    if len(collapsed) < len(text):
        notes.add("collapsed repeated text")
    if len(collapsed) > _MAX_TEXT_CHARS:
        collapsed = collapsed[:_MAX_TEXT_CHARS]
        notes.add(f"input truncated to {_MAX_TEXT_CHARS} chars")
    return collapsed


def _sanitize(text: str) -> str:
    # Lone surrogates (from bad decoding upstream) cannot be encoded by tokenizers, JSON
    # writers or Chroma later on; replace them here once.
    text = text.encode("utf-8", "replace").decode("utf-8", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace(
        "\u2029", "\n")
    return _CONTROL.sub("", text)


def _cut_memory(text: str, notes: _Notes) -> str:
    """Remove model-written <memory> blocks; an unclosed one runs to the next protocol tag."""
    tags = _find_tags(text)
    if not any(t.kind == "memory" for t in tags):
        return text
    pieces: list[str] = []
    pos = 0
    i = 0
    while i < len(tags):
        tag = tags[i]
        if tag.kind != "memory" or tag.start < pos:
            i += 1
            continue
        pieces.append(text[pos:tag.start])
        if tag.closing:  # stray </memory>
            pos = tag.end
            i += 1
            continue
        end, resume = len(text), len(tags)
        for j in range(i + 1, len(tags)):
            other = tags[j]
            if other.kind == "memory" and other.closing:
                end, resume = other.end, j + 1
                break
            if other.kind != "memory" and not other.closing:
                end, resume = other.start, j
                break
        pos, i = end, resume
        notes.add("cut hallucinated <memory> block")
    pieces.append(text[pos:])
    return "".join(pieces)


def _norm_unit(unit: str) -> str:
    return " ".join(unit.split()).casefold()


def _collapse_units(text: str) -> str:
    """Collapse repeated lines/sentences, the usual failure of small greedy decoders.

    Consecutive duplicates are always dropped; a unit that occurs 3+ times anywhere (cycles
    like "A. B. A. B. A. B.") keeps only its first occurrence. Units are compared without
    protocol tags, and a dropped unit keeps its tags, so "...</think>" glued to a repeated
    sentence still closes the block. Units with fewer than three letters/digits (`}`, `],`)
    are left alone so JSON layout survives. Linear time.
    """
    parts = _UNIT_SPLIT.split(text)
    if len(parts) < 3:
        return text
    units = parts[0::2]
    seps = parts[1::2] + [""]
    counts: dict[str, int] = {}
    keys: list[str | None] = []
    for unit in units:
        key = _norm_unit(_TAG.sub(" ", unit) if "<" in unit else unit)
        if sum(ch.isalnum() for ch in key) < 3:
            keys.append(None)
            continue
        keys.append(key)
        counts[key] = counts.get(key, 0) + 1
    out: list[str] = []
    seen: set[str] = set()
    previous: str | None = None
    for unit, sep, key in zip(units, seps, keys):
        if key is not None and (key == previous or (counts[key] >= 3 and key in seen)):
            tags_only = "".join(m.group(0) for m in _TAG.finditer(unit)) if "<" in unit else ""
            if tags_only:
                out.append(tags_only)
                out.append(sep)
            continue
        if key is not None:
            seen.add(key)
        if unit.strip():
            previous = key
        out.append(unit)
        out.append(sep)
    return "".join(out)


def _collapse_phrases(text: str) -> str:
    return _REPEATED_PHRASE.sub(r"\1", text)


def _region_end(tags: list[_Tag], index: int, length: int, notes: _Notes) -> tuple[int, int]:
    """(end of the body, end of the region incl. its closing tag) for the opener at `index`.

    The body ends at the next protocol tag; only the matching closer is the proper end.
    """
    opener = tags[index]
    if index + 1 < len(tags):
        nxt = tags[index + 1]
        if nxt.closing and nxt.kind == opener.kind:
            return nxt.start, nxt.end
        notes.add(f"missing </{opener.kind}>")
        return nxt.start, nxt.start
    notes.add(f"missing </{opener.kind}>")
    return length, length


def _note_think(tags: list[_Tag], action_start: int, notes: _Notes) -> None:
    before = [t for t in tags if t.kind == "think" and t.start < action_start]
    if not any(not t.closing for t in before):
        notes.add("no <think> block")
    elif not any(t.closing for t in before):
        notes.add("missing </think>")


def _mask_think(text: str, tags: list[_Tag]) -> str:
    """Blank out the content of closed <think> blocks, keeping offsets."""
    out = list(text)
    open_at: int | None = None
    for tag in tags:
        if tag.kind != "think":
            continue
        if not tag.closing and open_at is None:
            open_at = tag.end
        elif tag.closing and open_at is not None:
            for k in range(open_at, tag.start):
                if out[k] != "\n":
                    out[k] = " "
            open_at = None
    return "".join(out)


def _fallback_candidates(masked: str, clean: str) -> list[tuple[int, str, str, str, str]]:
    """Untagged actions as (start, kind, body, tail, note), sorted by position."""
    found: list[tuple[int, str, str, str, str]] = []
    line = _SEARCH_LINE.search(masked)
    if line:
        body = line.group(1)
        end = line.end()
        if not body.strip():
            # "Search:" alone on its line: take the following non-blank lines as queries.
            following = re.match(r"(?:\n[ \t]*\S[^\n]*){1,6}", masked[end:end + 2000])
            if following:
                body = following.group(0)
                end += following.end()
        found.append((line.start(), "search", body, clean[end:], "used 'Search:' line"))
    call = _SEARCH_CALL.search(masked)
    if call:
        args, end = _call_args(masked, call.end())
        quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(args)]
        body = "\n".join(quoted) if quoted else re.sub(r"(?i)^\s*quer(?:y|ies)\s*=\s*", "", args)
        found.append((call.start(), "search", body, clean[end:], "used search(...) call"))
    for key in _PROFILE_KEY.finditer(masked):
        brace = _brace_before(masked, key.start())
        if brace is None and not key.group(1):
            continue  # an unquoted "profile:" in prose is not an answer
        start = key.start() if brace is None else brace
        found.append((start, "answer", masked[start:], "", "answer JSON without <answer> tags"))
        break
    found.sort(key=lambda item: item[0])
    return found


def _call_args(text: str, start: int) -> tuple[str, int]:
    """Argument text of `search(` up to its closing parenthesis outside quotes."""
    quote: str | None = None
    depth = 1
    limit = min(len(text), start + 1000)
    for i in range(start, limit):
        ch = text[i]
        if quote:
            if ch == quote or (quote == "“" and ch == "”"):
                quote = None
        elif ch in "\"“":
            quote = ch
        elif ch == "'" and (i == start or not text[i - 1].isalnum()):
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[start:i], i + 1
    return text[start:limit], limit


def _brace_before(text: str, pos: int) -> int | None:
    """Index of a `{` directly before `pos` (only whitespace between), else None."""
    i = pos - 1
    while i >= 0 and pos - i < 40 and text[i] in " \t\n":
        i -= 1
    return i if i >= 0 and text[i] == "{" else None


def _try_action(kind: str, body: str, tail: str, limit: int, notes: _Notes) -> ParsedStep | None:
    if kind == "search":
        queries = _split_queries(body, limit, notes)
        if not queries:
            return None
        return ParsedStep(thought="", action="search", queries=queries)
    answer = _parse_answer(body, tail, notes)
    if answer is None:
        return None
    return ParsedStep(thought="", action="answer", answer=answer)


def _finish(prefix: str, step: ParsedStep, notes: _Notes) -> ParsedStep:
    # Untagged actions often sit behind an "Answer:" label or an opening code fence.
    for _ in range(3):  # "Answer: ```json" is two labels; a loop avoids a nested regex
        prefix = _TRAILING_LABEL.sub("", prefix)
    step.thought = _clean_thought(prefix)
    step.problems = list(notes)
    return step


# ---- text cleaning --------------------------------------------------------------------------

def _strip_markup(text: str) -> str:
    # Profiles and queries feed dense retrieval and the UI: HTML/script is noise at best.
    text = _SCRIPT_BLOCK.sub(" ", text)
    return _HTML_TAG.sub(" ", text)


def _cap(text: str, limit: int) -> str:
    """Cut to `limit` chars, at a word boundary when one is reasonably close."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clean_thought(text: str) -> str:
    text = _TAG.sub(" ", text)
    text = _strip_markup(text)
    text = _collapse_units(text)
    text = _collapse_phrases(text[:_MAX_FIELD_WORK_CHARS])
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _cap(text, MAX_THOUGHT_CHARS)


def _clean_query(piece: str) -> str:
    piece = _strip_markup(piece)
    piece = _BULLET.sub("", piece)
    piece = _QUERY_LABEL.sub("", piece)
    piece = _one_line(piece).strip("\"'“”‘’`[](){}").strip(" ,.")
    piece = _one_line(_collapse_phrases(piece[:_MAX_FIELD_WORK_CHARS]))
    if not re.search(r"\w", piece):
        return ""
    return _cap(piece, MAX_QUERY_CHARS)


def _clean_profile(text: str, notes: _Notes) -> str:
    text = _TAG.sub(" ", text[:_MAX_FIELD_WORK_CHARS * 2])
    stripped = _strip_markup(text)
    if stripped != text:
        notes.add("markup removed from profile")
    text = _collapse_units(_FENCE.sub(" ", stripped))
    text = _one_line(_collapse_phrases(_one_line(text)[:_MAX_FIELD_WORK_CHARS]))
    text = _PROFILE_LABEL.sub("", text).strip(" \"'“”`")
    if not re.search(r"\w", text):
        return ""
    if len(text) > MAX_PROFILE_CHARS:
        notes.add(f"profile capped at {MAX_PROFILE_CHARS} chars")
        text = _cap(text, MAX_PROFILE_CHARS)
    return text


# ---- search ---------------------------------------------------------------------------------

def _split_queries(body: str, limit: int, notes: _Notes) -> list[str]:
    body = _FENCE.sub("\n", body)
    pieces: list[str] | None = None
    stripped = body.strip()
    if stripped[:1] in ("[", "{"):
        # Some models emit a JSON list / {"query": ...} instead of plain text.
        pieces = _strings_from_json(_load_json(_scan_object(stripped, 0)[0]))
    if not pieces:
        pieces = _QUERY_SPLIT.split(body[:_MAX_JSON_CHARS])
    queries: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        query = _clean_query(piece)
        if not query:
            continue
        key = query.casefold()
        if key in seen:
            notes.add("duplicate queries removed")
            continue
        seen.add(key)
        queries.append(query)
    if len(queries) > limit:
        notes.add(f"kept the first {limit} of {len(queries)} queries")
        queries = queries[:limit]
    return queries


def _strings_from_json(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, list):
        out: list[str] = []
        for item in obj[:50]:
            out.extend(_strings_from_json(item) if isinstance(item, (dict, str)) else [])
        return out
    if isinstance(obj, dict):
        for key, value in obj.items():
            if "quer" in str(key).lower() or str(key).lower() in ("q", "search", "text"):
                return _strings_from_json(value)
    return []


# ---- answer ---------------------------------------------------------------------------------

def _load_json(text: str) -> Any:
    """Strict JSON first, then json-repair; None when neither yields anything."""
    try:
        return json.loads(text, strict=False)
    except Exception:  # noqa: BLE001 - includes RecursionError on pathological nesting
        pass
    try:
        return json_repair.loads(text)
    except Exception:  # noqa: BLE001 - the library must not be able to crash the parser
        return None


def _scan_object(text: str, start: int) -> tuple[str, bool]:
    """The JSON-ish object/list starting at `text[start]` ('{' or '[') and whether it closed.

    String-aware, so braces inside strings ("a {nested} plot") do not end the object. A
    single quote opens a string only where a JSON string could start, so apostrophes in
    unquoted text do not swallow the rest.
    """
    depth = 0
    quote: str | None = None
    escaped = False
    last_sig = ""
    limit = min(len(text), start + _MAX_JSON_CHARS)
    for i in range(start, limit):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote or (quote == "“" and ch == "”"):
                quote = None
                last_sig = '"'
            continue
        if ch in "\"“" or (ch == "'" and last_sig != "" and last_sig in "{[,:"):
            quote = ch
        elif ch in "{[":
            depth += 1
            if depth > _MAX_JSON_DEPTH:
                # Real answers nest 2-3 levels; json-repair slows down badly on deep junk.
                return text[start:i], False
        elif ch in "}]":
            depth -= 1
            if depth <= 0:
                return text[start:i + 1], True
        if not ch.isspace():
            last_sig = ch
    return text[start:limit], False


def _norm_key(key: Any) -> str:
    return re.sub(r"[^a-z]", "", str(key).lower())


def _pick_key(obj: dict[str, Any], wanted: tuple[str, ...], extra: Any) -> Any | None:
    normalized = {_norm_key(k): k for k in obj}
    for name in wanted:
        if name in normalized:
            return normalized[name]
    for norm, key in normalized.items():
        if extra(norm):
            return key
    return None


def _profile_key(obj: dict[str, Any]) -> Any | None:
    return _pick_key(obj, _PROFILE_KEYS, lambda k: "profile" in k)


def _id_key(obj: dict[str, Any]) -> Any | None:
    return _pick_key(obj, _ID_KEYS,
                     lambda k: "memor" in k or (k.endswith("ids") and "profile" not in k))


def _find_answer_dict(obj: Any, depth: int = 0) -> dict[str, Any] | None:
    """The (possibly nested, e.g. {"answer": {...}}) dict that carries a profile key."""
    if depth > 4:
        return None
    if isinstance(obj, dict):
        if _profile_key(obj) is not None:
            return obj
        children = list(obj.values())
    elif isinstance(obj, list):
        children = obj[:20]
    else:
        return None
    for child in children:
        if isinstance(child, (dict, list)):
            found = _find_answer_dict(child, depth + 1)
            if found is not None:
                return found
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return " ".join(_as_text(v) for v in value[:50])
    if isinstance(value, dict):
        return " ".join(_as_text(v) for v in list(value.values())[:50])
    return ""


def _json_answer(raw: str, notes: _Notes) -> dict[str, Any] | None:
    """Find and load the answer object in `raw` (tolerating fences, prose, truncation)."""
    starts: list[int] = []
    first = raw.find("{")
    if first >= 0:
        starts.append(first)
    key = _PROFILE_KEY.search(raw)
    synthetic = False
    if key:
        brace = raw.rfind("{", 0, key.start())
        if brace >= 0 and brace not in starts:
            starts.append(brace)
        elif brace < 0 and key.group(1):
            synthetic = True
    candidates: list[tuple[str, bool, bool]] = [(*_scan_object(raw, s), False) for s in starts]
    if synthetic and key:
        # `"ideal_item_profile": "..."` with the braces forgotten; never "closed" by design.
        candidates.append((*_scan_object("{" + raw[key.start():], 0), True))
    for segment, closed, braces_added in candidates:
        variants = [segment]
        if "“" in segment or "”" in segment:
            variants.append(segment.replace("“", '"').replace("”", '"'))
        for variant in variants:
            strict_ok = True
            try:
                obj = json.loads(variant, strict=False)
            except Exception:  # noqa: BLE001 - fall through to the repairing loader
                strict_ok = False
                try:
                    obj = json_repair.loads(variant)
                except Exception:  # noqa: BLE001 - library failure = no object
                    obj = None
            found = _find_answer_dict(obj)
            if found is None:
                continue
            if variant is not segment:
                notes.add("curly quotes in JSON replaced")
            if braces_added:
                notes.add("missing braces around answer JSON")
            elif not closed:
                notes.add("truncated JSON repaired")
            elif not strict_ok:
                notes.add("invalid JSON repaired")
            return found
    return None


def _ids_from_value(value: Any, notes: _Notes) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    ids: list[str] = []
    dropped = 0
    for item in list(items)[:MAX_MEMORY_IDS * 2]:
        text = _as_text(item) if not isinstance(item, (int, float)) else str(item)
        got = extract_memory_ids(text)
        if not got and text.strip():
            dropped += 1
        ids.extend(i for i in got if i not in ids)
    if isinstance(value, str) and len(ids) > 1:
        notes.add("memory ids given as one string")
    if dropped:
        notes.add(f"dropped {dropped} non-memory-id entries")
    return ids[:MAX_MEMORY_IDS]


def _parse_answer(body: str, tail: str, notes: _Notes) -> FinalAnswer | None:
    raw = body[:_MAX_JSON_CHARS]
    if "```" in raw:
        notes.add("code fence around answer")
        raw = _FENCE.sub("\n", raw)
    obj = _json_answer(raw, notes)
    profile = ""
    ids: list[str] = []
    ids_given = False
    if obj is not None:
        profile = _as_text(obj.get(_profile_key(obj)))
        id_key = _id_key(obj)
        if id_key is not None:
            value = obj[id_key]
            ids = _ids_from_value(value, notes)
            # An explicit empty list means "no memory was useful"; respect it.
            ids_given = bool(ids) or value in ([], "", None)
    if not profile:
        value = _PROFILE_VALUE.search(raw) if "{" in raw else None
        if value and value.group("v").strip():
            profile = value.group("v")
            notes.add("profile recovered from broken JSON")
        elif "{" not in raw:
            # Plain prose inside <answer>: the prose is the profile, ids are cited inline.
            label = _IDS_LABEL.search(raw)
            prose = raw[:label.start()] if label else raw
            profile = _MEMORY_ID.sub(" ", prose)
            if re.search(r"\w", profile):
                notes.add("answer was plain text, not JSON")
    profile = _clean_profile(profile, notes)
    if not profile:
        notes.add("answer without a profile")
        return None
    if not ids_given:
        ids = extract_memory_ids(raw + "\n" + tail[:_MAX_JSON_CHARS])
        if ids:
            notes.add("memory ids taken from outside the JSON")
    return FinalAnswer(ideal_item_profile=profile, useful_memory_ids=ids)
