"""The policy objective shared by PPO and GRPO: clipped surrogate, value loss, entropy, KL (pure).

Per completion token t of sample b (rho from `cosmocore.learn.offpolicy`, A the advantage):

    policy   l_t = -min(min(rho_t, c) * A_t, clip(rho_t, 1 - eps, 1 + eps) * A_t)
    value    l_t = 1/2 max((V_t - R_t)^2, (V_old_t + clip(V_t - V_old_t, -eps_v, eps_v) - R_t)^2)
                   (the first term only, when no stored values or eps_v = 0)
    entropy  H_t = per-token entropy of the policy, nats (a bonus: subtracted)
    kl       k_t = exp(x) - x - 1, x = log pi_ref(y_t) - log pi(y_t)  (k3; >= 0; estimates KL(pi || ref))

Each term is reduced by `cosmocore.learn.masked.reduce_tokens` (sample mean, then the weighted batch
mean with per-sample weights = PER weight x freshness), and

    loss = policy + vf_coef * value - ent_coef * entropy + kl_coef * kl

The value term is dropped for the critic-free learner (GRPO: `TokenBatch.values` is None). For
replayed samples the k3 estimate uses tokens drawn from the behaviour policy, not pi: an
approximation whose error the staleness cap bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cosmocore.config import LearnConfig
from cosmocore.learn.masked import reduce_tokens, token_counts, token_mean
from cosmocore.learn.offpolicy import importance_ratio, truncate
from cosmocore.types import UpdateStats


@dataclass(frozen=True)
class TokenBatch:
    """What the objective needs for B trajectories padded to T completion tokens."""

    logp: torch.Tensor  # (B, T) nats, log pi(y_t) under the policy being trained (differentiable)
    behaviour_logp: torch.Tensor  # (B, T) nats, log mu(y_t) stored when the completion was generated
    advantages: torch.Tensor  # (B, T) reward units (constants)
    mask: torch.Tensor  # (B, T) bool, True on completion tokens
    entropy: torch.Tensor  # (B, T) nats, per-token entropy of the policy (differentiable)
    weights: torch.Tensor | None = None  # (B,) per-sample weights (PER x freshness); None = all 1
    values: torch.Tensor | None = None  # (B, T) reward units, value head (differentiable); None = GRPO
    returns: torch.Tensor | None = None  # (B, T) reward units, value targets (with values)
    old_values: torch.Tensor | None = None  # (B, T) reward units, values stored at generation (clipping)
    ref_logp: torch.Tensor | None = None  # (B, T) nats, log pi_ref(y_t) of the reference policy


@dataclass(frozen=True)
class Objective:
    """The loss to backpropagate and its parts (scalar tensors; diagnostics are detached)."""

    loss: torch.Tensor
    policy_loss: torch.Tensor
    value_loss: torch.Tensor
    entropy: torch.Tensor
    kl_ref: torch.Tensor
    approx_kl: torch.Tensor
    clip_fraction: torch.Tensor
    truncated_fraction: torch.Tensor
    samples: int

    def stats(self, stale_dropped: int = 0, confidence_variance: float = float("nan")) -> UpdateStats:
        """The record the metrics take (floats)."""
        return UpdateStats(
            loss=float(self.loss.detach()),
            policy_loss=float(self.policy_loss),
            value_loss=float(self.value_loss),
            entropy=float(self.entropy),
            kl_ref=float(self.kl_ref),
            approx_kl=float(self.approx_kl),
            clip_fraction=float(self.clip_fraction),
            truncated_fraction=float(self.truncated_fraction),
            samples=self.samples,
            stale_dropped=stale_dropped,
            confidence_variance=confidence_variance,
        )


def clipped_surrogate(
    ratio: torch.Tensor, advantages: torch.Tensor, clip_eps: float, is_cap: float | None
) -> torch.Tensor:
    """Per-token policy loss (B, T): -min(min(rho, c) A, clip(rho, 1-eps, 1+eps) A) (to be minimised)."""
    unclipped = truncate(ratio, is_cap) * advantages
    clipped = ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * advantages
    return -torch.minimum(unclipped, clipped)


def policy_loss(batch: TokenBatch, clip_eps: float, is_cap: float | None) -> torch.Tensor:
    """The clipped, truncated surrogate reduced over tokens and samples -> scalar."""
    ratio = importance_ratio(batch.logp, batch.behaviour_logp)
    return reduce_tokens(clipped_surrogate(ratio, batch.advantages, clip_eps, is_cap), batch.mask, batch.weights)


def value_loss(
    values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor | None = None,
    old_values: torch.Tensor | None = None,
    clip_eps: float = 0.0,
) -> torch.Tensor:
    """1/2 squared error of the value head, clipped around `old_values` when given and clip_eps > 0."""
    loss = (values - returns).pow(2)  # (B, T) reward units squared
    if old_values is not None and clip_eps > 0:
        clipped = old_values + (values - old_values).clamp(-clip_eps, clip_eps)
        loss = torch.maximum(loss, (clipped - returns).pow(2))
    return 0.5 * reduce_tokens(loss, mask, weights)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi || ref): exp(x) - x - 1 with x = ref_logp - logp, (B, T) nats, >= 0."""
    x = (ref_logp - logp).clamp(-20.0, 20.0)
    return torch.exp(x) - x - 1.0


def ratio_diagnostics(batch: TokenBatch, clip_eps: float, is_cap: float | None) -> tuple[torch.Tensor, ...]:
    """(approx KL(mu || pi) by k3, clip fraction, truncated fraction) over all completion tokens, detached."""
    with torch.no_grad():
        log_ratio = (batch.logp - batch.behaviour_logp).clamp(-20.0, 20.0)
        ratio = torch.exp(log_ratio)
        approx_kl = token_mean(ratio - 1.0 - log_ratio, batch.mask)
        clipped = token_mean(((ratio - 1.0).abs() > clip_eps).float(), batch.mask)
        truncated = token_mean((ratio > (is_cap or float("inf"))).float(), batch.mask)
    return approx_kl, clipped, truncated


def objective(batch: TokenBatch, config: LearnConfig) -> Objective:
    """The total loss of the module doc and its parts, for PPO (values given) or GRPO (values None)."""
    pg = policy_loss(batch, config.clip_eps, config.is_cap)
    vf = _value_term(batch, config)
    ent = reduce_tokens(batch.entropy, batch.mask, batch.weights)
    kl = _kl_term(batch)
    loss = pg + config.vf_coef * vf - config.ent_coef * ent + config.kl_coef * kl
    approx_kl, clipped, truncated = ratio_diagnostics(batch, config.clip_eps, config.is_cap)
    parts = (pg.detach(), vf.detach(), ent.detach(), kl.detach())
    return Objective(loss, *parts, approx_kl, clipped, truncated, _counted(batch))


def _kl_term(batch: TokenBatch) -> torch.Tensor:
    if batch.ref_logp is None:
        return batch.logp.new_zeros(())
    return reduce_tokens(k3_kl(batch.logp, batch.ref_logp), batch.mask, batch.weights)


def _value_term(batch: TokenBatch, config: LearnConfig) -> torch.Tensor:
    if batch.values is None or batch.returns is None:
        return batch.logp.new_zeros(())
    return value_loss(batch.values, batch.returns, batch.mask, batch.weights, batch.old_values, config.value_clip_eps)


def _counted(batch: TokenBatch) -> int:
    """Samples that contribute: a completion token and a positive weight."""
    has_tokens = token_counts(batch.mask) > 0
    if batch.weights is None:
        return int(has_tokens.sum())
    return int((has_tokens & (batch.weights > 0)).sum())
