"""The buffer's pure math (cosmocore.buffer.priority) against hand-computed numbers."""

import numpy as np
import pytest

from cosmocore.buffer import priority as rules


def test_priority_is_abs_td_plus_lambda_abs_valence_arousal_plus_eps():
    p = rules.priority(np.array([-0.5, 0.2, 0.0]), np.array([-0.8, 0.3, 1.0]), np.array([0.9, 0.1, 0.0]),
                       weight=0.6, eps=1e-4)
    # 0.5 + 0.6*0.8*0.9 + 1e-4 ; 0.2 + 0.6*0.3*0.1 + 1e-4 ; 0 + 0 + 1e-4
    assert p == pytest.approx([0.5 + 0.432 + 1e-4, 0.2 + 0.018 + 1e-4, 1e-4], rel=1e-12)


def test_priority_components_in_float32_give_the_same_number_when_recomputed():
    td, v, a = (np.array([x], np.float32) for x in (0.1, -0.7, 0.33))
    assert rules.priority(td, v, a)[0] == rules.priority(td.copy(), v.copy(), a.copy())[0]


def test_dream_queue_needs_both_thresholds_strictly_exceeded():
    valence = np.array([-0.6, 0.6, 0.5, -0.9, 0.9])
    arousal = np.array([0.8, 0.71, 0.9, 0.7, 0.2])
    assert rules.in_dream_queue(valence, arousal, 0.5, 0.7).tolist() == [True, True, False, False, False]


def test_prune_rule_deletes_low_impact_items_unless_entropy_is_above_the_floor():
    valence = np.array([0.1, -0.1, 0.1, 0.2, 0.1, 0.1])
    arousal = np.array([0.2, 0.29, 0.2, 0.2, 0.3, 0.2])
    entropy = np.array([0.1, 0.3, 0.31, 0.0, 0.0, 1.0])  # normalised: nats/token / ln |V|
    # kept: entropy 0.31 > 0.3 exempts; |v| = 0.2 and a = 0.3 are not below the thresholds; entropy 1.0
    assert rules.prunable(valence, arousal, entropy, 0.2, 0.3, 0.3).tolist() == [True, True, False, False,
                                                                                  False, False]


def test_sampling_weight_is_p_to_the_alpha_with_no_factor_for_any_item():
    assert rules.sampling_weight(np.array([4.0, 0.25, 1.0]), 0.5) == pytest.approx([2.0, 0.5, 1.0])


def test_importance_weights_are_per_weights_divided_by_their_batch_mean():
    w = rules.importance_weights(np.array([0.5, 0.25, 0.125]), n_live=4, beta=0.5)
    # (4*0.5)^-0.5, (4*0.25)^-0.5, (4*0.125)^-0.5 = 0.70711, 1, 1.41421; their mean 3.12132 / 3 = 1.04044
    assert w == pytest.approx([0.67962, 0.96113, 1.35925], abs=1e-5)


def test_importance_weights_are_all_one_at_beta_zero():
    assert rules.importance_weights(np.array([0.9, 0.01]), 10, 0.0).tolist() == [1.0, 1.0]


@pytest.mark.parametrize(("step", "expected"), [(0, 0.4), (50, 0.7), (100, 1.0), (1000, 1.0)])
def test_beta_rises_linearly_from_beta0_to_one_and_stays(step, expected):
    assert rules.annealed_beta(step, 0.4, 100) == pytest.approx(expected)


def test_zero_beta_steps_keep_beta0_for_the_papers_biased_replay():
    assert [rules.annealed_beta(step, 0.0, 0) for step in (0, 1, 10**6)] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(("n", "fraction", "dream_size", "expected"),
                         [(256, 0.8, 10_000, (205, 51)), (10, 0.8, 3, (3, 7)), (10, 0.8, 0, (0, 10)),
                          (10, 1.0, 100, (10, 0)), (10, 0.0, 100, (0, 10))])
def test_mixed_batch_split_never_asks_the_dream_queue_for_more_than_it_holds(n, fraction, dream_size, expected):
    assert rules.split_mixed(n, fraction, dream_size) == expected


def test_mixture_probability_weights_each_part_by_its_share_of_the_batch():
    # 8 of 10 rows from the dream part: P = 0.8 * P_dream + 0.2 / N
    probs = rules.mixture_probs(np.array([0.5, 0.0]), n=10, n_dream=8, n_live=4)
    assert probs == pytest.approx([0.8 * 0.5 + 0.2 / 4, 0.2 / 4])
