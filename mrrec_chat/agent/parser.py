"""Tolerant parsing of one step of the policy LLM's output into a typed action.

This module owns the contract between the raw text a (small, often broken) policy model
generates and the agent loop: the tag protocol

    <think>reasoning</think> <search>query one; query two</search>
    <think>reasoning</think>
    <answer>{"ideal_item_profile": "...", "useful_memory_ids": [...]}</answer>

is turned into a `ParsedStep` (thought, action, queries or `FinalAnswer`, and a list of the
repairs that were needed). It owns the protocol itself: finding the tags, choosing the action
(tagged first, then the untagged fallbacks), splitting queries and assembling the answer. Two
helper modules hold the rest, and everything public is still imported from here:
`text_clean` (sanitizing, repetition collapse, field cleaning, and `extract_memory_ids`, the
pattern for memory ids in free text) and `answer_json` (tolerant loading of the answer JSON).
It does not own prompting, checking ids against what was actually retrieved, or the loop
itself.

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

import re
from dataclasses import dataclass, field
from typing import Literal

from mrrec_chat.agent.answer_json import (
    _MAX_JSON_CHARS,
    _PROFILE_KEY,
    _as_text,
    _id_key,
    _ids_from_value,
    _json_answer,
    _load_json,
    _profile_key,
    _scan_object,
    _strings_from_json,
)
from mrrec_chat.agent.text_clean import (
    _FENCE,
    _MEMORY_ID,
    _PROFILE_KEY_RE,
    MAX_PROFILE_CHARS,
    MAX_QUERY_CHARS,
    MAX_THOUGHT_CHARS,
    _clean_profile,
    _clean_query,
    _clean_thought,
    _find_tags,
    _Notes,
    _prepare,
    _sanitize,
    _Tag,
    extract_memory_ids,
)

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

# Last-resort value grab when even json-repair yields nothing: up to a closing quote that is
# followed by ',' or '}', or to the end of the line.
_PROFILE_VALUE = re.compile(
    _PROFILE_KEY_RE + r"[\"'”]?\s*[:=]\s*[\"'“]?(?P<v>[^\n]*?)(?:[\"'”]\s*[,}]|\n|$)",
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


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

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


# ---- answer ---------------------------------------------------------------------------------

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
