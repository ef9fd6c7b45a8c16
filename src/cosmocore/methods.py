"""The compared methods: presets of one `TrainConfig`, so only the named mechanism differs.

    method              nocturnal phase  replay draws                          priority        DQ eviction  Prune Bin
    ppo                 off              -                                     -               -            -
    ppo-epochs          on               the latest wake batch (more epochs)   -               -            -
    uniform-replay      on               uniform over the buffer               |TD|            off          off
    per                 on               proportional to priority (PER)        |TD|            off          off
    success-replay      on               uniform over passing trajectories     |TD|            off          off
    cosmocore           on               80% Dream Queue by priority, 20% all  |TD|+0.6|v|a    protected    on
    cosmocore-no-prio   on               uniform over the buffer               |TD|            off          on
    cosmocore-no-prune  on               80% Dream Queue by priority, 20% all  |TD|+0.6|v|a    protected    off

Every method executes the same completions per wake step (the environment budget) and the same
warm-up. Every method but plain `ppo` (the paper's baseline) takes the same gradient steps on the
same number of rows: the wake epochs, plus M nocturnal minibatches of the same size every K steps,
with importance weights of batch mean 1; `ppo-epochs` spends those extra steps on the latest wake
batch, so "more updates" is never mistaken for "replay", and `uniform-replay` spends them on the
buffer without affect, so "more replay" is never mistaken for "affective replay". The tagger runs
and Dream Queue membership is measured in every buffer (its valence and arousal are measurements
too), but only the cosmocore methods let them steer sampling, eviction and pruning; the
meta-gradient on the prune thresholds runs only where the Prune Bin is on. A preset is a set of
dotted overrides applied before the user's own (`--learn.lr 3e-5` still wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cosmocore import configfile
from cosmocore.config import TrainConfig
from cosmocore.errors import InputError

_NO_AFFECT = {"buffer.protect_dream": False, "buffer.prune": False, "learn.meta_lr": 0.0}

METHODS: dict[str, dict[str, Any]] = {
    "ppo": {"learn.nocturnal_every": 0, **_NO_AFFECT},
    "ppo-epochs": {"learn.replay": "on_policy", **_NO_AFFECT},
    "uniform-replay": {"learn.replay": "uniform", "buffer.affect_weight": 0.0, **_NO_AFFECT},
    "per": {"learn.replay": "priority", "buffer.affect_weight": 0.0, **_NO_AFFECT},
    "success-replay": {"learn.replay": "success", "buffer.affect_weight": 0.0, **_NO_AFFECT},
    "cosmocore": {"learn.replay": "dream_mix"},
    "cosmocore-no-prio": {"learn.replay": "uniform", "buffer.protect_dream": False, "buffer.affect_weight": 0.0},
    "cosmocore-no-prune": {"learn.replay": "dream_mix", "buffer.prune": False, "learn.meta_lr": 0.0},
}
BASELINES = ("ppo", "uniform-replay")  # what every report compares CosmoCore against, paired by seed


def method_overrides(method: str) -> dict[str, Any]:
    """The dotted overrides that make the base config into `method`."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    return {"run.method": method, **METHODS[method]}


def dotted_pairs(extra: list[str]) -> list[tuple[str, str]]:
    """`--section.key value` / `--section.key=value` command-line words as (key, value) pairs."""
    pairs, words = [], list(extra)
    while words:
        word = words.pop(0)
        if not word.startswith("--") or "." not in word:
            raise InputError(f"unrecognized argument {word!r} (config overrides look like --buffer.capacity 4096)")
        key, eq, value = word[2:].partition("=")
        if not eq:
            if not words:
                raise InputError(f"config override {word} needs a value")
            value = words.pop(0)
        pairs.append((key, value))
    return pairs


def resolve(method: str, config_file: Path | None, overrides: Mapping[str, Any],
            shared: Mapping[str, Any] | None = None) -> TrainConfig:
    """The run's config: defaults <- the config file <- `shared` (a grid's settings for every method)
    <- the method preset <- `overrides` (a single run's explicit choices). A grid never overrides the
    mechanism a method is defined by; a user naming a key for one run does."""
    data = configfile.read_yaml(config_file) if config_file else {}
    layers = [shared or {}, method_overrides(method), overrides]
    for layer in layers:
        data = configfile.merge(data, layer)
    return configfile.build(TrainConfig, data)
