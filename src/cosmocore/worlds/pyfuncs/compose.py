"""Drawing a task's composition (1 to 3 steps whose types chain) and its test cases, and rejecting weak ones.

A drawn composition is kept only if it makes a real task on its own test inputs:
- not degenerate: its outputs take at least 3 different values (2 for a bool result), so a constant
  answer cannot pass;
- runnable: no intermediate value exceeds the `limit` of the step it reaches;
- no redundant step: removing any one step (where the rest still type-checks) changes some output, so
  `sort > sum` or `upper > lower` never appear and every step described must be implemented.
Expected outputs come from `run_steps` (the primitives' own implementations), never from generated source.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cosmocore.worlds.pyfuncs.inputs import draw_inputs
from cosmocore.worlds.pyfuncs.primitives import starters, taking
from cosmocore.worlds.pyfuncs.steps import BOOL, Primitive, Step, TooLarge, chains, run_steps

LENGTH_WEIGHTS = {1: 0.15, 2: 0.35, 3: 0.5}  # share of drawn compositions by number of steps
TESTS_PER_TASK = (8, 12)  # inclusive range of test inputs per task


@dataclass(frozen=True)
class Case:
    """One test: the argument and the output the composition's implementations give for it."""

    value: Any
    expected: Any


@dataclass(frozen=True)
class Draft:
    """A composition with its test cases, not yet written as a problem."""

    steps: tuple[Step, ...]
    cases: tuple[Case, ...]

    @property
    def takes(self) -> str:
        return self.steps[0].primitive.takes

    @property
    def gives(self) -> str:
        return self.steps[-1].primitive.gives

    @property
    def composition(self) -> str:
        return ">".join(step.primitive.name for step in self.steps)

    @property
    def key(self) -> str:
        return ">".join(step.key() for step in self.steps)


def draw_steps(rng: random.Random) -> tuple[Step, ...] | None:
    """A random walk over primitives whose types chain; None when it runs into a dead end."""
    length = rng.choices(list(LENGTH_WEIGHTS), weights=list(LENGTH_WEIGHTS.values()))[0]
    primitives = [rng.choice(starters())]
    while len(primitives) < length:
        options = [p for p in taking(primitives[-1].gives) if p.name != primitives[-1].name]
        if not options:
            return None
        primitives.append(rng.choice(options))
    return tuple(_with_params(p, rng) for p in primitives)


def _with_params(primitive: Primitive, rng: random.Random) -> Step:
    return Step(primitive, tuple(rng.choice(param.choices) for param in primitive.params))


def draw_cases(steps: Sequence[Step], rng: random.Random) -> tuple[Case, ...]:
    inputs = draw_inputs(steps[0].primitive.takes, rng, rng.randint(*TESTS_PER_TASK))
    return tuple(Case(value, run_steps(steps, value)) for value in inputs)


def is_degenerate(draft: Draft) -> bool:
    distinct = {repr(case.expected) for case in draft.cases}
    return len(distinct) < (2 if draft.gives == BOOL else 3)


def has_redundant_step(draft: Draft) -> bool:
    """Whether dropping some step leaves a composition with the same outputs on every test."""
    for i in range(len(draft.steps)):
        rest = draft.steps[:i] + draft.steps[i + 1:]
        if chains(rest, draft.takes, draft.gives) and _same_outputs(rest, draft.cases):
            return True
    return False


def _same_outputs(steps: Sequence[Step], cases: Sequence[Case]) -> bool:
    try:
        return all(_equal(run_steps(steps, case.value), case.expected) for case in cases)
    except TooLarge:  # the shorter composition is not even runnable on these inputs
        return False


def _equal(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def draw_draft(rng: random.Random) -> Draft | None:
    """A composition with test cases, or None where the walk or the checks above reject it."""
    steps = draw_steps(rng)
    if steps is None:
        return None
    try:
        draft = Draft(steps, draw_cases(steps, rng))
    except TooLarge:
        return None
    return None if is_degenerate(draft) or has_redundant_step(draft) else draft
