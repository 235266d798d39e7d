"""Deterministic preference extraction from one chat message (used for memory write-back).

Plain Python + `re`, no model: the write-back runs after every turn, so it has to be cheap,
predictable and impossible to crash. One-slip misspellings of lexicon words are put right first
("horor", "overated"; `_respell`). The message is folded (lower case, no accents, one character
per character so folded offsets equal original offsets), split into sentences and contrast clauses
("but", "pero", "mais", "aber"), and scanned once for cues ("love", "can't stand", "seen", "in the
mood for"), subjects (genres, catalog titles, people, themes, polar attributes such as
"subtitles") and self-contained constraint/context phrases ("under 100 minutes", "date night").
Each subject takes the polarity of the nearest cue before it in its clause (or a cue right after
it: "Horror is the best", "las comedias me encantan"); negation, hedges, holders ("my wife
hates..."), pronouns ("loved it") and "used to ... but now ..." adjust it. Word lists live in
`lexicon.py`.

Two passes over one message, both in this module: the lexical scan (`_Spans.collect`: which cues,
subjects and phrases sit where, keeping the best non-overlapping spans) and binding (`_Run.bind`:
which subject takes which cue, with what polarity and holder), then the output as `Preference`s.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Literal, Sequence

from mrrec_chat.nlu import lexicon as lx
from mrrec_chat.nlu.lexicon import DEFAULT_MOVIE_GENRES

logger = logging.getLogger(__name__)


# A real chat message is far shorter; longer input (pasted logs, abuse) is cut so one turn's
# write-back stays well under a second whatever arrives.
MAX_CHARS = 100_000

Kind = Literal["like", "dislike", "constraint", "context", "seen"]


@dataclass(frozen=True)
class Preference:
    """One extracted statement, ready to become a memory entry."""

    kind: Kind
    subject: str
    # category: a genre; item: a title (item_id when the catalog has it); person: an actor or
    # director; theme: a topic or mood ("heist", "whimsical"); attribute/context: see lexicon.py
    subject_type: Literal["category", "item", "person", "theme", "attribute", "context"]
    text: str
    confidence: float
    item_id: str | None = None
    holder: Literal["user", "other"] = "user"
    supersedes_past: bool = False
    genres: tuple[str, ...] = ()  # catalog genres a theme implies ("heist" -> Crime), for grounding
    # "no horror tonight", "not in the mood for westerns right now": a refusal for this evening, not
    # a lasting dislike (memory keeps it as such; the turn policy refuses it only for a few hours)
    momentary: bool = False
    # "I can't stand rom-coms": the genres a category statement was said of together (Romance and
    # Comedy); a dislike holds for films that are all of them, not for every comedy
    together: tuple[str, ...] = ()


# Words that date a statement to this evening ("tonight", "right now", "heute Abend", "ce soir").
MOMENTARY = re.compile(
    r"\b(?:tonight|today|this (?:evening|time|weekend|afternoon)|right now|at the moment|for now|for a change"
    r"|(?:not )?in the mood|not feeling|heute(?: abend)?|im moment|gerade|ce soir|aujourd'hui|pour l'instant"
    r"|pour ce soir|esta noche|hoy|por ahora|ahora mismo)\b")
LASTING = re.compile(r"\b(?:never|always|ever|in general|generally|at all|nie|jamais|nunca|immer|toujours|siempre)\b")


# A catalog title lookup: text -> (item_id, display title) per title mentioned, or
# (item_id, display title, start, end) where the lookup itself decides which text names a title.
TitleLookup = Callable[[str], Sequence[tuple]]


def names_person(text: str) -> bool:
    """Whether `text` as a whole is a film person's name of the lexicon ("Hitchcock", "the Coens")."""
    folded = _fold(text.strip())
    mt = _PEOPLE.match(folded)
    return mt is not None and mt.end() == len(folded)


def extract_preferences(message: str, *, categories: Sequence[str] | None = DEFAULT_MOVIE_GENRES,
                        title_lookup: TitleLookup | None = None,
                        max_preferences: int = 50, strict: bool = False) -> list[Preference]:
    """Preferences stated in `message`, in message order, at most `max_preferences`.

    `title_lookup(text)` returns (item_id, display_title[, start, end]) for catalog titles named in
    the text (with offsets: `TitleIndex.find_spans` decided where a title is named); without it,
    quoted titles and capitalised names after "loved/hated/saw" become items with no id.
    Never raises unless `strict` (tests: a bug in the extractor must surface, not become "nothing").
    """
    if strict:
        return _extract(message, categories, title_lookup, max_preferences)
    try:
        return _extract(message, categories, title_lookup, max_preferences)
    except Exception:  # write-back must never take a chat turn down; a miss is cheap, a crash is not
        logger.exception("preference extraction failed; storing nothing for this message")
        return []


def _extract(message: Any, categories: Sequence[str] | None, title_lookup: TitleLookup | None,
             max_preferences: int) -> list[Preference]:
    if not isinstance(message, str) or max_preferences <= 0 or not message.strip():
        return []
    cats = tuple(str(c) for c in (categories or DEFAULT_MOVIE_GENRES))
    text = _respell(message[:MAX_CHARS])
    run = _Run(text, _fold(text), _matchers(cats), " movies" if cats == DEFAULT_MOVIE_GENRES else "")
    run.collect(title_lookup)
    run.bind()
    return run.finish(max_preferences)


# ----------------------------------------------------------------------------------------------
# Spelling slips
# ----------------------------------------------------------------------------------------------

_SPELL_WORD = re.compile(r"(?<![\w'-])[A-Za-z][a-z]{2,}(?![\w'-])")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


_INFLECTIONS = ("ed", "er", "ers", "ing", "ly", "es", "en", "est", "s")


@lru_cache(maxsize=1)
def _surnames() -> frozenset[str]:
    return frozenset(_fold(p[1].split()[-1]) for p in lx.PEOPLE) - lx.SPELLING_VOCAB


@lru_cache(maxsize=1)
def _spell_index() -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """The words `_respell` knows and, for each of them and each of its one-letter deletions, which
    known words it comes from (a symmetric-deletion index: a slip of one letter meets its word)."""
    surnames = {_fold(p[1].split()[-1]) for p in lx.PEOPLE}
    vocab = frozenset(lx.SPELLING_VOCAB | {w for w in surnames if w.isalpha() and len(w) >= 6})
    index: dict[str, set[str]] = {}
    for w in vocab:
        for key in _deletes(w) | {w}:
            index.setdefault(key, set()).add(w)
    return vocab, {k: tuple(sorted(v)) for k, v in index.items()}


