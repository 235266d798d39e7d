"""Fit the fused ranker's weights (mrrec_chat/recommend/fusion.json) on training seekers only.

    python -m mrrec_lab.fit_fusion --redial ../shared/data/redial/dialogues_dev.jsonl \\
        --movielens ../shared/data/ml-latest-small            # writes mrrec_chat/recommend/fusion.json

Cases: the ReDial development cases of the *training* seekers of mrrec_lab/train/split_redial_dev.json
(the validation seekers are never read). Each case goes through the product's own path (request
understanding, turn policy over the case's memory, the ranker's feature matrix with its filters),
titles named in the request excluded as in the benchmark. The weights are fitted by coordinate
ascent directly on the benchmark's metric (mean NDCG@10 + 0.5 NDCG@100) — a dozen numbers the app
reads. (A first try, pairwise logistic regression on feature differences with random negatives,
scored N@10 0.011 on the training cases against 0.045 for the hand-set defaults: random
negatives are too easy, so it learned to separate them, not to order the top.)

`sem_profile` (the model's profile text) cannot be fitted without running the LLM on the training
cases, so it is written as 0: the model's profile then acts only through its checked structure
(genres as soft preferences when the request names none, named titles as weak seeds).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from mrrec_chat.config import Settings
from mrrec_chat.recommend.ranker import DEFAULT_WEIGHTS, FEATURES, WEIGHTS_FILE

log = logging.getLogger(__name__)
SPLIT = Path(__file__).parent / "train" / "split_redial_dev.json"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mrrec_lab.fit_fusion", description=__doc__.split("\n\n")[0])
    p.add_argument("--redial", required=True)
    p.add_argument("--movielens", required=True)
    p.add_argument("--split", default=str(SPLIT), help="seeker split JSON; only train_seekers are used")
    p.add_argument("--out", default=str(WEIGHTS_FILE), help="where to write the weights")
    p.add_argument("--work", default="runs/fit-fusion", help="scratch directory (store, caches)")
    p.add_argument("--passes", type=int, default=3, help="coordinate-ascent passes (default 3)")
    p.add_argument("--drop", default="", help="comma-separated features held at 0 (an ablation)")
    p.add_argument("--cv", type=int, default=0,
                   help="also estimate how the fit generalises: K folds by seeker over the training seekers "
                        "(fit on K-1, score the held fold), printed and recorded; the written weights are "
                        "still fitted on all training seekers")
    p.add_argument("--per-case", action="store_true",
                   help="average the objective over cases (default: over seekers, each seeker once)")
    return p


def collect(cases, ctx, *, pool: int = 300, depth: int = 100):
    """Per case: the candidate rows' features (k x F) and which of them are ground truth.

    Candidates are the union of each signal's top `pool` allowed items plus the allowed ground
    truth; an item outside every signal's top 300 does not reach a top 100 under any weighting
    worth considering, and leaving it out keeps 600 cases in memory and each evaluation fast."""
    recommender = ctx.assistant.recommender
    ranker = recommender.ranker
    per_case = []
    for n, case in enumerate(cases):
        policy = ctx.plan(case)
        inputs = recommender.inputs(policy, ctx.embedder.embed_one(case.request))
        X, _ = ranker.features(inputs)
        mask, _, tier = ranker.allowed(inputs, depth)
        allowed = np.flatnonzero(mask)
        truth = {ranker.signals.row[i] for i in case.ground_truth if i in ranker.signals.row}
        rows = {r for r in truth if mask[r]}
        for k in range(X.shape[1]):
            column = X[allowed, k]
            if np.any(column != 0):
                rows.update(allowed[np.argsort(-column)[:pool]].tolist())
        rows_arr = np.array(sorted(rows), dtype=np.int64)
        # The ranker puts items that meet every request filter first (tiers); the objective does
        # too, so no weight can learn to undo a filter the app applies anyway.
        per_case.append((X[rows_arr].astype(np.float32), np.isin(rows_arr, list(truth)), len(truth),
                         tier[rows_arr].astype(np.float32)))
        if (n + 1) % 100 == 0:
            log.info("%d/%d cases", n + 1, len(cases))
    return per_case


def objective(per_case, w: np.ndarray, case_weights: np.ndarray | None = None) -> tuple[float, float, float]:
    """(N@10 + 0.5 N@100, N@10, N@100) averaged over cases, weighted by `case_weights` if given
    (ground truth outside the catalog counts in the ideal DCG, as in the benchmark)."""
    discounts = 1.0 / np.log2(np.arange(2, 102))
    n10, n100 = [], []
    for X, truth, n_truth, tier in per_case:
        if n_truth == 0:
            n10.append(0.0)
            n100.append(0.0)
            continue
        scores = X @ w - 1000.0 * tier
        k = min(100, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        gains = truth[top].astype(np.float64)
        ideal10 = discounts[:min(10, n_truth)].sum()
        ideal100 = discounts[:min(100, n_truth)].sum()
        n10.append(float(gains[:10] @ discounts[:min(10, k)][:len(gains[:10])]) / ideal10)
        n100.append(float(gains @ discounts[:k]) / ideal100)
    a, b = float(np.average(n10, weights=case_weights)), float(np.average(n100, weights=case_weights))
    return a + 0.5 * b, a, b


def seeker_weights(cases) -> np.ndarray:
    """Each seeker counts once: a case weighs 1 / (its seeker's number of cases). Seekers differ a
    lot (one repeats earlier suggestions, another never does) and a few have a hundred cases each;
    averaging over cases would fit those few, averaging over seekers fits a new person better."""
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.user_id] = counts.get(case.user_id, 0) + 1
    w = np.array([1.0 / counts[case.user_id] for case in cases])
    return w / w.sum() * len(w)


def coordinate_ascent(per_case, w0: np.ndarray, fitted: list[int], passes: int = 3,
                      case_weights: np.ndarray | None = None) -> np.ndarray:
    """Coordinate ascent on the ranking metric (RankLib's linear "Coordinate Ascent" in its
    plainest form): one weight at a time over a grid of candidate values, keep the best.
    Hand-written because scikit-learn has no listwise ranker and a tree ranker (LightGBM
    lambdarank) would not be a dozen weights the app can read without the library."""
    w = w0.copy()
    best = objective(per_case, w, case_weights)[0]
    anchor = FEATURES.index("sem_request")
    for p in range(passes):
        changed = False
        for k in fitted:
            if k == anchor:
                continue  # the scale: only ratios matter for a ranking
            grid = {0.0, *(w[k] * m for m in (0.25, 0.5, 0.75, 1.5, 2.0, 4.0)),
                    *(s * v for s in (1, -1) for v in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0))}
            for value in sorted(grid):
                trial = w.copy()
                trial[k] = value
                score = objective(per_case, trial, case_weights)[0]
                if score > best + 1e-6:
                    best, w, changed = score, trial, True
            log.info("pass %d %s = %.4f (objective %.4f)", p + 1, FEATURES[k], w[k], best)
        if not changed:
            break
    return w


def seeker_folds(cases, k: int) -> list[np.ndarray]:
    """K folds of case indices, whole seekers per fold (sorted ids dealt round-robin)."""
    seekers = sorted({c.user_id for c in cases})
    fold_of = {s: n % k for n, s in enumerate(seekers)}
    return [np.array([i for i, c in enumerate(cases) if fold_of[c.user_id] == f]) for f in range(k)]


def cross_validate(per_case, cases, w0: np.ndarray, fitted: list[int], k: int, passes: int,
                   per_case_objective: bool) -> dict[str, float]:
    """Grouped K-fold estimate on training seekers: N@10 of the start weights and of the fitted
    ones on seekers the fit did not see (micro over cases, and macro over seekers)."""
    held_start, held_fit, held_start_s, held_fit_s = [], [], [], []
    for fold in seeker_folds(cases, k):
        held_out = set(fold.tolist())
        train = [i for i in range(len(cases)) if i not in held_out]
        train_cases = [cases[i] for i in train]
        cw = None if per_case_objective else seeker_weights(train_cases)
        w = coordinate_ascent([per_case[i] for i in train], w0, fitted, passes=passes, case_weights=cw)
        held = [per_case[i] for i in fold]
        hw = seeker_weights([cases[i] for i in fold])
        n, n_seekers = len(fold), len({cases[i].user_id for i in fold})
        held_start.append(objective(held, w0)[1] * n)
        held_fit.append(objective(held, w)[1] * n)
        held_start_s.append(objective(held, w0, hw)[1] * n_seekers)
        held_fit_s.append(objective(held, w, hw)[1] * n_seekers)
    total, seekers = len(cases), len({c.user_id for c in cases})
    return {"folds": k, "start_ndcg10": round(sum(held_start) / total, 4),
            "fitted_ndcg10": round(sum(held_fit) / total, 4),
            "start_ndcg10_per_seeker": round(sum(held_start_s) / seekers, 4),
            "fitted_ndcg10_per_seeker": round(sum(held_fit_s) / seekers, 4)}


def collect_cached(cases, ctx, work: Path):
    """collect(), kept in `work` for the same cases and features (ablations and CV reuse it)."""
    import hashlib
    import pickle

    key = hashlib.sha1(json.dumps([FEATURES, [c.case_id for c in cases]]).encode()).hexdigest()[:12]
    path = work / f"features-{key}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    per_case = collect(cases, ctx)
    work.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(per_case))
    return per_case


def main(argv: list[str] | None = None) -> int:
    from mrrec_chat.service import Assistant
    from mrrec_lab.eval.runner import load_benchmark, restrict_to_seekers
    from mrrec_lab.eval.systems import EvalContext

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    work = Path(args.work)
    settings = Settings.from_env()
    settings.memory_dir = str(work / "memory")
    settings.llm_backend = "none"
    started = time.perf_counter()
    benchmark = restrict_to_seekers(load_benchmark(redial=args.redial, movielens=args.movielens),
                                    f"{args.split}:train_seekers")
    cases = sorted(benchmark.cases, key=lambda c: c.case_id)
    assistant = Assistant(settings, dataset=benchmark.dataset, load_llm=False).start()
    ctx = EvalContext(assistant, exclude_request_mentions=True, vector_cache=work / "cache")
    # Always from the same start (the hand-set defaults), so the command's result does not depend
    # on the file it overwrites.
    w_old = np.array([DEFAULT_WEIGHTS[f] for f in FEATURES], dtype=np.float32)
    assistant.recommender.ranker.w = w_old
    per_case = collect_cached(cases, ctx, work)
    dropped = {f.strip() for f in args.drop.split(",") if f.strip()}
    unknown = dropped - set(FEATURES)
    if unknown:
        raise SystemExit(f"--drop: unknown features {sorted(unknown)}; known: {', '.join(FEATURES)}")
    for f in dropped:
        w_old[FEATURES.index(f)] = 0.0
    fitted = [k for k, f in enumerate(FEATURES)
              if f != "sem_profile" and f not in dropped and any(np.any(X[:, k] != 0) for X, _, _, _ in per_case)]
    cv = cross_validate(per_case, cases, w_old, fitted, args.cv, args.passes, args.per_case) if args.cv > 1 else None
    if cv:
        log.info("cross-validation by seeker: %s", cv)
    case_weights = None if args.per_case else seeker_weights(cases)
    w = coordinate_ascent(per_case, w_old, fitted, passes=args.passes, case_weights=case_weights)
    # The model's profile enters the ranking only with a weight fitted on model runs; none here.
    w[FEATURES.index("sem_profile")] = 0.0
    before, after = objective(per_case, w_old), objective(per_case, w)
    before_s, after_s = objective(per_case, w_old, case_weights), objective(per_case, w, case_weights)
    record = {
        "weights": {f: round(float(v), 5) for f, v in zip(FEATURES, w)},
        "fitted": [FEATURES[k] for k in fitted],
        "note": "sem_profile is 0: not fitted (needs LLM runs on training cases); see mrrec_lab/fit_fusion.py",
        "data": {"redial": Path(args.redial).name, "movielens": Path(args.movielens).name,
                 "split": Path(args.split).name, "seekers": "train_seekers", "cases": len(cases),
                 "exclude_request_mentions": True},
        "train_metrics": {"start_weights": {"ndcg10": round(before[1], 4), "ndcg100": round(before[2], 4)},
                          "fitted": {"ndcg10": round(after[1], 4), "ndcg100": round(after[2], 4)},
                          "per_seeker": {"start_ndcg10": round(before_s[1], 4), "fitted_ndcg10": round(after_s[1], 4)}},
        "dropped": sorted(dropped),
        "cross_validation": cv,
        "objective": ("mean NDCG@10 + 0.5 mean NDCG@100 over the training "
                      + ("cases" if args.per_case else "seekers (each seeker's cases weigh 1/their number)")
                      + ", coordinate ascent"),
        "command": "python -m mrrec_lab.fit_fusion " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": date.today().isoformat(),
    }
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"{len(cases)} training cases, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
