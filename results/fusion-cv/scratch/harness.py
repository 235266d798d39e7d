import json, pickle, random, time, numpy as np
from types import SimpleNamespace
from mrrec_chat.recommend.ranker import FEATURES, DEFAULT_WEIGHTS
from mrrec_lab import fit_fusion as ff

pc = pickle.load(open('runs/fit-fusion/features-d914e5559899.pkl','rb'))
meta = json.load(open('runs/fusion3/cases.json'))
cases = [SimpleNamespace(**m) for m in meta]
users = np.array([c.user_id for c in cases])
F = {f: i for i, f in enumerate(FEATURES)}
DISC = 1.0 / np.log2(np.arange(2, 102))

def W(d): return np.array([d.get(f, 0.0) for f in FEATURES], np.float32)
START = W(DEFAULT_WEIGHTS)
REF = W({'sem_request': 1.0, 'popularity': 0.05})
CUR = W(json.load(open('mrrec_chat/recommend/fusion.json'))['weights'])
FITTED = [k for k, f in enumerate(FEATURES) if f != 'sem_profile']

def per_case_metrics(per_case, scorer):
    """scorer(X)->scores. arrays n10, n100."""
    n10, n100 = [], []
    for X, truth, n_truth, tier in per_case:
        if n_truth == 0:
            n10.append(0.); n100.append(0.); continue
        s = scorer(X) - 1000.0 * tier
        k = min(100, len(s))
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top], kind='stable')]
        g = truth[top].astype(np.float64)
        n10.append(float(g[:10] @ DISC[:len(g[:10])]) / DISC[:min(10, n_truth)].sum())
        n100.append(float(g @ DISC[:k]) / DISC[:min(100, n_truth)].sum())
    return np.array(n10), np.array(n100)

def folds(k, rep):
    seekers = sorted(set(users))
    if rep:
        random.Random(rep).shuffle(seekers)
    fold_of = {s: n % k for n, s in enumerate(seekers)}
    return [np.flatnonzero([fold_of[u] == f for u in users]) for f in range(k)]

def summarise(n10, n100):
    sk = sorted(set(users))
    s10 = np.mean([n10[users == u].mean() for u in sk]); s100 = np.mean([n100[users == u].mean() for u in sk])
    return dict(case10=n10.mean(), case100=n100.mean(), seek10=s10, seek100=s100)

def cv(fit, k=5, reps=(0, 1, 2)):
    """fit(train_idx) -> scorer. Returns per-rep held-out per-case arrays."""
    out = []
    for rep in reps:
        n10 = np.zeros(len(cases)); n100 = np.zeros(len(cases))
        for fold in folds(k, rep):
            tr = np.setdiff1d(np.arange(len(cases)), fold)
            scorer = fit(tr)
            a, b = per_case_metrics([pc[i] for i in fold], scorer)
            n10[fold] = a; n100[fold] = b
        out.append((n10, n100))
    return out

def fixed(w):
    return lambda tr: (lambda X: X @ w)

def report(name, out, base=None):
    ss = [summarise(*o) for o in out]
    m = {key: np.mean([s[key] for s in ss]) for key in ss[0]}
    line = f"{name:38s} seek N@10 {m['seek10']:.4f} N@100 {m['seek100']:.4f} | case N@10 {m['case10']:.4f} N@100 {m['case100']:.4f}"
    if base is not None:
        # paired per-seeker diff in N@10 averaged over reps, seeker bootstrap
        sk = sorted(set(users))
        d = np.mean([[o[0][users == u].mean() - b[0][users == u].mean() for u in sk] for o, b in zip(out, base)], axis=0)
        rng = np.random.default_rng(0)
        bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
        line += f" | dSeekN10 vs ref {d.mean():+.4f} [{np.percentile(bs,2.5):+.4f},{np.percentile(bs,97.5):+.4f}]"
    print(line, flush=True)
    return m

SD = np.concatenate([X for X, _, _, _ in pc]).std(axis=0)
SD[SD == 0] = 1.0

def objective2(per_case, w, cw, n100w):
    n10, n100 = per_case_metrics(per_case, lambda X: X @ w)
    return float(np.average(n10 + n100w * n100, weights=cw))

def ca2(per_case, w0, fitted, passes=3, cw=None, n100w=0.5, prior=None, lam=0.0, frozen=(), grid_max=None):
    w = w0.copy()
    pen = (lambda v: lam * float(np.sum(np.abs(v - prior) * SD))) if prior is not None and lam else (lambda v: 0.0)
    best = objective2(per_case, w, cw, n100w) - pen(w)
    anchor = F['sem_request']
    for p in range(passes):
        changed = False
        for k in fitted:
            if k == anchor or FEATURES[k] in frozen:
                continue
            grid = {0.0, *(w[k] * m for m in (0.25, 0.5, 0.75, 1.5, 2.0, 4.0)),
                    *(s * v for s in (1, -1) for v in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0))}
            if prior is not None:
                grid.add(float(prior[k]))
            if grid_max and FEATURES[k] in grid_max:
                grid = {g for g in grid if abs(g) <= grid_max[FEATURES[k]]}
            for value in sorted(grid):
                trial = w.copy(); trial[k] = value
                score = objective2(per_case, trial, cw, n100w) - pen(trial)
                if score > best + 1e-6:
                    best, w, changed = score, trial, True
        if not changed:
            break
    return w

def ca_fit(start=None, per_case=False, **kw):
    start = START if start is None else start
    def fit(tr):
        cw = None if per_case else ff.seeker_weights([cases[i] for i in tr])
        w = ca2([pc[i] for i in tr], start, FITTED, cw=cw, **kw)
        fit.last = w
        return lambda X: X @ w
    return fit
