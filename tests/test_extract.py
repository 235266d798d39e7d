"""Behaviour tests for the deterministic preference extractor used by memory write-back."""

from __future__ import annotations

import dataclasses
import random
import time

import pytest

from mrrec_chat.nlu import DEFAULT_MOVIE_GENRES, Preference, extract_preferences
from mrrec_lab.extract_eval import DEFAULT_SET, evaluate, fake_title_lookup

FRESH4 = DEFAULT_SET.with_name("extraction_fresh4.jsonl")


def triples(message: str, **kwargs) -> set[tuple[str, str, str]]:
    return {(p.kind, p.subject, p.holder) for p in extract_preferences(message, **kwargs)}


@pytest.mark.parametrize("message, genre", [
    ("I don't like horror", "Horror"),
    ("not really into musicals", "Musical"),
    ("I've never liked westerns", "Western"),
    ("no horror please", "Horror"),
    ("anything but horror", "Horror"),
    ("i dont like westerns", "Western"),
])
def test_negation_gives_dislike(message: str, genre: str) -> None:
    assert triples(message) == {("dislike", genre, "user")}


def test_intensity_sets_confidence() -> None:
    strong = extract_preferences("I adore comedies")[0]
    mild = extract_preferences("I kind of like mysteries")[0]
    assert (strong.kind, strong.subject, strong.confidence) == ("like", "Comedy", 0.9)
    assert (mild.kind, mild.subject, mild.confidence) == ("like", "Mystery", 0.6)
    assert extract_preferences("I can't stand horror")[0].confidence == 0.9


def test_used_to_but_now_keeps_only_current_view() -> None:
    prefs = extract_preferences("I used to love horror but now I can't stand it.")
    assert [(p.kind, p.subject, p.supersedes_past) for p in prefs] == [("dislike", "Horror", True)]
    assert extract_preferences("I used to love westerns.") == []  # past only: nothing about now
    assert extract_preferences("I'm not into westerns anymore.")[0].supersedes_past


def test_mixed_likes_and_dislikes() -> None:
    assert triples("I love comedies but hate romance") == {("like", "Comedy", "user"),
                                                           ("dislike", "Romance", "user")}
    assert triples("I can't stand romcoms") == {("dislike", "Romance", "user"), ("dislike", "Comedy", "user")}


def test_other_person_is_flagged() -> None:
    prefs = extract_preferences("My wife hates westerns")
    assert [(p.kind, p.subject, p.holder) for p in prefs] == [("dislike", "Western", "other")]
    assert prefs[0].confidence == 0.5 and "wife" in prefs[0].text
    assert triples("Correction: I love westerns, it's my wife who hates them.") == {
        ("like", "Western", "user"), ("dislike", "Western", "other")}
    assert triples("My wife and I love thrillers") == {("like", "Thriller", "user")}


@pytest.mark.parametrize("message", ["hi", "what's up", "thanks!", "What do you recommend?", "forget it",
                                     "", "   ", "Do you like horror movies?", "Have you seen Heat?"])
def test_chit_chat_and_questions_give_nothing(message: str) -> None:
    assert extract_preferences(message, title_lookup=fake_title_lookup) == []


@pytest.mark.parametrize("message, expected", [
    ("me encantan las películas de terror", ("like", "Horror")),
    ("je déteste les westerns", ("dislike", "Western")),
    ("ich liebe Komödien", ("like", "Comedy")),
    ("No me gustan los musicales", ("dislike", "Musical")),
    ("Ich mag keine Horrorfilme", ("dislike", "Horror")),
    ("j'aime pas les westerns", ("dislike", "Western")),
])
def test_multilingual(message: str, expected: tuple[str, str]) -> None:
    assert triples(message) == {(*expected, "user")}


def test_constraints_context_and_seen() -> None:
    assert triples("Nothing longer than two hours, no subtitles, something from the 90s") == {
        ("constraint", "at most 120 minutes", "user"), ("constraint", "no subtitles", "user"),
        ("constraint", "from the 1990s", "user")}
    assert triples("Under 100 minutes and not too violent, it's family-friendly night") >= {
        ("constraint", "at most 100 minutes", "user"), ("constraint", "not too violent", "user"),
        ("constraint", "family-friendly", "user")}
    assert triples("watching with my kids on a plane, it's date night") == {
        ("context", "watching with kids", "user"), ("context", "on a plane", "user"),
        ("context", "date night", "user")}
    prefs = extract_preferences("I've seen Heat and already watched The Matrix", title_lookup=fake_title_lookup)
    assert [(p.kind, p.subject, p.item_id) for p in prefs] == [
        ("seen", "Heat (1995)", "m1"), ("seen", "The Matrix (1999)", "m2")]
    assert extract_preferences("Haven't seen The Godfather yet.", title_lookup=fake_title_lookup) == []


def test_titles_without_lookup_are_items_without_id() -> None:
    prefs = extract_preferences('I loved The Matrix and hated "Cats"')
    assert [(p.kind, p.subject, p.subject_type, p.item_id) for p in prefs] == [
        ("like", "The Matrix", "item", None), ("dislike", "Cats", "item", None)]


def test_broken_lookup_does_not_raise() -> None:
    def lookup(text: str) -> list[tuple[str, str]]:
        raise RuntimeError("catalog down")
    assert triples("I love horror and Heat", title_lookup=lookup) == {("like", "Horror", "user")}


def test_custom_categories() -> None:
    cats = ("Fiction", "Poetry")
    assert triples("I love poetry", categories=cats) == {("like", "Poetry", "user")}
    assert triples("I love horror", categories=cats) == set()
    assert extract_preferences("I love horror", categories=None)[0].subject == "Horror"


def test_preference_is_frozen_and_well_formed() -> None:
    pref = extract_preferences("I love horror")[0]
    assert isinstance(pref, Preference)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pref.kind = "dislike"  # type: ignore[misc]
    assert pref.text == "Loves Horror movies." and 0.0 <= pref.confidence <= 1.0
    assert "Horror" in DEFAULT_MOVIE_GENRES


def test_500_preferences_are_capped_quickly() -> None:
    titles = [(f"i{i}", f"Movie Number {i} ({1950 + i % 70})") for i in range(500)]
    message = " ".join(f"I love Movie Number {i}." for i in range(500))
    start = time.perf_counter()
    prefs = extract_preferences(message, title_lookup=lambda text: titles)
    assert time.perf_counter() - start < 5.0
    assert len(prefs) == 50 and prefs[0].subject == "Movie Number 0 (1950)"
    assert len(extract_preferences(message, title_lookup=lambda text: titles, max_preferences=500)) == 500
    assert extract_preferences(message, max_preferences=0) == []


