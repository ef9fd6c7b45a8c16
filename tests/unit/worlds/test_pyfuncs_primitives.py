"""miniworld-py primitives one by one: each code template computes what its implementation computes,
for every parameter value, and each has the phrasings and names a task needs."""

from __future__ import annotations

import builtins
import random
import string
from typing import Any

import pytest

from cosmocore.worlds.pyfuncs.inputs import EDGE_CASES, RANDOM
from cosmocore.worlds.pyfuncs.primitives import INPUT_TYPES, PRIMITIVES
from cosmocore.worlds.pyfuncs.prims_text import _group_by_first
from cosmocore.worlds.pyfuncs.source import TEMPLATE_LOCALS
from cosmocore.worlds.pyfuncs.steps import DSL, LS, Primitive, Step

ALL = sorted(PRIMITIVES.values(), key=lambda p: p.name)


def _inputs(type_name: str) -> list[Any]:
    if type_name == DSL:  # groups only arise from grouping words
        return [_group_by_first(words) for words in _inputs(LS)]
    rng = random.Random(type_name)
    return [*EDGE_CASES[type_name], *(RANDOM[type_name](rng) for _ in range(30))]


def _steps(primitive: Primitive) -> list[Step]:
    """The primitive with every combination of its parameter values."""
    combos: list[tuple[Any, ...]] = [()]
    for param in primitive.params:
        combos = [(*combo, value) for combo in combos for value in param.choices]
    return [Step(primitive, combo) for combo in combos]


def _template_function(step: Step) -> Any:
    """Our own template compiled as a one-step function (test-only exec of generated reference code)."""
    if step.primitive.is_block:
        body = step.code("arg", "out").replace("\n", "\n    ") + "\n    return out"
    else:
        body = "return " + step.code("arg", "out")
    namespace: dict[str, Any] = {}
    exec(compile(f"def f(arg):\n    {body}\n", step.key(), "exec"), namespace)
    return namespace["f"]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("primitive", ALL, ids=lambda p: p.name)
def test_template_computes_what_the_implementation_computes(primitive: Primitive) -> None:
    for step in _steps(primitive):
        function = _template_function(step)
        for value in _inputs(primitive.takes):
            expected = step.run(value)
            assert repr(function(value)) == repr(expected), (step.key(), value)


def test_there_are_enough_primitives_of_every_kind() -> None:
    kinds = {p.kind for p in ALL}
    assert len(ALL) >= 100
    assert {"filter", "map", "reduce", "order", "select", "count", "group", "edit", "convert", "test"} <= kinds
    assert all(any(p.takes == t for p in ALL) for t in INPUT_TYPES)


@pytest.mark.parametrize("primitive", ALL, ids=lambda p: p.name)
def test_each_primitive_has_three_phrasings_naming_every_parameter(primitive: Primitive) -> None:
    params = {p.name for p in primitive.params}
    assert len(set(primitive.says)) >= 3
    assert all(_fields(says) == params for says in primitive.says)
    assert all(_fields(name) <= params for name in primitive.names)


@pytest.mark.parametrize("primitive", ALL, ids=lambda p: p.name)
def test_templates_use_their_parameters_and_safe_variable_names(primitive: Primitive) -> None:
    template = string.Template(primitive.code)
    assert set(template.get_identifiers()) == {"inp", *(p.name for p in primitive.params)} | (
        {"out"} if primitive.is_block else set()
    )
    assert "import" not in primitive.code
    assert primitive.var.isidentifier() and primitive.var not in TEMPLATE_LOCALS | set(dir(builtins))
