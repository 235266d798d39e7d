"""Normalising text a person typed (chat messages, hand-written memory entries, search queries)."""

from __future__ import annotations

import re
import unicodedata

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def clean_message(message: object, max_chars: int) -> tuple[str, list[str]]:
    """Normalise user input; return (text, notices). Never raises."""
    notices: list[str] = []
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    text = message if isinstance(message, str) else str(message or "")
    text = _SURROGATE.sub("\ufffd", text)  # lone surrogates cannot be encoded or stored
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()
    if len(text) > max_chars:
        notices.append(f"Your message was {len(text):,} characters; only the first {max_chars:,} were used.")
        text = text[:max_chars]
    return text, notices