@pytest.mark.parametrize("message", [
    "a" * 1_000_000,
    ("I love horror but hate westerns. Nothing longer than two hours. " * 20_000)[:1_000_000],
    ("love horror " * 90_000)[:1_000_000],  # one giant clause: must stay linear
])
def test_huge_input_does_not_raise_and_is_fast(message: str) -> None:
    start = time.perf_counter()
    prefs = extract_preferences(message, strict=True)  # unguarded core: a bug must surface
    assert time.perf_counter() - start < 10.0
    assert isinstance(prefs, list)


def test_fuzz_random_strings_never_raise() -> None:
    rng = random.Random(1234)
    alphabet = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ .,!?;:'\"()-\n\t0123456789"
                "éüñçßİ😀\u0301\u200b\u202e\ud800“”’«»—…") + "".join(chr(c) for c in range(0x370, 0x3a0))
    words = ["love", "hate", "horror", "not", "no", "but", "used to", "now", "it", "them", "my wife",
             "Heat", "under", "two hours", "seen", "'", '"', "90s", "I do", "anything but"]
    for i in range(300):
        if i % 2:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        else:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
        prefs = extract_preferences(text, title_lookup=fake_title_lookup, strict=True)
        assert all(isinstance(p, Preference) and 0.0 <= p.confidence <= 1.0 for p in prefs)
    for odd in (None, 42, b"bytes", ["list"]):
        assert extract_preferences(odd) == []  # type: ignore[arg-type]


def test_labelled_set_precision_and_recall() -> None:
    result = evaluate(part="old")
    assert result["messages"] >= 70
    assert result["overall"]["precision"] >= 0.85
    assert result["overall"]["recall"] >= 0.85
    assert not result["inversions"] and not result["invented"]


@pytest.mark.parametrize("message, expected", [
    # issue 20: a common word is not a film, a stance found for a title is stored with it
    ("Nothing too sad please", {("constraint", "not depressing", "user")}),
    ("the opposite of a Michael Bay movie", {("dislike", "Michael Bay", "user")}),
    ("Heat is probably my favourite film", {("like", "Heat (1995)", "user")}),
    ("Loved Amélie", {("like", "Amélie (2001)", "user")}),
    ("The Shining scared me... never again", {("dislike", "The Shining (1980)", "user")}),
    ("Honestly Gladiator bored me.", {("dislike", "Gladiator (2000)", "user")}),
    # people and themes are preferences
    ("no Tom Cruise", {("dislike", "Tom Cruise", "user")}),
    ("Tarantino is overrated", {("dislike", "Quentin Tarantino", "user")}),
    ("the Coens rock", {("like", "Coen brothers", "user")}),
    ("Please no more Adam Sandler comedies.", {("dislike", "Adam Sandler", "user"), ("dislike", "Comedy", "user")}),
    ("I adore anything by Miyazaki.", {("like", "Hayao Miyazaki", "user")}),
    ("heist", {("like", "heist", "user")}),
    ("Big fan of time travel stories.", {("like", "time travel", "user")}),
    ("I want the opposite of Titanic.", {("dislike", "Titanic (1997)", "user")}),
    # a taste that changed: "fallen out of love with musicals" was stored as a like
    ("actually I've gone off horror lately", {("dislike", "Horror", "user")}),
    ("I've fallen out of love with musicals", {("dislike", "Musical", "user")}),
    ("I've lost interest in westerns", {("dislike", "Western", "user")}),
    # fresh batch 8's misses (memory_data/eval/extraction_fresh8.jsonl)
    ("Knives Out was such a clever whodunit", {("like", "Knives Out (2019)", "user")}),
    ("Spotlight is the kind of film I wish they still made", {("like", "Spotlight (2015)", "user")}),
    ("Mad Max: Fury Road is pure adrenaline", {("like", "Mad Max: Fury Road (2015)", "user")}),
    # fresh batch 9's misses (memory_data/eval/extraction_fresh9.jsonl): a director's possessive is no
    # film ("Michael Bay's" stored *The Bay*), "wasn't into", "never miss", "an all-timer"
    ("Michael Bay's films are too loud for me", {("dislike", "Michael Bay", "user")}),
    ("Wasn't into Interstellar at all", {("dislike", "Interstellar (2014)", "user")}),
    ("Honestly the Coen brothers never miss", {("like", "Coen brothers", "user")}),
    ("Jurassic Park (1993) is an all-timer", {("like", "Jurassic Park (1993)", "user")}),
    # ReDial seekers: "one of my favorites is" (plural) was no cue
    ("One of my favorites is Heat (1995)", {("like", "Heat (1995)", "user")}),
    # a ReDial seeker: "in the mood to see" asks as "in the mood for" does (the person was lost)
    ("I'm in the mood to see a movie with Kevin Costner. Any suggestions?", {("like", "Kevin Costner", "user")}),
    # a ReDial seeker: the title after the genre is no verdict on it ("comedies [are] dumb")
    ("i like comedies Dumb and Dumber (1994) and Moana (2016)",
     {("like", "Comedy", "user"), ("like", "Dumb and Dumber (1994)", "user"), ("like", "Moana (2016)", "user")}),
])
def test_titles_people_and_themes(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup) == expected


def test_a_common_word_is_not_a_film() -> None:
    for message in ("I'm not brave enough for horror.", "Nothing too sad please", "Up for anything",
                    "It was fine I guess.", "Home alone tonight, want something scary.", "Big fan of Spielberg"):
        assert not [p for p in extract_preferences(message, title_lookup=fake_title_lookup) if p.subject_type == "item"]


def test_a_part_number_after_a_comma_does_not_turn_the_title_into_its_sequel() -> None:
    # The lookup used to match "The Godfather, part 3" as Part III, so the like went to the sequel.
    got = triples("Loved The Godfather, part 3 was bad", title_lookup=fake_title_lookup)
    assert ("like", "The Godfather (1972)", "user") in got
    assert ("like", "The Godfather: Part III (1990)", "user") not in got


