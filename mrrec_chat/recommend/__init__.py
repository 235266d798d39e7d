"""The recommendation step of a turn: understand the request, plan the turn, rank, explain.

    recommender = Recommender(dataset, catalog, embedder, titles)
    request = recommender.understand(text, preferences, earlier_texts)
    policy = recommender.plan(request, memory_entries, consumed=dataset_history_ids)
    reading = recommender.read_profile(profile_text, request)      # None, or usable / rejected
    items = recommender.explain(recommender.rank(policy, request_vector, 5, profile_text, reading), policy)

Used by the app (service.py, through the agent), the evaluator and the benchmarks alike.

Two sets of fusion weights, one catalog: a memory of *consumption* (the app, where rated items were
watched: `plan(..., rated_is_consumed=True)`) ranks with fusion_consumed.json, fitted on MovieLens
users' future ratings by `python -m mrrec_lab.fit_consumed`; a memory of *mentions* (the ReDial
evaluator, `rated_is_consumed=False`) ranks with fusion.json, fitted on ReDial (its trees where it has
them). A missing or broken fusion_consumed.json falls back to fusion.json's ranker.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from mrrec_chat.agent.events import Recommendation
from mrrec_chat.data.movielens import spoken_title
from mrrec_chat.data.schema import Dataset
from mrrec_chat.memory.schema import MemoryEntry
from mrrec_chat.nlu import names_person
from mrrec_chat.recommend.policy import TurnPolicy, plan_turn
from mrrec_chat.recommend.profile import ProfileReading, content_words, read_profile
from mrrec_chat.recommend.ranker import (
    FEATURES,
    WEIGHTS_FILE,
    CatalogSignals,
    Ranked,
    Ranker,
    RankInputs,
    descriptive_text,
    load_weights,
)
from mrrec_chat.recommend.reasons import article, explain, genre_phrase, rated_clause, spoken_list
from mrrec_chat.recommend.request import (
    AWARDS,
    ORDINAL_REF,
    READ_RES,
    Request,
    explains_word,
    fold,
    genre_word,
    is_genre_word,
    list_references,
    understand,
    with_references,
)

log = logging.getLogger(__name__)

__all__ = ["FEATURES", "ProfileReading", "RankInputs", "Ranked", "Recommender", "Request", "TurnPolicy",
           "understand"]

# Words of an open request ("What should I watch tonight?", "Was soll ich heute Abend schauen?"),
# beyond profile.content_words' stop words: a request made only of these asks for nothing in particular.
OPEN_REQUEST_WORDS = frozenset("""
    what whats what's watch watching see tonight today evening weekend night now recommend recommendation
    recommendations suggest suggestion suggestions give show need looking look could can might anything
    pick picks new fun another else next time tell let let's lets have got our their there here
    surprise surprises random whatever bored idea ideas hello hey thanks thank
    best greatest top ever made time rated highest acclaimed critically masterpiece masterpieces must
    popular favourite favorite good great hmm hm um uh maybe like know kind sort really just perhaps
    don't dont idk sure stupid dumb everyone everybody has everyone's everybody's already
    seen haven't havent i'd id i'll love enjoy would probably taste tastes based personally
    was soll ich heute abend schauen ansehen sehen empfehlen empfiehl etwas einen eine irgendwas
    quoi regarder soir conseille conseiller recommander quelque chose que une
    que ver esta noche recomienda recomiendas recomendar algo una pelicula
""".split())
LENGTH_WORDS = frozenset("short shorter long longer quick brief lengthy kurz kurzer kurze court courte corto corta".split())
# "set in New York", "takes place in Paris": a place named in capitals, kept whole for the notice
SETTING = re.compile(r"\b(?:set|takes? place|taking place|spielt|se passe)\s+(?:in|on|en|a|à)\s+"
                     r"((?:the\s+)?[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)")


def settings_of(text: str) -> tuple[list[str], str]:
    """(the places a request names as a setting, the text with those phrases blanked): "a movie set
    in New York" is said back as "New York", not "set york"."""
    return [mt.group(1) for mt in SETTING.finditer(text)], SETTING.sub(lambda mt: " " * len(mt.group(0)), text)


