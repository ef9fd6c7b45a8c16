"""The meta-gradient rule that moves the prune thresholds with confidence variance, both ways (pure).

The Prune Bin deletes an item when |v| < tau_v and a < tau_a (and its normalised entropy is not
above the curiosity floor). The paper: "low variance (< 0.1) increases pruning via meta-gradient
descent". Given the confidence variance s (`cosmocore.learn.signals`) and its threshold s* (0.1),
the thresholds take one gradient step on the surrogate

    L(tau) = g * o(tau),      g = s* - s        (signed: > 0 when confidence has collapsed)
    o(tau) = 1 - mean_i [ e_i * sigma((tau_v - |v_i|) / T) * sigma((tau_a - a_i) / T) ]

o is the soft share of the given items that would survive pruning (the buffer occupancy after
pruning, relative to now), e_i = 0 for items exempt by entropy, sigma the logistic function and T the
temperature. do/dtau <= 0, so with s < s* (g > 0) descending L raises the thresholds (more pruning),
and with s > s* (g < 0, variance recovered) it lowers them again:

    tau' = clamp(tau - clip(lr * dL/dtau, -max_step, max_step), floor, ceiling)

The floor is the configured starting thresholds (the paper's 0.2 / 0.3): recovered variance undoes
earlier raises but never prunes less than the paper's rule. The ceilings (0.5 for tau_v, 0.7 for
tau_a by default) keep the prune zone clear of the Dream Queue's |v| > 0.5, a > 0.7. With s NaN or
no items the thresholds are returned unchanged. Closed form, for one threshold:

    dL/dtau_v = -g / (T N) * sum_i e_i sigma'(x_i) sigma(y_i),   x_i = (tau_v - |v_i|)/T, y_i = (tau_a - a_i)/T

Pass the tags of a uniform sample of the buffer so that o estimates the whole buffer's occupancy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from cosmocore.config import LearnConfig


@dataclass(frozen=True)
class PruneThresholds:
    """The Prune Bin's gates: an item is prunable when |v| < valence and a < arousal."""

    valence: float = 0.2  # |v| units
    arousal: float = 0.3  # arousal units


def _as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64).reshape(-1)


def soft_occupancy(
    tau: torch.Tensor,  # (2,) [tau_v, tau_a]
    valence: torch.Tensor,  # (N,) in [-1, 1]
    arousal: torch.Tensor,  # (N,) in [0, 1]
    exempt: torch.Tensor,  # (N,) bool, True = never pruned (entropy above the curiosity floor)
    temperature: float,
) -> torch.Tensor:
    """o(tau): soft share of the items that survive pruning, a scalar in [0, 1] (module doc)."""
    below_v = torch.sigmoid((tau[0] - valence.abs()) / temperature)
    below_a = torch.sigmoid((tau[1] - arousal) / temperature)
    return 1.0 - (below_v * below_a * (~exempt).to(tau.dtype)).mean()


def meta_gradient(
    thresholds: PruneThresholds,
    gap: float,
    valence: torch.Tensor,
    arousal: torch.Tensor,
    exempt: torch.Tensor,
    temperature: float,
) -> tuple[float, float]:
    """dL/dtau = gap * do/dtau, by autograd on `soft_occupancy`: (d/dtau_v, d/dtau_a), signed like -gap."""
    tau = torch.tensor([thresholds.valence, thresholds.arousal], dtype=torch.float64, requires_grad=True)
    surrogate = gap * soft_occupancy(tau, valence, arousal, exempt, temperature)
    (grad,) = torch.autograd.grad(surrogate, tau)
    return float(grad[0]), float(grad[1])


def _move(tau: float, grad: float, config: LearnConfig, floor: float, ceiling: float) -> float:
    """One bounded descent step on one threshold, kept in [floor, ceiling] (a threshold configured
    outside that range only moves towards it)."""
    step = min(max(-config.meta_lr * grad, -config.meta_max_step), config.meta_max_step)
    moved = tau + step
    if step > 0:
        return max(tau, min(ceiling, moved))
    return min(tau, max(floor, moved))


def meta_prune_step(
    thresholds: PruneThresholds,
    confidence_variance: float,
    valence: np.ndarray | torch.Tensor,  # (N,) valences of a uniform sample of buffer items
    arousal: np.ndarray | torch.Tensor,  # (N,) their arousals
    exempt: np.ndarray | torch.Tensor | None = None,  # (N,) bool, True = entropy above the floor
    config: LearnConfig | None = None,
    floor: PruneThresholds | None = None,  # the lowest thresholds (the configured start); None = the defaults
) -> PruneThresholds:
    """The thresholds after one meta step (module doc): up below the confidence threshold, down above it."""
    config = config or LearnConfig()
    floor = floor or PruneThresholds()
    gap = config.confidence_threshold - confidence_variance
    v, a = _as_tensor(valence), _as_tensor(arousal)
    if math.isnan(confidence_variance) or gap == 0 or v.numel() == 0 or config.meta_lr == 0:
        return thresholds
    skip = torch.zeros(v.shape, dtype=torch.bool) if exempt is None else torch.as_tensor(exempt).reshape(-1).bool()
    grad_v, grad_a = meta_gradient(thresholds, gap, v, a, skip, config.meta_temperature)
    return PruneThresholds(
        _move(thresholds.valence, grad_v, config, floor.valence, config.prune_valence_max),
        _move(thresholds.arousal, grad_a, config, floor.arousal, config.prune_arousal_max),
    )
