"""Reasons a person understands: why this item, in plain words, from what actually ranked it.

Each reason is built from the signals that placed the item (recommend/ranker.py) and is true of
the item: the request facet it satisfies ("A 1990s thriller, as you asked."), the named title it
resembles ("People who loved Heat (1995) rate it highly."), the memory it rests on ("You liked
GoldenEye (1995)." — the memory id stays in the data for the trace), or its reception. Never a
dislike, a lukewarm rating, a refusal or "seen it"; never a genre of another category.
"""

from __future__ import annotations

from mrrec_chat.data.movielens import spoken_title
from mrrec_chat.data.schema import Dataset, Item
from mrrec_chat.recommend.policy import TurnPolicy
from mrrec_chat.recommend.ranker import CatalogSignals, Ranked
from mrrec_chat.recommend.request import genre_phrase, genre_word

CF_STRONG = 0.04  # shrunk co-liking cosine above which "people who loved X" is a fair claim
AFFINITY_STRONG = 0.25
CONTENT_STRONG = 0.75  # mean cosine of descriptive texts: same genres and era, or shared tags


def rated_clause(signals: CatalogSignals, row: int, high: float) -> str:
    """"rated 4.1/5 on average by 508 people"."""
    return f"rated {signals.bayes[row]:.1f}/{high:g} on average by {int(signals.counts[row])} people"


def article(phrase: str) -> str:
    """"A crime film", "An animated film"."""
    return ("An " if phrase[:1].lower() in "aeiou" and not phrase.startswith("one") else "A ") + phrase


# What a mood or an audience asked for, said back ("A drama film, picked because you asked for
# something moving"): the genre is the item's own; the mood is the request's, not a claim about the film.
MOOD_ASK = {"feel-good": "something feel-good", "moving": "something moving", "relaxed": "something easy-going",
            "dark": "something darker", "smart": "something smart", "scary": "something scary",
            "epic": "something epic", "gentle": "something gentler", "not-sad": "something lighter",
            "sad": "something sad", "grandparents": "a film for your grandparents", "grown-up": "a film for adults",
            "couple": "a film for the two of you", "exciting": "something exciting",
            "blockbuster": "a blockbuster", "slow-burn": "a slow burn",
            "historical": "something historical", "friendship": "a film about friendship",
            "offbeat": "something offbeat", "detective": "a detective story",
            "lighter": "something lighter", "friends": "a film to watch with friends",
            "parents": "a film to share with your family", "different": "something different",
            "fun": "something fun", "inspiring": "something inspiring"}
AUDIENCE_ASK = {"kids": "a film for children", "family": "a film for the family", "teens": "a film for teenagers"}


def mood_genre(item: Item, policy: TurnPolicy, relaxed: tuple[str, ...]) -> tuple[str | None, str]:
    """(the item's genre that the request's mood or audience asked for, what was asked), or (None, "")."""
    r = policy.request
    if "mood" in relaxed or r.wanted or not (r.moods or r.audience):
        return None, ""
    genre = next((g for g in r.prefer_genres if g in item.categories and g not in policy.refused), None)
    if genre is None and not r.prefer_genres and r.avoid_genres and item.categories:
        # "nothing too violent": any film without the avoided genres, named by its calmest genre
        calm = ("Drama", "Comedy", "Romance", "Musical", "Documentary", "Animation", "Children's", "Children",
                "Adventure", "Fantasy", "Sci-Fi", "Mystery", "Western")
        # a film with none of them is not said to be gentle ("A film noir, picked because you asked
        # for something gentler" was Blade Runner)
        genre = next((g for g in calm if g in item.categories), None)
    if genre is None or any(g in item.categories for g in r.avoid_genres):
        return None, ""
    ask = MOOD_ASK.get(r.moods[0], "") if r.moods else AUDIENCE_ASK.get(r.audience, "")
    return (genre, ask) if ask else (None, "")


