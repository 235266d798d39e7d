"""Tests for mrrec_chat.agent.parser: realistic broken policy outputs and a random fuzz loop.

The cases imitate what a 135M model actually produces (truncation, loops, wrong keys, prose
around the JSON, hallucinated tool output). Each asserts parsed values, not just "no crash".
"""

from __future__ import annotations

import random
import time

import pytest

from mrrec_chat.agent.parser import (
    MAX_PROFILE_CHARS,
    MAX_QUERY_CHARS,
    MAX_THOUGHT_CHARS,
    FinalAnswer,
    ParsedStep,
    extract_memory_ids,
    parse_step,
)

B1 = "b:ml-100k:196:242"
B2 = "b:ml-100k:196:302"
P1 = "p:ml-100k:196:Crime:likes"
U1 = "u:ml-100k:196:0"
G1 = "g:ml-100k:Horror:era"
C1 = "c:ml-100k:new-3f2a:7f3e2c"


def _answer(step: ParsedStep) -> FinalAnswer:
    assert step.action == "answer", (step.action, step.problems, step.thought)
    assert step.answer is not None
    assert step.queries == []
    return step.answer


def _assert_well_typed(step: ParsedStep) -> None:
    assert isinstance(step, ParsedStep)
    assert isinstance(step.thought, str) and len(step.thought) <= MAX_THOUGHT_CHARS
    assert step.action in ("search", "answer", "none")
    assert isinstance(step.queries, list) and all(isinstance(q, str) and q for q in step.queries)
    assert all(len(q) <= MAX_QUERY_CHARS for q in step.queries)
    assert isinstance(step.problems, list) and all(isinstance(p, str) for p in step.problems)
    if step.action == "search":
        assert step.queries and step.answer is None
    elif step.action == "answer":
        assert isinstance(step.answer, FinalAnswer) and not step.queries
        assert isinstance(step.answer.ideal_item_profile, str)
        assert step.answer.ideal_item_profile.strip()
        assert len(step.answer.ideal_item_profile) <= MAX_PROFILE_CHARS
        assert all(isinstance(i, str) for i in step.answer.useful_memory_ids)
    else:
        assert step.answer is None and step.queries == []
    # The output must be safe to encode (tokenizer, JSON logs, Chroma).
    step.thought.encode("utf-8")
    for q in step.queries:
        q.encode("utf-8")
    if step.answer is not None:
        step.answer.ideal_item_profile.encode("utf-8")


# ---- well-formed protocol ----------------------------------------------------------------

def test_clean_search_step():
    step = parse_step("<think>The user rated crime films highly.</think>\n"
                      "<search>1990s crime thrillers; heist movies with twists</search>")
    assert step.action == "search"
    assert step.queries == ["1990s crime thrillers", "heist movies with twists"]
    assert step.thought == "The user rated crime films highly."
    assert step.answer is None
    assert step.problems == []


def test_clean_answer_step():
    text = ('<think>Enough evidence.</think>\n<answer>{"ideal_item_profile": "A tense 1990s '
            f'crime thriller", "useful_memory_ids": ["{P1}", "{B1}"]}}</answer>')
    step = parse_step(text)
    answer = _answer(step)
    assert answer.ideal_item_profile == "A tense 1990s crime thriller"
    assert answer.useful_memory_ids == [P1, B1]
    assert step.thought == "Enough evidence."
    assert step.problems == []


# ---- search repairs ----------------------------------------------------------------------

def test_search_missing_close_tag_and_newline_separated_duplicates():
    step = parse_step("<think>hmm</think><search>Heist movies\nheist movies  \n\n; noir\n")
    assert step.action == "search"
    assert step.queries == ["Heist movies", "noir"]
    assert "missing </search>" in step.problems
    assert "duplicate queries removed" in step.problems


def test_search_caps_number_and_length_of_queries():
    long_query = "slow burn " * 60
    step = parse_step(f"<search>a one; b two; c three; d four; {long_query}</search>",
                      max_queries=2)
    assert step.queries == ["a one", "b two"]
    assert any("kept the first 2" in p for p in step.problems)
    step = parse_step(f"<search>{long_query}</search>")
    assert len(step.queries) == 1
    assert 0 < len(step.queries[0]) <= MAX_QUERY_CHARS
    assert step.queries[0].startswith("slow burn slow burn")


def test_search_numbered_bullets_labels_and_quotes():
    step = parse_step('<search>1. "horror films"\n- Query: slashers\n* zombies</search>',
                      max_queries=5)
    assert step.queries == ["horror films", "slashers", "zombies"]


