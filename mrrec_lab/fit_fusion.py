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

Two models are fitted and written: the linear weights (coordinate ascent, `weights`) and, with
`--model gbm` (the default), LightGBM LambdaRank trees (`trees`, which the ranker then scores
by). `--cv K` compares the reference (dense-pop's two terms), the start weights, the linear fit
and the trees on held-out folds of training seekers, repeated with seekers dealt differently
(`--cv-repeats`), N@10 and N@100 per case and per seeker. What that comparison showed
(results/fusion-cv/README.md): the trees beat the linear fit on all four figures; capping
`remembered` (|w| <= 0.3) or optimising N@10 alone did not help the linear fit, and pulling it
toward the reference (an L1 price on departures) helped per seeker but not per case.

The cases are collected under the start weights' request filters, not the file being
overwritten's (a fitted `genre_focus` > 0 switches the ranker's focus filters on), and
`genre_focus`'s linear weight is held at 0 for the same reason. `--nonnegative affinity` keeps a
liked genre from ever pushing films down in the linear weights the app uses on catalogs other than
ml-100k (session 18's refit without it put -2.0 there; results/fusion-cv/README.md).

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
from mrrec_chat.recommend.ranker import DEFAULT_WEIGHTS, FEATURES, WEIGHTS_FILE, tree_scores

log = logging.getLogger(__name__)
SPLIT = Path(__file__).parent / "train" / "split_redial_dev.json"
# The benchmark's dense-pop: the request's cosine plus a little popularity; the CV's yardstick.
REFERENCE_WEIGHTS = {"sem_request": 1.0, "popularity": 0.05}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mrrec_lab.fit_fusion", description=__doc__.split("\n\n")[0])
    p.add_argument("--redial", required=True)
    p.add_argument("--movielens", required=True)
    p.add_argument("--split", default=str(SPLIT), help="seeker split JSON; only train_seekers are used")
    p.add_argument("--out", default=str(WEIGHTS_FILE), help="where to write the weights")
    p.add_argument("--work", default="runs/fit-fusion", help="scratch directory (store, caches)")
    p.add_argument("--passes", type=int, default=3, help="coordinate-ascent passes (default 3)")
    p.add_argument("--drop", default="", help="comma-separated features held at 0 (an ablation)")
    p.add_argument("--nonnegative", default="",
                   help="comma-separated features whose linear weights must stay >= 0 (e.g. affinity: on "
                        "ReDial's mentions the fit put -2.0 on it, and the app ranks other catalogs by these "
                        "weights, where a genre the person likes would then push films down)")
    p.add_argument("--cv", type=int, default=0,
                   help="also estimate how the fit generalises: K folds by seeker over the training seekers "
                        "(fit on K-1, score the held fold), printed and recorded; the written weights are "
                        "still fitted on all training seekers")
    p.add_argument("--cv-repeats", type=int, default=3,
                   help="repeat the K folds with seekers dealt differently (default 3), averaged")
    p.add_argument("--model", choices=("gbm", "linear"), default="gbm",
                   help="gbm (default): the ranker scores by LightGBM LambdaRank trees written into the file "
                        "(needs lightgbm to fit, not to rank); linear: by the coordinate-ascent weights alone")
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


def case_metrics(per_case, w) -> tuple[np.ndarray, np.ndarray]:
    """Per case: (NDCG@10, NDCG@100) of the ranking by X @ w (or by w(X) for a callable scorer,
    e.g. a tree ensemble), request-filter tiers first (ground truth outside the catalog counts in
    the ideal DCG, as in the benchmark)."""
    discounts = 1.0 / np.log2(np.arange(2, 102))
    n10, n100 = np.zeros(len(per_case)), np.zeros(len(per_case))
    for n, (X, truth, n_truth, tier) in enumerate(per_case):
        if n_truth == 0:
            continue
        scores = (w(X) if callable(w) else X @ w) - 1000.0 * tier
        k = min(100, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        gains = truth[top].astype(np.float64)
        ideal10 = discounts[:min(10, n_truth)].sum()
        ideal100 = discounts[:min(100, n_truth)].sum()
        n10[n] = float(gains[:10] @ discounts[:len(gains[:10])]) / ideal10
        n100[n] = float(gains @ discounts[:k]) / ideal100
    return n10, n100


def objective(per_case, w: np.ndarray, case_weights: np.ndarray | None = None,
              n100_weight: float = 0.5) -> tuple[float, float, float]:
    """(N@10 + n100_weight * N@100, N@10, N@100) averaged over cases, weighted by `case_weights`
    if given."""
    n10, n100 = case_metrics(per_case, w)
    a, b = float(np.average(n10, weights=case_weights)), float(np.average(n100, weights=case_weights))
    return a + n100_weight * b, a, b


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
                      case_weights: np.ndarray | None = None, *, n100_weight: float = 0.5,
                      prior: np.ndarray | None = None, penalty: float = 0.0, scales: np.ndarray | None = None,
                      limits: dict[int, float] | None = None, nonnegative: set[int] | None = None) -> np.ndarray:
    """Coordinate ascent on the ranking metric (RankLib's linear "Coordinate Ascent" in its
    plainest form): one weight at a time over a grid of candidate values, keep the best.
    Hand-written because scikit-learn has no listwise ranker and a tree ranker (LightGBM
    lambdarank) would not be a dozen weights the app can read without the library.

    `penalty` > 0 pulls the weights toward `prior`: the objective loses penalty * sum over
    features of |w - prior| * scale (scale: the feature's spread, so a departure is priced by how
    much it can move a score), and the prior's own value is always on the grid. `limits` caps
    |w[k]| for the features it names; `nonnegative` keeps the weights of the features it names >= 0
    (a monotone constraint: e.g. a better-rated film never scores lower for it, all else equal)."""
    w = w0.copy()
    for k in nonnegative or ():
        w[k] = max(0.0, w[k])
    scales = np.ones(len(w)) if scales is None else scales

    def cost(v: np.ndarray) -> float:
        if prior is None or not penalty:
            return 0.0
        return penalty * float(np.sum(np.abs(v - prior) * scales))

    best = objective(per_case, w, case_weights, n100_weight)[0] - cost(w)
    anchor = FEATURES.index("sem_request")
    for p in range(passes):
        changed = False
        for k in fitted:
            if k == anchor:
                continue  # the scale: only ratios matter for a ranking
            grid = {0.0, *(w[k] * m for m in (0.25, 0.5, 0.75, 1.5, 2.0, 4.0)),
                    *(s * v for s in (1, -1) for v in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0))}
            if prior is not None:
                grid.add(float(prior[k]))
            if limits and k in limits:
                grid = {g for g in grid if abs(g) <= limits[k]}
            if nonnegative and k in nonnegative:
                grid = {g for g in grid if g >= 0}
            for value in sorted(grid):
                trial = w.copy()
                trial[k] = value
                score = objective(per_case, trial, case_weights, n100_weight)[0] - cost(trial)
                if score > best + 1e-6:
                    best, w, changed = score, trial, True
            log.info("pass %d %s = %.4f (objective %.4f)", p + 1, FEATURES[k], w[k], best)
        if not changed:
            break
    return w


