"""Fit the fusion weights for a memory of *consumption* (mrrec_chat/recommend/fusion_consumed.json).

    python -m mrrec_lab.fit_consumed            # ml-100k, the app's catalog; writes fusion_consumed.json
    python -m mrrec_lab.fit_consumed --dataset ../shared/data/ml-latest-small --out /tmp/w.json

fusion.json was fitted on ReDial, where a user's memory is what they *mentioned*. The app's dataset
users have a memory of what they *rated*: rated items are never shown again, liked ones seed
`cf_memory` / `sem_memory`, genre taste gives `affinity`. This fits the same dozen weights for that
condition, on the app's catalog, through the app's own path:

* Users are split by a seeded shuffle into training (80%) and held-out (20%) users (the lists are
  recorded in the results). Per user, a temporal split: the last `--future` (10) ratings are the
  future, the rest the past. Truth: the future items rated >= 4.
* No leakage: the catalog signals (popularity, quality, trend, item-item co-liking) and the global
  memory are built from a copy of the dataset with *every* user's future ratings removed.
* Memory: the user's past ratings as behavior records (memory/builders.behavior_records, the most
  recent `max_behavior_records` as the app keeps), through the product's `Recommender.plan(...)`
  with the app's defaults: `consumed` = every past item, `rated_is_consumed=True`.
* Requests: "What should I watch tonight?" for every user with a liked future item, and for users
  whose liked future items include a genre, "a good {genre} film" (the genre drawn by the seeded
  generator among those genres), truth restricted to the liked future items of that genre. And
  "something like {title}", the title their most recent past 5-star rating, where the app's title
  finder names it (truth: the liked future items): without a request that names a film the fit
  cannot weigh `cf_request`, and a first run without it set cf_request to -10 on the only named
  "titles" it saw ("a good War film" names *War, The (1994)*), which would turn "something like
  Toy Story" away from Toy Story's neighbours.
* Features: the product's `Ranker.features` / `allowed` (mrrec_lab/fit_fusion.collect); objective
  mean NDCG@10 + 0.5 NDCG@100, each user weighted once; coordinate ascent (all fit_fusion's helpers).
* Selection by K-fold CV by user over the training users only (the start weights of the ascent,
  and whether to adopt the fit at all: only if its CV objective beats fusion.json's, linear and trees).
  The held-out users are scored once, at the end, for every row of the table.

No LLM and no model profile (as in fit_fusion): `sem_profile` stays 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from mrrec_chat.config import Settings
from mrrec_chat.data.movielens import natural_title
from mrrec_chat.data.schema import Dataset, Interaction
from mrrec_chat.memory.builders import behavior_records
from mrrec_chat.recommend import CONSUMED_WEIGHTS_FILE
from mrrec_chat.recommend.ranker import DEFAULT_WEIGHTS, FEATURES, WEIGHTS_FILE, load_trees, load_weights, tree_scores
from mrrec_lab.fit_fusion import (cached_features, case_metrics, collect, coordinate_ascent, objective, seeker_folds,
                                 seeker_weights)

log = logging.getLogger(__name__)

OPEN_REQUEST = "What should I watch tonight?"
GENRE_REQUEST = "a good {genre} film"
LIKE_REQUEST = "something like {title}"
LIKED_AT = 4.0
LINEAR = "fusion.json linear weights (ReDial fit)"
TREES = "fusion.json trees (ReDial fit)"
# A feature is fitted only where at least this share of training cases has it non-zero: elsewhere
# the protocol does not identify it (on ml-100k `mood_fit` was non-zero in 1 of 2,125 cases and
# went from 0.15 to -0.03 on that one case, which would have switched moods off in the app); it
# keeps its start value.
MIN_SUPPORT = 0.05


@dataclass(frozen=True)
class Case:
    case_id: str
    user_id: str
    kind: str  # open | genre | like
    request: str
    ground_truth: tuple[str, ...]
    genre: str = ""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mrrec_lab.fit_consumed", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="ml-100k",
                   help="ml-100k (the app's catalog, from the app's cache) or a MovieLens directory")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--held-out", type=float, default=0.2, help="share of users held out (default 0.2)")
    p.add_argument("--future", type=int, default=10, help="ratings per user that are the future")
    p.add_argument("--split", choices=("temporal", "random"), default="temporal",
                   help="which ratings are a user's future: their last ones (temporal: what they rated "
                        "next, in ml-100k much driven by the 1996-97 releases of the time) or a seeded random "
                        "sample of them (random: their taste, whenever they watched)")
    p.add_argument("--nonnegative", default="",
                   help="comma-separated features whose weights must stay >= 0 (e.g. quality: the "
                        "next-rating objective learns exposure, and put a negative weight on how well "
                        "a film is rated)")
    p.add_argument("--one-se", default="",
                   help="comma-separated features whose fitted weight is then raised as far as the "
                        "training users' objective stays within one standard error of the fit's "
                        "(Breiman's one-SE rule, toward the prior a product wants: e.g. quality)")
    p.add_argument("--cv", type=int, default=5, help="folds by user over the training users")
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--out", default=str(CONSUMED_WEIGHTS_FILE))
    p.add_argument("--results", default="results/movielens-consumed", help="tables and the user split")
    p.add_argument("--work", default="runs/fit-consumed", help="scratch: store, feature cache")
    return p


# --- the protocol ------------------------------------------------------------------------------

def split_users(user_ids, seed: int, held_out: float) -> tuple[list[str], list[str]]:
    """(training users, held-out users), a seeded shuffle of the sorted ids; each list sorted."""
    users = sorted(user_ids)
    order = np.random.default_rng(seed).permutation(len(users))
    n_held = round(held_out * len(users))
    held = sorted(users[i] for i in order[:n_held])
    return sorted(set(users) - set(held)), held


def temporal_split(dataset: Dataset, future: int) -> tuple[Dataset, dict[str, list[Interaction]],
                                                           dict[str, list[Interaction]]]:
    """(the dataset with every user's last `future` ratings removed, past per user, future per user).
    A user with no more than `future` ratings keeps them all as past and has no future."""
    past: dict[str, list[Interaction]] = {}
    fut: dict[str, list[Interaction]] = {}
    for user, history in dataset.by_user.items():  # oldest first (stable for equal timestamps)
        if len(history) > future:
            past[user], fut[user] = list(history[:-future]), list(history[-future:])
        else:
            past[user] = list(history)
    return _without_future(dataset, fut), past, fut


def _without_future(dataset: Dataset, fut: dict[str, list[Interaction]]) -> Dataset:
    """The dataset with every user's future ratings removed (what the catalog signals are built from)."""
    removed = {(i.user_id, i.item_id, i.timestamp) for rows in fut.values() for i in rows}
    kept = [i for i in dataset.interactions if (i.user_id, i.item_id, i.timestamp) not in removed]
    return Dataset(dataset.name, dataset.items, kept, dataset.rating_scale)


def random_split(dataset: Dataset, future: int, seed: int) -> tuple[Dataset, dict[str, list[Interaction]],
                                                                 dict[str, list[Interaction]]]:
    """As temporal_split, but a user's future is a seeded random sample of `future` of their ratings
    (the rest, oldest first, are the past)."""
    rng = np.random.default_rng(seed + 2)
    past: dict[str, list[Interaction]] = {}
    fut: dict[str, list[Interaction]] = {}
    for user in sorted(dataset.by_user):
        history = dataset.by_user[user]
        if len(history) > future:
            chosen = set(rng.choice(len(history), size=future, replace=False).tolist())
            past[user] = [h for k, h in enumerate(history) if k not in chosen]
            fut[user] = [h for k, h in enumerate(history) if k in chosen]
        else:
            past[user] = list(history)
    return _without_future(dataset, fut), past, fut


def build_cases(users, future: dict[str, list[Interaction]], dataset: Dataset, parses_genre,
                seed: int, past: dict[str, list[Interaction]] | None = None,
                names_title=None) -> tuple[list[Case], dict[str, int]]:
    """The open request for every user with a liked future item, one genre request (a genre drawn
    among those of their liked future items that the request parser reads as that genre), and,
    given `past` and `names_title(text, item_id) -> bool`, a "something like" request for their
    most recent past 5-star film."""
    rng = np.random.default_rng(seed + 1)
    cases: list[Case] = []
    skipped = {"no_future": 0, "no_liked_future": 0}
    for user in sorted(users):
        rows = future.get(user)
        if not rows:
            skipped["no_future"] += 1
            continue
        liked = list(dict.fromkeys(i.item_id for i in rows if i.rating >= LIKED_AT and i.item_id in dataset.items))
        if not liked:
            skipped["no_liked_future"] += 1
            continue
        cases.append(Case(f"{user}:open", user, "open", OPEN_REQUEST, tuple(liked)))
        genres = sorted({g for i in liked for g in dataset.items[i].categories if parses_genre(g)})
        if genres:
            genre = genres[int(rng.integers(len(genres)))]
            truth = tuple(i for i in liked if genre in dataset.items[i].categories)
            cases.append(Case(f"{user}:genre", user, "genre", GENRE_REQUEST.format(genre=genre), truth, genre))
        if past is not None and names_title is not None:
            loved = [i.item_id for i in past.get(user, []) if i.rating >= 5 and i.item_id in dataset.items]
            if loved:
                text = LIKE_REQUEST.format(title=natural_title(dataset.items[loved[-1]].title))
                if names_title(text, loved[-1]):
                    cases.append(Case(f"{user}:like", user, "like", text, tuple(liked)))
    return cases, skipped


class PlanContext:
    """What fit_fusion.collect reads: the recommender (built on the past-only dataset), the embedder,
    and the product's turn policy for a case: its user's past ratings as behavior records, the past
    items consumed, `rated_is_consumed=True` (the app's defaults)."""

    def __init__(self, assistant, past: dict[str, list[Interaction]], max_records: int):
        self.assistant = assistant
        self.embedder = assistant.store.embedder
        self.past = past
        self.max_records = max_records
        self._requests: dict[str, object] = {}

    def understand(self, text: str):
        if text not in self._requests:
            recommender = self.assistant.recommender
            self._requests[text] = recommender.understand(text, self.assistant.extract_statements(text))
        return self._requests[text]

    def memory(self, user: str):
        return behavior_records(self.assistant.dataset, user, self.past.get(user, []), self.max_records)

    def plan(self, case: Case):
        recommender = self.assistant.recommender
        consumed = {i.item_id for i in self.past.get(case.user_id, [])}
        return recommender.plan(self.understand(case.request), self.memory(case.user_id), consumed=consumed)


# --- scoring -----------------------------------------------------------------------------------

def per_case_scores(per_case, w: np.ndarray) -> np.ndarray:
    """N@10 of each case under weights w."""
    return np.array([objective([pc], w)[1] for pc in per_case])


def scores(per_case, cases, w: np.ndarray) -> dict[str, float]:
    """Mean N@10, N@100 and the objective over users (each user once), and N@10 per request kind."""
    obj, n10, n100 = objective(per_case, w, seeker_weights(cases))
    out = {"objective": round(obj, 4), "ndcg10": round(n10, 4), "ndcg100": round(n100, 4)}
    for kind in ("open", "genre", "like"):
        idx = [k for k, c in enumerate(cases) if c.kind == kind]
        if idx:
            out[f"ndcg10_{kind}"] = round(objective([per_case[k] for k in idx], w)[1], 4)
    return out


def cross_validate(per_case, cases, starts: dict[str, np.ndarray], fixed: dict[str, np.ndarray],
                   fitted: list[int], k: int, passes: int,
                   nonnegative: set[int] | None = None) -> dict[str, dict[str, float]]:
    """Fold-by-user CV over the training users: each start's ascent fitted on K-1 folds and scored on
    the held fold; the fixed weights scored on the same folds. Figures are means over users."""
    users = len({c.user_id for c in cases})
    sums = {name: np.zeros(3) for name in (*fixed, *(f"fitted from {s}" for s in starts))}
    for f, fold in enumerate(seeker_folds(cases, k)):
        held = set(fold.tolist())
        train = [i for i in range(len(cases)) if i not in held]
        held_cases = [cases[i] for i in fold]
        held_pc = [per_case[i] for i in fold]
        n_users = len({c.user_id for c in held_cases})
        hw = seeker_weights(held_cases)
        for name, w in fixed.items():
            sums[name] += np.array(objective(held_pc, w, hw)) * n_users
        for name, w0 in starts.items():
            w = coordinate_ascent([per_case[i] for i in train], w0, fitted, passes=passes,
                                  case_weights=seeker_weights([cases[i] for i in train]), nonnegative=nonnegative)
            result = np.array(objective(held_pc, w, hw))
            sums[f"fitted from {name}"] += result * n_users
            log.info("fold %d/%d fitted from %s: held N@10 %.4f", f + 1, k, name, result[1])
    return {name: {"objective": round(float(s[0] / users), 4), "ndcg10": round(float(s[1] / users), 4),
                   "ndcg100": round(float(s[2] / users), 4)} for name, s in sums.items()}


def paired_bootstrap(per_case, cases, w_a: np.ndarray, w_b: np.ndarray, n: int = 2000, seed: int = 0):
    """Mean per-user N@10 difference a - b and its 95% interval from resampling users."""
    a10 = per_case_scores(per_case, w_a)
    b10 = per_case_scores(per_case, w_b)
    users = sorted({c.user_id for c in cases})
    index = {u: n_ for n_, u in enumerate(users)}
    diff, count = np.zeros(len(users)), np.zeros(len(users))
    for c, x, y in zip(cases, a10, b10):
        diff[index[c.user_id]] += x - y
        count[index[c.user_id]] += 1
    per_user = diff / count
    rng = np.random.default_rng(seed)
    boots = per_user[rng.integers(len(per_user), size=(n, len(per_user)))].mean(axis=1)
    return {"mean": round(float(per_user.mean()), 4), "ci95": [round(float(np.percentile(boots, 2.5)), 4),
                                                               round(float(np.percentile(boots, 97.5)), 4)]}


def per_user_objective(per_case, cases, w: np.ndarray) -> np.ndarray:
    """Each user's mean of N@10 + 0.5 N@100 over their cases (sorted by user id)."""
    n10, n100 = case_metrics(per_case, w)
    users = sorted({c.user_id for c in cases})
    index = {u: n for n, u in enumerate(users)}
    total, count = np.zeros(len(users)), np.zeros(len(users))
    for c, a, b in zip(cases, n10, n100):
        total[index[c.user_id]] += a + 0.5 * b
        count[index[c.user_id]] += 1
    return total / count


ONE_SE_GRID = (0.03, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)


def raise_within_one_se(per_case, cases, w: np.ndarray, k: int, grid=ONE_SE_GRID,
                        fit: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Raise w[k] along `grid` while the mean per-user objective stays within one standard error
    (of that mean, over users) of the fit's own: among fits the data cannot tell apart, the one
    that leans most toward the prior (here: better-rated films first). `fit`: the weights whose
    objective is the bar (default `w`), so that raising several features one after another never
    drifts further than one standard error from the fit itself."""
    base = per_user_objective(per_case, cases, w if fit is None else fit)
    best, se = float(base.mean()), float(base.std(ddof=1) / np.sqrt(len(base)))
    chosen, trail = float(w[k]), []
    for value in sorted(g for g in grid if g > w[k]):
        trial = w.copy()
        trial[k] = value
        mean = float(per_user_objective(per_case, cases, trial).mean())
        trail.append([value, round(mean, 4)])
        if mean < best - se:
            break
        chosen = value
    out = w.copy()
    out[k] = chosen
    return out, {"feature": FEATURES[k], "fitted": round(float(w[k]), 4), "chosen": chosen,
                 "training_objective": round(best, 4), "one_se": round(se, 4), "trail": trail}


def collect_cached(cases, ctx, work: Path, key_parts) -> list:
    return cached_features(work, [key_parts, [c.case_id for c in cases], [c.request for c in cases]],
                           lambda: collect(cases, ctx))


def vec(weights: dict[str, float]) -> np.ndarray:
    return np.array([weights.get(f, 0.0) for f in FEATURES], dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    from mrrec_chat.data.sources import load_dataset
    from mrrec_chat.service import Assistant

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    work = Path(args.work)
    settings = Settings.from_env()
    settings.memory_dir = str(work / "memory")
    settings.llm_backend = "none"
    full = load_dataset(args.dataset, settings.cache_dir)
    if args.split == "random":
        past_dataset, past, future = random_split(full, args.future, args.seed)
    else:
        past_dataset, past, future = temporal_split(full, args.future)
    train_users, held_users = split_users(full.by_user, args.seed, args.held_out)
    log.info("%s: %d users (%d training, %d held out), %d of %d ratings kept as past", full.name,
             len(full.by_user), len(train_users), len(held_users), len(past_dataset.interactions),
             len(full.interactions))
    # The whole product is built on the past only: catalog signals, global memory, title index.
    assistant = Assistant(settings, dataset=past_dataset, load_llm=False).start()
    ctx = PlanContext(assistant, past, settings.max_behavior_records)
    categories = past_dataset.categories

    def parses_genre(genre: str) -> bool:
        r = ctx.understand(GENRE_REQUEST.format(genre=genre))
        return set(r.genres_any) | set(r.genres_all) == {genre}

    unparsed = [g for g in categories if not parses_genre(g)]
    if unparsed:
        log.warning("genre requests the parser does not read as their genre (left out): %s", unparsed)
    def names_title(text: str, item_id: str) -> bool:
        return item_id in ctx.understand(text).titles

    train_cases, train_skipped = build_cases(train_users, future, past_dataset, parses_genre, args.seed,
                                             past, names_title)
    held_cases, held_skipped = build_cases(held_users, future, past_dataset, parses_genre, args.seed,
                                           past, names_title)
    key = [full.name, len(full.interactions), args.future, args.seed, settings.max_behavior_records] \
        + ([args.split] if args.split != "temporal" else [])
    per_train = collect_cached(train_cases, ctx, work, key + ["train"])
    support = {f: sum(bool(np.any(X[:, k] != 0)) for X, _, _, _ in per_train) / len(per_train)
               for k, f in enumerate(FEATURES)}
    fitted = [k for k, f in enumerate(FEATURES) if f != "sem_profile" and support[f] >= MIN_SUPPORT]
    log.info("%d training cases (%d users); fitted features: %s", len(train_cases),
             len({c.user_id for c in train_cases}), [FEATURES[k] for k in fitted])

    fixed = {
        "popularity only": vec({"popularity": 1.0}),
        "reference (sem_request + 0.05 popularity)": vec({"sem_request": 1.0, "popularity": 0.05}),
        LINEAR: vec(load_weights(WEIGHTS_FILE)),
    }
    trees = load_trees(WEIGHTS_FILE)
    if trees:  # fusion.json's tree ensemble: what the app ranks by where fusion_consumed.json is absent
        fixed[TREES] = lambda X: tree_scores(trees, X)
    current_rows = [name for name in (LINEAR, TREES) if name in fixed]
    starts = {"defaults": vec(DEFAULT_WEIGHTS), "fusion.json": vec(load_weights(WEIGHTS_FILE))}
    nonnegative = {FEATURES.index(f.strip()) for f in args.nonnegative.split(",") if f.strip()}
    cv = cross_validate(per_train, train_cases, starts, fixed, fitted, args.cv, args.passes,
                        nonnegative) if args.cv > 1 else {}
    for name, row in cv.items():
        log.info("CV %-45s %s", name, row)
    best_start = max(starts, key=lambda s: cv[f"fitted from {s}"]["objective"]) if cv else "defaults"
    w = coordinate_ascent(per_train, starts[best_start], fitted, passes=args.passes,
                          case_weights=seeker_weights(train_cases), nonnegative=nonnegative)
    w[FEATURES.index("sem_profile")] = 0.0
    one_se = []
    unraised = w.copy()
    for name in (f.strip() for f in args.one_se.split(",") if f.strip()):
        w, report = raise_within_one_se(per_train, train_cases, w, FEATURES.index(name), fit=unraised)
        one_se.append(report)
        log.info("one-SE rule: %s", report)
    best_current = max(current_rows, key=lambda name: cv[name]["objective"]) if cv else LINEAR
    adopted = bool(cv) and cv[f"fitted from {best_start}"]["objective"] > cv[best_current]["objective"]
    current = fixed[best_current]

    # The held-out users, once.
    per_held = collect_cached(held_cases, ctx, work, key + ["held-out"])
    rows = {**fixed, f"fitted (from {best_start})": w}
    if one_se:
        rows[f"fitted (from {best_start}), before the one-SE rule"] = unraised
    held = {name: scores(per_held, held_cases, weights) for name, weights in rows.items()}
    held_vs_current = paired_bootstrap(per_held, held_cases, w, current)
    train_fit = {name: scores(per_train, train_cases, weights) for name, weights in rows.items()}
    for name, row in held.items():
        log.info("held-out %-45s %s", name, row)

    command = "python -m mrrec_lab.fit_consumed " + " ".join(argv if argv is not None else sys.argv[1:])
    chosen = w if adopted else fixed[LINEAR]
    data = {"dataset": full.name, "source": args.dataset, "users": len(full.by_user),
            "training_users": len(train_users), "held_out_users": len(held_users), "seed": args.seed,
            "future_ratings_per_user": args.future, "split": args.split, "liked_at": LIKED_AT,
            "training_cases": len(train_cases), "held_out_cases": len(held_cases),
            "cases_by_kind": {k: sum(c.kind == k for c in train_cases + held_cases) for k in ("open", "genre", "like")},
            "users_without_cases": {"training": train_skipped, "held_out": held_skipped},
            "genres_not_understood": unparsed, "max_behavior_records": settings.max_behavior_records,
            "user_split": f"{args.results}/split.json"}
    record = {
        "weights": {f: round(float(v), 5) for f, v in zip(FEATURES, chosen)},
        "adopted": adopted,
        "fitted": [FEATURES[k] for k in fitted],
        "not_fitted_support": {f: round(v, 4) for f, v in support.items() if FEATURES.index(f) not in fitted},
        "fitted_weights": {f: round(float(v), 5) for f, v in zip(FEATURES, w)},
        "start": best_start,
        "nonnegative": sorted(FEATURES[k] for k in nonnegative),
        "one_se_rule": one_se,
        "note": ("weights for a memory of consumption (the app: rated items were watched); "
                 + ("the fit, chosen by CV over fusion.json's ranking (" + best_current + ")" if adopted else
                    "the fit did not beat fusion.json in CV, so these are fusion.json's linear weights")
                 + "; sem_profile 0 (no LLM runs); see mrrec_lab/fit_consumed.py"),
        "data": data,
        "objective": "mean NDCG@10 + 0.5 mean NDCG@100 over users (each user's cases weigh 1/their number), "
                     "coordinate ascent (mrrec_lab/fit_fusion.coordinate_ascent)",
        "cross_validation": {"folds": args.cv, "by": "user", **cv},
        "train_metrics": train_fit,
        "held_out": held,
        "held_out_fitted_minus_best_fusion_json_ndcg10": {"versus": best_current, **held_vs_current},
        "command": command,
        "date": date.today().isoformat(),
    }
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "split.json").write_text(json.dumps(
        {"dataset": full.name, "seed": args.seed, "held_out_share": args.held_out,
         "train_users": train_users, "held_out_users": held_users}, indent=1) + "\n", encoding="utf-8")
    (results / "fit.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))
    print(f"{len(train_cases)} training cases, {len(held_cases)} held-out cases, "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    assistant.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
