"""MBPP full and sanitized: counts, splits, prompts, entry points, newline normalisation."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from cosmocore.tasks import TaskLoadError, load_problems
from cosmocore.tasks.mbpp import MBPP_PROMPT_TEMPLATE, entry_point
from cosmocore.tasks.records import parse_code
from cosmocore.types import AssertTests, Problem, UnittestTests


IN_PROCESS = {"Mbpp/367", "Mbpp/601", "Mbpp/927"}  # need the program's Node / Pair objects on the judge's side


def _asserts(problem: Problem) -> AssertTests:
    assert isinstance(problem.tests, AssertTests)
    return problem.tests


def _out_of_process(*sets: dict[str, Problem]) -> list[Problem]:
    return [p for problems in sets for p in problems.values() if isinstance(p.tests, AssertTests)]


def _top_level_functions(problem: Problem) -> set[str]:
    return {n.name for n in parse_code(problem.reference).body if isinstance(n, ast.FunctionDef)}


def test_full_set_has_974_problems_in_id_order(mbpp: dict[str, Problem]) -> None:
    assert list(mbpp) == [f"Mbpp/{i}" for i in range(1, 975)]
    assert {p.benchmark for p in mbpp.values()} == {"mbpp"}


def test_sanitized_set_has_427_problems(mbpp_sanitized: dict[str, Problem]) -> None:
    assert len(mbpp_sanitized) == 427
    assert {p.benchmark for p in mbpp_sanitized.values()} == {"mbpp-sanitized"}


@pytest.mark.parametrize(
    ("split", "count"), [("prompt", 10), ("test", 500), ("validation", 90), ("train", 374)]
)
def test_full_split_filter_keeps_the_upstream_id_range(data_dir: Path, split: str, count: int) -> None:
    problems = load_problems("mbpp", data_dir / "mbpp" / "mbpp.jsonl", split=split)
    assert len(problems) == count
    assert all(("split", split) in p.meta for p in problems.values())


def test_sanitized_test_split_has_the_published_257_problems(data_dir: Path) -> None:
    assert (
        len(load_problems("mbpp-sanitized", data_dir / "mbpp" / "sanitized-mbpp.json", split="test")) == 257
    )


def test_unknown_split_is_rejected_with_the_choices(data_dir: Path) -> None:
    with pytest.raises(TaskLoadError, match="unknown MBPP split 'dev'; choose one of: all, prompt, test"):
        load_problems("mbpp", data_dir / "mbpp" / "mbpp.jsonl", split="dev")


def test_every_mbpp_reference_parses_and_has_lf_line_endings(
    mbpp: dict[str, Problem], mbpp_sanitized: dict[str, Problem]
) -> None:
    for problem in [*mbpp.values(), *mbpp_sanitized.values()]:
        assert "\r" not in problem.reference
        parse_code(problem.reference)
    assert all("\r" not in _asserts(p).setup_code for p in _out_of_process(mbpp, mbpp_sanitized))


def test_every_assert_parses(mbpp: dict[str, Problem], mbpp_sanitized: dict[str, Problem]) -> None:
    for problem in _out_of_process(mbpp, mbpp_sanitized):
        for line in _asserts(problem).asserts:
            assert isinstance(parse_code(line).body[0], ast.Assert)


def test_entry_point_is_found_for_every_task_and_defined_by_the_reference(
    mbpp: dict[str, Problem], mbpp_sanitized: dict[str, Problem]
) -> None:
    for problem in _out_of_process(mbpp, mbpp_sanitized):
        assert problem.entry_point in _top_level_functions(problem), problem.task_id
        assert problem.entry_point in _asserts(problem).program_names, problem.task_id
        call = re.compile(rf"\b{re.escape(problem.entry_point)}\s*\(")  # MBPP 77 writes `is_Diff (12345)`
        assert all(call.search(line) for line in _asserts(problem).asserts), problem.task_id


@pytest.mark.parametrize(
    ("first_assert", "reference", "expected"),
    [
        (
            "assert int(lobb_num(5, 3)) == 35",
            "def binomial_coeff(n, k): pass\ndef lobb_num(n, m): pass",
            "lobb_num",
        ),
        ("assert sum(10,15) == 6", "def sum(a, b): pass", "sum"),  # MBPP 126 shadows the builtin
        ("assert math.isclose(volume(10), 4188.79)", "import math\ndef volume(r): pass", "volume"),
        ("assert set(f((1, 2))) == set((1,))", "", "f"),  # no reference: the first non-builtin call
        ("assert x == 1", "def helper(): pass\ndef main(): pass", "helper"),  # no call: the first def
        ("assert x == 1", "x = 1", None),
    ],
)
def test_entry_point_skips_builtin_wrappers(first_assert: str, reference: str, expected: str | None) -> None:
    assert entry_point(first_assert, reference) == expected


def test_prompt_is_the_text_and_the_first_assert_and_completions_are_whole_programs(
    mbpp: dict[str, Problem],
) -> None:
    problem = mbpp["Mbpp/2"]
    example = "assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)"
    text = "Write a function to find the similar elements from the given two tuple lists."
    assert problem.prompt == MBPP_PROMPT_TEMPLATE.format(text=text, example=example)
    assert problem.completion_prefix == "" and problem.program("x = 1\n") == "x = 1\n"
    assert all(p.prompt.count(_asserts(p).asserts[0]) == 1 for p in _out_of_process(mbpp))


def test_setup_code_comes_from_test_setup_code_or_test_imports(
    mbpp: dict[str, Problem], mbpp_sanitized: dict[str, Problem]
) -> None:
    assert {_asserts(p).setup_code for p in _out_of_process(mbpp)} == {""}  # the two Node setups: in process
    sanitized_setups = {_asserts(p).setup_code for p in mbpp_sanitized.values()}
    assert sanitized_setups == {"", "import math"}


def test_asserts_that_need_the_programs_own_objects_run_in_its_process(mbpp: dict[str, Problem]) -> None:
    in_process = {t for t, p in mbpp.items() if isinstance(p.tests, UnittestTests)}
    assert in_process == IN_PROCESS
    tests = mbpp["Mbpp/367"].tests
    assert isinstance(tests, UnittestTests) and tests.test_code.startswith("import unittest\nroot = Node(1) \n")
    assert tests.test_code.count("    def test_") == 3


def test_lone_carriage_returns_are_normalised(mbpp: dict[str, Problem]) -> None:
    assert mbpp["Mbpp/104"].reference.endswith("return result\n")


def test_sanitized_file_must_be_one_json_array(tmp_path: Path) -> None:
    path = tmp_path / "sanitized.json"
    path.write_text('[\n{"task_id": 2,\n "prompt": }\n]', encoding="utf-8")
    with pytest.raises(TaskLoadError, match=r"sanitized\.json:3: malformed JSON"):
        load_problems("mbpp-sanitized", path)
    path.write_text(json.dumps({"task_id": 2}), encoding="utf-8")
    with pytest.raises(TaskLoadError, match="expected one JSON array of objects, got dict"):
        load_problems("mbpp-sanitized", path)


def test_sanitized_record_with_a_missing_field_names_it_and_its_index(tmp_path: Path) -> None:
    path = tmp_path / "sanitized.json"
    row = {"task_id": 2, "prompt": "p", "code": "def f(): pass", "test_list": ["assert f() is None"]}
    path.write_text(json.dumps([row]), encoding="utf-8")
    with pytest.raises(TaskLoadError, match=r"sanitized\.json\[0\]: missing field 'test_imports'"):
        load_problems("mbpp-sanitized", path)
