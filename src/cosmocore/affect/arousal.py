"""The arousal target: |TD| normalised by a running scale and clipped to [0, 1] (pure functions).

State (`ArousalScale`, a small frozen record) holds an exponentially decayed mean of TD^2 and the
weight that decay has put on data so far (for Adam-style bias correction):

    m'   = d * m + (1 - d) * mean_batch(TD^2)
    w'   = d * w + (1 - d)                  (w = 1 - d^n after n batches)
    rms  = sqrt(m' / w')                    (the bias-corrected running RMS of TD)
    a    = clip(|TD| / (width * max(rms, min_scale)), 0, 1)

With width = 2 and TD roughly Gaussian with mean 0, arousal > 0.7 (Dream Queue) is |TD| > 1.4 rms
(about 16% of items) and arousal < 0.3 (Prune Bin) is |TD| < 0.6 rms (about 45%). The scale is
updated before the batch is normalised, so the first batch is measured against itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

MIN_SCALE = 1e-6  # reward units; a batch of exact predictions gives arousal 0, not 0/0


@dataclass(frozen=True)
class ArousalScale:
    """Running statistics of TD^2 (bias-corrected EMA); the default is the state before any data."""

    mean_sq: float = 0.0  # decayed sum of batch means of TD^2, reward units squared
    weight: float = 0.0  # decayed sum of the (1 - d) weights; 1 - d^n after n batches
    batches: int = 0  # batches seen

    @property
    def rms(self) -> float:
        """The bias-corrected running RMS of TD (reward units); 0 before any data."""
        return math.sqrt(self.mean_sq / self.weight) if self.weight > 0 else 0.0


def update_scale(scale: ArousalScale, td: torch.Tensor, decay: float) -> ArousalScale:
    """The state after one batch of TD errors `td` (B,) in reward units; an empty batch changes nothing."""
    if td.numel() == 0:
        return scale
    batch_mean_sq = float(td.detach().double().pow(2).mean())
    return ArousalScale(
        mean_sq=decay * scale.mean_sq + (1.0 - decay) * batch_mean_sq,
        weight=decay * scale.weight + (1.0 - decay),
        batches=scale.batches + 1,
    )


def normalised_arousal(td: torch.Tensor, scale: ArousalScale, width: float) -> torch.Tensor:
    """Arousal targets (B,) in [0, 1]: |td| / (width * rms), clipped; no gradient flows through it."""
    denominator = width * max(scale.rms, MIN_SCALE)
    return (td.detach().abs() / denominator).clamp(0.0, 1.0).to(torch.float32)


def arousal_targets(
    td: torch.Tensor, scale: ArousalScale, decay: float, width: float
) -> tuple[torch.Tensor, ArousalScale]:
    """Update the scale with this batch, then normalise it: (targets (B,) in [0, 1], new state)."""
    new_scale = update_scale(scale, td, decay)
    return normalised_arousal(td, new_scale, width), new_scale
