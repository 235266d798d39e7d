import json, pickle, sys, time
import numpy as np
from mrrec_chat.recommend.ranker import FEATURES, tree_scores
from mrrec_lab import fit_fusion as ff
from mrrec_lab.eval.runner import load_benchmark, restrict_to_seekers
import glob
pk = sorted(glob.glob('runs/fit-fusion/features-*.pkl'))[-1]
per_case = pickle.load(open(pk, 'rb'))
b = restrict_to_seekers(load_benchmark(redial="../shared/data/redial/dialogues_dev.jsonl", movielens="../shared/data/ml-latest-small"),
                        "mrrec_lab/train/split_redial_dev.json:train_seekers")
cases = sorted(b.cases, key=lambda c: c.case_id)
assert len(cases) == len(per_case), (len(cases), len(per_case))
users = np.array([c.user_id for c in cases])
F = {f: i for i, f in enumerate(FEATURES)}
REF = np.zeros(len(FEATURES), np.float32); REF[F['sem_request']] = 1.0; REF[F['popularity']] = 0.05
FITTED = [k for k, f in enumerate(FEATURES) if f != 'sem_profile']

def cv_arrays(fit, k=5, repeats=3):
    out = []
    for rep in range(repeats):
        n10, n100 = np.zeros(len(cases)), np.zeros(len(cases))
        for fold in ff.seeker_folds(cases, k, rep):
            ho = set(fold.tolist())
            w = fit([i for i in range(len(cases)) if i not in ho])
            n10[fold], n100[fold] = ff.case_metrics([per_case[i] for i in fold], w)
        out.append((n10, n100))
    return out

def summary(name, out, base=None):
    n10 = np.mean([o[0] for o in out], axis=0); n100 = np.mean([o[1] for o in out], axis=0)
    sk = sorted(set(users))
    s10 = np.mean([n10[users == u].mean() for u in sk]); s100 = np.mean([n100[users == u].mean() for u in sk])
    line = f"{name:40s} case N@10 {n10.mean():.4f} N@100 {n100.mean():.4f} | seeker N@10 {s10:.4f} N@100 {s100:.4f}"
    if base is not None:
        b10 = np.mean([o[0] for o in base], axis=0)
        d = np.array([(n10 - b10)[users == u].mean() for u in sk])
        rng = np.random.default_rng(0)
        bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
        dc = n10 - b10
        bc = [dc[rng.integers(0, len(dc), len(dc))].mean() for _ in range(2000)]
        line += f" | d case {dc.mean():+.4f} [{np.percentile(bc,2.5):+.4f},{np.percentile(bc,97.5):+.4f}] d seeker {d.mean():+.4f} [{np.percentile(bs,2.5):+.4f},{np.percentile(bs,97.5):+.4f}]"
    print(line, flush=True)
    return n10

def trees_fit(subset, **kw):
    return ff.fit_gbm([per_case[i] for i in subset], ff.seeker_weights([cases[i] for i in subset]), FITTED, **kw)

def ranks(s):
    r = np.empty(len(s)); r[np.argsort(-s, kind='stable')] = np.arange(len(s)); return r
