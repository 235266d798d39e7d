"""Self-contained tests of the dataset loaders, title matching and benchmark case builders.

Every file these tests read is written to tmp_path here, so they run in a fresh clone; the
tests that read ../shared live in tests/shared/.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest

from mrrec_chat.data import (
    Dataset,
    DatasetError,
    Interaction,
    Item,
    TitleIndex,
    load_jsonl_dataset,
    load_jsonl_dataset_with_report,
    load_ml100k,
    load_movielens_csv,
    natural_title,
    normalise_title,
    split_title_year,
)
from mrrec_lab.eval.cases import BenchmarkCase, load_cases, load_jsonl_cases, save_cases
from mrrec_lab.eval.redial import build_redial_cases, has_content

REPO_ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, records: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return write(path, "\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- MovieLens files


def test_recbole_ml100k_reads_titles_years_and_multiword_genres(tmp_path: Path) -> None:
    write(tmp_path / "ml-100k.item",
          "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
          "1\tToy Story\t1995\tAnimation Children's Comedy\n"
          "12\tUsual Suspects, The\t1995\tCrime Film-Noir Sci-Fi\n"
          "267\tunkonwn\tunkonwn\tunknown\n")
    write(tmp_path / "ml-100k.inter",
          "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
          "196\t1\t3\t881250949\n186\t12\t5\t891717742\n186\t267\t4\t891717743\n")
    dataset = load_ml100k(tmp_path)
    assert dataset.items["1"] == Item("1", "Toy Story", ("Animation", "Children's", "Comedy"), 1995)
    assert dataset.items["12"].categories == ("Crime", "Film-Noir", "Sci-Fi")
    assert "267" not in dataset.items  # the placeholder item and its rating are dropped
    assert [x.item_id for x in dataset.interactions] == ["1", "12"]
    assert dataset.interactions[1] == Interaction("186", "12", 5.0, 891717742.0)


def test_grouplens_ml100k_reads_pipe_file_with_genre_flags(tmp_path: Path) -> None:
    flags = ["0"] * 19
    flags[3] = flags[4] = "1"  # Animation, Children's
    write(tmp_path / "u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(flags) + "\n")
    write(tmp_path / "u.data", "196\t1\t3\t881250949\n")
    dataset = load_ml100k(tmp_path)
    assert dataset.items["1"] == Item("1", "Toy Story", ("Animation", "Children's"), 1995)
    assert dataset.interactions == [Interaction("196", "1", 3.0, 881250949.0)]


def test_ml100k_without_files_says_which_files_it_needs(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="u.data"):
        load_ml100k(tmp_path)


def test_recbole_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "ml-100k.item",
          "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n1\tToy Story\t1995\tComedy\n")
    write(tmp_path / "ml-100k.inter",
          "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t1\t3\t5\n1\t1\tfive\t6\n")
    with pytest.raises(DatasetError, match=r"ml-100k.inter line 3"):
        load_ml100k(tmp_path)


def _write_latest_small(directory: Path) -> None:
    write(directory / "movies.csv",
          "movieId,title,genres\n"
          "6,Heat (1995),Action|Crime|Thriller\n"
          '11,"American President, The (1995)",Comedy|Drama|Romance\n'
          "2571,\"Matrix, The (1999)\",Action|Sci-Fi\n"
          "140956,Ready Player One,Action|Sci-Fi\n"
          "143410,Hyena Road,(no genres listed)\n"
          "150000,Some Series (2006–2007),Drama\n")
    write(directory / "ratings.csv",
          "userId,movieId,rating,timestamp\n1,6,4.5,964982703\n1,11,3.0,964981247\n2,6,0.5,964982224\n")
    write(directory / "tags.csv",
          "userId,movieId,tag,timestamp\n"
          "1,6,Pacino,1\n2,6,heist,2\n3,6,pacino,3\n4,6,De Niro,4\n5,6,Heist ,5\n6,6,pacino,6\n")


def test_latest_small_csv_splits_years_genres_and_ranks_tags(tmp_path: Path) -> None:
    _write_latest_small(tmp_path)
    dataset = load_movielens_csv(tmp_path)
    assert dataset.name == "ml-latest-small" and dataset.rating_scale == (0.5, 5.0)
    heat = dataset.items["6"]
    assert (heat.title, heat.year, heat.categories) == ("Heat", 1995, ("Action", "Crime", "Thriller"))
    assert heat.tags == ("pacino", "heist", "de niro")  # 3, 2, 1 uses; lowercased, deduplicated
    president = dataset.items["11"]
    assert (president.title, president.year) == ("American President, The", 1995)
    assert normalise_title(president.title) == "american president"
    assert dataset.items["140956"].year is None
    assert dataset.items["143410"].categories == ()
    assert dataset.items["150000"].year == 2006
    assert len(dataset.interactions) == 3 and dataset.interactions[0].rating == 4.5


def test_latest_small_without_ratings_file_raises_clear_error(tmp_path: Path) -> None:
    _write_latest_small(tmp_path)
    (tmp_path / "ratings.csv").unlink()
    with pytest.raises(DatasetError, match="ratings.csv"):
        load_movielens_csv(tmp_path)


# ----------------------------------------------------------------------------- JSONL format


def test_jsonl_dataset_loads_items_and_interactions(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "items.jsonl", [
        {"item_id": 1, "title": "Trail shoe", "categories": ["Shoes"], "year": 2021,
         "tags": ["light"], "description": "For mud."},
        {"item_id": "2", "title": "Rain jacket"},
    ])
    write_jsonl(tmp_path / "interactions.jsonl", [
        {"user_id": "u1", "item_id": "1", "rating": 4, "timestamp": 20, "review": "Grippy."},
        {"user_id": "u1", "item_id": 2, "rating": 2, "timestamp": 10},
    ])
    dataset = load_jsonl_dataset(tmp_path, name="shop")
    assert dataset.name == "shop"
    assert dataset.items["1"] == Item("1", "Trail shoe", ("Shoes",), 2021, ("light",), "For mud.")
    assert dataset.items["2"].categories == ()
    assert [x.item_id for x in dataset.history("u1")] == ["2", "1"]  # oldest first
    assert dataset.rating_scale == (1.0, 5.0)


def test_jsonl_malformed_line_names_file_line_and_fix(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "items.jsonl", [{"item_id": "1", "title": "A"}, "{oops", {"item_id": "3"}])
    write_jsonl(tmp_path / "interactions.jsonl", [])
    with pytest.raises(DatasetError, match=r"items.jsonl line 2: not valid JSON.*Fix"):
        load_jsonl_dataset(tmp_path)


def test_jsonl_missing_field_names_the_field(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "items.jsonl", [{"item_id": "1", "title": "A"}])
    write_jsonl(tmp_path / "interactions.jsonl", [{"user_id": "u", "item_id": "1"}])
    with pytest.raises(DatasetError, match=r"interactions.jsonl line 1: field 'rating'"):
        load_jsonl_dataset(tmp_path)


def test_jsonl_missing_file_is_an_error(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "items.jsonl", [{"item_id": "1", "title": "A"}])
    with pytest.raises(DatasetError, match="interactions.jsonl: file not found"):
        load_jsonl_dataset(tmp_path)


def test_jsonl_unknown_items_are_counted_skipped_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_jsonl(tmp_path / "items.jsonl", [{"item_id": "1", "title": "A"}])
    write_jsonl(tmp_path / "interactions.jsonl", [
        {"user_id": "u", "item_id": "1", "rating": 5},
        {"user_id": "u", "item_id": "gone", "rating": 1},
        {"user_id": "v", "item_id": "gone", "rating": 2},
    ])
    with caplog.at_level(logging.WARNING):
        dataset, report = load_jsonl_dataset_with_report(tmp_path)
    assert report.unknown_item_interactions == 2 and report.interactions == 1
    assert len(dataset.interactions) == 1
    assert "skipped 2 interactions" in caplog.text


# ----------------------------------------------------------------------------- titles


@pytest.mark.parametrize(("title", "expected"), [
    ("American President, The", "american president"),
    ("The American President (1995)", "american president"),
    ("Misérables, Les", "les miserables"),
    ("Schindler's List", "schindlers list"),
    ("Harold & Kumar Go to White Castle", "harold and kumar go to white castle"),
    ("Spider-Man", "spider man"),
    ("City of Lost Children, The (Cité des enfants perdus, La)",
     "city of lost children la cite des enfants perdus"),
    ("Kill Bill: Vol. 1", "kill bill 1"),
    ("Rocky II", "rocky 2"),
])
def test_normalise_title(title: str, expected: str) -> None:
    assert normalise_title(title) == expected


def test_split_title_year_and_natural_title() -> None:
    assert split_title_year("Police Academy  (1984)") == ("Police Academy", 1984)
    assert split_title_year("American Pie ") == ("American Pie", None)
    assert split_title_year("1984") == ("1984", None)
    assert natural_title("American President, The") == "The American President"
    assert natural_title("Appartement, L'") == "L'Appartement"


def _catalog() -> Dataset:
    items = [
        Item("6", "Heat", year=1995), Item("7", "Heat", year=1986),
        Item("2571", "Matrix, The", year=1999), Item("11", "American President, The", year=1995),
        Item("2", "It", year=1990), Item("3", "Up", year=2009),
        Item("260", "Star Wars: Episode IV - A New Hope", year=1977),
        Item("750", "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb", year=1964),
        Item("47", "Seven (a.k.a. Se7en)", year=1995), Item("9", "Halloween", year=1978),
        Item("27773", "Old Boy", year=2003), Item("140956", "Ready Player One"),
    ]
    ratings = [Interaction("u", "6", 5.0), Interaction("v", "6", 4.0), Interaction("u", "7", 3.0)]
    return Dataset("tiny", {i.item_id: i for i in items}, ratings)


def test_title_lookup_prefers_exact_year_and_refuses_ambiguity() -> None:
    index = TitleIndex(_catalog())
    assert index.lookup("Heat", 1986) == "7"
    assert index.lookup("Heat (1995)") == "6"
    assert index.lookup("Heat (1996)") == "6"  # sources disagree by a year
    assert index.lookup("Heat") is None  # two films, no year: ambiguous
    assert index.lookup("The Matrix") == "2571"  # unique title, no year
    assert index.lookup("American President, The", 1995) == "11"
    assert index.lookup("Halloween (2018)") is None  # a remake is not the original
    assert index.lookup("Star Wars (1977)") == "260"
    assert index.lookup("Dr. Strangelove (1964)") == "750"
    assert index.lookup("Se7en (1995)") == "47"
    assert index.lookup("Oldboy (2003)") == "27773"
    assert index.lookup("Ready Player One (2018)") == "140956"  # catalog item has no year
    assert index.lookup("Nonexistent Film (2001)") is None


def test_a_possessive_the_title_lacks_names_another_film() -> None:
    """A ReDial seeker's "Something like Ocean's 8 (2018)" matched the documentary "Oceans (Océans)",
    whose neighbours (Sicko, Super Size Me) filled a list asked to be fun."""
    items = [Item("o", "Oceans (Océans)", year=2009), Item("e", "Ocean's Eleven", year=2001), Item("h", "Heat", year=1995)]
    index = TitleIndex(Dataset("tiny", {i.item_id: i for i in items}, []))
    assert index.find_mentions("Something like Ocean's 8 (2018) please") == []
    assert index.find_mentions("I loved Ocean's Eleven") == ["e"]
    assert index.find_mentions("a film about oceans: Oceans was lovely") == ["o"]
    assert index.find_mentions("Heat's ending") == ["h"]  # the possessive of a title is still the title


def test_dated_titles_and_subtitles_name_the_film_of_that_year() -> None:
    """ReDial seekers: "Fellowship of the Ring (2001)" matched *Ring, The (2002)*, "Avengers: Infinity
    War (2018)" matched *Avengers, The (2012)*, "i'm the seeker" matched *Seeker: The Dark Is Rising*."""
    items = [Item("r", "Ring, The", year=2002), Item("f", "Lord of the Rings: The Fellowship of the Ring, The", year=2001),
             Item("a", "Avengers, The", year=2012), Item("i", "Avengers: Infinity War - Part I", year=2018),
             Item("s", "Seeker: The Dark Is Rising, The", year=2007), Item("b", "Black Panther", year=2017),
             Item("h", "Halloween", year=1978)]
    index = TitleIndex(Dataset("tiny", {i.item_id: i for i in items}, []))
    assert index.find_mentions("movies like Fellowship of the Ring (2001) because I loved it") == ["f"]
    assert index.find_mentions("Black Panther (2018) and Avengers: Infinity War (2018)") == ["b", "i"]
    assert index.find_mentions("I loved The Avengers (2012) and The Ring") == ["a", "r"]
    assert index.find_mentions("you are the recommender and i'm the seeker") == []


