"""The trust rule: expected outputs come from the primitives' implementations, and every reference
solution (our own generated code, exec'd only here in the tests) agrees with them, passes its own
check, and makes every docstring example true."""

from __future__ import annotations

import ast
import doctest
import random
import re
from typing import Any

import pytest

from cosmocore.types import Problem
from cosmocore.worlds.pyfuncs.compose import Draft
from cosmocore.worlds.pyfuncs.generate import build_problem, draw_drafts, generate_world
from cosmocore.worlds.pyfuncs.steps import run_steps

EXAMPLE = re.compile(r"^\s*>>> (\w+)\((.*)\)\n\s*(.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def drafted() -> list[tuple[Draft, Problem]]:
    rng = random.Random("references")
    drafts = draw_drafts(rng, 400)
    taken: set[str] = set()
    return [(draft, build_problem(i, draft, rng, taken)) for i, draft in enumerate(drafts)]


def _compiled(problem: Problem) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(problem.reference, problem.task_id, "exec"), namespace)
    return namespace


def _asserted(problem: Problem) -> list[tuple[Any, Any]]:
    """(argument, expected) of each `assert candidate(ARG) == EXPECTED` line of the check."""
    pairs = []
    for node in ast.walk(ast.parse(problem.tests.test_code)):
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare):
            call = node.test.left
            assert isinstance(call, ast.Call) and len(call.args) == 1
            pairs.append((ast.literal_eval(call.args[0]), ast.literal_eval(node.test.comparators[0])))
    return pairs


def test_reference_equals_the_implementations_on_every_test_input(drafted: list[tuple[Draft, Problem]]) -> None:
    for draft, problem in drafted:
        function = _compiled(problem)[problem.entry_point]
        for case in draft.cases:
            assert repr(function(case.value)) == repr(run_steps(draft.steps, case.value)) == repr(case.expected)


def test_check_asserts_the_implementations_outputs(drafted: list[tuple[Draft, Problem]]) -> None:
    for draft, problem in drafted:
        expected = [(case.value, run_steps(draft.steps, case.value)) for case in draft.cases]
        assert _asserted(problem) == expected


def test_docstring_examples_are_true(drafted: list[tuple[Draft, Problem]]) -> None:
    for draft, problem in drafted:
        examples = EXAMPLE.findall(problem.prompt)
        assert 1 <= len(examples) <= 2
        for name, argument, output in examples:
            assert name == problem.entry_point
            assert repr(run_steps(draft.steps, ast.literal_eval(argument))) == output


def test_docstring_examples_pass_doctest(drafted: list[tuple[Draft, Problem]]) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for _, problem in drafted[:150]:
        globs = _compiled(problem)
        for test in doctest.DocTestFinder().find(globs[problem.entry_point], globs=globs):
            assert runner.run(test, out=lambda _: None).failed == 0, problem.reference


def test_every_reference_of_the_world_passes_its_check_and_matches_its_examples() -> None:
    for problem in generate_world(0).values():
        namespace = _compiled(problem)
        exec(compile(problem.tests.test_code, problem.task_id, "exec"), namespace)
        namespace["check"](namespace[problem.entry_point])
        asserted = {repr(arg): expected for arg, expected in _asserted(problem)}
        for _, argument, output in EXAMPLE.findall(problem.prompt):
            assert repr(asserted[repr(ast.literal_eval(argument))]) == output
