import sys, time
sys.path.insert(0, 'runs/fusion3')
from harness import *
import lightgbm as lgb
USE = [k for k in FITTED]

def gbm_fit(params, rounds, per_case=False, pool_top=None):
    def fit(tr):
        cw = np.ones(len(tr)) if per_case else ff.seeker_weights([cases[i] for i in tr])
        Xs, ys, ws, gs = [], [], [], []
        for i, c in zip(tr, cw):
            X, truth, n, tier = pc[i]
            if pool_top:
                keep = set(np.flatnonzero(truth).tolist())
                for w in (REF, START):
                    keep.update(np.argsort(-(X @ w))[:pool_top].tolist())
                keep = np.array(sorted(keep))
                X, truth = X[keep], truth[keep]
            Xs.append(X[:, USE]); ys.append(truth.astype(int)); ws.append(np.full(len(truth), c)); gs.append(len(truth))
        ds = lgb.Dataset(np.concatenate(Xs), np.concatenate(ys), weight=np.concatenate(ws), group=gs,
                         feature_name=[FEATURES[k] for k in USE])
        m = lgb.train({'objective': 'lambdarank', 'verbose': -1, 'num_threads': 1, 'seed': 0, **params}, ds, rounds)
        fit.last = m
        return lambda X: m.predict(X[:, USE], num_threads=1)
    return fit

if __name__ == '__main__':
    t = time.time()
    f = gbm_fit({'learning_rate': 0.05, 'num_leaves': 7, 'min_data_in_leaf': 200, 'lambdarank_truncation_level': 20,
                 'eval_at': [10]}, 100, pool_top=300)
    s = f(np.arange(480))
    print('fit', time.time() - t)
    a, b = per_case_metrics(pc[480:], s)
    print(a.mean(), b.mean(), time.time() - t)
