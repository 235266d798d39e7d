import sys
sys.path.insert(0, 'runs/fusion3')
from harness import *
cf, pop, tr = [], [], []
for X, t, n, ti in pc:
    m = X[:, F['cf_request']] > 0
    cf.append(X[m, F['cf_request']]); pop.append(X[m, F['popularity']]); tr.append(t[m])
cf, pop, tr = map(np.concatenate, (cf, pop, tr))
print('rows with cf_request>0', len(cf), 'truth', tr.sum())
for lo, hi in [(0,2),(2,3),(3,4),(4,4.5),(4.5,5),(5,6)]:
    m = (pop >= lo) & (pop < hi)
    for clo, chi in [(0,0.05),(0.05,0.1),(0.1,0.2),(0.2,1)]:
        mm = m & (cf >= clo) & (cf < chi)
        print(f'pop[{lo},{hi}) cf[{clo},{chi}) n={mm.sum():6d} rate={tr[mm].mean() if mm.sum() else 0:.4f}', end='   ')
    print()
