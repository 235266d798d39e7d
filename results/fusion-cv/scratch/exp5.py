import sys, time
sys.path.insert(0, 'runs/fusion3')
from harness import *
from gbm import gbm_fit
ref = cv(fixed(REF))
base = {'learning_rate': 0.05, 'lambdarank_truncation_level': 20}
cands = {
 'L3 GBM leaves7 mdl500 100r full pool': gbm_fit({**base, 'num_leaves': 7, 'min_data_in_leaf': 500}, 100),
 'L4 GBM leaves3 mdl1000 150r full pool': gbm_fit({**base, 'num_leaves': 3, 'min_data_in_leaf': 1000}, 150),
}
for name, fit in cands.items():
    t = time.time()
    report(name, cv(fit), ref)
    print('   ', round(time.time() - t), 's', flush=True)