# LightGBM LambdaRank, kept small: 150 trees of 3 leaves (two splits each), each leaf holding at
# least 1000 candidate rows, so that no split follows one seeker's habits. Chosen among two
# full-pool settings by the seeker CV (a 7-leaf, 100-tree one was a little worse).
GBM_PARAMS = {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 3, "min_data_in_leaf": 1000,
              "lambdarank_truncation_level": 20, "verbose": -1, "seed": 0, "deterministic": True,
              "num_threads": 1}
GBM_ROUNDS = 150


def fit_gbm(per_case, case_weights: np.ndarray | None = None, fitted: list[int] | None = None,
            rounds: int = GBM_ROUNDS) -> list[dict]:
    """LambdaRank trees on every candidate row of each case (a case is a query; its rows carry the
    case's weight), returned in the ranker's JSON form (ranker.tree_scores). Trained on the whole
    candidate pool: trained on the reference's top rows only, the trees never saw the rows other
    signals bring in and ranked them at random (N@10 0.014 in CV)."""
    import lightgbm

    fitted = fitted if fitted is not None else [k for k, f in enumerate(FEATURES) if f != "sem_profile"]
    weights = np.ones(len(per_case)) if case_weights is None else case_weights
    data = lightgbm.Dataset(
        np.concatenate([X[:, fitted] for X, _, _, _ in per_case]),
        np.concatenate([truth.astype(np.int32) for _, truth, _, _ in per_case]),
        weight=np.concatenate([np.full(len(truth), cw) for (_, truth, _, _), cw in zip(per_case, weights)]),
        group=[len(truth) for _, truth, _, _ in per_case], feature_name=[FEATURES[k] for k in fitted])
    model = lightgbm.train(GBM_PARAMS, data, rounds)
    return trees_from_lightgbm(model)


