"""Writing a miniworld-py task as Python source: the signature, the reference body and `check(candidate)`.

The body is one statement (or one small block) per step, written from each primitive's code template,
each binding a named variable; the last step is returned. Test literals are the values' `repr`, which
for the plain data used here (ints, bools, strings, lists, dicts) reads back as an equal value.
Limits: this module writes source text only; it never runs it.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Sequence

from cosmocore.worlds.pyfuncs.compose import Case
from cosmocore.worlds.pyfuncs.steps import DSI, INT, LI, LS, STR, Step

ARG_NAMES = {LI: "nums", LS: "words", STR: "text", INT: "n", DSI: "scores"}

# Names the templates use inside comprehensions, loops and lambdas: no step variable may take them.
TEMPLATE_LOCALS = frozenset({"x", "w", "c", "d", "v", "i", "a", "b", "key", "acc"})
INDENT = "    "


def signature(entry_point: str, takes: str, gives: str) -> str:
    return f"def {entry_point}({ARG_NAMES[takes]}: {takes}) -> {gives}:\n"


def variable_names(steps: Sequence[Step], arg: str) -> list[str]:
    """The variable each step binds: the primitive's `var`, numbered where it would repeat."""
    taken = {arg, *TEMPLATE_LOCALS, *dir(builtins)}
    names = []
    for step in steps:
        name, number = step.primitive.var, 2
        while name in taken or keyword.iskeyword(name):
            name, number = f"{step.primitive.var}{number}", number + 1
        taken.add(name)
        names.append(name)
    return names


def body(steps: Sequence[Step], arg: str) -> str:
    """The reference body: each step's template applied to the previous step's variable."""
    lines: list[str] = []
    inp = arg
    for index, (step, out) in enumerate(zip(steps, variable_names(steps, arg), strict=True)):
        code = step.code(inp, out)
        if step.primitive.is_block:
            lines += code.splitlines()
        else:
            lines.append(f"return {code}" if index == len(steps) - 1 else f"{out} = {code}")
        inp = out
    if steps[-1].primitive.is_block:
        lines.append(f"return {inp}")
    return "".join(INDENT + line + "\n" for line in lines)


def call(entry_point: str, case: Case) -> str:
    return f"{entry_point}({case.value!r})"


def check_source(cases: Sequence[Case]) -> str:
    """HumanEval's `check(candidate)`: one literal assert per test case."""
    asserts = "".join(f"{INDENT}assert {call('candidate', case)} == {case.expected!r}\n" for case in cases)
    return f"def check(candidate):\n{asserts}"