def spoken_list(words: list[str]) -> str:
    """"drama", "drama and comedy", "drama, comedy and action"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def usual_clause(item: Item, policy: TurnPolicy, relaxed: tuple[str, ...]) -> str:
    """"A western film, away from the drama, comedy and thriller you mostly watch" ("" where the
    item is not away from them)."""
    usual = policy.usual_genres
    if not policy.exploring or "mood" in relaxed or not item.categories or set(item.categories) & set(usual):
        return ""
    listed = spoken_list([genre_word(g) for g in usual])
    return f"{article(genre_phrase(list(item.categories[:1])))}, away from the {listed} you mostly watch"


def facet_clause(item: Item, policy: TurnPolicy, relaxed: tuple[str, ...]) -> str:
    r = policy.request
    usual = usual_clause(item, policy, relaxed)
    if usual:
        return usual
    # a theme's genre relaxed before the era ("a detective story from the 70s") still names the
    # cards that have it (Chinatown is the mystery; The Godfather is only from the 1970s)
    themed = dict(r.themes)
    genres = [g for g in r.wanted if g in item.categories and ("genres" not in relaxed or g in themed)]
    era = r.era if (r.year_min or r.year_max) and "era" not in relaxed and r.accepts_year(item.year) else ""
    mood, ask = mood_genre(item, policy, relaxed) if not genres else (None, "")
    if not genres and not era and mood is None:
        return ""
    noun = genre_phrase(genres or ([mood] if mood else []))
    if era.startswith("the ") and " to " in era:
        phrase = f"{noun} from {era}"  # "sci-fi film from the 1970s to 1980s"
    elif era.startswith("the "):
        phrase = f"{era[4:]} {noun}"  # "1990s thriller film"
    elif era in ("classics",):
        phrase = f"classic {noun}"
    elif era == "recent":
        phrase = f"recent {noun}"
    elif era:
        phrase = f"{noun} from {era}" if not era.startswith(("after", "before", "since")) else f"{noun} released {era}"
    else:
        phrase = noun
    if ask:
        return f"{article(phrase)}, picked because you asked for {ask}"
    themes = dict(r.themes)
    if genres and all(g in themes for g in genres):
        # "a film about time travel": the catalog records genres, and sci-fi is the nearest one
        words = " and ".join(dict.fromkeys(f"“{themes[g]}”" for g in genres))
        return f"{article(phrase)}, the nearest genre this catalog records to {words}"
    others = [genre_word(g) for g in item.categories if g not in genres][:2]
    extra = f" (with {' and '.join(others)})" if others and genres else ""
    return f"{article(phrase)}{extra}, as you asked"


def explain(ranked: Ranked, policy: TurnPolicy, dataset: Dataset, signals: CatalogSignals) -> tuple[str, list[str]]:
    """(reason sentence, memory ids it rests on)."""
    item = ranked.item
    f = ranked.features
    clauses: list[str] = []
    memory_ids: list[str] = []
    facet = facet_clause(item, policy, ranked.relaxed)
    if facet:
        clauses.append(facet)
    if f.get("remembered", 0) > 0:
        clauses.append("you liked it when it came up in an earlier chat")
        mid = policy.memory_seed_ids.get(item.item_id)
        if mid:
            memory_ids.append(mid)
    said_seed = None
    if len(clauses) < 2 and ranked.seed and f.get("cf_request", 0) >= CF_STRONG:
        seed = dataset.items.get(ranked.seed)
        if seed is not None:
            # a title the model's profile named, not the person: say why it is there (before, "people
            # who loved The Big Sleep rate it highly" followed "a drama released before 1960")
            named_by = "" if ranked.seed in policy.seeds else ", a film that fits your request,"
            clauses.append(f"people who loved {spoken_title(seed.title, seed.year)}{named_by} rate it highly")
            said_seed = ranked.seed
    # The same film twice ("people who loved Toy Story...; you liked Toy Story...") says nothing new.
    if len(clauses) < 2 and ranked.memory_seed and ranked.memory_seed != said_seed \
            and (f.get("cf_memory", 0) >= CF_STRONG / 2
                                                    or f.get("sem_memory", 0) >= CONTENT_STRONG):
        liked = dataset.items.get(ranked.memory_seed)
        if liked is not None:
            said = spoken_title(liked.title, liked.year)  # "The Usual Suspects (1995)", as a sentence says it
            clauses.append(f"you liked {said}, and fans of it like this too"
                           if f.get("cf_memory", 0) >= CF_STRONG / 2 else f"like {said}, which you liked")
            mid = policy.memory_seed_ids.get(ranked.memory_seed)
            if mid:
                memory_ids.append(mid)
    row = signals.row.get(item.item_id)
    if len(clauses) < 2 and row is not None and signals.counts[row] >= 20:
        low, high = dataset.rating_scale
        if signals.bayes[row] >= low + 0.72 * (high - low):
            clauses.append(rated_clause(signals, row, high))
    if len(clauses) < 2:
        # a genre this request asks for is already said ("a comedy film, as you asked")
        liked_genres = [g for g in item.categories if policy.affinity.get(g, 0) >= AFFINITY_STRONG
                        and not (facet and g in policy.request.wanted)]
        if liked_genres:
            g = liked_genres[0]
            if g in policy.affinity_ids:
                # "recommend a comedy" was a request, not "I like comedies"
                clauses.append(f"you told me you like {genre_word(g)}" if g in policy.affinity_stated
                               else f"you asked for {article(genre_phrase([g])).lower()} before")
                memory_ids.append(policy.affinity_ids[g])
            else:
                clauses.append(f"you rate {genre_word(g)} films above your average")
    if not clauses:
        mood = policy.request.moods[0] if policy.request.moods else ""
        noun = genre_phrase(list(item.categories)) if item.categories else "title"
        a_noun = article(noun).lower()  # "a sci-fi drama film"
        if mood in MOOD_ASK and any(g in policy.request.prefer_genres for g in item.categories):
            clauses.append(f"{a_noun}, for {MOOD_ASK[mood]}")
        elif row is not None and signals.counts[row] > 0:
            clauses.append(f"{a_noun} that {int(signals.counts[row])} people rated")
        else:
            clauses.append(f"{a_noun} close to your request")
    sentence = "; ".join(clauses)
    return sentence[0].upper() + sentence[1:] + ".", memory_ids