def trees_from_lightgbm(model) -> list[dict]:
    """LightGBM's dump_model() trees as {"f", "t", "l", "r"} / {"v"} nodes named by feature."""
    names = model.feature_name()

    def node(n: dict) -> dict:
        if "leaf_value" in n:
            return {"v": float(n["leaf_value"])}
        if n.get("decision_type") != "<=" or n.get("missing_type") not in (None, "None"):
            raise ValueError(f"unsupported split {n.get('decision_type')} / missing {n.get('missing_type')}")
        return {"f": names[n["split_feature"]], "t": float(n["threshold"]), "l": node(n["left_child"]),
                "r": node(n["right_child"])}

    return [node(t["tree_structure"]) for t in model.dump_model()["tree_info"]]


def seeker_folds(cases, k: int, repeat: int = 0) -> list[np.ndarray]:
    """K folds of case indices, whole seekers per fold: sorted ids dealt round-robin (repeat 0),
    or shuffled by random.Random(repeat) first (repeat > 0), so repeats split seekers differently."""
    import random

    seekers = sorted({c.user_id for c in cases})
    if repeat:
        random.Random(repeat).shuffle(seekers)
    fold_of = {s: n % k for n, s in enumerate(seekers)}
    return [np.array([i for i, c in enumerate(cases) if fold_of[c.user_id] == f], dtype=np.int64)
            for f in range(k)]


def per_seeker_mean(values: np.ndarray, cases) -> float:
    """Mean over seekers of each seeker's mean over their cases."""
    users = np.array([c.user_id for c in cases])
    return float(np.mean([values[users == u].mean() for u in sorted(set(users))]))


def cross_validate(per_case, cases, fit, k: int, repeats: int = 1) -> dict[str, float]:
    """Grouped K-fold estimate on training seekers: `fit(train_indices)` returns weights, which are
    scored on the held fold's seekers; every case is held out once per repeat. Returns N@10 and
    N@100 micro over cases and macro over seekers (each seeker's mean once), averaged over repeats."""
    rows = []
    for repeat in range(repeats):
        n10, n100 = np.zeros(len(cases)), np.zeros(len(cases))
        for fold in seeker_folds(cases, k, repeat):
            held_out = set(fold.tolist())
            w = fit([i for i in range(len(cases)) if i not in held_out])
            n10[fold], n100[fold] = case_metrics([per_case[i] for i in fold], w)
        rows.append((n10.mean(), n100.mean(), per_seeker_mean(n10, cases), per_seeker_mean(n100, cases)))
    mean = np.mean(rows, axis=0)
    return {"folds": k, "repeats": repeats, "ndcg10": round(float(mean[0]), 4), "ndcg100": round(float(mean[1]), 4),
            "ndcg10_per_seeker": round(float(mean[2]), 4), "ndcg100_per_seeker": round(float(mean[3]), 4)}


def cached_features(work: Path, key_parts: list, compute):
    """compute(), kept in `work` under a digest of FEATURES, the product's source (a cache of
    other code is not reused: before, a refit after a change of request understanding silently
    fitted the old features) and `key_parts` (ablations, CV and refits reuse it; fit_consumed too)."""
    import hashlib
    import pickle

    from mrrec_lab.eval.systems import code_digest

    key = hashlib.sha1(json.dumps([FEATURES, code_digest(), *key_parts]).encode()).hexdigest()[:12]
    path = work / f"features-{key}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    value = compute()
    work.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return value


def collect_cached(cases, ctx, work: Path):
    """collect(), kept in `work` for the same cases and features."""
    return cached_features(work, [[c.case_id for c in cases]], lambda: collect(cases, ctx))