def _one_slip(typo: str, right: str) -> bool:
    """Whether `typo` is `right` with one slip: two neighbours swapped, a doubled letter dropped or
    added (any length), or one letter replaced, added or dropped (6+ letters); never a plural."""
    if typo[0] != right[0] or typo in (right + "s", right + "es") or right in (typo + "s", typo + "es"):
        return False
    n, m = len(typo), len(right)
    # an ending that differs by a vowel is another language's inflection, not a slip
    # ("favorita", "musicales" are Spanish and French words, not "favorite", "musicals")
    tail = max(n, m) - 2
    if n == m:
        diff = [i for i in range(n) if typo[i] != right[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and typo[diff[0]] == right[diff[1]] \
                and typo[diff[1]] == right[diff[0]]:
            return True
        return len(diff) == 1 and n >= 6 \
            and not (diff[0] >= tail and (typo[diff[0]] in "aeiou" or right[diff[0]] in "aeiou"))
    short, long_ = (typo, right) if n < m else (right, typo)
    if len(long_) != len(short) + 1:
        return False
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            if long_ is right and i == len(long_) - 1 and len(short) >= 3:
                return True  # the last letter dropped: "lik", "movi"
            if i >= tail and long_[i] in "aeious":
                return False
            doubled = (i > 0 and long_[i - 1] == long_[i]) or (i + 1 < len(long_) and long_[i + 1] == long_[i])
            return doubled or len(short) >= 6
    return False


@lru_cache(maxsize=8192)
def _respelt(word: str) -> str | None:
    low = word.lower()
    vocab, index = _spell_index()
    if low in vocab or low in lx.SPELLING_KEEP or low in lx.FILLER:
        return None
    found = {c for key in _deletes(low) | {low} for c in index.get(key, ()) if _one_slip(low, c)
             # a word with an English ending is that word, not a slip of a surname ("walked", "faster")
             and not (c in _surnames() and low.endswith(_INFLECTIONS))}
    if len(found) != 1:
        return None
    fixed = found.pop()
    return fixed[0].upper() + fixed[1:] if word[0].isupper() else fixed


def _respell(text: str) -> str:
    """The message with one-slip misspellings of lexicon words put right ("i realy dont like horor
    movies", "scorcese is overated"); every other word is left as written."""
    return _SPELL_WORD.sub(lambda mt: _respelt(mt.group()) or mt.group(), text)


# ----------------------------------------------------------------------------------------------
# The lexical scan
# ----------------------------------------------------------------------------------------------

@dataclass(eq=False)
class _Cue:
    start: int
    end: int
    polarity: int  # +1 like, -1 dislike, 0 seen
    strength: float
    kind: str  # "pref" | "want" | "seen" | "post" | "similar"
    negated: bool = False
    hedged: bool = False
    past: bool = False
    past_soft: bool = False  # "back in the day": a time, not "used to"; a film's stance then still holds
    change: bool = False
    holder: tuple[str, str | None] = ("user", None)
    own_holder: bool = False  # the cue names its holder itself ("Cars is my nephew's favourite")
    compare: bool = False  # "Alien > Aliens", "better than": the subject after it is only the yardstick
    only: bool = False  # "the only superhero film I rate": the kind it names is otherwise disliked
    repeat: bool = False  # "seen it a hundred times": a viewing that is also a like
    subjects: list["_Subj"] = field(default_factory=list)
    before: list["_Subj"] = field(default_factory=list)


@dataclass(eq=False)
class _Subj:
    start: int
    end: int
    stype: str  # "category" | "item" | "attribute" | "pronoun"
    data: Any = None
    negated: bool = False
    post: _Cue | None = None
    polar: bool = False  # bound to a like/dislike cue (a "seen" binding does not count)
    bound: bool = False
    cue: _Cue | None = None  # the last cue it was bound to, for "it"/"them" resolution
    holder: tuple[str, str | None] | None = None  # whose view that binding was
    consumed: bool = False  # part of a stance on another subject ("Seven was too dark for me")
    exception: bool = False  # named as an exception ("unless it's Unforgiven", "sauf ceux de Leone")
    refusal: bool = False  # refused on its own after a comma ("..., and please no Tarantino")


def _build(alts: Sequence[str], prefix: str) -> re.Pattern[str]:
    """One alternation with a named group per entry, so `lastgroup` says which entry matched."""
    body = "|".join(f"(?P<{prefix}{i}>{a})" for i, a in enumerate(alts))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


@dataclass(frozen=True)
class _Matchers:
    genre: re.Pattern[str]
    genre_targets: tuple[tuple[str, ...], ...]
    cue: re.Pattern[str]
    post: re.Pattern[str]
    attr: re.Pattern[str]
    fixed: re.Pattern[str]
    theme: re.Pattern[str]
    theme_genres: tuple[tuple[str, ...], ...]  # per THEMES entry, the implied genres this catalog has


@lru_cache(maxsize=16)
def _matchers(categories: tuple[str, ...]) -> _Matchers:
    by_fold = {_fold(c): c for c in categories}
    alts: list[str] = []
    targets: list[tuple[str, ...]] = []
    for pattern, genres in lx.GENRE_SYNONYMS:
        kept = tuple(by_fold[_fold(g)] for g in genres if _fold(g) in by_fold)
        if kept:  # a synonym only counts when its genre is in this catalog
            alts.append(rf"(?:{pattern}){lx.LIKENESS_SUFFIX}(?:filme?n?|\s+{lx.MOVIE_NOUN})?")
            targets.append(kept)
    for folded, name in by_fold.items():  # any catalog's own category names, plural or not
        if folded and folded not in lx.BARE_NAME_BLOCKLIST:
            alts.append(re.escape(folded).replace(r"\-", "[- ]").replace(r"\ ", r"\s+")
                        + rf"(?:s|es)?(?:\s+{lx.MOVIE_NOUN})?")
            targets.append((name,))
    post_alts = "|".join(f"(?P<p{i}>{w})" for i, (w, _, _) in enumerate(lx.POST_WORDS))
    return _Matchers(
        genre=_build(alts, "g"), genre_targets=tuple(targets),
        cue=_build([c[0] for c in lx.PRE_CUES], "c"),
        post=re.compile(rf"{lx.POST_LEAD}(?P<w>{post_alts})(?!\w)"),
        attr=_build([rf"(?:too\s+(?:much\s+)?)?(?:{a[0]})" for a in lx.POLAR_ATTRIBUTES], "a"),
        fixed=_build([f[0] for f in lx.SELF_CONTAINED], "f"),
        theme=_build([rf"(?:{t[0]}){lx.LIKENESS_SUFFIX}(?:filme?n?|\s+{lx.MOVIE_NOUN})?" for t in lx.THEMES], "t"),
        theme_genres=tuple(tuple(by_fold[_fold(g)] for g in t[2] if _fold(g) in by_fold) for t in lx.THEMES),
    )


# "Tarantinos films": a possessive written without its apostrophe, before what the person made
_PEOPLE = _build([rf"(?:{p[0]})(?:-?esque|-?ian|-style|s(?=\s+(?:films?|movies?|stuff|work|style|early|later|last|latest"
                  rf"|new|old|best|worst|newer|older)\b))?" for p in lx.PEOPLE], "p")
# The words a name of `PEOPLE` can start with: the long alternation is tried only at those words
# (scanning every position with it cost more than the rest of the extraction together).
_PEOPLE_ANCHORS = frozenset(w for p in lx.PEOPLE for src in (p[0], re.sub(r"[-' ]\?", "", p[0]))
                            for w in re.findall(r"[a-z]+", src))
_PEOPLE_PREFIXES = frozenset(w[:4] for w in _PEOPLE_ANCHORS if len(w) >= 4)  # "coens" starts like "coen"
_WORD_START = re.compile(r"(?<!\w)[a-z]+")
_GIVEN = re.compile(r"(?<![\w'])([A-Z][a-z]+)\s+((?:(?:de|del|van|von|da|di|le|la)\s+)?[A-Z][\w'-]+)(?![\w'])")


_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
           "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
           "\u2013": "-", "\u2014": "-"}


@lru_cache(maxsize=65536)
def _fold_char(c: str) -> str:
    """Fold one character to exactly one character, so folded offsets equal original offsets."""
    if c in _QUOTES:
        return _QUOTES[c]
    low = c.lower()
    if len(low) != 1:  # "İ".lower() is two characters; keep alignment instead
        return c
    if low.isascii():
        return low
    base = "".join(ch for ch in unicodedata.normalize("NFKD", low) if not unicodedata.combining(ch))
    return base[0].lower() if base and base[0].lower().isascii() else low


def _fold(text: str) -> str:
    return "".join(map(_fold_char, text))


_RE = {k: re.compile(v) for k, v in {
    "neg": lx.NEGATOR, "hedge": lx.HEDGE, "subjneg": lx.SUBJECT_NEGATOR, "past": lx.PAST,
    "change": lx.CHANGE, "current": lx.CURRENT, "other": lx.OTHER_HOLDER, "user": lx.USER_HOLDER, "you": lx.YOU_HOLDER,
    "company": lx.COMPANY_PREFIX, "pron": lx.PRONOUN, "ellipsis": lx.ELLIPSIS,
    "question": lx.QUESTION_START, "decade": lx.DECADE, "after": lx.YEAR_AFTER,
    "before": lx.YEAR_BEFORE, "until": lx.YEAR_UNTIL,
    "sentence": r"(?:[!?;\n\u2026]|(?<!\d)\.|\.(?!\d))+",
    # ", so I'm ..." starts a new clause: "We honeymooned in Casablanca, so I'm a sucker for ..."
    "clause": rf"{lx.CONTRAST}|,\s*(?=(?:maybe|perhaps|instead|preferably|ideally|or maybe)\b)"
              r"|,\s*(?=so (?:i|we|i'm|im|i'd|we're|please|just|maybe|something|anything|nothing|no|keep|give|a|an"
              r"|the|some|my|our|it's|its|let's|lets|tonight|for)\b)"
              r"|:\s*(?=(?:something|anything|some|any|a|an|maybe)\b)",
    "runmax": rf"{lx.RUNTIME_MAX}{lx.DURATION}", "runmax2": rf"{lx.DURATION}(?={lx.RUNTIME_MAX_AFTER})",
    "runmin": rf"{lx.RUNTIME_MIN}{lx.DURATION}",
    # "Keep it under 90": a bare number of film length after a limit is minutes
    "runmax_bare": r"(?<!\w)(?:under|less than|shorter than|no (?:longer|more) than|max(?:imum)?|at most|below)\s+"
                   r"(?P<m>[6-9]\d|1\d\d|2[0-4]\d)(?![\d,:/%]|\.\d)(?!\s*(?:%|percent|years?|yrs?|yo|dollars?|bucks|euros?"
                   r"|pounds?|quid|kids?|people|mph|km|miles|degrees|[ap]\.?m\b|o'clock|k\b|stars?|million|mil\b|bn\b"
                   r"|minutes?|mins?|hours?|hrs?|h\b))",
    # "a 90 minute comedy", "a 100-minute film": a length said as an adjective is a length wish
    "runattr": r"(?<!\w)an?\s+(?P<m>[6-9]\d|1\d\d|2[0-4]\d)[- ]min(?:ute)?s?\b",
    "connector": r"^[\s,&/]*(?:(?:and|or|y|et|und|ou|oder|o|plus|nor)\b)?[\s,&/]*$",
    # a run of subjects before a post-cue may hold film modifiers: "quirky indie comedies are great"
    "about_gap": r"^\s+about\s+(?:(?:the|a|an)\s+)?$",
    "credit": r"^\s*,?\s*(?:(?:the one|the film|la|el|le|celle|celui|der|die|das)\s+)?(?:by|de|del|von|di)\s+$",
    "self_cue": r"(?:i|we|i'd|id|we'd|i'll|ill|we'll|i'm|im|we're|ich|wir|je|j'|yo|me|mine|my (?:pick|choice|vote))(?:\b|(?<='))",
    "clitic": r"\b(?:la|lo|las|los|l'|ihn)(?:\b|(?<='))",
    "other_in_post": rf"\b(?:my|our) ((?:\w+ )?{lx.RELATION})\b(?! of)",
    "own_holder": r"(?:one of )?(?:my|our) ([\w-]+)'s\b",
    "run_link": rf"^[\s,&/]*(?:(?:and|or|y|et|und|ou|oder|o|plus|nor)\b)?[\s,&/]*(?:{lx.RUN_MODIFIER}[\s-]+)*$",
    # "Reservoir Dogs is Tarantino at his best": a title equated with the subject a post-cue follows
    "copula_link": r"^\s*(?:(?:is|was|'s)\s+|[:-]\s*)(?:(?:a|an|the|pure|vintage|prime|classic|early|late)\s+)?$",
    # "Moonrise Kingdom especially": a subject singled out of the stance before it
    "especially_after": r"[\s,(-]*(?:especially|in particular|particularly|above all|most of all|for sure)\b",
    "especially_before": r"(?:especially|in particular|particularly|above all|most of all|mostly|notably)"
                         r"\s+(?:(?:the|a|an)\s+)?$",
    # "..., in the best way": the sentence's negative wording is a compliment
    "good_way": r"\bin (?:a|the|the very) (?:good|best|best possible|great|fun|nice|wonderful|delightful) way\b",
    # "The Godfather was incredible, Part III not so much": a sequel named by its part only
    "part": r"(?<![\w'])(?:[Pp]art|[Vv]ol(?:ume)?\.?|[Cc]hapter)\s+(?:[IVX]+|[ivx]+|\d{1,2})(?![\w'])",
    "chain": r"^[\s,]*(?:and|&|or|then)?\s*(?:(?:really|totally|absolutely|honestly)\s+)?$",
    # "Alien > Aliens", "better than Inception": the verdict compares; what follows is the yardstick
    "compare": r"(?:>+|(?:[\w-]+ )*(?:better|worse) than|beats|trumps|(?:superior|inferior) to)$",
    "yardstick": r"^\s*(?:(?:the|a|an|any|every|all|most|each|other|those|these|my|your|their|his|her)\s+)?"
                 r"(?:[\w-]+\s+){0,2}$",
    # "the only superhero film I actually rate": every other film of that kind is disliked
    "only": r"(?:one of )?the (?:only|few) ",
    "first_person": r"\b(?:me|my|i|i'm|i've|us|everyone|everybody|we all|all of us)\b",
    # "Get Out: smart, scary, funny." - adjectives listed after a verdict are more of its wording
    "verdict_list": r"^(?:\s*(?:,|and|&)\s*(?:and\s+)?[\w-]+)*\s*(?:,|and|&)\s*(?:and\s+)?$",
    "list_end": r"\s*(?:[.!?;]|$)",
    # "War films are my dad's thing, not mine": the user's view is the opposite
    "not_mine": r",?\s*(?:but\s+)?(?:(?:not|never) (?:mine|me|for me|my thing|my cup of tea)|i (?:disagree|don'?t agree"
                r"|beg to differ))\b",
    # "seen it a hundred times": a viewing repeated that often is also a like
    "forced": r"\b(?:thanks to|because of|cause of|courtesy of|due to|forced|made me)\b",
    "repeat": r"\b(?:(?:a|one) (?:hundred|thousand|million|zillion|dozen)|hundreds of|thousands of|dozens of"
              r"|countless|so many|too many|more|\d{2,}|ten|twenty|fifty) times\b"
              r"|\b(?:over and over|again and again|on repeat)\b"
              r"|\blost count\b|\b(?:mil|cien|cent|mille|tausend|hundert) ?(?:veces|fois|mal)\b|\bun monton de veces\b"
              r"|\bzigmal\b",
    # a catalog title followed by what is not the film itself ("The Lion King remake", "Cats the musical")
    "title_noun": r"\s+(?:the\s+)?(?:musical|remake|reboot|sequels?|prequels?|book|novel|play|soundtrack|trailer"
                  r"|(?:tv|television) (?:show|series)|cartoon|video ?game|stage (?:show|version)"
                  r"|broadway (?:show|version)|live[- ]action(?: (?:version|remake|one))?|spin-?offs?|reimagining"
                  r"|anime)\b",
    "title_film": r"\s+the\s+(?:movie|film)\b",
    "exception": r"\b(?:except|unless|apart from|other than|aside from|besides|save for|but not|sauf|excepto|salvo"
                 r"|menos|ausser)\b",
    "sake": r"\s+for (?:the sake of it|its own sake|no reason)\b",
    "its_own": r"\b(?:the|its|their|his|her)\s+$",
    # a verdict closing the sentence after ',', '=', ' - ' or ':' ("Bank robbery movies where ... = perfect")
    "tail_sep": r",|=|:|\s[-\u2013]\s",
    # "Saving Private Ryan: the first twenty minutes alone are worth it." - a part of the film, then its verdict
    "tail_np": r":\s*(?:(?:the|its|their|that|this|his|her)\s+)?(?:[\w'-]+\s+){0,5}?(?=(?:is|are|was|were)\s)",
    # "the weirder the better": the comparative names a theme or genre
    "comparative": r"\bthe (?:more (?P<more>[a-z-]+)|(?P<er>[a-z-]+?)(?:er|r)) the better\b",
    # "Heat, Collateral, Thief: Michael Mann is the best" - titles the catalog lacks, listed before a colon
    "title_list": r"^(?:\s*,\s*(?:and\s+)?[A-Z0-9][\w'&.-]*(?:\s+[A-Z0-9][\w'&.-]*)*)*\s*[:\u2013-]\s*$",
    "words": r"[a-z']+",
    "you_object": r"\b(?:up to|thank|thanks to|than|about|on|at|trust|leave it to|over to|to|for)\s+$",
    "comma": r",",
    "request_q": r"\s*(?:(?:maybe|perhaps|or|and|just|so|then|ideally|preferably|or maybe)\s+)?"
                 r"(?:(?:(?:have you got|do you have|got|you got) )?any(?:thing)?\b|(?:what|how) about\b"
                 # "Something whimsical for a rainy day?" asks
                 r"|(?:something|some|a|an|more|algo|quelque chose|etwas|un|une|unos|unas|una|ein|eine|einen)\b)",
    # "no me gustan nada las ...", "I don't want no horror": after a negated cue, a negator is the same
    # negation again (negative concord, "at all"), not a second one that cancels it
    "concord": r"\s*(?:(?:para\s+)?nada|nothing|no|rien|nichts|pas)\b",
    "length_refusal": r"\b(?:hate|hates|can'?t stand|cannot stand|dislike|don'?t (?:like|want)|do not (?:like|want)"
                      r"|not a fan of|tired of|sick of)\b[^.!?;]*$",
    # "..., and please no Tarantino": a refusal of its own after a comma, whatever the stance before it
    "refusal": r"\s*(?:(?:and|so|also|just|please|pls|plz|definitely|absolutely|y|et|und|bitte|por favor)\s+)*"
               r"(?:no|no more|nothing|nada de|pas de|sin|kein\w*)\s",
    "quoted": r'"([^"\n]{1,100})"',
    # a capitalised run just before a year in brackets ("Girls Trip (2017)"), connector words allowed inside
    "dated": r"((?:(?:[A-Z0-9][\w'&:.,!?-]*|and|the|of|a|an|in|on|to|for|with|at|from|vs\.?|&)[ \t]+){0,7}"
             r"[A-Z0-9][\w'&:.!?-]*)(\s*\(((?:19|20)\d\d)\))", "trailing_neg": r"\s+(?:pas|plus|point)\b",
    "trailing_nicht": r"\bnicht(?:\s+so)?(?:\s+(?:gerne?|sehr|wirklich))?\W*$",
    "capspan": r"\s*(?:the (?:movie|film) )?((?:[A-Z0-9][\w'&:.-]*)(?:\s+(?:(?:of|the|in|a|an|on|to|at"
               r"|for|with|from)\s+)*[A-Z0-9][\w'&:.-]*)*(?:\s*\(\d{4}\))?)",
    "caplist": r"(?:\s*,\s*(?:and\s+)?|\s+(?:and|&)\s+)(?=[A-Z0-9])",
}.items()}
_CAP_STOP = frozenset("i i'm it it's my we you he she they this that but and so also too very "
                      "really not no a an some".split())


class _Spans:
    """The span-collection half of `extract._Run` (a mixin).

    Uses `text`, `f` (the folded text), `m` (the matchers), `cues`, `subjs` and `mentions` as set
    by `_Run.__init__`; `collect` fills those lists and sets `fixed` and `ellipses` for binding.
    """

    # ---------------------------------------------------------------- spans
    def collect(self, title_lookup: TitleLookup | None) -> None:
        f, occupied = self.f, bytearray(len(self.f))
        cands: list[tuple[int, int, int, str, Any]] = []  # (priority, start, end, kind, data)
        for s, e, data in self._titles(title_lookup):
            if e < len(f) and f[e] in "!?." and re.sub(r"\s*\(\d{4}\)$", "", data[1]).endswith(self.text[e]):
                e += 1  # "Mamma Mia! makes me happy": the title's own "!" is no sentence end
            noun = _RE["title_noun"].match(f, e)
            if noun:  # "The Lion King remake", "Cats the musical": not the film itself
                cands.append((6, s, noun.end(), "title_topic", data))
                continue
            film = _RE["title_film"].match(f, e)  # "Cats the movie is a crime"
            cands.append((6, s, film.end() if film else e, "item", data))
        for mt in _RE["quoted"].finditer(f):
            cands.append((5, mt.start(), mt.end(), "item", (None, self.text[mt.start(1):mt.end(1)])))
        for mt in self.m.fixed.finditer(f):
            _, kind, subject = lx.SELF_CONTAINED[int(mt.lastgroup[1:])]
            cands.append((4, mt.start(), mt.end(), "fixed", (kind, subject)))
        cands.extend((4, s, e, "fixed", ("constraint", subj)) for s, e, subj in self._numeric())
        for mt in self.m.genre.finditer(f):
            cands.append((3, mt.start(), mt.end(), "category", self.m.genre_targets[int(mt.lastgroup[1:])]))
        for mt in self.m.theme.finditer(f):
            n = int(mt.lastgroup[1:])
            cands.append((3, mt.start(), mt.end(), "theme", (lx.THEMES[n][1], self.m.theme_genres[n])))
        people = self._people()
        cands.extend((5, s, e, "person", name) for s, e, name in people)
        # "Hitchcock never disappoints": the director, not the film *Hitchcock (2012)* (a year would say the film)
        # ... nor is "Michael Bay's" the film *The Bay*: a film's words inside a person's name are the name
        cands = [c for c in cands if not (c[3] == "item" and not re.search(r"\(\d{4}\)", self.text[c[1]:c[2]])
                                          and any(s <= c[1] and c[2] <= e for s, e, _ in people))]
        for mt in self.m.attr.finditer(f):
            neg, pos = lx.POLAR_ATTRIBUTES[int(mt.lastgroup[1:])][1:]
            cands.append((3, mt.start(), mt.end(), "attribute", (neg, pos, f.startswith("too", mt.start()))))
        for mt in self.m.cue.finditer(f):
            cands.append((3, mt.start(), mt.end(), "cue", lx.PRE_CUES[int(mt.lastgroup[1:])]))
        if title_lookup is not None:
            cands += self._dated(cands)
        # Higher priority first, then longer spans ("scary movies" beats "scary").
        cands.sort(key=lambda c: (-c[0], c[1] - c[2], c[1]))
        kept: list[tuple[int, int, str, Any]] = []
        for _, s, e, kind, data in cands:
            if e > s and occupied.find(1, s, e) == -1:
                occupied[s:e] = b"\x01" * (e - s)
                kept.append((s, e, kind, data))
        if title_lookup is None:  # capitalised names after a cue, only where nothing else matched
            kept += self._capitalised([k for k in kept if k[2] == "cue"], occupied)
        kept.sort(key=lambda k: k[0])
        self.fixed: list[tuple[int, int, str, str]] = []
        prev: tuple[int, int, str, Any] | None = None
        for s, e, kind, data in kept:
            if kind == "cue":
                if data[3] == "mute":  # "feels like Groundhog Day": the words name no stance
                    prev = (s, e, kind, data)
                    continue
                cue = _Cue(s, e, data[1], data[2], data[3])
                own = _RE["own_holder"].match(f, s, e)
                if own:  # "my wife's favourite is Titanic": the cue names whose view it is
                    cue.holder, cue.own_holder = ("other", own.group(1)), True
                self.cues.append(cue)
            elif kind == "fixed":  # "the whole family can enjoy" names a context and a constraint
                for k, subject in zip(data[0].split("+"), data[1].split("+")):
                    self.fixed.append((s, e, k, subject))
            else:
                gap = f[prev[1]:s] if prev else ""
                # "documentaries about space": a topic of the genre before it, never a stated preference
                topic = kind == "category" and prev is not None and prev[2] == "category" \
                    and bool(_RE["about_gap"].match(gap))
                # "Amour, de Haneke", "Roma, la de Cuarón": who made the film, not a stance on them
                credit = kind == "person" and prev is not None and prev[2] == "item" and bool(_RE["credit"].match(gap))
                # "no explosions for the sake of it" (gratuitous ones, not the genre); "the sequels not so much"
                # (that film's sequels, not a rule against sequels)
                topic = topic or bool(_RE["sake"].match(f, e)) or (
                    kind == "attribute" and data[0] in ("no sequels", "no remakes")
                    and bool(_RE["its_own"].search(f, max(0, s - 8), s)))
                if kind == "title_topic":
                    self.remade.append((s, data))
                self.subjs.append(_Subj(s, e, "topic" if topic or credit or kind == "title_topic" else kind, data))
            prev = (s, e, kind, data)
        blocked = [(s, e) for s, e, *_ in kept]
        starts = [b[0] for b in blocked]
        for mt in _RE["pron"].finditer(f):  # pronouns only where no span already sits
            i = bisect_right(starts, mt.start()) - 1
            if i < 0 or blocked[i][1] <= mt.start():
                if mt.group().startswith("the original"):  # "The Lion King remake? ... The original though, ..."
                    films = [data for pos, data in self.remade if pos < mt.start()]
                    if films:
                        self.subjs.append(_Subj(mt.start(), mt.end(), "item", films[-1]))
                    continue
                self.subjs.append(_Subj(mt.start(), mt.end(), "pronoun"))
        self.subjs.sort(key=lambda x: x.start)
        self.ellipses = [(mt.start(), 1 if mt.group("pos") else -1 if mt.group("neg") else 0)
                         for mt in _RE["ellipsis"].finditer(f)]
        for kind in ("user", "other", "you"):
            for mt in _RE[kind].finditer(f):
                if kind == "you" and _RE["you_object"].search(f, max(0, mt.start() - 12), mt.start()):
                    continue  # "Up to you, just not horror": "you" is no holder there
                if not _RE["company"].search(f, max(0, mt.start() - 8), mt.start()):
                    self.mentions.append((mt.end(), mt.start(), kind, mt.group(0)))
        self.mentions.sort()

    def _dated(self, cands: list[tuple[int, int, int, str, Any]]) -> list[tuple[int, int, int, str, Any]]:
        """"I watched Girls Trip (2017). But I didn't like it": a dated title the catalog lacks is still
        a film, so "it" is that film and not the comedy asked for before. The capitalised words just
        before the year, after any cue or other span ("Loved Neram (2013)": the film is "Neram")."""
        out = []
        for mt in _RE["dated"].finditer(self.text):
            start, end = mt.start(), mt.end()
            if any(s < end and start < e for _, s, e, kind, _ in cands if kind in ("item", "title_topic")):
                continue  # the catalog's own title
            start = max([start] + [e for _, s, e, *_ in cands if start <= s < mt.start(2)])
            words = self.text[start:mt.start(2)].strip()
            words = re.sub(r"^(?:(?:and|the|of|a|an|in|on|to|for|with|at|from|vs\.?|&|[,.:!?-])\s*)+", "", words)
            if words[:1].isupper() or words[:1].isdigit():
                first = mt.start(2) - len(words)
                out.append((5, first, end, "item", (None, f"{words} ({mt.group(3)})")))
        return out

    def _titles(self, lookup: TitleLookup | None) -> list[tuple[int, int, Any]]:
        if lookup is None:
            return []
        try:
            found = list(lookup(self.text) or [])[:2000]
        except Exception:  # a broken lookup should cost the titles, not the whole extraction
            logger.warning("title_lookup failed; continuing without catalog titles", exc_info=True)
            return []
        spans: list[tuple[int, int, Any]] = []
        for hit in found:
            item_id, title = str(hit[0]), str(hit[1])
            if len(hit) >= 4:  # the lookup says where: it decided that the text names the title
                start, end = int(hit[2]), int(hit[3])
                if 0 <= start < end <= len(self.text):
                    spans.append((start, end, (item_id, title)))
                continue
            base = re.sub(r"\s*\(\d{4}\)\s*$", "", title).strip()
            moved = re.match(r"^(.*),\s*(the|a|an|le|la|les|el|los|las|il|der|die|das)$", base, re.I)
            core = _fold(moved.group(1) if moved else base)  # MovieLens writes "Godfather, The"
            core = re.sub(r"^(?:the|a|an)\s+", "", core).strip()
            if not core:
                continue
            pat = re.compile(r"(?<!\w)(?:(?:the|a|an)\s+)?" + re.escape(core).replace(r"\ ", r"\s+")
                             + r"(?:\s*\(\d{4}\))?(?!\w)")
            hits = list(pat.finditer(self.f))
            if " " not in core:  # one-word titles ("Heat") only where written capitalised
                hits = [mt for mt in hits if self.text[mt.end() - len(core)].isupper()]
            spans += [(mt.start(), mt.end(), (item_id, title)) for mt in hits]
        return spans + self._parts(lookup, spans)

    def _parts(self, lookup: TitleLookup, spans: list[tuple[int, int, Any]]) -> list[tuple[int, int, Any]]:
        """A sequel named by its part after its title ("The Godfather was great, Part III not so
        much"): the lookup is asked for "<title>: Part III"; only a catalog title that carries that
        part counts."""
        out: list[tuple[int, int, Any]] = []
        parts = _RE["part"].finditer(self.text) if spans else iter(())
        for mt in itertools.islice(parts, 20):  # a chat message names a few; bound the lookups
            if any(s < mt.end() and mt.start() < e for s, e, _ in spans):
                continue  # already inside a title ("The Godfather: Part III")
            before = [sp for sp in spans if sp[1] <= mt.start() < sp[1] + 200]
            if not before:
                continue
            item_id, title = max(before, key=lambda sp: sp[1])[2]
            base = re.sub(r"\s*\(\d{4}\)\s*$", "", title)
            base = re.sub(r"[:,]?\s+(?:part|vol(?:ume)?\.?|chapter)\s+\S+$", "", base, flags=re.I)
            numeral = _fold(mt.group(0).split()[-1])
            try:
                hits = list(lookup(f"{base}: {mt.group(0)}") or [])[:5]
            except Exception:
                logger.warning("title_lookup failed on a sequel part", exc_info=True)
                continue
            for hit in hits:
                if str(hit[0]) != item_id and re.search(rf"\b{re.escape(numeral)}\b", _fold(str(hit[1]))):
                    out.append((mt.start(), mt.end(), (str(hit[0]), str(hit[1]))))
                    break
        return out

    def _people(self) -> list[tuple[int, int, str]]:
        """Film people: known names (lexicon.PEOPLE, written with a capital) and "Given Surname"
        runs after a common given name ("no Tom Cruise", "Meryl Streep")."""
        out, taken = [], 0
        for word in _WORD_START.finditer(self.f):
            w = word.group()
            if word.start() < taken or (w not in _PEOPLE_ANCHORS and w[:4] not in _PEOPLE_PREFIXES):
                continue
            mt = _PEOPLE.match(self.f, word.start())
            if mt is None:
                continue
            taken = mt.end()
            # "Nolan", "the Coens", "a Coen brothers film"; not "a cruise"; a long surname or a full name
            # in lower case too ("scorsese is overrated", "love tom hanks"), never a short word ("lynch")
            words = self.text[mt.start():mt.end()].split()
            if any(w[:1].isupper() and w.lower() not in ("the", "and") for w in words) or len(words) >= 2 \
                    or (len(words[0]) >= 5 and words[0].lower() not in lx.SURNAME_WORDS):
                out.append((mt.start(), mt.end(), lx.PEOPLE[int(mt.lastgroup[1:])][1]))
        for mt in _GIVEN.finditer(self.text):
            if mt.group(1).lower() in lx.GIVEN_NAMES:
                name, end = f"{mt.group(1)} {mt.group(2)}", mt.end()
                if name.endswith(("'s", "\u2019s")):  # "Jim Carrey's rubber-face stuff": the name, not the 's
                    name, end = name[:-2], end - 2
                out.append((mt.start(), end, name))
        return out

    def _numeric(self) -> list[tuple[int, int, str]]:
        out: list[tuple[int, int, str]] = []
        for key, label in (("runmax", "at most"), ("runmax2", "at most"), ("runmin", "at least")):
            for mt in _RE[key].finditer(self.f):
                minutes = _minutes(mt)
                # "I hate it when films are over two hours" refuses the length
                refused = key == "runmin" and _RE["length_refusal"].search(self.f[max(0, mt.start() - 60):mt.start()])
                if minutes:
                    out.append((mt.start(), mt.end(), f"{'at most' if refused else label} {minutes} minutes"))
        out += [(mt.start(), mt.end(), f"at most {int(mt.group('m'))} minutes")
                for key in ("runmax_bare", "runattr") for mt in _RE[key].finditer(self.f)]
        for mt in _RE["decade"].finditer(self.f):
            decade = _decade(mt, self.f)
            if decade:
                out.append((mt.start(), mt.end(), f"from the {decade}s"))
        for key, label in (("after", "released after"), ("before", "released before")):
            out += [(mt.start(), mt.end(), f"{label} {mt.group('y')}") for mt in _RE[key].finditer(self.f)]
        out += [(mt.start(), mt.end(), f"released before {int(mt.group('y')) + 1}") for mt in _RE["until"].finditer(self.f)]
        return out

    def _capitalised(self, cues: list[tuple[int, int, str, Any]], occupied: bytearray) -> list:
        out = []
        for _, end, _, _ in cues:
            pos = end
            while pos < len(self.text):
                mt = _RE["capspan"].match(self.text, pos)
                if not mt:
                    break
                s, e = mt.start(1), mt.end(1)
                title = mt.group(1).rstrip(".:-")
                e = s + len(title)
                if title.split()[0].lower() in _CAP_STOP or occupied.find(1, s, e) != -1:
                    break
                occupied[s:e] = b"\x01" * (e - s)
                out.append((s, e, "item", (None, title)))
                nxt = _RE["caplist"].match(self.text, e)  # "loved Heat, Alien and Fargo"
                if not nxt:
                    break
                pos = nxt.end()
        return out


def _minutes(mt: re.Match[str]) -> int | None:
    num = mt.group("num")
    try:
        value = float(num.replace(",", ".")) if num[:1].isdigit() else float(lx.NUMBER_WORDS[num])
    except (KeyError, ValueError):
        return None
    if mt.group("half1") or mt.group("half2"):
        value += 0.5
    minutes = value * 60 if mt.group("unit")[0] in "hs" else value  # hours/horas/heures/stunden
    return int(round(minutes)) if 0 < minutes <= 1000 else None


def _decade(mt: re.Match[str], folded: str) -> int | None:
    after = folded[mt.end():mt.end() + 12]
    noun_after = bool(re.match(rf"\s+{lx.MOVIE_NOUN}\b|\s+(?:classics?|action|comed|era)", after))
    if mt.group("full"):
        return int(mt.group("full")) * 10
    if mt.group("de"):
        return 1900 + int(mt.group("de")) * 10 if int(mt.group("de")) >= 3 else 2000 + int(mt.group("de")) * 10
    if not (mt.group("pre") or noun_after):
        return None  # "I'm in my 30s" is not an era request
    if mt.group("word"):
        return lx.DECADE_WORDS[mt.group("word")]
    digit = mt.group("short") or mt.group("bare")
    if mt.group("bare") and not re.search(r"anos|annees|los", mt.group("pre") or ""):
        return None
    d = int(digit)
    return 2000 + d * 10 if d <= 2 else 1900 + d * 10


# ----------------------------------------------------------------------------------------------
# Binding and output
# ----------------------------------------------------------------------------------------------

class _Run(_Spans):
    """State for one message: spans, sentences and the raw preferences found so far."""

    def __init__(self, text: str, folded: str, m: _Matchers, noun: str) -> None:
        self.text, self.f, self.m, self.noun = text, folded, m, noun
        self.cues: list[_Cue] = []
        self.subjs: list[_Subj] = []
        self.raw: list[dict[str, Any]] = []
        self.mentions: list[tuple[int, int, str, str | None]] = []
        self.good_way: list[tuple[int, int]] = []  # sentences that call their negative wording good
        self.remade: list[tuple[int, Any]] = []  # titles named for their remake, musical, ... ("the original")
        self.muted: list[tuple[int, int]] = []  # text that states nothing (what a comparison measures against)

    # ---------------------------------------------------------------- binding
    def bind(self) -> None:
        f = self.f
        self.starts = [s.start for s in self.subjs]
        cue_starts = [c.start for c in self.cues]
        items = [(s.start, s.end) for s in self.subjs if s.stype == "item"]
        sentences, prev = [], 0
        for mt in _RE["sentence"].finditer(f):
            i = bisect_right(items, (mt.start(), len(f))) - 1
            if i >= 0 and items[i][1] > mt.start():  # "Mamma Mia!" does not end a sentence
                continue
            sentences.append((prev, mt.end()))
            prev = mt.end()
        if prev < len(f):
            sentences.append((prev, len(f)))
        self.good_way = [(ss, se) for ss, se in sentences if _RE["good_way"].search(f, ss, se)]
        for ss, se in self.good_way:  # "Jaws made me afraid of the ocean, in the best way."
            for cue in self.cues[bisect_left(cue_starts, ss):bisect_left(cue_starts, se)]:
                cue.polarity = abs(cue.polarity)
        prev_unbound: list[_Subj] = []
        prev_had_cue = True
        prev_open: list[_Subj] = []
        prev_polar = True
        prev_mixed: list[_Subj] = []  # a mixed review's films ("great songs but the story left me cold")
        recalled: list[tuple[int, int]] = []  # sentences about an earlier viewing ("saw it on a plane")
        seen_starts = [c.start for c in self.cues if c.kind == "seen"]
        self.fixed_starts = [x[0] for x in self.fixed]
        self.ellipsis_starts = [x[0] for x in self.ellipses]
        for ss, se in sentences:
            # "Scorsese? Too long, every time.": a verdict standing alone may name an attribute in its own
            # words; that is the verdict, not a constraint (bound below, after the clauses)
            inside = False
            lo, hi = bisect_left(self.starts, ss), bisect_left(self.starts, se)
            if prev_open and not prev_polar and lo < hi \
                    and bisect_left(cue_starts, se) == bisect_left(cue_starts, ss):
                post = self._post_at(ss, se)
                if post and all(x.end <= post.end for x in self.subjs[lo:hi]) \
                        and not [w for w in _RE["words"].findall(f, post.end, se) if w not in lx.FILLER]:
                    inside = True
                    for x in self.subjs[lo:hi]:
                        x.consumed = x.bound = True
            # "Any documentaries?" asks for the genre; other questions state nothing by themselves.
            question = ("?" in f[ss:se] or bool(_RE["question"].match(f, ss, se))) \
                and not _RE["request_q"].match(f, ss, se)
            if bisect_left(seen_starts, se) > bisect_left(seen_starts, ss):
                recalled.append((ss, se))
            clauses, cs, reset = [], ss, False
            for mt in _RE["clause"].finditer(f, ss, se):
                clauses.append((cs, mt.start(), reset))
                cs, reset = mt.end(), mt.group(0).startswith((",", ":"))
            clauses.append((cs, se, reset))
            inherit: _Cue | None = None
            had_cue, unbound_all = False, []
            holder: tuple[str, str | None] | None = None
            before: list[_Subj] = []  # the previous clause's subjects
            for n, (cs, ce, reset) in enumerate(clauses):
                cues = self.cues[bisect_left(cue_starts, cs):bisect_left(cue_starts, ce)]
                subjs = self.subjs[bisect_left(self.starts, cs):bisect_left(self.starts, ce)]
                if reset:
                    inherit = None
                elif n and not cues and all(x.stype == "pronoun" for x in subjs):
                    self._contrast_verdict(before, cs, ce, subjs)  # "Inception is fine, I guess, but overrated."
                unbound, holder = self._clause(cs, ce, cues, subjs, inherit, question, holder)
                if cues:
                    had_cue, inherit = True, cues[-1]
                unbound_all += unbound
                before = subjs
            # "Horror movies? Hard pass." - a cue with nothing to bind takes the previous
            # sentence's bare subjects.
            sentence_cues = self.cues[bisect_left(cue_starts, ss):bisect_left(cue_starts, se)]
            for cue in sentence_cues:
                if not cue.subjects and prev_unbound and not prev_had_cue and cue.kind != "want":
                    for s in prev_unbound:
                        self._bind(s, cue, cue.holder, cue.start)
            lo, hi = bisect_left(self.starts, ss), bisect_left(self.starts, se)
            if prev_open and not prev_polar and not sentence_cues and (lo == hi or inside):
                post = self._post_at(ss, se)  # "Gladiator? Overrated.", "Finally saw Parasite. Wow."
                if post and not [w for w in _RE["words"].findall(f, post.end, se) if w not in lx.FILLER]:
                    for s in prev_open:  # a verdict standing alone
                        self._bind(s, post, post.holder, post.start)
            elif prev_mixed and not sentence_cues and lo == hi:
                post = self._post_at(ss, se)  # "... had great songs but the story left me cold. Not for me."
                if post and post.polarity and f[post.start:post.end] not in lx.POST_BARE_END \
                        and not [w for w in _RE["words"].findall(f, post.end, se) if w not in lx.FILLER]:
                    for s in prev_mixed:  # the closing verdict wins over the praise of a part
                        self._bind(s, post, post.holder if post.own_holder else s.holder or ("user", None),
                                   post.start)
            self._singled_out(self.subjs[lo:hi], ss, se)
            self._verdict_tail(self.subjs[lo:hi], sentence_cues, ss, se)
            self._sentence_extras(self.subjs[lo:hi], ss, se)
            prev_unbound, prev_had_cue = [s for s in unbound_all if not s.bound], had_cue
            prev_open = [s for s in self.subjs[lo:hi] if not s.polar and not s.consumed
                         and s.stype not in ("pronoun", "topic")]  # unbound, or only seen
            prev_polar = any(c.polarity for c in sentence_cues)
            contrast = len(clauses) > 1 and any(not r for _, _, r in clauses[1:])
            prev_mixed = [s for s in self.subjs[lo:hi] if s.polar and not s.consumed and s.stype in ("item", "person")
                          and s.holder and s.holder[0] == "user"] if contrast else []
        recalled_starts = [a for a, _ in recalled]
        for pos, _, kind, subject in self.fixed:
            i = bisect_right(recalled_starts, pos) - 1
            if kind == "context" and i >= 0 and pos < recalled[i][1]:
                continue
            if any(a <= pos < b for a, b in self.muted):
                continue
            self._add(kind, subject, "context" if kind == "context" else "attribute", 0.8, pos)

    def _contrast_verdict(self, before: list[_Subj], cs: int, ce: int, own: list[_Subj]) -> None:
        """A clause after "but" that is only a verdict ("Inception is fine, I guess, but overrated",
        "Arrival was slow but worth it") is about the clause before it, and outweighs a mild verdict
        there ("fine", "ok") or any verdict it turns to the good."""
        post = self._post_at(cs, ce)
        if not post or [w for w in _RE["words"].findall(self.f, post.end, ce) if w not in lx.FILLER] \
                or any(x.end > post.end for x in own):
            return
        for s in before:
            if s.stype in ("pronoun", "topic") or s.consumed:
                continue
            cue = s.cue
            # "slow but worth it" turns to a like; "fine, but overrated" to a dislike; "amazing but tiring" stays
            if not s.polar or (cue is not None and cue.polarity != post.polarity
                               and (post.polarity > 0 or cue.strength <= 0.6 or post.strength >= 0.9)):
                self._bind(s, post, post.holder if post.own_holder else s.holder or ("user", None), post.start)

    def _verdict_tail(self, subjs: list[_Subj], cues: list[_Cue], ss: int, se: int) -> None:
        """A verdict that closes the sentence after a comma ("Babe is for little kids, not for me"),
        or a sentence that calls itself good ("Run Lola Run was exhausting in a good way"), is about
        the sentence's subjects that nothing else bound."""
        open_ = [s for s in subjs if not s.polar and not s.consumed and s.stype not in ("pronoun", "topic")]
        # "Pulp Fiction was okay, nothing special": a closing verdict outweighs a mild one ("ok", "fine")
        mild = [s for s in subjs if s.polar and not s.consumed and s.stype not in ("pronoun", "topic")
                and s.cue is not None and s.cue.strength <= 0.6 and not s.cue.negated and not s.negated]
        if not open_ and not mild:
            return
        f = self.f
        good = _RE["good_way"].search(f, ss, se)
        if good:
            cue = _Cue(good.start(), good.end(), 1, 0.8, "post")
            for s in open_:
                if s.stype == "item" and s.end <= good.start():
                    self._bind(s, cue, self._holder(ss, s.start) or ("user", None), s.start)
            return
        last_end = max(s.end for s in subjs if s.stype != "pronoun")  # "...: ... are worth it"
        if any(c.start >= last_end and c.polarity for c in cues):  # "X schon gesehen, war spannend" binds
            return
        for sep in _RE["tail_sep"].finditer(f, last_end, se):
            post = self._post_at(sep.end(), se)
            part = _RE["tail_np"].match(f, sep.start(), se) if sep.group() == ":" else None
            if part and not post:  # "Saving Private Ryan: the first twenty minutes alone are worth it."
                post = self._post_at(part.end(), se)
            if post and not [w for w in _RE["words"].findall(f, post.end, se) if w not in lx.FILLER]:
                for s in open_:
                    who = post.holder if post.own_holder else self._holder(ss, s.start) or ("user", None)
                    self._bind(s, post, who, s.start)
                for s in mild:
                    if post.polarity and post.polarity != s.cue.polarity:
                        self._bind(s, post, post.holder if post.own_holder else s.holder or ("user", None),
                                   post.start)
                return

    def _sentence_extras(self, subjs: list[_Subj], ss: int, se: int) -> None:
        """Sentence-level wording: "X is my dad's thing, not mine" (the user holds the opposite view) and
        "the weirder the better" (the comparative names a theme, genre or attribute that is liked)."""
        f = self.f
        mine = _RE["not_mine"].search(f, ss, se)
        if mine:
            for s in subjs:
                cue = s.cue
                if s.start < mine.start() and s.polar and cue is not None and s.holder and s.holder[0] == "other":
                    pol = cue.polarity * (-1 if cue.negated else 1) * (-1 if s.negated else 1)
                    if pol:
                        self._bind(s, _Cue(mine.start(), mine.end(), -pol, 0.8, "pref"), ("user", None), mine.start())
        for mt in _RE["comparative"].finditer(f, ss, se):
            if mt.group("more"):
                stems = [mt.group("more")]
            else:
                w = mt.group("er")
                stems = [w[:-1] + "y" if w.endswith("i") else w, w + "e",
                         w[:-1] if len(w) > 3 and w[-1] == w[-2] else w]
            for stem in stems:
                found = self._word_subject(stem)
                if found:
                    sub = _Subj(mt.start(), mt.end(), found[0], found[1])
                    who = self._holder(ss, mt.start()) or ("user", None)
                    self._bind(sub, _Cue(mt.start(), mt.end(), 1, 0.8, "pref"), who, mt.start())
                    break

    def _word_subject(self, word: str) -> tuple[str, Any] | None:
        """The subject one word names on its own ("weird" -> the theme, "scary" -> the attribute), if any."""
        mt = self.m.theme.fullmatch(word)
        if mt:
            n = int(mt.lastgroup[1:])
            return "theme", (lx.THEMES[n][1], self.m.theme_genres[n])
        mt = self.m.genre.fullmatch(word)
        if mt:
            return "category", self.m.genre_targets[int(mt.lastgroup[1:])]
        mt = self.m.attr.fullmatch(word)
        if mt:
            neg, pos = lx.POLAR_ATTRIBUTES[int(mt.lastgroup[1:])][1:]
            return "attribute", (neg, pos, False)
        return None

    def _singled_out(self, subjs: list[_Subj], ss: int, se: int) -> None:
        """"Wes Anderson's style is so charming, Moonrise Kingdom especially": a subject singled out
        with "especially"/"in particular" shares the stance of the subject before it."""
        f, prev = self.f, None
        for s in subjs:
            if not s.bound and prev is not None and s.stype not in ("pronoun", "topic") and (
                    _RE["especially_after"].match(f, s.end, se)
                    or _RE["especially_before"].search(f, max(ss, s.start - 30), s.start)):
                self._bind(s, prev.cue, prev.holder or ("user", None), s.start)
            if s.polar and s.cue is not None:
                prev = s

    def _clause(self, cs: int, ce: int, cues: list[_Cue], subjs: list[_Subj], inherit: _Cue | None,
                question: bool, holder: tuple[str, str | None] | None) -> tuple[list[_Subj], Any]:
        f = self.f
        events = sorted([*cues, *subjs], key=lambda e: e.start)
        next_cue_start, upcoming = [ce] * len(events), ce  # scope of each cue ends at the next cue
        for i in range(len(events) - 1, -1, -1):
            next_cue_start[i] = upcoming
            if isinstance(events[i], _Cue):
                upcoming = events[i].start
        last: _Cue | None = None
        since: list[_Subj] = []  # subjects since the last cue
        prev_end = solid_end = cs  # the end of the last event; of the last that is no pronoun
        for i, ev in enumerate(events):
            if isinstance(ev, _Cue):
                self._setup_cue(ev, cs, prev_end, next_cue_start[i])
                found = self._holder(max(cs, last.end if last else cs), ev.start)
                if _RE["self_cue"].match(f, ev.start, ev.end):  # "I want ...", "me encanta ..."
                    found = ("user", None)
                ev.holder = holder = ev.holder if ev.own_holder else found or holder or ("user", None)
                ev.before = [s for s in since if not s.polar and s.stype != "pronoun"]
                last, since = ev, []
            elif ev.stype == "pronoun":
                ev.post = self._post(ev, ce)
                near = last and not last.subjects and ev.start - last.end < 40 \
                    and len(f[last.end:ev.start].split()) <= 3  # "loved it", "can't stand them"
                if ev.post or near:
                    cue = ev.post or last
                    who = cue.holder if cue.own_holder or not ev.post else self._holder(cs, ev.start)
                    if ev.post:
                        self._consume(ev.post, events, i + 1, who or cue.holder)
                    for s in self._referent(ev.start):
                        self._bind(s, cue, who or cue.holder, ev.start, direct=False)
            elif ev.consumed:
                continue
            else:
                tail = f[max(cs, prev_end):ev.start]
                ev.negated = bool(_RE["subjneg"].search(tail[tail.rfind(",") + 1:]))
                wide = f[max(cs, solid_end):ev.start]  # "unless it's Unforgiven": past the pronoun
                wide = wide[wide.rfind(",") + 1:]
                if not ev.negated and _RE["exception"].search(wide) and _RE["subjneg"].search(wide):
                    ev.negated = True
                ev.exception = ev.negated and bool(_RE["exception"].search(wide))
                if since and since[-1].end == prev_end and not tail.strip():  # "no Adam Sandler comedies"
                    ev.negated = ev.negated or since[-1].negated
                if ev.negated and last is not None and last.negated and last.polarity > 0 and prev_end == last.end \
                        and _RE["concord"].match(tail):  # "No me gustan nada las películas", "je veux pas de romance"
                    ev.negated = False
                # "Not into dramas though, and please no Tarantino" (the comma may end the clause before)
                comma = f.rfind(",", max(0, ev.start - 60), ev.start)
                ev.refusal = ev.negated and comma >= 0 and (comma >= prev_end or prev_end == cs) \
                    and bool(_RE["refusal"].match(f, comma + 1, ev.start))
                ev.post = None if question else self._post(ev, ce)  # "Is Titanic worth watching?"
                if ev.post:  # "comedies and dramas are great": the post-cue takes the whole run
                    who = self._holder(max(cs, last.end if last else cs), ev.start) or holder or ("user", None)
                    who = ev.post.holder if ev.post.own_holder else who
                    lead = self._consume(ev.post, events, i + 1, who)  # "Scorsese's gangster films are ..."
                    run = [ev]
                    for prev in since[-50:][::-1]:
                        gap = f[prev.end:run[-1].start]
                        linked = _RE["run_link"].match(gap) or (prev.stype == "item" and (
                            (len(run) == 1 and (_RE["copula_link"].match(gap)  # "Heat is Mann at his best"
                                                or _RE["title_list"].match(self.text[prev.end:run[-1].start])))
                            or (run[-1].stype == "topic" and _RE["credit"].match(gap))))  # "Jaws by Spielberg is"
                        if last or prev.polar or not linked:
                            break
                        run.append(prev)
                    run += lead
                    if last is not None and last.kind == "seen":  # "J'ai vu Amélie, c'était charmant": both
                        self._bind(ev, last, last.holder, ev.start)
                    for s in run:
                        self._bind(s, ev.post, who, s.start)
                elif ev.refusal and last is not None:
                    who = self._holder(max(cs, last.end), ev.start) or ("user", None)
                    self._bind(ev, _Cue(ev.start, ev.start, 1, 0.8, "pref"), who, ev.start)
                elif last:
                    self._bind(ev, last, last.holder, ev.start)
                since.append(ev)
            prev_end = ev.end
            if not (isinstance(ev, _Subj) and ev.stype == "pronoun"):
                solid_end = ev.end
        for i in range(len(cues) - 1, -1, -1):
            cue = cues[i]
            if cue.subjects:
                continue
            if cue.kind == "ref":  # "ich kann es nicht mehr sehen": the pronoun inside names the film before
                for s in self._referent(cue.start):
                    self._bind(s, cue, cue.holder, s.start, direct=False)
                continue
            if cue.kind == "seen" and _RE["clitic"].search(f, cue.start, cue.end):  # "Ya la vi."
                for s in self._referent(cue.start):  # the pronoun names the film itself
                    if s.stype == "item":
                        self._bind(s, cue, cue.holder, s.start, direct=False)
                continue
            if i + 1 < len(cues) and _RE["chain"].match(f[cue.end:cues[i + 1].start]) \
                    and not (cue.kind == "want" and cues[i + 1].polarity < 0):  # "want the opposite of X"
                targets = list(cues[i + 1].subjects)  # "I've seen and loved Heat"
            elif cue.kind != "want":  # a request points forward: "seen Heat, want something new"
                targets = cue.before  # "Science-Fiction finde ich super", "Heat, what a film"
                if not targets and i > 0 and cue.polarity and cue.holder[0] != cues[i - 1].holder[0] \
                        and cue.end <= ce and not self.subjs[bisect_left(self.starts, cue.end):bisect_left(self.starts, ce)]:
                    # "My friends keep quoting Clueless, I never got the hype": another holder's subjects
                    targets = [s for s in cues[i - 1].subjects if s.stype not in ("pronoun", "topic")]
                if cue.kind == "similar" and not targets:  # "Just saw Parasite. Anything similar?", "More of that"
                    targets = [s for s in self._referent(cue.start) if not (
                        s.polar and s.cue is not None and s.cue.polarity * (-1 if s.cue.negated else 1) < 0)]
            else:
                targets = []
            for s in targets:
                self._bind(s, cue, cue.holder, s.start)
        lo, hi = bisect_left(self.ellipsis_starts, cs), bisect_left(self.ellipsis_starts, ce)
        for pos, polarity in self.ellipses[lo:hi]:  # "..., but I do." / "so do I"
            for s in self._referent(pos):
                pol = polarity or (s.cue.polarity * (-1 if s.cue.negated else 1) if s.cue else 0)
                if pol:
                    self._bind(s, _Cue(pos, pos, pol, 0.8, "pref"), ("user", None), pos)
        unbound = [s for s in subjs if s.stype not in ("pronoun", "topic") and not s.bound]
        if not unbound:
            return unbound, holder
        # Blank out subjects and constraint/context phrases: if only filler words remain
        # ("Comedy please!", "something funny from the 80s") the clause is a bare request.
        fixed = self.fixed[bisect_left(self.fixed_starts, cs):bisect_left(self.fixed_starts, ce)]
        spans = [(s.start, s.end) for s in subjs] + [(a, b) for a, b, _, _ in fixed]
        chars = list(f[cs:ce])
        for a, b in spans:
            chars[a - cs:min(b, ce) - cs] = " " * (min(b, ce) - a)
        words = [w for w in _RE["words"].findall("".join(chars)) if w not in lx.FILLER]
        bare = not question and not words and not cues
        # "Something quirky and offbeat, like a Wes Anderson film": a request opens the clause.
        head = cues[0].start if cues else ce
        blank, strict = "".join(chars), question or "?" in f[cs:ce]
        windows: list[tuple[int, int]] = []  # request openers: the clause start, then each comma
        for a in itertools.chain((cs,), (cs + c.end() for c in _RE["comma"].finditer(blank, 0, head - cs))):
            if not _RE["request_q"].match(f, a, head):
                continue
            stop = head  # "Something cozy for a Sunday afternoon": up to "sunday"
            for n, w in enumerate(_RE["words"].finditer(blank, a - cs, head - cs)):
                if w.group() not in lx.FILLER or n >= 40:
                    # a question keeps the whole-window rule: "Any horror fans here?" asks for nothing
                    stop = a if strict else cs + w.start()
                    break
            windows.append((a, stop))
        window_starts = [a for a, _ in windows]
        for s in unbound:
            who = self._holder(cs, s.start) or ("user", None)
            if s.refusal:  # "Not into dramas though, and please no Tarantino": no stance inherited
                self._bind(s, _Cue(s.start, s.start, 1, 0.8, "pref"), who, s.start)
            elif inherit is not None and not cues:  # "I love comedies but also dramas"
                self._bind(s, inherit, inherit.holder, s.start)
            elif s.exception and (rule := self._rule_before(subjs, s)) is not None:
                # "No westerns, unless it's Unforgiven": the exception takes the opposite stance
                self._bind(s, _Cue(s.start, s.start, -rule, 0.8, "pref"), who, s.start, direct=False)
            elif s.negated or (s.stype == "attribute" and s.data[2] and not question):  # "no horror", "too long"
                self._bind(s, _Cue(s.start, s.start, 1, 0.8, "pref"), who, s.start)
            elif (bare or self._opened(windows, window_starts, s)) and s.stype != "item":  # "Comedy please!"
                self._bind(s, _Cue(s.start, s.start, 1, 0.6, "want"), who, s.start)
        return [s for s in unbound if not s.bound], holder

    def _consume(self, post: _Cue, events: list[Any], first: int, who: tuple[str, str | None]) -> list[_Subj]:
        """Subjects a post-cue spans. Those in its lead share its stance and are returned
        ("Scorsese's gangster films are untouchable"); attributes, moods and genres in its wording are
        not requests ("Seven was too dark for me", "I find it cheesy", "Elf is funny"), and neither
        are adjectives listed after it to the end of the sentence ("Get Out: smart, scary, funny.").
        The film a comparison is measured against is no stance ("Alien > Aliens"); the kind named in
        "the only superhero film I rate" is disliked."""
        lead, f = [], self.f
        for n, ev in enumerate(events[first:first + 8]):
            if not isinstance(ev, _Subj) or ev.stype == "pronoun":
                continue
            if ev.start >= post.end:
                if post.compare and _RE["yardstick"].match(f[post.end:ev.start]):
                    ev.consumed = ev.bound = True  # "Psycho > any modern slasher": no stance, no constraint
                    self.muted.append((post.end, ev.end))
                elif ev.stype in ("attribute", "theme", "category") and _RE["verdict_list"].match(f[post.end:ev.start]):
                    chain = [ev]
                    for nxt in events[first + n + 1:first + n + 8]:
                        if not (isinstance(nxt, _Subj) and nxt.stype in ("attribute", "theme", "category")
                                and _RE["verdict_list"].match(f[chain[-1].end:nxt.start])):
                            break
                        chain.append(nxt)
                    if _RE["list_end"].match(f, chain[-1].end):
                        for x in chain:
                            x.consumed = x.bound = True
                break
            if ev.start < post.start:
                lead.append(ev)
                ev.consumed = True
            elif post.only and ev.stype in ("theme", "category"):
                self._bind(ev, _Cue(ev.start, ev.start, -1, 0.8, "pref"), who, ev.start)
                ev.consumed = True
            elif ev.stype in ("attribute", "theme", "category"):
                ev.consumed = ev.bound = True
        return lead

    @staticmethod
    def _rule_before(subjs: list[_Subj], s: _Subj) -> int | None:
        """The polarity of the last stance taken on a subject before `s` in its clause, if any."""
        for prev in reversed([x for x in subjs if x.start < s.start and x.polar and x.cue is not None]):
            pol = prev.cue.polarity * (-1 if prev.cue.negated else 1) * (-1 if prev.negated else 1)
            if pol:
                return pol
        return None

    @staticmethod
    def _opened(windows: list[tuple[int, int]], starts: list[int], s: _Subj) -> bool:
        """Whether a request opener ("something", "any") governs `s`: "something funny"."""
        k = bisect_right(starts, s.start) - 1
        return k >= 0 and s.end <= windows[k][1]

    def _setup_cue(self, cue: _Cue, cs: int, prev_end: int, scope_end: int) -> None:
        f = self.f
        window = f[max(cs, prev_end, cue.start - 40):cue.start]
        words = " ".join(window[window.rfind(",") + 1:].split()[-4:])
        # Windows are bounded (200 chars) so a megabyte without punctuation stays linear.
        lo, hi = max(cs, cue.start - 200), min(scope_end, cue.end + 200)
        cue.negated = bool(_RE["neg"].search(" " + words)) or bool(_RE["trailing_neg"].match(f, cue.end)) \
            or (scope_end == hi and bool(_RE["trailing_nicht"].search(f[cue.end:hi])))
        cue.hedged = bool(_RE["hedge"].search(words))
        past = None
        for past in _RE["past"].finditer(f, lo, cue.start):
            pass  # the last past marker before the cue
        cue.past = past is not None and not _RE["current"].search(f, past.end(), cue.start)
        cue.past_soft = cue.past and not past.group().startswith(("used to", "use to", "solia"))
        cue.change = bool(_RE["change"].search(f, lo, hi))
        if cue.kind == "seen":  # "Pulp Fiction I've seen a hundred times"
            hi = min(scope_end, cue.end + 80)  # not when someone else made them: "thanks to my daughter"
            cue.repeat = (bool(_RE["repeat"].search(f, cue.end, hi))
                          or f.startswith(("binge", "marathon"), cue.start)) \
                and not _RE["forced"].search(f, cue.end, hi)  # "binged all the Toy Story films"

    def _post(self, s: _Subj, ce: int) -> _Cue | None:
        return self._post_at(s.end, ce)

    def _post_at(self, pos: int, ce: int) -> _Cue | None:
        mt = self.m.post.match(self.f, pos, ce)
        if not mt:
            return None
        if any(pos <= x.start < mt.end() and not self.text[x.start].islower()
               for x in self.subjs if x.stype in ("item", "topic", "person")):
            return None  # "comedies Dumb and Dumber (1994)": the words after are a film's own title
        word = mt.group("w")
        idx = next(i for i in range(len(lx.POST_WORDS)) if mt.group(f"p{i}"))
        _, pol, strength = lx.POST_WORDS[idx]
        negcop = bool(mt.group("negcop"))
        if word in lx.POST_NEEDS_NEGATION and not negcop:
            return None
        if word in lx.POST_BARE_END and not re.match(r"\s*(?:[^\w\s']|$)", self.f[mt.end():mt.end() + 4]):
            return None
        if not mt.group("cop") and re.search(lx.POST_NEEDS_COPULA, word):
            return None  # "Seen it, a classic." records the viewing only
        if negcop:
            pol, strength = -pol, (0.8 if pol > 0 else 0.6)
        if pol < 0 and self._good_way(pos):  # "scared me, in a good way"
            pol = 1
        cue = _Cue(mt.start("w"), mt.end(), pol, strength, "post")
        cue.compare = bool(_RE["compare"].match(word))
        cue.only = bool(_RE["only"].match(word)) and pol > 0
        rel = _RE["own_holder"].match(word) or _RE["other_in_post"].search(word)
        if rel and not re.search(r"\b(?:everyone|everybody|all of us|we all)\b", word):
            # "Sleepless in Seattle is my mum's favourite", "the only film my kids agree on"
            cue.holder, cue.own_holder = ("other", rel.group(1).split()[-1]), True
        elif _RE["first_person"].search(word):  # "Tarantino wears me out": the verdict names its holder
            cue.holder, cue.own_holder = ("user", None), True
        return cue

    def _good_way(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.good_way)

    def _holder(self, lo: int, hi: int) -> tuple[str, str | None] | None:
        """The holder mentioned last in [lo, hi): "my wife hates" -> other; "we love" -> user."""
        i = bisect_right(self.mentions, (hi, len(self.f) + 1)) - 1
        best = None
        for end, start, kind, words in self.mentions[max(0, i - 6):i + 1][::-1]:
            if start < lo or end > hi:
                continue
            if best is None or end == best[0]:
                best = (end, start, kind, words)  # same end: the longer ("me and my husband") wins
            else:
                break
        if best is None:
            return None
        rel = re.search(lx.RELATION + r"$", best[3]) if best[2] == "other" else None
        return best[2], (rel.group(0) if rel else None)

    def _referent(self, pos: int) -> list[_Subj]:
        """What "it"/"them" points at: the latest explicit subject (and the cue's other subjects);
        "both", the last two of one kind ("he wants Die Hard, I want Sleepless in Seattle. We've seen both")."""
        i = bisect_left(self.starts, pos) - 1
        if self.f.startswith("both", pos):
            solid = [s for s in self.subjs[max(0, i - 20):i + 1] if s.stype not in ("pronoun", "topic", "attribute")]
            if len(solid) >= 2 and solid[-1].stype == solid[-2].stype:
                return solid[-2:]
        while i >= 0:
            s = self.subjs[i]
            if s.stype in ("pronoun", "topic") or (s.stype == "attribute" and not (s.negated or s.data[2])):
                i -= 1  # a neutral attribute ("getting old") is not what "them" refers to
                continue
            anchor = s.cue
            if anchor is not None and anchor.kind != "post":
                return [x for x in anchor.subjects[-20:] if x.stype != "pronoun"] or [s]
            run = [s]  # "Pulp Fiction and Fargo are both favourites": the whole unbound list
            for prev in self.subjs[max(0, i - 20):i][::-1]:
                if prev.cue is not None or prev.stype in ("pronoun", "topic") \
                        or not _RE["connector"].match(self.f[prev.end:run[-1].start]):
                    break
                run.append(prev)
            return run[::-1]
        return []

    def _bind(self, s: _Subj, cue: _Cue, holder: tuple[str, str | None], pos: int, direct: bool = True) -> None:
        """Bind `s` to `cue`. Not `direct` (through "it"/"them"): the pronoun names the thing itself,
        so the subject's own "no" is not applied again ("No horror, I can't stand it")."""
        if s.cue is not cue:  # identity, not a list scan: one cue may carry thousands of subjects
            cue.subjects.append(s)
        # "he wants Die Hard, I want Sleepless in Seattle. We've seen both a hundred times": someone
        # else's film, seen that often, is no like of the user's
        others = not direct and s.polar and s.holder is not None and s.holder[0] != holder[0]
        s.bound, s.cue, s.holder = True, cue, holder
        if cue.polarity:
            s.polar = True
        kind, who = holder
        if kind == "you":
            if cue.kind != "want":  # "do you like horror?" is about the assistant
                return
            kind, who = "user", None
        pol, strength = cue.polarity, cue.strength
        if cue.negated:
            if pol <= 0:  # "don't hate" is not a like; "haven't seen" is not a seen
                return
            pol, strength = -1, (0.6 if strength >= 0.9 else 0.7 if cue.hedged else 0.8)
        if s.negated and direct:
            if pol == 0:
                return
            pol = -pol
            strength = 0.8 if pol < 0 else 0.6
        conf = 0.5 if kind == "other" else strength
        past = cue.past and not (cue.past_soft and s.stype == "item")  # "saw Top Gun back in the day and loved it"
        extra = {"holder": kind, "who": who, "past": past, "change": cue.change, "pos": pos}
        if s.stype == "category":
            if pol:
                for genre in s.data:
                    # "I can't stand rom-coms": a dislike of romantic comedies, not of every comedy
                    self._add("like" if pol > 0 else "dislike", genre, "category", conf,
                              together=tuple(s.data) if len(s.data) > 1 else (), **extra)
        elif s.stype == "item":
            item_id, title = s.data
            if cue.kind == "want" and pol < 0:  # "don't recommend those" is not a dislike
                return
            conf = 0.9 if pol == 0 and kind == "user" else conf
            conf = round(conf - (0.1 if item_id is None else 0.0), 2)
            kind_ = "seen" if pol == 0 else "like" if pol > 0 else "dislike"
            self._add(kind_, title, "item", conf, item_id=item_id, **extra)
            if pol == 0 and cue.repeat and not others:  # seen that often: also a like
                self._add("like", title, "item", 0.8 if kind == "user" else conf, item_id=item_id, **extra)
        elif s.stype in ("person", "theme"):
            if pol:
                subject, genres = (s.data, ()) if s.stype == "person" else s.data
                self._add("like" if pol > 0 else "dislike", subject, s.stype, conf, genres=genres, **extra)
        elif s.stype == "attribute" and pol:
            neg, posc, too = s.data
            canon = neg if (pol < 0 or too) else posc
            if canon and canon.startswith("Genre:"):
                genre = canon[6:]
                if any(g == genre for t in self.m.genre_targets for g in t):
                    self._add("like", genre, "category", conf, **extra)
            elif canon:  # a viewing constraint holds for the whole audience: stored as the user's
                self._add("constraint", canon, "attribute", 0.8, pos=pos, change=cue.change)

    def _add(self, kind: str, subject: str, stype: str, conf: float, pos: int = 0, item_id: str | None = None,
             holder: str = "user", who: str | None = None, past: bool = False, change: bool = False,
             genres: tuple[str, ...] = (), together: tuple[str, ...] = ()) -> None:
        self.raw.append({"kind": kind, "subject": subject, "stype": stype, "conf": conf, "pos": pos,
                         "item_id": item_id, "holder": holder, "who": who, "past": past, "change": change,
                         "genres": genres, "together": together})

    # ---------------------------------------------------------------- output
    def finish(self, cap: int) -> list[Preference]:
        raw = sorted(self.raw, key=lambda r: r["pos"])
        polar = ("like", "dislike")
        past = {(r["subject"].casefold(), r["holder"]): r["pos"] for r in raw if r["past"] and r["kind"] in polar}
        final: dict[tuple[str, str], str] = {}  # last polarity stated wins ("actually, I do like it")
        for r in raw:
            if r["kind"] in polar and not r["past"]:
                final[(r["subject"].casefold(), r["holder"])] = r["kind"]
        best: dict[tuple[str, str, str], dict[str, Any]] = {}
        for r in raw:
            key2 = (r["subject"].casefold(), r["holder"])
            if r["past"] or (r["kind"] in polar and final.get(key2) != r["kind"]):
                continue  # "used to love horror" alone says nothing about now
            r["supersedes"] = r["kind"] in polar and (r["change"] or past.get(key2, len(self.f)) < r["pos"])
            key = (r["kind"], r["subject"].casefold(), r["holder"])
            if key not in best:
                best[key] = r
            else:
                kept = best[key]
                kept["conf"] = max(kept["conf"], r["conf"])
                kept["supersedes"] = kept["supersedes"] or r["supersedes"]
        out = []
        for r in list(best.values())[:cap]:
            r["momentary"] = self._momentary(r)
            out.append(Preference(kind=r["kind"], subject=r["subject"], subject_type=r["stype"],
                                  text=self._text(r), confidence=round(min(max(r["conf"], 0.0), 1.0), 2),
                                  item_id=r["item_id"], holder=r["holder"], supersedes_past=r["supersedes"],
                                  genres=r["genres"], momentary=r["momentary"], together=r["together"]))
        return out

    def _momentary(self, r: dict[str, Any]) -> bool:
        """A user's dislike of a genre, theme or person dated to this evening by its own sentence."""
        if r["kind"] != "dislike" or r["holder"] != "user" or r["stype"] not in ("category", "theme", "person") \
                or r["conf"] >= 0.9:  # "I hate horror, so nothing scary tonight": hating lasts
            return False
        pos = min(max(int(r["pos"]), 0), len(self.f))
        start = max(self.f.rfind(c, 0, pos) for c in ".!?;\n") + 1
        ends = [i for i in (self.f.find(c, pos) for c in ".!?;\n") if i >= 0]
        sentence = self.f[start:min(ends) if ends else len(self.f)]
        return bool(MOMENTARY.search(sentence)) and not LASTING.search(sentence)

    def _text(self, r: dict[str, Any]) -> str:
        kind, subj, conf = r["kind"], r["subject"], r["conf"]
        if kind == "constraint":
            if subj in lx.CONSTRAINT_TEXT:
                return lx.CONSTRAINT_TEXT[subj]
            if subj.startswith("at most"):
                return f"Wants nothing longer than {subj.split()[2]} minutes."
            if subj.startswith("at least"):
                return f"Wants something at least {subj.split()[2]} minutes long."
            return f"Wants something {subj}."
        if kind == "context":
            return lx.CONTEXT_TEXT.get(subj, f"Context: {subj}.")
        together = " + ".join(r.get("together") or ())  # "Romance + Comedy": said of both at once
        if r.get("momentary"):
            return f"Was not in the mood for {together or subj}{self.noun if r['stype'] == 'category' else ''} that day."
        if together and r["stype"] == "category" and kind == "dislike":
            verb = "strongly dislikes" if conf >= 0.9 else "dislikes"
            sentence = f"{verb} {together}{self.noun} (together, not each alone)."
            return sentence[0].upper() + sentence[1:] if r["holder"] != "other" else \
                f"{'Their ' + r['who'] if r['who'] else 'Someone else'} {sentence}"
        strong, mild = conf >= 0.9, conf <= 0.6 and r["holder"] == "user"
        if r["stype"] == "item":
            verb = {"seen": "has seen", "like": "loved" if strong else "somewhat liked" if mild else "liked",
                    "dislike": "hated" if strong else "was not keen on" if mild else "disliked"}[kind]
            obj = subj
        else:
            verb = {"like": "loves" if strong else "somewhat likes" if mild else "likes",
                    "dislike": "strongly dislikes" if strong else "is not keen on" if mild
                    else "dislikes"}.get(kind, kind)
            obj = f"{subj}{self.noun}"
        if r["supersedes"]:
            verb = "now " + verb
        who = f"Their {r['who']}" if r["who"] else "Someone else"
        sentence = f"{who} {verb} {obj}." if r["holder"] == "other" else f"{verb} {obj}."
        return sentence[0].upper() + sentence[1:]
