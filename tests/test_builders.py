"""Memory builders are faithful: every claim is computed from the user's own ratings."""

from __future__ import annotations

from mrrec_chat.memory.builders import (behavior_records, build_user_memory, global_memory,
                                        preference_patterns, user_profile)


def test_behavior_records_one_per_rating(tiny_dataset):
    history = tiny_dataset.history("alice")
    records = behavior_records(tiny_dataset, "alice", history)
    assert len(records) == len(history)
    heat = next(r for r in records if r.extra["item_id"] == "1")
    assert heat.text.startswith("Rated Heat (1995) 5/5") and heat.memory_id == "b:tiny-movies:alice:1"


def test_patterns_only_name_titles_with_matching_ratings(tiny_dataset):
    ratings = {i.item_id: i.rating for i in tiny_dataset.history("alice")}
    titles = {tiny_dataset.items[i].display_title: r for i, r in ratings.items()}
    for entry in preference_patterns(tiny_dataset, "alice", tiny_dataset.history("alice")):
        named = [t for t in titles if t in entry.text]
        if entry.extra["part"] == "likes":
            assert named and all(titles[t] >= 4 for t in named)
        if entry.extra["part"] == "dislikes":
            assert named and all(titles[t] <= 2 for t in named)
    crime = [e for e in preference_patterns(tiny_dataset, "alice", tiny_dataset.history("alice"))
             if e.category == "Crime" and e.extra["part"] == "likes"]
    assert crime and "Heat (1995)" in crime[0].text


def test_profile_reflects_favourites_and_dislikes(tiny_dataset):
    text = " ".join(e.text for e in user_profile(tiny_dataset, "alice", tiny_dataset.history("alice")))
    assert "Crime" in text.split("least liked")[0]
    assert "Horror" in text.split("least liked")[1]
    assert "The Shining" not in text  # rated 1: never a favourite


def test_build_user_memory_has_three_levels(tiny_dataset):
    levels = {e.level for e in build_user_memory(tiny_dataset, "bob")}
    assert levels == {"behavior", "pattern", "profile"}


def test_global_memory_names_no_user_and_no_single_rating(tiny_dataset):
    entries = global_memory(tiny_dataset, min_support=2)
    assert entries, "the tiny dataset has enough ratings for some categories"
    for entry in entries:
        assert entry.level == "global" and entry.user_id == "__global__"
        for user in ("alice", "bob", "carol"):
            assert user not in entry.text
