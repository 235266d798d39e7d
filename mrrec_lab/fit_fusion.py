"""Fit the fused ranker's weights (mrrec_chat/recommend/fusion.json) on training seekers only.

    python -m mrrec_lab.fit_fusion --redial ../shared/data/redial/dialogues_dev.jsonl \\
        --movielens ../shared/data/ml-latest-small            # writes mrrec_chat/recommend/fusion.json

Cases: the ReDial development cases of the *training* seekers of mrrec_lab/train/split_redial_dev.json
(the validation seekers are never read). Each case goes through the product's own path (request
understanding, turn policy over the case's memory, the ranker's feature matrix with its filters),
titles named in the request excluded as in the benchmark. Learning to rank is pairwise: for every
ground-truth item that passes the filters, pairs with items from the case's top candidates under
the current weights and with random allowed items; a logistic regression without intercept on
feature differences (scikit-learn) gives linear weights that order positives above negatives —
the RankSVM/RankNet idea in its simplest form, and a dozen numbers the app reads.

`sem_profile` (the model's profile) cannot be fitted without running the LLM on the training
cases; its weight is fitted separately with --profile-cases N (runs the default LLM on N training
cases) or kept at the value in the existing file.
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
from mrrec_chat.recommend.ranker import FEATURES, WEIGHTS_FILE, load_weights

log = logging.getLogger(__name__)
SPLIT = Path(__file__).parent / "train" / "split_redial_dev.json"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mrrec_lab.fit_fusion", description=__doc__.split("\n\n")[0])
    p.add_argument("--redial", required=True)
    p.add_argument("--movielens", required=True)
    p.add_argument("--split", default=str(SPLIT), help="seeker split JSON; only train_seekers are used")
    p.add_argument("--out", default=str(WEIGHTS_FILE), help="where to write the weights")
    p.add_argument("--work", default="runs/fit-fusion", help="scratch directory (store, caches)")
    p.add_argument("--negatives", type=int, default=40, help="negatives per positive (default 40)")
    p.add_argument("--C", type=float, default=1.0, help="inverse regularisation of the logistic regression")
    p.add_argument("--seed", type=int, default=0)
    return p


def collect(cases, ctx, *, negatives: int, seed: int, depth: int = 100):
    """Pairwise differences (X_pos - X_neg) over all cases, and per-case matrices for scoring."""
    rng = np.random.default_rng(seed)
    recommender = ctx.assistant.recommender
    ranker = recommender.ranker
    diffs: list[np.ndarray] = []
    per_case = []
    for n, case in enumerate(cases):
        ctx.load_case_memory(case)
        try:
            policy = ctx.plan(case)
        finally:
            ctx.drop_case_memory(case)
        inputs = recommender.inputs(policy, ctx.embedder.embed_one(case.request))
        X, _ = ranker.features(inputs)
        mask, _, _ = ranker.allowed(inputs, depth)
        rows = np.flatnonzero(mask)
        positives = [ranker.signals.row[i] for i in case.ground_truth if i in ranker.signals.row]
        positives = [r for r in positives if mask[r]]
        per_case.append((X, mask, positives))
        if not positives or len(rows) < 2:
            continue
        scores = X @ ranker.w
        top = rows[np.argsort(-scores[rows])[:200]]
        pool = np.setdiff1d(np.concatenate([top, rng.choice(rows, size=min(len(rows), 200), replace=False)]),
                            positives)
        for p in positives:
            neg = rng.choice(pool, size=min(negatives, len(pool)), replace=False)
            diffs.append(X[p] - X[neg])
        if (n + 1) % 100 == 0:
            log.info("%d/%d cases", n + 1, len(cases))
    return (np.concatenate(diffs) if diffs else np.zeros((0, len(FEATURES)), dtype=np.float32)), per_case


def ndcg10(per_case, w: np.ndarray) -> float:
    from mrrec_lab.eval.metrics import ndcg_at_k

    values = []
    for X, mask, positives in per_case:
        scores = np.where(mask, X @ w, -np.inf)
        ranked = [int(r) for r in np.argsort(-scores)[:10]]
        values.append(ndcg_at_k(ranked, set(positives), 10) if positives else 0.0)
    return float(np.mean(values)) if values else 0.0


def fit(diffs: np.ndarray, C: float, columns: list[int]) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    # Both orientations, so the classes are balanced and no intercept is needed.
    X = np.concatenate([diffs[:, columns], -diffs[:, columns]])
    y = np.concatenate([np.ones(len(diffs)), np.zeros(len(diffs))])
    model = LogisticRegression(C=C, fit_intercept=False, max_iter=2000)
    model.fit(X, y)
    return model.coef_.ravel()


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
    ctx.prepare(cases)
    old = load_weights(Path(args.out)) if Path(args.out).exists() else load_weights()
    w_old = np.array([old.get(f, 0.0) for f in FEATURES], dtype=np.float32)
    assistant.recommender.ranker.w = w_old
    diffs, per_case = collect(cases, ctx, negatives=args.negatives, seed=args.seed)
    fitted = [k for k, f in enumerate(FEATURES) if f != "sem_profile" and np.abs(diffs[:, k]).sum() > 0]
    coef = fit(diffs, args.C, fitted)
    w = np.zeros(len(FEATURES), dtype=np.float32)
    w[fitted] = coef
    scale = abs(w[FEATURES.index("sem_request")]) or 1.0
    w = w / scale  # sem_request = 1: readable numbers; ranking is unchanged by a positive scale
    w[FEATURES.index("sem_profile")] = old.get("sem_profile", 0.0)
    before, after = ndcg10(per_case, w_old), ndcg10(per_case, w)
    record = {
        "weights": {f: round(float(v), 5) for f, v in zip(FEATURES, w)},
        "fitted": [FEATURES[k] for k in fitted],
        "note": "sem_profile is not fitted here (no LLM); see the module doc of mrrec_lab/fit_fusion.py",
        "data": {"redial": Path(args.redial).name, "movielens": Path(args.movielens).name,
                 "split": Path(args.split).name, "seekers": "train_seekers", "cases": len(cases),
                 "pairs": int(len(diffs))},
        "train_ndcg10": {"previous_weights": round(before, 4), "fitted": round(after, 4)},
        "command": "python -m mrrec_lab.fit_fusion " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": date.today().isoformat(),
    }
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"{len(cases)} training cases, {len(diffs)} pairs, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
