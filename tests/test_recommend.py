"""The recommendation step: request understanding, turn policy, fused ranker, profile check, reasons.

Parser and ranker tests are pure (a hand-made catalog with hand-made vectors); the end-to-end
tests run `Assistant.chat` on the tiny catalog with the real embedder and Chroma, no LLM.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest

from mrrec_chat.agent import events as ev
from mrrec_chat.data.schema import Dataset, Interaction, Item
from mrrec_chat.memory.schema import MemoryEntry
from mrrec_chat.recommend.policy import plan_turn
from mrrec_chat.recommend.profile import read_profile
from mrrec_chat.recommend.ranker import (
    FEATURES,
    CatalogSignals,
    Ranker,
    RankInputs,
    load_trees,
    load_weights,
    tree_scores,
)
from mrrec_chat.recommend.request import carry_over, understand

ML100K = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
          "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]


def parse(text, **kw):
    return understand(text, categories=ML100K, **kw)


# --- request understanding ---------------------------------------------------------------------

@pytest.mark.parametrize("text, any_, all_, refused, years", [
    ("a feel-good comedy for a family movie night", set(), {"Comedy", "Children's"}, {"Horror"}, (None, None)),
    ("I can't stand horror. Any feel-good classics from the 80s?", set(), set(), {"Horror"}, (1980, 1989)),
    ("I hate horror. Give me a smart 90s thriller", {"Thriller"}, set(), {"Horror"}, (1990, 1999)),
    ("a sci-fi horror film", set(), {"Sci-Fi", "Horror"}, set(), (None, None)),
    ("No dramas, no romance, just a fun action comedy", set(), {"Action", "Comedy"}, {"Drama", "Romance"},
     (None, None)),
    ("a western or a war film", {"Western", "War"}, set(), set(), (None, None)),
    ("Ich suche eine lustige Komödie aus den 90ern, aber bitte keinen Horror", {"Comedy"}, set(), {"Horror"},
     (1990, 1999)),
    ("une comédie romantique des années 80", set(), {"Romance", "Comedy"}, set(), (1980, 1989)),
    ("algo de ciencia ficción, nada de terror", {"Sci-Fi"}, set(), {"Horror"}, (None, None)),
    ("un documental interesante", {"Documentary"}, set(), set(), (None, None)),
    ("fantasy, but nothing for children", {"Fantasy"}, set(), {"Children's"}, (None, None)),
    ("Je voudrais un thriller, mais pas d'horreur", {"Thriller"}, set(), {"Horror"}, (None, None)),
    ("What's a good war drama?", set(), {"War", "Drama"}, set(), (None, None)),
    ("Any good space adventures from the 70s or 80s?", set(), {"Sci-Fi", "Adventure"}, set(), (1970, 1989)),
    ("I want to laugh tonight, anything but romantic stuff", {"Comedy"}, set(), {"Romance"}, (None, None)),
    # adjectives joined by "and" describe one film; genre nouns or "a ... and a ..." offer a choice
    ("something funny and romantic from the 90s", set(), {"Comedy", "Romance"}, set(), (1990, 1999)),
    ("lustig und romantisch", set(), {"Comedy", "Romance"}, set(), (None, None)),
    ("I like horror and comedy", {"Horror", "Comedy"}, set(), set(), (None, None)),
    ("a comedy and a thriller", {"Comedy", "Thriller"}, set(), set(), (None, None)),
    ("comedies and romantic films", {"Comedy", "Romance"}, set(), set(), (None, None)),
])
def test_request_constraints(text, any_, all_, refused, years):
    r = parse(text)
    assert set(r.genres_any) == any_ and set(r.genres_all) == all_
    assert refused <= set(r.genres_refused)
    assert (r.year_min, r.year_max) == years


def test_kids_audience_refuses_horror_and_wants_childrens_films():
    r = parse("a movie for my kids")
    assert r.audience == "kids" and "Horror" in r.genres_refused
    assert set(r.genres_any) == {"Children's", "Animation"}


@pytest.mark.parametrize("text, all_", [
    ("a comedy for my kids", {"Comedy", "Children's"}),
    ("a funny animated movie for my kids", {"Comedy", "Animation", "Children's"}),
    ("an adventure film for the kids tonight", {"Adventure", "Children's"}),
])
def test_kids_audience_asks_for_childrens_films_with_the_named_genre(text, all_):
    r = parse(text)
    assert set(r.genres_all) == all_ and not r.genres_any


def test_less_violent_avoids_thrillers_too():
    assert {"Thriller", "Horror", "War", "Crime"} <= set(parse("something like The Matrix but less violent").avoid_genres)


def test_follow_up_keeps_earlier_genre_and_refusal_but_new_genre_replaces():
    first = parse("a comedy please, no horror")
    narrowed = parse("something from the 90s", earlier=[first])
    assert narrowed.genres_any == ("Comedy",) and "Horror" in narrowed.genres_refused
    switched = parse("now a smart 90s thriller", earlier=[parse("I love comedies")])
    assert switched.genres_any == ("Thriller",)


def test_titles_named_are_seeds_and_unknown_titles_are_reported():
    titles = {"heat": ["1"]}
    find = lambda text: [i for key, ids in titles.items() if key in text.lower() for i in ids]
    r = parse("something like Heat but funnier", find_titles=find)
    assert r.titles == ("1",) and "1" in r.titles_named
    assert parse("something like Inception", find_titles=find).unknown_titles == ("Inception",)
    assert parse("something like The Matrix but less violent", find_titles=find).unknown_titles == ("The Matrix",)
    assert parse("I like Comedy", find_titles=find).unknown_titles == ()
    # names in quotes, wherever they stand; an apostrophe is no quote
    quoted = parse("movies like 'The Matrix' and 'Inception'", find_titles=find)
    assert quoted.unknown_titles == ("The Matrix", "Inception")
    assert parse("I'm looking for a comedy, it's late", find_titles=find).unknown_titles == ()


# --- ranker ------------------------------------------------------------------------------------

def _catalog(items, interactions=()):
    dataset = Dataset("unit", {i.item_id: i for i in items}, list(interactions))
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(len(items), 8)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)

    class Catalog:  # what the ranker reads of retrieval.CatalogIndex
        item_ids = sorted(dataset.items)

    Catalog.matrix = matrix
    return dataset, Catalog()


def _ranker(dataset, catalog, **weights):
    w = {f: 0.0 for f in FEATURES}
    w.update(weights)
    return Ranker(CatalogSignals(dataset, catalog), w)


ITEMS = [Item("a", "Nightwatch", ("Horror", "Thriller"), 1997), Item("b", "Nightwatch", ("Horror", "Thriller"), 1997),
         Item("c", "Heat", ("Action", "Crime"), 1995), Item("d", "Casino", ("Crime", "Drama"), 1995),
         Item("e", "Airplane!", ("Comedy",), 1980), Item("f", "Big", ("Comedy", "Fantasy"), 1988),
         Item("g", "Fargo", ("Comedy", "Crime"), 1996)]


def test_something_like_a_title_ranks_items_sharing_its_genres_first():
    """Popularity puts Airplane! first; "something like Heat" (Action, Crime) wants two of those
    genres where the catalog has such items, and one of them where it has too few."""
    items = ITEMS + [Item("h", "Ronin", ("Action", "Crime", "Thriller"), 1998)]
    interactions = [Interaction(f"u{k}", "e", 5.0) for k in range(9)]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    inputs = RankInputs(np.zeros(8, np.float32), exclude={"c"}, like_genres=(("Action", "Crime"),))
    assert [r.item.item_id for r in ranker.rank(inputs, n=1)] == ["h"]
    assert ranker.rank(RankInputs(np.zeros(8, np.float32), exclude={"c"}), n=1)[0].item.item_id == "e"
    ranked = ranker.rank(inputs, n=3)
    assert ranked[0].item.item_id == "h" and "like the named title" in ranked[0].relaxed


def test_a_themes_genre_is_relaxed_before_the_era_and_its_nearest_genres_fill_the_list():
    """"a detective story from the 70s" (mystery only by the theme word): the catalog's one 70s
    mystery, then 70s crime films, not the popular 80s mystery (Amadeus came third)."""
    items = [Item("m70", "Chinatown", ("Mystery", "Thriller"), 1974), Item("m84", "Amadeus", ("Drama", "Mystery"), 1984),
             Item("c72", "The Godfather", ("Crime", "Drama"), 1972), Item("c73", "The Sting", ("Comedy", "Crime"), 1973),
             Item("s77", "Star Wars", ("Sci-Fi",), 1977)]
    interactions = [Interaction(f"u{k}", i, 5.0) for k in range(9) for i in ("m84", "s77")]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    policy = plan_turn(parse("a detective story from the 70s"), [], categories=ML100K)
    assert set(policy.inputs(np.zeros(8, np.float32)).nearest_genres) >= {"Crime", "Film-Noir"}
    inputs = RankInputs(np.zeros(8, np.float32), genres_any=("Mystery",), year_min=1970, year_max=1979,
                        nearest_genres=("Crime", "Film-Noir"))
    ids = [r.item.item_id for r in ranker.rank(inputs, n=3)]
    assert ids[0] == "m70" and set(ids[1:]) == {"c72", "c73"}, ids
    plain = RankInputs(np.zeros(8, np.float32), genres_any=("Mystery",), year_min=1970, year_max=1979)
    assert [r.item.item_id for r in ranker.rank(plain, n=2)] == ["m70", "m84"]  # a genre named outright stays
    assert plan_turn(parse("a mystery from the 70s"), [], categories=ML100K).nearest_genres() == ()


def test_an_adjective_genre_is_relaxed_before_the_kind_of_film_named():
    """"a funny documentary": the catalog's one comic documentary, then documentaries, not
    plain comedies (they came second to fifth); "eine spannende Dokumentation" gave thrillers."""
    items = [Item("cd", "The Big One", ("Comedy", "Documentary"), 1997),
             Item("d1", "Hoop Dreams", ("Documentary",), 1994), Item("d2", "Crumb", ("Documentary",), 1994),
             Item("c1", "Liar Liar", ("Comedy",), 1997), Item("t1", "Fargo", ("Thriller",), 1996)]
    interactions = [Interaction(f"u{k}", i, 5.0) for k in range(9) for i in ("c1", "t1")]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    for text in ("a funny documentary", "eine spannende Dokumentation"):
        policy = plan_turn(parse(text), [], categories=ML100K)
        inputs = policy.inputs(np.zeros(8, np.float32))
        assert inputs.head_genres == ("Documentary",), (text, inputs.head_genres)
        ids = [r.item.item_id for r in ranker.rank(inputs, n=3)]
        assert set(ids) <= {"cd", "d1", "d2"}, (text, ids)
    both_named = plan_turn(parse("a romantic comedy"), [], categories=ML100K)
    assert both_named.inputs(np.zeros(8, np.float32)).head_genres == ()  # either half will do


def test_the_policy_takes_the_named_titles_genres_for_something_like():
    genres = {"1": ("Animation", "Children's", "Comedy")}
    find = lambda text: ["1"] if "toy story" in text.lower() else []  # noqa: E731
    policy = plan_turn(parse("something like Toy Story", find_titles=find), [], categories=ML100K,
                       item_categories=lambda i: genres.get(i, ()))
    assert policy.like_genres == (("Animation", "Children's", "Comedy"),)
    named_genre = plan_turn(parse("a comedy like Toy Story", find_titles=find), [], categories=ML100K,
                            item_categories=lambda i: genres.get(i, ()))
    assert named_genre.like_genres == ()  # a genre named outright is the request's genre


def test_a_family_film_without_a_genre_lists_childrens_films_first():
    """"What's a good family film?": popularity alone put The Full Monty third; children's and
    animated films come first, the family's comedies where too few are left."""
    items = ITEMS + [Item("k", "Babe", ("Children's", "Comedy"), 1995)]
    interactions = [Interaction(f"u{k}", "e", 5.0) for k in range(9)]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    policy = plan_turn(parse("what's a good family film?"), [], categories=ML100K)
    inputs = policy.inputs(np.zeros(8, np.float32))
    assert inputs.audience_genres == ("Children's", "Animation")
    assert [r.item.item_id for r in ranker.rank(inputs, n=2)] == ["k", "e"]  # Babe, then Airplane!
    named = plan_turn(parse("a comedy for a family movie night"), [], categories=ML100K)
    assert named.inputs(np.zeros(8, np.float32)).audience_genres == ()  # a genre named: the all-of ask


def test_a_cop_film_reads_as_crime_the_nearest_genre():
    r = parse("a cop movie from the 80s")
    assert r.genres_any == ("Crime",) and (r.year_min, r.year_max) == (1980, 1989)
    assert r.themes and "cop" in dict(r.themes).values()


def test_one_item_per_title_and_year():
    dataset, catalog = _catalog(ITEMS)
    ranked = _ranker(dataset, catalog, popularity=1.0).rank(RankInputs(np.zeros(8, np.float32)), n=7)
    titles = [(r.item.title, r.item.year) for r in ranked]
    assert len(titles) == len(set(titles)) == 6


def test_refused_genres_and_exclusions_are_never_shown_even_when_few_items_remain():
    dataset, catalog = _catalog(ITEMS)
    inputs = RankInputs(np.zeros(8, np.float32), refused=("Crime",), exclude={"e"})
    shown = {r.item.item_id for r in _ranker(dataset, catalog, popularity=1.0).rank(inputs, n=7)}
    assert shown == {"a", "f"}  # "b" is "a" listed twice


def test_filters_relax_by_tier_era_matches_come_first():
    dataset, catalog = _catalog(ITEMS)
    inputs = RankInputs(np.zeros(8, np.float32), genres_any=("Comedy",), year_min=1990, year_max=1999)
    ranked = _ranker(dataset, catalog, quality=1.0).rank(inputs, n=3)
    assert ranked[0].item.item_id == "g"  # the only 1990s comedy, whatever the scores
    assert {r.item.item_id for r in ranked[1:]} == {"e", "f"} and "era" in ranked[0].relaxed


def test_collaborative_seed_pulls_co_liked_items():
    inter = [Interaction(f"u{n}", i, 5.0) for n in range(6) for i in ("c", "d")] + \
            [Interaction("v", "e", 5.0), Interaction("v", "c", 1.0)]
    dataset, catalog = _catalog(ITEMS, inter)
    ranker = _ranker(dataset, catalog, cf_request=1.0)
    ranked = ranker.rank(RankInputs(np.zeros(8, np.float32), seeds={"c": 1.0}, exclude={"c"}), n=2)
    assert ranked[0].item.item_id == "d" and ranked[0].seed == "c" and ranked[0].features["cf_request"] > 0


