"""The records a miniworld-py task is built from: a `Primitive` (one kind of step) and a `Step` (a primitive
with its parameters drawn), plus the value types steps pass along.

A primitive keeps its implementation (`run`) beside its code template (`code`): `run` computes every
expected output (the trust rule: tests never come from executing generated source), `code` is the
`string.Template` the reference solution is written from. In `code`, `$inp` is the input variable, `$out`
the output variable (only in block templates, which assign it; an expression template has no `$out`) and
`$name` each parameter, written as a Python literal. `says` phrases the step for a docstring (`{name}`
for a parameter), `names` gives entry-point name fragments, `var` the variable the reference binds.
Limits: values are ints, bools, strings, lists and dicts only (no floats, so no tolerance questions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from string import Template
from typing import Any

# The value types, spelled as the type hints the generated signatures use.
LI = "list[int]"
LS = "list[str]"
STR = "str"
INT = "int"
BOOL = "bool"
DSI = "dict[str, int]"
DSL = "dict[str, list[str]]"
DII = "dict[int, int]"


@dataclass(frozen=True)
class Param:
    """A parameter of a primitive and the values a task may give it (drawn uniformly)."""

    name: str
    choices: tuple[Any, ...]


@dataclass(frozen=True)
class Primitive:
    """One kind of step: `run(value, **params)` maps a `takes` value to a `gives` value."""

    name: str
    kind: str  # filter, map, order, select, reduce, convert, count, group, edit, test
    takes: str
    gives: str
    run: Callable[..., Any]
    code: str  # string.Template: an expression of $inp, or a block that assigns $out
    var: str  # the variable the reference binds the step's result to
    says: tuple[str, ...]  # docstring phrasings, str.format fields = parameter names
    names: tuple[str, ...]  # entry-point name fragments, str.format fields = parameter names
    params: tuple[Param, ...] = ()
    limit: int | None = None  # largest |input| the step may be given (steps that loop up to their input)

    @property
    def is_block(self) -> bool:
        return "$out" in self.code


@dataclass(frozen=True)
class Step:
    """A primitive with its parameter values, in the order of `primitive.params`."""

    primitive: Primitive
    values: tuple[Any, ...] = ()

    @property
    def params(self) -> dict[str, Any]:
        return {p.name: v for p, v in zip(self.primitive.params, self.values, strict=True)}

    def run(self, value: Any) -> Any:
        return self.primitive.run(value, **self.params)

    def code(self, inp: str, out: str) -> str:
        """The template with the variables and the parameters (as literals) filled in."""
        literals = {name: repr(value) for name, value in self.params.items()}
        return Template(self.primitive.code).substitute(inp=inp, out=out, **literals)

    def key(self) -> str:
        """`name` or `name(k=3)`: the step with its parameters, for distinctness and display."""
        args = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{self.primitive.name}({args})" if args else self.primitive.name


class TooLarge(ValueError):
    """An intermediate value is beyond the `limit` of the step it would be given to."""


def run_steps(steps: Sequence[Step], value: Any) -> Any:
    """The trusted output of a composition: each step's own implementation, in order.

    Raises `TooLarge` instead of running a step on a value beyond its `limit` (say, listing the
    divisors of a product of eight numbers), so that no composition takes long to judge.
    """
    for step in steps:
        limit = step.primitive.limit
        if limit is not None and abs(value) > limit:
            raise TooLarge(f"{step.key()} given {value}")
        value = step.run(value)
    return value


def chains(steps: Sequence[Step], takes: str, gives: str) -> bool:
    """Whether `steps` type-check from a `takes` input to a `gives` output (no steps: takes == gives)."""
    current = takes
    for step in steps:
        if step.primitive.takes != current:
            return False
        current = step.primitive.gives
    return current == gives
