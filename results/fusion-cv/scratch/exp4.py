import sys, time
sys.path.insert(0, 'runs/fusion3')
from harness import *
ref = cv(fixed(REF))
NOMEM = {'remembered': 0, 'cf_memory': 0, 'sem_memory': 0, 'affinity': 0}
cands = {
 'C2 remembered |w|<=0.3': ca_fit(grid_max={'remembered': 0.3}),
 'D1 start=ref, L1 to ref lam=0.01': ca_fit(start=REF, prior=REF, lam=0.01),
 'G no memory features': ca_fit(start=W({**DEFAULT_WEIGHTS, **NOMEM}), frozen=tuple(NOMEM)),
 'C3 remembered |w|<=1': ca_fit(grid_max={'remembered': 1.0}),
 'E per-case objective': ca_fit(per_case=True),
}
for name, fit in cands.items():
    t = time.time()
    report(name, cv(fit), ref)
    print('   ', round(time.time() - t), 's', flush=True)