def test_fusion_weights_file_is_read_and_complete(tmp_path):
    weights = load_weights()
    assert set(weights) == set(FEATURES)
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps({"weights": {"sem_request": 2.0}}))
    assert load_weights(path)["sem_request"] == 2.0 and load_weights(path)["popularity"] == 0.0
    path.write_text("not json")
    assert load_weights(path)["sem_request"] > 0  # a broken file falls back to defaults


def test_tree_ensemble_scores_by_its_splits_and_ranks_when_given():
    # One tree: popular items (popularity > 1) score 1, others by quality; a second adds 0.5.
    trees = [{"f": "popularity", "t": 1.0, "l": {"f": "quality", "t": 0.0, "l": {"v": -1.0}, "r": {"v": 0.2}},
              "r": {"v": 1.0}}, {"v": 0.5}]
    X = np.zeros((3, len(FEATURES)), np.float32)
    X[0, FEATURES.index("popularity")] = 2.0
    X[1, FEATURES.index("quality")] = 0.3
    X[2, FEATURES.index("quality")] = -0.3
    assert np.allclose(tree_scores(trees, X), [1.5, 0.7, -0.5])
    inter = [Interaction(f"u{n}", "e", 4.0) for n in range(5)]
    dataset, catalog = _catalog(ITEMS, inter)
    ranker = Ranker(CatalogSignals(dataset, catalog), {f: 0.0 for f in FEATURES}, trees)
    assert ranker.rank(RankInputs(np.zeros(8, np.float32)), n=1)[0].item.item_id == "e"


def test_fusion_trees_are_read_or_ignored_when_unusable(tmp_path):
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps({"weights": {"sem_request": 1.0}}))
    assert load_trees(path) is None  # a linear fusion
    path.write_text(json.dumps({"weights": {}, "trees": [{"f": "popularity", "t": 1, "l": {"v": 0}, "r": {"v": 1}}]}))
    assert load_trees(path)[0]["f"] == "popularity"
    path.write_text(json.dumps({"weights": {}, "trees": [{"f": "no such feature", "t": 1, "l": {"v": 0}, "r": {"v": 1}}]}))
    assert load_trees(path) is None
    path.write_text(json.dumps({"weights": {}, "trees": [{"f": "popularity", "l": {"v": 0}}]}))
    assert load_trees(path) is None
    # The shipped file's trees (if any) are usable: every split names a known feature.
    trees = load_trees()
    assert trees is None or all(isinstance(t, dict) for t in trees)


# --- policy and profile ------------------------------------------------------------------------

def _chat(kind, subject, subject_type="category", **extra):
    return MemoryEntry(f"c:x:u:{subject}", "chat", f"{kind} {subject}", "u",
                       extra={"kind": kind, "subject": subject, "subject_type": subject_type, "holder": "user",
                              **extra})


def test_memory_dislike_refuses_unless_this_request_asks_for_it():
    memory = [_chat("dislike", "Horror"), _chat("like", "Comedy")]
    policy = plan_turn(parse("a good thriller"), memory, categories=ML100K)
    assert "Horror" in policy.refused and policy.affinity["Comedy"] > 0
    assert "Horror" not in plan_turn(parse("a horror film for Halloween"), memory, categories=ML100K).refused
    # A genre only suggested ("scary", "zombies") does not override the stated dislike.
    suggested = plan_turn(parse("a zombie movie, something scary"), memory, categories=ML100K)
    assert "Horror" in suggested.refused and "Horror" not in suggested.request.wanted
    other = MemoryEntry("c:x:u:w", "chat", "Their wife hates westerns", "u",
                        extra={"kind": "context", "subject": "Western", "subject_type": "category", "holder": "other"})
    assert "Western" not in plan_turn(parse("a film"), [other], categories=ML100K).refused


def test_named_titles_are_excluded_unless_a_rewatch_is_asked():
    find = lambda text: ["c"] if "heat" in text.lower() else []
    assert "c" in plan_turn(parse("something like Heat", find_titles=find), []).exclude
    assert "c" not in plan_turn(parse("I want to watch Heat again", find_titles=find), []).exclude


@pytest.mark.parametrize("profile, problem", [
    ("description of the ideal item: genres, era, mood, similar titles", "repeats the prompt"),
    ("The (1997) The (Thriller)", "says nothing"),
    ("A 1970s comedy with a warm family feel", "era"),
    ("A scary horror movie with a twist", "refused genre"),
    ("The 1980s are a great place to start. The 1980s are a great place to", "repeats itself"),
    ("The ideal item profile is: - Romance - Horror - War - Love", "refused genre"),
    ('The user\'s response was: "They want a thriller; check their taste.', "repeats the prompt"),  # seen live
    ("I'm ready to assist you. Please go ahead and ask your question.", "talks to the user"),  # seen live, for "hi"
])
def test_unusable_profiles_are_rejected(profile, problem):
    request = parse("I hate horror. Any feel-good classics from the 80s?")
    reading = read_profile(profile, request, parse(profile))
    assert not reading.usable and any(problem in p for p in reading.problems)


def test_a_profile_against_the_requests_mood_is_rejected():
    request = parse("something light, I had a long day")
    profile = "The ideal item profile is: - Romance - Horror - War - Love"
    reading = read_profile(profile, request, parse(profile))
    assert not reading.usable and any("mood" in p for p in reading.problems)


def test_a_profile_that_only_echoes_the_request_is_rejected():
    request = parse("A tense crime thriller for tonight")
    reading = read_profile("A tense crime thriller for tonight", request, parse("A tense crime thriller for tonight"))
    assert not reading.usable and "profile only repeats the request" in reading.problems
    richer = "A tense 1990s crime thriller with a heist, like Heat"
    assert read_profile(richer, request, parse(richer)).usable


def test_a_fitting_profile_is_usable():
    request = parse("a feel-good comedy from the 80s")
    profile = "A warm 1980s comedy about friendship, light and funny, like Big"
    assert read_profile(profile, request, parse(profile)).usable


# --- through the app -----------------------------------------------------------------------------

def _items(events):
    return next(e for e in events if isinstance(e, ev.ItemsRecommended)).items


