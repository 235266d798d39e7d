"""base.cut_at_repeat: the backends stop decoding where a small model starts looping."""

from mrrec_chat.llm.base import cut_at_repeat


def test_a_repeated_sentence_or_line_cuts_the_text_before_the_repeat():
    looped = "The best date-night movie is a classic.\n\nThe best date-night movie is a classic.\n\nThe best"
    assert cut_at_repeat(looped) == ("The best date-night movie is a classic.", True)
    assert cut_at_repeat("A heist film, tense. Then a chase across Paris. A heist film, tense. x")[1]


def test_text_that_does_not_repeat_and_short_pieces_are_kept():
    text = "A tense 1990s crime thriller. Clever plot, great cast."
    assert cut_at_repeat(text) == (text, False)
    json_like = '{\n  "ideal_item_profile": "a crime film",\n  "useful_memory_ids": [\n  ],\n  ],\n}'
    assert cut_at_repeat(json_like) == (json_like, False)  # "]," and "}" are too short to count
    assert cut_at_repeat("No. No. No.")[1] is False


def test_generated_text_is_cut_at_a_stop_string_first_then_at_a_repeat():
    from mrrec_chat.llm.base import cut_generated

    assert cut_generated("<search>q</search> more", ["</search>"]) == ("<search>q", "stop")
    looped = "A tense heist film. Clever, too. A tense heist film. A"
    assert cut_generated(looped, ["</answer>"]) == ("A tense heist film. Clever, too.", "repeat")
    assert cut_generated("A tense heist film.", None) == ("A tense heist film.", "")
