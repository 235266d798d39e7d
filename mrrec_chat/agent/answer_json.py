"""Tolerant loading of the JSON the policy writes inside `<answer>` (and sometimes `<search>`).

This module owns turning JSON-ish model text into Python values: a string-aware scanner that
finds where an object ends (or that it never does), strict `json` first and the `json-repair`
library second, finding the (possibly nested) answer dict under any of the key spellings small
models drift to, and reading the profile text, the memory ids and search query strings out of
what was loaded. It records every repair in the caller's `_Notes`. It is separate from
`parser.py` because this JSON handling is self-contained and made that module too long; it
depends only on `text_clean` (shared notes, id pattern, profile-key pattern), and `parser`
imports from it, never the other way round.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json_repair

from mrrec_chat.agent.text_clean import _PROFILE_KEY_RE, MAX_MEMORY_IDS, _Notes, extract_memory_ids

# The note for an answer object that never closed (cut by the token budget); the loop keys on it.
TRUNCATED_JSON = "truncated JSON repaired"

# Bounds the work of the JSON scanner / json-repair.
_MAX_JSON_CHARS = 8_000
_MAX_JSON_DEPTH = 32

# A profile key as it appears in JSON-ish text: optional opening quote, key, optional closing
# quote, then ':' or '='.
_PROFILE_KEY = re.compile(r"([\"'“]?)" + _PROFILE_KEY_RE + r"\s*[\"'”]?\s*[:=]",
                          re.IGNORECASE)

_PROFILE_KEYS = ("idealitemprofile", "idealprofile", "itemprofile", "profile", "idealitem",
                 "itemdescription", "description")
_ID_KEYS = ("usefulmemoryids", "memoryids", "usefulmemories", "usefulmemoryid", "memoryid",
            "memories", "usefulids", "ids", "memory")


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
                notes.add(TRUNCATED_JSON)
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