def test_two_turn_comedy_then_thriller_through_the_app(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    first = list(assistant.chat(user, "I love comedies"))
    assert all("Comedy" in r.item.categories for r in _items(first))
    second = _items(list(assistant.chat(user, "now a smart 90s thriller", earlier=["I love comedies"])))
    assert second and all("Thriller" in r.item.categories for r in second)
    assert all(1990 <= r.item.year <= 1999 for r in second[:3])
    reasons = [r.reason for r in second]
    assert all("thriller" in reason.lower() for reason in reasons[:3])
    assert not any("comedy" in reason.lower() for reason in reasons if "Comedy" not in
                   next(r.item.categories for r in second if r.reason == reason))


def test_stated_dislike_is_honoured_and_memory_does_not_override_the_request(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    list(assistant.chat(user, "I can't stand horror"))
    items = _items(list(assistant.chat(user, "a tense thriller")))
    assert items and not any("Horror" in r.item.categories for r in items)
    # A hint is not a change of mind: no horror, and the dislike is still what memory says.
    hinted = _items(list(assistant.chat(user, "something scary with ghosts please")))
    assert hinted and not any("Horror" in r.item.categories for r in hinted)
    current = [e for e in assistant.store.list_user(user, "chat") if e.extra.get("subject") == "Horror"]
    assert [e.extra.get("kind") for e in current] == ["dislike"]
    asked = _items(list(assistant.chat(user, "ok, a horror film for Halloween")))
    assert asked and all("Horror" in r.item.categories for r in asked)


def test_reasons_are_plain_and_not_all_the_same(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    items = _items(list(assistant.chat("alice", "a crime film")))
    reasons = [r.reason for r in items]
    assert len(set(reasons)) > 1
    for r in items:
        assert "[" not in r.reason and "because:" not in r.reason  # no raw ids or quoted memory text
        assert not any(w in r.reason.lower() for w in ("dislike", "seen", "hate", "1/5", "2/5", "3/5"))


def test_a_title_after_an_indefinite_article_is_a_description_not_a_named_item(tmp_path):
    from mrrec_chat.data.movielens import TitleIndex
    from mrrec_chat.recommend import Recommender

    items = {"1": Item("1", "Avalanche Shovel", ("Snow",)), "2": Item("2", "Heat", ("Crime",), 1995)}
    dataset = Dataset("gear", items, [Interaction("u", "1", 5.0), Interaction("u", "2", 5.0)])
    recommender = Recommender.__new__(Recommender)
    recommender.titles, recommender.dataset = TitleIndex(dataset), dataset
    assert recommender.find_titles("I need an avalanche shovel") == []
    assert recommender.find_titles("something like Heat") == ["2"]


def test_a_genre_asked_for_is_not_said_to_be_liked_and_a_request_is_not_a_statement():
    """"recommend a comedy" stored a tentative like; the next list said "you told me you like comedy"
    on each card, and on the comedy request itself beside "a comedy film, as you asked"."""
    from mrrec_chat.recommend.policy import TurnPolicy
    from mrrec_chat.recommend.ranker import Ranked
    from mrrec_chat.recommend.reasons import explain

    dataset, catalog = _catalog(ITEMS)
    signals = CatalogSignals(dataset, catalog)
    feats = {f: 0.0 for f in FEATURES}

    def reason(text, stated):
        policy = TurnPolicy(request=parse(text), affinity={"Comedy": 1.0}, affinity_ids={"Comedy": "m1"},
                            affinity_stated={"Comedy"} if stated else set())
        return explain(Ranked(ITEMS[4], 1.0, feats), policy, dataset, signals)[0]

    assert "you told me you like comedy" in reason("a film from the 80s", stated=True)
    assert "you asked for a comedy film before" in reason("a film from the 80s", stated=False)
    asked = reason("a comedy from the 80s", stated=True)
    assert "as you asked" in asked and "like comedy" not in asked, asked


def test_a_genre_named_before_film_is_not_the_film_of_that_name():
    from mrrec_chat.data.movielens import TitleIndex
    from mrrec_chat.recommend import Recommender

    items = {"1": Item("1", "War, The", ("Drama", "War"), 1994), "2": Item("2", "Alien", ("Horror", "Sci-Fi"), 1979)}
    dataset = Dataset("films", items, [Interaction("u", "1", 5.0), Interaction("u", "2", 5.0)])
    recommender = Recommender.__new__(Recommender)
    recommender.titles, recommender.dataset = TitleIndex(dataset), dataset
    assert recommender.find_titles("a good War film") == []
    assert recommender.find_titles("I loved The War (1994)") == ["1"]
    assert recommender.find_titles("something like Alien") == ["2"]  # not a genre's own name


def test_content_similarity_to_liked_items_ranks_their_neighbours_first():
    dataset, catalog = _catalog(ITEMS)
    liked = catalog.item_ids.index("c")
    near = catalog.item_ids.index("d")
    catalog.matrix[near] = catalog.matrix[liked] * 0.9 + 0.1 * catalog.matrix[near]
    catalog.matrix[near] /= np.linalg.norm(catalog.matrix[near])
    ranked = _ranker(dataset, catalog, sem_memory=1.0).rank(
        RankInputs(np.zeros(8, np.float32), memory_seeds={"c": 1.0}, exclude={"c"}), n=3)
    assert ranked[0].item.item_id == "d" and ranked[0].features["sem_memory"] > 0.8
    assert ranked[0].memory_seed == "c"  # the reason can name the liked item


def test_a_title_outside_the_catalog_gets_a_notice_and_the_rest_of_the_request_counts(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "something like Inception, a thriller"))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert any("Inception" in n and "not in this catalog" in n for n in notices)
    items = _items(events)
    assert items and all("Thriller" in r.item.categories for r in items)


@pytest.mark.parametrize("text, origins", [
    ("a French film", ("French",)), ("ein deutscher Film", ("German",)), ("una película francesa", ("French",)),
    ("movies from Korea", ("Korean",)), ("I like french fries", ()), ("a thriller", ()),
])
def test_languages_and_countries_are_understood(text, origins):
    assert parse(text).origins == origins


def test_a_request_the_catalog_cannot_see_gets_a_notice_and_an_open_one_does_not(assistant_factory):
    assistant = assistant_factory(llm_backend="none")

    def notices(text):
        events = list(assistant.chat(assistant.new_user_id(), text))
        return [e.text for e in events if isinstance(e, ev.Notice)]

    assert any("nothing in it matches “road”" in n for n in notices("a road movie"))
    for text in ("What should I watch tonight?", "Surprise me!", "Was soll ich heute Abend schauen?",
                 "a comedy road movie", "what haven't I seen that I'd love?", "something different from what I "
                 "usually watch"):
        assert not any("nothing in it matches" in n for n in notices(text)), text


def test_a_language_the_catalog_cannot_filter_by_gets_a_notice(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "a French comedy"))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert any("does not record languages" in n and "French" in n for n in notices)
    assert all("Comedy" in r.item.categories for r in _items(events))  # the rest of the request counts


def _behavior(item_id, rating, when):
    return MemoryEntry(f"b:x:u:{item_id}:{when}", "behavior", f"rated {item_id}", "u", created_at=float(when),
                       extra={"item_id": item_id, "rating": rating})


def test_remembered_likes_are_candidates_only_in_a_memory_of_mentions():
    memory = [_behavior("c", 5.0, 1), _behavior("g", 5.0, 2), _behavior("g", 5.0, 3), _behavior("e", 1.0, 4)]
    # The app: rated items are consumption, never shown again, never "remembered".
    app = plan_turn(parse("a film"), memory, categories=ML100K)
    assert app.remembered == {} and {"c", "g", "e"} <= app.exclude
    # A memory of what the person mentioned (ReDial): liked items are candidates, the most recent
    # and the one liked in two sessions highest; a disliked one never.
    mentions = plan_turn(parse("a film"), memory, categories=ML100K, rated_is_consumed=False)
    assert set(mentions.remembered) == {"c", "g"} and mentions.remembered["g"] > mentions.remembered["c"]
    assert "e" in mentions.exclude
    dataset, catalog = _catalog(ITEMS)
    ranked = _ranker(dataset, catalog, remembered=1.0).rank(mentions.inputs(np.zeros(8, np.float32)), n=3)
    assert [r.item.item_id for r in ranked[:2]] == ["g", "c"]
    # A title named in this request is still excluded.
    named = plan_turn(parse("a film"), memory, categories=ML100K, rated_is_consumed=False)
    named.exclude.add("g")
    assert "g" not in named.inputs(np.zeros(8, np.float32)).remembered


def test_profile_titles_are_read_strictly():
    """A word in the model's list ("- War - Love") is not the film *War, The*; a named title is."""
    from types import SimpleNamespace

    from mrrec_chat.data.movielens import TitleIndex
    from mrrec_chat.recommend import Recommender

    items = [Item("1", "War, The", (), 1994), Item("2", "Toy Story", (), 1995), Item("3", "Heat", (), 1995)]
    host = SimpleNamespace(titles=TitleIndex(Dataset("t", {i.item_id: i for i in items})))
    find = lambda text: Recommender.find_profile_titles(host, text)  # noqa: E731
    assert find("The ideal item profile is: - Romance - Horror - War - Love") == []
    assert find("Something like Toy Story, warm and funny") == ["2"]
    assert find("A tense crime film like Heat (1995)") == ["3"]
    assert find('A heist thriller in the spirit of "Heat"') == ["3"]


@pytest.mark.parametrize("text, years, era", [
    ("a classic film noir", (None, 1979), "classics"),
    ("an old-school western", (None, 1979), "classics"),
    ("a modern classic", (None, None), ""),
    ("Any feel-good classics from the 80s?", (1980, 1989), "the 1980s"),  # the decade is explicit
])
def test_classic_without_a_decade_means_older_films(text, years, era):
    r = parse(text, latest_year=1998)
    assert (r.year_min, r.year_max) == years and r.era == era


@pytest.mark.parametrize("text, mood", [
    ("a war movie that isn't too depressing", "not-sad"),
    ("something light, I had a long day", "relaxed"),
    ("I need to unwind", "relaxed"),
    ("a tearjerker", "moving"),
    ("something that will make me cry", "moving"),
])
def test_mood_phrasings(text, mood):
    assert mood in parse(text).moods


def test_a_reason_does_not_name_the_same_film_twice():
    from mrrec_chat.recommend.policy import TurnPolicy
    from mrrec_chat.recommend.ranker import Ranked
    from mrrec_chat.recommend.reasons import explain

    dataset, catalog = _catalog(ITEMS)
    signals = CatalogSignals(dataset, catalog)
    policy = TurnPolicy(request=parse("something like Heat"), memory_seed_ids={"c": "b:unit:u:c"})
    feats = {f: 0.0 for f in FEATURES} | {"cf_request": 0.5, "cf_memory": 0.5}
    same = explain(Ranked(ITEMS[3], 1.0, feats, seed="c", memory_seed="c"), policy, dataset, signals)[0]
    assert same.count("Heat") == 1, same
    other = explain(Ranked(ITEMS[3], 1.0, feats, seed="c", memory_seed="e"), policy, dataset, signals)[0]
    assert "Heat" in other and "Airplane!" in other, other


@pytest.mark.parametrize("text, audience", [
    ("A slow, beautiful drama about family.", ""),
    ("a family drama", ""),
    ("something for the family", "family"),
    ("a feel-good comedy for a family movie night", "family"),
])
def test_family_as_a_theme_is_not_an_audience(text, audience):
    assert parse(text).audience == audience


def test_a_genre_a_word_only_suggests_is_soft_where_another_genre_is_named():
    noir = parse("A classic film noir with a great detective.")
    assert noir.genres_any == ("Film-Noir",) and "Mystery" in noir.prefer_genres
    assert parse("a gangster movie").genres_any == ("Crime",)  # nothing else named: it is the ask


def test_date_night_asks_for_a_romance():
    assert "Romance" in parse("What's a good date-night movie?").genres_any


def test_a_mood_alone_filters_softly_by_its_genres():
    """Popularity puts the comedy first; "a tearjerker" (a mood, no genre named) asks for a drama
    and no horror, relaxed only where too few items have them."""
    items = [Item("a", "Laughs", ("Comedy",), 1997), Item("b", "Tears", ("Drama", "Romance"), 1990),
             Item("c", "Screams", ("Drama", "Horror"), 1996), Item("d", "Letters", ("Drama",), 1985)]
    dataset, catalog = _catalog(items, [Interaction(f"u{k}", "a", 5.0) for k in range(9)]
                                + [Interaction(f"u{k}", "c", 5.0) for k in range(5)])
    ranker = _ranker(dataset, catalog, popularity=1.0)
    policy = plan_turn(parse("a tearjerker"), [], categories=ML100K)
    inputs = policy.inputs(np.zeros(8, np.float32))
    assert inputs.mood_genres == (("Drama",), ("Horror", "Action", "Sci-Fi", "Thriller", "Crime"))
    assert [r.item.item_id for r in ranker.rank(inputs, n=2)] == ["b", "d"]
    assert ranker.rank(policy.inputs(np.zeros(8, np.float32)), n=4)[2].item.item_id == "a"  # relaxed, then popular
    assert ranker.rank(RankInputs(np.zeros(8, np.float32)), n=1)[0].item.item_id == "a"
    # a named genre decides: no mood filter then
    assert plan_turn(parse("a moving comedy"), [], categories=ML100K).inputs(np.zeros(8)).mood_genres == ((), ())


def test_genre_focus_prefers_a_film_of_the_asked_genre_to_one_merely_tagged_with_it():
    items = [Item("a", "Space Saga", ("Action", "Adventure", "Romance", "Sci-Fi", "War"), 1977),
             Item("b", "Paris Love", ("Comedy", "Romance"), 1989), Item("c", "Heat", ("Action", "Crime"), 1995)]
    dataset, catalog = _catalog(items, [Interaction(f"u{k}", "a", 5.0) for k in range(9)]
                                + [Interaction(f"u{k}", "b", 5.0) for k in range(8)])
    inputs = RankInputs(np.zeros(8, np.float32), genres_any=("Romance",))
    X, _ = _ranker(dataset, catalog).features(inputs)
    focus = X[:, FEATURES.index("genre_focus")]
    assert focus.tolist() == pytest.approx([0.2, 0.5, 0.0])
    assert _ranker(dataset, catalog, popularity=0.1, genre_focus=1.5).rank(inputs, n=1)[0].item.item_id == "b"
    # where the weights value genre focus at all, it is also a soft filter (relaxed first): with a
    # weight too small to outscore popularity, the one-of-five film still comes after the film about
    # the asked genre, and is listed where nothing else has it; without the weight, no filter
    ranked = _ranker(dataset, catalog, popularity=0.1, genre_focus=0.01).rank(inputs, n=2)
    assert [r.item.item_id for r in ranked] == ["b", "a"] and "genre focus" in ranked[0].relaxed
    only = _catalog([items[0], items[2]])
    assert _ranker(*only, popularity=0.1, genre_focus=0.01).rank(inputs, n=1)[0].item.item_id == "a"
    assert _ranker(dataset, catalog, popularity=0.1).rank(inputs, n=1)[0].item.item_id == "a"


def test_a_title_the_message_says_was_loved_anchors_the_genres_like_something_like():
    """"I loved Fargo, what else would I like?" is "something like Fargo": without the anchor,
    co-liking alone put Star Wars first (ml-100k)."""
    from types import SimpleNamespace

    loved = SimpleNamespace(kind="like", subject="Fargo", subject_type="item", item_id="3", holder="user")
    find = lambda text: ["3"] if "fargo" in text.lower() else []  # noqa: E731
    r = parse("I loved Fargo, what else would I like?", preferences=[loved], find_titles=find)
    assert r.similar_to == ("3",) and "3" in r.titles
    named_genre = parse("I loved Fargo. Any comedies?", preferences=[loved], find_titles=find)
    assert named_genre.similar_to == ()  # a genre named outright is the request's genre


def test_a_title_seen_and_loved_is_a_seed_and_a_title_seen_and_hated_is_not():
    """"I just watched Titanic and loved it, what next?" stored "seen" and "like": the seen record
    kept it off the seeds, and the list was popular picks."""
    from types import SimpleNamespace

    def said(kind):
        return SimpleNamespace(kind=kind, subject="Titanic", subject_type="item", item_id="313", holder="user")

    find = lambda text: ["313"] if "titanic" in text.lower() else []  # noqa: E731
    r = parse("I just watched Titanic and loved it, what next?", preferences=[said("seen"), said("like")],
              find_titles=find)
    assert r.similar_to == ("313",) and "313" in r.titles_refused  # a seed, still left off the list
    hated = parse("Saw Titanic yesterday, hated it", preferences=[said("seen"), said("dislike")], find_titles=find)
    assert "313" not in hated.titles and "313" in hated.titles_refused


@pytest.mark.parametrize("text, years, era", [
    ("a black-and-white classic", (None, 1959), "before 1960"),
    ("ein Schwarzweiss-Film", (None, 1959), "before 1960"),
    ("a black and white film from the 40s", (1940, 1949), "the 1940s"),  # the decade is explicit
])
def test_black_and_white_means_before_1960(text, years, era):
    r = parse(text, latest_year=1998)
    assert (r.year_min, r.year_max) == years and r.era == era


def test_music_suggests_musicals():
    r = parse("a movie about music")
    assert r.genres_any == ("Musical",) and "Musical" not in r.genres_named


def test_a_theme_the_catalog_cannot_see_gets_a_notice_with_titles_that_name_it(assistant_factory):
    """"a comedy about politics": the comedy counts and "politics" is said to be unmatched; a theme
    word in a title ("Toy Story" for "a film about toys") is offered in the notice, not the list."""
    assistant = assistant_factory(llm_backend="none")

    def turn(text):
        events = list(assistant.chat(assistant.new_user_id(), text))
        return [e.text for e in events if isinstance(e, ev.Notice)], _items(events)

    notices, items = turn("a comedy about politics")
    assert any("“politics” could not be matched" in n for n in notices)
    assert items and all("Comedy" in r.item.categories for r in items)
    notices, _ = turn("a family film about toys")
    assert any("Titles with “toys” in them: Toy Story" in n for n in notices), notices
    notices, _ = turn("a thriller with Heat's director")
    assert any("“director” could not be matched" in n for n in notices), notices  # Heat is a title
    notices, _ = turn("a comedy set in New York")  # the place said whole, not "set york"
    assert any("“New York” could not be matched" in n for n in notices), notices
    notices, _ = turn("a short film")  # the running-times notice says it; not "nothing matches “short”" too
    assert any("running times" in n for n in notices) and not any("“short”" in n for n in notices), notices
    notices, _ = turn("a movie set in New York")
    assert any("nothing in it matches “New York”" in n for n in notices), notices
    for text in ("a 90s action movie with lots of explosions", "a classic film noir with a great detective",
                 "a comedy with a happy ending", "algo para ver con mis hijos pequeños",
                 "what about a romance then?", "what about a comedy instead", "a movie everyone has seen"):
        notices, _ = turn(text)
        assert not any("could not be matched" in n or "nothing in it matches" in n for n in notices), (text, notices)


def test_a_genre_the_request_suggests_but_memory_refuses_is_left_out_with_a_notice(assistant_factory):
    """"No romance please" stored a dislike; "a date-night movie" only suggests romance, so the
    dislike stands — and the person is told why and how to override it. Naming romance overrides."""
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    list(assistant.chat(user, "I really don't like romance movies."))
    events = list(assistant.chat(user, "What's a good date-night movie?"))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert any("You told me you don't like romance" in n for n in notices), notices
    assert not any("nothing in it matches" in n for n in notices), notices
    assert _items(events) and not any("Romance" in r.item.categories for r in _items(events))
    events = list(assistant.chat(user, "OK then, a romance for tonight"))
    assert not any(isinstance(e, ev.Notice) and "don't like" in e.text for e in events)
    assert any("Romance" in r.item.categories for r in _items(events))


def test_a_mood_request_gets_reasons_that_say_the_mood_back(assistant_factory):
    """"a tearjerker": dramas, each card saying it was picked for the mood (not a claim about the film)."""
    assistant = assistant_factory(llm_backend="none")
    items = _items(list(assistant.chat(assistant.new_user_id(), "a tearjerker please")))
    assert items and all("Drama" in r.item.categories for r in items)
    assert all(r.reason.startswith("A drama film, picked because you asked for something moving") for r in items)


@pytest.mark.parametrize("follow_up", ["something else", "more please", "others?", "show me different ones",
                                       "what else?", "I've seen all of those", "noch andere Filme?"])
def test_a_follow_up_takes_the_earlier_request_whole(follow_up):
    first = parse("a tense 90s crime film, no horror")
    r = parse(follow_up, earlier=[first])
    assert r.follow_up or r.seen_previous
    assert r.wanted == first.wanted and (r.year_min, r.year_max) == (1990, 1999) and "Horror" in r.genres_refused


def test_older_and_newer_move_the_anchor_era_across_a_seen_those():
    first = parse("a 90s thriller")
    seen = parse("I've seen all of those", earlier=[first])
    assert seen.seen_previous and seen.wanted == ("Thriller",)
    older = parse("any older ones?", earlier=[first, seen])
    assert older.wanted == ("Thriller",) and (older.year_min, older.year_max) == (None, 1989)
    newer = parse("and newer ones?", earlier=[parse("a comedy from the 80s")])
    assert newer.wanted == ("Comedy",) and (newer.year_min, newer.year_max) == (1990, None)
    # a request of its own is no follow-up: the new genre decides
    assert parse("a horror film instead", earlier=[first]).wanted == ("Horror",)
    assert not parse("a more violent thriller").follow_up


def test_something_else_lists_new_items_of_the_same_request_and_seen_those_is_remembered(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    earlier, shown = [], []

    def turn(text):
        events = list(assistant.chat(user, text, list(earlier), shown=list(shown)))
        earlier.append(text)
        shown.append([r.item.item_id for r in _items(events)])
        return events

    turn("a crime film")
    events = turn("something else")
    assert _items(events) and all("Crime" in r.item.categories for r in _items(events))
    assert not set(shown[1]) & set(shown[0])  # nothing repeated
    assert not [e for e in events if isinstance(e, ev.Notice)]  # "else" is no theme the catalog lacks
    events = turn("I've seen all of those")
    assert any(isinstance(e, ev.Notice) and "you have seen the" in e.text for e in events)
    assert _items(events) and not set(shown[2]) & set(shown[0] + shown[1])
    # the tiny catalog's crime films are all shown by now: the list says so
    assert any(isinstance(e, ev.Notice) and "were in my earlier lists (10 of them)" in e.text for e in events), \
        [e.text for e in events if isinstance(e, ev.Notice)]
    seen = {e.extra.get("item_id") for e in assistant.store.list_user(user, "behavior")
            if e.extra.get("feedback") == "seen"}
    assert seen == set(shown[1])
    # a fresh chat (no earlier turns) asking "something else" is an open request, nothing excluded
    assert _items(list(assistant.chat(assistant.new_user_id(), "something else")))


def test_each_earlier_message_is_read_with_its_own_context_and_refinements_keep_the_genre(assistant_factory):
    """"a western" → "not that old please" → "more": still westerns, still recent. Before, each earlier
    message was read alone, so "more" reached back only to "not that old please" and lost the western."""
    rec = assistant_factory(llm_backend="none").recommender
    r = rec.understand("more", earlier=["a western", "not that old please"])
    assert r.wanted == ("Western",) and r.year_min is not None and r.continues
    r = rec.understand("any older ones?", earlier=["a sci-fi film", "something darker"])
    assert r.wanted == ("Sci-Fi",) and r.year_max == 1979 and "dark" in r.moods
    r = rec.understand("for adults though, not kids stuff", earlier=["I want an animated film"])
    assert r.wanted == ("Animation",) and "Children" in r.genres_refused and r.continues
    assert not rec.understand("a horror film instead", earlier=["a comedy"]).continues


def test_a_refinement_does_not_show_the_same_films_again(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    first = [r.item.item_id for r in _items(list(assistant.chat(user, "a crime film")))]
    second = _items(list(assistant.chat(user, "something darker", ["a crime film"], shown=[first])))
    assert second and not {r.item.item_id for r in second} & set(first)
    # a new request of its own may show what fits it, listed before or not
    again = _items(list(assistant.chat(user, "a crime film", ["a crime film", "something darker"],
                                       shown=[first, [r.item.item_id for r in second]])))
    assert {r.item.item_id for r in again} & set(first)


def test_a_narrowing_era_may_list_a_film_again_a_follow_up_may_not():
    war = parse("a war movie")
    assert not parse("something from the 60s", earlier=[war]).new_items  # narrows: a 60s war film still fits
    assert parse("something from the 60s", earlier=[war]).continues
    assert parse("any older ones?", earlier=[war]).new_items and parse("something else", earlier=[war]).new_items


def test_where_the_era_must_be_relaxed_the_nearer_decades_come_first():
    """Popularity puts the 1999 film first; asked for the 60s with one 60s film in the catalog, the
    fill is the 1972 film, then the 1985 one, then 1999."""
    items = [Item("a", "Sixties", ("War",), 1964), Item("b", "Seventies", ("War",), 1972),
             Item("c", "Eighties", ("War",), 1985), Item("d", "Nineties", ("War",), 1999)]
    dataset, catalog = _catalog(items, [Interaction(f"u{k}", "d", 5.0) for k in range(9)]
                                + [Interaction(f"u{k}", "c", 5.0) for k in range(5)])
    ranker = _ranker(dataset, catalog, popularity=1.0)
    ranked = ranker.rank(RankInputs(np.zeros(8, np.float32), genres_any=("War",), year_min=1960, year_max=1969), n=4)
    assert [r.item.item_id for r in ranked] == ["a", "b", "c", "d"] and "era" in ranked[0].relaxed


@pytest.mark.parametrize("genres, phrase", [
    (["Thriller", "Crime"], "crime thriller film"), (["Comedy", "Romance"], "romantic comedy film"),
    (["Comedy", "Children's"], "children's comedy film"), (["Animation"], "animated film"),
    (["Film-Noir"], "film noir"), ([], "film"),
])
def test_two_genres_read_as_one_noun_phrase_with_the_head_last(genres, phrase):
    from mrrec_chat.recommend.reasons import genre_phrase

    assert genre_phrase(genres) == phrase


def test_a_new_audience_does_not_inherit_the_earlier_audiences_genres_and_refusals():
    kids = parse("something for the kids")
    assert kids.audience == "kids" and "Horror" in kids.genres_refused
    teens = parse("for teenagers instead", earlier=[kids])
    assert teens.audience == "teens" and not teens.wanted and "Crime" not in teens.genres_refused
    assert "Horror" not in teens.genres_refused and "Children's" in teens.genres_refused  # not kids' films either
    assert "Adventure" in teens.prefer_genres
    # the user's own refusal still carries
    own = parse("for teenagers instead", earlier=[parse("no horror please"), kids])
    assert "Horror" in own.genres_refused and "Crime" not in own.genres_refused


@pytest.mark.parametrize("text, audience", [("a movie for my teenage son", "teens"), ("my 14-year-old wants a film", "teens"),
                                            ("something for my son", "kids"), ("a film for my 8-year-old", "kids")])
def test_teenagers_are_not_children(text, audience):
    assert parse(text).audience == audience


def test_a_teenage_son_is_a_teenager_on_the_app_path_too(assistant_factory):
    """The extractor reads "my ... son" as watching with kids; the request's teen wording wins."""
    assistant = assistant_factory(llm_backend="none")
    turn = assistant.turn_context(assistant.new_user_id(), "a movie for my teenage son")
    assert turn.policy.request.audience == "teens" and "Horror" not in turn.policy.refused


# --- fresh wordings (fit set batch 4) ------------------------------------------------------------

@pytest.mark.parametrize("text, years, era", [
    ("the best comedy of 1995", (1995, 1995), "1995"),
    ("a 1994 film", (1994, 1994), "1994"),
    ("movies from 1990 to 1993, something romantic", (1990, 1993), "1990 to 1993"),
    ("films between 1960 and 1969 with a bit of adventure", (1960, 1969), "1960 to 1969"),
    ("eine Komödie von 1996", (1996, 1996), "1996"),
    ("una película de ciencia ficción de 1997", (1997, 1997), "1997"),
    ("I saw Fargo in 1996 and loved it", (None, None), ""),  # a viewing, not the film's year
    ("a thriller from the 90s", (1990, 1999), "the 1990s"),
])
def test_a_year_or_span_of_years_named_outright(text, years, era):
    r = parse(text)
    assert (r.year_min, r.year_max) == years and r.era == era


@pytest.mark.parametrize("text, mood, prefer", [
    ("something sad", "sad", "Drama"),
    ("un film triste", "sad", "Drama"),
    ("something short and light", "relaxed", "Comedy"),
    ("a movie my grandma would like", "grandparents", "Comedy"),
    ("a drama that ends happily", "feel-good", None),
])
def test_moods_of_fresh_wordings(text, mood, prefer):
    r = parse(text)
    assert mood in r.moods
    assert prefer is None or prefer in r.prefer_genres


def test_a_negated_mood_word_is_not_that_mood_and_the_first_mood_said_leads():
    assert "sad" not in parse("nothing too sad please").moods
    assert "not-sad" in parse("nothing too sad please").moods
    r = parse("a sad movie that ends well")
    assert r.moods[0] == "sad" and "Drama" in r.prefer_genres and "Drama" not in r.avoid_genres
    assert "Drama" in parse("something light").avoid_genres  # a heavy drama is no easy evening


@pytest.mark.parametrize("text", ["a film about time travel", "a movie about artificial intelligence",
                                  "un film sur l'intelligence artificielle", "something with robots"])
def test_science_fiction_themes_suggest_sci_fi(text):
    r = parse(text)
    assert r.genres_any == ("Sci-Fi",) and "Sci-Fi" not in r.genres_named


def test_j_ai_is_not_artificial_intelligence():
    assert "Sci-Fi" not in parse("j'ai envie d'une comédie").wanted


def test_for_adults_refuses_childrens_films_and_kids_keep_out_horror():
    assert "Children's" in parse("an animated film for grown-ups").genres_refused
    assert parse("an animated film for grown-ups").genres_any == ("Animation",)
    r = parse("a spooky movie for my kids")
    assert r.audience == "kids" and "Horror" in r.genres_refused and r.softened == ("Horror",)
    assert set(r.genres_any) == {"Children's", "Animation"}
    r = parse("a horror movie for my kids")
    assert "Horror" not in r.wanted and "Horror" in r.genres_refused and r.softened == ("Horror",)
    assert parse("a horror movie").softened == ()


def test_like_a_title_for_adults_keeps_its_other_genres(assistant_factory):
    """"something like Toy Story for adults": no children's films, but films sharing Toy Story's others."""
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "something like Toy Story but for adults"))
    items = _items(events)
    assert items and not any("Children's" in r.item.categories for r in items)


def test_spooky_for_kids_and_length_get_plain_notices(assistant_factory):
    assistant = assistant_factory(llm_backend="none")

    def turn(text):
        events = list(assistant.chat(assistant.new_user_id(), text))
        return [e.text for e in events if isinstance(e, ev.Notice)], _items(events)

    notices, items = turn("a spooky movie for my kids")
    assert any("Horror films are not for children" in n for n in notices), notices
    assert items and not any("Horror" in r.item.categories for r in items)
    notices, _ = turn("a comedy, not too long please")
    assert any("does not record running times" in n for n in notices), notices
    notices, _ = turn("a film about time travel")  # read as science fiction: no theme notice
    assert not any("could not be matched" in n for n in notices), notices


def test_a_momentary_dislike_refuses_for_the_evening_then_only_leans_away():
    said = _chat("dislike", "Western", momentary=True)
    said.created_at = 1_000_000.0
    soon = plan_turn(parse("a film"), [said], categories=ML100K, now=said.created_at + 3600)
    assert "Western" in soon.refused
    later = plan_turn(parse("a film"), [said], categories=ML100K, now=said.created_at + 3 * 24 * 3600)
    assert "Western" not in later.refused and later.affinity["Western"] < 0
    lasting = _chat("dislike", "Western")
    lasting.created_at = said.created_at
    assert "Western" in plan_turn(parse("a film"), [lasting], categories=ML100K, now=said.created_at + 1e7).refused


def test_a_follow_up_with_a_new_ask_still_wants_new_films():
    find = lambda text: ["g"] if "groundhog" in text.lower() else []
    r = parse("not that one, more like Groundhog Day", find_titles=find, earlier=[parse("a romantic comedy")])
    assert r.new_items and r.titles == ("g",)
    assert not parse("now a thriller", earlier=[parse("a romantic comedy")]).new_items  # a new ask alone


def test_old_before_a_genre_means_classics_and_quality_words_ask_for_nothing_unmatched():
    assert parse("an old musical").year_max == 1979 and parse("some old western").era == "classics"
    assert parse("my old friend said I should watch a comedy").year_max is None


def test_several_named_titles_ask_for_what_they_share_first():
    """"I liked Titanic and Jerry Maguire": drama and romance (Titanic's action tag is not the ask)."""
    items = [Item("t", "Titanic", ("Action", "Drama", "Romance"), 1997),
             Item("j", "Jerry Maguire", ("Drama", "Romance"), 1996),
             Item("sw", "Star Wars", ("Action", "Adventure", "Romance", "Sci-Fi", "War"), 1977),
             Item("ss", "Sense and Sensibility", ("Drama", "Romance"), 1995),
             Item("ep", "English Patient", ("Drama", "Romance", "War"), 1996)]
    inter = [Interaction(f"u{n}", i, 5.0, float(n)) for n in range(30) for i in ("t", "j", "sw")]
    inter += [Interaction(f"v{n}", i, 5.0, float(n)) for n in range(3) for i in ("t", "ss", "ep")]
    dataset, catalog = _catalog(items, inter)
    ranker = _ranker(dataset, catalog, cf_request=5.0)
    inputs = RankInputs(request_vector=catalog.matrix[0], exclude={"t", "j"}, seeds={"t": 1.0, "j": 1.0},
                        like_genres=(("Action", "Drama", "Romance"), ("Drama", "Romance")))
    top = [r.item.item_id for r in ranker.rank(inputs, 2)]
    assert set(top) == {"ss", "ep"}


def test_a_genre_only_a_theme_suggested_is_said_to_be_the_nearest_one():
    r = parse("a film about time travel")
    assert r.themes == (("Sci-Fi", "time travel"),)
    assert parse("a sci-fi movie with robots").themes == ()  # sci-fi was named
    assert parse("something tense").themes == ()  # a mood word, not a theme
    from mrrec_chat.recommend.reasons import facet_clause

    brazil = Item("x", "Brazil", ("Sci-Fi",), 1985)
    said = facet_clause(brazil, plan_turn(parse("a film about time travel"), [], categories=ML100K), ())
    assert said == "A sci-fi film, the nearest genre this catalog records to “time travel”"
    assert facet_clause(brazil, plan_turn(parse("a sci-fi film"), [], categories=ML100K), ()) \
        == "A sci-fi film, as you asked"


def test_a_question_about_a_title_is_answered_with_what_the_catalog_knows(assistant_factory):
    find = lambda text: ["h"] if "heat" in text.lower() else []
    r = parse("Is Heat any good?", find_titles=find)
    assert r.asks_about == ("h",) and r.similar_to == ("h",) and "h" in r.titles_named
    assert parse("I loved Heat", find_titles=find).asks_about == ()
    assert parse("Is there a good comedy?", find_titles=find).asks_about == ()
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "What do you think of Heat?"))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert any(n.startswith("Heat (1995) is a crime action film") for n in notices), notices
    assert "1" not in [r.item.item_id for r in _items(events)]  # the title asked about is not its own answer


