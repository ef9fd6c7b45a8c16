"""The sampling distribution of one decoding step, as pure tensor functions (no model, no I/O).

A step's logits become the distribution tokens are really drawn from: divide by the temperature,
keep the nucleus (the smallest set of most likely tokens whose mass reaches `top_p`), renormalise.
Behaviour log-probs and entropies are those of this distribution, in nats, so that a token's stored
log-prob is exactly the log of the probability it was sampled with. Temperature 0 is greedy decoding:
a point mass on the argmax (log-prob 0, entropy 0).
"""

from __future__ import annotations

import torch

NEG_INF = float("-inf")


def nucleus_mask(logprobs: torch.Tensor, top_p: float) -> torch.Tensor:
    """(..., V) bool: the smallest set of most likely tokens whose mass reaches `top_p` (never empty)."""
    if top_p >= 1.0:
        return torch.ones_like(logprobs, dtype=torch.bool)
    sorted_lp, order = logprobs.sort(dim=-1, descending=True)
    probs = sorted_lp.exp()
    mass_before = probs.cumsum(dim=-1) - probs  # mass of the strictly more likely tokens
    keep_sorted = mass_before < top_p
    keep_sorted[..., 0] = True
    return torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)


def sampling_logprobs(logits: torch.Tensor, temperature: float, top_p: float,
                      always_keep: torch.Tensor | None = None) -> torch.Tensor:
    """(..., V) log-probs of the sampling distribution after temperature and top-p (-inf outside it).

    `always_keep` (..., ) token ids kept even when outside the nucleus: scoring a stored token under
    changed weights then gives a finite log-prob (at the weights that sampled it, it is inside anyway).
    Temperature 0: a point mass on the argmax (or on `always_keep` where given).
    """
    logits = logits.float()
    if temperature <= 0.0:
        target = always_keep if always_keep is not None else logits.argmax(dim=-1)
        point = torch.full_like(logits, NEG_INF)
        return point.scatter(-1, target.unsqueeze(-1), 0.0)
    logprobs = torch.log_softmax(logits / temperature, dim=-1)
    if top_p >= 1.0:
        return logprobs
    keep = nucleus_mask(logprobs.detach(), top_p)
    if always_keep is not None:
        keep = keep.scatter(-1, always_keep.unsqueeze(-1), True)
    return torch.log_softmax(logprobs.masked_fill(~keep, NEG_INF), dim=-1)


def entropy(logprobs: torch.Tensor) -> torch.Tensor:
    """(...,) Shannon entropy in nats of distributions given as (..., V) log-probs (-inf allowed)."""
    finite = torch.isfinite(logprobs)
    safe = logprobs.masked_fill(~finite, 0.0)
    return -(safe.exp() * safe).masked_fill(~finite, 0.0).sum(dim=-1)


def token_logprob(logprobs: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """(...,) the log-prob of each token id in `tokens` (...,) under (..., V) `logprobs`."""
    return logprobs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


def sample(logprobs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """(B,) one token per row drawn from (B, V) log-probs (a point mass gives its token)."""
    return torch.multinomial(logprobs.exp(), 1, generator=generator).squeeze(-1)
