"""Deterministic preference extraction from one chat message (used for memory write-back).

Plain Python + `re`, no model: the write-back runs after every turn, so it has to be cheap,
predictable and impossible to crash. The message is folded (lower case, no accents), split into
sentences and contrast clauses ("but", "pero", "mais", "aber"), and scanned once each for cues
("love", "can't stand", "seen", "in the mood for"), subjects (genres, catalog titles, polar
attributes such as "subtitles") and self-contained constraint/context phrases ("under 100
minutes", "date night"). Each subject takes the polarity of the nearest cue before it in its clause
(or a cue right after it: "Horror is the best", "las comedias me encantan"); negation, hedges,
holders ("my wife hates..."), pronouns ("loved it") and "used to ... but now ..." adjust it.
Lexicons live in `lexicon.py`. This module owns the public entry point, binding (which subject
takes which cue, with what polarity and holder) and the output; the lexical scan that finds the
spans (folding, matchers, `_Cue`/`_Subj`, span collection) lives in `extract_scan.py`.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

from mrrec_chat.memory import lexicon as lx
from mrrec_chat.memory.extract_scan import _RE, _Cue, _fold, _Matchers, _matchers, _Spans, _Subj
from mrrec_chat.memory.lexicon import DEFAULT_MOVIE_GENRES

__all__ = ["DEFAULT_MOVIE_GENRES", "Preference", "extract_preferences"]

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
    subject_type: Literal["category", "item", "attribute", "context"]
    text: str
    confidence: float
    item_id: str | None = None
    holder: Literal["user", "other"] = "user"
    supersedes_past: bool = False


def extract_preferences(message: str, *, categories: Sequence[str] | None = DEFAULT_MOVIE_GENRES,
                        title_lookup: Callable[[str], list[tuple[str, str]]] | None = None,
                        max_preferences: int = 50) -> list[Preference]:
    """Preferences stated in `message`, in message order, at most `max_preferences`. Never raises.

    `title_lookup(text)` returns (item_id, display_title) for catalog titles mentioned in the text;
    without it, quoted titles and capitalised names after "loved/hated/saw" become items with no id.
    """
    try:
        return _extract(message, categories, title_lookup, max_preferences)
    except Exception:  # write-back must never take a chat turn down; a miss is cheap, a crash is not
        logger.exception("preference extraction failed; storing nothing for this message")
        return []


def _extract(message: Any, categories: Sequence[str] | None,
             title_lookup: Callable[[str], list[tuple[str, str]]] | None,
             max_preferences: int) -> list[Preference]:
    if not isinstance(message, str) or max_preferences <= 0 or not message.strip():
        return []
    cats = tuple(str(c) for c in (categories or DEFAULT_MOVIE_GENRES))
    text = message[:MAX_CHARS]
    run = _Run(text, _fold(text), _matchers(cats), " movies" if cats == DEFAULT_MOVIE_GENRES else "")
    run.collect(title_lookup)
    run.bind()
    return run.finish(max_preferences)


class _Run(_Spans):
    """State for one message: spans, sentences and the raw preferences found so far."""

    def __init__(self, text: str, folded: str, m: _Matchers, noun: str) -> None:
        self.text, self.f, self.m, self.noun = text, folded, m, noun
        self.cues: list[_Cue] = []
        self.subjs: list[_Subj] = []
        self.raw: list[dict[str, Any]] = []
        self.mentions: list[tuple[int, int, str, str | None]] = []

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
        prev_unbound: list[_Subj] = []
        prev_had_cue = True
        recalled: list[tuple[int, int]] = []  # sentences about an earlier viewing ("saw it on a plane")
        seen_starts = [c.start for c in self.cues if c.kind == "seen"]
        self.fixed_starts = [x[0] for x in self.fixed]
        self.ellipsis_starts = [x[0] for x in self.ellipses]
        for ss, se in sentences:
            # "Any documentaries?" asks for the genre; other questions state nothing by themselves.
            question = ("?" in f[ss:se] or bool(_RE["question"].match(f, ss, se))) \
                and not _RE["request_q"].match(f, ss, se)
            if bisect_left(seen_starts, se) > bisect_left(seen_starts, ss):
                recalled.append((ss, se))
            clauses, cs, reset = [], ss, False
            for mt in _RE["clause"].finditer(f, ss, se):
                clauses.append((cs, mt.start(), reset))
                cs, reset = mt.end(), mt.group(0).startswith(",")
            clauses.append((cs, se, reset))
            inherit: _Cue | None = None
            had_cue, unbound_all = False, []
            holder: tuple[str, str | None] | None = None
            for cs, ce, reset in clauses:
                cues = self.cues[bisect_left(cue_starts, cs):bisect_left(cue_starts, ce)]
                subjs = self.subjs[bisect_left(self.starts, cs):bisect_left(self.starts, ce)]
                if reset:
                    inherit = None
                unbound, holder = self._clause(cs, ce, cues, subjs, inherit, question, holder)
                if cues:
                    had_cue, inherit = True, cues[-1]
                unbound_all += unbound
            # "Horror movies? Hard pass." - a cue with nothing to bind takes the previous
            # sentence's bare subjects.
            for cue in self.cues[bisect_left(cue_starts, ss):bisect_left(cue_starts, se)]:
                if not cue.subjects and prev_unbound and not prev_had_cue and cue.kind != "want":
                    for s in prev_unbound:
                        self._bind(s, cue, cue.holder, cue.start)
            prev_unbound, prev_had_cue = [s for s in unbound_all if not s.bound], had_cue
        recalled_starts = [a for a, _ in recalled]
        for pos, _, kind, subject in self.fixed:
            i = bisect_right(recalled_starts, pos) - 1
            if kind == "context" and i >= 0 and pos < recalled[i][1]:
                continue
            self._add(kind, subject, "context" if kind == "context" else "attribute", 0.8, pos)

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
        prev_end = cs
        for i, ev in enumerate(events):
            if isinstance(ev, _Cue):
                self._setup_cue(ev, cs, prev_end, next_cue_start[i])
                found = self._holder(max(cs, last.end if last else cs), ev.start)
                ev.holder = holder = found or holder or ("user", None)
                ev.before = [s for s in since if not s.polar and s.stype != "pronoun"]
                last, since = ev, []
            elif ev.stype == "pronoun":
                ev.post = self._post(ev, ce)
                near = last and not last.subjects and ev.start - last.end < 40 \
                    and len(f[last.end:ev.start].split()) <= 3  # "loved it", "can't stand them"
                if ev.post or near:
                    cue = ev.post or last
                    who = self._holder(cs, ev.start) if ev.post else cue.holder
                    for s in self._referent(ev.start):
                        self._bind(s, cue, who or cue.holder, ev.start)
            else:
                tail = f[max(cs, prev_end):ev.start]
                ev.negated = bool(_RE["subjneg"].search(tail[tail.rfind(",") + 1:]))
                ev.post = self._post(ev, ce)
                if ev.post:  # "comedies and dramas are great": the post-cue takes the whole run
                    who = self._holder(max(cs, last.end if last else cs), ev.start) or holder or ("user", None)
                    run = [ev]
                    for prev in since[-50:][::-1]:
                        if last or prev.polar or not _RE["connector"].match(f[prev.end:run[-1].start]):
                            break
                        run.append(prev)
                    for s in run:
                        self._bind(s, ev.post, who, s.start)
                elif last:
                    self._bind(ev, last, last.holder, ev.start)
                since.append(ev)
            prev_end = ev.end
        for i in range(len(cues) - 1, -1, -1):
            cue = cues[i]
            if cue.subjects:
                continue
            if i + 1 < len(cues) and _RE["chain"].match(f[cue.end:cues[i + 1].start]):
                targets = list(cues[i + 1].subjects)  # "I've seen and loved Heat"
            elif cue.kind != "want":  # a request points forward: "seen Heat, want something new"
                targets = cue.before  # "Science-Fiction finde ich super", "Heat, what a film"
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
        for s in unbound:
            who = self._holder(cs, s.start) or ("user", None)
            if inherit is not None and not cues:  # "I love comedies but also dramas"
                self._bind(s, inherit, inherit.holder, s.start)
            elif s.negated or (s.stype == "attribute" and s.data[2] and not question):  # "no horror", "too long"
                self._bind(s, _Cue(s.start, s.start, 1, 0.8, "pref"), who, s.start)
            elif bare and s.stype != "item":  # "Comedy please!", "something funny"
                self._bind(s, _Cue(s.start, s.start, 1, 0.6, "want"), who, s.start)
        return [s for s in unbound if not s.bound], holder

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
        cue.change = bool(_RE["change"].search(f, lo, hi))

    def _post(self, s: _Subj, ce: int) -> _Cue | None:
        mt = self.m.post.match(self.f, s.end, ce)
        if not mt:
            return None
        word = mt.group("w")
        idx = next(i for i in range(len(lx.POST_WORDS)) if mt.group(f"p{i}"))
        _, pol, strength = lx.POST_WORDS[idx]
        negcop = bool(mt.group("negcop"))
        if word in lx.POST_NEEDS_NEGATION and not negcop:
            return None
        if word in lx.POST_BARE_END and not re.match(r"\s*(?:[^\w\s']|$)", self.f[mt.end():mt.end() + 4]):
            return None
        if negcop:
            pol, strength = -pol, (0.8 if pol > 0 else 0.6)
        return _Cue(mt.start("w"), mt.end(), pol, strength, "post")

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
        """What "it"/"them" points at: the latest explicit subject (and the cue's other subjects)."""
        i = bisect_left(self.starts, pos) - 1
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

    def _bind(self, s: _Subj, cue: _Cue, holder: tuple[str, str | None], pos: int) -> None:
        if s.cue is not cue:  # identity, not a list scan: one cue may carry thousands of subjects
            cue.subjects.append(s)
        s.bound, s.cue = True, cue
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
        if s.negated:
            if pol == 0:
                return
            pol = -pol
            strength = 0.8 if pol < 0 else 0.6
        conf = 0.5 if kind == "other" else strength
        extra = {"holder": kind, "who": who, "past": cue.past, "change": cue.change, "pos": pos}
        if s.stype == "category":
            if pol:
                for genre in s.data:
                    self._add("like" if pol > 0 else "dislike", genre, "category", conf, **extra)
        elif s.stype == "item":
            item_id, title = s.data
            if cue.kind == "want" and pol < 0:  # "don't recommend those" is not a dislike
                return
            conf = 0.9 if pol == 0 and kind == "user" else conf
            conf = round(conf - (0.1 if item_id is None else 0.0), 2)
            kind_ = "seen" if pol == 0 else "like" if pol > 0 else "dislike"
            self._add(kind_, title, "item", conf, item_id=item_id, **extra)
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
             holder: str = "user", who: str | None = None, past: bool = False, change: bool = False) -> None:
        self.raw.append({"kind": kind, "subject": subject, "stype": stype, "conf": conf, "pos": pos,
                         "item_id": item_id, "holder": holder, "who": who, "past": past, "change": change})

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
            out.append(Preference(kind=r["kind"], subject=r["subject"], subject_type=r["stype"],
                                  text=self._text(r), confidence=round(min(max(r["conf"], 0.0), 1.0), 2),
                                  item_id=r["item_id"], holder=r["holder"], supersedes_past=r["supersedes"]))
        return out

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