def test_find_mentions_in_free_text() -> None:
    index = TitleIndex(_catalog())
    assert index.find_mentions("I loved Heat and The Matrix") == ["6", "2571"]
    assert index.find_mentions("i loved heat 1986 and the matrix, the american president too") == ["7", "2571", "11"]
    # Short common words are not titles unless written like one mid-sentence.
    assert index.find_mentions("It was up to me. Up next: anything") == []
    assert index.find_mentions("My kids adore Up") == ["3"]
    assert index.find_mentions("I LOVED IT AND UP") == []
    # The longest title wins over a shorter one inside it.
    assert index.find_mentions("star wars episode iv a new hope, twice") == ["260"]


def _fake_spans(text: str) -> list[tuple[str, str]]:
    """(text of the span, title) of each title `find_spans` names over the extractor's fake catalog."""
    from mrrec_lab.extract_eval import fake_title_lookup
    return [(text[start:end], title.rsplit(" (", 1)[0]) for _, title, start, end in fake_title_lookup(text)]


def test_a_match_does_not_run_across_punctuation_the_title_lacks() -> None:
    # "part 3" after a comma is its own phrase, not the rest of "The Godfather: Part III".
    assert _fake_spans("Loved The Godfather, part 3 was bad") == [("The Godfather", "The Godfather")]
    assert _fake_spans("The Godfather; Part III next") == [("The Godfather", "The Godfather")]
    assert _fake_spans("Loved Heat. Fight Club next") == [("Heat", "Heat"), ("Fight Club", "Fight Club")]
    # Punctuation that the title itself has, or none at all, still matches.
    assert _fake_spans("I loved The Godfather: Part III") == [("The Godfather: Part III", "The Godfather: Part III")]
    assert _fake_spans("I loved The Godfather Part III") == [("The Godfather Part III", "The Godfather: Part III")]
    assert _fake_spans("Kill Bill: Vol. 1 rocks") == [("Kill Bill: Vol. 1", "Kill Bill: Vol. 1")]
    assert _fake_spans("Kill Bill Vol. 1 rocks") == [("Kill Bill Vol. 1", "Kill Bill: Vol. 1")]


