"""ExecutionResult -> Feedback: the reward of one executed completion (pure, no I/O).

The default is CodeRL-style (DESIGN 1): pass +1; wrong answer -0.3 + 0.3 x fraction of tests passed;
runtime error, timeout, memory limit and crash -0.6; hallucinated name -0.8; syntax error -1. The
`pass_fraction` scheme gives the paper's 0..1 reward (fraction of tests passed; 1 for a pass).
"""

from __future__ import annotations

from cosmocore.config import RewardConfig
from cosmocore.types import ExecutionResult, Feedback


def pass_fraction(result: ExecutionResult) -> float:
    """Tests passed over tests defined, in [0, 1]; 1 for a pass, 0 where the counts are unknown."""
    if result.passed:
        return 1.0
    if not result.tests_total or result.tests_passed is None:
        return 0.0
    return min(1.0, max(0.0, result.tests_passed / result.tests_total))


def reward(result: ExecutionResult, config: RewardConfig) -> float:
    """The scalar reward of one verdict under `config`."""
    fraction = pass_fraction(result)
    if config.scheme == "pass_fraction":
        return fraction
    if result.status == "passed":
        return config.passed
    if result.status == "wrong_answer":
        return config.wrong_answer_base + config.wrong_answer_slope * fraction
    if result.status == "syntax_error":
        return config.syntax_error
    if result.status == "name_error":
        return config.name_error
    return config.runtime_error  # runtime_error, timeout, memory_limit, crashed


def feedback(result: ExecutionResult, config: RewardConfig | None = None) -> Feedback:
    """The reward stage: a verdict in, a `Feedback` out."""
    config = config or RewardConfig()
    return Feedback(reward(result, config), result.status, pass_fraction(result), result.duration_s)
