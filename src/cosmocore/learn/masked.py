"""Masked reductions shared by every objective: tokens -> samples -> batch (pure tensor functions).

Convention (docs/learner.md, "Reductions"): a per-token quantity x (B, T) becomes a per-sample mean
over that sample's completion tokens, then a weighted mean over the batch:

    x_b = sum_t m_bt x_bt / max(1, sum_t m_bt)
    X   = sum_b w_b x_b / max(1, #{b : w_b > 0 and sample b has a token})

so w = 1 everywhere is the plain mean, PER importance weights scale each sample, and w_b = 0 (a stale
sample) removes it from numerator and denominator alike, exactly as if it had been dropped.
"""

from __future__ import annotations

import torch


def token_counts(mask: torch.Tensor) -> torch.Tensor:
    """Completion tokens per sample: (B, T) bool/0-1 -> (B,) float."""
    return mask.to(torch.float32).sum(dim=-1)


def per_sample_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x (B, T) over each sample's valid tokens -> (B,); 0 for a sample without tokens."""
    m = mask.to(x.dtype)
    return (x * m).sum(dim=-1) / m.sum(dim=-1).clamp(min=1.0)


def batch_mean(per_sample: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Weighted mean over samples (B,) -> scalar, counting only samples with weight > 0 and a token."""
    w = torch.ones_like(per_sample) if weights is None else weights.to(per_sample.dtype)
    included = (w > 0) & (token_counts(mask) > 0)
    return (w * per_sample * included).sum() / included.sum().clamp(min=1)


def reduce_tokens(x: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Per-token x (B, T) -> scalar, by the module's convention (sample mean, then weighted batch mean)."""
    return batch_mean(per_sample_mean(x, mask), mask, weights)


def token_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Plain mean of x over every valid token of the batch (for diagnostics) -> scalar; 0 when none."""
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp(min=1.0)