def test_comparatives_and_filler_words():
    assert parse("something funnier than Fargo").genres_any == ("Comedy",)
    assert "not-sad" in parse("not too serious please").moods


@pytest.mark.parametrize("text, expected", [
    ("more like the second one", [("b", "ask")]),
    ("I've seen the first one, what else?", [("a", "seen")]),
    ("I loved the third one", [("c", "like")]),
    ("I hated the last one", [("c", "dislike")]),
    ("not the second one, but #3 looks good", [("b", "not"), ("c", "ask")]),
    ("mehr wie der zweite Film", [("b", "ask")]),
    ("the first time I saw a western", []),  # no place in a list
    ("last night I watched a comedy", []),
    ("the fifth one", []),  # the list had three
])
def test_items_of_the_last_list_named_by_their_place(text, expected):
    from mrrec_chat.recommend.request import list_references

    assert list_references(text, ["a", "b", "c"]) == expected
    assert list_references(text, []) == []


def test_more_like_the_second_one_through_the_app(assistant_factory):
    """The second card of the last list is the anchor; "I've seen the first one" marks it seen."""
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    first = _items(list(assistant.chat(user, "a comedy")))
    shown = [[r.item.item_id for r in first]]
    events = list(assistant.chat(user, "more like the second one", earlier=["a comedy"], shown=shown))
    items = _items(events)
    assert items and first[1].item.item_id not in {r.item.item_id for r in items}
    second = first[1].item.item_id
    policy = assistant.turn_context(user, "more like the second one", ["a comedy"], shown=shown).policy
    assert policy.request.titles == (second,) and policy.seeds == {second: 1.0} and second in policy.exclude
    events = list(assistant.chat(user, "I've seen the first one", earlier=["a comedy"], shown=shown))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert any(n.startswith("Noted: you have seen") for n in notices), notices
    seen = [e for e in assistant.store.list_user(user, "behavior") if e.extra.get("feedback") == "seen"]
    assert [e.extra["item_id"] for e in seen] == [first[0].item.item_id]


