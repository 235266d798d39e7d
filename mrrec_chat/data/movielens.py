"""MovieLens loaders (ml-100k in RecBole or GroupLens layout, Latest-Small CSV) and title matching.

Every loader maps its files to the one schema (`Item`, `Interaction`, `Dataset`); titles are kept
exactly as published ("American President, The") and `normalise_title` gives the form used for
matching across sources ("american president"). `TitleIndex` finds catalog items by title (for
mapping ReDial movies to MovieLens ids) and in free text (for "I loved Heat and The Matrix").

The files themselves are never part of the repository: ml-100k's license forbids redistribution,
and the product obtains its data at first use (docs/DESIGN.md, "Data").
"""

from __future__ import annotations

import csv
import logging
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from mrrec_chat.data.checks import ConversionCount, DatasetError, empty_file_error, iter_lines
from mrrec_chat.data.jsonl import require_file
from mrrec_chat.data.schema import Dataset, Interaction, Item
from mrrec_chat.data.translated_titles import TRANSLATED_TITLES
from mrrec_chat.nlu.lexicon import GIVEN_NAMES

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Titles
# ---------------------------------------------------------------------------------------------

# MovieLens moves leading articles to the end, in several languages ("Misérables, Les").
# "I" (Italian) is left out on purpose: "Me, Myself & I" would lose its last word.
_MOVED_ARTICLE = re.compile(
    r"^(?P<body>.+), (?P<article>The|A|An|Les|La|Le|L'|Il|El|Los|Las|Das|Der|Die|Den|Det|De|"
    r"Un|Une|Una|Lo|Gli)$"
)
# Only English articles are dropped from the front: dropping "Die"/"La" would turn
# "Die Hard" into "hard" and "La La Land" into "la land".
_LEADING_ARTICLES = frozenset({"the", "a", "an"})
# Articles of other languages before a title that the catalog lists without one ("Les Intouchables"):
# tried only where the words with the article name no title themselves.
_FOREIGN_ARTICLES = frozenset({"les", "le", "la", "l", "el", "los", "las", "der", "die", "das", "il", "lo", "gli"})
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:\s*[–-]\s*(?:\d{4})?)?\)\s*$")
_TRAILING_PARENTHETICAL = re.compile(r"^(?P<head>.*\S)\s*\((?P<inner>[^()]*)\)\s*$")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|&")
# Spelling variants that sources disagree on: "Rocky II"/"Rocky 2", "Kill Bill: Volume 1"/"Vol. 1"
# and "Guardians of the Galaxy Vol. 2"/"2". "i", "v" and "x" stay words ("X-Men", "I, Robot").
_TOKEN_MAP = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_SILENT_TOKENS = frozenset({"vol", "volume"})
# Punctuation that ends a phrase: a title is matched across it only where the title has it too
# ("Kill Bill: Vol. 1"), so "Loved The Godfather, part 3 was bad" does not name Part III.
_BREAKS = frozenset(",;:.!?\u2026\n")


