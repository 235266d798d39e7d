"""`python -m mrrec_lab.lists`: the reading tool runs requests and conversations through the app path."""

from __future__ import annotations

import re


def test_lists_runs_a_conversation_as_the_ui_does(tmp_path, tiny_dataset_dir):
    from mrrec_lab import lists

    out = tmp_path / "lists.md"
    assert lists.main(["--dataset", str(tiny_dataset_dir), "--chat", "a crime film | something else",
                       "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    sections = text.split("\n## ")[1:]
    assert [s.splitlines()[0] for s in sections] == ["[new] a crime film", "[new] … → something else"]
    titles = [re.findall(r"^\d\. (.+?) \[", s, re.M) for s in sections]
    assert titles[0] and titles[1] and not set(titles[0]) & set(titles[1])  # the follow-up repeats nothing
