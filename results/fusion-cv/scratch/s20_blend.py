import sys; sys.path.insert(0, 'results/fusion-cv/scratch')
from s20_common import *
t = time.time()
REFW = REF
ref_out = cv_arrays(lambda sub: REFW)
summary("reference", ref_out)
trees_cache = {}
def trees_cv(sub):
    key = tuple(sub)
    if key not in trees_cache:
        trees_cache[key] = trees_fit(sub)
    return trees_cache[key]
gbm_out = cv_arrays(lambda sub: (lambda tr: (lambda X: tree_scores(tr, X)))(trees_cv(sub)))
summary("trees", gbm_out, ref_out)
print("t", time.time() - t, flush=True)
for a in (0.25, 0.5, 1.0):
    def fit(sub, a=a):
        tr = trees_cv(sub)
        return lambda X: 1.0 / (60 + ranks(tree_scores(tr, X))) + a / (60 + ranks(X @ REFW))
    summary(f"rrf trees + {a} ref", cv_arrays(fit), gbm_out)
for b_ in (0.1, 0.25, 0.5):
    def fit(sub, b_=b_):
        tr = trees_cv(sub)
        def sc(X):
            s1 = tree_scores(tr, X); s2 = X @ REFW
            return (s1 - s1.mean()) / (s1.std() + 1e-9) + b_ * (s2 - s2.mean()) / (s2.std() + 1e-9)
        return sc
    summary(f"z trees + {b_} z ref", cv_arrays(fit), gbm_out)
print("t", time.time() - t, flush=True)
