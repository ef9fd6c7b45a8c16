"""Method presets: each differs from cosmocore only in its named mechanism, with equal budgets."""

from __future__ import annotations

import pytest

from cosmocore.config import TrainConfig
from cosmocore.configfile import build, merge, to_dict
from cosmocore.errors import InputError
from cosmocore.methods import METHODS, method_overrides


def _config(method: str) -> TrainConfig:
    return build(TrainConfig, merge({}, method_overrides(method)))


def _flat(config: TrainConfig) -> dict:
    return {f"{s}.{k}": v for s, section in to_dict(config).items() for k, v in section.items()}


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_has_the_same_environment_budget_and_replay_volume(method: str) -> None:
    config, base = _config(method), _config("cosmocore")
    assert config.run.completions_per_step == base.run.completions_per_step
    if method != "ppo":
        assert config.learn.nocturnal_every == base.learn.nocturnal_every > 0
        assert config.learn.nocturnal_minibatches * config.learn.replay_batch_size == \
            base.learn.nocturnal_minibatches * base.learn.replay_batch_size


@pytest.mark.parametrize(("method", "differs"), [
    ("cosmocore-no-prune", {"buffer.prune", "learn.meta_lr"}),
    ("cosmocore-no-prio", {"learn.replay", "buffer.protect_dream", "buffer.affect_weight"}),
    ("uniform-replay", {"learn.replay", "buffer.protect_dream", "buffer.prune", "buffer.affect_weight",
                        "learn.meta_lr"}),
    ("ppo", {"learn.nocturnal_every", "buffer.protect_dream", "buffer.prune", "learn.meta_lr"}),
    ("ppo-epochs", {"learn.replay", "buffer.protect_dream", "buffer.prune", "learn.meta_lr"}),
])
def test_an_ablation_differs_from_cosmocore_only_in_its_mechanism(method: str, differs: set[str]) -> None:
    ours, theirs = _flat(_config("cosmocore")), _flat(_config(method))
    changed = {k for k in ours if ours[k] != theirs[k]} - {"run.method"}
    assert changed == differs


def test_user_overrides_win_over_the_preset() -> None:
    config = build(TrainConfig, merge({}, {**method_overrides("ppo"), "learn.nocturnal_every": 2}))
    assert config.learn.nocturnal_every == 2


def test_an_unknown_method_lists_the_choices() -> None:
    with pytest.raises(InputError, match="choose one of: ppo, ppo-epochs, uniform-replay"):
        method_overrides("dqn")


def test_a_grid_setting_never_overrides_the_mechanism_a_method_is_defined_by() -> None:
    from cosmocore.methods import resolve

    shared = {"learn.nocturnal_every": 2, "buffer.prune": True}
    assert resolve("ppo", None, {}, shared=shared).learn.nocturnal_every == 0
    assert resolve("cosmocore-no-prune", None, {}, shared=shared).buffer.prune is False
    assert resolve("cosmocore", None, {}, shared=shared).learn.nocturnal_every == 2