@pytest.mark.parametrize("message, titles", [
    # A sentence's first word, capitalised anyway, followed by what a title does: a verb with its
    # object, a frequency ("every Christmas"), a phrase and then a copula, another title, a copula
    # of another language.
    ("Signs creeped me out, in a bad way.", ["Signs"]),
    ("Elf every Christmas", ["Elf"]),
    ("Elf every December, no exceptions.", ["Elf"]),
    ("Seven and Heat", ["Seven", "Heat"]),
    ("Seven and Fight Club: Fincher at his darkest and best.", ["Seven", "Fight Club"]),
    ("Gravity on a big screen was unreal.", ["Gravity"]),
    ("Volver es preciosa", ["Volver"]),
    ("Volver es una de mis películas favoritas.", ["Volver"]),
    # Short words that cannot be a sentence's subject (object pronouns, "up"), before a verb.
    ("Her is lovely", ["Her"]),
    ("Her is one of my favourites.", ["Her"]),
    ("Up was so sad", ["Up"]),
    ("Us scared me", ["Us"]),
    ("Us was way scarier than I wanted, not my thing.", ["Us"]),
    ("Her and Up are my favourites.", ["Her", "Up"]),
])
def test_a_title_opening_a_sentence_is_read_from_what_follows(message: str, titles: list[str]) -> None:
    assert [title for _, title in _fake_spans(message)] == titles


