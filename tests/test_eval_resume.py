"""A long evaluator run survives kill -9: `--resume` keeps every finished run and redoes only the
case in progress (issue 23). Self-contained: a generated JSONL benchmark, LLM backend none.

The evaluator runs as `python -m mrrec_lab.eval` in a subprocess, is killed with SIGKILL once
runs.jsonl holds some records, and is resumed. The check is exact: every complete line written
before the kill is kept byte for byte, no (system, case) pair is run twice, and the resumed run
fills in every missing pair. A second test cuts the last line short (a kill during a write) and
checks that the record appended after it is not lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ["popularity", "bm25"]  # fast systems: the run is mostly start-up, so many cases
N_CASES = 3000


def _write_bench(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    genres = ["Comedy", "Horror", "Drama", "Sci-Fi", "Romance", "Western"]
    words = ["River", "Night", "Stone", "Echo", "Harbor", "Signal", "Orchard", "Lantern"]
    with open(directory / "items.jsonl", "w") as out:
        for n in range(60):
            out.write(json.dumps({"item_id": f"m{n}", "title": f"The {words[n % 8]} {words[n // 8 % 8]} {n}",
                                  "categories": [genres[n % 6]], "year": 1960 + n}) + "\n")
    with open(directory / "interactions.jsonl", "w") as out:
        for u in range(8):
            for n in range(u, 60, 7):
                out.write(json.dumps({"user_id": f"u{u}", "item_id": f"m{n}", "rating": 1 + n % 5,
                                      "timestamp": 1_000 + n}) + "\n")
    with open(directory / "requests.jsonl", "w") as out:
        for c in range(N_CASES):
            out.write(json.dumps({"case_id": f"c{c}", "user_id": f"u{c % 8}",
                                  "request": f"a {genres[c % 6].lower()} film about the {words[c % 8].lower()} {c}",
                                  "ground_truth": [f"m{(c * 7) % 60}"]}) + "\n")
    return directory


def _eval_cmd(bench: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mrrec_lab.eval", "--cases-jsonl", str(bench), "--systems", ",".join(SYSTEMS),
            "--out", str(out), "--llm-backend", "none", "--bootstrap", "20", "--quiet", *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "OMP_NUM_THREADS": "1"}


def _pairs(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "system" in record:
            pairs.append((record["system"], record["case_id"]))
    return pairs


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    return _write_bench(tmp_path_factory.mktemp("resume") / "bench")


def test_kill_9_mid_run_then_resume_loses_at_most_the_case_in_progress(bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runs = out / "runs.jsonl"
    proc = subprocess.Popen(_eval_cmd(bench, out), cwd=REPO_ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            if runs.exists() and runs.stat().st_size > 50_000 and runs.read_bytes().count(b"\n") >= 30:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before it could be killed:\n" + proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = runs.read_bytes()
    complete = before[:before.rfind(b"\n") + 1]
    done_before = _pairs_from_bytes(complete)
    assert 0 < len(done_before) < len(SYSTEMS) * N_CASES

    resumed = subprocess.run(_eval_cmd(bench, out, "--resume"), cwd=REPO_ROOT, env=_env(),
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = runs.read_bytes()
    assert after.startswith(complete), "a finished record written before the kill was lost or rewritten"
    pairs = _pairs(runs)
    assert len(pairs) == len(set(pairs)), "a (system, case) finished before the kill was run again"
    assert set(pairs) == {(s, f"c{c}") for s in SYSTEMS for c in range(N_CASES)}
    results = json.loads((out / "results.json").read_text())
    assert not results["errors"]


def _pairs_from_bytes(data: bytes) -> set[tuple[str, str]]:
    pairs = set()
    for line in data.decode().splitlines():
        record = json.loads(line)
        if "system" in record:
            pairs.add((record["system"], record["case_id"]))
    return pairs


def test_resume_drops_a_line_cut_short_and_keeps_what_follows(tmp_path: Path) -> None:
    """A kill in the middle of a write leaves a last line without newline; the resumed run must
    not glue its first record onto it (that record would be unreadable at the next resume)."""
    from mrrec_lab.eval.runner import RunLog

    path = tmp_path / "runs.jsonl"
    good = json.dumps({"system": "bm25", "signature": "s", "case_id": "c1"}) + "\n"
    path.write_text(good + '{"system": "bm25", "signature": "s", "case_i')
    log = RunLog(path, resume=True)
    assert set(log.records) == {("bm25", "c1")}
    log.append({"system": "bm25", "signature": "s", "case_id": "c2"})
    log.close()
    assert set(RunLog(path, resume=True).records) == {("bm25", "c1"), ("bm25", "c2")}
    assert path.read_text().count("\n") == 2
