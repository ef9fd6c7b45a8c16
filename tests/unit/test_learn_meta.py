"""The meta-gradient rule on the prune thresholds (docs/learner.md, "Meta-gradient on pruning")."""

import math

import numpy as np
import pytest

from cosmocore.config import LearnConfig
from cosmocore.learn.meta import PruneThresholds, meta_prune_step

CONFIG = LearnConfig(confidence_threshold=0.1, meta_lr=0.1, meta_temperature=0.05, meta_max_step=0.02)
AT_THE_GATES = (np.array([0.2]), np.array([0.3]))  # one item with |v| = tau_v and a = tau_a


def test_low_confidence_variance_raises_both_thresholds_by_the_hand_computed_step():
    # gap g = 0.1 - 0.04 = 0.06. At the gates x = y = 0: sigma = 0.5, sigma' = 0.25, so
    # do/dtau_v = -(0.25 * 0.5) / T = -0.125 / 0.05 = -2.5 (and the same for tau_a);
    # dL/dtau = g * -2.5 = -0.15; step = -lr * dL/dtau = 0.1 * 0.15 = 0.015 (< max_step 0.02)
    new = meta_prune_step(PruneThresholds(0.2, 0.3), 0.04, *AT_THE_GATES, config=CONFIG)
    assert new.valence == pytest.approx(0.215)
    assert new.arousal == pytest.approx(0.315)


def test_negative_valence_counts_by_its_magnitude():
    new = meta_prune_step(PruneThresholds(0.2, 0.3), 0.04, np.array([-0.2]), np.array([0.3]), config=CONFIG)
    assert new.valence == pytest.approx(0.215)


@pytest.mark.parametrize("variance", [0.1, math.nan])
def test_thresholds_stay_put_at_the_confidence_threshold_or_when_unmeasured(variance):
    start = PruneThresholds(0.25, 0.35)
    assert meta_prune_step(start, variance, np.array([0.25]), np.array([0.35]), config=CONFIG) == start


def test_recovered_confidence_variance_lowers_raised_thresholds_by_the_hand_computed_step():
    # gap g = 0.1 - 0.16 = -0.06 with one item at the gates: dL/dtau = -0.06 * -2.5 = +0.15,
    # so the step is -0.1 * 0.15 = -0.015 on both thresholds
    new = meta_prune_step(PruneThresholds(0.3, 0.4), 0.16, np.array([0.3]), np.array([0.4]), config=CONFIG)
    assert new.valence == pytest.approx(0.285)
    assert new.arousal == pytest.approx(0.385)


def test_lowered_thresholds_never_fall_below_the_floor():
    floor = PruneThresholds(0.2, 0.3)
    new = meta_prune_step(PruneThresholds(0.205, 0.31), 0.16, np.array([0.205]), np.array([0.31]), config=CONFIG,
                          floor=floor)
    assert new == floor
    assert meta_prune_step(floor, 0.5, *AT_THE_GATES, config=CONFIG, floor=floor) == floor


def test_no_items_or_zero_meta_lr_change_nothing():
    start = PruneThresholds(0.2, 0.3)
    assert meta_prune_step(start, 0.0, np.array([]), np.array([]), config=CONFIG) == start
    frozen = LearnConfig(meta_lr=0.0)
    assert meta_prune_step(start, 0.0, *AT_THE_GATES, config=frozen) == start


def test_items_exempt_by_entropy_exert_no_pull():
    start = PruneThresholds(0.2, 0.3)
    assert meta_prune_step(start, 0.0, *AT_THE_GATES, exempt=np.array([True]), config=CONFIG) == start


def test_each_step_is_bounded_by_max_step_and_the_ceilings():
    greedy = LearnConfig(meta_lr=100.0, meta_max_step=0.02, prune_valence_max=0.5, prune_arousal_max=0.7)
    thresholds = PruneThresholds(0.2, 0.3)
    rng = np.random.default_rng(0)
    valence, arousal = rng.uniform(-1, 1, 200), rng.uniform(0, 1, 200)
    for _ in range(100):
        new = meta_prune_step(thresholds, 0.0, valence, arousal, config=greedy)
        assert 0.0 <= new.valence - thresholds.valence <= 0.02 + 1e-12
        assert 0.0 <= new.arousal - thresholds.arousal <= 0.02 + 1e-12
        thresholds = new
    assert thresholds == PruneThresholds(0.5, 0.7)  # reached the ceilings and stayed there


def test_a_threshold_configured_above_its_ceiling_is_never_lowered():
    start = PruneThresholds(0.6, 0.3)
    new = meta_prune_step(start, 0.0, np.array([0.6]), np.array([0.3]), config=CONFIG)
    assert new.valence == 0.6 and new.arousal > 0.3