def main(argv: list[str] | None = None) -> int:
    from mrrec_chat.service import Assistant
    from mrrec_lab.eval.runner import load_benchmark, restrict_to_seekers
    from mrrec_lab.eval.systems import EvalContext

    args = build_parser().parse_args(argv)
    dropped = {f.strip() for f in args.drop.split(",") if f.strip()}
    nonnegative_names = {f.strip() for f in args.nonnegative.split(",") if f.strip()}
    for flag, names in (("--drop", dropped), ("--nonnegative", nonnegative_names)):
        unknown = names - set(FEATURES)
        if unknown:  # before the minutes of loading and collecting, not after
            raise SystemExit(f"{flag}: unknown features {sorted(unknown)}; known: {', '.join(FEATURES)}")
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
    # The request filters the features are collected under must not depend on the file this
    # command overwrites either: a fitted `genre_focus` > 0 switches on the ranker's focus filters,
    # so a refit collected its cases under the previous fit's filters.
    assistant.recommender.ranker.weights = dict(DEFAULT_WEIGHTS)
    per_case = collect_cached(cases, ctx, work)
    # genre_focus is a filter switch as well as a weight (> 0 turns the ranker's focus filters on);
    # the cases are collected without those filters, so its linear weight stays 0 here
    dropped.add("genre_focus")
    for f in dropped:
        w_old[FEATURES.index(f)] = 0.0
    fitted = [k for k, f in enumerate(FEATURES)
              if f != "sem_profile" and f not in dropped and any(np.any(X[:, k] != 0) for X, _, _, _ in per_case)]
    reference = np.array([REFERENCE_WEIGHTS.get(f, 0.0) for f in FEATURES], dtype=np.float32)

    def weights_of(subset: list[int]) -> np.ndarray | None:
        return None if args.per_case else seeker_weights([cases[i] for i in subset])

    nonnegative = {FEATURES.index(f) for f in nonnegative_names}

    def fit_linear(subset: list[int]) -> np.ndarray:
        return coordinate_ascent([per_case[i] for i in subset], w_old, fitted, passes=args.passes,
                                 case_weights=weights_of(subset), nonnegative=nonnegative)

    def fit_trees(subset: list[int]):
        trees = fit_gbm([per_case[i] for i in subset], weights_of(subset), fitted)
        return lambda X: tree_scores(trees, X)

    cv = None
    if args.cv > 1:
        cv = {"folds": args.cv, "repeats": args.cv_repeats, "by": "seeker",
              "note": "held-out folds of training seekers; per_seeker = each seeker's mean once"}
        candidates = {"reference": lambda subset: reference, "start_weights": lambda subset: w_old,
                      "linear": fit_linear}
        if args.model == "gbm":
            candidates["gbm"] = fit_trees
        for name, fit in candidates.items():
            cv[name] = {k: v for k, v in cross_validate(per_case, cases, fit, args.cv, args.cv_repeats).items()
                        if k.startswith("ndcg")}
            log.info("cross-validation by seeker, %s: %s", name, cv[name])
    case_weights = None if args.per_case else seeker_weights(cases)
    w = fit_linear(list(range(len(cases))))
    # The model's profile enters the ranking only with a weight fitted on model runs; none here.
    w[FEATURES.index("sem_profile")] = 0.0
    trees = fit_gbm(per_case, case_weights, fitted) if args.model == "gbm" else None
    final = (lambda X: tree_scores(trees, X)) if trees else w
    before, after = objective(per_case, w_old), objective(per_case, final)
    before_s, after_s = objective(per_case, w_old, case_weights), objective(per_case, final, case_weights)
    record = {
        "weights": {f: round(float(v), 5) for f, v in zip(FEATURES, w)},
        "fitted": [FEATURES[k] for k in fitted],
        "note": ("sem_profile is 0: not fitted (needs LLM runs on training cases); see mrrec_lab/fit_fusion.py. "
                 + ("The ranker scores by `trees` (LightGBM LambdaRank, evaluated in numpy by "
                    "ranker.tree_scores); `weights` is the linear fit, used by readers of weights alone."
                    if trees else "Linear fusion of `weights`.")),
        "model": args.model,
        "data": {"redial": Path(args.redial).name, "movielens": Path(args.movielens).name,
                 "split": Path(args.split).name, "seekers": "train_seekers", "cases": len(cases),
                 "exclude_request_mentions": True},
        "train_metrics": {"start_weights": {"ndcg10": round(before[1], 4), "ndcg100": round(before[2], 4)},
                          "fitted": {"ndcg10": round(after[1], 4), "ndcg100": round(after[2], 4)},
                          "per_seeker": {"start_ndcg10": round(before_s[1], 4), "fitted_ndcg10": round(after_s[1], 4)}},
        "dropped": sorted(dropped),
        "nonnegative": sorted(FEATURES[k] for k in nonnegative),
        "cross_validation": cv,
        "objective": ("linear: mean NDCG@10 + 0.5 mean NDCG@100 over the training "
                      + ("cases" if args.per_case else "seekers (each seeker's cases weigh 1/their number)")
                      + ", coordinate ascent"
                      + ("; trees: LightGBM lambdarank " + json.dumps({k: v for k, v in GBM_PARAMS.items()
                                                                       if k not in ("verbose", "num_threads")})
                         + f", {GBM_ROUNDS} rounds, the same case weights" if trees else "")),
        "command": "python -m mrrec_lab.fit_fusion " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": date.today().isoformat(),
    }
    if trees:
        record["trees"] = trees
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"{len(cases)} training cases, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
