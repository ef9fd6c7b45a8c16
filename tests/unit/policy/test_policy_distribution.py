"""The sampling distribution (temperature, top-p), its log-probs and entropy, against hand-computed numbers."""

from __future__ import annotations

import math

import pytest
import torch

from cosmocore.policy import distribution as d


def probs(logprobs: torch.Tensor) -> list[float]:
    return [float(p) for p in logprobs.exp()]


def approx(values: list[float]):  # type: ignore[no-untyped-def]
    return pytest.approx(values, abs=1e-6)


def test_temperature_divides_the_logits_before_the_softmax():
    logits = torch.tensor([0.0, math.log(4.0)])  # softmax at T=1: 1/5, 4/5
    assert probs(d.sampling_logprobs(logits, 1.0, 1.0)) == approx([0.2, 0.8])
    assert probs(d.sampling_logprobs(logits, 2.0, 1.0)) == approx([1 / 3, 2 / 3])


def test_nucleus_keeps_the_smallest_most_likely_set_reaching_top_p_and_renormalises():
    logits = torch.log(torch.tensor([0.2, 0.5, 0.3]))
    assert probs(d.sampling_logprobs(logits, 1.0, 0.6)) == approx([0.0, 0.625, 0.375])  # 0.5 < 0.6: the 0.3 joins
    assert probs(d.sampling_logprobs(logits, 1.0, 0.45)) == approx([0.0, 1.0, 0.0])  # 0.5 alone reaches 0.45
    assert probs(d.sampling_logprobs(logits, 1.0, 0.01)) == approx([0.0, 1.0, 0.0])  # never empty


def test_a_stored_token_outside_the_nucleus_is_kept_so_its_logprob_stays_finite():
    logits = torch.log(torch.tensor([0.2, 0.5, 0.3]))
    kept = d.sampling_logprobs(logits, 1.0, 0.45, always_keep=torch.tensor(0))
    assert probs(kept) == approx([0.2 / 0.7, 0.5 / 0.7, 0.0])


def test_entropy_is_in_nats_and_ignores_tokens_outside_the_distribution():
    uniform4 = torch.full((4,), -math.log(4.0))
    assert float(d.entropy(uniform4)) == pytest.approx(math.log(4.0))
    half = torch.tensor([math.log(0.5), math.log(0.5), float("-inf")])
    assert float(d.entropy(half)) == pytest.approx(math.log(2.0))
    assert float(d.entropy(torch.tensor([0.0, float("-inf")]))) == 0.0


def test_temperature_zero_is_a_point_mass_on_the_argmax_with_zero_logprob_and_entropy():
    lp = d.sampling_logprobs(torch.tensor([0.1, 2.0, -1.0]), 0.0, 1.0)
    assert probs(lp) == approx([0.0, 1.0, 0.0])
    assert float(d.token_logprob(lp, torch.tensor(1))) == 0.0 and float(d.entropy(lp)) == 0.0
    assert int(d.sample(lp.unsqueeze(0), torch.Generator().manual_seed(0))) == 1


def test_gradients_through_a_filtered_distribution_are_finite():
    logits = torch.tensor([[0.3, 1.0, -2.0, 0.5]], requires_grad=True)
    lp = d.sampling_logprobs(logits, 0.7, 0.8, always_keep=torch.tensor([2]))
    (d.token_logprob(lp, torch.tensor([2])) + d.entropy(lp)).sum().backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_sampling_follows_the_distribution_and_the_seed():
    lp = torch.log(torch.tensor([[0.1, 0.9]])).expand(4000, 2)
    draws = d.sample(lp, torch.Generator().manual_seed(1))
    assert 0.87 < float(draws.float().mean()) < 0.93
    assert torch.equal(draws, d.sample(lp, torch.Generator().manual_seed(1)))
