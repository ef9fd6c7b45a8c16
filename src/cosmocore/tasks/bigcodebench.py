"""BigCodeBench (Zhuo et al. 2024, HF-format JSON Lines) as `Problem` records; which libraries are missing.

The model sees `complete_prompt` (imports, signature, docstring) and writes the body; `reference` is
complete_prompt + canonical_solution. A program is judged by the task's `unittest` class `TestCases`
(`UnittestTests`); the loader checks that the test code parses and defines that class.

`required_libs` are the importable top-level modules a task needs beyond the standard library
(`sys.stdlib_module_names` of this interpreter): the task's `libs` field (a Python list literal, read
with `ast.literal_eval`), then the modules its test code imports that `libs` leaves out. The second part
goes beyond the field on purpose: in v0.1.0_hf, 208 of 1140 tests import third-party modules that `libs`
does not list (numpy 85, matplotlib 51, pandas 48, faker 37, pytz 5, PIL 5, and requests_mock,
pyfakefs, ...), and a missing one would be misread as the candidate's fault. `missing_libs` says which
of them this interpreter cannot import, without importing anything.
"""

from __future__ import annotations

import ast
import importlib.util
import sys

from cosmocore.tasks.records import PathArg, Record, index_problems, parse_code, read_jsonl, require_path
from cosmocore.types import Problem, UnittestTests

TEST_CLASS = "TestCases"  # the TestCase subclass every BigCodeBench test defines
_LITERAL_ERRORS = (ValueError, TypeError, SyntaxError, MemoryError, RecursionError)  # ast.literal_eval's


def load(path: PathArg = None) -> dict[str, Problem]:
    """The problems of a BigCodeBench HF-format file (`.jsonl` or `.jsonl.gz`), in file order."""
    source = require_path(path, "bigcodebench", "BigCodeBench-v0.1.0_hf.jsonl.gz")
    return index_problems(source, ((record, problem_from_record(record)) for record in read_jsonl(source)))


def missing_libs(problem: Problem) -> tuple[str, ...]:
    """The problem's required libraries that this interpreter cannot import (found by
    `importlib.util.find_spec` on the top-level name, so nothing is imported or run)."""
    return tuple(name for name in problem.required_libs if not _importable(name))


def problem_from_record(record: Record) -> Problem:
    prompt, test = record.text("complete_prompt"), record.text("test")
    test_tree = _parse_test(record, test)
    return Problem(
        task_id=record.text("task_id"),
        prompt=prompt,
        entry_point=record.text("entry_point"),
        completion_prefix=prompt,
        reference=prompt + record.text("canonical_solution"),
        tests=UnittestTests(test_code=test, class_name=TEST_CLASS),
        benchmark="bigcodebench",
        required_libs=third_party([*declared_libs(record), *imported_modules(test_tree)]),
    )


def declared_libs(record: Record) -> tuple[str, ...]:
    """The `libs` field: the string repr of a list of module names, read without evaluating code."""
    try:
        libs = ast.literal_eval(record.text("libs"))
    except _LITERAL_ERRORS as err:
        raise record.error(f"field 'libs' is not a list literal: {type(err).__name__}") from None
    if not isinstance(libs, list | tuple) or not all(isinstance(lib, str) for lib in libs):
        raise record.error("field 'libs' must hold a list of module names")
    return tuple(libs)


def imported_modules(tree: ast.AST) -> list[str]:
    """Top-level names of the absolute imports anywhere in `tree`, in order."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def third_party(modules: list[str]) -> tuple[str, ...]:
    """Distinct top-level module names outside the standard library, first occurrence first."""
    tops = (name.partition(".")[0] for name in modules)
    return tuple(dict.fromkeys(top for top in tops if top and top not in sys.stdlib_module_names))


def _parse_test(record: Record, test: str) -> ast.Module:
    try:
        tree = parse_code(test)
    except SyntaxError as err:
        raise record.error(f"field 'test' does not parse: {err.msg} (line {err.lineno})") from None
    if not any(isinstance(node, ast.ClassDef) and node.name == TEST_CLASS for node in tree.body):
        raise record.error(f"field 'test' defines no top-level class {TEST_CLASS!r}")
    return tree


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name.partition(".")[0]) is not None
    except (ImportError, ValueError):  # a broken or odd name counts as missing
        return False
