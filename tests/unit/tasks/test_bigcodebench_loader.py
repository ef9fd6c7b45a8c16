"""BigCodeBench: counts, prompt mapping, unittest tests, required libraries and which are missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cosmocore.tasks.records import parse_code
from cosmocore.tasks import TaskLoadError, load_problems
from cosmocore.tasks.bigcodebench import missing_libs
from cosmocore.types import Problem, UnittestTests

ABSENT = "cosmocore_surely_absent_module_4711"


def _row(**changes: str) -> dict[str, str]:
    row = {
        "task_id": "BCB/0",
        "complete_prompt": "def task_func():\n",
        "canonical_solution": "    return 1\n",
        "entry_point": "task_func",
        "libs": "['numpy', 'os']",
        "test": "import unittest\nimport faker\nclass TestCases(unittest.TestCase):\n    pass\n",
    }
    return row | changes


def _load_one(tmp_path: Path, row: dict[str, str]) -> Problem:
    path = tmp_path / "bcb.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return load_problems("bigcodebench", path)["BCB/0"]


def test_bigcodebench_has_1140_problems_in_id_order(bigcodebench: dict[str, Problem]) -> None:
    assert list(bigcodebench) == [f"BigCodeBench/{i}" for i in range(1140)]


def test_every_bigcodebench_reference_parses(bigcodebench: dict[str, Problem]) -> None:
    for problem in bigcodebench.values():
        assert problem.program("") == problem.prompt
        parse_code(problem.reference)


def test_tests_are_the_testcases_class(bigcodebench: dict[str, Problem]) -> None:
    for problem in bigcodebench.values():
        assert isinstance(problem.tests, UnittestTests) and problem.tests.class_name == "TestCases"


def test_required_libs_are_distinct_and_outside_the_standard_library(
    bigcodebench: dict[str, Problem],
) -> None:
    for problem in bigcodebench.values():
        assert len(set(problem.required_libs)) == len(problem.required_libs)
        assert not set(problem.required_libs) & sys.stdlib_module_names


def test_required_libs_are_the_declared_libs_then_the_test_imports(tmp_path: Path) -> None:
    assert _load_one(tmp_path, _row()).required_libs == ("numpy", "faker")


def test_libs_field_is_read_as_a_literal_never_evaluated(tmp_path: Path) -> None:
    with pytest.raises(TaskLoadError, match=r"bcb\.jsonl:1: field 'libs' is not a list literal"):
        _load_one(tmp_path, _row(libs="__import__('os').system('true')"))


def test_test_code_without_testcases_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(TaskLoadError, match="defines no top-level class 'TestCases'"):
        _load_one(tmp_path, _row(test="import unittest\n"))


def test_missing_libs_reports_a_module_that_is_surely_absent(tmp_path: Path) -> None:
    problem = _load_one(
        tmp_path, _row(libs=f"['{ABSENT}', 'json', 'pytest']", test="class TestCases: pass\n")
    )
    assert problem.required_libs == (ABSENT, "pytest")
    assert missing_libs(problem) == (ABSENT,)


def test_dotted_libs_are_reduced_to_their_top_level_module(tmp_path: Path) -> None:
    problem = _load_one(
        tmp_path, _row(libs=f"['{ABSENT}.sub', 'numpy.linalg']", test="class TestCases: pass\n")
    )
    assert problem.required_libs == (ABSENT, "numpy")
    assert missing_libs(problem)[0] == ABSENT
