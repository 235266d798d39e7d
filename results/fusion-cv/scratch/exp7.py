import sys, time, pickle
sys.path.insert(0, 'runs/fusion3')
from harness import *
from gbm import gbm_fit
ref = cv(fixed(REF))
base = {'learning_rate': 0.05, 'lambdarank_truncation_level': 20}
L4 = cv(gbm_fit({**base, 'num_leaves': 3, 'min_data_in_leaf': 1000}, 150))
report('L4', L4, ref)
A = cv(ca_fit())
report('A', A, ref)
pickle.dump({'ref': ref, 'L4': L4, 'A': A}, open('runs/fusion3/exp7.pkl', 'wb'))
report('L4 vs A (paired per seeker)', L4, A)
# per-case paired diff, case bootstrap
d = np.mean([l[0] - a[0] for l, a in zip(L4, A)], axis=0)
rng = np.random.default_rng(0); bs = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
print('L4 - A per case N@10 %+.4f [%+.4f, %+.4f]' % (d.mean(), np.percentile(bs, 2.5), np.percentile(bs, 97.5)))
