"""Grounding probe: re-ground the profiles an evaluation's LLM systems wrote, in other ways.

No model runs here. For every (system, case) LLM run in `--out/runs.jsonl` (the latest line of
each pair, so a rerun replaces an older configuration), the stored ideal
item profile (first 600 characters, as the runner keeps it) is grounded again:

  profile           the product's ranker with the stored profile (the fused ranker of
                    mrrec_chat/recommend, as the agent grounds; checks the stored ranking is reproduced)
  no-profile        the same ranker without the profile: what the model's profile changed
  profile+request   normalize(embed(profile) + embed(request)): the profile anchored to the
                    user's own words (titles the request names, its phrasing)
  request           embed(request) alone (= dense-no-memory), for reference

and scored with the same metrics on the same cases. It answers "is the policy's profile, or how
it is grounded, what limits quality?" without re-running the LLM.

    python -m mrrec_lab.eval.probe --redial ../shared/data/redial/dialogues_dev.jsonl \\
        --movielens ../shared/data/ml-latest-small --out results/redial-dev-heldout

Writes `--out/grounding_probe.json` and `.md`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from mrrec_chat.config import Settings
from mrrec_lab.eval.metrics import ndcg_at_k, recall_at_k
from mrrec_lab.eval.runner import RUNS_FILE, load_benchmark, restrict_to_seekers

MODES = ("profile", "no-profile", "profile+request", "request")
METRICS = (("ndcg", 10), ("recall", 10), ("recall", 100), ("ndcg", 100))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def probe(runs_path: Path, cases: dict, ctx) -> dict[str, Any]:
    """Per system and mode: mean metrics over the runs that stored a profile."""
    scores: dict[str, dict[str, list[list[float]]]] = defaultdict(lambda: defaultdict(list))
    reproduced: dict[str, list[bool]] = defaultdict(list)
    embed = ctx.embedder.embed_one
    latest: dict[tuple[str, str], dict] = {}  # a rerun (another signature) replaces the older line
    for line in runs_path.read_text(encoding="utf-8").splitlines():
        run = json.loads(line)
        if "system" in run:
            latest[(run["system"], run.get("case_id", ""))] = run
    for run in latest.values():
        profile = (run.get("details") or {}).get("profile")
        if not run.get("llm_calls") or not profile or run.get("case_id") not in cases:
            continue
        case = cases[run["case_id"]]
        truth = set(case.ground_truth)
        vectors = {"profile": embed(profile), "request": embed(case.request)}
        vectors["profile+request"] = _unit(vectors["profile"] + vectors["request"])
        recommender, policy = ctx.assistant.recommender, ctx.plan(case)
        used = None if (run.get("details") or {}).get("fallback") else profile
        for mode in MODES:
            if mode in ("profile", "no-profile"):
                text = used if mode == "profile" else None
                reading = recommender.read_profile(text, policy.request)
                ranked = [r.item.item_id for r in recommender.rank(policy, vectors["request"], ctx.depth, text,
                                                                   reading)]
            else:
                ranked = ctx.rank_vector(vectors[mode], case)
            if mode == "profile":
                reproduced[run["system"]].append(ranked[:10] == list(run["ranked"])[:10])
            scores[run["system"]][mode].append(
                [(ndcg_at_k if m == "ndcg" else recall_at_k)(ranked, truth, k) for m, k in METRICS])
    out: dict[str, Any] = {}
    for system, by_mode in scores.items():
        out[system] = {"n": len(by_mode["profile"]),
                       "profile_ranking_reproduced": float(np.mean(reproduced[system])),
                       "modes": {mode: dict(zip([f"{m}@{k}" for m, k in METRICS],
                                                np.mean(np.asarray(v), axis=0).round(4).tolist()))
                                 for mode, v in by_mode.items()}}
    return out


def to_markdown(result: dict[str, Any]) -> str:
    names = [f"{m}@{k}" for m, k in METRICS]
    rows = ["| system | n | grounding | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names)]
    for system, entry in sorted(result.items()):
        for mode, values in entry["modes"].items():
            rows.append(f"| {system} | {entry['n']} | {mode} | " + " | ".join(f"{values[n]:.3f}" for n in names) + " |")
    notes = [f"- {s}: the stored top-10 was reproduced from the stored profile in "
             f"{100 * e['profile_ranking_reproduced']:.0f}% of runs (profiles are stored truncated to 600 characters)."
             for s, e in sorted(result.items())]
    return "# Grounding probe\n\n" + "\n".join(rows) + "\n\n" + "\n".join(notes) + "\n"


def main(argv: list[str] | None = None) -> int:
    from mrrec_lab.eval.systems import EvalContext
    from mrrec_chat.service import Assistant

    parser = argparse.ArgumentParser(prog="python -m mrrec_lab.eval.probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--redial", required=True)
    parser.add_argument("--movielens", required=True)
    parser.add_argument("--out", required=True, help="an evaluation output directory (runs.jsonl, memory/)")
    parser.add_argument("--seekers", help="as for the evaluator")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if not (out / RUNS_FILE).exists():
        print(f"No {RUNS_FILE} in {out}: run the evaluator first.", file=sys.stderr)
        return 2
    benchmark = load_benchmark(redial=args.redial, movielens=args.movielens)
    if args.seekers:
        benchmark = restrict_to_seekers(benchmark, args.seekers)
    settings = Settings.from_env(memory_dir=str(out / "memory"), llm_backend="none")
    assistant = Assistant(settings, dataset=benchmark.dataset, load_llm=False).start()
    try:
        ctx = EvalContext(assistant)
        result = probe(out / RUNS_FILE, {c.case_id: c for c in benchmark.cases}, ctx)
    finally:
        assistant.close()
    (out / "grounding_probe.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    markdown = to_markdown(result)
    (out / "grounding_probe.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
