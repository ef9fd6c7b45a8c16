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


@dataclass(frozen=True)
class TaggerExamples:
    """Rows the tagger fits: inputs and targets, float32 tensors (the arousal target is fixed when made)."""

    prompt: torch.Tensor  # (N, P)
    code: torch.Tensor  # (N, C)
    features: torch.Tensor  # (N, F)
    scold: torch.Tensor  # (N,) valence targets in [-1, 1]
    arousal: torch.Tensor  # (N,) arousal targets in [0, 1]

    def __len__(self) -> int:
        return int(self.scold.shape[0])

    def then(self, newer: TaggerExamples) -> TaggerExamples:
        """These rows followed by `newer`'s."""
        return TaggerExamples(*(torch.cat([a, b]) for a, b in zip(self.columns(), newer.columns(), strict=True)))

    def last(self, keep: int) -> TaggerExamples:
        """The last `keep` rows (none for 0)."""
        return TaggerExamples(*(column[len(self) - min(keep, len(self)):] for column in self.columns()))

    def columns(self) -> tuple[torch.Tensor, ...]:
        return self.prompt, self.code, self.features, self.scold, self.arousal


class TaggerTrainer:
    """The tagger, its Adam optimizer, the running arousal scale and a memory of recent examples.

    `step` folds a wake batch's TD errors into the arousal scale, then takes `config.steps` Adam
    steps, each over the batch together with the `config.memory` most recent earlier examples (so
    the tagger tracks its moving targets without forgetting the last few batches), then adds the
    batch to the memory.
    """

    def __init__(self, tagger: AffectiveTagger, config: AffectConfig | None = None) -> None:
        self.tagger = tagger
        self.config = config or AffectConfig()
        self.optimizer = torch.optim.Adam(tagger.parameters(), lr=self.config.lr)
        self.scale = ArousalScale()
        self.steps = 0
        self.memory: TaggerExamples | None = None

    def step(
        self,
        prompt_emb: np.ndarray | torch.Tensor,  # (B, P)
        code_emb: np.ndarray | torch.Tensor,  # (B, C)
        features: np.ndarray | torch.Tensor,  # (B, F)
        scold: np.ndarray | torch.Tensor,  # (B,) valence targets in [-1, 1]
        td: np.ndarray | torch.Tensor,  # (B,) TD errors r - V(prompt), reward units
    ) -> TaggerStepStats:
        """Fit one batch (class doc); the stats are those of the last Adam step (batch and memory)."""
        prompt_t, code_t, features_t, scold_t, td_t = as_inputs(self.tagger, prompt_emb, code_emb, features, scold, td)
        target, self.scale = arousal_targets(td_t, self.scale, self.config.arousal_decay, self.config.arousal_width)
        batch = TaggerExamples(prompt_t, code_t, features_t, scold_t, target)
        rows = batch if self.memory is None else self.memory.then(batch)
        for _ in range(self.config.steps):
            loss = self._adam_step(rows)
        self.memory = rows.last(self.config.memory)
        self.steps += 1
        return TaggerStepStats(loss.total.item(), loss.valence.item(), loss.arousal.item(), loss.l2.item(),
                               self.scale.rms)

    def _adam_step(self, rows: TaggerExamples) -> TaggerLoss:
        valence, arousal = self.tagger(rows.prompt, rows.code, rows.features)
        loss = tagger_loss(valence, arousal, rows.scold, rows.arousal, self.tagger.weight_matrices(), self.config.l2,
                           self.config.arousal_loss_weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        self.optimizer.step()
        return loss