def test_an_earlier_turn_that_picked_a_card_stays_the_anchor(assistant_factory):
    """"a sci-fi film | the first one looks great | more like that one": the earlier message is read
    against the list it answered, so the third turn is still about that film (it was any sci-fi)."""
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    first = _items(list(assistant.chat(user, "a comedy")))
    picked = first[0].item.item_id
    earlier = ["a comedy", "the first one looks great"]
    second = _items(list(assistant.chat(user, earlier[1], earlier=earlier[:1], shown=[[r.item.item_id for r in first]])))
    shown = [[r.item.item_id for r in first], [r.item.item_id for r in second]]
    policy = assistant.turn_context(user, "more like that one", earlier, shown=shown).policy
    assert picked in policy.request.similar_to and picked in policy.seeds
    alone = assistant.turn_context(user, "more like that one", earlier, shown=()).policy  # without the lists
    assert picked not in alone.request.similar_to


def test_refusals_said_with_isn_t_and_too_violent_and_a_partner_as_audience():
    assert "Comedy" in parse("a feel good movie that isn't a comedy").genres_refused
    assert "gentle" in parse("I don't want anything too long or too violent").moods
    r = parse("a movie to watch with my girlfriend")
    assert r.moods == ("couple",) and "Romance" in r.prefer_genres


def test_a_mood_prefers_films_the_genre_is_a_real_part_of():
    """"with my girlfriend" prefers romance; Star Wars has it as one of five tags (app weights only)."""
    items = [Item("sw", "Star Wars", ("Action", "Adventure", "Romance", "Sci-Fi", "War"), 1977),
             Item("jm", "Jerry Maguire", ("Drama", "Romance"), 1996), Item("x", "Heat", ("Action", "Crime"), 1995)]
    inter = [Interaction(f"u{n}", "sw", 5.0, float(n)) for n in range(50)]
    inter += [Interaction(f"v{n}", "jm", 4.0, float(n)) for n in range(3)]
    dataset, catalog = _catalog(items, inter)
    inputs = RankInputs(request_vector=catalog.matrix[0], mood_genres=(("Romance",), ()))
    focus = _ranker(dataset, catalog, popularity=5.0, genre_focus=1.0)
    assert [r.item.item_id for r in focus.rank(inputs, 1)] == ["jm"]
    plain = _ranker(dataset, catalog, popularity=5.0)
    assert [r.item.item_id for r in plain.rank(inputs, 1)] == ["sw"]


def test_a_narrowing_follow_up_keeps_the_earlier_mood_and_audience_genres():
    r = parse("not war films please", earlier=[parse("I need a good cry")])
    assert r.moods == ("moving",) and "War" in r.genres_refused and "Drama" in r.prefer_genres
    kids = parse("something a bit more exciting", earlier=[parse("something to watch with my kids")])
    assert kids.audience == "kids" and "Children's" in kids.wanted and "exciting" in kids.moods
    assert kids.new_items


def test_a_bare_year_and_emoji_genres():
    assert (parse("1994").year_min, parse("1994 films").year_max) == (1994, 1994)
    assert parse("the 1990s").year_max == 1999
    assert parse("🤠").genres_any == ("Western",) and parse("no 👻 please").genres_refused[:1] == ("Horror",)


def test_a_request_in_a_language_the_parser_does_not_read_gets_a_notice(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "我想看喜剧"))
    assert any("English, German, French and Spanish" in e.text for e in events if isinstance(e, ev.Notice))
    events = list(assistant.chat(assistant.new_user_id(), "a comedy 😂"))
    assert not any("English, German" in e.text for e in events if isinstance(e, ev.Notice))


def test_refusing_a_combination_refuses_films_that_are_all_of_it_not_each_genre():
    """"I can't stand rom-coms" is no word against every comedy."""
    from mrrec_chat.nlu import extract_preferences

    prefs = extract_preferences("I can't stand romantic comedies")
    assert {p.subject for p in prefs} == {"Romance", "Comedy"} and all(p.together == ("Romance", "Comedy")
                                                                        for p in prefs)
    r = parse("I can't stand romantic comedies", preferences=prefs)
    assert r.refused_together == (("Romance", "Comedy"),) and not {"Romance", "Comedy"} & set(r.genres_refused)
    assert r.accepts(("Comedy",), 1990) and not r.accepts(("Comedy", "Romance"), 1990)
    assert parse("no rom-coms please").refused_together == (("Romance", "Comedy"),)
    assert parse("a comedy", earlier=[r]).refused_together == (("Romance", "Comedy"),)
    memory = [_chat("dislike", "Romance", together="Romance,Comedy"),
              _chat("dislike", "Comedy", together="Romance,Comedy")]
    policy = plan_turn(parse("a comedy"), memory, categories=ML100K)
    assert policy.refused == () and policy.refused_together == (("Romance", "Comedy"),)
    assert plan_turn(parse("a romantic comedy"), memory, categories=ML100K).refused_together == ()


def test_words_inside_a_named_title_are_not_genres_moods_or_eras():
    spans = lambda text: [(m.start(), m.end()) for m in re.finditer(r"Alien|Dark City", text)]
    find = lambda text: [t for t in ("Alien", "Dark City") if t in text]
    assert parse("I loved Alien", title_spans=spans, find_titles=find).wanted == ()
    assert "dark" not in parse("a film like Dark City", title_spans=spans, find_titles=find).moods
    assert parse("I loved Alien", find_titles=find).wanted == ("Sci-Fi",)  # without the spans, as before


def test_a_title_loved_in_chat_is_not_recommended_back_in_the_app():
    memory = [_chat("like", "Alien (1979)", subject_type="item", item_id="alien")]
    assert "alien" in plan_turn(parse("a film"), memory, categories=ML100K).exclude
    assert "alien" not in plan_turn(parse("a film"), memory, categories=ML100K, rated_is_consumed=False).exclude


def test_people_sequels_and_what_is_new_get_said_plainly(assistant_factory):
    assistant = assistant_factory(llm_backend="none")

    def notices(text):
        events = list(assistant.chat(assistant.new_user_id(), text))
        return [e.text for e in events if isinstance(e, ev.Notice)]

    said = notices("an action movie without Schwarzenegger")
    assert any("does not record actors or directors" in n and "Schwarzenegger" in n for n in said), said
    said = notices("something like Heat 2")
    assert any(n.startswith("“Heat 2” is not in this catalog") and "Heat (1995)" in n for n in said), said
    said = notices("something like Heat 2 (1999)")  # an unknown title with its year: said once, not twice
    assert sum("Heat 2" in n for n in said) == 1 and any("Heat (1995) instead" in n for n in said), said
    assert parse("what's new?", latest_year=1998).year_min == 1993
    assert parse("what's new?", latest_year=1998).era == "recent"


@pytest.mark.parametrize("text, wanted", [
    ("a comdy with a twist", ("Comedy",)), ("a thriler from the 90s", ("Thriller",)), ("a horor film", ("Horror",)),
    ("a documentry", ("Documentary",)), ("an eastern european film", ()), ("a fantsy film", ("Fantasy",)),
])
def test_a_genre_word_misspelt_by_one_letter_is_read(text, wanted):
    assert parse(text).wanted == wanted
    assert parse("no horor please").genres_refused == ("Horror",)


@pytest.mark.parametrize("text, check", [
    ("something for a sleepover with 12 year olds", lambda r: r.audience == "kids"),
    ("a film for Valentine's day", lambda r: r.wanted == ("Romance",)),
    ("a summer blockbuster", lambda r: "blockbuster" in r.moods and "Action" in r.prefer_genres),
    ("a slow burn", lambda r: "slow-burn" in r.moods and "Action" in r.avoid_genres),
    ("a rainy sunday afternoon film", lambda r: "relaxed" in r.moods),
])
def test_occasions_and_pace(text, check):
    assert check(parse(text))


def test_hidden_gems_leave_out_the_most_rated_films():
    assert parse("an underrated 70s film").lesser_known and parse("hidden gems").lesser_known
    assert not parse("a 70s film").lesser_known
    items = [Item(str(n), f"Film {n}", ("Drama",), 1990) for n in range(12)]
    inter = [Interaction(f"u{k}", str(n), 5.0, 0.0) for n in range(12) for k in range(20 + (200 if n == 0 else n))]
    dataset, catalog = _catalog(items, inter)
    ranker = _ranker(dataset, catalog, popularity=5.0)
    assert ranker.rank(RankInputs(request_vector=catalog.matrix[0]), 1)[0].item.item_id == "0"
    top = ranker.rank(RankInputs(request_vector=catalog.matrix[0], lesser_known=True), 1)[0].item.item_id
    assert top != "0"


def test_moods_pulling_a_genre_both_ways_drop_it_from_both():
    r = parse("a sad movie that ends well")
    assert "Comedy" not in r.prefer_genres and "Comedy" not in r.avoid_genres
    r = parse("an epic historical film")
    assert "Sci-Fi" in r.avoid_genres and "War" in r.prefer_genres and "Drama" not in r.prefer_genres


@pytest.mark.parametrize("text, genres", [
    ("forget what I said about westerns", ["Western"]), ("I changed my mind about horror", ["Horror"]),
    ("actually westerns are fine", ["Western"]), ("vergiss das mit den Western", ["Western"]),
    ("forget about horror, give me a comedy", []),  # a refusal for now, not a retraction
    ("I hate westerns", []),
])
def test_taking_back_what_memory_holds_about_a_genre(text, genres):
    from mrrec_chat.recommend.request import retracted_genres

    assert retracted_genres(text, ML100K) == genres


