import hashlib, json, pickle, time
from pathlib import Path
t=time.time()
from mrrec_lab.eval.runner import load_benchmark, restrict_to_seekers
from mrrec_chat.recommend.ranker import FEATURES
b = restrict_to_seekers(load_benchmark(redial="../shared/data/redial/dialogues_dev.jsonl", movielens="../shared/data/ml-latest-small"), "mrrec_lab/train/split_redial_dev.json:train_seekers")
cases = sorted(b.cases, key=lambda c: c.case_id)
key = hashlib.sha1(json.dumps([FEATURES, [c.case_id for c in cases]]).encode()).hexdigest()[:12]
print(key, len(cases), time.time()-t)
meta=[dict(case_id=c.case_id,user_id=c.user_id,gt=list(c.ground_truth),cold=getattr(c,'cold_start',None)) for c in cases]
Path('runs/fusion3/cases.json').write_text(json.dumps(meta))
