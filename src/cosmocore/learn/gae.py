"""Generalised advantage estimation over the completion tokens of a terminal-reward trajectory (pure).

Token t of a completion is an action taken in state s_t = prompt + completion[:t]; `values[:, t]`
is V(s_t) (so values[:, first] is V(prompt)). The only reward is the execution reward, given on the
last completion token; the state after it is terminal (V = 0):

    delta_t = r_t + gamma * V(s_{t+1}) * m_{t+1} - V(s_t)
    A_t     = delta_t + gamma * lambda * m_{t+1} * A_{t+1}
    R_t     = A_t + V(s_t)                                   (the value targets)

m is the completion mask; padding gets A = R = 0. Each row's mask must be one contiguous run (left
or right padding); gaps inside a row would cut the trajectory there. Values are detached: advantages
and returns are constants of the loss. With gamma = lambda = 1, A at the first token is r - V(prompt),
the completion's TD error against V(prompt).

The loop uses the returns as the value head's targets; the policy's advantage is the completion's
TD against the learner's pooled expectation on every token (docs/learner.md section 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MIN_ADVANTAGE_SCALE = 0.05  # reward units: a near-perfect critic must not blow its residual noise up


@dataclass(frozen=True)
class Advantages:
    """GAE output, both (B, T) and zero on padding."""

    advantages: torch.Tensor  # reward units
    returns: torch.Tensor  # value-head targets, reward units


def last_token_index(mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last valid token: (B, T) -> (B,) long (0 for a row without tokens)."""
    positions = torch.arange(1, mask.shape[-1] + 1, device=mask.device)
    return (mask.long() * positions).argmax(dim=-1)


def terminal_rewards(reward: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-token rewards (B, T): `reward` (B,) on each row's last completion token, 0 elsewhere."""
    rewards = torch.zeros(mask.shape, dtype=torch.float32, device=mask.device)
    rows = torch.arange(mask.shape[0], device=mask.device)
    rewards[rows, last_token_index(mask)] = reward.to(torch.float32)
    return rewards * mask.to(torch.float32)


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float) -> Advantages:
    """Advantages and returns (module doc) from per-token rewards (B, T), values (B, T) and mask (B, T)."""
    m = mask.to(torch.float32)
    v = values.detach().to(torch.float32) * m  # (B, T) reward units, padding zeroed
    r = rewards.to(torch.float32) * m
    advantages = torch.zeros_like(v)
    running = torch.zeros_like(v[:, 0])  # A_{t+1}, (B,)
    next_value = torch.zeros_like(running)  # V(s_{t+1}) * m_{t+1}
    next_mask = torch.zeros_like(running)  # m_{t+1}
    for t in reversed(range(v.shape[1])):
        delta = r[:, t] + gamma * next_value - v[:, t]
        running = (delta + gamma * lam * next_mask * running) * m[:, t]
        advantages[:, t] = running
        next_value, next_mask = v[:, t], m[:, t]
    return Advantages(advantages, (advantages + v) * m)


def terminal_gae(
    reward: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
) -> Advantages:
    """GAE for a trajectory whose only reward (B,) is the execution reward at its last token."""
    return gae(terminal_rewards(reward, mask), values, mask, gamma, lam)


def advantage_rms(advantages: torch.Tensor, mask: torch.Tensor) -> float:
    """The scale advantages are divided by: sqrt(mean of A^2 over the completion tokens), reward units,
    never below MIN_ADVANTAGE_SCALE. Not centred: dividing by it keeps every advantage's sign."""
    m = mask.to(torch.float32)
    mean_sq = float((advantages.detach().to(torch.float32).pow(2) * m).sum() / m.sum().clamp(min=1.0))
    return max(mean_sq ** 0.5, MIN_ADVANTAGE_SCALE)
