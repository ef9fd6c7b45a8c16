"""The expectation behind TD and arousal: the critic as a prior, the prompt's other attempts as evidence."""

import pytest
import torch

from cosmocore.learn.expectation import (
    DECAY,
    MAX_WEIGHT,
    ExpectationScale,
    batch_variances,
    pooled_expectation,
    update_scale,
)


def test_pooled_expectation_weighs_the_critic_as_w_attempts():
    # w = 1: (0.2 + 3 * 1.0) / 4 = 0.8; w = 3: (0.6 + 3) / 6 = 0.6; no peers: the critic alone
    head, peer_mean, peers = torch.tensor([0.2, -0.4]), torch.tensor([1.0, 0.0]), torch.tensor([3.0, 0.0])
    assert pooled_expectation(head, peer_mean, peers, 1.0).tolist() == pytest.approx([0.8, -0.4])
    assert pooled_expectation(head, peer_mean, peers, 3.0).tolist() == pytest.approx([0.6, -0.4])


def test_batch_variances_separate_sampling_noise_from_the_critics_error():
    # group 0: rewards (1, -1), mean 0, critic 0.5; group 1: (1, 1), mean 1, critic 0.5
    # within = ((1)^2 + (-1)^2 + 0 + 0) / (1 + 1) = 1; prior = mean((0 - 0.5)^2 - 1/2, (1 - 0.5)^2 - 1/2) = -0.25
    reward = torch.tensor([1.0, -1.0, 1.0, 1.0])
    within, prior = batch_variances(reward, torch.tensor([0, 0, 1, 1]), torch.full((4,), 0.5))
    assert within == pytest.approx(1.0) and prior == pytest.approx(-0.25)
    assert batch_variances(reward, torch.arange(4), torch.zeros(4)) is None  # no group of two


def test_the_critic_weight_is_within_over_prior_variance_and_bounded():
    assert ExpectationScale().critic_weight == 1.0  # before any data: one attempt
    one = update_scale(ExpectationScale(), torch.tensor([1.0, -1.0, 1.0, -1.0]), torch.tensor([0, 0, 1, 1]),
                       torch.tensor([-1.0, -1.0, 1.0, 1.0]))
    # within = 4 / 2 = 2; both group means 0, critic -1 and 1: prior = mean(1 - 1, 1 - 1) = 0 -> the bound
    assert one.weight == pytest.approx(1 - DECAY) and one.critic_weight == MAX_WEIGHT
    noisy_critic = update_scale(ExpectationScale(), torch.tensor([1.0, 0.0, 1.0, 0.0]), torch.tensor([0, 0, 1, 1]),
                                torch.tensor([-2.5, -2.5, 2.5, 2.5]))
    # within = (4 x 0.25) / 2 = 0.5; prior = mean(3^2, 2^2) - 0.25 = 6.25: w = 0.08
    assert noisy_critic.critic_weight == pytest.approx(0.5 / 6.25)
