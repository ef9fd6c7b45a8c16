"""GAE over completion tokens and GRPO group advantages, against hand-worked examples."""

import pytest
import torch

from cosmocore.learn.gae import (
    MIN_ADVANTAGE_SCALE,
    advantage_rms,
    gae,
    last_token_index,
    terminal_gae,
    terminal_rewards,
)
from cosmocore.learn.grpo import group_td, peer_means, token_advantages

PAD = 9.0  # a value on a padding position, which must not leak into anything


def test_terminal_reward_sits_on_the_last_completion_token_of_each_row():
    mask = torch.tensor([[1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 0, 0]], dtype=torch.bool)
    assert last_token_index(mask).tolist() == [2, 3, 0]
    rewards = terminal_rewards(torch.tensor([1.0, -1.0, 5.0]), mask)
    assert rewards.tolist() == [[0, 0, 1, 0], [0, 0, 0, -1], [0, 0, 0, 0]]


def test_gae_matches_a_hand_computed_right_padded_row():
    # values (0.5, 0.6, 0.7 | pad), reward 1 at t=2, gamma 1, lambda 0.9:
    #   t=2: delta = 1 - 0.7 = 0.3;          A = 0.3
    #   t=1: delta = 0.7 - 0.6 = 0.1;        A = 0.1 + 0.9 * 0.3  = 0.37
    #   t=0: delta = 0.6 - 0.5 = 0.1;        A = 0.1 + 0.9 * 0.37 = 0.433
    # returns = A + V = 0.933, 0.97, 1.0
    mask = torch.tensor([[1, 1, 1, 0]], dtype=torch.bool)
    out = terminal_gae(torch.tensor([1.0]), torch.tensor([[0.5, 0.6, 0.7, PAD]]), mask, 1.0, 0.9)
    assert torch.allclose(out.advantages, torch.tensor([[0.433, 0.37, 0.3, 0.0]]))
    assert torch.allclose(out.returns, torch.tensor([[0.933, 0.97, 1.0, 0.0]]))


def test_gae_matches_a_hand_computed_left_padded_row_with_discount():
    # values (pad | 0.2, 0.1, -0.1), reward -1 at t=3, gamma 0.9, lambda 1:
    #   t=3: delta = -1 + 0.1 = -0.9;              A = -0.9
    #   t=2: delta = 0.9 * -0.1 - 0.1 = -0.19;     A = -0.19 + 0.9 * -0.9 = -1.0
    #   t=1: delta = 0.9 * 0.1 - 0.2 = -0.11;      A = -0.11 + 0.9 * -1.0 = -1.01
    # returns (lambda 1: the discounted return) = -0.81, -0.9, -1.0
    mask = torch.tensor([[0, 1, 1, 1]], dtype=torch.bool)
    out = terminal_gae(torch.tensor([-1.0]), torch.tensor([[PAD, 0.2, 0.1, -0.1]]), mask, 0.9, 1.0)
    assert torch.allclose(out.advantages, torch.tensor([[0.0, -1.01, -1.0, -0.9]]))
    assert torch.allclose(out.returns, torch.tensor([[0.0, -0.81, -0.9, -1.0]]))


def test_gae_with_gamma_and_lambda_one_starts_at_the_td_error():
    values = torch.tensor([[0.25, 0.7, -0.3], [0.1, 0.4, PAD]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    out = terminal_gae(torch.tensor([1.0, -0.6]), values, mask, 1.0, 1.0)
    assert out.advantages[:, 0].tolist() == pytest.approx([1.0 - 0.25, -0.6 - 0.1])


def test_gae_treats_values_as_constants():
    values = torch.tensor([[0.5, 0.6]], requires_grad=True)
    out = gae(torch.tensor([[0.0, 1.0]]), values, torch.ones(1, 2, dtype=torch.bool), 1.0, 0.95)
    assert not out.advantages.requires_grad and not out.returns.requires_grad


def test_advantage_rms_is_the_uncentred_token_rms_with_a_floor():
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]], dtype=torch.bool)
    adv = torch.tensor([[1.0, -1.0, 9.0], [2.0, 9.0, 9.0]])  # tokens 1, -1, 2: mean square 2 -> sqrt 2
    assert advantage_rms(adv, mask) == pytest.approx(2 ** 0.5)
    assert advantage_rms(torch.zeros(2, 3), mask) == MIN_ADVANTAGE_SCALE


def test_grpo_td_is_reward_minus_group_mean_for_any_group_ids():
    reward = torch.tensor([1.0, -1.0, 0.0, 0.5, 0.5, 0.7])
    groups = torch.tensor([7, 7, 7, 3, 3, 42])
    # group 7: mean 0 -> (1, -1, 0); group 3: mean 0.5 -> (0, 0); group 42 (one sample) -> 0
    assert group_td(reward, groups).tolist() == pytest.approx([1.0, -1.0, 0.0, 0.0, 0.0, 0.0])


def test_grpo_advantage_is_spread_over_the_completion_tokens_only():
    mask = torch.tensor([[1, 1, 0], [0, 1, 1]], dtype=torch.bool)
    assert token_advantages(torch.tensor([2.0, -1.0]), mask).tolist() == [[2, 2, 0], [0, -1, -1]]


def test_peer_means_leave_each_sample_out_of_its_own_expectation():
    reward = torch.tensor([1.0, -1.0, 0.0, 0.5, 0.3])
    groups = torch.tensor([7, 7, 7, 3, 9])
    mean, peers = peer_means(reward, groups)
    # group 7: others of 1.0 are (-1, 0) -> -0.5; of -1.0: (1, 0) -> 0.5; of 0.0: (1, -1) -> 0; lone samples: 0, 0 peers
    assert mean.tolist() == pytest.approx([-0.5, 0.5, 0.0, 0.0, 0.0])
    assert peers.tolist() == [2.0, 2.0, 2.0, 0.0, 0.0]