# "a thriller about politics", "a comedy with dinosaurs": the words after these name a theme. A
# request that was otherwise understood still gets a notice for a theme the catalog cannot see.
THEME_CUE = re.compile(r"\b(?:about|with|featuring|involving|set (?:in|on|during)|starring|uber|sur|sobre|avec|con|mit)"
                       r"\s+((?:[\w'-]+\s*){1,4})")
THEME_FILLER = frozenset("""
    lots lot plenty bit little some much many kind sort type great good nice real strong big small
    heart twist twists ending happy sad lead leads actor actors actress cast story plot favourite favorite
    best similar same kind then instead too also again though anyway please pls now maybe perhaps
    son sons daughter daughters nephew niece nephews nieces grandson granddaughter kid child teen teenager
    brother sister brothers sisters cousin cousins mum mom dad parents wife husband girlfriend boyfriend partner
    des les une avec mit con sur mis mes meine meinen meinem pequenos pequenas pequeno pequena petits petites
    kleinen kleine kleiner hijos hijas enfants kinder familia famille familie amigos amis freunden
""".split())  # the last two lines: who is watching ("with my 13 year old daughter"), not a theme
PROFILE_TITLE_WEIGHT = 0.5  # a title the model names seeds less than one the user names
CONSUMED_WEIGHTS_FILE = WEIGHTS_FILE.with_name("fusion_consumed.json")


