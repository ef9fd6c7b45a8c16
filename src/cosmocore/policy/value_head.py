"""The value head: one linear layer on the policy's final hidden state, its ridge fit, and its file.

V(s_t) = w . h_t + b, in reward units, computed in float32 whatever the model's dtype. A new head
starts at zero (V = 0 everywhere) so it cannot bias the first advantages. On disk, next to an
ordinary Hugging Face checkpoint: `value_head.safetensors` (weight (1, H), bias (1,)) and
`cosmocore_policy.json` (the policy version and the head's width). A checkpoint without them is any
Hugging Face model: it gets a fresh head and version 0.

Fitting (pure, float64; `Policy.fit_value_head` feeds it): weighted ridge regression of targets on
hidden states, minimising sum_i u_i (y_i - w . x_i - b)^2 / sum_i u_i + lambda |w|^2 with the bias
unpenalised. Data arrive in batches as weighted sufficient statistics (`Moments`, summed with +), so
memory is O(H^2) whatever the number of tokens. Limits: raw (uncentred) moments lose precision when
a feature's mean is more than ~1e6 times its spread; targets whose weighted variance is below 1e-12
of their mean square count as constant (explained variance NaN).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from cosmocore.errors import InputError

HEAD_FILE = "value_head.safetensors"
META_FILE = "cosmocore_policy.json"
# Ridge strength relative to the mean variance of a hidden dimension: directions of the hidden
# state that vary less than ~1% of a typical dimension are shrunk towards 0, the rest barely. LM
# hidden states are strongly anisotropic and the tokens of one sample are highly correlated (the
# effective sample count is nearer the number of samples than of tokens, and can be below H), so an
# unregularised fit would chase noise in those thin directions.
DEFAULT_L2 = 1e-2


class ValueHead(nn.Module):
    """(..., H) hidden states -> (...) values, float32."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1, dtype=torch.float32)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float()).squeeze(-1)