def test_search_json_list_and_object_payloads():
    assert parse_step('<search>["noir detective", "femme fatale"]</search>').queries == [
        "noir detective", "femme fatale"]
    assert parse_step('<search>{"query": "space opera"}</search>').queries == ["space opera"]


def test_search_line_fallback_without_tags():
    step = parse_step("I should look at the memory first.\nSearch: 1980s horror; slasher films\n")
    assert step.action == "search"
    assert step.queries == ["1980s horror", "slasher films"]
    assert step.thought == "I should look at the memory first."
    assert "used 'Search:' line" in step.problems


def test_search_call_fallback_without_tags():
    step = parse_step('<think>Need data.</think> search("romantic comedies", query2="paris")')
    assert step.action == "search"
    assert step.queries == ["romantic comedies", "paris"]
    assert step.thought == "Need data."


def test_search_word_inside_think_or_prose_is_not_an_action():
    assert parse_step("<think>Plan:\nSearch: horror</think>").action == "none"
    assert parse_step("I will search (again) later.").action == "none"
    assert parse_step("I did some research(\"x\") before").action == "none"


def test_empty_search_falls_through_to_next_action():
    step = parse_step('<search> ; \n </search><answer>{"profile": "Back-up plan"}</answer>')
    assert _answer(step).ideal_item_profile == "Back-up plan"
    assert "unusable <search> ignored" in step.problems


def test_unclosed_think_then_search():
    step = parse_step("<think>the user likes gore <search>splatter films</search>")
    assert step.queries == ["splatter films"]
    assert step.thought == "the user likes gore"
    assert "missing </think>" in step.problems


def test_mixed_language_search_with_fullwidth_semicolon():
    text = "<think>用户喜欢恐怖片。</think><search>日本恐怖片；ghost stories</search>"
    step = parse_step(text)
    assert step.queries == ["日本恐怖片", "ghost stories"]
    assert step.thought == "用户喜欢恐怖片。"


# ---- answer repairs ----------------------------------------------------------------------

def test_answer_in_code_fence_with_trailing_comma_and_missing_close():
    text = ('<think>ok</think><answer>\n```json\n{"ideal_item_profile": "A heist caper",\n'
            f' "useful_memory_ids": ["{B1}",],}}\n```\n')
    step = parse_step(text)
    answer = _answer(step)
    assert answer.ideal_item_profile == "A heist caper"
    assert answer.useful_memory_ids == [B1]
    assert "missing </answer>" in step.problems
    assert "code fence around answer" in step.problems


def test_answer_single_quotes_with_apostrophe():
    text = (f"<answer>{{'ideal_item_profile': 'A 90's crime film', "
            f"'useful_memory_ids': ['{B1}']}}</answer>")
    answer = _answer(parse_step(text))
    assert answer.ideal_item_profile == "A 90's crime film"
    assert answer.useful_memory_ids == [B1]


def test_truncated_json_in_profile_is_repaired():
    step = parse_step('<think>ok</think><answer>{"ideal_item_profile": "A tense 1990s crime thri')
    assert _answer(step).ideal_item_profile == "A tense 1990s crime thri"
    assert "truncated JSON repaired" in step.problems


def test_truncated_json_in_id_list_keeps_complete_ids():
    step = parse_step(f'<answer>{{"ideal_item_profile": "Noir", "useful_memory_ids": '
                      f'["{B1}", "p:ml-10')
    answer = _answer(step)
    assert answer.ideal_item_profile == "Noir"
    assert answer.useful_memory_ids == [B1]
    assert "truncated JSON repaired" in step.problems


def test_nested_braces_inside_profile_string():
    text = ('<answer>{"ideal_item_profile": "A {heist} film where } and { appear", '
            f'"useful_memory_ids": ["{B1}"]}}</answer>')
    answer = _answer(parse_step(text))
    assert answer.ideal_item_profile == "A {heist} film where } and { appear"
    assert answer.useful_memory_ids == [B1]


@pytest.mark.parametrize("profile_key,ids_key", [
    ("profile", "memory_ids"),
    ("ideal_profile", "useful_memories"),
    ("item_profile", "useful_memory_ids"),
    ("Ideal Item Profile", "Memory IDs"),
])
def test_key_variants(profile_key, ids_key):
    text = f'<answer>{{"{profile_key}": "Quiet drama", "{ids_key}": ["{U1}"]}}</answer>'
    answer = _answer(parse_step(text))
    assert answer.ideal_item_profile == "Quiet drama"
    assert answer.useful_memory_ids == [U1]


