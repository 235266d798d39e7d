"""The "restate" answer style: whole request sentences, small talk dropped, memory added only when it helps.

Why a third style (the fourth adapter's data). Measured on 150 ReDial training cases (ranks of
the ground truth when a profile grounds over the 9,742-item catalog; `tools` in the session note):

- restating the request without greetings ("core") grounds as well as any fixed rule tried:
  N@10 0.018, hit@100 0.21; a genre head with the titles the request names: 0.012 / 0.10;
- choosing per case, in hindsight, among candidates the model cannot tell apart at run time
  (the "anchored" style) scores 0.027 on the training cases but teaches an inconsistent habit:
  the third adapter wrote its search queries or the user's greeting as the profile.
- a first restate adapter with up to 30 words (50 SFT steps) kept copying: on 24 validation
  cases 9 answers ran past the step budget repeating the request (format 62%, below the
  anchored adapter's 75%). A short restatement is easier to end; 20 words grounded as well as
  40 on the training cases (N@10 0.018 both).

So the answer restates the request in whole sentences, informative ones first, at most 15 words
(never cut inside a title, the anchored style's "… like The Punisher Profile: …"), cites at most
one memory (the loop's 96-token step budget ran out when models listed ~20-token ids), and appends a liked title or preference from
the observation only where that ranks the ground truth clearly better (`margin`). The memory
queries come only from what the request asks (`request_queries`), never from the target.
"""

from __future__ import annotations

import re

from mrrec_chat.agent.loop import is_negative, usable_profile
from mrrec_lab.eval.cases import BenchmarkCase
from mrrec_chat.memory.schema import RetrievedMemory
from mrrec_lab.train.data import genre_word, request_genres

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+(?=\s|$)|\n|$)")
_CHATTER = re.compile(
    r"^\W*(hi+|hello+|hey+|hiya|howdy|good (morning|afternoon|evening|day)|how are you|how'?s it going|"
    r"how about you|what about you|and (you|yourself)|you\b|(i'?m|i am)( doing)?( very| pretty| really)? "
    r"(good|fine|great|well|ok(ay)?|alright)|i hope you|hope you|nice to (meet|chat)|fine|good|great|thanks?|"
    r"thank you|ok(ay)?|yes|yeah|no|nope|sure|lol|cool|awesome|wow|bye|goodbye|have a)\b",
    re.IGNORECASE)