@pytest.mark.parametrize("message, titles", [
    ("I want something like her", []),
    ("Comedies always cheer me up.", []),
    ("Nothing too sad please", []),
    ("Nothing was good tonight.", []),
    ("Nothing and nobody scares me.", []),
    ("It was fine", []),
    ("It was up to me. Up next: anything", []),
    ("Us too!", []),
    ("Up for anything tonight.", []),
    ("Up until now I hated westerns.", []),
    ("Her husband loved Heat.", ["Heat"]),
    ("Her wicked stepmother was the worst.", []),
    ("Her beloved dog dies in that one.", []),
    ("Signs pointed to a twist.", []),
    ("Mother loved it.", []),
    ("Brave enough for horror today.", []),
    ("Big fan of Spielberg.", []),
    ("Speed dating movies?", []),
    ("Seven hundred films later, still no favourite.", []),
    ("Crash landed on the couch, need something light.", []),
    ("Drive to work was long, need a comedy.", []),
])
def test_a_common_word_opening_a_sentence_is_not_a_title(message: str, titles: list[str]) -> None:
    assert [title for _, title in _fake_spans(message)] == titles


def test_find_mentions_finds_a_title_among_ten_thousand() -> None:
    # (its speed is `python -m mrrec_lab.bench`'s to measure, not a wall-clock assertion here)
    rng = random.Random(7)
    vocabulary = [f"w{n}" for n in range(3000)]
    items = {
        str(n): Item(str(n), " ".join(rng.choices(vocabulary, k=rng.randint(1, 6))), year=1950 + n % 70)
        for n in range(10_000)
    }
    index = TitleIndex(Dataset("big", items))
    text = " ".join(rng.choices(vocabulary, k=300)) + " " + items["42"].title
    found = index.find_mentions(text)
    assert items["42"].title in {items[i].title for i in found}