def test_ids_as_single_and_comma_joined_strings():
    answer = _answer(parse_step(f'<answer>{{"profile": "Drama", "memory_ids": "{G1}"}}</answer>'))
    assert answer.useful_memory_ids == [G1]
    step = parse_step(f'<answer>{{"profile": "Drama", "memory_ids": "{B1}, {P1},{C1}"}}</answer>')
    assert _answer(step).useful_memory_ids == [B1, P1, C1]
    assert "memory ids given as one string" in step.problems


def test_non_id_entries_are_dropped_and_ids_deduped():
    text = (f'<answer>{{"profile": "Drama", "useful_memory_ids": ["242", "[{B1}]", "{B1}", '
            f'"crime likes", {{"id": "{B2}"}}]}}</answer>')
    step = parse_step(text)
    assert _answer(step).useful_memory_ids == [B1, B2]
    assert "dropped 2 non-memory-id entries" in step.problems


def test_wrapped_answer_object():
    text = f'<answer>{{"answer": {{"item_profile": "Wrapped thriller", "ids": ["{U1}"]}}}}</answer>'
    answer = _answer(parse_step(text))
    assert answer.ideal_item_profile == "Wrapped thriller"
    assert answer.useful_memory_ids == [U1]


def test_prose_before_and_after_json_inside_answer():
    text = ('<think>Done.</think><answer>Sure! Here is the JSON you asked for:\n'
            f'{{"ideal_item_profile": "Feel-good sports comedy", "useful_memory_ids": ["{B2}"]}}\n'
            'Hope this helps!</answer>\nThank you for watching.')
    step = parse_step(text)
    answer = _answer(step)
    assert answer.ideal_item_profile == "Feel-good sports comedy"
    assert answer.useful_memory_ids == [B2]
    assert "ignored text after the answer" in step.problems


def test_ids_outside_json_are_used_when_json_has_none():
    text = ('<answer>{"ideal_item_profile": "Gothic horror"}\nUseful: '
            f'{G1}, {P1}.</answer> and also {B1}')
    step = parse_step(text)
    assert _answer(step).useful_memory_ids == [G1, P1, B1]
    assert "memory ids taken from outside the JSON" in step.problems


def test_ids_outside_json_are_used_when_json_ids_are_all_invalid():
    step = parse_step('<answer>{"ideal_item_profile": "Gothic horror", '
                      f'"useful_memory_ids": ["242", "crime"]}} based on {P1}</answer>')
    assert _answer(step).useful_memory_ids == [P1]
    assert "dropped 2 non-memory-id entries" in step.problems


def test_explicit_empty_id_list_is_respected():
    answer = _answer(parse_step('<answer>{"ideal_item_profile": "Gothic horror", '
                                f'"useful_memory_ids": []}}</answer> see {B1}'))
    assert answer.useful_memory_ids == []


def test_bare_json_without_tags_counts_as_answer():
    text = ('<think>I know enough.</think>\nAnswer: ```json\n{"ideal_item_profile": "Space opera '
            f'with found family", "useful_memory_ids": ["{B1}"]}}\n```')
    step = parse_step(text)
    answer = _answer(step)
    assert answer.ideal_item_profile == "Space opera with found family"
    assert answer.useful_memory_ids == [B1]
    assert step.thought == "I know enough."
    assert "answer JSON without <answer> tags" in step.problems


def test_json_without_profile_key_and_no_tags_is_not_an_answer():
    step = parse_step('{"genre": "horror", "useful_memory_ids": ["b:ml-100k:1:2"]}')
    assert step.action == "none"


def test_answer_keys_without_braces():
    step = parse_step(f'<answer>"ideal_item_profile": "No braces", "useful_memory_ids": ["{B1}"]'
                      '</answer>')
    answer = _answer(step)
    assert answer.ideal_item_profile == "No braces"
    assert answer.useful_memory_ids == [B1]
    assert "missing braces around answer JSON" in step.problems


def test_plain_text_answer_uses_prose_as_profile():
    step = parse_step(f"<answer>A slow-burn romance set in Paris. Useful memory ids: {B1}, "
                      f"{P1}.</answer>")
    answer = _answer(step)
    assert answer.ideal_item_profile == "A slow-burn romance set in Paris."
    assert answer.useful_memory_ids == [B1, P1]
    assert "answer was plain text, not JSON" in step.problems


