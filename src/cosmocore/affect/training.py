"""Training the tagger alongside the policy: its loss (pure) and a trainer with its own Adam optimizer.

Priorities are not differentiable, so the tagger learns from the targets the RL update produces
(DESIGN 1):

    L = mean_b (v_b - s_b)^2  +  w_a * mean_b (a_b - a*_b)^2  +  l2 * sum_W ||W||^2

with v, a the tagger's valence and arousal, s the scold labels (`cosmocore.affect.scold`), a* the
normalised |TD| (`cosmocore.affect.arousal`), W the Linear weight matrices (biases excluded). Both
heads regress with a squared error. The trainer owns the running arousal scale; checkpointing lives
in `cosmocore.affect.checkpoint`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from cosmocore.affect.arousal import ArousalScale, arousal_targets
from cosmocore.affect.tagger import AffectiveTagger, as_inputs
from cosmocore.config import AffectConfig


@dataclass(frozen=True)
class TaggerLoss:
    """The tagger's loss terms, scalar tensors (`total` is the one to backpropagate)."""

    total: torch.Tensor
    valence: torch.Tensor  # MSE against the scold labels
    arousal: torch.Tensor  # MSE against the normalised |TD|
    l2: torch.Tensor  # sum of squared weights (before the l2 factor)


@dataclass(frozen=True)
class TaggerStepStats:
    """What one tagger step reports (floats); `arousal_rms` is the running RMS of TD after the step."""

    loss: float
    valence_loss: float
    arousal_loss: float
    l2: float
    arousal_rms: float  # reward units


def tagger_loss(
    valence: torch.Tensor,  # (B,) in [-1, 1]
    arousal: torch.Tensor,  # (B,) in [0, 1]
    scold: torch.Tensor,  # (B,) targets in [-1, 1]
    arousal_target: torch.Tensor,  # (B,) targets in [0, 1]
    weights: Sequence[torch.Tensor],
    l2: float,
    arousal_weight: float = 1.0,
) -> TaggerLoss:
    """The loss in the module doc, as separate terms."""
    valence_loss = (valence - scold).pow(2).mean()
    arousal_loss = (arousal - arousal_target).pow(2).mean()
    l2_term = torch.stack([w.pow(2).sum() for w in weights]).sum() if weights else valence.new_zeros(())
    total = valence_loss + arousal_weight * arousal_loss + l2 * l2_term
    return TaggerLoss(total, valence_loss, arousal_loss, l2_term)


class TaggerTrainer:
    """The tagger, its Adam optimizer and the running arousal scale; one `step` per RL update."""

    def __init__(self, tagger: AffectiveTagger, config: AffectConfig | None = None) -> None:
        self.tagger = tagger
        self.config = config or AffectConfig()
        self.optimizer = torch.optim.Adam(tagger.parameters(), lr=self.config.lr)
        self.scale = ArousalScale()
        self.steps = 0

    def step(
        self,
        prompt_emb: np.ndarray | torch.Tensor,  # (B, P)
        code_emb: np.ndarray | torch.Tensor,  # (B, C)
        features: np.ndarray | torch.Tensor,  # (B, F)
        scold: np.ndarray | torch.Tensor,  # (B,) valence targets in [-1, 1]
        td: np.ndarray | torch.Tensor,  # (B,) TD errors r - V(prompt), reward units
    ) -> TaggerStepStats:
        """One gradient step on a batch; also folds the batch's TD errors into the arousal scale."""
        prompt_t, code_t, features_t, scold_t, td_t = as_inputs(self.tagger, prompt_emb, code_emb, features, scold, td)
        target, self.scale = arousal_targets(td_t, self.scale, self.config.arousal_decay, self.config.arousal_width)
        valence, arousal = self.tagger(prompt_t, code_t, features_t)
        weights = self.tagger.weight_matrices()
        loss = tagger_loss(valence, arousal, scold_t, target, weights, self.config.l2, self.config.arousal_loss_weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        self.optimizer.step()
        self.steps += 1
        return TaggerStepStats(
            loss.total.item(), loss.valence.item(), loss.arousal.item(), loss.l2.item(), self.scale.rms
        )
