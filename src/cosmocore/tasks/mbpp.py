"""MBPP (Austin et al. 2021) as `Problem` records: the full set (JSON Lines) and the sanitized set (JSON).

Completions are whole programs (`completion_prefix` = ""), judged by the dataset's `assert` lines
(`AssertTests`) after the setup code (full: `test_setup_code`; sanitized: the `test_imports` lines).
The prompt is `MBPP_PROMPT_TEMPLATE`: the problem text and the first assert as an example, so that
the model learns the function's name and signature. task_id is "Mbpp/<id>"; `entry_point` is the
function the asserts call (see `entry_point`). Line endings of the reference and the setup code are
normalised to LF: the full set stores CRLF (972 of 974 references) and 4 references (104, 255, 593,
732) end in a lone CR. A `split` option keeps one upstream split, chosen by task id (`SPLITS`); `meta`
records ("split", name).
"""

from __future__ import annotations

import ast
import builtins

from cosmocore.tasks.records import (
    PathArg,
    Record,
    TaskLoadError,
    index_problems,
    parse_code,
    read_json_array,
    read_jsonl,
    require_path,
)
from cosmocore.types import AssertTests, Problem, UnittestTests

MBPP_PROMPT_TEMPLATE = '"""\n{text}\n{example}\n"""\n'
"""The model-facing prompt: the task text, then one example assert, in a docstring. This is the shape
bigcode-evaluation-harness and EvalPlus (MBPP+) use; it needs no instruction-following model."""

SPLITS: dict[str, range] = {  # the upstream split of the 974 task ids (mbpp/README.md)
    "prompt": range(1, 11),  # few-shot examples
    "test": range(11, 511),
    "validation": range(511, 601),
    "train": range(601, 975),
}
ALL = "all"


def load_full(path: PathArg = None, split: str = ALL) -> dict[str, Problem]:
    """The full MBPP set (`mbpp.jsonl`), optionally one split, in file order."""
    _check_split(split)
    source = require_path(path, "mbpp", "mbpp.jsonl")
    pairs = ((record, _full_problem(record)) for record in read_jsonl(source))
    return select_split(index_problems(source, pairs), split)


def load_sanitized(path: PathArg = None, split: str = ALL) -> dict[str, Problem]:
    """The hand-verified MBPP subset (`sanitized-mbpp.json`, one JSON array), optionally one split."""
    _check_split(split)
    source = require_path(path, "mbpp-sanitized", "sanitized-mbpp.json")
    pairs = ((record, _sanitized_problem(record)) for record in read_json_array(source))
    return select_split(index_problems(source, pairs), split)


def select_split(problems: dict[str, Problem], split: str) -> dict[str, Problem]:
    if split == ALL:
        return problems
    return {task_id: problem for task_id, problem in problems.items() if ("split", split) in problem.meta}


def split_of(task_number: int) -> str | None:
    """The upstream split a task id belongs to (None outside 1..974)."""
    return next((name for name, ids in SPLITS.items() if task_number in ids), None)


def entry_point(first_assert: str, reference: str) -> str | None:
    """The function the asserts test: the first name the assert calls that the reference defines at
    top level (task 126 defines its own `sum`), else the first called name that is not a builtin
    (`int(lobb_num(5, 3))`, `math.isclose(...)` skip the wrappers), else the reference's first `def`."""
    called = _called_names(parse_code(first_assert))
    defined = _defined_functions(reference)
    for found in (
        [n for n in called if n in defined],
        [n for n in called if not hasattr(builtins, n)],
        defined,
    ):
        if found:
            return found[0]
    return None


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _full_problem(record: Record) -> Problem:
    return _problem(record, record.text("text"), normalise_newlines(record.text("test_setup_code")), "mbpp")


def _sanitized_problem(record: Record) -> Problem:
    setup = "\n".join(record.strings("test_imports"))
    return _problem(record, record.text("prompt"), setup, "mbpp-sanitized")


def _problem(record: Record, text: str, setup: str, benchmark: str) -> Problem:
    number, asserts = record.field("task_id", int), record.strings("test_list")
    if not asserts:
        raise record.error("field 'test_list' is empty")
    reference = normalise_newlines(record.text("code"))
    split = split_of(number)
    return Problem(
        task_id=f"Mbpp/{number}",
        prompt=MBPP_PROMPT_TEMPLATE.format(text=text, example=asserts[0]),
        entry_point=_entry_point_of(record, asserts[0], reference),
        completion_prefix="",
        reference=reference,
        tests=_tests(record, asserts, setup, reference),
        benchmark=benchmark,
        meta=(("split", split),) if split else (),
    )


def _tests(record: Record, asserts: tuple[str, ...], setup: str, reference: str) -> AssertTests | UnittestTests:
    """Asserts judged out of process, unless they need the program's own objects on the judge's side.

    When the setup code uses names the reference defines (a `Node` class, in tasks 367 and 927) or
    an assert builds an instance of a class the reference defines (`Pair`, task 601), those objects
    cannot cross to the judge as plain data: the asserts then run in the candidate's process, as
    unittest tests (a hardened, not unforgeable verdict: see `cosmocore.sandbox`).
    """
    defined, classes = _top_level_names(reference)
    used = set().union(*(_names(parse_code(a)) for a in asserts)) if asserts else set()
    try:
        setup_names = _names(parse_code(setup))
    except SyntaxError as err:
        raise record.error(f"test setup does not parse: {err.msg}") from None
    if setup_names & defined or used & classes:
        return UnittestTests(test_code=_as_unittest(setup, asserts))
    return AssertTests(asserts=asserts, setup_code=setup, program_names=tuple(sorted(used & defined)))


def _as_unittest(setup: str, asserts: tuple[str, ...]) -> str:
    methods = "".join(f"    def test_{i}(self):\n        {a.strip()}\n\n" for i, a in enumerate(asserts))
    return f"import unittest\n{setup}\n\nclass TestCases(unittest.TestCase):\n{methods}"


def _names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _top_level_names(reference: str) -> tuple[set[str], set[str]]:
    """(every name the reference binds at top level, the classes among them)."""
    try:
        body = parse_code(reference).body
    except SyntaxError:
        return set(), set()
    classes = {n.name for n in body if isinstance(n, ast.ClassDef)}
    defs = {n.name for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assigned = {t.id for n in body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    return classes | defs | assigned, classes


def _entry_point_of(record: Record, first_assert: str, reference: str) -> str:
    try:
        name = entry_point(first_assert, reference)
    except SyntaxError as err:
        raise record.error(f"test_list[0] does not parse: {err.msg}") from None
    if name is None:
        raise record.error(
            "cannot tell which function the asserts call (no call in test_list[0], no def in code)"
        )
    return name


def _called_names(tree: ast.AST) -> list[str]:
    """Names called as plain `name(...)`, outer calls first (breadth-first)."""
    return [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]


def _defined_functions(reference: str) -> list[str]:
    try:
        body = parse_code(reference).body
    except SyntaxError:
        return []
    return [node.name for node in body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _check_split(split: str) -> None:
    if split != ALL and split not in SPLITS:
        raise TaskLoadError(f"unknown MBPP split {split!r}; choose one of: {', '.join([ALL, *SPLITS])}")
