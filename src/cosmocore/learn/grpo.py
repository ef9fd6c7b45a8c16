"""The critic-free learner (GRPO): a group baseline instead of a value head (pure tensor functions).

A group is the completions sampled for one prompt. For sample i of group g with reward r_i:

    TD_i = r_i - mean_{j in g} r_j                         (the TD error: V(prompt) = the group mean)
    A_i  = TD_i / (std_{j in g} r_j + eps)                 (std normalisation on: GRPO, Shao et al. 2024)
    A_i  = TD_i                                            (off: Dr. GRPO's unbiased form)

std is the sample standard deviation (n - 1 in the denominator, as torch.std); a group of one sample
has TD = 0 and A = 0. Every completion token of sample i gets A_i; the loss is
`cosmocore.learn.ppo.objective` with no value term.
"""

from __future__ import annotations

import torch

GROUP_EPS = 1e-6  # added to the group's std, reward units


def _group_index(group_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(dense group index per sample (B,), samples per group (G,) float) for arbitrary integer ids."""
    _, index = torch.unique(group_ids, return_inverse=True)
    counts = torch.bincount(index).to(torch.float32)
    return index, counts


def _group_sum(x: torch.Tensor, index: torch.Tensor, groups: int) -> torch.Tensor:
    return torch.zeros(groups, dtype=x.dtype, device=x.device).index_add_(0, index, x)


def group_td(reward: torch.Tensor, group_ids: torch.Tensor) -> torch.Tensor:
    """TD = reward - its group's mean reward: (B,), (B,) -> (B,) reward units."""
    index, counts = _group_index(group_ids)
    r = reward.to(torch.float32)
    means = _group_sum(r, index, counts.numel()) / counts
    return r - means[index]


def group_advantages(reward: torch.Tensor, group_ids: torch.Tensor, std_normalise: bool = True) -> torch.Tensor:
    """Per-sample GRPO advantages (B,) (module doc)."""
    td = group_td(reward, group_ids)
    if not std_normalise:
        return td
    index, counts = _group_index(group_ids)
    variance = _group_sum(td.pow(2), index, counts.numel()) / (counts - 1.0).clamp(min=1.0)
    return td / (variance.sqrt()[index] + GROUP_EPS)


def token_advantages(per_sample: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each sample's advantage (B,) on every one of its completion tokens -> (B, T), 0 on padding."""
    return per_sample.to(torch.float32).unsqueeze(-1) * mask.to(torch.float32)
