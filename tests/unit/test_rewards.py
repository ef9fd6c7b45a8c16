"""The reward table of DESIGN 1, checked value by value."""

import pytest

from cosmocore.config import RewardConfig
from cosmocore.errors import InputError
from cosmocore.rewards import feedback, pass_fraction, reward
from cosmocore.types import ExecutionResult


def _result(status, passed=None, total=None):
    return ExecutionResult(status, passed, total, 0.5)


@pytest.mark.parametrize(
    ("status", "passed", "total", "expected"),
    [
        ("passed", 4, 4, 1.0),
        ("wrong_answer", 0, 4, -0.3),
        ("wrong_answer", 3, 4, -0.3 + 0.3 * 0.75),
        ("wrong_answer", None, None, -0.3),
        ("runtime_error", 1, 4, -0.6),
        ("timeout", None, 4, -0.6),
        ("memory_limit", None, None, -0.6),
        ("crashed", None, None, -0.6),
        ("name_error", 0, 4, -0.8),
        ("syntax_error", None, None, -1.0),
    ],
)
def test_coderl_reward_matches_the_design_table(status, passed, total, expected):
    assert reward(_result(status, passed, total), RewardConfig()) == pytest.approx(expected)


def test_pass_fraction_scheme_gives_the_papers_zero_to_one_reward():
    config = RewardConfig(scheme="pass_fraction")
    assert reward(_result("passed", 2, 2), config) == 1.0
    assert reward(_result("wrong_answer", 1, 4), config) == 0.25
    assert reward(_result("syntax_error"), config) == 0.0


def test_pass_fraction_is_clipped_and_unknown_counts_give_zero():
    assert pass_fraction(_result("wrong_answer", 5, 4)) == 1.0
    assert pass_fraction(_result("wrong_answer", 1, 0)) == 0.0
    assert pass_fraction(_result("passed", None, None)) == 1.0


def test_every_failure_is_a_hallucination_under_the_default_reward():
    for status in ("wrong_answer", "syntax_error", "name_error", "runtime_error", "timeout"):
        assert feedback(_result(status, 3, 4)).hallucinated
    assert not feedback(_result("passed", 4, 4)).hallucinated


def test_unknown_reward_scheme_is_refused_with_its_name():
    with pytest.raises(InputError, match="scheme"):
        RewardConfig(scheme="bogus")  # type: ignore[arg-type]
