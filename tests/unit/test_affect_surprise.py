"""Arousal is surprise: with a critic fixed by hand, the default reward, expectation and arousal rules
give an unexpected outcome arousal above the Dream Queue's 0.7 and an expected pass arousal below the
Prune Bin's 0.3 (docs/learner.md, "Expectation and surprise")."""

import pytest
import torch

from cosmocore.affect.arousal import ArousalScale, normalised_arousal
from cosmocore.config import AffectConfig, BufferConfig
from cosmocore.learn.grpo import peer_means
from cosmocore.learn.expectation import pooled_expectation
from cosmocore.rewards import feedback
from cosmocore.types import STATUSES, ExecutionResult

SCALE = ArousalScale(mean_sq=0.8**2, weight=1.0, batches=10)  # a running TD RMS of 0.8, as measured early in runs
DREAM_AROUSAL, PRUNE_AROUSAL = BufferConfig().dream_arousal, BufferConfig().prune_arousal


def reward(status: str, passed: int = 0, total: int = 10) -> float:
    return feedback(ExecutionResult(status, passed, total, 0.01)).reward  # type: ignore[arg-type]


CRITIC_WEIGHT = 3.5  # the critic's worth in attempts as the embedded model's runs estimate it (learner.md)


def arousal_of_first(rewards: list[float], head_value: float) -> float:
    """Arousal of attempt 0 of one prompt whose critic says `head_value`, with the others as its peers."""
    r = torch.tensor(rewards)
    peer_mean, peers = peer_means(r, torch.zeros(len(rewards), dtype=torch.long))
    baseline = pooled_expectation(torch.full((len(rewards),), head_value), peer_mean, peers, CRITIC_WEIGHT)
    return float(normalised_arousal(r - baseline, SCALE, AffectConfig().arousal_width)[0])


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "passed"])
def test_every_failure_where_a_pass_was_expected_is_surprising_enough_for_the_dream_queue(status: str) -> None:
    # the mildest failure of each status (a wrong answer that passed 8 of 10 tests) on a prompt the
    # critic puts at 0.9 and whose three other attempts passed
    failure = reward(status, passed=8 if status == "wrong_answer" else 0)
    assert arousal_of_first([failure, 1.0, 1.0, 1.0], head_value=0.9) > DREAM_AROUSAL


def test_a_pass_where_failure_was_expected_is_surprising() -> None:
    assert arousal_of_first([1.0, -1.0, -0.8, -1.0], head_value=-0.6) > DREAM_AROUSAL


def test_an_expected_pass_is_routine_enough_for_the_prune_bin() -> None:
    assert arousal_of_first([1.0, 1.0, 1.0, 1.0], head_value=0.95) < PRUNE_AROUSAL


def test_a_lone_attempt_is_judged_against_the_critic_alone() -> None:
    assert arousal_of_first([-1.0], head_value=0.9) > DREAM_AROUSAL
    assert arousal_of_first([1.0], head_value=0.95) < PRUNE_AROUSAL