def test_curly_quotes_json():
    text = (f"<answer>{{“ideal_item_profile”: “Curly noir”, “useful_memory_ids”: [“{B1}”]}}"
            "</answer>")
    answer = _answer(parse_step(text))
    assert answer.ideal_item_profile == "Curly noir"
    assert answer.useful_memory_ids == [B1]


def test_empty_profile_is_not_an_answer():
    step = parse_step(f'<think>x</think><answer>{{"ideal_item_profile": "  ", '
                      f'"useful_memory_ids": ["{B1}"]}}</answer>')
    assert step.action == "none"
    assert step.answer is None
    assert "unusable <answer> ignored" in step.problems


def test_profile_is_capped():
    profile = " ".join(f"word{i}" for i in range(1000))
    step = parse_step(f'<answer>{{"ideal_item_profile": "{profile}"}}</answer>')
    answer = _answer(step)
    assert len(answer.ideal_item_profile) <= MAX_PROFILE_CHARS
    assert answer.ideal_item_profile.startswith("word0 word1 word2")
    assert any("profile capped" in p for p in step.problems)


def test_tag_variants_case_and_spaces():
    step = parse_step('< ANSWER >{"profile": "Caps"}</ answer >')
    assert _answer(step).ideal_item_profile == "Caps"
    assert _answer(parse_step('<final_answer>{"profile": "Final"}</final_answer>')
                   ).ideal_item_profile == "Final"
    assert parse_step("<Search>cult classics</SEARCH>").queries == ["cult classics"]


# ---- order, hallucinated memory, repetition, markup --------------------------------------

def test_first_action_wins_search_before_answer():
    step = parse_step('<think>a</think><search>noir</search><answer>{"profile": "Later"}</answer>')
    assert step.action == "search"
    assert step.queries == ["noir"]
    assert "ignored text after the search" in step.problems


def test_first_action_wins_answer_before_search():
    step = parse_step('<answer>{"profile": "First"}</answer><search>noir</search>')
    assert _answer(step).ideal_item_profile == "First"


def test_hallucinated_memory_block_is_cut():
    text = ("<think>x</think><memory>[b:ml-100k:196:999] (behavior) loved Titanic</memory>"
            '<answer>{"ideal_item_profile": "Epic romance"}</answer>')
    step = parse_step(text)
    answer = _answer(step)
    # The fake id lives only in the hallucinated block, so it must not leak into the answer.
    assert answer.useful_memory_ids == []
    assert "cut hallucinated <memory> block" in step.problems
    assert "999" not in step.thought


def test_unclosed_hallucinated_memory_after_search():
    step = parse_step("<think>x</think><search>war films</search>\n<memory>[b:ml-100k:1:2] fake "
                      "result that goes on")
    assert step.queries == ["war films"]
    assert "cut hallucinated <memory> block" in step.problems


def test_only_hallucinated_memory_is_none():
    step = parse_step("<think>checking</think><memory>[p:ml-100k:1:Drama:likes] fake")
    assert step.action == "none"
    assert step.thought == "checking"


def test_repeated_sentences_are_collapsed():
    text = "<think>" + "I should search for crime films. " * 300 + "</think><search>crime</search>"
    step = parse_step(text)
    assert step.thought == "I should search for crime films."
    assert step.queries == ["crime"]
    assert "collapsed repeated text" in step.problems


def test_repeated_lines_and_cycles_are_collapsed():
    lines = "\n".join(["The user likes horror.", "The user likes gore."] * 50)
    step = parse_step(f"<think>{lines}</think>")
    assert step.action == "none"
    assert step.thought == "The user likes horror.\nThe user likes gore."


def test_repeated_phrase_in_query_and_profile():
    step = parse_step("<search>very very very very very very good films</search>")
    assert step.queries == ["very good films"]
    answer = _answer(parse_step('<answer>{"ideal_item_profile": "A thriller. A thriller. '
                                'A thriller. A thriller. A thriller."}</answer>'))
    assert answer.ideal_item_profile == "A thriller."


def test_html_and_script_are_stripped():
    text = ('<think>hi <script>alert("x")</script></think><answer>{"ideal_item_profile": '
            '"<script>document.cookie</script>A <b>bold</b> drama"}</answer>')
    step = parse_step(text)
    assert _answer(step).ideal_item_profile == "A bold drama"
    assert "script" not in step.thought and "alert" not in step.thought
    assert "markup removed from profile" in step.problems


