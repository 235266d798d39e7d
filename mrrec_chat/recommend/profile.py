"""The model's ideal item profile, read as structure and checked against the request.

A small model's profile is often unusable: it repeats the prompt's own placeholder ("description
of the ideal item: genres, era, mood, similar titles"), says nothing ("The (1997) The
(Thriller)"), or contradicts what was asked (the request says 80s, the profile says 1970s; the
request refuses horror, the profile asks for it), or loops ("The 1980s are a great place to start. The
1980s are a great place to"). `read_profile` parses the profile with the same
request understanding as the user's message and rejects those cases; the caller then marks the
turn's profile as a fallback. A usable profile contributes softly: its genres become soft
preferences, its named titles weak seeds, its text one semantic signal of the fused ranker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mrrec_chat.recommend.request import Request, fold

# Phrases of our own prompts; a profile that contains one is an echo, not an answer.
PROMPT_PHRASES = ("description of the ideal item", "ids of memories you used", "genres, era, mood",
                  "ideal_item_profile", "useful_memory_ids", "what people usually weigh", "aspect query",
                  "known constraints", "earlier in this chat", "you are mr.rec",
                  # the prompt's own example, and a small model talking about the exchange instead of
                  # describing a film ("The user's response was: They want a thriller; check their taste.")
                  "check their taste", "they want a thriller", "liked thrillers; disliked genres",
                  "user's response", "user is asked", "write a response", "write the final answer")
_STOP = frozenset(["a", "an", "the", "and", "or", "but", "of", "in", "on", "at", "to", "for", "with", "from", "by", "about", "as", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "i", "me", "my", "we", "you", "your", "they", "them", "he", "she", "his", "her", "movie", "movies", "film", "films", "something", "some", "any", "one", "ones", "like", "similar", "ideal", "item", "profile", "genre", "genres", "era", "mood", "title", "titles", "user", "users", "want", "wants", "would", "should", "please", "good", "great", "nice", "really", "very", "more", "most", "also", "just"])
_DECADE = re.compile(r"\b'?(19|20)?(\d)0'?s\b")
# A small model talking to the user instead of describing a film ("hi" -> "I'm ready to assist you.
# Please go ahead and ask your question.")
ASSISTANT_TALK = re.compile(r"\b(?:i'?m|i am) (?:ready|here to|glad|happy to|sorry|an ai)\b|\bassist you\b|\bhelp you\b"
                            r"|\byour question\b|\bgo ahead and\b|\bhow can i help\b|\blet me know\b")
REPEAT_NGRAM = 5  # a run of this many words said twice: a small model looping, not describing


def repeats_itself(text: str, n: int = REPEAT_NGRAM) -> bool:
    """True when some n consecutive words occur twice ("X is a classic. X is a classic. X is")."""
    words = re.findall(r"[a-z0-9']+", fold(text))
    seen: set[tuple[str, ...]] = set()
    for k in range(len(words) - n + 1):
        gram = tuple(words[k:k + n])
        if gram in seen:
            return True
        seen.add(gram)
    return False


@dataclass
class ProfileReading:
    usable: bool
    problems: list[str] = field(default_factory=list)
    genres: tuple[str, ...] = ()  # genres the profile asks for (not refused by the request)
    titles: tuple[str, ...] = ()  # catalog item ids the profile names


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z][a-z'-]+", fold(text)) if w not in _STOP and len(w) > 2]


def read_profile(profile: str, request: Request, understood: Request) -> ProfileReading:
    """`understood`: the profile text run through `request.understand` (no statements)."""
    text = (profile or "").strip()
    folded = fold(text)
    problems: list[str] = []
    if any(phrase in folded for phrase in PROMPT_PHRASES):
        problems.append("profile repeats the prompt")
    if ASSISTANT_TALK.search(folded) and not (understood.wanted or understood.titles):
        problems.append("profile talks to the user instead of describing a film")
    words = content_words(text)
    request_words = set(content_words(request.text))
    new_words = [w for w in words if w not in request_words]
    if len(set(words)) < 2 or (not new_words and not understood.wanted and not understood.titles
                               and len(set(words)) < 4):
        problems.append("profile says nothing")
    elif not new_words:  # "A tense crime thriller for tonight" for "A tense crime thriller for tonight"
        problems.append("profile only repeats the request")
    if repeats_itself(text):
        problems.append("profile repeats itself")
    refused = set(request.genres_refused)
    contradicted = [g for g in understood.wanted if g in refused]
    if contradicted:
        problems.append(f"profile asks for refused genre(s) {', '.join(contradicted)}")
    against_mood = [g for g in understood.wanted if g in request.avoid_genres and g not in request.wanted]
    if against_mood:  # "something light" -> a profile asking for horror and war
        problems.append(f"profile asks for {', '.join(against_mood)}, which the request's mood "
                        f"({', '.join(request.moods)}) avoids")
    if request.year_min is not None or request.year_max is not None:
        for mt in _DECADE.finditer(folded):
            start = int(mt.group(1) or 19) * 100 + int(mt.group(2)) * 10
            if not (request.year_min or 0) - 9 <= start <= (request.year_max or 9999):
                problems.append(f"profile's era ({start}s) contradicts the request ({request.era})")
                break
    genres = tuple(g for g in understood.wanted if g not in refused)
    return ProfileReading(not problems, problems, genres, tuple(understood.titles))
