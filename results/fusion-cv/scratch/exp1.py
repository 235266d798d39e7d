import sys, time
sys.path.insert(0, 'runs/fusion3')
from harness import *
t = time.time()
ref = cv(fixed(REF))
res = {}
res['ref'] = report('reference (sem_request 1, pop 0.05)', ref, ref)
report('start weights', cv(fixed(START)), ref)
report('current fusion.json (in-sample!)', cv(fixed(CUR)), ref)
def ca(obj_w=None, start=START, per_case=False, fitted=FITTED):
    def fit(tr):
        cw = None if per_case else ff.seeker_weights([cases[i] for i in tr])
        w = ff.coordinate_ascent([pc[i] for i in tr], start, fitted, passes=3, case_weights=cw)
        return lambda X: X @ w
    return fit
report('A current procedure (CA, seeker-weighted)', cv(ca()), ref)
print(time.time() - t)