def save_head(head: ValueHead, directory: Path, version: int) -> None:
    """Write the head and the policy's metadata into `directory` (beside the HF checkpoint)."""
    from safetensors.torch import save_file

    weight, bias = head.linear.weight.detach().cpu().contiguous(), head.linear.bias.detach().cpu().contiguous()
    save_file({"weight": weight, "bias": bias}, str(directory / HEAD_FILE))
    meta = {"format": 1, "policy_version": version, "value_head": HEAD_FILE, "hidden_size": int(weight.shape[1])}
    (directory / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def load_head(directory: Path | None, hidden_size: int) -> tuple[ValueHead, int]:
    """The head and policy version stored in `directory`; a fresh head and version 0 where none is."""
    head = ValueHead(hidden_size)
    if directory is None or not (directory / META_FILE).is_file():
        return head, 0
    from safetensors.torch import load_file

    meta = json.loads((directory / META_FILE).read_text())
    tensors = load_file(str(directory / meta.get("value_head", HEAD_FILE)))
    if tuple(tensors["weight"].shape) != (1, hidden_size):
        raise InputError(f"{directory / HEAD_FILE}: value head width {tensors['weight'].shape[1]} "
                         f"does not match the model's hidden size {hidden_size}")
    head.linear.load_state_dict(tensors)
    return head, int(meta.get("policy_version", 0))


@dataclass(frozen=True)
class Moments:
    """Weighted sufficient statistics of (x, y) pairs, float64; add two to pool their data."""

    weight: torch.Tensor  # () sum of weights u_i
    x: torch.Tensor  # (H,) sum u_i x_i
    y: torch.Tensor  # () sum u_i y_i
    xx: torch.Tensor  # (H, H) sum u_i x_i x_i^T
    xy: torch.Tensor  # (H,) sum u_i x_i y_i
    yy: torch.Tensor  # () sum u_i y_i^2

    def __add__(self, other: Moments) -> Moments:
        return Moments(*(a + b for a, b in zip(self.fields(), other.fields(), strict=True)))

    def fields(self) -> tuple[torch.Tensor, ...]:
        return self.weight, self.x, self.y, self.xx, self.xy, self.yy


@dataclass(frozen=True)
class Centred:
    """Weighted means and (co)variances (divided by the weight sum), float64."""

    mean_x: torch.Tensor  # (H,)
    mean_y: float
    cov_xx: torch.Tensor  # (H, H)
    cov_xy: torch.Tensor  # (H,)
    var_y: float
    mean_sq_y: float  # weighted mean of y^2, the scale that `var_y` is judged against


def moments(hidden: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> Moments:
    """Statistics of (N, H) `hidden` and (N,) `targets`, each row weighted by (N,) `weights` (float64,
    on `hidden`'s device)."""
    x, y, u = hidden.double(), targets.to(hidden.device).double(), weights.to(hidden.device).double()
    ux = x * u.unsqueeze(-1)
    return Moments(u.sum(), ux.sum(0), (u * y).sum(), ux.T @ x, ux.T @ y, (u * y * y).sum())


def sample_moments(hidden: torch.Tensor, mask: torch.Tensor, targets: torch.Tensor) -> Moments:
    """Statistics of (B, T, H) per-token `hidden` where (B, T) `mask` is True, each token's target the
    (B,) `targets` of its sample and its weight 1 / T_b, so every sample counts once whatever its length."""
    lengths = mask.sum(dim=1, keepdim=True).clamp(min=1)  # (B, 1) tokens per sample
    per_token = (mask / lengths)[mask]  # (N,) weights 1 / T_b
    expanded = targets.to(mask.device).double().unsqueeze(-1).expand(mask.shape)[mask]  # (N,)
    return moments(hidden[mask], expanded, per_token)


def centred(m: Moments) -> Centred:
    """Means and covariances from raw moments (ValueError when the weights sum to zero)."""
    total = float(m.weight)
    if not total > 0.0:
        raise ValueError("no weighted data to fit (every completion empty?)")
    mean_x, mean_y = m.x / total, float(m.y) / total
    mean_sq_y = float(m.yy) / total
    return Centred(mean_x=mean_x, mean_y=mean_y, cov_xx=m.xx / total - torch.outer(mean_x, mean_x),
                   cov_xy=m.xy / total - mean_x * mean_y, var_y=max(0.0, mean_sq_y - mean_y**2), mean_sq_y=mean_sq_y)


def ridge_solve(m: Moments, l2: float = DEFAULT_L2) -> tuple[torch.Tensor, float]:
    """(H,) weight and bias of the weighted ridge fit (module docstring) with lambda = `l2` times the
    mean diagonal of the weighted covariance of x, so `l2` is scale-free (scaling x by s scales w by
    1/s). Solved in float64 on the CPU; the minimum-norm solution where the system is singular."""
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    c = centred(m)
    size = c.cov_xx.shape[0]
    strength = l2 * float(torch.diagonal(c.cov_xx).mean())  # lambda, in units of x^2
    system = c.cov_xx.cpu() + strength * torch.eye(size, dtype=torch.float64)
    weight = torch.linalg.lstsq(system, c.cov_xy.cpu().unsqueeze(-1), driver="gelsd").solution.squeeze(-1)
    return weight, c.mean_y - float(weight @ c.mean_x.cpu())


def explained_variance(m: Moments, weight: torch.Tensor) -> float:
    """1 - Var_u(y - w . x - b) / Var_u(y) over the data of `m`, weights u (NaN for constant targets).
    The bias b does not enter: a variance ignores the residual's mean."""
    c = centred(m)
    if c.var_y <= 1e-12 * c.mean_sq_y:
        return math.nan
    w = weight.to(c.cov_xx.device).double()
    residual = c.var_y - 2.0 * float(w @ c.cov_xy) + float(w @ c.cov_xx @ w)
    return 1.0 - max(0.0, residual) / c.var_y


def ridge_fit(hidden: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor,
              l2: float = DEFAULT_L2) -> tuple[torch.Tensor, float]:
    """(H,) weight and bias of the weighted ridge regression of (N,) `targets` on (N, H) `hidden`."""
    return ridge_solve(moments(hidden, targets, weights), l2)
