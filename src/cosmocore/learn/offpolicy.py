"""Off-policy corrections for replayed trajectories, and the nocturnal schedule (pure functions).

A replayed trajectory carries the log-probs its behaviour policy mu gave its tokens when it was
generated, and that policy's version (the count of policy updates before it). Corrections:

- ratio: rho_t = exp(log pi(y_t) - log mu(y_t)), per completion token, against the stored log-probs;
  the PPO clip uses it (`cosmocore.learn.ppo.clipped_surrogate`).
- truncation: the importance weight in the unclipped term is min(rho_t, c), c = `is_cap` > 1 + eps.
  For a positive advantage the PPO clip already bounds it at 1 + eps; for a negative advantage a
  ratio above c then gives the constant -c * A and no gradient (dual-clip PPO, Ye et al. 2020). So no
  token contributes a surrogate beyond c |A|, however stale its behaviour policy.
- staleness: age = current version - stored version; a sample with age > `staleness_cap` gets weight
  0, which the reductions treat exactly as dropping it (`cosmocore.learn.masked`). A negative age is
  a bookkeeping bug and raises.
- PER weights (from the buffer) multiply the per-sample weight.

On-policy (wake) data goes through the same functions: there mu is the policy that just generated it.
The 80/20 split of a nocturnal minibatch is the buffer's (`cosmocore.buffer.priority.split_mixed`);
`dream_rate_ratio` measures what it amounts to: mean draws per Dream Queue member over mean draws
per non-member (the paper's "5x the baseline rate").
"""

from __future__ import annotations

import math

import torch


def importance_ratio(logp: torch.Tensor, behaviour_logp: torch.Tensor) -> torch.Tensor:
    """rho = pi / mu per token, (B, T), from log-probs in nats (the exponent is clamped at +-20 nats)."""
    return torch.exp((logp - behaviour_logp).clamp(-20.0, 20.0))


def truncate(ratio: torch.Tensor, cap: float | None) -> torch.Tensor:
    """min(rho, cap) per token; `cap` None or inf leaves the ratio as it is."""
    if cap is None or math.isinf(cap):
        return ratio
    return ratio.clamp(max=cap)


def policy_age(versions: torch.Tensor, current_version: int) -> torch.Tensor:
    """Policy updates since each sample was generated: (B,) long; raises on a sample from the future."""
    age = current_version - versions.long()
    if bool((age < 0).any()):
        raise ValueError(f"a sample's policy version exceeds the current version {current_version}")
    return age


def fresh_mask(versions: torch.Tensor, current_version: int, staleness_cap: int) -> torch.Tensor:
    """True where a sample is at most `staleness_cap` versions old: (B,) bool."""
    return policy_age(versions, current_version) <= staleness_cap


def sample_weights(
    versions: torch.Tensor, current_version: int, staleness_cap: int, per_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-sample loss weights (B,): PER weight (1 when None) where fresh, 0 where stale."""
    fresh = fresh_mask(versions, current_version, staleness_cap).to(torch.float32)
    return fresh if per_weights is None else fresh * per_weights.to(torch.float32)


def nocturnal_due(wake_steps_done: int, every: int) -> bool:
    """True after every `every`-th wake step (counting from 1); `every` = 0 means never."""
    return every > 0 and wake_steps_done > 0 and wake_steps_done % every == 0


def dream_rate_ratio(member_draws: int, members: int, other_draws: int, others: int) -> float | None:
    """(draws per member) / (draws per non-member); `members` and `others` are population sizes summed
    over the draws (so a phase of several batches is one ratio). None when either rate is undefined."""
    if members == 0 or others == 0 or other_draws == 0:
        return None
    return (member_draws / members) / (other_draws / others)
