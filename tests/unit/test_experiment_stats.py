"""Statistics helpers against hand-computed values."""

from __future__ import annotations

import math

import pytest

from cosmocore.experiments.stats import (
    bootstrap_interval,
    cycles_to_zero_error,
    paired_difference,
    recurrence_rate,
    steps_to_threshold,
    summarise,
)


def test_mean_and_sample_std_match_hand_computation() -> None:
    s = summarise([1.0, 2.0, 3.0, 6.0])  # mean 3; deviations -2,-1,0,3 -> squares 4+1+0+9=14; 14/3
    assert s.mean == 3.0 and s.std == pytest.approx(math.sqrt(14 / 3)) and s.n == 4


def test_one_seed_has_zero_std_and_a_point_interval() -> None:
    s = summarise([0.4])
    assert (s.mean, s.std, s.low, s.high) == (0.4, 0.0, 0.4, 0.4)
    assert not s.excludes_zero()


def test_the_bootstrap_interval_lies_within_the_data_and_around_the_mean() -> None:
    values = [0.1, 0.2, 0.3, 0.4, 0.5]
    low, high = bootstrap_interval(values)
    assert 0.1 <= low < 0.3 < high <= 0.5
    assert bootstrap_interval(values) == (low, high)  # fixed seed: reproducible
    assert bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_paired_differences_use_only_shared_seeds_and_cancel_shared_offsets() -> None:
    method = {1: 0.5, 2: 0.7, 3: 0.9, 4: 0.1}
    baseline = {1: 0.4, 2: 0.6, 3: 0.8}  # seed 4 missing: left out
    d = paired_difference(method, baseline)
    assert d.n == 3 and d.mean == pytest.approx(0.1) and d.std == pytest.approx(0.0, abs=1e-12)
    assert d.low == pytest.approx(0.1) and d.excludes_zero()


def test_nans_are_left_out_of_a_summary() -> None:
    assert summarise([1.0, float("nan"), 3.0]).mean == 2.0
    assert summarise([]).n == 0


def test_sample_efficiency_is_the_first_step_reaching_the_threshold() -> None:
    assert steps_to_threshold([10, 20, 30], [0.5, 0.8, 0.9]) == 20
    assert steps_to_threshold([10, 20], [0.5, 0.79]) is None


def test_cycles_to_zero_error_and_recurrence() -> None:
    assert cycles_to_zero_error([3, 1, 0, 2]) == 3
    assert cycles_to_zero_error([3, 1]) is None
    assert recurrence_rate([True, True, False, True], [True, False, True, False]) == pytest.approx(1 / 3)
    assert math.isnan(recurrence_rate([False], [True]))
