"""Statistics over seeds against hand-computed values, and the error rate the verdict rule promises."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosmocore.experiments.stats import (
    BETTER,
    NO_VERDICT,
    NOT_JUDGED,
    UNRESOLVED,
    WORSE,
    completions_to_gain_fraction,
    describe_family,
    holm_adjusted,
    holm_alphas,
    judge_family,
    minimum_detectable_effect,
    paired_differences,
    regularized_beta,
    student_t_cdf,
    student_t_quantile,
    student_t_two_sided_p,
    studentized_bootstrap_interval,
    summarise,
    t_interval,
    t_test_p,
    verdict,
)

# ---- the t distribution ----------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "df", "expected"), [
    (0.975, 2, 4.302653), (0.975, 4, 2.776445), (0.975, 9, 2.262157),  # the usual t tables
    (0.975, 1, math.tan(math.pi * 0.475)),  # df 1 is the Cauchy: tan(pi (p - 1/2)) = 12.706205
    (0.8, 2, 0.6 / math.sqrt(0.32)),  # df 2: (2p - 1) / sqrt(2 p (1 - p)) = 1.060660
    (0.8, 4, 0.940965), (0.9875, 4, 3.495406), (0.975, 30, 2.042272),
])
def test_student_t_quantiles_match_the_tables(p: float, df: int, expected: float) -> None:
    assert student_t_quantile(p, df) == pytest.approx(expected, abs=2e-6)
    assert student_t_quantile(1 - p, df) == pytest.approx(-expected, abs=2e-6)


def test_student_t_tails_match_closed_forms() -> None:
    assert student_t_two_sided_p(1.0, 1) == pytest.approx(0.5)  # Cauchy: 1 - (2/pi) atan(1)
    assert student_t_two_sided_p(2.0, 2) == pytest.approx(1 - 2 / math.sqrt(6))  # df 2: 1 - t / sqrt(2 + t^2)
    t = math.sqrt(8)  # df 4: 1 - t (t^2 + 6) / (t^2 + 4)^1.5 = 1 - 39.598 / 41.569 = 0.047421
    assert student_t_two_sided_p(t, 4) == pytest.approx(1 - t * 14 / 12**1.5)
    assert student_t_cdf(0.0, 3) == 0.5 and student_t_cdf(-2.0, 2) == pytest.approx((1 - 2 / math.sqrt(6)) / 2)
    assert student_t_two_sided_p(math.inf, 3) == 0.0 and math.isnan(student_t_two_sided_p(math.nan, 3))
    with pytest.raises(ValueError, match="0 < p < 1"):
        student_t_quantile(1.0, 3)


def test_regularized_beta_matches_closed_forms() -> None:
    assert regularized_beta(0.3, 1, 1) == pytest.approx(0.3)  # uniform
    assert regularized_beta(0.3, 3, 1) == pytest.approx(0.3**3)
    assert regularized_beta(0.3, 1, 2) == pytest.approx(1 - 0.7**2)
    assert regularized_beta(0.4, 2, 3) == pytest.approx(0.5248)  # 6(.16)(.36) + 4(.064)(.6) + .0256
    assert regularized_beta(0.9, 2, 3) == pytest.approx(1 - regularized_beta(0.1, 3, 2))  # the symmetry branch
    assert (regularized_beta(0.0, 2, 2), regularized_beta(1.0, 2, 2)) == (0.0, 1.0)


# ---- summaries and intervals -----------------------------------------------------------------------


def test_mean_std_and_t_interval_of_three_seeds_match_hand_computation() -> None:
    s = summarise([1.0, 2.0, 3.0])  # mean 2, s 1, se 1/sqrt(3); 2 +- 4.302653 / sqrt(3) = 2 +- 2.484138
    assert (s.mean, s.std, s.n, s.level, s.interval) == (2.0, 1.0, 3, 0.95, "t")
    assert (s.low, s.high) == pytest.approx((-0.484138, 4.484138), abs=1e-6)
    half = 6.205347 / math.sqrt(3)  # t_{0.9875,2}: a Holm step's level in a family of two
    assert t_interval([1.0, 2.0, 3.0], 0.975) == pytest.approx((2 - half, 2 + half))


def test_three_seeds_of_one_sign_no_longer_exclude_zero() -> None:
    s = summarise([0.01, 0.05, 0.30])  # the old percentile bootstrap gave [0.01, 0.30] here
    assert s.low < 0 < s.high and not s.excludes_zero()


def test_identical_values_have_exactly_zero_spread() -> None:
    s = summarise([0.1, 0.1, 0.1])  # numpy's own std leaves 1.7e-17 here
    assert s.std == 0.0 and s.low == s.high == s.mean


def test_one_seed_gives_no_std_and_no_interval() -> None:
    s = summarise([0.4])
    assert s.mean == 0.4 and s.n == 1 and s.interval == "none"
    assert math.isnan(s.std) and math.isnan(s.low) and math.isnan(s.high) and not s.excludes_zero()
    assert summarise([]).n == 0 and summarise([1.0, float("nan"), None, 3.0]).mean == 2.0


def test_ten_seeds_switch_to_the_studentised_bootstrap() -> None:
    values = [0.1, 0.3, 0.2, 0.5, 0.4, 0.2, 0.3, 0.6, 0.1, 0.3]
    s = summarise(values)
    assert s.interval == "bootstrap-t" and s.low < s.mean < s.high
    assert summarise(values[:9]).interval == "t"
    assert studentized_bootstrap_interval(values) == (s.low, s.high)  # fixed seed: reproducible
    assert studentized_bootstrap_interval([2.0] * 12) == (2.0, 2.0)


def test_the_studentised_bootstrap_leans_toward_a_long_tail() -> None:
    values = [0.0] * 9 + [1.0, 2.0, 6.0]  # right-skewed: the interval reaches further above the mean
    s = summarise(values)
    assert s.high - s.mean > s.mean - s.low


def test_the_studentised_bootstrap_covers_close_to_95_percent_at_twelve_seeds() -> None:
    rng = np.random.default_rng(7)
    covered = [lo <= 0 <= hi for lo, hi in (studentized_bootstrap_interval(rng.normal(size=12), draws=1000, seed=i)
                                            for i in range(300))]
    assert 0.90 <= np.mean(covered) <= 0.99


# ---- paired tests, Holm, MDE, verdicts -------------------------------------------------------------


def test_paired_differences_use_only_shared_seeds_and_cancel_shared_offsets() -> None:
    method = {1: 0.5, 2: 0.7, 3: 0.9, 4: 0.1}
    baseline = {1: 0.4, 2: 0.6, 3: 0.8}  # seed 4 missing: left out
    assert paired_differences(method, baseline) == pytest.approx([0.1, 0.1, 0.1])


def test_the_paired_t_test_matches_hand_computation() -> None:
    assert t_test_p([1.0, 2.0, 3.0]) == pytest.approx(0.074180, abs=1e-6)  # t = 2 sqrt(3), df 2: 1 - t/sqrt(14)
    assert t_test_p([0.0, 1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.047421, abs=1e-6)  # t = 2 sqrt(2), df 4
    assert t_test_p([0.1, 0.1, 0.1]) == 0.0 and t_test_p([0.0, 0.0]) == 1.0  # no spread (not even rounding's)
    assert math.isnan(t_test_p([0.3]))


def test_the_mde_matches_hand_computation() -> None:
    # (t_{0.975,2} + t_{0.8,2}) * 1 / sqrt(3) = (4.302653 + 1.060660) / 1.732051 = 3.096510
    assert minimum_detectable_effect(1.0, 3) == pytest.approx(3.096510, abs=1e-6)
    # (t_{0.9875,4} + t_{0.8,4}) * 1.581139 / sqrt(5) = (3.495406 + 0.940965) * 0.707107 = 3.136988
    assert minimum_detectable_effect(math.sqrt(2.5), 5, alpha=0.025) == pytest.approx(3.136988, abs=1e-5)
    assert math.isnan(minimum_detectable_effect(1.0, 1))


def test_holm_adjusts_and_steps_down_on_a_hand_example() -> None:
    p = [0.01, 0.04, 0.03, 0.005]  # sorted: 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = .02, .03, .06, .04
    assert holm_adjusted(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])  # running max: .04 -> .06
    assert holm_alphas(p) == pytest.approx([0.05 / 3, 0.05, 0.025, 0.0125])
    # 0.04 is below its own step's 0.05, yet not rejected: Holm stopped at 0.03 > 0.025
    assert [adj <= 0.05 for adj in holm_adjusted(p)] == [True, False, False, True]


def test_holm_counts_an_untested_comparison_as_p_one() -> None:
    adjusted = holm_adjusted([0.02, float("nan")])
    assert adjusted[0] == pytest.approx(0.04) and math.isnan(adjusted[1])
    assert holm_alphas([0.02, float("nan")]) == pytest.approx([0.025, 0.05])


def test_a_verdict_needs_the_corrected_interval_to_exclude_zero() -> None:
    clear = [0.0, 1.0, 2.0, 3.0, 4.0]  # p 0.047: resolved alone, not in a family of two
    alone = judge_family([clear], [1])[0]
    assert alone.verdict == BETTER and alone.p_adjusted == pytest.approx(0.047421, abs=1e-6)
    assert (alone.difference.low, alone.difference.high) == pytest.approx((2 - 1.963243, 2 + 1.963243), abs=1e-6)
    assert alone.mde == pytest.approx(2.628606, abs=1e-5)  # (2.776445 + 0.940965) * 0.707107
    paired, other = judge_family([clear, [-1.0, 0.0, 1.0, 2.0, -2.0]], [1, 1])
    assert paired.verdict == other.verdict == UNRESOLVED
    assert paired.difference.level == 0.975 and paired.p_adjusted == pytest.approx(2 * 0.047421, abs=1e-6)
    assert paired.difference.low == pytest.approx(2 - 3.495406 * math.sqrt(0.5), abs=1e-5)  # holds 0 now
    assert other.difference.level == 0.95 and other.p_adjusted == 1.0


def test_the_verdict_follows_the_metric_direction() -> None:
    gain = judge_family([[0.1, 0.11, 0.09]], [1])[0]
    assert gain.verdict == BETTER
    assert verdict(gain.difference, gain.p_adjusted, direction=-1) == WORSE  # e.g. a failure share going up
    loss = judge_family([[-0.1, -0.11, -0.09]], [1])[0]
    assert loss.verdict == WORSE


def test_one_seed_gives_no_verdict_and_descriptive_families_none_at_all() -> None:
    assert judge_family([[0.5]], [1])[0].verdict == NO_VERDICT
    described = describe_family([[0.1, 0.11, 0.09], [0.0, 0.1, -0.1]])
    assert [c.verdict for c in described] == [NOT_JUDGED, NOT_JUDGED]
    assert [c.difference.level for c in described] == [0.95, 0.95]
    assert described[0].p_adjusted == pytest.approx(2 * described[0].p)


def _old_rule_calls_a_verdict(d: np.ndarray, rng: np.random.Generator, draws: int = 1000) -> bool:
    """The rule this replaces: a 95% percentile-bootstrap interval of the mean that excludes 0."""
    means = d[rng.integers(0, d.size, size=(draws, d.size))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return bool(low > 0 or high < 0)


@pytest.mark.parametrize("n_seeds", [3, 5])
def test_under_no_effect_the_family_wise_false_verdict_rate_stays_at_5_percent(n_seeds: int) -> None:
    """2000 simulated grids with no true effect: per seed, the gains of cosmocore, ppo and uniform-replay are
    independent normal draws (the two comparisons share cosmocore's, so they are correlated). The headline
    family's chance of any "better"/"worse" must be <= 5% (+ Monte Carlo slack); the old rule's is not."""
    rng = np.random.default_rng(20240)
    grids, new, old = 2000, 0, 0
    for _ in range(grids):
        cosmocore, ppo, uniform = rng.normal(size=(3, n_seeds)) + rng.normal(size=n_seeds)  # + a shared seed effect
        family = [cosmocore - ppo, cosmocore - uniform]
        new += any(c.verdict in (BETTER, WORSE) for c in judge_family(family, [1, 1]))
        old += any(_old_rule_calls_a_verdict(d, rng) for d in family)
    assert new / grids <= 0.065
    assert old / grids > 0.15


# ---- derived metrics -------------------------------------------------------------------------------


def test_sample_efficiency_is_completions_to_80_percent_of_the_final_gain() -> None:
    # start 0.2, final 0.7: gain 0.5, threshold 0.2 + 0.4 = 0.6, first reached at 64 completions
    assert completions_to_gain_fraction([0, 32, 64, 96], [0.2, 0.5, 0.6, 0.7]) == 64.0
    assert completions_to_gain_fraction([0, 32, 64], [0.2, None, 0.7]) == 64.0


def test_sample_efficiency_is_none_without_a_gain_or_a_start() -> None:
    assert completions_to_gain_fraction([0, 32], [0.5, 0.5]) is None
    assert completions_to_gain_fraction([0, 32], [0.5, 0.3]) is None
    assert completions_to_gain_fraction([0, 32], [None, 0.3]) is None
    assert completions_to_gain_fraction([], []) is None