@pytest.mark.parametrize("title, others", [
    ("Die Hard", {"Die Hard 2", "Die Hard: With a Vengeance"}),
    ("Star Wars", {"Empire Strikes Back, The", "Return of the Jedi", "Star Wars: Episode I - The Phantom Menace"}),
    ("Star Trek: First Contact", {"Star Trek VI: The Undiscovered Country"}),
    ("Big", set()),  # "Big Night" is no sequel
    ("Heat", set()),
])
def test_a_titles_series_is_found_by_its_name_before_a_colon_or_number(title, others) -> None:
    titles = ["Die Hard", "Die Hard 2", "Die Hard: With a Vengeance", "Star Wars", "Empire Strikes Back, The",
              "Return of the Jedi", "Star Wars: Episode I - The Phantom Menace", "Star Trek: First Contact",
              "Star Trek VI: The Undiscovered Country", "Big", "Big Night", "Heat", "Heathers"]
    items = {str(n): Item(str(n), t, year=1980 + n) for n, t in enumerate(titles)}
    index = TitleIndex(Dataset("series", items))
    assert {items[i].title for i in index.series(str(titles.index(title)))} == others


# ----------------------------------------------------------------------------- benchmark cases


def test_benchmark_case_round_trips_through_jsonl(tmp_path: Path) -> None:
    case = BenchmarkCase(
        case_id="c1", user_id="u", request="Something like Heat", ground_truth=["6"],
        memory_interactions=[Interaction("u", "7", 3.0, 9.0, "ok")],
        memory_statements=["I like heists"], cold_start=False, conversation_id="10",
    )
    save_cases([case], tmp_path / "cases.jsonl")
    assert load_cases(tmp_path / "cases.jsonl") == [case]
    assert BenchmarkCase.from_dict(json.loads(json.dumps(case.to_dict()))) == case