def test_a_retraction_in_chat_deletes_the_statement_and_says_so(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    list(assistant.chat(user, "I can't stand westerns"))
    list(assistant.chat(user, "I love comedies"))
    events = list(assistant.chat(user, "I changed my mind about westerns"))
    assert any(e.text.startswith("Forgotten, as you asked") for e in events if isinstance(e, ev.Notice))
    left = {e.extra["subject"] for e in assistant.store.list_user(user, "chat")}
    assert left == {"Comedy"}
    assert [h["action"] for h in assistant.memory.history(user)][0] == "delete"


def test_a_place_in_the_last_list_keeps_the_chat_s_thread():
    r = parse("I've seen the first one", earlier=[parse("something sad")])
    assert r.follow_up and r.moods == ("sad",) and r.new_items
    assert not parse("I've seen the first one").follow_up  # no earlier list, no thread


def test_taking_back_a_person_or_nothing_in_particular(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    list(assistant.chat(user, "I love Tom Hanks and I hate westerns"))

    def notices(text):
        return [e.text for e in assistant.chat(user, text) if isinstance(e, ev.Notice)]

    said = notices("forget what I said about Tom Hanks")
    assert said == ["Forgotten, as you asked: “Loves Tom Hanks”."], said
    said = notices("forget everything I said")
    assert said and said[-1].startswith("I could not tell which of your memories to forget"), said
    assert [e.extra["subject"] for e in assistant.store.list_user(user, "chat")] == ["Western"]


@pytest.mark.parametrize("text, explore, lesser", [
    ("something different from what I usually watch", True, False),
    ("get me out of my comfort zone", True, False),
    ("a film I wouldn't normally watch", True, False),
    ("Surprise me!", False, True),
    # alone, away from the usual (it got a "nothing matches" notice); after a list, away from that
    # list's genres (test_something_different_explores_and_after_a_list_leaves_its_genres)
    ("something different", True, False),
    ("a comedy please", False, False),
])
def test_explore_and_surprise_are_read(text, explore, lesser):
    r = parse(text)
    assert r.explore is explore and r.lesser_known is lesser


def test_something_different_from_the_usual_moves_away_from_the_genres_memory_is_made_of():
    """Memory of crime films: "something different from what I usually watch" puts a film of other
    genres first, with a reason that names the usual; too little memory has no usual."""
    genres = {i.item_id: i.categories for i in ITEMS}
    memory = [_behavior(i, 5.0, n) for n, i in enumerate("cdgaf")]  # Heat, Casino, Fargo, Nightwatch, Big
    ask = parse("something different from what I usually watch")
    policy = plan_turn(ask, memory, categories=ML100K, item_categories=lambda i: genres.get(i, ()))
    assert policy.usual_genres == ("Crime", "Comedy") and policy.exploring
    inputs = policy.inputs(np.zeros(8, np.float32))
    assert inputs.mood_genres == ((), policy.usual_genres) and not inputs.affinity and not inputs.memory_seeds
    items = ITEMS + [Item("m", "Crimson Tide", ("Action", "Crime"), 1995), Item("n", "Tombstone", ("Western",), 1993)]
    interactions = [Interaction(f"u{k}", "m", 5.0) for k in range(9)] + [Interaction(f"u{k}", "n", 4.0) for k in range(3)]
    dataset, catalog = _catalog(items, interactions)
    signals_ranker = _ranker(dataset, catalog, popularity=1.0)
    ranked = signals_ranker.rank(inputs, n=1)
    assert ranked[0].item.item_id == "n"  # the popular crime film stays behind
    from mrrec_chat.recommend.reasons import usual_clause
    assert usual_clause(ranked[0].item, policy, ranked[0].relaxed) == \
        "A western film, away from the crime and comedy you mostly watch"
    few = plan_turn(ask, memory[:2], categories=ML100K, item_categories=lambda i: genres.get(i, ()))
    assert few.usual_genres == () and not few.exploring
    assert few.inputs(np.zeros(8, np.float32)).lesser_known  # a newcomer gets a surprise instead


def test_something_different_is_not_the_genre_the_person_rates_lowest():
    """ml-100k user 42 rates horror lowest and got Scream second for "something different"."""
    genres = {i.item_id: i.categories for i in ITEMS}
    memory = [_behavior(i, 5.0, n) for n, i in enumerate("cdgef")] + [_behavior(i, 1.0, 9 + n) for n, i in enumerate("ab")]
    policy = plan_turn(parse("something different from what I usually watch"), memory, categories=ML100K,
                       item_categories=lambda i: genres.get(i, ()))
    assert "Horror" in policy.disliked_genres() and "Horror" not in policy.usual_genres
    assert "Horror" in policy.inputs(np.zeros(8, np.float32)).mood_genres[1]


@pytest.mark.parametrize("text, lesser", [
    ("something I probably haven't seen", True),
    ("a film I've never heard of", True),
    ("I haven't seen Fargo, is it good?", False),  # a viewing, not a wish for lesser-known films
    ("I have never seen a western", False),
])
def test_hidden_gems_are_asked_for_not_every_unseen_film(text, lesser):
    assert parse(text).lesser_known is lesser


def test_refusing_a_title_in_a_follow_up_keeps_the_thread_and_its_series_out():
    """"something from the 80s" after "I love sci-fi", then "no Star Wars stuff please": still 80s
    sci-fi, and neither Star Wars nor its sequels."""
    find = lambda text: ["sw"] if "star wars" in text.lower() else []  # noqa: E731
    first = parse("I love sci-fi but hate horror")
    second = parse("something from the 80s", earlier=[first])
    from mrrec_chat.nlu.extract import Preference

    refusal = Preference("dislike", "Star Wars (1977)", "item", "Doesn't want Star Wars.", 0.9, item_id="sw")
    third = understand("no Star Wars stuff please", [refusal], categories=ML100K, earlier=[first, second], find_titles=find)
    assert third.titles_refused == ("sw",) and third.genres_any == ("Sci-Fi",)
    assert (third.year_min, third.year_max) == (1980, 1989) and "Horror" in third.genres_refused
    policy = plan_turn(third, [], categories=ML100K, series=lambda i: ["esb", "rotj"] if i == "sw" else [])
    assert {"sw", "esb", "rotj"} <= policy.exclude


def test_one_series_fills_at_most_two_of_the_first_picks():
    items = [Item(f"t{k}", f"Star Trek {k}", ("Sci-Fi",), 1980 + k) for k in range(2, 6)] + \
        [Item("x", "Brazil", ("Sci-Fi",), 1985), Item("y", "Blade Runner", ("Sci-Fi",), 1982)]
    interactions = [Interaction(f"u{k}", f"t{t}", 5.0) for t in range(2, 6) for k in range(10)] + \
        [Interaction("u0", i, 4.0) for i in ("x", "y")]
    dataset, catalog = _catalog(items, interactions)
    ranked = [r.item.item_id for r in _ranker(dataset, catalog, popularity=1.0).rank(
        RankInputs(np.zeros(8, np.float32)), n=6)]
    assert sum(i.startswith("t") for i in ranked[:4]) == 2 and {"x", "y"} <= set(ranked[:4])
    assert len(ranked) == 6  # the held films still fill a list the others cannot


def test_like_a_title_but_gentler_keeps_the_titles_other_genres():
    """"more like Fargo but less violent": a film sharing Fargo's genres less crime and thriller."""
    items = ITEMS + [Item("h", "Shawshank", ("Drama",), 1994), Item("k", "Se7en", ("Crime", "Drama", "Thriller"), 1995)]
    interactions = [Interaction(f"u{k}", "k", 5.0) for k in range(9)] + [Interaction("u0", "h", 4.0)]
    dataset, catalog = _catalog(items, interactions)
    policy = plan_turn(parse("more like Fargo but less violent"), [], categories=ML100K)
    policy.like_genres = (("Crime", "Drama", "Thriller"),)
    inputs = policy.inputs(np.zeros(8, np.float32))
    assert set(inputs.mood_genres[1]) >= {"Crime", "Thriller"}
    assert _ranker(dataset, catalog, popularity=1.0).rank(inputs, n=1)[0].item.item_id == "h"


@pytest.mark.parametrize("text", ["too silly, something smarter", "something less dumb"])
def test_smarter_is_the_smart_mood(text):
    assert "smart" in parse(text).moods


def test_why_a_title_was_recommended_is_a_question_about_it():
    find = lambda text: ["g"] if "fargo" in text.lower() else []  # noqa: E731
    assert parse("why did you recommend Fargo?", find_titles=find).asks_about == ("g",)


def test_spanish_and_french_follow_ups_keep_the_thread():
    first = parse("quiero ver algo romántico")
    assert first.genres_any == ("Romance",)
    gentler = parse("pero no muy triste", earlier=[first])
    assert gentler.genres_any == ("Romance",) and gentler.moods == ("not-sad",)
    other = parse("autre chose", earlier=[parse("je cherche un bon film d'action")])
    assert other.follow_up and other.genres_any == ("Action",)
    assert parse("something similar", earlier=[first]).follow_up


@pytest.mark.parametrize("text", ["pas trop triste", "nicht zu traurig", "no muy triste"])
def test_a_negated_sad_is_not_also_sad(text):
    assert parse(text).moods == ("not-sad",)


def test_taking_back_a_title_or_the_last_message_in_chat(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()

    def say(text):
        events = list(assistant.chat(user, text))
        return [e.text for e in events if isinstance(e, ev.Notice)], _items(events)

    say("I hate Titanic")
    said, items = say("actually Titanic was fine, forget that")
    assert said == ["Forgotten, as you asked: “Hated Titanic (1997)”."], said
    assert not assistant.store.list_user(user, "chat")
    say("I hate Titanic and westerns")
    said, _ = say("forget that")  # what the previous message stored
    assert said and said[0].startswith("Forgotten, as you asked") and not assistant.store.list_user(user, "chat")
    said, _ = say("I didn't hate Alien")  # nothing stored about it: nothing to say
    assert not any("could not tell" in n for n in said)


def test_forgetting_a_dislike_holds_for_the_same_answer(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    list(assistant.chat(user, "I don't like romance"))
    items = _items(list(assistant.chat(user, "forget that I said I don't like romance. A comedy please")))
    assert any("Romance" in r.item.categories for r in items)


def test_a_spooky_film_for_children_is_no_liking_of_horror(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    list(assistant.chat(user, "a spooky movie for my kids"))
    subjects = {e.extra.get("subject") for e in assistant.store.list_user(user, "chat")}
    assert "Horror" not in subjects


def test_a_refused_combination_is_one_memory_taken_back_by_either_genre(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    list(assistant.chat(user, "my wife loves romantic comedies but I can't stand them"))
    mine = [e.text for e in assistant.store.list_user(user, "chat") if e.extra.get("holder") == "user"]
    assert mine == ["Strongly dislikes Romance + Comedy (together, not each alone)."], mine
    list(assistant.chat(user, "forget what I said about romance"))
    assert not [e for e in assistant.store.list_user(user, "chat") if e.extra.get("holder") == "user"]


@pytest.mark.parametrize("text, acclaimed", [
    ("the best sci-fi of all time", True), ("a highly rated comedy from the 80s", True),
    ("un chef-d'oeuvre", True), ("my best friend loves comedies", False), ("a comedy", False),
])
def test_the_best_is_read(text, acclaimed):
    assert parse(text).acclaimed is acclaimed


def test_the_best_puts_the_best_rated_first():
    items = ITEMS + [Item("h", "Rear Window", ("Thriller",), 1954)]
    interactions = [Interaction(f"u{k}", "e", 3.0) for k in range(40)] + \
        [Interaction(f"u{k}", "h", 5.0) for k in range(25)] + \
        [Interaction(f"u{k}", i, 2.0) for k in range(25) for i in ("a", "c", "d", "f", "g")]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    assert ranker.rank(RankInputs(np.zeros(8, np.float32)), n=1)[0].item.item_id == "e"  # most rated
    assert ranker.rank(RankInputs(np.zeros(8, np.float32), acclaimed=True), n=1)[0].item.item_id == "h"


def test_not_as_scary_asks_for_less_not_for_horror():
    from mrrec_chat.nlu.extract import extract_preferences

    said = [(p.kind, p.subject) for p in extract_preferences("something like Alien but not as scary")]
    assert ("constraint", "not too scary") in said and ("like", "Horror") not in said
    assert "Horror" not in parse("something like Alien but not as scary").wanted


def test_a_film_about_love_is_a_romance():
    assert parse("a movie about love").genres_any == ("Romance",)
    assert "Romance" not in parse("I love comedies").wanted


def test_a_twist_ending_reads_as_a_thriller_the_nearest_genre():
    r = parse("a film with a twist ending")
    assert r.genres_any == ("Thriller",) and dict(r.themes).get("Thriller") == "twist ending"


def test_a_question_about_a_card_by_its_place_is_answered_about_that_card():
    from mrrec_chat.recommend.request import list_references, with_references

    last = ["c", "d", "g"]
    asked = parse("tell me more about the third one", earlier=[parse("a comedy")])
    asked = with_references(asked, list_references(asked.text, last))
    assert asked.asks_about == ("g",)
    plain = parse("more like the third one", earlier=[parse("a comedy")])
    assert with_references(plain, list_references(plain.text, last)).asks_about == ()


@pytest.mark.parametrize("text, years", [
    ("anything from before 1990?", (None, 1989)),
    ("an old western, nothing after 1970", (None, 1970)),
    ("nothing before 1990", (1990, None)),
    ("films up to 1985", (None, 1985)),
])
def test_before_and_after_a_year_mean_what_they_say(text, years):
    from mrrec_chat.nlu.extract import extract_preferences

    r = understand(text, extract_preferences(text), categories=ML100K)
    assert (r.year_min, r.year_max) == years


@pytest.mark.parametrize("text, any_, all_", [
    ("un drame de guerre", set(), {"War", "Drama"}),
    ("una película de guerra", {"War"}, set()),
    ("something with pirates", {"Adventure"}, set()),
])
def test_war_in_french_and_spanish_and_pirates(text, any_, all_):
    r = parse(text)
    assert set(r.genres_any) == any_ and set(r.genres_all) == all_


def test_nothing_too_violent_beside_an_asked_genre_leaves_out_the_violent_genres():
    """"We both like thrillers but nothing too violent": thrillers that are not crime films first;
    other moods beside an asked genre only re-rank ("a mystery for a rainy afternoon")."""
    items = ITEMS + [Item("h", "Rear Window", ("Mystery", "Thriller"), 1954),
                     Item("k", "Se7en", ("Crime", "Thriller"), 1995)]
    interactions = [Interaction(f"u{k}", "k", 5.0) for k in range(9)] + [Interaction("u0", "h", 4.0)]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    gentle = plan_turn(parse("we like thrillers but nothing too violent"), [], categories=ML100K)
    assert "Crime" in gentle.inputs(np.zeros(8, np.float32)).mood_genres[1]
    assert ranker.rank(gentle.inputs(np.zeros(8, np.float32)), n=1)[0].item.item_id == "h"
    relaxed = plan_turn(parse("a thriller for a rainy afternoon"), [], categories=ML100K)
    assert relaxed.inputs(np.zeros(8, np.float32)).mood_genres == ((), ())
    assert ranker.rank(relaxed.inputs(np.zeros(8, np.float32)), n=1)[0].item.item_id == "k"


@pytest.mark.parametrize("text, kind", [
    ("hi", "greeting"), ("Hello there!", "greeting"), ("thanks!", "thanks"), ("ok thanks", "thanks"),
    ("merci beaucoup", "thanks"), ("what can you do?", "about"), ("who are you?", "about"),
    ("hi, a comedy please", ""), ("thanks, now a thriller", ""),
])
def test_small_talk_is_read(text, kind):
    assert parse(text).small_talk == kind


def test_thanks_after_a_list_keeps_the_request_and_its_films():
    first = parse("a comedy from the 80s")
    thanks = parse("thanks!", earlier=[first])
    assert thanks.genres_any == ("Comedy",) and (thanks.year_min, thanks.year_max) == (1980, 1989)
    assert not thanks.new_items


def test_a_greeting_gets_a_hello_not_a_notice_that_nothing_matched(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    notices = [e.text for e in assistant.chat(assistant.new_user_id(), "who are you?") if isinstance(e, ev.Notice)]
    assert notices and notices[0].startswith("I recommend films from this catalog")
    assert not any("nothing in it matches" in n for n in notices)


@pytest.mark.parametrize("text, any_, all_", [
    ("a scary comedy", set(), {"Horror", "Comedy"}),
    ("a creepy sci-fi film", set(), {"Horror", "Sci-Fi"}),
    ("something scary", {"Horror"}, set()),
    ("a spooky mystery but not horror", {"Mystery"}, set()),
])
def test_a_scary_genre_is_a_horror_film_of_that_genre(text, any_, all_):
    from mrrec_chat.nlu.extract import extract_preferences

    r = understand(text, extract_preferences(text), categories=ML100K)
    assert set(r.genres_any) == any_ and set(r.genres_all) == all_


def test_the_series_cap_knows_series_whose_titles_do_not_share_a_name():
    items = [Item("sw", "Star Wars", ("Sci-Fi",), 1977), Item("esb", "Empire Strikes Back, The", ("Sci-Fi",), 1980),
             Item("rotj", "Return of the Jedi", ("Sci-Fi",), 1983), Item("x", "Brazil", ("Sci-Fi",), 1985)]
    interactions = [Interaction(f"u{k}", i, 5.0) for i in ("sw", "esb", "rotj") for k in range(10)] + \
        [Interaction("u0", "x", 4.0)]
    dataset, catalog = _catalog(items, interactions)
    ranked = [r.item.item_id for r in _ranker(dataset, catalog, popularity=1.0).rank(
        RankInputs(np.zeros(8, np.float32)), n=3)]
    assert "x" in ranked  # two Star Wars films, then Brazil, not the third


def test_a_year_after_the_catalog_ends_gets_a_notice_that_says_so(assistant_factory):
    assistant = assistant_factory(llm_backend="none")  # the tiny catalog ends in 2003
    notices = [e.text for e in assistant.chat(assistant.new_user_id(), "a movie from 2015") if isinstance(e, ev.Notice)]
    assert any("has no films from 2015" in n for n in notices), notices


def test_a_place_in_the_list_is_not_a_theme_the_catalog_cannot_match(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    user = assistant.new_user_id()
    first = list(assistant.chat(user, "a comedy"))
    shown = [[r.item.item_id for r in _items(first)]]
    events = list(assistant.chat(user, "tell me more about the third one", ["a comedy"], shown=shown))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert not any("“third”" in n for n in notices), notices
    assert any(n.endswith("These are close to it:") for n in notices), notices


# --- session 18: fresh wordings read as a person means them --------------------------------------

def test_horror_but_not_too_scary_asks_for_horror_comedies():
    from mrrec_chat.nlu import extract_preferences

    text = "a horror movie but not too scary"
    r = understand(text, extract_preferences(text), categories=ML100K)
    assert set(r.genres_all) == {"Horror", "Comedy"} and not r.genres_any
    plain = understand("a horror movie", extract_preferences("a horror movie"), categories=ML100K)
    assert plain.genres_any == ("Horror",) and not plain.genres_all


@pytest.mark.parametrize("text", ["un film d'horreur pas trop effrayant", "una película de terror que no dé mucho miedo",
                                  "ein Horrorfilm, aber nicht zu gruselig"])
def test_not_too_scary_in_french_spanish_and_german_asks_for_horror_comedies(text):
    from mrrec_chat.nlu import extract_preferences

    r = understand(text, extract_preferences(text), categories=ML100K)
    assert set(r.genres_all) == {"Horror", "Comedy"} and not r.genres_any


def test_spoken_french_pas_refuses_without_ne():
    assert parse("une comédie, mais pas une romance").genres_refused == ("Romance",)
    assert "Comedy" not in parse("j'aime pas mal les comédies").genres_refused  # "pas mal" is "quite"


@pytest.mark.parametrize("text, mood", [("a good movie for a first date", "couple"),
                                        ("ich mag keine Actionfilme, etwas Ruhiges bitte", "relaxed"),
                                        ("something quiet and calm", "relaxed"),
                                        ("something for movie night with friends", "friends"),
                                        ("un film à regarder entre amis", "friends"),
                                        ("Je cherche un bon thriller des années 90, pas trop violent", "gentle"),
                                        ("un thriller, nicht zu brutal", "gentle"),
                                        ("un thriller, no muy violento", "gentle"),
                                        ("une histoire vraie", "historical"),
                                        ("basada en hechos reales", "historical"),
                                        ("nach einer wahren Geschichte", "historical")])
def test_a_first_date_and_a_quiet_evening_are_moods(text, mood):
    r = parse(text)
    assert mood in r.moods
    if mood == "couple":
        assert "Romance" in r.genres_any


def test_a_teenager_gets_no_crime_or_horror_unless_asked():
    r = parse("something for my teenage son, he's 15")
    assert r.audience == "teens" and {"Crime", "Horror"} <= set(r.avoid_genres)
    asked = parse("a crime film for my teenage son")
    assert "Crime" in asked.wanted and "Crime" not in asked.avoid_genres


@pytest.mark.parametrize("text, mood", [("I want to cry", "moving"), ("I need a good cry", "moving"),
                                        ("something short and light, I'm tired", "relaxed"),
                                        ("movies about friendship", "friendship"), ("a buddy movie", "friendship")])
def test_moods_said_plainly(text, mood):
    assert mood in parse(text).moods


def test_an_animal_film_is_read_as_a_childrens_film_and_said_to_be_the_nearest_genre():
    r = parse("a film about a boy and his dog")
    assert r.genres_any == ("Children's",)
    assert parse("I hate cats, a thriller please").genres_any == ("Thriller",)


def test_who_is_watching_is_not_a_theme_the_catalog_cannot_match(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "something to watch with my 13 year old daughter"))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert not any("daughter" in n for n in notices), notices


@pytest.mark.parametrize("text, year_min, era", [("a comedy from after 1990", 1991, "after 1990"),
                                                 ("eine Komödie nach 1990", 1991, "after 1990"),
                                                 ("films since 1990", 1990, "since 1990")])
def test_after_a_year_leaves_the_year_out_and_since_keeps_it(text, year_min, era):
    from mrrec_chat.nlu import extract_preferences

    r = understand(text, extract_preferences(text), categories=ML100K)
    assert (r.year_min, r.era) == (year_min, era)


@pytest.mark.parametrize("text, all_", [("a crime film that's also a comedy", {"Crime", "Comedy"}),
                                        ("a thriller set in space", {"Thriller", "Sci-Fi"}),
                                        ("a comedy in space", {"Comedy", "Sci-Fi"}),
                                        ("a drama about war from the 40s", {"Drama", "War"}),
                                        ("a comedy about aliens", {"Comedy", "Sci-Fi"})])
def test_one_film_of_two_genres_said_as_also_or_as_a_setting(text, all_):
    r = parse(text)
    assert set(r.genres_all) == all_ and not r.genres_any


def test_a_documentarys_topic_is_not_a_second_genre():
    r = parse("a documentary about music")
    assert r.genres_any == ("Documentary",) and not r.genres_all


@pytest.mark.parametrize("text", ["a detective story from the 70s", "a private eye film", "I love detective stories"])
def test_a_detective_story_is_a_mystery_leaning_to_crime_and_noir(text):
    """"a detective story from the 70s" read as crime listed Bonnie and Clyde and no Chinatown."""
    r = parse(text)
    assert r.genres_any == ("Mystery",) and {"Crime", "Film-Noir"} <= set(r.prefer_genres)


def test_something_lighter_after_a_thriller_leaves_out_crime_horror_and_drama():
    """"a thriller | something lighter" listed Seven and Apt Pupil: "lighter" only re-ranked."""
    r = carry_over(parse("something lighter"), [parse("a thriller")])
    policy = plan_turn(r, [], categories=ML100K)
    assert r.genres_any == ("Thriller",) and "lighter" in r.moods
    assert {"Crime", "Horror", "Drama"} <= set(policy.mood_genres()[1]) and "Thriller" not in policy.mood_genres()[1]


def test_titles_the_kids_have_seen_are_left_off_and_are_no_seeds():
    """"my kids are 6 and 9 | they already saw Toy Story and The Lion King" listed Raiders and
    Shawshank, "people who loved Toy Story rate it highly"."""
    from types import SimpleNamespace

    seen = SimpleNamespace(kind="seen", subject="Toy Story", subject_type="item", item_id="1", holder="other")
    find = lambda text: ["1"] if "toy story" in text.lower() else []  # noqa: E731
    r = parse("they already saw Toy Story", preferences=[seen], find_titles=find)
    assert "1" in r.titles_refused and "1" not in r.titles
    kids = parse("my kids are 6 and 9")
    follow = carry_over(r, [kids])
    assert follow.audience == "kids" and set(follow.genres_any) == set(kids.genres_any)


def test_less_scary_is_gentler_and_never_something_scary():
    """"what's similar to Alien but less scary?" got cards "picked because you asked for something scary"."""
    for text in ("what's similar to Alien but less scary?", "like The Shining but not as scary"):
        r = parse(text)
        assert "scary" not in r.moods and "gentle" in r.moods, (text, r.moods)


def test_a_title_that_is_also_a_word_is_found_after_similar_to():
    """The title index reads "Alien but less violent?" alone as words; read with its sentence, it is
    the film (so "what's similar to Alien but less scary?" had no anchor and listed Shawshank)."""
    def find(text):  # like the title index: a capitalised common word at the very start is no title
        return ["9"] if re.search(r"(?<=\w )Heat\b|^Heat\?$", text) else []

    r = parse("what's similar to Heat but less violent?", find_titles=find)
    assert r.similar_to == ("9",)


def test_an_oscar_winner_is_the_best_rated_with_a_notice_that_awards_are_not_recorded(assistant_factory):
    """"an Oscar winner" got popular picks and a notice that nothing matched "oscar winner"."""
    assert parse("an Oscar winner").acclaimed and parse("an award-winning drama").acclaimed
    assert not parse("I want to watch the Oscars tonight").acclaimed
    assert "dark" in parse("a black comedy").moods
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "an Oscar winner"))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert any("does not record awards; these are its best-rated films." in n for n in notices), notices
    assert not any("nothing in it matches" in n for n in notices), notices


def test_a_disney_classic_is_a_childrens_film():
    r = parse("a Disney classic")
    assert r.genres_any == ("Children's",) and dict(r.themes).get("Children's") == "disney"


def test_a_spy_film_is_a_thriller_said_to_be_the_nearest_genre():
    r = parse("a spy movie from the 60s")
    assert r.genres_any == ("Thriller",) and dict(r.themes).get("Thriller") == "spy"
    assert (r.year_min, r.year_max) == (1960, 1969)


def test_something_weird_is_offbeat_and_lesser_known():
    r = parse("give me something weird")
    assert "offbeat" in r.moods and r.lesser_known and "Sci-Fi" in r.prefer_genres


def test_the_funniest_film_is_the_best_rated_comedy():
    r = parse("what's the funniest movie you have?")
    assert r.acclaimed and r.genres_any == ("Comedy",)


def test_a_name_the_catalog_cannot_match_gets_one_notice_not_two(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "I'm into anything with Bruce Willis"))
    notices = [e.text for e in events if isinstance(e, ev.Notice)]
    assert sum("Bruce Willis" in n or "bruce willis" in n for n in notices) == 1, notices


def test_a_relaxed_pair_of_genres_gets_the_few_films_notice(assistant_factory):
    """A third list of 50s romantic comedies put Psycho fifth as "a romance film" with no notice:
    the relaxation of an all-of pair was not among the steps the notice looked for."""
    assistant = assistant_factory(llm_backend="none")
    turn = assistant.turn_context(assistant.new_user_id(), "a romantic comedy from the 50s")
    notices = assistant.recommender.notices(turn.policy, ("all-of genres",))
    assert any("match all of “the 1950s, romantic comedy”" in n for n in notices), notices


def test_a_seed_the_model_named_is_not_cited_as_if_the_person_had_named_it():
    from mrrec_chat.recommend.policy import TurnPolicy
    from mrrec_chat.recommend.ranker import Ranked
    from mrrec_chat.recommend.reasons import explain

    dataset, catalog = _catalog(ITEMS)
    signals = CatalogSignals(dataset, catalog)
    feats = {f: 0.0 for f in FEATURES} | {"cf_request": 0.5}
    own = TurnPolicy(request=parse("something like Heat"), seeds={"c": 1.0})
    said = explain(Ranked(ITEMS[3], 1.0, feats, seed="c"), own, dataset, signals)[0]
    assert "who loved Heat" in said and "fits your request" not in said, said
    model = TurnPolicy(request=parse("a crime film"))  # the seed came from the model's profile
    said = explain(Ranked(ITEMS[3], 1.0, feats, seed="c"), model, dataset, signals)[0]
    assert "a film that fits your request" in said, said


def test_a_noir_in_colour_is_from_1960_on():
    r = parse("a film noir, but in color")
    assert r.genres_any == ("Film-Noir",) and (r.year_min, r.era) == (1960, "since 1960")
    assert parse("a black and white film noir").year_max == 1959


@pytest.mark.parametrize("text", ["un film avec des chiens", "a movie with dogs", "una película de perros"])
def test_animals_in_other_words_and_languages(text):
    assert parse(text).genres_any == ("Children's",)


def test_a_french_article_is_not_a_theme(assistant_factory):
    assistant = assistant_factory(llm_backend="none")
    events = list(assistant.chat(assistant.new_user_id(), "un film avec des chiens"))
    assert not any("“des”" in e.text for e in events if isinstance(e, ev.Notice))


@pytest.mark.parametrize("text", ["something gentle for my mum", "a movie to watch with my parents",
                                  "un film pour ma mère", "ein Film für meine Mutter"])
def test_a_film_for_ones_parents_is_for_grown_ups(text):
    """"something gentle for my mum" read as "with my family" listed Toy Story, Babe and E.T."""
    r = parse(text)
    policy = plan_turn(r, [], categories=ML100K)
    assert r.audience == "" and "parents" in r.moods, r
    assert {"Children's", "Animation"} <= set(policy.mood_genres()[1])
    kids = parse("something for my mum and the kids")
    assert kids.audience in ("kids", "family") and "parents" not in kids.moods


@pytest.mark.parametrize("text", ["something gentle", "a war movie that isn't too graphic",
                                  "una película de terror que no sea muy sangrienta"])
def test_gentle_words_are_the_gentle_mood(text):
    """"something gentle" got Fargo and Silence of the Lambs as popular picks; "not too graphic"
    and "que no sea muy sangrienta" were not read at all."""
    assert "gentle" in parse(text).moods


def test_more_of_a_genre_in_a_follow_up_blends_it_with_the_earlier_ask():
    """"a comedy | something with more romance" put Titanic first; romantic comedies now.
    "more comedies" (plural) after a thriller asks for comedies instead."""
    blended = carry_over(parse("something with more romance"), [parse("a comedy for tonight")])
    assert set(blended.genres_all) == {"Comedy", "Romance"} and blended.genres_any == ()
    assert set(carry_over(parse("plus de romance"), [parse("a comedy")]).genres_all) == {"Comedy", "Romance"}
    humour = carry_over(parse("with more humour"), [parse("a thriller")])
    assert set(humour.genres_all) == {"Thriller", "Comedy"}
    switched = carry_over(parse("more comedies"), [parse("a thriller")])
    assert switched.genres_any == ("Comedy",) and switched.genres_all == ()


def test_less_scary_after_horror_is_a_horror_comedy():
    """"horror movies please | something less scary" listed An American Werewolf in London."""
    r = carry_over(parse("maybe something less scary"), [parse("horror movies please")])
    assert set(r.genres_all) == {"Horror", "Comedy"}, r
    gory = carry_over(parse("less gory please"), [parse("horror movies please")])
    assert gory.genres_any == ("Horror",) and gory.genres_all == ()


@pytest.mark.parametrize("text", ["a silent film", "ein Stummfilm", "un film muet"])
def test_a_silent_film_is_from_before_1930(text):
    """"a silent film" was read as black and white (before 1960): Casablanca and Rear Window came."""
    r = parse(text)
    assert r.year_max == 1929 and r.year_min is None, r


@pytest.mark.parametrize("text", ["something for a hangover", "I'm sick in bed, what should I watch"])
def test_a_hangover_asks_for_something_easy_going(text):
    """"something for a hangover" got popular picks (Schindler's List) and a notice."""
    assert "relaxed" in parse(text).moods


def test_something_different_explores_and_after_a_list_leaves_its_genres():
    """"something different" alone was not understood (a notice, the usual list); after "a thriller"
    it listed thrillers again."""
    assert parse("something different").explore and parse("something completely different").explore
    assert not parse("something different from Titanic").explore
    r = carry_over(parse("something different"), [parse("a thriller")])
    policy = plan_turn(r, [], categories=ML100K)
    assert "Thriller" in policy.mood_genres()[1] and r.genres_any == () and r.new_items


def test_a_genre_the_person_rates_lowest_is_left_out_unless_asked():
    """Dataset user 42 rates horror lowest and got Scream third for "a thriller"."""
    items = [Item("h", "Scream", ("Horror", "Thriller"), 1996), Item("t1", "Cape Fear", ("Thriller",), 1991),
             Item("t2", "The Rock", ("Action", "Thriller"), 1996), Item("t3", "Fargo", ("Crime", "Thriller"), 1996)]
    interactions = [Interaction(f"u{k}", "h", 5.0) for k in range(9)]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    inputs = RankInputs(np.zeros(8, np.float32), genres_any=("Thriller",), disliked=("Horror",))
    assert "h" not in [r.item.item_id for r in ranker.rank(inputs, n=3)]
    assert [r.item.item_id for r in ranker.rank(replace(inputs, disliked=()), n=3)][0] == "h"
    policy = plan_turn(parse("a thriller"), [], categories=ML100K)
    policy.affinity = {"Horror": -0.45, "Thriller": 0.01}
    assert policy.inputs(np.zeros(8, np.float32)).disliked == ("Horror",)
    asked = plan_turn(parse("a horror film"), [], categories=ML100K)
    asked.affinity = {"Horror": -0.45}
    assert asked.inputs(np.zeros(8, np.float32)).disliked == ()  # asked for: never held back
    described = plan_turn(parse("a four-season tent that can handle snow"), [], categories=ML100K)
    described.affinity = {"Horror": -0.45}
    assert described.inputs(np.zeros(8, np.float32)).disliked == ()  # no genre asked: the words decide


@pytest.mark.parametrize("earlier, text, both", [("a western", "something funnier", {"Western", "Comedy"}),
                                                 ("a sci-fi film", "something scarier", {"Sci-Fi", "Horror"})])
def test_a_comparative_follow_up_blends_with_the_earlier_genre(earlier, text, both):
    """"a western | something funnier" listed plain comedies (fit set b9-06, first run 0.0);
    "a sci-fi film | something scarier" put Back to the Future first."""
    r = carry_over(parse(text), [parse(earlier)])
    assert set(r.genres_all) == both and r.genres_any == (), r


@pytest.mark.parametrize("text", ["no horror, no thrillers, just something fun", "what's a fun movie for tonight?"])
def test_something_fun_is_entertaining_not_heavy_drama(text):
    """"just something fun" listed Schindler's List and Shawshank (fit set b9-13), then, read as
    feel-good, Titanic first."""
    r = parse(text)
    policy = plan_turn(r, [], categories=ML100K)
    prefer, avoid = policy.mood_genres()
    assert "fun" in r.moods and "Comedy" in prefer and "Drama" in avoid


@pytest.mark.parametrize("text", ["a movie set in the future", "something post-apocalyptic", "a dystopian thriller"])
def test_the_future_is_read_as_science_fiction(text):
    """"a movie set in the future" got popular picks and a notice that "set future" matched nothing."""
    r = parse(text)
    assert "Sci-Fi" in r.genres_any + r.genres_all, r


def test_a_refused_title_stays_refused_in_the_follow_ups():
    """"no more Star Wars please | something like Star Trek" put Return of the Jedi first."""
    from mrrec_chat.nlu.extract import Preference

    find = lambda text: ["sw"] if "star wars" in text.lower() else ["st"] if "star trek" in text.lower() else []  # noqa: E731
    refusal = Preference("dislike", "Star Wars (1977)", "item", "Doesn't want Star Wars.", 0.9, item_id="sw")
    earlier = understand("no more Star Wars please", [refusal], categories=ML100K, find_titles=find)
    assert earlier.titles_refused == ("sw",)
    r = carry_over(parse("something like Star Trek", find_titles=find), [earlier])
    assert "sw" in r.titles_refused and "st" in r.titles
    liked = Preference("like", "Star Wars (1977)", "item", "Likes Star Wars.", 0.9, item_id="sw")
    again = carry_over(understand("actually I love Star Wars", [liked], categories=ML100K, find_titles=find), [earlier])
    assert "sw" not in again.titles_refused  # named again: no longer refused by the earlier message


def test_something_we_can_both_enjoy_is_for_a_couple():
    assert "couple" in parse("something we can both enjoy").moods


@pytest.mark.parametrize("text, wanted, refused", [
    ("Never heard of it\nI like crime movies like The Departed", ("Crime",), ()),
    ("I don't like horror but I love crime movies", ("Crime",), ("Horror",)),
    ("no\nI like comedies", ("Comedy",), ()),
    ("not a comedy, but a drama", ("Drama",), ("Comedy",)),
])
def test_a_negation_holds_in_its_own_clause_only(text, wanted, refused):
    """A ReDial seeker's "Never heard of it / I like crime movies like The Departed" refused crime
    (Mulan and Silver Linings Playbook came); "I don't like horror but I love crime movies" refused both."""
    r = parse(text)
    assert r.genres_any == wanted and r.genres_refused == refused, r


def test_themes_and_people_asked_for_are_grounded_through_tags():
    """"can you recommend me some vampire movies?" listed A Quiet Place and The Sixth Sense (horror by
    trend); "I like adam sandler movies" got Black Panther. Where the catalog has tags, the items
    tagged with the theme or the person come first."""
    items = [Item("v", "Blade", ("Action", "Horror"), 1998, tags=("vampires",)),
             Item("q", "A Quiet Place", ("Horror",), 2018), Item("s", "Big Daddy", ("Comedy",), 1999, tags=("Adam Sandler",)),
             Item("b", "Black Panther", ("Action",), 2017)]
    interactions = [Interaction(f"u{k}", i, 5.0) for k in range(9) for i in ("q", "b")]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    for terms, first in ((("vampire",), "v"), (("Adam Sandler",), "s")):
        inputs = RankInputs(np.zeros(8, np.float32), tag_terms=terms)
        assert ranker.rank(inputs, n=2)[0].item.item_id == first, terms
    from mrrec_chat.nlu.extract import Preference

    liked = Preference("like", "vampires", "theme", "Likes vampires.", 0.8)
    request = understand("some vampire movies please", [liked], categories=ML100K)
    assert plan_turn(request, [], categories=ML100K).inputs(np.zeros(8, np.float32)).tag_terms == ("vampires",)


def test_a_liked_named_titles_series_comes_first():
    """"I love Planet of the Apes (1968), what do you recommend?": its sequels are what ReDial's
    recommenders suggested; the list had The Matrix and The Fifth Element. "Rise of the Planet of
    the Apes" is of that series too."""
    items = [Item("p", "Planet of the Apes", ("Sci-Fi",), 1968), Item("r", "Rise of the Planet of the Apes", ("Sci-Fi",), 2011),
             Item("b", "Beneath the Planet of the Apes", ("Sci-Fi",), 1970), Item("m", "The Matrix", ("Sci-Fi",), 1999)]
    interactions = [Interaction(f"u{k}", "m", 5.0) for k in range(9)]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    inputs = RankInputs(np.zeros(8, np.float32), exclude={"p"}, seeds={"p": 1.0}, series_seeds=("p",))
    assert {r.item.item_id for r in ranker.rank(inputs, n=2)} == {"r", "b"}
    find = lambda text: ["p"] if "planet of the apes" in text.lower() else []  # noqa: E731
    from mrrec_chat.nlu.extract import Preference

    liked = Preference("like", "Planet of the Apes (1968)", "item", "Likes it.", 0.9, item_id="p")
    request = understand("I love Planet of the Apes, what do you recommend?", [liked], categories=ML100K, find_titles=find)
    assert plan_turn(request, [], categories=ML100K).inputs(np.zeros(8, np.float32)).series_seeds == ("p",)


def test_a_mob_movie_is_a_crime_film_and_inspirational_is_a_mood():
    """ReDial seekers: "I love My Cousin Vinny, can you recommend a mob movie?" got Shrek and
    Sleepless in Seattle; "something inspirational, like Rudy" got Memento and Mystic River."""
    r = parse("I love My Cousin Vinny, can you recommend a mob movie?")
    assert r.genres_any == ("Crime",) and r.themes == (("Crime", "mob"),), r
    assert parse("a mob boss film").genres_any == ("Crime",)
    assert "Crime" not in parse("a flash mob in the musical").genres_any
    r = parse("I want to see something inspirational")
    assert r.moods == ("inspiring",) and not r.genres_any, r


def test_a_person_misspelt_by_a_letter_is_still_found_in_the_tags():
    """"We really enjoy Will Ferril" found no tag "will ferrell", so his comedies were not first."""
    items = [Item("s", "Step Brothers", ("Comedy",), 2008, tags=("Will Ferrell",)),
             Item("d", "Deadpool", ("Comedy",), 2016), Item("w", "Will Penny", ("Western",), 1967, tags=("will penny",))]
    interactions = [Interaction(f"u{k}", "d", 5.0) for k in range(9)]
    dataset, catalog = _catalog(items, interactions)
    ranker = _ranker(dataset, catalog, popularity=1.0)
    assert ranker.rank(RankInputs(np.zeros(8, np.float32), tag_terms=("Will Ferril",)), n=1)[0].item.item_id == "s"
    assert not ranker.signals.tagged(("Will Smith",)).any()  # a different name is no slip


@pytest.mark.parametrize("text, check", [
    ("Hi I like kid movies.", lambda r: r.genres_any == ("Children's",)),
    ("Whats a good kid movie?", lambda r: r.genres_any == ("Children's",)),
    ("Can you recommend a good movie for girls night out?", lambda r: "friends" in r.moods),
])
def test_what_redial_seekers_asked_that_read_as_nothing(text, check):
    """ReDial training seekers whose requests the step read as nothing at all (popular picks came)."""
    assert check(parse(text)), parse(text)


def test_a_title_with_its_own_article_and_a_director_named_alone():
    """ReDial seekers: "One of my favorites is A Quiet Place (2018)" lost the film (an article read as
    "a quiet place", so the mood came out "relaxed"); "Hitchcock never disappoints" seeded the list with
    the 2012 film *Hitchcock*."""
    from mrrec_chat.data.movielens import TitleIndex
    from mrrec_chat.recommend import Recommender

    items = {i.item_id: i for i in [Item("q", "A Quiet Place", ("Horror",), 2018), Item("h", "Hitchcock", ("Drama",), 2012),
                                     Item("v", "Avalanche", ("Action",), 1978)]}
    rec = Recommender.__new__(Recommender)
    rec.dataset = Dataset("tiny", items, [])
    rec.titles = TitleIndex(rec.dataset)
    assert rec.find_titles("One of my favorites is A Quiet Place (2018)") == ["q"]
    assert rec.find_titles("Hitchcock never disappoints.") == []
    assert rec.find_titles("I watched Hitchcock (2012)") == ["h"]
    assert rec.find_titles("an avalanche shovel") == []  # a description, still
    r = parse("I'm looking for a scary movie. One of my favorites is A Quiet Place (2018)",
              find_titles=rec.find_titles, title_spans=rec.title_spans)
    assert r.moods == ("scary",), r


def test_a_dated_title_the_catalog_lacks_asks_for_nothing():
    """"I like a drama, thriller, sometimes something scary. I have seen Happy Death Day (2017)" was read
    as asking for something feel-good."""
    r = parse("I like a drama, thriller, sometimes something scary.\nI have seen Happy Death Day (2017)\nand that was okay")
    assert r.moods == ("scary",) and r.genres_any[:2] == ("Drama", "Thriller"), r
    assert parse("I want a horror movie like Scream (1996)").genres_any == ("Horror",)


def test_a_title_of_function_words_needs_its_capitals():
    """"but I do love comedy" named the film *I Do (2006)*."""
    from mrrec_chat.data.movielens import TitleIndex

    items = [Item("d", "I Do: How to Get Married and Stay Single", (), 2006)]
    index = TitleIndex(Dataset("t", {i.item_id: i for i in items}, []))
    assert index.find_mentions("Any thing really\nbut I do love comedy") == []
    assert index.find_mentions("I loved I Do (2006)") == ["d"]


def test_write_back_reads_titles_as_the_recommender_does(assistant_factory):
    """"a good Adventure movie to watch with my boyfriend" stored a like of *L'Avventura (Adventure,
    The)* through the write-back's own title reading (the request's reading left it out), and "I like
    Bill & Ted's Bogus Journey" told the person that "Bill" is not in the catalog."""
    assistant = assistant_factory(llm_backend="none")
    said = assistant.extract_statements("I want a good Adventure movie, I liked Heat (1995)")
    assert [p.subject for p in said if p.subject_type == "item"] == ["Heat (1995)"], said
    r = parse("I like Bill & Ted's Bogus Journey (1991), and I like Zorro", find_titles=lambda t: ["b"] if "Bogus" in t else [],
              title_spans=lambda t: [(t.index("Bill"), t.index(","))] if "Bogus" in t else [])
    assert r.unknown_titles == ("Zorro",), r


def test_a_film_noir_is_not_said_to_be_gentle():
    """"I wasn't into Pulp Fiction, something gentler?" listed Blade Runner as "A film noir, picked
    because you asked for something gentler"."""
    from mrrec_chat.recommend.reasons import mood_genre

    policy = plan_turn(parse("something gentler please"), [], categories=ML100K)
    assert "Film-Noir" in policy.request.avoid_genres
    assert mood_genre(Item("b", "Blade Runner", ("Film-Noir", "Sci-Fi"), 1982), policy, ())[0] is None
    assert mood_genre(Item("c", "Contact", ("Drama", "Sci-Fi"), 1997), policy, ())[0] == "Drama"
