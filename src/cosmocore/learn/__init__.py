"""The learners' math as pure tensor functions: no model, no buffer, no I/O in here.

    masked.py     token -> sample -> batch reductions with per-sample weights
    gae.py        GAE over completion tokens for a terminal reward; PPO advantages
    grpo.py       group-baseline TD, leave-one-out peer means, advantages (critic-free)
    expectation.py  the expectation behind TD: the critic pooled with a prompt's other attempts
    offpolicy.py  importance ratio, truncation, staleness weights, the schedule, the dream rate ratio
    ppo.py        clipped surrogate, value loss, entropy, k3 KL; `objective` -> loss + UpdateStats
    signals.py    V(prompt), confidence and confidence variance, explained variance
    meta.py       the meta-gradient step on the prune thresholds (both ways)

The wake/sleep loop scores a batch with the policy, builds a `TokenBatch` and calls `objective`;
every formula is written out in docs/learner.md.
"""
