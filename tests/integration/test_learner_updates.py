"""The learner's updates through the loop's own `gradient_step` on a tiny random Llama (seconds):
replay keeps the sign of its stored TD, the KL term pulls towards the frozen starting policy, the
value clip acts on wake data. Each drives `cosmocore.loop` with the default config otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tiny_models
import torch

from cosmocore import loop
from cosmocore.configfile import build, merge
from cosmocore.config import TrainConfig

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (as in CI and sessions)")


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build("llama", tmp_path_factory.mktemp("model") / "llama")


def start(model: Path, directory: Path, **overrides: object) -> loop.Run:
    data = merge({}, {"policy.model": str(model), "policy.max_new_tokens": 12, "run.train_tasks": 8,
                      "run.eval_tasks": 2, "sandbox.workers": 1, **overrides})
    return loop.start(build(TrainConfig, data), directory)


def replayed(run: loop.Run, reward: float) -> loop.Minibatch:
    """Four stored completions of the run's tasks, all with `reward` and a stored TD of `reward` (the
    expectation of a fresh critic is 0), as a replay minibatch."""
    tasks = run.train_tasks[:4]
    cs = run.policy.generate([t.prompt for t in tasks], run.config.policy, seed=1)
    return loop.Minibatch([c.prompt_ids for c in cs], [c.completion_ids for c in cs], [c.logprobs for c in cs],
                          np.full(4, reward, np.float32), np.full(4, reward, np.float32), np.zeros(4, np.int64),
                          np.ones(4, np.float32))


def sequence_logp(run: loop.Run, mb: loop.Minibatch) -> torch.Tensor:
    with torch.no_grad():
        scored = run.policy.score(mb.prompt_ids, mb.completion_ids)
    return (scored.logp * scored.mask).sum(-1)  # (B,) nats


@pytest.mark.parametrize(("reward", "direction"), [(-1.0, -1), (1.0, +1)])
def test_a_replayed_batch_of_one_outcome_moves_its_logprobs_the_way_its_reward_says(
        tiny_llama: Path, tmp_path: Path, reward: float, direction: int) -> None:
    run = start(tiny_llama, tmp_path / "run", **{"learn.lr": 1e-3})
    try:
        mb = replayed(run, reward)
        before = sequence_logp(run, mb)
        for _ in range(3):
            loop.gradient_step(run, mb)
        change = sequence_logp(run, mb) - before
        assert (direction * change > 0).all(), change  # never re-centred on the batch's own mean
        assert run.gradient_steps == 3
    finally:
        run.sandbox.close()


@pytest.mark.parametrize("algorithm", ["ppo", "grpo"])
def test_a_replay_follows_the_sign_of_its_stored_td_not_of_its_reward(tiny_llama: Path, tmp_path: Path,
                                                                       algorithm: str) -> None:
    run = start(tiny_llama, tmp_path / "run", **{"learn.lr": 1e-3, "learn.algorithm": algorithm})
    try:
        mb = replayed(run, 0.0)
        mb = loop.Minibatch(mb.prompt_ids, mb.completion_ids, mb.behaviour_logp, mb.reward,
                            np.array([-1.0, -1.0, 1.0, 1.0], np.float32), mb.versions, mb.per_weights)
        before = sequence_logp(run, mb)
        for _ in range(3):
            loop.gradient_step(run, mb)
        change = sequence_logp(run, mb) - before
        assert (change[:2] < 0).all() and (change[2:] > 0).all(), change
    finally:
        run.sandbox.close()


def test_the_kl_term_holds_the_policy_near_its_frozen_start(tiny_llama: Path, tmp_path: Path) -> None:
    drift = {}
    for kl in (0.0, 5.0):
        run = start(tiny_llama, tmp_path / f"kl{kl}", **{"learn.lr": 1e-3, "learn.kl_coef": kl})
        try:
            mb = replayed(run, 1.0)
            before = sequence_logp(run, mb)
            stats = [loop.gradient_step(run, mb)[0] for _ in range(6)]
            drift[kl] = float((sequence_logp(run, mb) - before).abs().mean())
            assert (run.reference is None) == (kl == 0.0)
            assert (stats[-1].kl_ref > 0) == (kl > 0)  # measured against the frozen copy, not a constant
        finally:
            run.sandbox.close()
    assert drift[5.0] < drift[0.0]


def test_wake_minibatches_carry_the_sampling_time_values_so_the_value_clip_acts(tiny_llama: Path,
                                                                                 tmp_path: Path) -> None:
    losses = {}
    for eps in (0.0, 0.01):
        run = start(tiny_llama, tmp_path / f"clip{eps}", **{"learn.value_clip_eps": eps})
        try:
            r = loop.rollout(run, 1)
            mb = loop.wake_minibatches(run, r)[0]
            assert mb.old_values is not None
            with torch.no_grad():  # the critic moves towards the returns after sampling: the clip binds
                run.policy.value_head.linear.bias.add_(0.5 * float(np.sign(mb.reward.mean())))
            batch, _ = loop.token_batch(run, mb)
            assert batch.old_values is not None
            losses[eps] = loop.objective(batch, run.config.learn).value_loss.item()
        finally:
            run.sandbox.close()
    assert losses[0.01] > losses[0.0]  # clipped: the moved critic cannot claim its move back