def load_consumed_weights(path: Path = CONSUMED_WEIGHTS_FILE, dataset_name: str | None = None) -> dict[str, float] | None:
    """The fusion weights for a memory of consumption; None where the file is missing or unreadable,
    or was fitted on another catalog than `dataset_name` (its "data" → "dataset"): weights fitted on
    MovieLens 100K users put memory at 3x the request, which fits that catalog's open requests
    but let memory outrank an exact match on the products catalog (explicit N@10 0.785 vs 1.000)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("weights"), dict):
            raise TypeError("no 'weights' object")
    except (OSError, ValueError, TypeError) as exc:
        if Path(path).exists():
            log.warning("Consumption fusion weights not read from %s (%s); using fusion.json.", path, exc)
        return None
    fitted_on = (data.get("data") or {}).get("dataset") if isinstance(data.get("data"), dict) else None
    if dataset_name is not None and fitted_on and fitted_on != dataset_name:
        return None
    return load_weights(path)


class Recommender:
    def __init__(self, dataset: Dataset, catalog, embedder, titles=None, *, client=None,
                 weights: dict[str, float] | None = None, consumed_weights: dict[str, float] | None = None):
        """`weights`: for a memory of mentions (default fusion.json); `consumed_weights`: for a memory
        of consumption (default fusion_consumed.json; `weights` when only those are given)."""
        self.dataset = dataset
        self.catalog = catalog
        self.embedder = embedder
        self.titles = titles
        desc = None
        if any(item.tags or item.description for item in dataset.items.values()):
            from mrrec_chat.retrieval import CatalogIndex

            desc = CatalogIndex(dataset, embedder, client, text_of=descriptive_text, kind="desc").matrix
        self.signals = CatalogSignals(dataset, catalog, desc)
        self.ranker = Ranker(self.signals, weights)  # a memory of mentions
        if consumed_weights is None:
            consumed_weights = dict(weights) if weights is not None \
                else load_consumed_weights(dataset_name=dataset.name)
        # A memory of consumption: fusion_consumed.json on the catalog it was fitted on; elsewhere
        # fusion.json's *linear* weights — its trees were fitted on ReDial's memory of mentions and
        # do not transfer to consumption (ml-100k held-out users N@10 0.047 vs linear 0.126).
        self.consumed_ranker = Ranker(self.signals, consumed_weights if consumed_weights is not None
                                      else load_weights())
        self.latest_year = max((i.year or 0 for i in dataset.items.values()), default=0) or None

    # --- understanding ------------------------------------------------------------------
    def find_titles(self, text: str) -> list[str]:
        """Catalog titles the text *names*. A title after an indefinite article ("an avalanche
        shovel", "a heat pack") describes what is wanted rather than naming a known item, so
        it is left to the semantic signals instead of being excluded as already known."""
        return list(dict.fromkeys(item_id for _, _, item_id in self.named_spans(text)))

    def named_spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, item id) of each title `find_titles` accepts (one catalog scan per text: a
        turn asks for the titles, their spans and the sequels of the same message)."""
        cached = self.__dict__.get("_named_spans")
        if cached is None:  # built on first use (tests build a bare Recommender)
            cached = self._named_spans = lru_cache(maxsize=256)(self._scan_named_spans)
        return list(cached(text))

    def _scan_named_spans(self, text: str) -> tuple[tuple[int, int, str], ...]:
        if self.titles is None:
            return []
        found = []
        for start, end, item_id in self.titles.find_spans(text):
            title = self.dataset.items[item_id].title
            # "One of my favorites is A Quiet Place (2018)": the article is the title's own
            own = re.match(r"(a|an)\s", text[start:end], re.IGNORECASE)
            own = own is not None and bool(re.match(rf"{own.group(1)}\s|.*,\s*{own.group(1)}(?:\s*\(|$)", title, re.IGNORECASE))
            dated = bool(re.search(r"\(\d{4}\)\s*$", text[start:end]))
            if not dated and names_person(text[start:end]):
                continue  # "Hitchcock never disappoints": the director, not *Hitchcock (2012)*
            if not (own or dated) and (re.search(r"\b(?:a|an|some|any)\s+$", text[max(0, start - 6):start], re.IGNORECASE)
                                       or re.match(r"(?:a|an|some|any)\s", text[start:end], re.IGNORECASE)):
                continue
            if is_genre_word(text[start:end], self.dataset.categories) \
                    and re.match(r"\s+(?:films?|movies?|flicks?|stuff)\b", text[end:end + 10], re.IGNORECASE):
                continue  # "a good War film", "more Western movies": a genre, not *War, The*
            found.append((start, end, item_id))
        return tuple(found)

    def stand_ins(self, text: str) -> list[tuple[str, str]]:
        """("Toy Story 2", id of Toy Story): a sequel the catalog lacks, matched to the title it has."""
        out = []
        for start, end, item_id in self.named_spans(text):
            mt = re.match(r"\s*(?:part\s+)?([2-9]|II|III|IV|V)\b", text[end:end + 12])
            title = self.dataset.items[item_id].title
            if mt and not re.search(rf"\b{mt.group(1)}\b", title) and _same_name(text[start:end], title):
                out.append((text[start:end + mt.end()].strip(), item_id))
        return out

    def title_spans(self, text: str) -> list[tuple[int, int]]:
        return [(start, end) for start, end, _ in self.named_spans(text)]

    def find_profile_titles(self, text: str) -> list[str]:
        """Titles the *model's* profile names, read strictly: a small model writes lists of words
        ("- Romance - Horror - War - Love"), and a one-word title ("War, The (1994)") matched
        there is a word, not a film. Kept: titles of two or more words (articles aside), and
        one-word titles given with their year or in quotes."""
        if self.titles is None:
            return []
        found = []
        for start, end, item_id in self.titles.find_spans(text):
            words = [w for w in re.findall(r"[\w'-]+", text[start:end]) if w.lower() not in ("the", "a", "an")]
            after, before = text[end:end + 8], text[max(0, start - 1):start]
            if len(words) >= 2 or re.match(r"\s*\(?(?:19|20)\d\d\)?", after) or before in ('"', "'", "“", "‘"):
                found.append(item_id)
        return list(dict.fromkeys(found))

    def understand(self, text: str, preferences: Sequence = (), earlier: Sequence[str] = (),
                   extract: Callable[[str], Sequence] | None = None,
                   last_list: Sequence[str] = (), shown: Sequence[Sequence[str]] = ()) -> Request:
        """The request; `earlier` are this chat's earlier messages (oldest first), read with
        `extract` when given (their statements) so a follow-up keeps what they asked; `last_list`:
        the item ids of the chat's last list, for "more like the second one"; `shown`: the lists
        of the earlier turns (one per earlier message), so an earlier "the first one looks great"
        is read against the list it answered."""
        before: list[Request] = []
        earlier = list(earlier)
        for k in range(max(0, len(earlier) - 3), len(earlier)):
            t = earlier[k]
            if not (t and t.strip()):
                continue
            # each earlier message with its own earlier ones: "a western" → "not that old please" →
            # "more" still means westerns
            said = understand(t, extract(t) if extract else (), categories=self.dataset.categories,
                              find_titles=self.find_titles, latest_year=self.latest_year, earlier=before,
                              title_spans=self.title_spans)
            # "a sci-fi film | the first one looks great | more like that one": Brazil is the anchor
            before.append(self._with_list(said, t, shown[k - 1] if 0 < k <= len(shown) else ()))
        request = understand(text, preferences, categories=self.dataset.categories, find_titles=self.find_titles,
                             earlier=before, latest_year=self.latest_year, title_spans=self.title_spans)
        if request.themes and request.titles_named:  # "like Alien but not horror": Alien is a title, no theme
            named = " ".join(fold(self.dataset.items[i].title) for i in request.titles_named if i in self.dataset.items)
            request = replace(request, themes=tuple((g, w) for g, w in request.themes if w not in named))
        stand_ins = tuple(self.stand_ins(text))
        if stand_ins:
            request = replace(request, stand_ins=stand_ins)
        return self._with_list(request, text, last_list)

    def _with_list(self, request: Request, text: str, last_list: Sequence[str]) -> Request:
        """The request with the items of the list it answered that it names by place."""
        references = list_references(text, [i for i in last_list if i in self.dataset.items])
        if references and (not request.wanted or request.continues) \
                and any(s in ("ask", "like") for _, s in references):
            # "more like the second one" after "a comedy": the item itself is the anchor now
            request = replace(request, genres_any=(), genres_all=(), continues=False)
        return with_references(request, references)

    def plan(self, request: Request, memory: Iterable[MemoryEntry], consumed: Iterable[str] = (),
             rated_is_consumed: bool = True, shown: Iterable[Iterable[str]] = (),
             now: float | None = None) -> TurnPolicy:
        items = self.dataset.items
        return plan_turn(request, memory, consumed=consumed, categories=self.dataset.categories,
                         item_categories=lambda i: items[i].categories if i in items else (),
                         rated_is_consumed=rated_is_consumed, shown=shown, now=now,
                         series=self.titles.series if self.titles is not None else None)

    # --- ranking ------------------------------------------------------------------------
    def read_profile(self, profile: str | None, request: Request) -> ProfileReading | None:
        if not profile:
            return None
        understood = understand(profile, (), categories=self.dataset.categories,
                                find_titles=self.find_profile_titles, latest_year=self.latest_year)
        return read_profile(profile, request, understood)

    def inputs(self, policy: TurnPolicy, request_vector: np.ndarray, profile: str | None = None,
               reading: ProfileReading | None = None) -> RankInputs:
        profile_vector = None
        prefer: tuple[str, ...] = ()
        seeds: dict[str, float] = {}
        if profile and reading is not None and reading.usable:
            profile_vector = self.embedder.embed_one(profile)
            if not policy.request.wanted:
                prefer = reading.genres
            seeds = {i: PROFILE_TITLE_WEIGHT for i in reading.titles if i not in policy.exclude}
        return policy.inputs(request_vector, profile_vector, prefer, seeds)

    def ranker_for(self, policy: TurnPolicy) -> Ranker:
        """The ranker whose weights were fitted for the policy's kind of memory."""
        return self.consumed_ranker if policy.rated_is_consumed else self.ranker

    def rank(self, policy: TurnPolicy, request_vector: np.ndarray, n: int, profile: str | None = None,
             reading: ProfileReading | None = None) -> list[Ranked]:
        return self.ranker_for(policy).rank(self.inputs(policy, request_vector, profile, reading), n)

    def explain(self, ranked: list[Ranked], policy: TurnPolicy) -> list[Recommendation]:
        out = []
        for r in ranked:
            reason, ids = explain(r, policy, self.dataset, self.signals)
            out.append(Recommendation(r.item, r.score, reason, ids))
        return out

    def notices(self, policy: TurnPolicy, ranked_relaxed: tuple[str, ...] = ()) -> list[str]:
        """Plain notices about the request: titles outside the catalog, relaxed filters."""
        out = []
        talk = policy.request.small_talk
        if talk == "greeting":
            out.append("Hello! Tell me what you feel like watching: a genre, a mood, a decade or a film you liked "
                       "(e.g. “a funny 90s comedy” or “something like Heat”). Meanwhile, some popular picks:")
        elif talk == "thanks":
            out.append("You're welcome! Tell me whenever you'd like something else.")
        elif talk == "about":
            out.append(f"I recommend films from this catalog ({self.describe_catalog()}) and remember what you tell "
                       "me. Ask for a genre, a mood, a decade or “something like” a film; 👍, 👎 and “Your memory” "
                       "teach me your taste. Some popular picks to start:")
        for item_id in policy.request.asks_about[:2]:
            out.append(self.about(item_id))
        # a sequel the catalog lacks is said once, with the film it went by (below)
        standing = {written.casefold() for written, _ in policy.request.stand_ins}
        unknown = [f"“{name}”" for name in policy.request.unknown_titles if name.casefold() not in standing]
        if unknown:  # "“The Matrix” and “Inception” are not in this catalog"
            out.append(f"{spoken_list(unknown)} {'is' if len(unknown) == 1 else 'are'} not in this catalog "
                       f"({self.describe_catalog()}); I used the rest of your request.")
        if policy.request.origins and self.signals.desc_matrix is None:
            out.append(f"This catalog ({self.describe_catalog()}) does not record languages or countries, so I "
                       f"could not pick {' or '.join(policy.request.origins)} films; these follow the rest "
                       "of your request.")
        if policy.request.softened:
            words = " or ".join(genre_word(g) for g in policy.request.softened)
            out.append(f"{words.capitalize()} films are not for children, so these are children's films"
                       + (" (this catalog does not record which of them are scary)."
                          if "scary" in policy.request.moods else "."))
        if policy.request.people and self.signals.desc_matrix is None and not policy.request.retracts:
            names = " or ".join(f"“{p}”" for p in policy.request.people[:3])
            out.append(f"This catalog ({self.describe_catalog()}) does not record actors or directors, so I could "
                       f"not go by {names}; these follow the rest of your request.")
        for written, item_id in policy.request.stand_ins:
            item = self.dataset.items.get(item_id)
            if item is not None:
                out.append(f"“{written}” is not in this catalog ({self.describe_catalog()}); I went by "
                           f"{spoken_title(item.title, item.year)} instead.")
        if policy.request.acclaimed and AWARDS.search(fold(policy.request.text)):
            rest = " that fit the rest of your request" if policy.request.has_constraints or policy.request.moods else ""
            out.append(f"This catalog ({self.describe_catalog()}) does not record awards; these are its best-rated "
                       f"films{rest}.")
        if policy.request.length and self.signals.desc_matrix is None:
            out.append(f"This catalog ({self.describe_catalog()}) does not record running times, so I could not "
                       "pick by length.")
        if policy.request.explore and not policy.exploring and not policy.request.wanted and not policy.like_genres \
                and "different" not in policy.request.moods:
            out.append("I don't know what you usually watch yet (rate a few films, or tell me what you like), "
                       "so these are well-rated films fewer people have seen.")
        if policy.held_back_by_memory:
            words = " or ".join(genre_word(g) for g in policy.held_back_by_memory)
            out.append(f"You told me you don't like {words}, so I left those films out; name {words} in your "
                       "request to include them this time, or remove that dislike under “Your memory”.")
        letters = [fold(c) for c in policy.request.text if c.isalpha()]
        if letters and sum(not "a" <= c <= "z" for c in letters) > len(letters) / 2 \
                and not policy.request.asks_something and not policy.request.titles_named:
            # "我想看喜剧": nothing could be read, and the words notice below would list nothing
            out.append("I understand requests in English, German, French and Spanish, so these are popular "
                       "picks; try e.g. “a funny movie for tonight”.")
        # "forget what I said about Tom Hanks" is about memory (service.py says what was forgotten)
        quiet = bool(policy.held_back_by_memory) or policy.request.retracts
        unmatched = [] if quiet else self.unmatched_words(policy.request)
        themes = [] if unmatched or policy.request.retracts else self.unmatched_themes(policy.request)
        if unmatched:
            out.append(f"This catalog ({self.describe_catalog()}) records only titles, genres and years, and "
                       f"nothing in it matches “{' '.join(unmatched)}”; these are popular picks instead."
                       + self._title_mentions(unmatched, policy))
        elif themes:
            out.append(f"This catalog ({self.describe_catalog()}) records only titles, genres and years, so "
                       f"“{' '.join(themes)}” could not be matched; these follow the rest of your request."
                       + self._title_mentions(themes, policy))
        r = policy.request
        if self.latest_year and r.year_min is not None and r.year_min > self.latest_year:
            # "a movie from 2005" in ml-100k: not "few films match", none can
            out.append(f"This catalog ({self.describe_catalog()}) has no films from {r.era or r.year_min}; these "
                       f"are from its latest years.")
        elif {"all-of genres", "genres", "era"} & set(ranked_relaxed):
            # "all-of genres" too: a third romantic comedy from the 50s gave Psycho as "a romance film"
            listed = [i for i in policy.shown_before if i in self.dataset.items
                      and r.accepts(self.dataset.items[i].categories, self.dataset.items[i].year)]
            if listed:
                out.append(f"Most films in this catalog that match all of “{r.describe()}” were in my earlier "
                           f"lists ({len(listed)} of them); the rest of these match only part of it.")
            else:
                out.append(f"Few films in this catalog match all of “{r.describe()}”; "
                           "some picks match only part of it.")
        return out

    def about(self, item_id: str) -> str:
        """What the catalog knows of one title, for a question about it ("Is Fargo any good?")."""
        item = self.dataset.items[item_id]
        row = self.signals.row.get(item_id)
        said = f"{spoken_title(item.title, item.year)} is {article(genre_phrase(list(item.categories))).lower()}"
        if row is not None and self.signals.counts[row] >= 5:
            said += ", " + rated_clause(self.signals, row, self.dataset.rating_scale[1])
        return said + ". These are close to it:"

    def unmatched_words(self, request: Request) -> list[str]:
        """The words of a request that asked for something this catalog cannot see ("a road movie",
        "a strong female lead") where nothing else was understood; [] for a catalog with tags or
        descriptions (the semantic match reads those) and for an open request ("what should I
        watch tonight?")."""
        if self.signals.desc_matrix is not None or request.follow_up or request.seen_previous or request.relative_era \
                or request.wanted or request.genres_refused or request.moods \
                or request.audience or request.titles_named or request.unknown_titles or request.origins \
                or request.people or request.explore or request.lesser_known or request.acclaimed or request.small_talk \
                or request.year_min is not None or request.year_max is not None:
            return []
        places, text = settings_of(request.text)
        words = places + [w for w in content_words(text) if w not in OPEN_REQUEST_WORDS
                          and not (request.length and w in LENGTH_WORDS)]  # said in the running-times notice
        return list(dict.fromkeys(words))

    def unmatched_themes(self, request: Request) -> list[str]:
        """Theme words of an otherwise understood request that nothing matched: "politics" in
        "something thought-provoking about politics" ([] for a catalog with tags or descriptions)."""
        if self.signals.desc_matrix is not None or not THEME_CUE.search(fold(request.text)):
            return []
        items = self.dataset.items
        named = {w for i in request.titles_named if i in items for w in content_words(items[i].title)}
        named |= {w for name in request.unknown_titles for w in content_words(name)}
        # "anything with Bruce Willis": the people notice already says a name cannot be matched
        named |= {w for name in request.people for w in content_words(name)}
        text = request.text
        if self.titles is not None:  # "Much Ado About Nothing is my favourite": no theme inside a title
            for start, end, _ in sorted(self.titles.find_spans(text), reverse=True):
                text = text[:start] + " " * (end - start) + text[end:]
        places, text = settings_of(text)
        folded = fold(text)
        # "about time travel" was read as science fiction, "with my girlfriend" as a mood: every
        # phrase any reader matched in the text as written is blanked ("space exploration" whole)
        spans = [mt.span() for regex in (*READ_RES, ORDINAL_REF) for mt in regex.finditer(folded)]
        for start, end in spans:
            folded = folded[:start] + " " * (end - start) + folded[end:]
        words: list[str] = list(places)
        for mt in THEME_CUE.finditer(folded):
            tokens = [w.removesuffix("'s") for w in content_words(mt.group(1))]
            kept = [w not in OPEN_REQUEST_WORDS and w not in THEME_FILLER and w not in named
                    and not explains_word(w, self.dataset.categories) for w in tokens]
            for n, w in enumerate(tokens):
                # an open word stays where it begins a theme's name ("set in New York")
                if kept[n] or (w in OPEN_REQUEST_WORDS and n + 1 < len(tokens) and kept[n + 1]):
                    words.append(w)
        return list(dict.fromkeys(words))

    def _title_mentions(self, words: Sequence[str], policy: TurnPolicy, limit: int = 3) -> str:
        """" Titles with “christmas” in them: The Nightmare Before Christmas (1993), …" — the one
        place a catalog without themes can show one; in the notice, not the list (a title word is
        weak evidence: "Road to Wellville" is no road movie). A title must have every word (singular
        or plural) and fit the request's wanted genres; most rated first; none the turn excludes."""
        words = [w for w in words if len(w) >= 3]
        if not words or len(words) > 3:
            return ""
        patterns = [re.compile(r"\b" + re.escape(w[:-1] if w.endswith("s") and len(w) > 3 else w)
                               + r"(?:s|es|'s)?\b") for w in words]
        wanted = set(policy.request.wanted)
        hits = []
        for n, item in enumerate(self.signals.items):
            if item.item_id in policy.exclude or int(self.signals.duplicate_of[n]) != n \
                    or set(item.categories) & set(policy.refused) or (wanted and not wanted & set(item.categories)):
                continue
            title = fold(item.title)
            if all(p.search(title) for p in patterns):
                hits.append((-self.signals.counts[n], spoken_title(item.title, item.year)))
        if not hits:
            return ""
        shown = [t for _, t in sorted(hits)[:limit]]
        return f" Titles with “{' '.join(words)}” in them: {'; '.join(shown)}."

    def describe_catalog(self) -> str:
        years = [i.year for i in self.dataset.items.values() if i.year]
        span = f", films up to {max(years)}" if years else ""
        return f"{self.dataset.name}{span}"


def _name_key(text: str) -> str:
    """A title as compared by name: no year or alternative title in brackets, no leading or moved
    article, case folded, apostrophes kept ("Ocean's" is not "Oceans")."""
    text = re.sub(r"\s*\([^)]*\)", "", text).strip()
    text = re.sub(r"^(.*),\s*(?:the|a|an)$", r"\1", text, flags=re.I)
    text = re.sub(r"^(?:the|a|an)\s+", "", text, flags=re.I)
    return re.sub(r"[^\w']+", " ", text.replace("’", "'").casefold()).strip()


def _same_name(written: str, title: str) -> bool:
    """Whether `written` is the catalog title itself: only then is "<it> 2" a sequel the catalog lacks."""
    return _name_key(written) == _name_key(title)
