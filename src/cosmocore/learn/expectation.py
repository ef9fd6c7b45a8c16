"""What the learner expects of a completion's reward: the critic as a prior, the prompt's other
attempts as evidence (pure tensor functions and a small frozen running state).

For completion i of a prompt with k_i other attempts in the same wake step, whose mean reward is
m_i (`cosmocore.learn.grpo.peer_means`), and the value head's V_i = V(prompt):

    b_i = (w V_i + k_i m_i) / (w + k_i)                  (b_i = V_i when k_i = 0)

with w the critic's worth in attempts, b_i never uses r_i itself. The learner's default is w = 1
(the critic counts as one attempt; `LearnConfig.critic_weight`). The posterior mean of the prompt's
expected reward, when the critic's error about it has variance s_prior^2 and one attempt's reward
scatters around it with variance s_within^2, takes w = s_within^2 / s_prior^2; both variances are
running estimates over wake batches (`ExpectationScale`: bias-corrected exponential averages with
decay `DECAY`):

    s_within^2 = sum_g sum_i (r_gi - rbar_g)^2 / sum_g (n_g - 1)     (groups of 2 or more)
    s_prior^2  = mean_g [ (rbar_g - Vbar_g)^2 - s_within^2 / n_g ]     (the critic's error, sampling removed)

and w is kept in [1 / MAX_WEIGHT, MAX_WEIGHT]. Before any batch w = 1 (the critic counts as one
attempt). A critic that knows each prompt's success rate drives s_prior^2 to 0 and w up, so it is
trusted; one that predicts only the mean reward (the embedded model's, docs/learner.md) leaves w
at s_within^2 / s_between^2, about 3.5 there, and the attempts carry the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cosmocore.learn.grpo import group_index, group_sum

DECAY = 0.9  # per wake batch: the running variances follow about the last 10 batches
MAX_WEIGHT = 100.0  # w in [1/100, 100] attempts: neither source is ever ignored entirely


@dataclass(frozen=True)
class ExpectationScale:
    """Running (bias-corrected) within-prompt reward variance and critic error variance."""

    within: float = 0.0  # decayed sum of batch s_within^2, reward units squared
    prior: float = 0.0  # decayed sum of batch s_prior^2, reward units squared
    weight: float = 0.0  # decayed sum of the (1 - DECAY) weights

    @property
    def critic_weight(self) -> float:
        """w = s_within^2 / s_prior^2 in attempts, clipped to [1/MAX_WEIGHT, MAX_WEIGHT]; 1 before data."""
        if self.weight == 0.0:
            return 1.0
        within, prior = self.within / self.weight, self.prior / self.weight
        if prior <= within / MAX_WEIGHT:
            return MAX_WEIGHT
        return min(MAX_WEIGHT, max(1.0 / MAX_WEIGHT, within / prior))


def batch_variances(reward: torch.Tensor, group_ids: torch.Tensor,
                    head_value: torch.Tensor) -> tuple[float, float] | None:
    """(s_within^2, s_prior^2) of one wake batch (module doc), or None without a group of two."""
    index, counts = group_index(group_ids)
    groups = counts.numel()
    r, v = reward.to(torch.float64), head_value.to(torch.float64)
    means = group_sum(r, index, groups) / counts.to(torch.float64)
    spread = float((r - means[index]).pow(2).sum())
    dof = float((counts - 1).sum())
    if dof == 0:
        return None
    within = spread / dof
    critic = group_sum(v, index, groups) / counts.to(torch.float64)
    prior = float(((means - critic).pow(2) - within / counts.to(torch.float64)).mean())
    return within, prior


def update_scale(scale: ExpectationScale, reward: torch.Tensor, group_ids: torch.Tensor,
                 head_value: torch.Tensor) -> ExpectationScale:
    """The state after one wake batch (unchanged when it has no group of two)."""
    measured = batch_variances(reward, group_ids, head_value)
    if measured is None:
        return scale
    within, prior = measured
    return ExpectationScale(DECAY * scale.within + (1 - DECAY) * within, DECAY * scale.prior + (1 - DECAY) * prior,
                            DECAY * scale.weight + (1 - DECAY))


def pooled_expectation(head_value: torch.Tensor, peer_mean: torch.Tensor, peers: torch.Tensor,
                       critic_weight: float) -> torch.Tensor:
    """b = (w V + k m) / (w + k) per sample: (B,) each -> (B,) reward units (module doc)."""
    k = peers.to(torch.float32)
    return (critic_weight * head_value.to(torch.float32) + k * peer_mean.to(torch.float32)) / (critic_weight + k)
