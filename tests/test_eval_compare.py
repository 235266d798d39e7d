"""mrrec_lab.eval.compare: two runs of one system, paired on the cases both ran."""

from __future__ import annotations

import json

import pytest

from mrrec_lab.eval.compare import compare, main, read_rows, to_markdown


def _row(system: str, signature: str, case_id: str, ranked: list[str], profile: str = "p") -> dict:
    return {"system": system, "signature": signature, "case_id": case_id, "ranked": ranked,
            "seconds": 1.0, "llm_calls": 2, "details": {"profile": profile, "fallback": False}}


def test_read_rows_picks_the_system_and_signature_and_skips_a_cut_line(tmp_path):
    runs = tmp_path / "runs.jsonl"
    lines = [_row("mrrec", "llm=m[bf16]", "c1", ["x"]), _row("mrrec", "llm=m[int4wo]", "c1", ["y"]),
             _row("mrrec-nollm", "nollm", "c1", ["z"]), {"kind": "memory", "case_id": "c1"}]
    runs.write_text("\n".join(json.dumps(r) for r in lines) + '\n{"system": "mrrec", "cut', encoding="utf-8")
    assert read_rows(f"{runs}:mrrec@[bf16]")["c1"]["ranked"] == ["x"]
    assert read_rows(f"{runs}:mrrec")["c1"]["ranked"] == ["y"]  # the later row of a case wins
    with pytest.raises(ValueError, match="no row"):
        read_rows(f"{runs}:mrrec@[fp32]")
    with pytest.raises(ValueError, match="expected"):
        read_rows("mrrec")


def test_compare_pairs_only_shared_cases_and_reports_the_difference():
    truth = {"c1": {"t"}, "c2": {"t"}, "c3": {"t"}}
    a = {"c1": _row("s", "A", "c1", ["t", "u"]), "c2": _row("s", "A", "c2", ["u", "t"]),
         "c3": _row("s", "A", "c3", ["u"]), "only-a": _row("s", "A", "only-a", ["t"])}
    b = {"c1": _row("s", "B", "c1", ["t", "u"]), "c2": _row("s", "B", "c2", ["u", "v"], profile="q"),
         "c3": _row("s", "B", "c3", ["u"])}
    result = compare(truth, a, b, n_boot=200)
    assert result["cases"] == 3  # only-a has no partner
    assert result["same_top10"] == 2 and result["same_profile"] == 2
    r10 = result["metrics"]["R@10"]
    assert r10["a"][0] == pytest.approx(2 / 3) and r10["b"][0] == pytest.approx(1 / 3)
    assert r10["a_minus_b"][0] == pytest.approx(1 / 3)
    assert "| R@10 | 0.667 | 0.333 | +0.333" in to_markdown(result, "A", "B")
    with pytest.raises(ValueError, match="share no case"):
        compare(truth, {"c1": a["c1"]}, {"c2": b["c2"]})


def test_cli_reports_a_clear_error_for_a_missing_file(tmp_path, capsys):
    cases = tmp_path / "cases"
    cases.mkdir()
    code = main(["--cases-jsonl", str(cases), "--a", f"{tmp_path}/none.jsonl:mrrec", "--b", f"{tmp_path}/none.jsonl:mrrec"])
    err = capsys.readouterr().err
    assert code == 2 and "Cannot compare" in err and "none.jsonl" in err
