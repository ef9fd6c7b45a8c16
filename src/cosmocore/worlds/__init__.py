"""Mini-World: generated task worlds, each a set of `Problem` records keyed by task_id.

`generate(world, seed, split, n)` returns a world's problems for a seed (deterministic), optionally one
split ("train" or "test": labelled in each problem's `meta`) and only the first `n`. Worlds live behind
a plain-dict registry of "module:function" strings, imported on first use, so `import cosmocore.worlds`
stays cheap. A world function takes the seed and returns all its problems, each labelled with its split.

    name            module                        what
    miniworld-py    cosmocore.worlds.pyfuncs      Python functions composed of 1-3 primitive steps
    miniworld-spark cosmocore.worlds.spark        PySpark DataFrame pipelines over four related tables

Bug injection (`cosmocore.worlds.bugs` for Python, `cosmocore.worlds.spark.bugs` for PySpark) is
separate and is not imported here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from cosmocore.errors import InputError
from cosmocore.types import Problem

__all__ = ["SPLITS", "generate", "world_names"]

World = Callable[[int], dict[str, Problem]]  # seed -> every problem of the world, both splits

_WORLDS: dict[str, str] = {  # world name -> "module:function", imported on first use
    "miniworld-py": "cosmocore.worlds.pyfuncs:generate_world",
    "miniworld-spark": "cosmocore.worlds.spark:generate_world",
}

SPLITS = ("all", "train", "test")


def world_names() -> tuple[str, ...]:
    """The names `generate` accepts."""
    return tuple(_WORLDS)


def generate(world: str, seed: int = 0, split: str = "all", n: int | None = None) -> dict[str, Problem]:
    """The problems of `world` for `seed`, keyed by task_id, in generation order: those of `split`, first `n`."""
    _check_request(world, split, n)
    problems = _world_function(world)(seed)
    chosen = [p for p in problems.values() if split == "all" or dict(p.meta).get("split") == split]
    return {p.task_id: p for p in chosen[:n]}


def _check_request(world: str, split: str, n: int | None) -> None:
    if world not in _WORLDS:
        raise InputError(f"unknown world {world!r}; choose one of: {', '.join(_WORLDS)}")
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    if n is not None and n < 0:
        raise InputError(f"n must be >= 0, got {n}")


def _world_function(world: str) -> World:
    module_name, _, function = _WORLDS[world].partition(":")
    generate_world: World = getattr(importlib.import_module(module_name), function)
    return generate_world
