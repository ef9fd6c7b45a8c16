"""The learners' math as pure tensor functions: no model, no buffer, no I/O in here.

    masked.py     token -> sample -> batch reductions with per-sample weights
    gae.py        GAE over completion tokens for a terminal reward; PPO advantages
    grpo.py       group-baseline TD and advantages (critic-free)
    offpolicy.py  importance ratio, truncation, staleness weights, the nocturnal schedule
    ppo.py        clipped surrogate, value loss, entropy, k3 KL; `objective` -> loss + UpdateStats
    signals.py    TD error, confidence and confidence variance
    meta.py       the meta-gradient step on the prune thresholds

The wake/sleep loop scores a batch with the policy, builds a `TokenBatch` and calls `objective`;
every formula is written out in docs/learner.md.
"""
