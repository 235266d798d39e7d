"""Output filter for model-written text shown to the user (the reasoning trace).

The untuned small model has refused, invented, and produced inappropriate text unprompted, so
its words never reach the user unchecked: markup is neutralised, protocol tags are removed,
length is capped, and text containing blocked terms or degenerate repetition is withheld with
a visible notice instead of being shown.
"""

from __future__ import annotations

import html
import re

WITHHELD = "[reasoning withheld by the output filter]"

# Deliberately short and conservative: sexual, violent-threat and slur vocabulary that has no
# place in a movie recommender's reasoning. Genre words ("horror", "killer") are fine.
_BLOCKED = re.compile(
    r"\b(fuck\w*|shit\w*|cunt\w*|bitch\w*|nigg\w*|fag\w*|retard\w*|porn\w*|nude\w*|naked|sex(?:y|ual)?|"
    r"rape\w*|pedo\w*|kill yourself|suicid\w*|whore\w*|slut\w*|dick|cock|pussy|penis|vagina)\b",
    re.IGNORECASE)
_TAGS = re.compile(r"</?\s*(think|search|answer|memory)\s*>", re.IGNORECASE)


def filter_model_text(text: str, max_chars: int = 600) -> tuple[str, bool]:
    """Return (safe text for display, withheld?)."""
    cleaned = _TAGS.sub(" ", text or "")
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        return "", False
    if _BLOCKED.search(cleaned) or _is_degenerate(cleaned):
        return WITHHELD, True
    if len(cleaned) > max_chars:
        cleaned = cleaned[:max_chars].rsplit(" ", 1)[0] + " …"
    return html.escape(cleaned, quote=False), False


def _is_degenerate(text: str) -> bool:
    words = text.split()
    return len(words) >= 30 and len(set(words)) / len(words) < 0.2
