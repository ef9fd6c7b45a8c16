"""Scalar signals the learner hands to the tagger, the buffer and the meta rule (pure tensor functions).

- V(prompt): the value head at the first completion token, the state before any code
  (`prompt_values`). The learner's TD = r - b compares a reward with an expectation b built from it
  and the prompt's other attempts (`cosmocore.learn.expectation`; GRPO: the group mean).
- Confidence of a sample: c_b = mean over its completion tokens of exp(logp_bt), the probability the
  policy gives its own tokens, in (0, 1] ("token_prob"); or its value V(prompt) ("value").
- Confidence variance: the population standard deviation (divide by n) of c_b over the batch's
  samples that have a completion token; NaN when fewer than two (then nothing is decided on it).
  The paper calls this std "confidence variance"; a policy that has collapsed onto confident,
  uniform outputs has c_b close to 1 everywhere and a confidence variance near 0.
- Explained variance of the critic: 1 - Var(R - V) / Var(R) over the completion tokens (population
  variances), 1 for a perfect critic, 0 for one that predicts the mean, negative for worse; NaN
  when the returns do not vary.
"""

from __future__ import annotations

import torch

from cosmocore.learn.masked import per_sample_mean, token_counts


def first_token_index(mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's first valid token: (B, T) -> (B,) long (0 for a row without tokens)."""
    return mask.long().argmax(dim=-1)  # argmax returns the first maximum


def prompt_values(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """V(prompt) per sample: the value at the first completion token, (B, T) -> (B,), detached."""
    rows = torch.arange(values.shape[0], device=values.device)
    return values.detach()[rows, first_token_index(mask)]


def sample_confidence(logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean probability of a sample's own tokens: logp (B, T) nats -> (B,) in (0, 1], detached."""
    return per_sample_mean(torch.exp(logp.detach()), mask)


def confidence_variance(confidence: torch.Tensor, mask: torch.Tensor) -> float:
    """Population std over the samples with a token of per-sample confidence (B,); NaN for fewer than 2."""
    present = confidence.detach()[token_counts(mask) > 0].to(torch.float64)
    if present.numel() < 2:
        return float("nan")
    return float(present.std(correction=0))


def batch_confidence_variance(
    logp: torch.Tensor, values: torch.Tensor | None, mask: torch.Tensor, source: str = "token_prob"
) -> float:
    """Confidence variance of a scored batch, from token probabilities or from V(prompt) (`source`)."""
    if source == "value":
        if values is None:
            raise ValueError("confidence_source 'value' needs a value head (the PPO learner)")
        return confidence_variance(prompt_values(values, mask), mask)
    return confidence_variance(sample_confidence(logp, mask), mask)



def explained_variance(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> float:
    """1 - Var(returns - values) / Var(returns) over the tokens where mask (B, T) is True; NaN if Var = 0."""
    m = mask.bool()
    r = returns.detach()[m].to(torch.float64)
    v = values.detach()[m].to(torch.float64)
    total = float(r.var(correction=0)) if r.numel() else 0.0
    if total == 0.0:
        return float("nan")
    return 1.0 - float((r - v).var(correction=0)) / total
