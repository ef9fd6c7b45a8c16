"""Prompt-level dream replay (cosmocore.integrations.replay): the Dream Queue rule on prompts and its draw rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosmocore.config import AffectConfig
from cosmocore.errors import InputError
from cosmocore.integrations.replay import DreamPrompts, FreshThenReplay
from cosmocore.types import Status

CALM = 40  # prompts whose groups all pass (TD 0): they keep the running RMS of TD small


def _observe_with_calm_groups(memory: DreamPrompts, groups: dict[int, list[tuple[float, Status]]]) -> None:
    """One batch: the given groups plus CALM all-pass groups of two (keys 1000 ...)."""
    keys, rewards, statuses = [], [], []
    for key, members in groups.items():
        for reward, status in members:
            keys.append(key)
            rewards.append(reward)
            statuses.append(status)
    for key in range(1000, 1000 + CALM):
        keys += [key, key]
        rewards += [1.0, 1.0]
        statuses += ["passed", "passed"]
    memory.observe(keys, rewards, statuses)


def _within_binomial(hits: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(hits / n - p) <= sigmas * math.sqrt(p * (1 - p) / n)


def _two_dream_prompts(size: int = 10_000, replay_fraction: float = 1.0) -> DreamPrompts:
    memory = DreamPrompts(size, replay_fraction=replay_fraction)
    _observe_with_calm_groups(memory, {3: [(1.0, "passed"), (-1.0, "syntax_error")],
                                       7: [(1.0, "passed"), (-0.3, "wrong_answer")]})
    return memory


def test_surprising_failures_become_dream_prompts_with_the_buffers_priority() -> None:
    memory = _two_dream_prompts()
    # TD of the failures: -1 and -0.65 (rewards minus their group's mean); arousal clips to 1 against the
    # small running RMS; valence is the status's scold label (syntax -1, wrong answer -0.6); lambda 0.6, alpha 0.6.
    p3, p7 = 1.0 + 0.6 * 1.0 * 1.0 + 1e-4, 0.65 + 0.6 * 0.6 * 1.0 + 1e-4
    weights = memory.dream_prompts()
    assert sorted(weights) == [3, 7]
    assert weights[3] == pytest.approx(p3**0.6) and weights[7] == pytest.approx(p7**0.6)


def test_replay_draws_are_eighty_percent_dream_prompts() -> None:
    memory, rng, n = _two_dream_prompts(), np.random.default_rng(1), 6000
    draws = [memory.choose(rng) for _ in range(n)]
    assert None not in draws  # replay_fraction 1: every slot is a replay while there are dream prompts
    hits = sum(d in (3, 7) for d in draws)
    expected = 0.8 + 0.2 * 2 / memory.size  # uniform draws land on a dream prompt by chance, rarely
    assert _within_binomial(hits, n, expected), hits / n
    stats = memory.stats()
    assert stats.dream + stats.uniform == n and stats.fresh == 0


def test_dream_draws_follow_their_weights() -> None:
    memory, rng, n = _two_dream_prompts(), np.random.default_rng(2), 6000
    memory.dream_fraction = 1.0
    draws = [memory.choose(rng) for _ in range(n)]
    w = memory.dream_prompts()
    assert _within_binomial(sum(d == 3 for d in draws), n, w[3] / (w[3] + w[7]))


def test_replay_fraction_is_the_share_of_replayed_slots() -> None:
    memory, rng, n = _two_dream_prompts(replay_fraction=0.25), np.random.default_rng(3), 6000
    replayed = sum(memory.choose(rng) is not None for _ in range(n))
    assert _within_binomial(replayed, n, 0.25)
    assert memory.stats().fresh == n - replayed


def test_without_dream_prompts_every_slot_is_a_fresh_prompt_in_whole_passes() -> None:
    memory = DreamPrompts(50, replay_fraction=1.0)
    slots = FreshThenReplay(memory, shuffle=True, seed=0)
    first, second = [slots.next() for _ in range(50)], [slots.next() for _ in range(50)]
    assert sorted(first) == sorted(second) == list(range(50)) and first != second
    assert memory.stats().fresh == 100


def test_a_prompt_leaves_the_dream_queue_once_its_group_is_calm() -> None:
    memory = _two_dream_prompts()
    _observe_with_calm_groups(memory, {3: [(1.0, "passed"), (1.0, "passed")]})
    assert sorted(memory.dream_prompts()) == [7]


def test_failures_all_alike_are_not_dream_prompts() -> None:
    memory = DreamPrompts(2000)
    _observe_with_calm_groups(memory, {5: [(-1.0, "syntax_error")] * 4})  # TD 0: no surprise, no GRPO signal
    assert memory.dream_prompts() == {}


def test_only_failures_make_a_dream_prompt() -> None:
    memory = DreamPrompts(2000)
    _observe_with_calm_groups(memory, {5: [(1.0, "passed"), (-1.0, "syntax_error"), (-1.0, "syntax_error")]})
    # the pass has the larger |TD| (4/3) but valence 0; the weight is the failures' (|TD| 2/3, v -1, a 1)
    assert memory.dream_prompts() == {5: pytest.approx((2 / 3 + 0.6 + 1e-4) ** 0.6)}
    assert memory.stats().groups_seen == 1 + CALM


def test_a_surprising_pass_is_no_dream_even_with_a_strong_success_valence() -> None:
    memory = DreamPrompts(10, affect=AffectConfig(success_valence=0.8))  # |v| 0.8: the buffer's rule would admit it
    memory.observe([5] * 4, [1.0, -0.3, -0.3, -0.3], ["passed"] + ["wrong_answer"] * 3)
    # TD: pass +1.075 (arousal 1 against the RMS 0.57), wrong answers -0.225 (arousal 0.26: not surprising)
    assert memory.dream_prompts() == {}


def test_bad_replay_input_raises_input_error() -> None:
    with pytest.raises(InputError, match="replay_fraction"):
        DreamPrompts(10, replay_fraction=1.5)
    with pytest.raises(InputError, match="size"):
        DreamPrompts(0)
    with pytest.raises(InputError, match="outside the dataset"):
        DreamPrompts(10).observe([10], [1.0], ["passed"])
    with pytest.raises(InputError, match="keys"):
        DreamPrompts(10).observe([1, 2], [1.0], ["passed"])
