"""The lexical pass of preference extraction: which cues, subjects and phrases sit where.

This module owns text folding (lower case, no accents, one character per character so folded
offsets equal original offsets), the matchers compiled from `lexicon.py` (per category set,
cached) and the fixed regexes, the span records `_Cue` and `_Subj`, and `_Spans.collect`, which
finds catalog titles, quoted and capitalised names, genres, polar attributes, cues,
constraint/context phrases (runtimes, decades, years), pronouns and holder mentions, keeping the
best non-overlapping spans. Binding those spans to each other (polarity, negation, holders,
"it"/"them") and turning them into `Preference`s stay in `extract.py`, whose per-message `_Run`
mixes in `_Spans`. It is separate because the scan is self-contained and made `extract.py` too
long; it imports nothing from `extract.py`, so there is no import cycle.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

from mrrec_chat.memory import lexicon as lx

# The logger of `extract.py`, so a title_lookup failure is logged under the same name as before.
logger = logging.getLogger("mrrec_chat.memory.extract")


@dataclass(eq=False)
class _Cue:
    start: int
    end: int
    polarity: int  # +1 like, -1 dislike, 0 seen
    strength: float
    kind: str  # "pref" | "want" | "seen" | "post"
    negated: bool = False
    hedged: bool = False
    past: bool = False
    change: bool = False
    holder: tuple[str, str | None] = ("user", None)
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


@lru_cache(maxsize=16)
def _matchers(categories: tuple[str, ...]) -> _Matchers:
    by_fold = {_fold(c): c for c in categories}
    alts: list[str] = []
    targets: list[tuple[str, ...]] = []
    for pattern, genres in lx.GENRE_SYNONYMS:
        kept = tuple(by_fold[_fold(g)] for g in genres if _fold(g) in by_fold)
        if kept:  # a synonym only counts when its genre is in this catalog
            alts.append(rf"(?:{pattern})(?:\s+{lx.MOVIE_NOUN})?")
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
    )


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
    "before": lx.YEAR_BEFORE,
    "sentence": r"(?:[!?;\n\u2026]|(?<!\d)\.|\.(?!\d))+",
    "clause": rf"{lx.CONTRAST}|,\s*(?=(?:maybe|perhaps|instead|preferably|ideally|or maybe)\b)",
    "runmax": rf"{lx.RUNTIME_MAX}{lx.DURATION}", "runmax2": rf"{lx.DURATION}(?={lx.RUNTIME_MAX_AFTER})",
    "runmin": rf"{lx.RUNTIME_MIN}{lx.DURATION}",
    "connector": r"^[\s,&/]*(?:(?:and|or|y|et|und|ou|oder|o|plus|nor)\b)?[\s,&/]*$",
    "chain": r"^[\s,]*(?:and|&|or|then)?\s*(?:(?:really|totally|absolutely|honestly)\s+)?$",
    "words": r"[a-z']+",
    "request_q": r"\s*(?:(?:have you got|do you have|got|you got) )?any(?:thing)?\b|\s*(?:what|how) about\b", "quoted": r'"([^"\n]{1,100})"', "trailing_neg": r"\s+(?:pas|plus|point)\b",
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
    def collect(self, title_lookup: Callable[[str], list[tuple[str, str]]] | None) -> None:
        f, occupied = self.f, bytearray(len(self.f))
        cands: list[tuple[int, int, int, str, Any]] = []  # (priority, start, end, kind, data)
        for s, e, data in self._titles(title_lookup):
            cands.append((6, s, e, "item", data))
        for mt in _RE["quoted"].finditer(f):
            cands.append((5, mt.start(), mt.end(), "item", (None, self.text[mt.start(1):mt.end(1)])))
        for mt in self.m.fixed.finditer(f):
            _, kind, subject = lx.SELF_CONTAINED[int(mt.lastgroup[1:])]
            cands.append((4, mt.start(), mt.end(), "fixed", (kind, subject)))
        cands.extend((4, s, e, "fixed", ("constraint", subj)) for s, e, subj in self._numeric())
        for mt in self.m.genre.finditer(f):
            cands.append((3, mt.start(), mt.end(), "category", self.m.genre_targets[int(mt.lastgroup[1:])]))
        for mt in self.m.attr.finditer(f):
            neg, pos = lx.POLAR_ATTRIBUTES[int(mt.lastgroup[1:])][1:]
            cands.append((3, mt.start(), mt.end(), "attribute", (neg, pos, f.startswith("too", mt.start()))))
        for mt in self.m.cue.finditer(f):
            cands.append((3, mt.start(), mt.end(), "cue", lx.PRE_CUES[int(mt.lastgroup[1:])]))
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
        for s, e, kind, data in kept:
            if kind == "cue":
                self.cues.append(_Cue(s, e, data[1], data[2], data[3]))
            elif kind == "fixed":  # "the whole family can enjoy" names a context and a constraint
                for k, subject in zip(data[0].split("+"), data[1].split("+")):
                    self.fixed.append((s, e, k, subject))
            else:  # "documentaries about space": a topic, never a stated preference
                topic = kind == "category" and f.endswith("about ", 0, s)
                self.subjs.append(_Subj(s, e, "topic" if topic else kind, data))
        blocked = [(s, e) for s, e, *_ in kept]
        starts = [b[0] for b in blocked]
        for mt in _RE["pron"].finditer(f):  # pronouns only where no span already sits
            i = bisect_right(starts, mt.start()) - 1
            if i < 0 or blocked[i][1] <= mt.start():
                self.subjs.append(_Subj(mt.start(), mt.end(), "pronoun"))
        self.subjs.sort(key=lambda x: x.start)
        self.ellipses = [(mt.start(), 1 if mt.group("pos") else -1 if mt.group("neg") else 0)
                         for mt in _RE["ellipsis"].finditer(f)]
        for kind in ("user", "other", "you"):
            for mt in _RE[kind].finditer(f):
                if not _RE["company"].search(f, max(0, mt.start() - 8), mt.start()):
                    self.mentions.append((mt.end(), mt.start(), kind, mt.group(0)))
        self.mentions.sort()

    def _titles(self, lookup: Callable[[str], list[tuple[str, str]]] | None) -> list[tuple[int, int, Any]]:
        if lookup is None:
            return []
        try:
            found = [(str(i), str(t)) for i, t in (lookup(self.text) or [])][:2000]
        except Exception:  # a broken lookup should cost the titles, not the whole extraction
            logger.warning("title_lookup failed; continuing without catalog titles", exc_info=True)
            return []
        spans: list[tuple[int, int, Any]] = []
        for item_id, title in found:
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
        return spans

    def _numeric(self) -> list[tuple[int, int, str]]:
        out: list[tuple[int, int, str]] = []
        for key, label in (("runmax", "at most"), ("runmax2", "at most"), ("runmin", "at least")):
            for mt in _RE[key].finditer(self.f):
                minutes = _minutes(mt)
                if minutes:
                    out.append((mt.start(), mt.end(), f"{label} {minutes} minutes"))
        for mt in _RE["decade"].finditer(self.f):
            decade = _decade(mt, self.f)
            if decade:
                out.append((mt.start(), mt.end(), f"from the {decade}s"))
        for key, label in (("after", "released after"), ("before", "released before")):
            out += [(mt.start(), mt.end(), f"{label} {mt.group('y')}") for mt in _RE[key].finditer(self.f)]
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
        value = float(num.replace(",", ".")) if num[0].isdigit() else float(lx.NUMBER_WORDS[num])
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
