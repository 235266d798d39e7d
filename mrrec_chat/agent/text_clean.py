"""Text hygiene for the policy-output parser, and the small pieces all parser modules share.

This module owns what is done to text around the tag protocol: sanitizing raw model output
(lone surrogates, line ends, invisible control characters), cutting model-written `<memory>`
blocks, collapsing repetition, capping length, and cleaning the thought, query and profile
fields. It also owns the pieces that `parser` and `answer_json` both need: the protocol tag
pattern (`_TAG`, `_find_tags`), the `_Notes` problem list, the field length limits, and the
memory-id pattern with `extract_memory_ids`. It is the lowest parser module (it imports neither
of the other two), which is why those shared pieces live here and there is no import cycle.
It is separate from `parser.py` so that module holds only the protocol logic; everything
public is still imported from `mrrec_chat.agent.parser`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 200
MAX_PROFILE_CHARS = 1200
MAX_THOUGHT_CHARS = 2000
MAX_MEMORY_IDS = 64
# A step is a few hundred generated tokens; anything longer is runaway output. Repetition is
# collapsed before the cap, so a long loop followed by a real action keeps the action.
_MAX_RAW_CHARS = 2_000_000
_MAX_TEXT_CHARS = 32_000
# Bounds the work of the backtracking phrase regex.
_MAX_FIELD_WORK_CHARS = 8_000


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
_PROFILE_LABEL = re.compile(r"^\s*(?:the\s+)?" + _PROFILE_KEY_RE + r"\s*[\"'”]?\s*[:=：-]\s*",
                            re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\d{1,2}[.)])\s+")
_QUERY_LABEL = re.compile(
    r"^\s*(?:search(?:[ _-]?quer(?:y|ies))?|quer(?:y|ies)|q)\s*\d*\s*[:=：]\s*", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Shared helpers
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


# ---- raw output -----------------------------------------------------------------------------

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