_GREETING = re.compile(r"^(hi+|hello+|hey+|hiya|howdy)\b[\s,!.]*(?=\S)", re.IGNORECASE)
_INFORMATIVE = re.compile(r"\(\d{4}\)|\b(like|love|loved|enjoy|enjoyed|want|looking|mood|recommend|suggest|"
                          r"favou?rite|watch|seen|movie|movies|film|films)\b", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """Sentences and lines of `text`, whitespace-normalized, a "(1999)." year kept with its title.

    >>> sentences("Hi!\\nI love Alien (1979). And Heat (1995)!  thanks")
    ['Hi!', 'I love Alien (1979).', 'And Heat (1995)!', 'thanks']
    """
    found = [" ".join(match.group().split()) for match in _SENTENCE.finditer(text)]
    return [s for s in found if s]


def is_chatter(sentence: str) -> bool:
    """A greeting or pleasantry ("I'm doing great! I hope you are, too."), not part of a request.

    >>> [is_chatter(s) for s in ["Hello!", "I hope you are, too.", "I'm good, how are you?",
    ...                          "I am good thanks for asking", "I love Alien (1979)", "Good comedies please"]]
    [True, True, True, True, False, False]
    """
    if "(" in sentence or not _CHATTER.match(sentence):
        return False
    words = sentence.split()
    return len(words) <= 8 and not re.search(r"\b(movies?|films?|comed|horror|action|drama|thriller|sci)",
                                             sentence, re.IGNORECASE)


def restate(request: str, max_words: int = 15) -> str:
    """The request without chatter, in whole sentences (informative ones first), ≤ `max_words` words.

    Sentences are never cut, except when every sentence is longer than the budget: then the most
    informative one is cut, before the last title it would split.

    >>> restate("hello! how are you?\\nI am good thanks for asking\\nI am in the mood for something "
    ...         "like The Punisher (2004) or Drive (2011)", max_words=14)
    'I am in the mood for something like The Punisher (2004) or Drive (2011)'
    >>> restate("Hi, I want a comedy like Superbad (2007) or The Hangover (2009)", max_words=9)
    'I want a comedy like Superbad (2007)'
    """
    kept = [_GREETING.sub("", s) or s for s in sentences(request) if not is_chatter(s)] or sentences(request)
    order = sorted(range(len(kept)), key=lambda i: (not _INFORMATIVE.search(kept[i]), i))
    chosen: list[int] = []
    used = 0
    for i in order:
        n = len(kept[i].split())
        if used + n <= max_words:
            chosen.append(i)
            used += n
    if not chosen and kept:
        words = kept[order[0]].split()[:max_words]
        cut = len(words)
        while cut > 1 and "(" in " ".join(words[:cut]) and not re.search(r"\(\d{4}\)\W*$", " ".join(words[:cut])):
            cut -= 1  # back off to the end of the last complete "(year)"
        return " ".join(words[:cut])
    return " ".join(kept[i] for i in sorted(chosen))


def request_queries(request: str, known_genres: set[str], n_queries: int = 2) -> list[str]:
    """Memory queries a model can infer from the request alone: the genres asked, then taste.

    >>> request_queries("Any good scary movies?", {"Horror", "Comedy"})
    ['liked horror movies', 'favourite movies']
    """
    asked = [genre_word(g) for g in request_genres(request, known_genres)]
    queries = [f"liked {word} movies" for word in asked[:n_queries]]
    for fallback in ("favourite movies", "favourite categories"):
        if len(queries) < n_queries and fallback not in queries:
            queries.append(fallback)
    return queries


def liked_or_preferred(observed: list[RetrievedMemory], items: dict) -> list[tuple[str, RetrievedMemory]]:
    """(text to append, memory) for the observation's liked items (rated ≥ 4) and positive patterns."""
    out = []
    for memory in observed:
        entry = memory.entry
        if entry.level == "behavior":
            if float(entry.extra.get("rating", 0)) >= 4 and entry.extra.get("item_id") in items:
                out.append((f"Something like {items[entry.extra['item_id']].display_title}.", memory))
        elif not is_negative(memory) and entry.extra.get("part") != "habits":  # habits are counts
            out.append((clip_memory(entry.text), memory))
    return out


def clip_memory(text: str, max_words: int = 14, max_titles: int = 2) -> str:
    """A memory's text cut to `max_words`, or after its `max_titles`-th "(year)", never inside a title.

    >>> clip_memory("Comedy: loved Mulan (1998), Horrible Bosses (2011), This Is Spinal Tap (1984), Big (1988)")
    'Comedy: loved Mulan (1998), Horrible Bosses (2011).'
    >>> clip_memory("Profile: favourite categories Drama, Romance; least liked Sci-Fi; favourite eras 1980s.")
    'Profile: favourite categories Drama, Romance; favourite eras 1980s.'
    >>> clip_memory("I like all movies but mob movies are my favorite ones")
    'I like all movies but mob movies are my favorite ones'
    """
    text = re.sub(r"least liked [^;.]*[;.]?\s*", "", text).strip()  # profiles: only the positive part
    years = list(re.finditer(r"\(\d{4}\)", text))
    if years:
        return text[:years[min(max_titles, len(years)) - 1].end()].rstrip(",;") + "."
    return " ".join(text.split()[:max_words])


def choose_restated(env, case: BenchmarkCase, observed: list[RetrievedMemory], max_words: int = 15,
                    margin: float = 0.8, with_memory: bool = True) -> tuple[str, list[RetrievedMemory]]:
    """The restated request, with one memory appended only if that moves the ground truth's best
    rank to at most `margin` times the plain restatement's (hindsight decides *whether*, the model
    sees *what*). A restatement the loop would reject as too short gets the asked genre added.
    """
    core = restate(case.request, max_words)
    if not usable_profile(core):  # the loop rejects a profile under 3 words ("Funny movies")
        asked = [genre_word(g) for g in request_genres(case.request, set(env.dataset.categories))]
        core = f"{core.rstrip('.!?')}. {'A ' + ' and '.join(asked[:2]) + ' movie' if asked else 'A good movie'}."

    def rank(profile: str) -> int:
        return min(env.ground_truth_ranks(profile, case.ground_truth) or [10 ** 9])

    extras = liked_or_preferred(observed, env.dataset.items)[:3] if with_memory else []
    if not extras:  # nothing to compare: no grounding needed
        return core, []
    best_rank, best = rank(core), (core, [])
    plain = best_rank
    for extra, memory in extras:
        candidate = f"{core} {extra}"
        candidate_rank = rank(candidate)
        if candidate_rank <= margin * plain and candidate_rank < best_rank:
            best_rank, best = candidate_rank, (candidate, [memory])
    return best