@pytest.mark.parametrize("message, expected", [
    # titles opening a sentence, found by the lookup from what follows them
    ("Her is one of my favourites.", {("like", "Her (2013)", "user")}),
    ("Up was lovely.", {("like", "Up (2009)", "user")}),
    ("Signs creeped me out, in a bad way.", {("dislike", "Signs (2002)", "user")}),
    ("Elf every December, no exceptions.", {("like", "Elf (2003)", "user")}),
    ("Volver es una de mis películas favoritas.", {("like", "Volver (2006)", "user")}),
    ("I want something like her", set()),
    ("Comedies always cheer me up.", {("like", "Comedy", "user")}),
])
def test_titles_opening_a_sentence(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


def test_people_and_themes_are_typed() -> None:
    prefs = extract_preferences("Zombies bore me, but I love Meryl Streep.")
    assert [(p.subject, p.subject_type, p.genres) for p in prefs] == [
        ("zombies", "theme", ("Horror",)), ("Meryl Streep", "person", ())]


def test_title_spans_come_from_the_lookup() -> None:
    """With offsets, the lookup decides where a title is named; the extractor does not re-find it."""
    def lookup(text):
        return [("m9", "Alien (1979)", text.rindex("Alien"), text.rindex("Alien") + 5)]
    assert triples("Aliens bore me. Alien rocks.", title_lookup=lookup) == {
        ("dislike", "aliens", "user"), ("like", "Alien (1979)", "user")}


def test_fresh_part_has_no_inversions_or_invented_films_in_batch_one() -> None:
    result = evaluate(part="fresh", batch=1)
    assert result["messages"] >= 40 and not result["invented"] and not result["inversions"]


@pytest.mark.parametrize("message, expected", [
    # a verdict standing alone after a bare title; a sentence-level "in the best way"
    ("Titanic? Overrated.", {("dislike", "Titanic (1997)", "user")}),
    ("Alien? Count me in.", {("like", "Alien (1979)", "user")}),
    ("The Exorcist terrified me, in the best way.", {("like", "The Exorcist (1973)", "user")}),
    ("Scream made me jump in a good way.", {("like", "Scream (1996)", "user")}),
    # "especially" shares the stance before it; a title equated with a person "at his best"
    ("I love Nolan, Memento especially.", {("like", "Christopher Nolan", "user"), ("like", "Memento (2000)", "user")}),
    ("Heat is Michael Mann at his best.", {("like", "Heat (1995)", "user"), ("like", "Michael Mann", "user")}),
    # the verdict names another holder
    ("Frozen is my daughter's favourite.", {("like", "Frozen (2013)", "other")}),
    ("My husband's favourite is Die Hard.", {("like", "Die Hard (1988)", "other")}),
    # an attribute inside a verdict is its wording, not a viewing constraint
    ("Parasite was too violent for me.", {("dislike", "Parasite (2019)", "user")}),
    ("Titanic had a terrible ending.", {("dislike", "Titanic (1997)", "user")}),
    # a sequel named by its part only, when the catalog has it
    ("The Godfather is perfect, Part III not so much.",
     {("like", "The Godfather (1972)", "user"), ("dislike", "The Godfather: Part III (1990)", "user")}),
    ("Heat was great, Part II was worse.", {("like", "Heat (1995)", "user")}),
    # who made a film is a credit, not a stance
    ("My favourite film is Amélie, by Jeunet.", {("like", "Amélie (2001)", "user")}),
    # "it"/"them" name the thing itself: the subject's "no" is not applied twice
    ("No westerns, I can't stand them.", {("dislike", "Western", "user")}),
    # a verdict closing the sentence after a comma
    ("Frozen is for little kids, not for me.", {("dislike", "Frozen (2013)", "user")}),
    # a request opener after a comma; "I want" is the user's even after another holder
    ("Rainy day here, something quirky and whimsical.",
     {("context", "rainy day", "user"), ("like", "quirky", "user"), ("like", "whimsical", "user")}),
    ("My son wants robots, I want anything but cartoons.", {("like", "robots", "other"), ("dislike", "Animation", "user")}),
    ("Spielberg's early films are magic.", {("like", "Steven Spielberg", "user")}),
    ("Denzel can do no wrong.", {("like", "Denzel Washington", "user")}),
    ("It's a hard no on musicals.", {("dislike", "Musical", "user")}),
    # es/fr/de: preterites, verdicts, compounds, a pronoun before the verb
    ("Me gustó mucho Fargo.", {("like", "Fargo (1996)", "user")}),
    ("Groundhog Day hat mir sehr gefallen.", {("like", "Groundhog Day (1993)", "user")}),
    ("Groundhog Day hat mir nicht gefallen.", {("dislike", "Groundhog Day (1993)", "user")}),
    ("Ich mag keine Vampirfilme.", {("dislike", "vampires", "user")}),
    ("Pulp Fiction? Je l'ai déjà vu.", {("seen", "Pulp Fiction (1994)", "user")}),
])
def test_stances_without_cue_verbs(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup) == expected


@pytest.mark.parametrize("message, expected", [
    ("Any horror fans here?", set()),  # a question about people, not a request
    ("Casablanca? Seen it, a classic.", {("seen", "Casablanca (1942)", "user")}),  # "a classic" needs "is"
    ("Always wanted to see Casablanca.", set()),
    ("I'm feeling nostalgic.", set()),
    ("That is what I said.", set()),
    ("I want a comedy that's not too long.", {("like", "Comedy", "user"), ("constraint", "not too long", "user")}),
    ("Greta Gerwig, Sofia Coppola: that's my kind of director.",  # "my kind" is no relative
     {("like", "Greta Gerwig", "user"), ("like", "Sofia Coppola", "user")}),
])
def test_new_stance_rules_do_not_overreach(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup) == expected


def test_fresh_part_meets_the_issue_targets() -> None:
    """Issue 20's targets over all fresh batches (batches 1-3 are no longer clean measures: the
    extractor was changed after each first run; the first-run figures are in the commit log)."""
    result = evaluate(part="fresh")
    assert result["messages"] >= 140
    assert result["overall"]["precision"] >= 0.95 and result["overall"]["recall"] >= 0.80
    assert not result["inversions"] and not result["invented"]


def _titles(text: str) -> list[str]:
    """The catalog titles `TitleIndex.find_spans` names in `text` (the fake catalog of extract_eval)."""
    return [title.rsplit(" (", 1)[0] for _, title, _, _ in fake_title_lookup(text)]


@pytest.mark.parametrize("message, titles", [
    # fresh batch 4: a title opening a sentence before "wasn't", ">", a version of it, a verb of another language
    ("Unforgiven wasn't half bad.", ["Unforgiven"]),
    ("Interstellar > Inception imo", ["Interstellar", "Inception"]),
    ("Memento >>> everything else he made", ["Memento"]),
    ("Cats the musical is great, Cats the movie is a crime.", ["Cats", "Cats"]),
    ("Jaws remake when?", ["Jaws"]),
    ("Titanic finde ich kitschig.", ["Titanic"]),
    ("Gravity looked gorgeous.", ["Gravity"]),
    ("Vi Titanic ayer.", ["Titanic"]),
    # a possessive names the film; an everyday word only before what a film has ("Heat's ending")
    ("Inception's score is amazing.", ["Inception"]),
    ("Heat's ending is great.", ["Heat"]),
    # one slip inside a title of two or more words, or of 7+ letters
    ("Jurasic Park is my all time fav", ["Jurassic Park"]),
    ("I loved Pulp Fictoin", ["Pulp Fiction"]),
    ("Gladiater was amazing", ["Gladiator"]),
    # release titles of other languages
    ("Lola rennt fand ich super.", ["Run Lola Run"]),
    ("Ya vi Parásitos.", ["Parasite"]),
    ("El padrino me encantó.", ["The Godfather"]),
    ("Un jour sans fin, c'est culte.", ["Groundhog Day"]),
    # a title after a place word that follows a person still names the film
    ("Bogart in Casablanca is iconic.", ["Casablanca"]),
])
def test_lookup_finds_titles_in_new_wording(message: str, titles: list[str]) -> None:
    assert _titles(message) == titles


@pytest.mark.parametrize("message", [
    # a title after travel or living is the place ("We honeymooned in Casablanca")
    "We honeymooned in Casablanca, so I'm a sucker for anything set in Morocco.",
    "I loved our trip to Casablanca.",
    "We're moving to Roma next year!",
    # words, not titles
    "Big movie fan here.",
    "Life's too short for bad movies.",
    "Nothing's better than a nap.",
    "Heats are on tonight.",
])
def test_lookup_does_not_read_places_or_words_as_titles(message: str) -> None:
    assert _titles(message) == []


@pytest.mark.parametrize("message, expected", [
    # fresh batch 4: one slip in a lexicon word (a doubled letter dropped, letters swapped or replaced)
    ("i realy dont like horor movies", {("dislike", "Horror", "user")}),
    ("scorcese is overated", {("dislike", "Martin Scorsese", "user")}),
    ("thriler pls", {("like", "Thriller", "user")}),
    ("i liek documentries", {("like", "Documentary", "user")}),
    ("Tarrantino is brillant", {("like", "Quentin Tarantino", "user")}),
    # a surname of 7+ letters or a full name in lower case; a short surname stays a word
    ("love tom hanks", {("like", "Tom Hanks", "user")}),
    ("spielberg is a genius", {("like", "Steven Spielberg", "user")}),
    ("a lynch mob", set()),
    # real words one slip from a lexicon word, and other languages' endings, stay as written
    ("Bring me something good", set()),
    ("Ma femme adore les comédies musicales.", {("like", "Musical", "other")}),
    ("Mi película favorita es Titanic.", {("like", "Titanic (1997)", "user")}),
])
def test_spelling_slips(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


@pytest.mark.parametrize("message, expected", [
    # fresh batch 4: contexts said without "with my ..."
    ("It's just me and the dog tonight.", {("context", "watching alone", "user")}),
    ("Kids are asleep, so it's just me.", {("context", "watching alone", "user")}),
    # not alone; who it is names the partner (as batch 5 labels "Just me and my girlfriend tonight")
    ("It's just me and my wife tonight.", {("context", "watching with partner", "user")}),
    ("My in-laws are staying with us this weekend.", {("context", "watching with family", "user")}),
    ("My nephew is sleeping over.", {("context", "watching with kids", "user")}),
    ("Three kids in the back seat, need something for the tablet.", {("context", "watching with kids", "user")}),
    ("I'm babysitting tonight.", {("context", "watching with kids", "user")}),
    ("A bunch of old school friends are coming.", {("context", "watching with friends", "user")}),
    ("The lads are coming over later.", {("context", "watching with friends", "user")}),
    ("Our anniversary is tonight.", {("context", "date night", "user")}),
    ("Need something downloaded for the flight.", {("context", "on a plane", "user")}),
    ("Wir schauen heute zu zweit.", {("context", "watching with partner", "user")}),
    ("My husband falls asleep in anything over two hours.",
     {("context", "watching with partner", "user"), ("constraint", "at most 120 minutes", "user")}),
    ("Something everyone in the family can enjoy.",
     {("context", "watching with family", "user"), ("constraint", "family-friendly", "user")}),
    # constraints in other words
    ("Keep it PG, please.", {("constraint", "family-friendly", "user")}),
    ("Keep it clean tonight.", {("constraint", "no explicit content", "user")}),
    ("Anything rated 7.5 or higher.", {("constraint", "highly rated", "user")}),
    ("I'm in a vintage mood.", {("constraint", "classic", "user")}),
    ("Anything, as long as nobody dies.", {("constraint", "not depressing", "user")}),
    ("Algo cortito, menos de hora y media.",
     {("constraint", "not too long", "user"), ("constraint", "at most 90 minutes", "user")}),
    ("Bitte nichts mit Untertiteln.", {("constraint", "no subtitles", "user")}),
    ("My dad can't read subtitles.", {("constraint", "no subtitles", "user")}),
    # topics and requests in other words
    ("Anything where someone goes back in time.", {("like", "time travel", "user")}),
    ("Just give me explosions.", {("like", "Action", "user")}),
    ("No Michael Bay, no explosions for the sake of it.", {("dislike", "Michael Bay", "user")}),
    ("Something dumb and fun.", {("like", "popcorn", "user")}),
    ("Anything directed by Bong Joon-ho.", {("like", "Bong Joon-ho", "user")}),
    ("One more film tonight, maybe something with Emma Stone?", {("like", "Emma Stone", "user")}),
    ("Un film d'animation pour ce soir ?", {("like", "Animation", "user")}),
    ("Only westerns tonight.", {("like", "Western", "user")}),
    # ", so ..." starts a clause of its own: the holder and the stance before it do not carry over
    ("The kids sing along to everything, so a musical would be perfect.", {("like", "Musical", "user")}),
    # an exception names its subject the other way round ("sauf ceux de ...")
    ("Je n'aime pas trop les westerns, sauf ceux de Sergio Leone.",
     {("dislike", "Western", "user"), ("like", "Sergio Leone", "user")}),
])
def test_constraints_contexts_and_requests_in_other_words(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


@pytest.mark.parametrize("message, expected", [
    # fresh batch 4: verdict words and stance verbs the lexicon lacked
    ("Memento deserves all the hype.", {("like", "Memento (2000)", "user")}),
    ("Heat is a solid 9/10.", {("like", "Heat (1995)", "user")}),
    ("Titanic is a 2/10 for me.", {("dislike", "Titanic (1997)", "user")}),
    ("Fargo is just not my thing.", {("dislike", "Fargo (1996)", "user")}),
    ("Jaws was a bit much for me.", {("dislike", "Jaws (1975)", "user")}),
    ("Elf gets me every time.", {("like", "Elf (2003)", "user")}),
    ("Clue cracks me up.", {("like", "Clue (1985)", "user")}),
    ("Memento has aged so well.", {("like", "Memento (2000)", "user")}),
    ("Spielberg nailed it.", {("like", "Steven Spielberg", "user")}),
    ("The Matrix still looks amazing.", {("like", "The Matrix (1999)", "user")}),
    ("Moonrise Kingdom felt too twee.", {("dislike", "Moonrise Kingdom (2012)", "user")}),
    ("Nicolas Cage is a national treasure.", {("like", "Nicolas Cage", "user")}),
    ("Horror movies make me want to scream.", {("dislike", "Horror", "user")}),
    ("Christopher Nolan overcomplicates everything.", {("dislike", "Christopher Nolan", "user")}),
    ("Zombie movies are my weakness.", {("like", "zombies", "user")}),
    ("Space movies fascinate me.", {("like", "Sci-Fi", "user")}),
    ("I'm not sold on Interstellar.", {("dislike", "Interstellar (2014)", "user")}),
    ("Never understood the hype around Star Wars.", {("dislike", "Star Wars (1977)", "user")}),
    ("My sister swears by Die Hard.", {("like", "Die Hard (1988)", "other")}),
    ("I always end up picking a western.", {("like", "Western", "user")}),
    ("Always happy to watch anything with Meryl Streep.", {("like", "Meryl Streep", "user")}),
    ("I've been wanting a proper heist movie.", {("like", "heist", "user")}),
    ("Perfect night for a slow-burn thriller.", {("like", "slow-burn", "user"), ("like", "Thriller", "user")}),
    ("Kubrick is cold, I never connect with his stuff.", {("dislike", "Stanley Kubrick", "user")}),
    ("Titanic finde ich total kitschig.", {("dislike", "Titanic (1997)", "user")}),
    ("Mir gefallen Komödien.", {("like", "Comedy", "user")}),
    # understatement
    ("Memento wasn't half bad.", {("like", "Memento (2000)", "user")}),
    ("Titanic isn't bad at all, actually.", {("like", "Titanic (1997)", "user")}),
    # a comparison: the film measured against takes no stance, nor do the words about it
    ("Heat > Ronin", {("like", "Heat (1995)", "user")}),
    ("Alien > Aliens, and it's not even close.", {("like", "Alien (1979)", "user")}),
    ("Jaws is way better than any modern shark movie.", {("like", "Jaws (1975)", "user")}),
    # "the only X I rate": the kind named is otherwise disliked; "the rare X that" is praise only
    ("Alien is the only horror film I actually enjoy.", {("like", "Alien (1979)", "user"), ("dislike", "Horror", "user")}),
    ("Clue is the rare comedy that still works.", {("like", "Clue (1985)", "user")}),
    # contrast and exception
    ("I hate musicals, except La La Land.", {("dislike", "Musical", "user"), ("like", "La La Land (2016)", "user")}),
    ("No westerns, unless it's Unforgiven.", {("dislike", "Western", "user"), ("like", "Unforgiven (1992)", "user")}),
    ("Inception is fine, I guess, but overrated.", {("dislike", "Inception (2010)", "user")}),
    ("Arrival was slow but worth it.", {("like", "Arrival (2016)", "user")}),
    # another holder's view, and the user's own
    ("Westerns are my grandad's thing, not mine.", {("like", "Western", "other"), ("dislike", "Western", "user")}),
    ("My brother says Drive is overrated, I disagree.", {("dislike", "Drive (2011)", "other"), ("like", "Drive (2011)", "user")}),
    ("My dad swears by Die Hard but honestly Bruce Willis bores me.",
     {("like", "Die Hard (1988)", "other"), ("dislike", "Bruce Willis", "user")}),
    ("Memento is the one film everyone in my family agrees on.", {("like", "Memento (2000)", "user")}),
    # a version of the film is not the film; "the original" is
    ("The Lion King remake? Pointless. The original though, perfection.", {("like", "The Lion King (1994)", "user")}),
    ("Cats the musical is great, Cats the movie is a crime.", {("dislike", "Cats (2019)", "user")}),
    ("The Matrix rocks, the sequels not so much.", {("like", "The Matrix (1999)", "user")}),
    # a verdict after ':', '=' or a comma; adjectives listed after a verdict are its wording
    ("Saving Private Ryan: the opening alone is worth it.", {("like", "Saving Private Ryan (1998)", "user")}),
    ("Zombie films where everyone dies = perfect.", {("like", "zombies", "user")}),
    ("Get Out: sharp, scary, funny.", {("like", "Get Out (2017)", "user")}),
    ("Heist movies, the twistier the better.", {("like", "heist", "user"), ("like", "plot twists", "user")}),
    ("Rewatched Jurassic Park last night, still amazing.",
     {("seen", "Jurassic Park (1993)", "user"), ("like", "Jurassic Park (1993)", "user")}),
    ("Finally saw Parasite. Wow.", {("seen", "Parasite (2019)", "user"), ("like", "Parasite (2019)", "user")}),
    ("Heat, Collateral, Thief: Michael Mann is the best. More of that please.",
     {("like", "Heat (1995)", "user"), ("like", "Michael Mann", "user")}),
    # seen that often is a like too, unless someone else chose it
    ("Home Alone I've seen a hundred times.", {("seen", "Home Alone (1990)", "user"), ("like", "Home Alone (1990)", "user")}),
    ("Seen Frozen a hundred times thanks to my kids.", {("seen", "Frozen (2013)", "user")}),
    ("Binged all the Toy Story films.", {("seen", "Toy Story (1995)", "user"), ("like", "Toy Story (1995)", "user")}),
    ("We did Home Alone last night.", {("seen", "Home Alone (1990)", "user")}),
    # "something similar" likes the film named before it
    ("Just watched Memento. Anything similar?", {("seen", "Memento (2000)", "user"), ("like", "Memento (2000)", "user")}),
    ("Ya vi Amour, ¿algo parecido?", {("seen", "Amour (2012)", "user"), ("like", "Amour (2012)", "user")}),
    # idioms: a simile or someone else's push names no stance; a verdict after it does
    ("Every day feels like Groundhog Day lately.", set()),
    ("My sister keeps recommending Titanic. Ugh, no.", {("dislike", "Titanic (1997)", "user")}),
    ("We honeymooned in Casablanca, so I'm a sucker for anything set in Morocco.", set()),
])
def test_stances_in_new_wording(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


def test_fresh_batch_four_meets_the_issue_targets() -> None:
    """Batch 4 (its own file) is no clean measure any more: the extractor was changed after its first
    run (0.853 / 0.410, 2 inversions, 2 films invented); this keeps its causes fixed."""
    result = evaluate(FRESH4)
    assert result["messages"] >= 120
    assert result["overall"]["precision"] >= 0.95 and result["overall"]["recall"] >= 0.80
    assert not result["inversions"] and not result["invented"]


@pytest.mark.parametrize("message, expected", [
    # more verdict wording: any "-ly" adverb, an adjective inside "a ... treat", fr/de/es verdicts after a copula
    ("Ocean's Eleven is effortlessly cool.", {("like", "Ocean's Eleven (2001)", "user")}),
    ("Memento is a visual treat.", {("like", "Memento (2000)", "user")}),
    ("Hook is a total mess.", {("dislike", "Hook (1991)", "user")}),
    ("Hook hasn't aged well at all.", {("dislike", "Hook (1991)", "user")}),
    ("J'ai déjà vu Amélie, c'était charmant.", {("seen", "Amélie (2001)", "user"), ("like", "Amélie (2001)", "user")}),
    ("Ich habe Das Boot schon gesehen, war spannend.",
     {("seen", "Das Boot (1981)", "user"), ("like", "Das Boot (1981)", "user")}),
    ("I'm a huge Emma Stone fan.", {("like", "Emma Stone", "user")}),
    # stances as events and idioms
    ("I fell asleep during Interstellar.", {("dislike", "Interstellar (2014)", "user")}),
    ("I'd rather watch paint dry than sit through Titanic again.", {("dislike", "Titanic (1997)", "user")}),
    ("My son refuses to watch anything animated.", {("dislike", "Animation", "other")}),
    ("I loved Arrival, liked Interstellar, couldn't stand Gravity.",
     {("like", "Arrival (2016)", "user"), ("like", "Interstellar (2014)", "user"), ("dislike", "Gravity (2013)", "user")}),
    # "not much of a X person" is no like (it was read as one)
    ("Not much of a musical person.", {("dislike", "Musical", "user")}),
    # constraints and contexts
    ("Keep it under 90.", {("constraint", "at most 90 minutes", "user")}),
    ("Something under 90 bucks.", set()),
    ("Nothing that'll give the kids nightmares.", {("constraint", "not too scary", "user")}),
    ("No sex scenes, my mum is here.", {("constraint", "no explicit content", "user"), ("context", "watching with family", "user")}),
    ("Stuck on a 9 hour flight, entertain me.", {("context", "on a plane", "user")}),
    ("Just got home from a 10-hour flight, give me something dumb and fun.", {("like", "popcorn", "user")}),
    ("Algo de miedo pero sin sangre.", {("like", "Horror", "user"), ("constraint", "not too violent", "user")}),
    # slips in short words and lower-case surnames that are no English words
    ("i dont lik westerns", {("dislike", "Western", "user")}),
    ("nolan is overated", {("dislike", "Christopher Nolan", "user")}),
])
def test_more_new_wording(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


# Polarity inversions from blind batch 5's first run (one test per cause).
def _kinds(message: str) -> dict[str, str]:
    return {p.subject: p.kind for p in extract_preferences(message, title_lookup=fake_title_lookup, strict=True)}


@pytest.mark.parametrize("message, genre", [
    ("No me gustan nada las películas de guerra.", "War"),  # "nada" repeats the negation, it does not cancel it
    ("No quiero nada de terror.", "Horror"),
    ("I don't want no horror.", "Horror"),
])
def test_negative_concord_is_one_negation(message: str, genre: str) -> None:
    assert _kinds(message) == {genre: "dislike"}


def test_a_refusal_after_a_comma_does_not_inherit_the_stance_before_it() -> None:
    msg = ("I love Star Wars and Jurassic Park, so big adventure stuff is my jam. "
           "Not into slow arthouse dramas though, and please no Tarantino.")
    assert _kinds(msg)["Quentin Tarantino"] == "dislike"
    assert _kinds("I hate horror, no Tarantino.") == {"Horror": "dislike", "Quentin Tarantino": "dislike"}
    assert _kinds("I hate horror, except Alien.")["Alien (1979)"] == "like"  # an exception still reverses


def test_a_closing_negative_verdict_outweighs_a_mild_one() -> None:
    assert _kinds("Pulp Fiction was okay, nothing special.") == {"Pulp Fiction (1994)": "dislike"}


def test_but_title_is_special_reverses_the_stance_before_it() -> None:
    assert _kinds("I don't usually like animation, but Coco is special.") == {
        "Animation": "dislike", "Coco (2017)": "like"}


def test_a_closing_verdict_sentence_decides_a_mixed_review() -> None:
    msg = "La La Land had great songs but the story left me cold. Not for me."
    assert _kinds(msg) == {"La La Land (2016)": "dislike"}


@pytest.mark.parametrize("message, expected", [
    # new stance verbs and idioms
    ("My sister worships Tarantino.", {("like", "Quentin Tarantino", "other")}),
    ("My nephew is all about dinosaurs these days.", {("like", "dinosaurs", "other")}),
    ("I'd never say no to a good heist movie.", {("like", "heist", "user")}),
    ("Always happy with a decent thriller.", {("like", "Thriller", "user")}),
    ("My wife keeps quoting Fargo, I never understood the hype.",
     {("like", "Fargo (1996)", "other"), ("dislike", "Fargo (1996)", "user")}),
    ("Memento I couldn't even sit through.", {("dislike", "Memento (2000)", "user")}),
    # verdicts the lexicon lacked
    ("Alien is on a whole other level.", {("like", "Alien (1979)", "user")}),
    ("Heat is in a different league.", {("like", "Heat (1995)", "user")}),
    ("Gladiator was worth every penny.", {("like", "Gladiator (2000)", "user")}),
    ("Jaws lives up to the hype.", {("like", "Jaws (1975)", "user")}),
    ("Seven's final scene gives me goosebumps.", {("like", "Seven (1995)", "user")}),
    ("Inception was a bit of a mess, honestly.", {("dislike", "Inception (2010)", "user")}),
    ("Top Gun felt like style over substance.", {("dislike", "Top Gun (1986)", "user")}),
    ("Psycho is three hours of my life I'm never getting back.", {("dislike", "Psycho (1960)", "user")}),
    ("Musicals just aren't for me.", {("dislike", "Musical", "user")}),
    ("Westerns are my comfort zone.", {("like", "Western", "user")}),
    ("Casablanca is terrific.", {("like", "Casablanca (1942)", "user")}),
    ("Twister was clunky and dated.", {("dislike", "Twister (1996)", "user")}),
    ("Titanic sucks.", {("dislike", "Titanic (1997)", "user")}),
    ("Get Out sucks you in from the first scene.", set()),  # not a dislike
    ("Elf is dumb fun.", {("like", "Elf (2003)", "user")}),  # the theme is the verdict's wording
    ("Coco was precioso.", {("like", "Coco (2017)", "user")}),
    ("Der Film war der Hammer, Das Boot ist grandios.", {("like", "Das Boot (1981)", "user")}),
    ("Amour, c'était bouleversant.", {("like", "Amour (2012)", "user")}),
])
def test_batch_five_stance_patterns_in_other_words(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


@pytest.mark.parametrize("message, expected", [
    # who is watching, said as a pair ("me and my X", "X and I") only where the words name a viewing
    ("It's only me and my fiancee this evening.", {("context", "watching with partner", "user")}),
    ("Dad and I are watching tonight.", {("context", "watching with family", "user")}),
    ("Me and my daughter, tonight.", {("context", "watching with kids", "user")}),
    ("My husband and I love westerns.", {("like", "Western", "user")}),  # a stance, not a viewing
    ("My wife and I are watching with our two kids tonight.", {("context", "watching with kids", "user")}),
    ("Watching with my parents and my little nephews.",
     {("context", "watching with family", "user"), ("context", "watching with kids", "user")}),
    ("Ce soir entre potes.", {("context", "watching with friends", "user")}),
    ("Drei Kinder und ich, heute Abend.", {("context", "watching with kids", "user")}),
    # constraints in other words
    ("Something that came out this year.", {("constraint", "recent", "user")}),
    ("Anything from the past couple of years.", {("constraint", "recent", "user")}),
    ("I'd love a good old classic.", {("constraint", "classic", "user")}),
    ("No old black-and-white movies.", {("constraint", "recent", "user")}),
    ("Something happier, please.", {("constraint", "feel-good", "user")}),
    ("I need something to cheer me up.", {("constraint", "feel-good", "user")}),
    ("Keine Fortsetzungen.", {("constraint", "no sequels", "user")}),
    ("Nada de secuelas.", {("constraint", "no sequels", "user")}),
    ("Pas plus long que deux heures.", {("constraint", "at most 120 minutes", "user")}),
    ("Bitte nicht zu lang.", {("constraint", "not too long", "user")}),
    # themes and genres in other words
    ("Something medieval.", {("like", "swords and knights", "user")}),
    ("I want a film that makes you think.", {("like", "thought-provoking", "user")}),
    ("I love a twist at the end.", {("like", "plot twists", "user")}),
    ("Algo gracioso para hoy.", {("like", "Comedy", "user")}),
    ("Etwas Lustiges bitte.", {("like", "Comedy", "user")}),
    ("Everything Ghibli.", {("like", "Animation", "user")}),
    ("Something with plenty of action.", {("like", "Action", "user")}),
])
def test_batch_five_constraint_and_context_patterns_in_other_words(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


@pytest.mark.parametrize("message, expected", [
    # requests in other verbs; "Hook me up" is no film
    ("Hit me with a good western.", {("like", "Western", "user")}),
    ("Find me something with dinosaurs.", {("like", "dinosaurs", "user")}),
    ("Ready for a heist movie.", {("like", "heist", "user")}),
    ("My dad is a huge horror fan, mine is comedy.", {("like", "Horror", "other"), ("like", "Comedy", "user")}),
    ("I was into westerns once, these days it's mostly documentaries.", {("like", "Documentary", "user")}),
    # seen films not wanted again are no dislike
    ("Already watched Jaws and Alien, so skip them.", {("seen", "Jaws (1975)", "user"), ("seen", "Alien (1979)", "user")}),
    ("Finally got around to Casablanca.", {("seen", "Casablanca (1942)", "user")}),
    ("We tried Scream last weekend.", {("seen", "Scream (1996)", "user")}),
    ("I tried to find Scream online.", set()),
    # dislikes without a dislike verb
    ("My mum won't read subtitles.", {("constraint", "no subtitles", "user")}),
    ("I don't do horror.", {("dislike", "Horror", "user")}),
    ("Mein Sohn liebt Cars, ich kann ihn nicht mehr sehen.",
     {("like", "Cars (2006)", "other"), ("dislike", "Cars (2006)", "user")}),
    # a time of the viewing is no "used to"; "used to" still is
    ("Watched Jaws as a kid back in the day and loved it.", {("seen", "Jaws (1975)", "user"), ("like", "Jaws (1975)", "user")}),
    ("I used to love Titanic.", set()),
    # "you" as an object is no holder
    ("Up to you, but no westerns.", {("dislike", "Western", "user")}),
    ("Thank you, but no musicals.", {("dislike", "Musical", "user")}),
    # "both": the last two films named
    ("She wants Heat, I want Alien. I've seen both already.",
     {("like", "Heat (1995)", "other"), ("like", "Alien (1979)", "user"),
      ("seen", "Heat (1995)", "user"), ("seen", "Alien (1979)", "user")}),
    ("Kubrick really was something.", {("like", "Stanley Kubrick", "user")}),
    ("Everything Ghibli except Spirited Away.", {("like", "Animation", "user"), ("dislike", "Spirited Away (2001)", "user")}),
])
def test_batch_five_binding_patterns_in_other_words(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


@pytest.mark.parametrize("message, expected", [
    # people: surnames alone, a possessive without its apostrophe; lower-case words stay words
    ("Villeneuves films are way too slow for me.", {("dislike", "Denis Villeneuve", "user")}),
    ("Cage is a national treasure.", {("like", "Nicolas Cage", "user")}),
    ("Love anything with Mikkelsen.", {("like", "Mads Mikkelsen", "user")}),
    ("Tarkovsky puts me to sleep.", {("dislike", "Andrei Tarkovsky", "user")}),
    ("The dog walked out of the room.", set()),  # "walked" is no slip of "Walken", "room" no film
    ("I want something faster.", set()),  # "faster" is no slip of "Foster"
    # a verdict standing alone whose words name an attribute: the verdict, not a constraint
    ("Fincher? Too dark, every time.", {("dislike", "David Fincher", "user")}),
    ("Nothing too dark, please.", {("constraint", "not depressing", "user")}),
])
def test_batch_five_people_and_standing_verdicts(message: str, expected: set) -> None:
    assert triples(message, title_lookup=fake_title_lookup, strict=True) == expected


@pytest.mark.parametrize("message, titles", [
    # a title shortened to its opening words, where they name one title
    ("Reservoir is Tarantino's best.", ["Reservoir Dogs (1992)"]),
    ("Moonrise is so sweet.", ["Moonrise Kingdom (2012)"]),
    ("I loved Sleepless.", ["Sleepless in Seattle (1993)"]),
    ("Saving is a war film.", []),  # one word of under 7 letters is no shortened title
    ("My Moonrise Kingdom poster.", ["Moonrise Kingdom (2012)"]),
    # another language's article before a title
    ("J'ai adoré Les Intouchables.", ["The Intouchables (2011)"]),
    ("Der Pate ist ein Meisterwerk.", ["The Godfather (1972)"]),
])
def test_lookup_finds_shortened_titles_and_foreign_articles(message: str, titles: list[str]) -> None:
    assert [t for _, t, _, _ in fake_title_lookup(message)] == titles


def test_shortened_titles_need_a_title_like_position() -> None:
    from mrrec_chat.data.movielens import TitleIndex
    from mrrec_chat.data.schema import Dataset, Item
    items = {"a": Item("a", "December Boys (2007)", (), 2007), "b": Item("b", "Charlotte Gray (2001)", (), 2001),
             "c": Item("c", "Shawshank Redemption, The (1994)", (), 1994)}
    index = TitleIndex(Dataset("t", items))
    assert index.find_spans("Elf every December, no exceptions.") == []  # one word mid-sentence: a word
    assert index.find_spans("I watched it with Charlotte yesterday.") == []  # a given name
    assert [i for _, _, i in index.find_spans("Shawshank is the best.")] == ["c"]
    assert [i for _, _, i in index.find_spans("Loved Shawshank.")] == ["c"]


@pytest.mark.parametrize("message, subject, momentary", [
    ("no westerns tonight", "Western", True),
    ("Dramas are a bit heavy for tonight.", "Drama", True),
    ("Keinen Horror heute Abend bitte", "Horror", True),
    ("pas de western ce soir", "Western", True),
    ("I hate westerns", "Western", False),
    ("I hate horror, so nothing scary tonight", "Horror", False),  # hating lasts
    ("I never watch westerns, not tonight either", "Western", False),
    ("I don't like horror. What's on tonight?", "Horror", False),  # another sentence
])
def test_a_refusal_dated_to_this_evening_is_momentary(message, subject, momentary):
    [pref] = [p for p in extract_preferences(message) if p.kind == "dislike"]
    assert pref.subject == subject and pref.momentary is momentary
    assert ("not in the mood" in pref.text.lower()) is momentary


@pytest.mark.parametrize("message", ["why did you recommend Fargo?", "would you suggest Fargo?"])
def test_asking_about_the_assistants_own_pick_is_no_stance(message: str) -> None:
    assert extract_preferences(message) == []


def test_a_length_said_as_an_adjective_is_a_length_wish() -> None:
    said = {(p.kind, p.subject) for p in extract_preferences("a 90 minute comedy")}
    assert ("constraint", "at most 90 minutes") in said and ("like", "Comedy") in said


@pytest.mark.parametrize("message, expected", [
    # fresh batch 7 (written blind): a verdict with an adjective, a plural comfort film, the French
    # ligature, and a length the sentence refuses
    ("We watched Up last night, what a beautiful film",
     {("seen", "Up (2009)"), ("like", "Up (2009)")}),
    ("Big is one of my comfort films", {("like", "Big (1988)")}),
    ("Le Parrain est un chef-d'œuvre", {("like", "The Godfather (1972)")}),
    ("I hate it when films are over two hours", {("constraint", "at most 120 minutes")}),
    ("something over two hours, I love epics", {("constraint", "at least 120 minutes")}),
])
def test_fresh_batch_7_wordings(message, expected):
    said = {(p.kind, p.subject) for p in extract_preferences(message, title_lookup=fake_title_lookup, strict=True)}
    assert said == expected, said


def test_a_dated_title_the_catalog_lacks_is_still_the_film_it_refers_to() -> None:
    """A ReDial seeker: "a best comedy of 2017? I watched Girls Trip (2017). But I didn't like it"
    stored a dislike of comedy ("it" found no film, so it took the genre) and the list had no comedy."""
    got = triples("Can you recommend a comedy?\nI watched Girls Trip (2017) . But I didn't like it.",
                  title_lookup=fake_title_lookup)
    assert ("dislike", "Girls Trip (2017)", "user") in got and ("dislike", "Comedy", "user") not in got, got
    # the cue before it stays a cue: "Loved" is no word of the film's title
    assert triples("Loved Neram (2013) so much", title_lookup=fake_title_lookup) == {("like", "Neram (2013)", "user")}
    # a catalog title keeps its own match
    assert triples("I loved Heat (1995)", title_lookup=fake_title_lookup) == {("like", "Heat (1995)", "user")}
