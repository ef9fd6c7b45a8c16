"""Metrics against hand-computed numbers: unbiased pass@k (Chen et al. 2021) and status counts."""

from __future__ import annotations

from math import comb

import pytest

from cosmocore.metrics import estimate_pass_at_k, pass_at_k, status_counts
from cosmocore.types import STATUSES

# ---- estimate_pass_at_k --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 0.4),  # c / n
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (5, 2, 3, 0.9),  # 1 - C(3,3)/C(5,3) = 1 - 1/10
        (5, 1, 2, 0.4),  # 1 - C(4,2)/C(5,2) = 1 - 6/10
        (10, 1, 1, 0.1),
        (10, 0, 1, 0.0),
        (10, 0, 10, 0.0),  # no sample passed: nothing can
        (200, 1, 100, 0.5),  # 1 - C(199,100)/C(200,100) = 1 - 100/200
        (200, 2, 100, 299 / 398),  # 1 - (100 * 99)/(200 * 199) = 1 - 99/398
        (10_000, 1, 1, 1e-4),  # large n stays stable
    ],
)
def test_pass_at_k_matches_hand_computed_values(n, c, k, expected):
    assert estimate_pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("n", "c", "k"), [(5, 5, 1), (5, 5, 5), (1, 1, 1), (5, 2, 4), (5, 4, 2), (10, 1, 10)]
)
def test_pass_at_k_is_exactly_one_when_every_draw_of_k_must_contain_a_pass(n, c, k):
    assert n - c < k
    assert estimate_pass_at_k(n, c, k) == 1.0


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_agrees_with_the_comb_formula_on_a_small_grid(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            direct = 1.0 - comb(n - c, k) / comb(n, k)  # comb(m, k) = 0 for m < k
            assert estimate_pass_at_k(n, c, k) == pytest.approx(direct, abs=1e-12), (n, c, k)


def test_pass_at_k_returns_a_python_float():
    assert type(estimate_pass_at_k(5, 2, 2)) is float
    assert type(estimate_pass_at_k(5, 5, 2)) is float


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [
        (5, 6, 1),  # more passes than samples
        (5, -1, 1),
        (5, 2, 0),  # k must be at least 1
        (5, 2, -1),
        (5, 2, 6),  # k above n
        (0, 0, 1),  # no samples
    ],
)
def test_pass_at_k_rejects_impossible_arguments(n, c, k):
    with pytest.raises(ValueError, match="need 0 <= c <= n"):
        estimate_pass_at_k(n, c, k)


# ---- pass_at_k over tasks ------------------------------------------------------------------------


def test_pass_at_k_over_tasks_is_the_mean_of_per_task_estimates():
    per_task = {"a": [True, False, False, False, False], "b": [True, True]}
    # a: pass@1 = 1/5, pass@2 = 1 - C(4,2)/C(5,2) = 0.4; b: 1 and 1
    assert pass_at_k(per_task, ks=(1, 2)) == pytest.approx({1: 0.6, 2: 0.7})


def test_pass_at_k_only_reports_k_up_to_the_fewest_samples_of_any_task():
    per_task = {"a": [True, False, False, False, False], "b": [True, True]}
    assert list(pass_at_k(per_task, ks=(1, 2, 3, 10))) == [1, 2]


def test_pass_at_k_default_ks_drop_100_with_ten_samples_per_task():
    per_task = {"a": [True] + [False] * 9, "b": [False] * 10}
    result = pass_at_k(per_task)
    assert list(result) == [1, 10]
    assert result[1] == pytest.approx((0.1 + 0.0) / 2)
    assert result[10] == pytest.approx((1.0 + 0.0) / 2)


def test_pass_at_k_of_no_tasks_is_empty():
    assert pass_at_k({}) == {}


def test_pass_at_k_with_a_task_without_samples_reports_nothing():
    assert pass_at_k({"a": [True], "b": []}, ks=(1,)) == {}


def test_pass_at_k_values_are_python_floats():
    assert all(type(v) is float for v in pass_at_k({"a": [True, False]}, ks=(1, 2)).values())


# ---- status_counts -------------------------------------------------------------------------------


def test_status_counts_lists_every_status_in_vocabulary_order_with_zeros():
    counts = status_counts(["timeout", "passed", "timeout", "crashed"])
    assert list(counts) == list(STATUSES)
    assert counts == {
        "passed": 1,
        "wrong_answer": 0,
        "syntax_error": 0,
        "name_error": 0,
        "runtime_error": 0,
        "timeout": 2,
        "memory_limit": 0,
        "crashed": 1,
    }


def test_status_counts_of_nothing_is_all_zeros():
    counts = status_counts([])
    assert list(counts) == list(STATUSES)
    assert set(counts.values()) == {0}


def test_status_counts_accepts_any_iterable_and_sums_to_its_length():
    statuses = ("passed" if i % 3 else "wrong_answer" for i in range(10))
    counts = status_counts(statuses)
    assert sum(counts.values()) == 10
    assert counts["passed"] == 6 and counts["wrong_answer"] == 4