def test_jsonl_cases_take_memory_from_before_the_request(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "items.jsonl", [{"item_id": str(n), "title": f"T{n}"} for n in range(1, 5)])
    write_jsonl(tmp_path / "interactions.jsonl", [
        {"user_id": "u", "item_id": "1", "rating": 5, "timestamp": 10},
        {"user_id": "u", "item_id": "2", "rating": 4, "timestamp": 30},
        {"user_id": "w", "item_id": "3", "rating": 4, "timestamp": 5},
    ])
    write_jsonl(tmp_path / "requests.jsonl", [
        {"case_id": "a", "user_id": "u", "request": "more", "ground_truth": ["2"], "timestamp": 20},
        {"case_id": "b", "user_id": "w", "request": "again", "ground_truth": ["3"]},
        {"case_id": "c", "user_id": "new", "request": "hello there", "ground_truth": ["4"]},
    ])
    a, b, c = load_jsonl_cases(tmp_path)
    assert [x.item_id for x in a.memory_interactions] == ["1"] and not a.cold_start
    assert b.memory_interactions == [] and b.cold_start  # its only interaction is the answer
    assert c.cold_start and c.ground_truth == ["4"]


def test_jsonl_cases_reject_unknown_ground_truth(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "items.jsonl", [{"item_id": "1", "title": "T"}])
    write_jsonl(tmp_path / "interactions.jsonl", [])
    write_jsonl(tmp_path / "requests.jsonl", [{"case_id": "a", "user_id": "u", "request": "x", "ground_truth": ["9"]}])
    with pytest.raises(DatasetError, match=r"requests.jsonl line 1: ground_truth ids \['9'\]"):
        load_jsonl_cases(tmp_path)


# ----------------------------------------------------------------------------- ReDial builder


def test_has_content_separates_small_talk_from_requests() -> None:
    assert not has_content("Hello there! How are you?")
    assert not has_content("Good and yourself?")
    assert has_content("I like comedies")
    assert has_content("@12345")


def _tiny_movielens() -> Dataset:
    items = [Item("1", "Matrix, The", year=1999), Item("2", "Heat", year=1995),
             Item("3", "Toy Story", year=1995), Item("4", "American President, The", year=1995)]
    return Dataset("tiny-ml", {i.item_id: i for i in items})


def _dialogue(conversation: str, seeker: int, recommender: int, titles: dict[str, str],
              messages: list[tuple[int, str]], seeker_questions: object,
              recommender_questions: object = None) -> dict[str, object]:
    return {
        "conversationId": conversation, "initiatorWorkerId": seeker, "respondentWorkerId": recommender,
        "movieMentions": titles,
        "messages": [{"senderWorkerId": s, "text": t, "messageId": n} for n, (s, t) in enumerate(messages)],
        "initiatorQuestions": seeker_questions,
        "respondentQuestions": recommender_questions if recommender_questions is not None else {},
    }


def _q(suggested: int, seen: int, liked: int) -> dict[str, int]:
    return {"suggested": suggested, "seen": seen, "liked": liked}


@pytest.fixture
def tiny_redial(tmp_path: Path) -> Path:
    titles = {"101": "The Matrix (1999)", "102": "Heat  (1995)", "103": "Toy Story (1995)",
              "104": "The American President (1995)", "105": "Some Unknown Film (2018)"}
    later = _dialogue(  # conversation 10 is written first but happens after conversation 9
        "10", 10, 21, {k: titles[k] for k in ("103", "104")},
        [(10, "Hi, I need a comedy about politics, not like @103"), (21, "@104 is great"), (10, "ok")],
        [], {"104": _q(1, 0, 1), "103": _q(0, 1, 0)},
    )
    earlier = _dialogue(
        "9", 10, 20, {k: titles[k] for k in ("101", "102", "103")},
        [(10, "Hello!"), (10, "I want something like @101"), (20, "Have you seen @102?"),
         (10, "No. Is @102 good?"), (20, "Also @103"), (10, "Thanks, bye")],
        {"101": _q(0, 1, 1), "102": _q(1, 0, 1), "103": _q(1, 1, 0)},
    )
    greeting_only = _dialogue("11", 11, 20, {"103": titles["103"]},
                              [(11, "hi"), (20, "how about @103")], {"103": _q(1, 0, 1)})
    no_questionnaire = _dialogue("12", 11, 20, {}, [(11, "I like westerns")], {}, [])
    unmatched = _dialogue("13", 11, 20, {"105": titles["105"]},
                          [(11, "I like westerns"), (20, "Try @105")], {"105": _q(1, 0, 1)})
    never_recommended = _dialogue("14", 12, 20, {"102": titles["102"]},
                                  [(12, "Any thrillers?"), (20, "What do you like?"), (12, "@102")],
                                  {"102": _q(1, 1, 1)})
    path = tmp_path / "dialogues.jsonl"
    write_jsonl(path, [later, earlier, "{not json", {"conversationId": "15"}, greeting_only,
                       no_questionnaire, unmatched, never_recommended])
    return path


