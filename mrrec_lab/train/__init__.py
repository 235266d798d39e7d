"""Training the policy: cold-start SFT on hindsight trajectories, then GRPO with the paper's reward.

Modules, in the order data flows:
  data.py          ReDial cases split by seeker, MovieLens pseudo-requests, per-case memory
  env.py           the app's memory store, prompts, search and catalog, as training sees them
  trajectories.py  hindsight SFT trajectories and their loss masks (prompt and <memory> masked)
  sft.py           the SFT job (TRL SFTTrainer, LoRA)
  rewards.py       R_format, R_rec, R_mem as pure functions (paper §3.3)
  rollout.py       GRPO rollouts in the tag protocol with the memory tool (TRL rollout_func)
  grpo.py          the GRPO job (TRL GRPOTrainer)
  validate.py      format-follow / tool-call rates and reward with the real agent loop
  jobs.py          split, validate an adapter via LocalLLM, ship it with a model card
  config.py        job dataclasses and presets (cpu: what ran here; gpu: paper settings, untested)
  common.py        what the jobs share (model loading, periodic validation, curves)

Run `python -m mrrec_lab.train --help`.
"""
