"""Session 20: trees fitted on seeker bootstrap samples and averaged (bagging), against the
single fit, by the same seeker CV (training seekers only)."""
import sys; sys.path.insert(0, 'results/fusion-cv/scratch')
from s20_common import *
t = time.time()
single = {}
def fit_single(sub):
    key = tuple(sub)
    if key not in single:
        single[key] = trees_fit(sub)
    tr = single[key]
    return lambda X: tree_scores(tr, X)
base = cv_arrays(fit_single)
summary("trees (one fit)", base)
for bags in (3,):
    def fit_bag(sub, bags=bags):
        sub = np.array(sub)
        seekers = sorted(set(users[sub]))
        rng = np.random.default_rng(len(sub))
        models = []
        for b_ in range(bags):
            pick = rng.choice(len(seekers), len(seekers), replace=True)
            rows = [i for k in pick for i in sub[users[sub] == seekers[k]]]
            models.append(trees_fit(rows))
        def sc(X):
            out = 0.0
            for m in models:
                s = tree_scores(m, X); out = out + (s - s.mean()) / (s.std() + 1e-9)
            return out
        return sc
    summary(f"bagged trees x{bags} (seeker bootstrap)", cv_arrays(fit_bag), base)
print("t", time.time() - t, flush=True)