def test_control_characters_inside_tags_are_removed():
    step = parse_step("<th\x00ink>x</think><sea\x07rch>drama\x1b</search>")
    assert step.action == "search"
    assert step.queries == ["drama"]


def test_invalid_surrogates_do_not_break_output():
    step = parse_step("\ud800<think>bad \udfff bytes</think><search>que\ud83dry</search>")
    _assert_well_typed(step)
    assert step.queries == ["que?ry"]


# ---- nothing usable ----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   \n\t", "<think>", "</answer></search>", "{}", "null"])
def test_degenerate_inputs_are_none(text):
    step = parse_step(text)
    _assert_well_typed(step)
    assert step.action == "none"


def test_plain_prose_is_none_with_thought():
    step = parse_step("<think>Maybe the user likes westerns.\n\n\n\nNot sure.")
    assert step.action == "none"
    assert step.thought == "Maybe the user likes westerns.\n\nNot sure."
    assert "no usable <search> or <answer>" in step.problems


def test_thought_is_capped():
    text = " ".join(f"token{i}" for i in range(3000))
    step = parse_step(text)
    assert step.action == "none"
    assert 0 < len(step.thought) <= MAX_THOUGHT_CHARS
    assert step.thought.startswith("token0 token1")


# ---- large and random input --------------------------------------------------------------

def test_one_megabyte_inputs_are_fast_and_safe():
    rng = random.Random(7)
    big_random = "".join(rng.choice("abc {}[]<>\"':;\n") for _ in range(1_000_000))
    loop_then_answer = ("Let me think again. " * 50_000
                        + '<answer>{"ideal_item_profile": "A heist film"}</answer>')
    deep = "<answer>" + "{" * 1_000_000
    for text in (big_random, loop_then_answer, deep, "a" * 1_000_000):
        start = time.perf_counter()
        step = parse_step(text)
        assert time.perf_counter() - start < 5.0
        _assert_well_typed(step)
    assert _answer(parse_step(loop_then_answer)).ideal_item_profile == "A heist film"


def test_non_string_and_bad_max_queries_do_not_raise():
    _assert_well_typed(parse_step(None))  # type: ignore[arg-type]
    _assert_well_typed(parse_step(b"<search>x</search>"))  # type: ignore[arg-type]
    step = parse_step("<search>a; b</search>", max_queries=0)
    assert step.queries == ["a"]
    step = parse_step("<search>a; b</search>", max_queries="x")  # type: ignore[arg-type]
    assert step.queries == ["a", "b"]


_FRAGMENTS = [
    "<think>", "</think>", "<search>", "</search>", "<answer>", "</answer>", "<memory>",
    "</memory>", "{", "}", "[", "]", '"', "'", ":", ",", ";", "\n", "```json", "```",
    '"ideal_item_profile"', '"useful_memory_ids"', "profile", B1, P1, "Search:", "search(",
    "\\", "“", "”", "\x00", "\ud800", "<script>", "冒险", " very", ". ",
]


def test_random_fuzz_never_raises_and_types_hold():
    rng = random.Random(20251128)
    for i in range(500):
        kind = i % 3
        if kind == 0:
            raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
            text = raw.decode("utf-8", errors="replace")
        elif kind == 1:
            text = "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(0, 300)))
        else:
            text = "".join(rng.choice(_FRAGMENTS) if rng.random() < 0.6
                           else rng.choice("abcxyz 0123") for _ in range(rng.randrange(0, 120)))
        step = parse_step(text, max_queries=rng.randrange(1, 5))
        _assert_well_typed(step)
        assert len(step.queries) <= 4


# ---- extract_memory_ids ------------------------------------------------------------------

def test_extract_memory_ids_formats_and_punctuation():
    text = (f"see [{B1}] (behavior). Also '{P1}', {U1}; ids:{C1}. Global: {G1}. "
            f"Again {B1}.")
    assert extract_memory_ids(text) == [B1, P1, U1, C1, G1]


def test_extract_memory_ids_ignores_lookalikes():
    text = "Note: 12:30:15, http://x.y:80/a, e.g. A:b:c, word:ml:1, p:ml-10 and x:: y"
    assert extract_memory_ids(text) == []
    assert extract_memory_ids("") == []
    assert extract_memory_ids("p:ml-100k:7:Children's:likes") == ["p:ml-100k:7:Children's:likes"]