def test_redial_builder_on_hand_made_dialogues(tiny_redial: Path) -> None:
    cases, report = build_redial_cases(tiny_redial, _tiny_movielens())
    first, second = cases  # ordered by numeric conversation id: 9 before 10
    assert first == BenchmarkCase(
        case_id="redial-9", user_id="redial-10", request="Hello!\nI want something like The Matrix (1999)",
        ground_truth=["2"], memory_interactions=[], memory_statements=[], cold_start=True,
        conversation_id="9",
    )
    assert second == BenchmarkCase(
        case_id="redial-10", user_id="redial-10",
        request="Hi, I need a comedy about politics, not like Toy Story (1995)",
        ground_truth=["4"],
        memory_interactions=[
            Interaction("redial-10", "1", 5.0, 9.0, "I want something like The Matrix (1999)"),
            Interaction("redial-10", "2", 5.0, 9.0, "Is Heat (1995) good?"),
            Interaction("redial-10", "3", 1.0, 9.0, ""),
        ],
        memory_statements=["I want something like The Matrix (1999)", "No. Is Heat (1995) good?"],
        cold_start=False, conversation_id="10",
    )
    assert (report.dialogues_read, report.malformed_lines) == (6, 2)
    assert (report.no_questionnaire, report.no_recommendation, report.empty_requests) == (1, 1, 1)
    assert (report.no_ground_truth, report.no_ground_truth_unmatched) == (1, 1)
    assert report.questionnaire_fallbacks == 1
    assert (report.cases, report.cold_start_cases, report.warm_cases) == (2, 1, 1)
    assert (report.mentions_total, report.mentions_matched) == (8, 7)
    assert (report.ground_truth_total, report.ground_truth_matched) == (3, 2)
    assert report.match_rate == pytest.approx(7 / 8)


def test_redial_every_dialogue_is_accounted_for(tiny_redial: Path) -> None:
    cases, report = build_redial_cases(tiny_redial, _tiny_movielens())
    dropped = (report.duplicate_dialogues + report.no_questionnaire + report.no_recommendation
               + report.empty_requests + report.no_ground_truth)
    assert report.dialogues_read == len(cases) + dropped


def test_redial_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="file not found"):
        build_redial_cases(tmp_path / "absent.jsonl", _tiny_movielens())


def test_ground_truth_named_in_the_request_is_removed(tmp_path: Path) -> None:
    dialogue = _dialogue("1", 1, 2, {"101": "The Matrix (1999)", "102": "Heat (1995)"},
                         [(1, "Is @101 any good? I want heists"), (2, "@101 or @102")],
                         {"101": _q(1, 1, 1), "102": _q(1, 0, 1)})
    path = write_jsonl(tmp_path / "d.jsonl", [dialogue])
    cases, report = build_redial_cases(path, _tiny_movielens())
    assert cases[0].ground_truth == ["2"] and report.ground_truth_removed_in_request == 1


def test_repo_root_is_the_package_parent() -> None:
    assert (REPO_ROOT / "mrrec_chat" / "data" / "schema.py").is_file()
