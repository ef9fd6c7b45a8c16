"""Off-policy corrections: the ratio to the stored behaviour log-probs, truncation, staleness, the schedule."""

import math

import pytest
import torch

from cosmocore.config import LearnConfig
from cosmocore.learn.offpolicy import (
    dream_rate_ratio,
    fresh_mask,
    importance_ratio,
    nocturnal_due,
    sample_weights,
    truncate,
)
from cosmocore.learn.ppo import TokenBatch, objective


def test_ratio_is_against_the_stored_behaviour_logprobs():
    ratio = importance_ratio(torch.tensor([math.log(0.6), math.log(0.1)]), torch.tensor([math.log(0.3)] * 2))
    assert ratio.tolist() == pytest.approx([2.0, 1 / 3])


def test_truncation_caps_importance_weights_and_none_leaves_them():
    ratio = torch.tensor([0.5, 2.9, 3.0, 7.0])
    assert truncate(ratio, 3.0).tolist() == pytest.approx([0.5, 2.9, 3.0, 3.0])
    assert truncate(ratio, None).tolist() == pytest.approx(ratio.tolist())
    assert truncate(ratio, math.inf).tolist() == pytest.approx(ratio.tolist())


def test_samples_older_than_the_staleness_cap_are_not_fresh():
    # current version 10, cap 3: ages 0, 3, 4, 8
    assert fresh_mask(torch.tensor([10, 7, 6, 2]), 10, 3).tolist() == [True, True, False, False]


def test_a_sample_from_a_future_policy_version_is_a_bug():
    with pytest.raises(ValueError, match="exceeds the current version"):
        fresh_mask(torch.tensor([11]), 10, 3)


def test_sample_weights_multiply_per_weights_and_zero_the_stale():
    weights = sample_weights(torch.tensor([10, 7, 2]), 10, 3, torch.tensor([0.5, 1.0, 1.0]))
    assert weights.tolist() == [0.5, 1.0, 0.0]
    assert sample_weights(torch.tensor([9, 1]), 10, 3).tolist() == [1.0, 0.0]


def _batch(rows, weights=None):
    logp = torch.tensor([[math.log(1.3), math.log(0.9)], [math.log(4.0), math.log(0.5)]])[rows]
    return TokenBatch(
        logp=logp,
        behaviour_logp=torch.zeros_like(logp),
        advantages=torch.tensor([[1.0, -0.5], [-2.0, 1.0]])[rows],
        mask=torch.ones_like(logp, dtype=torch.bool),
        entropy=torch.tensor([[0.3, 0.4], [1.0, 2.0]])[rows],
        weights=weights,
    )


def test_a_stale_sample_weighs_exactly_as_if_it_had_been_dropped():
    config = LearnConfig()
    weights = sample_weights(torch.tensor([10, 1]), 10, config.staleness_cap)  # row 1 is 9 versions old
    zero_weighted = objective(_batch([0, 1], weights), config)
    dropped = objective(_batch([0]), config)
    assert zero_weighted.loss.item() == pytest.approx(dropped.loss.item())
    assert zero_weighted.samples == 1


def test_nocturnal_phase_runs_after_every_kth_wake_step_and_never_at_zero():
    assert [step for step in range(1, 13) if nocturnal_due(step, 4)] == [4, 8, 12]
    assert not nocturnal_due(0, 4)
    assert not any(nocturnal_due(step, 0) for step in range(10))


def test_dream_rate_ratio_compares_draws_per_member_with_draws_per_non_member():
    # 2 batches of 16 rows over a buffer of 100 items, 20 of them members: 26 member draws over 40
    # member-slots (0.65 each), 6 other draws over 160 (0.0375 each): 0.65 / 0.0375 = 17.33
    assert dream_rate_ratio(26, 40, 6, 160) == pytest.approx(0.65 / 0.0375)
    assert dream_rate_ratio(5, 0, 11, 32) is None  # no members
    assert dream_rate_ratio(16, 20, 0, 80) is None  # no other draws: the ratio is unbounded
