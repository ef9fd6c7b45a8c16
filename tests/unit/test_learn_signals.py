"""TD error, confidence and confidence variance, as defined in docs/learner.md."""

import math

import pytest
import torch

from cosmocore.learn.signals import (
    batch_confidence_variance,
    confidence_variance,
    explained_variance,
    prompt_values,
    sample_confidence,
)

MASK = torch.tensor([[1, 1, 0], [0, 1, 1], [0, 0, 0]], dtype=torch.bool)


def test_prompt_value_is_the_value_at_the_first_completion_token():
    values = torch.tensor([[0.4, 0.9, 9.0], [9.0, -0.2, 0.3], [0.0, 0.0, 0.0]])
    assert prompt_values(values, MASK).tolist() == pytest.approx([0.4, -0.2, 0.0])


def test_confidence_is_the_mean_probability_of_the_samples_own_tokens():
    logp = torch.log(torch.tensor([[0.5, 0.25, 1.0], [1.0, 0.75, 1.0], [1.0, 1.0, 1.0]]))
    # row 0: (0.5 + 0.25) / 2 = 0.375; row 1: (0.75 + 1.0) / 2 = 0.875; row 2 has no tokens -> 0
    assert sample_confidence(logp, MASK).tolist() == pytest.approx([0.375, 0.875, 0.0])


def test_confidence_variance_is_the_population_std_over_samples_with_tokens():
    # rows 0 and 1 only: (0.375, 0.875) -> mean 0.625, population std 0.25
    assert confidence_variance(torch.tensor([0.375, 0.875, 0.0]), MASK) == pytest.approx(0.25)
    assert math.isnan(confidence_variance(torch.tensor([0.375, 0.0, 0.0]), MASK[[0, 2, 2]]))


def test_batch_confidence_variance_from_values_uses_the_prompt_values():
    values = torch.tensor([[0.1, 9.0, 9.0], [9.0, 0.5, 9.0], [9.0, 9.0, 9.0]])
    # V(prompt) = (0.1, 0.5) over the rows with tokens -> population std 0.2
    assert batch_confidence_variance(torch.zeros(3, 3), values, MASK, "value") == pytest.approx(0.2)
    logp = torch.log(torch.tensor([[0.5, 0.25, 1.0], [1.0, 0.75, 1.0], [1.0, 1.0, 1.0]]))
    assert batch_confidence_variance(logp, None, MASK) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="value head"):
        batch_confidence_variance(logp, None, MASK, "value")


def test_explained_variance_is_one_for_a_perfect_critic_zero_for_the_mean_and_nan_without_spread():
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]], dtype=torch.bool)
    returns = torch.tensor([[1.0, 1.0, 7.0], [-1.0, -1.0, -1.0]])  # valid tokens: 1, 1, -1, -1, -1 (mean -0.2)
    assert explained_variance(returns, returns, mask) == pytest.approx(1.0)
    assert explained_variance(torch.full((2, 3), -0.2), returns, mask) == pytest.approx(0.0, abs=1e-12)
    # V = -R is twice as bad as predicting the mean: Var(2R) / Var(R) = 4 -> EV = -3
    assert explained_variance(-returns, returns, mask) == pytest.approx(-3.0)
    assert math.isnan(explained_variance(returns, torch.ones(2, 3), mask))

