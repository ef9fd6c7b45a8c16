"""The affective tagger: a small MLP giving each trajectory a valence in [-1, 1] and an arousal in [0, 1].

Input (one row per trajectory), concatenated in this order, width D = P + C + F:

    rms(prompt_emb)   (B, P)  pooled prompt embedding from the policy, scaled to unit RMS per row
    rms(code_emb)     (B, C)  pooled code embedding from the policy, scaled to unit RMS per row
    features          (B, F)  `cosmocore.affect.features` (F = 14), as is

The unit-RMS scaling (x / sqrt(mean(x^2) + 1e-6), no parameters) keeps the hidden-state magnitudes of
different policies from swamping the 14 execution features.

Network (the paper's 512 -> 128 -> 2, with a linear projection in front when D != 512):

    x (B, D) --Linear(D, 512)--> (B, 512) --Linear(512, 128)--ReLU--Linear(128, 2)--> (B, 2)
    valence = tanh(out[:, 0]),  arousal = sigmoid(out[:, 1])

When D == proj_dim the projection is the identity. Parameter count (`tagger_param_count`):
(D * 512 + 512 if D != 512 else 0) + 512 * 128 + 128 + 128 * 2 + 2 = 512 D + 66434 (D != 512), or
65922 (D = 512). The projection and the first layer compose linearly (no activation between them):
the projection only gives the paper's shape a fixed-width entry. The tagger never backpropagates into
the policy: its inputs are detached numpy arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from cosmocore.affect.features import FEATURE_DIM
from cosmocore.types import AffectTag

RMS_EPS = 1e-6  # added to the mean square before the root, embedding units squared


def tagger_param_count(input_dim: int, proj_dim: int = 512, hidden: int = 128) -> int:
    """Trainable parameters of a tagger whose concatenated input is `input_dim` wide (formula above)."""
    projection = 0 if input_dim == proj_dim else input_dim * proj_dim + proj_dim
    return projection + proj_dim * hidden + hidden + hidden * 2 + 2


def overhead_ratio(tagger_params: int, policy_params: int) -> float:
    """The tagger's parameters as a fraction of the policy's (the paper claims about 0.05)."""
    if policy_params <= 0:
        raise ValueError(f"policy_params must be positive, got {policy_params}")
    return tagger_params / policy_params


def rms_normalise(x: torch.Tensor) -> torch.Tensor:
    """Each row scaled to unit root-mean-square: (B, D) -> (B, D); an all-zero row stays zero."""
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + RMS_EPS)


class AffectiveTagger(nn.Module):
    """MLP (prompt embedding, code embedding, execution features) -> (valence, arousal); see module doc."""

    def __init__(
        self, prompt_dim: int, code_dim: int, feature_dim: int = FEATURE_DIM, proj_dim: int = 512, hidden: int = 128
    ) -> None:
        super().__init__()
        self.dims = (prompt_dim, code_dim, feature_dim, proj_dim, hidden)
        input_dim = prompt_dim + code_dim + feature_dim
        self.project: nn.Module = nn.Identity() if input_dim == proj_dim else nn.Linear(input_dim, proj_dim)
        self.mlp = nn.Sequential(nn.Linear(proj_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    @property
    def input_dim(self) -> int:
        return self.dims[0] + self.dims[1] + self.dims[2]

    def forward(
        self, prompt_emb: torch.Tensor, code_emb: torch.Tensor, features: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(valence (B,) in [-1, 1], arousal (B,) in [0, 1]) from (B, P), (B, C) and (B, F) inputs."""
        x = torch.cat([rms_normalise(prompt_emb), rms_normalise(code_emb), features], dim=-1)  # (B, D)
        out = self.mlp(self.project(x))  # (B, 2) pre-activations
        return torch.tanh(out[:, 0]), torch.sigmoid(out[:, 1])

    def weight_matrices(self) -> list[torch.Tensor]:
        """The Linear weights (biases excluded): what the L2 penalty is applied to."""
        return [module.weight for module in self.modules() if isinstance(module, nn.Linear)]

    def param_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def as_inputs(tagger: AffectiveTagger, *arrays: np.ndarray | torch.Tensor) -> list[torch.Tensor]:
    """Arrays as float32 tensors on the tagger's device (numpy from the policy and the buffer)."""
    device = next(tagger.parameters()).device
    return [torch.as_tensor(array, dtype=torch.float32, device=device) for array in arrays]


@torch.no_grad()
def tag(
    tagger: AffectiveTagger, prompt_emb: np.ndarray, code_emb: np.ndarray, features: np.ndarray
) -> list[AffectTag]:
    """Tags of a batch (B rows of each input), in row order; no gradient, the module's mode unchanged."""
    valence, arousal = tagger(*as_inputs(tagger, prompt_emb, code_emb, features))
    return tags_from_tensors(valence.cpu().tolist(), arousal.cpu().tolist())


def tags_from_tensors(valence: Sequence[float], arousal: Sequence[float]) -> list[AffectTag]:
    return [AffectTag(float(v), float(a)) for v, a in zip(valence, arousal, strict=True)]