def strip_accents(text: str) -> str:
    """'Misérables' -> 'Miserables' (case is kept; used before both indexing and scanning)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def split_title_year(raw: str) -> tuple[str, int | None]:
    """'Heat (1995)' -> ('Heat', 1995); series ranges '(2006–2007)' give the first year."""
    cleaned = " ".join(raw.split())
    match = _TITLE_YEAR.match(cleaned)
    if match and match.group("title"):
        return match.group("title"), int(match.group("year"))
    return cleaned, None


def natural_title(title: str) -> str:
    """'American President, The' -> 'The American President' (for display and prompts)."""
    match = _MOVED_ARTICLE.match(title.strip())
    if not match:
        return title.strip()
    article = match.group("article")
    joiner = "" if article.endswith("'") else " "
    return f"{article}{joiner}{match.group('body')}"


def spoken_title(title: str, year: int | None) -> str:
    """'Shining, The', 1980 -> 'The Shining (1980)': a title as a sentence says it."""
    return natural_title(title) + (f" ({year})" if year else "")


def _word_tokens(text: str) -> list[str]:
    # Apostrophes vanish ("Schindler's" -> "schindlers") and "&" reads as "and", so that the
    # same tokens come out of a catalog title and a person's spelling of it.
    return [
        "and" if word == "&" else word.lower().replace("'", "").replace("’", "")
        for word in _WORD.findall(strip_accents(text))
    ]


def _drop_leading_article(tokens: list[str]) -> list[str]:
    return tokens[1:] if len(tokens) > 1 and tokens[0] in _LEADING_ARTICLES else tokens


def _key(tokens: list[str]) -> str:
    """Join tokens into an index key (after the article is dropped), ignoring silent tokens."""
    return " ".join(_TOKEN_MAP.get(t, t) for t in tokens if t not in _SILENT_TOKENS)


def normalise_title(title: str) -> str:
    """The matching form of a title: no year, no accents, no punctuation, no English article.

    >>> normalise_title("American President, The (1995)")
    'american president'
    >>> normalise_title("The American President")
    'american president'
    >>> normalise_title("Misérables, Les")
    'les miserables'
    """
    text, _ = split_title_year(title)
    # Alternate titles in trailing parentheses are normalised part by part, so that the
    # article of "City of Lost Children, The (Cité des enfants perdus, La)" is found.
    parts: list[str] = []
    while match := _TRAILING_PARENTHETICAL.match(text):
        parts.insert(0, match.group("inner"))
        text = match.group("head")
    parts.insert(0, text)
    keys = [_key(_drop_leading_article(_word_tokens(natural_title(part)))) for part in parts]
    return " ".join(k for k in keys if k)


def title_variants(title: str) -> tuple[str, list[str]]:
    """(primary key, alias keys) of a catalog title.

    The primary key is the title without its alternate-title parentheses. Aliases are the full
    title, each alternate ("Seven (a.k.a. Se7en)" -> "se7en"), and the part before a colon,
    because people and ReDial shorten "Borat: Cultural Learnings of ..." to "Borat" and
    "Dr. Strangelove or: How I Learned ..." to "Dr. Strangelove".
    """
    text, _ = split_title_year(title)
    alternates: list[str] = []
    while match := _TRAILING_PARENTHETICAL.match(text):
        inner = re.sub(r"^\s*a\.?k\.?a\.?\s+", "", match.group("inner"), flags=re.IGNORECASE)
        alternates.insert(0, inner)
        text = match.group("head")
    primary = normalise_title(text)
    aliases = [normalise_title(title)] + [normalise_title(alt) for alt in alternates]
    if ":" in text:
        aliases.append(normalise_title(re.sub(r"\s+or$", "", text.split(":")[0].strip())))
        # "Fellowship of the Ring (2001)": the subtitle alone, where it is three words or more
        subtitle = re.sub(r"^(?:the|a|an) ", "", normalise_title(natural_title(text.split(":", 1)[1].strip())))
        if len(subtitle.split()) >= 3:
            aliases.append(subtitle)
    return primary, [a for a in dict.fromkeys(aliases) if a and a != primary]


def _title_marks(title: str) -> frozenset[str]:
    """The phrase-ending punctuation written in a title, its alternates included, with the
    article moved back to the front ("Godfather: Part III, The" -> {':'}; the comma is MovieLens's)."""
    text, _ = split_title_year(title)
    parts: list[str] = []
    while match := _TRAILING_PARENTHETICAL.match(text):
        parts.append(match.group("inner"))
        text = match.group("head")
    parts.append(text)
    return frozenset(c for part in parts for c in natural_title(part) if c in _BREAKS)


# Films of one series whose titles do not share its name (ml-100k's "Empire Strikes Back, The"):
# (the series' name as normalise_title writes it, the other titles' normalised opening words)
SERIES_ALSO = (("star wars", ("empire strikes back", "return of the jedi")),
               ("raiders of the lost ark", ("indiana jones",)), ("alien", ("aliens",)))


def series_name(title: str) -> str:
    """The name of a title's series: its words before a colon, dash or number ("Die Hard 2",
    "Star Trek: First Contact" -> "die hard", "star trek")."""
    text, _ = split_title_year(title)
    head = re.split(r"\s*[:\-–]\s+|:\s*", natural_title(text), maxsplit=1)[0]
    head = re.sub(r"\s+(?:\d+|ii|iii|iv|v|vi|vii|viii|ix|x|part \w+)$", "", head, flags=re.IGNORECASE)
    return normalise_title(head)


def series_key(title: str) -> str:
    """The series a title belongs to, SERIES_ALSO included ("Return of the Jedi" -> "star wars")."""
    name = series_name(title)
    for key, others in SERIES_ALSO:
        if name == key or name.startswith(others):
            return key
    return name


class TitleIndex:
    """Finds catalog item ids by title (`lookup`) and in free text (`find_mentions`).

    Keys are `normalise_title` forms; each key keeps its items most popular first, so a bare
    mention of a remade title ("Heat") resolves to the version people actually rated.
    """

    MAX_WORDS = 8

    def __init__(self, dataset: Dataset) -> None:
        popularity = dataset.popularity
        self._years = {item_id: item.year for item_id, item in dataset.items.items()}
        self._items = dataset.items
        self._series: dict[str, list[str]] | None = None  # series name -> item ids, built on first use
        self._primary: dict[str, list[str]] = defaultdict(list)
        self._alias: dict[str, list[str]] = defaultdict(list)
        # Keys without spaces, for lookup only: "Chain Saw"/"Chainsaw", "Old Boy"/"Oldboy".
        self._compact: dict[str, list[str]] = defaultdict(list)
        self._marks: dict[str, frozenset[str]] = {}  # the phrase-ending punctuation of each title
        for item_id, item in dataset.items.items():
            self._marks[item_id] = _title_marks(item.title)
            primary, aliases = title_variants(item.title)
            if primary:
                self._primary[primary].append(item_id)
            for alias in aliases:
                self._alias[alias].append(item_id)
            for key in dict.fromkeys([primary, *aliases]):
                if key:
                    self._compact[key.replace(" ", "")].append(item_id)
        # Release titles of other languages ("Lola rennt", "El padrino"): aliases of the item whose
        # title and year (±1) they belong to.
        for english, year, others in TRANSLATED_TITLES:
            for item_id in self._primary.get(normalise_title(english), []):
                if self._years[item_id] is None or abs(self._years[item_id] - year) <= 1:
                    for other in others:
                        alias = normalise_title(other)
                        if alias and item_id not in self._alias[alias]:
                            self._alias[alias].append(item_id)
                            self._marks[item_id] = self._marks[item_id] | _title_marks(other)
        for table in (self._primary, self._alias, self._compact):
            for ids in table.values():
                ids.sort(key=lambda i: -popularity.get(i, 0))
        # The opening words of a longer title, as people shorten it ("Shawshank", "Grand Budapest"): only
        # where they name one catalog title, and their last word is no everyday word and 7+ letters
        # when it stands alone (6+ after another word; a given name never: "Charlotte" is no
        # *Charlotte Gray*); `_match_at` reads them only where written
        # capitalised and not followed by another capitalised word.
        prefixes: dict[str, set[str]] = defaultdict(set)
        for table in (self._primary, self._alias):
            for key, ids in table.items():
                tokens = key.split()
                for n in range(1, len(tokens)):
                    last = tokens[n - 1]
                    if last.isalpha() and last not in _EVERYDAY_WORDS and len(last) >= (7 if n == 1 else 6) \
                            and not (n == 1 and last in GIVEN_NAMES):
                        prefixes[" ".join(tokens[:n])].update(ids)
        known = set(self._primary) | set(self._alias)
        self._prefix = {k: sorted(v, key=lambda i: -popularity.get(i, 0)) for k, v in prefixes.items()
                        if len(v) == 1 and k not in known}
        # One-slip spellings of title words ("Jurasic Park", "Shawshank Redemtion"): each word of 5+
        # letters and each of its one-letter deletions, to the title words it comes from.
        self._slips: dict[str, set[str]] = defaultdict(set)
        self._title_words = {t for table in (self._primary, self._alias) for key in table for t in key.split()}
        for token in self._title_words:
            if len(token) >= 5 and token.isalpha():
                for key in _deletes(token) | {token}:
                    self._slips[key].add(token)

    def series(self, item_id: str) -> list[str]:
        """The other films of `item_id`'s series: titles with the same name before a colon, a dash
        or a number ("Die Hard" -> "Die Hard 2", "Die Hard: With a Vengeance"; never "Big" ->
        "Big Night"), and SERIES_ALSO. [] for a series name under 4 letters."""
        item = self._items.get(item_id)
        if item is None:
            return []
        if self._series is None:
            self._series = defaultdict(list)
            for other_id, other in self._items.items():
                self._series[series_key(other.title)].append(other_id)
        key = series_key(item.title)
        return [i for i in self._series.get(key, []) if i != item_id] if len(key) >= 4 else []

    def _respelt(self, token: str) -> tuple[str, ...]:
        """The title words `token` is one slip away from (see `_one_slip`), at most three."""
        if len(token) < 5 or not token.isalpha() or token in self._title_words:
            return ()
        found = {c for key in _deletes(token) | {token} for c in self._slips.get(key, ()) if _one_slip(token, c)}
        return tuple(sorted(found))[:3]

    def _pools(self, key: str) -> list[list[str]]:
        return [self._primary.get(key, []), self._alias.get(key, [])]

    def lookup(self, title: str, year: int | None = None) -> str | None:
        """The item id for a title, or None when there is no match or it is ambiguous.

        Order: normalised title + exact year; then year ±1 (sources disagree on release years)
        or a catalog item without a year, if that leaves one item; with no year given, the title
        alone if it names exactly one item. A title with a year never matches a different film
        of another year: "Halloween (2018)" must not become "Halloween (1978)".
        """
        text, parsed_year = split_title_year(title)
        year = parsed_year if year is None else year
        key = normalise_title(text)
        if not key:
            return None
        pools = [*self._pools(key), self._compact.get(key.replace(" ", ""), [])]
        if year is not None:
            for pool in pools:
                exact = [i for i in pool if self._years[i] == year]
                if exact:
                    return exact[0]
            for pool in pools:
                near = {
                    i for i in pool if self._years[i] is None or abs(self._years[i] - year) <= 1
                }
                if len(near) == 1:
                    return near.pop()
            return None
        for pool in pools:
            if pool:  # the first pool that knows the title decides; ambiguity means no answer
                return pool[0] if len(set(pool)) == 1 else None
        return None

    def find_mentions(self, text: str) -> list[str]:
        """Item ids of catalog titles mentioned in `text`, in order, longest match first.

        A year right after a title ("Heat (1995)", "Heat 1995") picks that version; otherwise the
        most rated version is taken. Only text that names a title counts (see `find_spans`).
        """
        return list(dict.fromkeys(item_id for _, _, item_id in self.find_spans(text)))

    def find_spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, item id) of each catalog title named in `text`, in order.

        Word n-grams of up to `MAX_WORDS` words are looked up in the key dictionaries, so the
        cost is independent of the catalog size; the longest match at a position wins. A match
        counts only where the text names the title (`_names_title`): "Nothing too sad please" does
        not name *Nothing*, "a Michael Bay movie" names neither *Michael* nor *The Bay*, "We honeymooned
        in Casablanca" names the city. Release titles of other languages are aliases ("Lola rennt",
        `translated_titles`); a word no title has may be read as a possessive ("Heat's ending") or as a
        one-slip spelling of a title word ("Jurasic Park").
        """
        # One character per character (accents dropped), so offsets are those of `text`.
        source = "".join((strip_accents(c) or c)[0] for c in text)
        words = list(_WORD.finditer(source))
        tokens = _word_tokens(source)
        if len(tokens) != len(words):  # cannot happen for one-to-one folding; never guess offsets
            return []
        # A word the catalog's titles lack may be a possessive ("Heat's ending") or a slip ("Jurasic");
        # its other reading is tried where its own reading names no title.
        alternates: dict[int, tuple[str, ...]] = {}
        for n, word in enumerate(words):
            if tokens[n] in self._title_words:
                continue
            if word.group()[-2:] in ("'s", "\u2019s") and tokens[n][:-1] in self._title_words:
                alternates[n] = (tokens[n][:-1],)
            elif fixed := self._respelt(tokens[n]):
                alternates[n] = fixed
        found: list[tuple[int, int, str]] = []
        position = 0
        while position < len(tokens):
            match = self._match_at(source, words, tokens, position, alternates)
            if match and re.search(r"\w['\u2019]s\b", source[match[0]:match[1]]) \
                    and not re.search(r"['\u2019]", self._items[match[2]].title):
                match = None  # "Ocean's 8" names no film of the documentary "Oceans (Océans)"
            if match:
                found.append(match[:3])
            position += match[3] if match else 1
        return found

    def _match_at(self, source: str, words: list[re.Match[str]], tokens: list[str], position: int,
                  alternates: dict[int, tuple[str, ...]] | None = None) -> tuple[int, int, str, int] | None:
        """The longest title named from word `position` on: (start, end, item id, words used).

        `alternates` are other readings of some words: a possessive ("Heat's": only as the last word
        of the title, which then ends before the "'s") or a one-slip spelling (only inside a title of
        two or more words that has at least one word spelt right: "Jurasic Park")."""
        def title_at(n: int) -> bool:  # "Seven and Heat": a title named at word n (mid-sentence)
            return self._match_at(source, words, tokens, n, alternates) is not None

        alternates = alternates or {}
        for length in range(min(self.MAX_WORDS, len(tokens) - position), 0, -1):
            span = tokens[position:position + length]
            key_tokens = _drop_leading_article(span)
            key = _key(key_tokens)
            candidates = [i for pool in self._pools(key) for i in pool]
            possessive = False
            if not candidates and alternates:
                last = position + length - 1
                poss = last in alternates and words[last].group().endswith(("'s", "\u2019s"))
                slips = [n for n in range(position, position + length) if n in alternates
                         and not words[n].group().endswith(("'s", "\u2019s"))]
                # a slip inside a longer title, or in a one-word title of 7+ letters ("Gladiater")
                if (poss or slips) and (not slips or (len(slips) == 1 and (length >= 2 or len(span[0]) >= 7))):
                    base = list(span)
                    if poss:
                        base[-1] = alternates[last][0]
                    for option in (alternates[slips[0]] if slips else ("",)):
                        if slips:
                            base[slips[0] - position] = option
                        key_tokens = _drop_leading_article(base)
                        key = _key(key_tokens)
                        candidates = [i for pool in self._pools(key) for i in pool]
                        if candidates:
                            possessive = poss
                            break
            if not candidates and length >= 2 and span[0] in _FOREIGN_ARTICLES:
                key_tokens = span[1:]  # "J'ai déjà vu Les Intouchables", "Der Pate" as much as "Intouchables"
                key = _key(key_tokens)
                candidates = [i for pool in self._pools(key) for i in pool]
            if not candidates and key in self._prefix and all(words[n].group()[:1].isupper()
                                                              for n in range(position + length - len(key_tokens), position + length)) \
                    and not (position + length < len(words) and words[position + length].group()[:1].isupper()
                             and source[words[position + length - 1].end():words[position + length].start()].isspace()) \
                    and source[words[position + length - 1].end():words[position + length - 1].end() + 1] != "-" \
                    and (len(key_tokens) >= 2 or position == 0 or words[position - 1].group().lower() in _OPENERS
                         or words[position - 1].group().lower().endswith("ed")
                         or bool(re.search(r"[.!?\n:;]", source[words[position - 1].end():words[position].start()]))):
                # "Shawshank is the one film ...", "Grand Budapest is gorgeous", "loved Sleepless"; one word
                # elsewhere is a word ("Elf every December" names no *December Boys*)
                candidates = list(self._prefix[key])
            marks = {c for n in range(position, position + length - 1)
                     for c in source[words[n].end():words[n + 1].start()] if c in _BREAKS}
            if marks:  # punctuation inside the match: only titles that have it there too
                candidates = [i for i in candidates if marks <= self._marks[i]]
            if candidates and len(key_tokens) == 1 and key not in self._primary and length == 2 \
                    and not words[position + length - 1].group()[:1].isupper():
                continue  # "i'm the seeker": a lower-case noun after its article, not *Seeker: The Dark Is Rising*
            if not candidates:
                continue
            after = position + length
            year = int(tokens[after]) if after < len(tokens) and re.fullmatch(r"\d{4}", tokens[after]) else None
            dated = [i for i in candidates if year is not None and self._years[i] == year]
            if year is not None and not dated:
                # "Black Panther (2018)" is the 2017 film (sources disagree by a year). A year further off
                # is left to the words: ReDial writes "Click (2010)" for the 2006 film
                dated = [i for i in candidates if self._years[i] is not None and abs(self._years[i] - year) <= 1]
            elif year is None:
                # "Avengers: Infinity War (2018)": the words before a colon name the film of that year,
                # never *Avengers, The (2012)*
                more = _DATED_REST.match(source, words[after - 1].end())
                if more:
                    later = int(more.group(1))
                    candidates = [i for i in candidates if self._years[i] is None or abs(self._years[i] - later) <= 1]
                    if not candidates:
                        continue
            first = position + length - len(key_tokens)
            if not dated and not _names_title(source, words, first, after, article=first > position,
                                              title_at=title_at, possessive=possessive):
                continue
            end = words[after].end() if dated else words[after - 1].end() - (2 if possessive else 0)
            if dated and source[end:end + 1] == ")":
                end += 1
            return words[position].start(), end, dated[0] if dated else candidates[0], length + 1 if dated else length
        return None


# The rest of a dated title after a colon or dash ("Avengers: Infinity War (2018)"): its year
_DATED_REST = re.compile(r"\s*[:\u2013-]\s*(?:(?:[A-Z0-9][\w'&.,!?-]*|of|the|and|a|an|in|on|to|for|with|at|from)\s+){0,7}"
                         r"[A-Z0-9][\w'&.!?-]*\s*\(((?:19|20)\d\d)\)")
# Words that open a sentence or a request far more often than they name a film ("Nothing too
# sad", "Up for anything", "It was fine"): a title that is one of them counts only where it is
# capitalised inside a sentence, quoted or dated.
_FUNCTION_WORDS = frozenset("""
a about above after again against all also always am an and another any anything are as at away
back be because been before being below between both but by can could did do does down during
each either else even ever every everything few first for from further get go going got had has
have he her here hers him his how i if in into is it its just last least less let like many may
me might mine more most much must my never next no none nor not nothing now of off often on once
one only or other others our out over own perhaps please same she should since so some something
soon still such than that the their them then there these they this those though through till to
today together tomorrow tonight too under until up upon us very was we well were what whatever
when where which while who why will with without would yes yet you your yesterday maybe okay ok
sure thanks hello hi hey oh nobody someone somebody everyone everybody anyone anybody enough
""".split())
# Everyday words: a title made only of them ("home alone", "big night", "the game") counts only
# where it is written as a title (its words capitalised), quoted or dated.
_EVERYDAY_WORDS = _FUNCTION_WORDS | frozenset("""
alone big small little good bad best better great new old young long short high low fast slow hard
easy free real true false full dark light bright black white red blue green night day days morning
evening weekend week time times year life love home house room family friends friend kids kid
child children girl girls boy boys man men woman women people person thing things stuff game games
fun funny sad happy scary sweet nice cool hot cold warm heat speed wild crazy quiet loud simple
movie movies film films show story stories world city town country place way end part piece side
top story money work school party date dinner food music dance heart mind head face hand eyes
feel feeling mood kind sort type lot bit half whole alien aliens contact crash scream hook seven
twelve ransom volcano casino cure fear greed trust secrets sleepers friday nixon shine clueless
mother father mom mum dad wife husband son daughter brother sister parents partner boyfriend girlfriend
""".split())
_OPENERS = frozenset("""
saw seen see watch watching love loving hate like adore enjoy rewatch caught finished recommend
try skip suggest give show thought think adore definitely especially except also maybe
vi vimos adoro odio amo detesto vu revu
""".split())
# A sentence's first word is capitalised anyway; read it as a title only when what follows reads
# like a title being talked about ("Heat is...", "Speed was a blast", "Fargo, what a film").
_AFTER_OPENING_TITLE = frozenset("""
is was isnt wasnt are were has had have remains remained still made makes make scared scares
blew blows left leaves kept keeps deserves deserved got gets will would could can did does just looks looked
really truly totally absolutely honestly never always forever rocks rules
lives lived sucks sucked stinks stank ruled slaps slapped holds held stands stood deserves owns nails nailed
beats tops wins won works worked delivers delivered drags dragged bombed flopped shines shone soars stays stayed
feels felt sounds seems seemed gives brings brought grips gripped hooks hooked terrifies scares scared
es fue est etait ist sind sont finde fand fanden finden hat hatte war mag mochte gefiel gefallt me
hasnt hadnt havent didnt doesnt cant wont
""".split())
# "Hook me up with ...", "Drive me to ...": after "<word> me" these make the word a verb of a request.
_IMPERATIVE_OBJECTS = frozenset({"up", "with", "to", "something", "some", "a", "an", "any", "anything", "one", "out",
    "through", "towards", "toward", "in", "into", "off", "away"})
# Function words that cannot be a sentence's subject (object pronouns, "up"): opening a sentence
# and followed by a verb, they are the title ("Her is lovely", "Up was so sad", "Us scared me").
# "It", "Nothing", "Always" can be subjects or adverbs ("It was fine") and never open as titles.
_NOT_SUBJECTS = frozenset({"her", "him", "us", "them", "up"})
# A verb after an opening title: a copula or the like (_AFTER_OPENING_TITLE), or a past tense
# with its object ("creeped me out", "broke me"); the object keeps "Her wicked stepmother" a word.
_PAST_VERBS = frozenset({"blew", "broke", "felt", "gave", "got", "had", "hit", "kept", "left", "lost",
    "made", "stole", "stuck", "took", "won"})
_OBJECTS = frozenset({"me", "us", "him", "her", "them", "it", "everyone", "everybody", "my", "our"})
# "Cats the movie", "The Lion King remake": a version of the film named after its title.
_VERSIONS = frozenset({"movie", "film", "musical", "remake", "reboot", "sequel", "sequels", "prequel", "soundtrack",
    "trailer", "book", "novel"})
# "Heat's ending": what a film has, after a title in the possessive.
_FILM_PARTS = frozenset({"ending", "end", "soundtrack", "score", "cast", "plot", "story", "script", "twist", "finale",
    "opening", "dialogue", "characters", "villain", "music", "pacing", "sequel", "sequels", "director", "visuals",
    "cinematography", "effects", "climax", "premise", "runtime", "remake", "trailer", "theme", "hero", "lead",
    "scene", "scenes", "moment", "moments", "sequence", "sequences", "line", "lines", "performance", "performances",
    "acting", "direction", "writing", "song", "songs", "costumes", "shot", "shots", "monster", "monsters", "world",
    "look", "tone", "humour", "humor", "jokes", "action", "fights", "heist", "chase", "robbery"})
# "Elf every Christmas", "Coco every year": a recurring time after the title.
_RECURRING = frozenset({"every", "each"})
_TIMES = frozenset({"year", "time", "christmas", "winter", "summer", "autumn", "fall", "spring", "holiday",
    "holidays"})
# "Gravity on a big screen was unreal": a short phrase after the title, then its verb.
_PREPOSITIONS = frozenset({"on", "in", "at", "with", "without", "during"})
_COPULAS = frozenset({"is", "was", "are", "were", "isnt", "wasnt", "remains", "remained", "es", "fue", "est",
    "etait", "ist", "sind", "sont"})
# "Seven and Heat": joined to another title.
_CONJUNCTIONS = frozenset({"and", "or", "y", "et", "und", "&"})


# "We honeymooned in Casablanca", "a trip to Roma": a title after a place preposition that follows a
# word of travel or living names the place, not the film.
_PLACE_PREPOSITIONS = frozenset({"in", "to", "from", "near", "around", "through", "via", "at", "en", "a", "nach",
    "aus"})
_TRAVEL = re.compile(r"(?:honeymoon|holiday|vacation|trip|travel|went|go|goes|going|gone|flew|fly|flying|flight|moved"
                     r"|move|moving|live|lived|lives|living|born|raised|grew|stay|stayed|staying|visit|visited|visiting"
                     r"|wedding|based|work|worked|working|study|studied|arrive|arrived|landed|layover|stopover|drove"
                     r"|sailed|cruise|back|home|viaje|vivo|vivia|voyage|habite|wohne|urlaub|reise)\w*$")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _one_slip(typo: str, right: str) -> bool:
    """`typo` is `right` misspelt by one slip: two neighbours swapped, or one letter replaced, added
    or dropped (the first letter kept; a plural is no slip)."""
    if typo[0] != right[0] or typo in (right + "s", right + "es") or right in (typo + "s", typo + "es"):
        return False
    if len(typo) == len(right):
        diff = [i for i in range(len(typo)) if typo[i] != right[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and typo[diff[0]] == right[diff[1]]
                                  and typo[diff[1]] == right[diff[0]])
    short, long_ = sorted((typo, right), key=len)
    return len(long_) == len(short) + 1 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _opener(word: str) -> bool:
    """A word that opens a sentence before a title ("Loved Heat", "Saw Gladiator"): not a name."""
    return word in _FUNCTION_WORDS or word in _OPENERS or bool(re.search(r"(?:ed|ly)$", word))


def _past_verb(words: list[re.Match[str]], n: int) -> bool:
    """words[n] is a verb in the past or the present followed by its object: "creeped me", "broke me",
    "cracks me up"."""
    if n + 1 >= len(words) or words[n + 1].group().lower() not in _OBJECTS:
        return False
    word = words[n].group().lower()
    return word in _PAST_VERBS or (len(word) >= 5 and word.endswith("ed") and not word.endswith(("eed", "dred"))) \
        or (len(word) >= 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")))  # "Clue cracks me up"


def _opening_title(source: str, words: list[re.Match[str]], end: int, token: str,
                   title_at: Callable[[int], bool] | None) -> bool:
    """Whether what follows a one-word title at the start of a sentence (word `end` on) shows
    that the word is the title: "Heat is...", "Fargo, what a film", "Signs creeped me out"."""
    if end >= len(words):
        return token not in _NOT_SUBJECTS
    hi = words[end - 1].end()
    gap = source[hi:words[end].start()]
    follow = words[end].group().lower().replace("'", "").replace("\u2019", "")  # "wasn't" -> "wasnt"
    if any(c in _BREAKS or c in ")-<>=" for c in gap):  # "Heat!", "Fargo, what a film", "Alien > Aliens"
        return token not in _NOT_SUBJECTS
    if follow in ("me", "us") and end + 1 < len(words) and words[end + 1].group().lower() in _IMPERATIVE_OBJECTS:
        return False  # "Hook me up with a mystery", "Hit me with something": a request, not the film
    if follow in _AFTER_OPENING_TITLE:  # "Heat is..."
        return True
    if follow == "the" and end + 1 < len(words) and words[end + 1].group().lower() in _VERSIONS:
        return True  # "Cats the musical is great, Cats the movie is a crime"
    if follow in _CONJUNCTIONS and title_at is not None and end + 1 < len(words) \
            and source[words[end].end():words[end + 1].start()].isspace() and title_at(end + 1):
        return True
    if token in _NOT_SUBJECTS:  # "Us scared me"; not "Her wicked stepmother"
        return _past_verb(words, end)
    if token in _EVERYDAY_WORDS:  # "Kids loved it", "Mother loved it" stay words
        return False
    if follow in ("i", "we") and end + 1 < len(words) and source[words[end].end():words[end + 1].start()].strip() in "'":
        return True  # "Memento I couldn't even finish": the film, then what the user did with it
    if follow in _VERSIONS and follow not in ("movie", "film"):  # "Cats remake" ("Big movie fan" stays a word)
        return True
    if _past_verb(words, end):  # "Signs creeped me out"
        return True
    if follow in _RECURRING and end + 1 < len(words):  # "Elf every Christmas"
        nxt = words[end + 1].group()
        return nxt[:1].isupper() or nxt.lower() in _TIMES
    if follow in _PREPOSITIONS:  # "Gravity on a big screen was unreal": the verb within the clause
        for n in range(end + 1, min(end + 7, len(words))):
            if any(c in _BREAKS for c in source[words[n - 1].end():words[n].start()]):
                return False
            if words[n].group().lower().replace("'", "").replace("\u2019", "") in _COPULAS:
                return True
    return False


def _names_title(source: str, words: list[re.Match[str]], first: int, end: int, article: bool = False,
                 title_at: Callable[[int], bool] | None = None, possessive: bool = False) -> bool:
    """Whether words[first:end] (a catalog title's key) name the title in `source`.

    Quoted titles always count. A one-word title must be capitalised (shouted only when it is long;
    in lower case only with its article, long and no everyday word: "the matrix"; not "brave"),
    must not be part of a longer capitalised name ("Michael Bay"), and, at the start of a
    sentence, must be followed by something a title does (`_opening_title`: "Heat is my
    favourite", "Seven and Heat", "Signs creeped me out"; not "Big fan of Spielberg"). Titles of
    function words need a capital inside a sentence and open one only when the word cannot be its
    subject ("Her is lovely"; never "It was fine", "Nothing too sad"); titles made only of everyday
    words need their words capitalised.
    """
    def sentence_start(i: int) -> bool:
        return i == 0 or bool(re.search(r"[.!?\n|:;\u2026]", source[words[i - 1].end():words[i].start()]))

    def capitalised(i: int) -> bool:
        return words[i].group()[:1].isupper()

    lo, hi = words[first].start(), words[end - 1].end()
    before, after = source[max(0, lo - 2):lo].strip(), source[hi:hi + 2].strip()
    if before[-1:] in "\"'«“‘" and before and after[:1] in "\"'»”’" and after:
        return True
    key = [w.group().lower() for w in words[first:end]]
    if first >= 2 and words[first - 1].group().lower() in _PLACE_PREPOSITIONS \
            and words[first - 2].group().lower() not in ("round", "around") and any(
            _TRAVEL.match(words[n].group().lower()) for n in range(max(0, first - 4), first - 1)):
        return False  # "We honeymooned in Casablanca"
    if possessive and len(key) == 1:  # "Inception's", "Heat's ending"; not "Life's too short", "Nothing's on"
        token = key[0][:-2]
        if not capitalised(first) or token in _FUNCTION_WORDS:
            return False
        # "Heat's diner scene": the part may follow one word that qualifies it
        return token not in _EVERYDAY_WORDS or any(n < len(words) and words[n].group().lower() in _FILM_PARTS
                                                   for n in (end, end + 1))
    if len(key) == 1:
        word, token = words[first].group(), key[0]
        if not capitalised(first):  # "the matrix" (its article written); never "not brave enough"
            return article and len(token) >= 5 and token not in _EVERYDAY_WORDS
        if word.isupper() and len(word) < 5:
            return False
        start = sentence_start(first)
        if token in _FUNCTION_WORDS and start and token not in _NOT_SUBJECTS:
            return False
        # Part of a longer capitalised name: "Michael Bay", "the Tom Hanks one".
        for n in (first - 1, end):
            if article and n == first - 1:
                continue  # the title's own article ("Les Intouchables")
            if 0 <= n < len(words) and source[min(words[n].end(), hi):max(words[n].start(), lo)].isspace() \
                    and capitalised(n) and words[n].group().lower() not in _FUNCTION_WORDS \
                    and not (sentence_start(n) and _opener(words[n].group().lower())):
                return False
        if start:
            return _opening_title(source, words, end, token, title_at)
        return True
    if all(k in _FUNCTION_WORDS for k in key):  # "but I do love comedy" names no *I Do (2006)*
        return all(capitalised(i) for i in range(first, end))
    if all(k in _EVERYDAY_WORDS for k in key):
        return all(capitalised(i) or key[i - first] in _FUNCTION_WORDS for i in range(first, end)) \
            and capitalised(first)
    return True


# ---------------------------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------------------------

# The 19 genre flags of GroupLens u.item, in column order (used when u.genre is absent).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)
_UNKNOWN = {"unknown", "unkonwn", ""}  # "unkonwn" is RecBole's spelling for item 267


def _bad_line(path: Path, line_number: int, problem: str) -> DatasetError:
    return DatasetError(
        f"{path.name} line {line_number}: {problem}. Fix: the file looks damaged or edited; "
        "obtain a fresh copy of the dataset."
    )


def _float(value: str, path: Path, line_number: int, field: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise DatasetError(f"{path.name} line {line_number}: field {field!r} is {value!r}, not a "
                           f"finite number. Fix: correct or remove that line.")
    return number


def _required(row: dict[str, str], fields: tuple[str, ...], path: Path, line_number: int) -> None:
    for field in fields:
        if not (row.get(field) or "").strip():
            raise DatasetError(f"{path.name} line {line_number}: field {field!r} is empty. "
                               f"Fix: every line needs {', '.join(fields)}; correct or remove that line.")


def _first_sighting(seen: set[str], item_id: str, path: Path, line_number: int) -> None:
    """Record `item_id` as seen; a second line with the same id is refused."""
    if item_id in seen:
        raise DatasetError(f"{path.name} line {line_number}: duplicate item id {item_id!r}. "
                           "Fix: keep one line per item (two entries for one id would silently "
                           "shadow each other).")
    seen.add(item_id)


def _finish(name: str, items: dict[str, Item], interactions: list[Interaction],
            scale: tuple[float, float], ratings_path: Path, listed: set[str]) -> Dataset:
    """The dataset, with ratings of items not in the catalog skipped and counted (logged)."""
    kept = [x for x in interactions if x.item_id in items]
    skipped = len(interactions) - len(kept)
    if skipped:
        unknown = sum(x.item_id not in listed for x in interactions)
        log = logger.warning if unknown else logger.info
        log("%s: skipped %d of %d ratings whose item is not in the catalog (%d of them rate an item "
            "that is not listed at all)", ratings_path, skipped, len(interactions), unknown)
    return Dataset(name=name, items=items, interactions=kept, rating_scale=scale)


def _atomic_rows(path: Path, needed: tuple[str, ...],
                 required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a RecBole atomic file keyed by field name (header `name:type`, tab-separated);
    `required` fields must be non-empty."""
    lines = iter_lines(path)
    first = next(lines, None)
    if first is None:
        raise empty_file_error(path, f"header naming {list(needed)}")
    header = [column.split(":")[0].strip() for column in str(first[1]).split("\t")]
    missing = [field for field in needed if field not in header]
    if missing:
        raise DatasetError(
            f"{path.name} line 1: header lacks {missing}. Fix: use RecBole atomic files "
            f"whose header names {list(needed)}."
        )
    for line_number, line in lines:
        assert isinstance(line, str)
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != len(header):
            raise _bad_line(path, line_number, f"{len(values)} columns, expected {len(header)}")
        row = dict(zip(header, values))
        _required(row, required, path, line_number)
        yield line_number, row


def load_ml100k_recbole(directory: Path, name: str = "ml-100k") -> Dataset:
    """MovieLens-100K as RecBole ships it: `{name}.inter` and `{name}.item` (`.user` is unused:
    the schema has no place for demographics)."""
    directory = Path(directory)
    item_path = require_file(directory / f"{name}.item", "RecBole's item file")
    inter_path = require_file(directory / f"{name}.inter", "RecBole's interaction file")
    items: dict[str, Item] = {}
    seen: set[str] = set()
    fields = ("item_id", "movie_title", "release_year", "class")
    for line_number, row in _atomic_rows(item_path, fields, ("item_id",)):
        _first_sighting(seen, row["item_id"], item_path, line_number)
        title = " ".join(row["movie_title"].split())
        if title.lower() in _UNKNOWN:
            continue  # a placeholder entry; recommending "unkonwn" would be nonsense
        year = row["release_year"].strip()
        genres = tuple(g for g in row["class"].split() if g.lower() not in _UNKNOWN)
        items[row["item_id"]] = Item(
            item_id=row["item_id"], title=title, categories=genres,
            year=int(year) if year.isdigit() else None,
        )
    if not items:
        raise empty_file_error(item_path, "items")
    timestamps = ConversionCount()
    needed = ("user_id", "item_id", "rating", "timestamp")
    interactions = [
        Interaction(
            user_id=row["user_id"], item_id=row["item_id"],
            rating=_float(row["rating"], inter_path, line_number, "rating"),
            timestamp=timestamps.take(_float(row["timestamp"], inter_path, line_number, "timestamp"),
                                      inter_path, line_number),
        )
        for line_number, row in _atomic_rows(inter_path, needed, needed[:3])
    ]
    timestamps.log(inter_path)
    return _finish(name, items, interactions, (1.0, 5.0), inter_path, seen)


def load_ml100k_grouplens(directory: Path, name: str = "ml-100k") -> Dataset:
    """MovieLens-100K as GroupLens publishes it: `u.data` (tab) and `u.item` (pipe, latin-1)."""
    directory = Path(directory)
    item_path = require_file(directory / "u.item", "GroupLens's u.item (pipe-separated)")
    data_path = require_file(directory / "u.data", "GroupLens's u.data (tab-separated)")
    genres = ML100K_GENRES
    genre_path = directory / "u.genre"
    if genre_path.is_file():
        listed = [str(line).split("|")[0] for _, line in iter_lines(genre_path, "latin-1") if "|" in str(line)]
        genres = tuple(listed) if len(listed) == len(ML100K_GENRES) else genres
    items: dict[str, Item] = {}
    seen: set[str] = set()
    for line_number, line in iter_lines(item_path, "latin-1"):
        assert isinstance(line, str)
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 5 + len(genres):
            raise _bad_line(item_path, line_number, f"{len(fields)} fields, expected {5 + len(genres)}")
        title, year = split_title_year(fields[1])
        if not fields[0].strip():
            raise DatasetError(f"{item_path.name} line {line_number}: field 'movie id' is empty. "
                               "Fix: correct or remove that line.")
        _first_sighting(seen, fields[0], item_path, line_number)
        if title.lower() in _UNKNOWN:
            continue
        if year is None and re.search(r"\d{4}$", fields[2]):
            year = int(fields[2][-4:])  # release date like 01-Jan-1995
        flags = fields[5:]
        categories = tuple(g for g, flag in zip(genres, flags) if flag == "1" and g.lower() not in _UNKNOWN)
        items[fields[0]] = Item(item_id=fields[0], title=title, categories=categories, year=year)
    if not items:
        raise empty_file_error(item_path, "items")
    interactions: list[Interaction] = []
    timestamps = ConversionCount()
    for line_number, line in iter_lines(data_path, "latin-1"):
        assert isinstance(line, str)
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise _bad_line(data_path, line_number, f"{len(fields)} fields, expected 4")
        _required(dict(zip(("user id", "item id", "rating", "timestamp"), fields)),
                  ("user id", "item id", "rating"), data_path, line_number)
        interactions.append(Interaction(
            user_id=fields[0], item_id=fields[1],
            rating=_float(fields[2], data_path, line_number, "rating"),
            timestamp=timestamps.take(_float(fields[3], data_path, line_number, "timestamp"),
                                      data_path, line_number),
        ))
    timestamps.log(data_path)
    return _finish(name, items, interactions, (1.0, 5.0), data_path, seen)


def load_ml100k(directory: Path, name: str = "ml-100k") -> Dataset:
    """MovieLens-100K from `directory` (or its `ml-100k/` subfolder), in either layout."""
    directory = Path(directory)
    for folder in (directory, directory / "ml-100k"):
        if (folder / f"{name}.inter").is_file():
            return load_ml100k_recbole(folder, name)
        if (folder / "u.data").is_file():
            return load_ml100k_grouplens(folder, name)
    raise DatasetError(
        f"{directory}: no MovieLens-100K files. Fix: point to a folder holding either RecBole's "
        f"{name}.inter and {name}.item, or GroupLens's u.data and u.item."
    )


class _RowLines:
    """The lines of a CSV file for `csv.reader`, through `iter_lines` (bounded length, checked
    UTF-8), remembering the physical line each row starts on (what an editor shows)."""

    def __init__(self, path: Path) -> None:
        self._lines = iter_lines(path)
        self.row_start = 1
        self._fresh = True

    def __iter__(self) -> "_RowLines":
        return self

    def __next__(self) -> str:
        number, text = next(self._lines)
        if self._fresh and str(text).strip():
            self.row_start, self._fresh = number, False
        return str(text) + "\n"

    def next_row(self) -> None:
        self._fresh = True


def _csv_rows(path: Path, needed: tuple[str, ...],
              required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a MovieLens CSV with the line each starts on; `required` columns must be non-empty."""
    lines = _RowLines(path)
    reader = csv.DictReader(lines)
    try:
        fieldnames = reader.fieldnames
        if fieldnames is None:
            raise empty_file_error(path, f"header naming {list(needed)}")
        missing = [c for c in needed if c not in fieldnames]
        if missing:
            raise DatasetError(
                f"{path.name} line 1: header lacks {missing}. Fix: use the MovieLens CSV layout "
                f"with columns {list(needed)}."
            )
        lines.next_row()
        for row in reader:
            start = lines.row_start
            lines.next_row()
            # No MovieLens field holds a line break: one inside a field is a quote never closed.
            if any("\n" in v for v in row.values() if isinstance(v, str)):
                raise _bad_line(path, start, f"a quoted field runs on to line {reader.line_num} "
                                             "(a quote that is never closed?)")
            if any(row.get(c) is None for c in needed):
                raise _bad_line(path, start, "too few columns")
            _required(row, required, path, start)
            yield start, row
    except csv.Error as error:
        raise _bad_line(path, lines.row_start, f"not valid CSV ({error})") from None


def load_movielens_csv(directory: Path, name: str = "ml-latest-small") -> Dataset:
    """MovieLens Latest (Small or full) CSVs: movies.csv, ratings.csv and optional tags.csv.

    Titles lose their "(Year)" suffix into `Item.year` and are otherwise kept as published;
    genres are pipe-separated and "(no genres listed)" means none; tags become item tags,
    lowercased, deduplicated, most frequent first (ties alphabetical, for stable output).
    """
    directory = Path(directory)
    movies_path = require_file(directory / "movies.csv", "MovieLens movies.csv")
    ratings_path = require_file(directory / "ratings.csv", "MovieLens ratings.csv")
    tag_counts: dict[str, Counter[str]] = defaultdict(Counter)
    tags_path = directory / "tags.csv"
    if tags_path.is_file():
        for _, row in _csv_rows(tags_path, ("movieId", "tag"), ("movieId",)):
            tag = " ".join(row["tag"].lower().split())
            if tag:
                tag_counts[row["movieId"]][tag] += 1
    items: dict[str, Item] = {}
    seen: set[str] = set()
    for line_number, row in _csv_rows(movies_path, ("movieId", "title", "genres"), ("movieId", "title")):
        title, year = split_title_year(row["title"])
        genres = tuple(g for g in row["genres"].split("|") if g and g != "(no genres listed)")
        counts = tag_counts.get(row["movieId"], Counter())
        tags = tuple(sorted(counts, key=lambda t: (-counts[t], t)))
        _first_sighting(seen, row["movieId"], movies_path, line_number)
        items[row["movieId"]] = Item(
            item_id=row["movieId"], title=title, categories=genres, year=year, tags=tags
        )
    if not items:
        raise empty_file_error(movies_path, "movies after the header")
    needed = ("userId", "movieId", "rating", "timestamp")
    timestamps = ConversionCount()
    interactions = [
        Interaction(
            user_id=row["userId"], item_id=row["movieId"],
            rating=_float(row["rating"], ratings_path, line_number, "rating"),
            timestamp=timestamps.take(_float(row["timestamp"], ratings_path, line_number, "timestamp"),
                                      ratings_path, line_number),
        )
        for line_number, row in _csv_rows(ratings_path, needed, needed[:3])
    ]
    timestamps.log(ratings_path)
    return _finish(name, items, interactions, (0.5, 5.0), ratings_path, seen)
