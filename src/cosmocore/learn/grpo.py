"""The critic-free learner (GRPO): a group baseline instead of a value head (pure tensor functions).

A group is the completions sampled for one prompt. For sample i of group g with reward r_i:

    TD_i = r_i - mean_{j in g} r_j                         (the TD error: V(prompt) = the group mean)
    A_i  = TD_i / s                                         (s: the latest wake batch's RMS of TD, or 1)

A group of one sample has TD = 0 and A = 0. Every completion token of sample i gets A_i; the loss is
`cosmocore.learn.ppo.objective` with no value term. GRPO's per-group std normalisation is not
offered: a replayed item's group is gone by the time it is replayed, and per-group std up-weights
near-unanimous groups (Dr. GRPO, Liu et al. 2025); one batch-level scale serves wake and replay alike.
"""

from __future__ import annotations

import torch

def group_index(group_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(dense group index per sample (B,), samples per group (G,) float) for arbitrary integer ids."""
    _, index = torch.unique(group_ids, return_inverse=True)
    counts = torch.bincount(index).to(torch.float32)
    return index, counts


def group_sum(x: torch.Tensor, index: torch.Tensor, groups: int) -> torch.Tensor:
    return torch.zeros(groups, dtype=x.dtype, device=x.device).index_add_(0, index, x)


def group_td(reward: torch.Tensor, group_ids: torch.Tensor) -> torch.Tensor:
    """TD = reward - its group's mean reward: (B,), (B,) -> (B,) reward units."""
    index, counts = group_index(group_ids)
    r = reward.to(torch.float32)
    means = group_sum(r, index, counts.numel()) / counts
    return r - means[index]


def peer_means(reward: torch.Tensor, group_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Leave-one-out group statistics: for each sample, the mean reward of the *other* samples of its
    group and how many there are, (B,), (B,) -> ((B,) reward units, (B,) float); a lone sample has
    mean 0 and 0 peers. Never uses the sample's own reward, so it is an honest expectation of it."""
    index, counts = group_index(group_ids)
    r = reward.to(torch.float32)
    peers = counts[index] - 1.0
    others = group_sum(r, index, counts.numel())[index] - r
    return torch.where(peers > 0, others / peers.clamp(min=1.0), torch.zeros_like(r)), peers


def token_advantages(per_sample: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each sample's advantage (B,) on every one of its completion tokens -> (B, T), 0 on padding."""
    return per_sample.to(torch.float32).unsqueeze(-1) * mask.to(torch.float32)
