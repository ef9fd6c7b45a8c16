"""Dataset rows and task ids -> Problem (cosmocore.integrations.rows): same problems as the loaders, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cosmocore import worlds
from cosmocore.errors import InputError
from cosmocore.exporting import problem_record
from cosmocore.integrations import rows
from cosmocore.integrations.rows import problem_from_json, problem_from_row, problem_from_task_id, problem_to_json
from cosmocore.tasks import load_problems
from cosmocore.types import IOTests, Problem, UnittestTests


def _humaneval_row(problem: Problem) -> dict[str, Any]:
    """A row as the Hugging Face `openai_humaneval` dataset has it."""
    return {"task_id": problem.task_id, "prompt": problem.prompt, "entry_point": problem.entry_point,
            "canonical_solution": problem.reference[len(problem.prompt):], "test": problem.tests.test_code}  # type: ignore[union-attr]


def _raw_lines(path: Path, n: int) -> list[dict[str, Any]]:
    with path.open() as f:
        return [json.loads(next(f)) for _ in range(n)]


def test_humaneval_rows_give_the_loaders_problems(humaneval: dict[str, Problem]) -> None:
    for task_id in ("HumanEval/0", "HumanEval/32", "HumanEval/163"):
        assert problem_from_row(_humaneval_row(humaneval[task_id])) == humaneval[task_id]


def test_mbpp_rows_give_the_loaders_problems(data_dir: Path, mbpp: dict[str, Problem],
                                             mbpp_sanitized: dict[str, Problem]) -> None:
    for raw in _raw_lines(data_dir / "mbpp" / "mbpp.jsonl", 12):  # includes CRLF references and setup code
        assert problem_from_row(raw) == mbpp[f"Mbpp/{raw['task_id']}"]
    sanitized = json.loads((data_dir / "mbpp" / "sanitized-mbpp.json").read_text())[:12]
    for raw in sanitized:
        assert problem_from_row(raw) == mbpp_sanitized[f"Mbpp/{raw['task_id']}"]


def test_mbpp_style_rows_of_ones_own_need_only_prompt_code_and_asserts() -> None:
    row = {"task_id": "Mbpp/9001", "prompt": "Add two numbers.", "code": "def add(a, b):\n    return a + b\n",
           "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}
    problem = problem_from_row(row)
    assert (problem.task_id, problem.entry_point, problem.completion_prefix) == ("Mbpp/9001", "add", "")
    assert problem.tests.asserts == tuple(row["test_list"])  # type: ignore[union-attr]


@pytest.mark.parametrize("world", ["miniworld-py", "miniworld-spark"])
def test_miniworld_rows_as_exported_keep_tests_and_labels(world: str) -> None:
    generated = list(worlds.generate(world, split="test", n=3).values())
    for problem in generated:
        converted = problem_from_row(json.loads(json.dumps(problem_record(problem))))  # through JSON, as in a file
        assert (converted.task_id, converted.benchmark, converted.entry_point) == (problem.task_id, world,
                                                                                   problem.entry_point)
        assert converted.prompt == problem.prompt and converted.reference == problem.reference
        assert dict(converted.meta) == dict(problem.meta)
        assert type(converted.tests) is type(problem.tests)


def _one_of_each_test_kind(humaneval: dict[str, Problem], mbpp: dict[str, Problem],
                           humanevalplus_path: Path) -> list[Problem]:
    plus = load_problems("humanevalplus", humanevalplus_path.with_name("HumanEvalPlus-Mini-v0.1.10.jsonl.gz"))
    spark = next(iter(worlds.generate("miniworld-spark", n=1).values()))
    unittest_style = next(p for p in mbpp.values() if isinstance(p.tests, UnittestTests))
    return [humaneval["HumanEval/2"], mbpp["Mbpp/2"], plus["HumanEval/2"], unittest_style, spark]


def test_problem_column_round_trips_every_test_kind(humaneval: dict[str, Problem], mbpp: dict[str, Problem],
                                                    humanevalplus_path: Path) -> None:
    problems = _one_of_each_test_kind(humaneval, mbpp, humanevalplus_path)
    assert {type(p.tests).__name__ for p in problems} == {"CheckFunctionTests", "AssertTests", "IOTests",
                                                          "UnittestTests", "SparkTests"}
    for problem in problems:
        text = problem_to_json(problem)
        assert problem_from_json(text) == problem
        assert problem_from_row({"problem": text, "prompt": "ignored"}) == problem


def test_io_tests_with_expected_outputs_round_trip() -> None:
    tests = IOTests(entry_point="f", inputs=("[1]",), expected=("2",), atol=1e-6, oracle="poly_root", reference_s=0.5)
    problem = Problem("t/1", "p", "f", "", "def f(x): return x + 1\n", tests, "custom", ("numpy",), (("split", "a"),))
    assert problem_from_json(problem_to_json(problem)) == problem


def test_repeated_rows_give_the_same_problem_object(humaneval: dict[str, Problem]) -> None:
    row = _humaneval_row(humaneval["HumanEval/5"])
    first = problem_from_row(row)
    assert problem_from_row(dict(row)) is first  # a fresh but equal row: the cached object
    changed = {**row, "test": row["test"] + "\n"}
    assert problem_from_row(changed) is not first


def test_task_ids_resolve_for_humaneval_and_the_worlds(humaneval: dict[str, Problem]) -> None:
    assert problem_from_task_id("HumanEval/7") == humaneval["HumanEval/7"]
    assert problem_from_task_id("miniworld-py/2") == worlds.generate("miniworld-py")["miniworld-py/2"]
    assert problem_from_row({"task_id": "miniworld-spark/5"}).task_id == "miniworld-spark/5"


def test_task_ids_of_file_benchmarks_load_from_the_given_path(data_dir: Path, mbpp: dict[str, Problem]) -> None:
    path = data_dir / "mbpp" / "mbpp.jsonl"
    assert problem_from_task_id("Mbpp/11", path=path) == mbpp["Mbpp/11"]


def _error(call: Any) -> str:
    with pytest.raises(InputError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message, message
    return message


def _good_humaneval_row() -> dict[str, Any]:
    return {"task_id": "HumanEval/0", "prompt": "def f():\n", "entry_point": "f",
            "canonical_solution": "    return 1\n", "test": "def check(candidate):\n    assert candidate() == 1\n"}


BAD_ROWS = {  # row -> the text the one-line message must contain
    "missing prompt": ({k: v for k, v in _good_humaneval_row().items() if k != "prompt"}, "'prompt'"),
    "entry_point not str": ({**_good_humaneval_row(), "entry_point": 3}, "'entry_point'"),
    "test_list not a list": ({"task_id": 5, "text": "t", "code": "def f(): pass", "test_list": "assert f()"},
                             "'test_list'"),
    "mbpp task_id": ({"task_id": "five", "text": "t", "code": "def f(): pass", "test_list": ["assert f()"]},
                     "'task_id'"),
    "problem not JSON": ({"problem": "{not json"}, "'problem'"),
    "problem wrong format": ({"problem": json.dumps({"format": "other"})}, "'format'"),
    "no known column": ({"question": "q", "answer": "a"}, "'problem'"),
    "unknown task id": ({"task_id": "NoSuchBench/1"}, "'NoSuchBench/1'"),
    "unknown humaneval id": ({"task_id": "HumanEval/999"}, "'HumanEval/999'"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_rows_raise_one_line_input_error_naming_the_column(case: str) -> None:
    row, needle = BAD_ROWS[case]
    assert needle in _error(lambda: problem_from_row(row))


def test_problem_column_with_mistyped_test_field_names_the_field(humaneval: dict[str, Problem]) -> None:
    data = json.loads(problem_to_json(humaneval["HumanEval/0"]))
    data["tests"]["test_code"] = 42
    assert "'test_code'" in _error(lambda: problem_from_json(json.dumps(data)))
    data["tests"] = {"kind": "nonsense"}
    assert "'kind'" in _error(lambda: problem_from_json(json.dumps(data)))
    data["tests"] = {"kind": "asserts", "asserts": ["assert True"], "extra": 1}
    assert "'extra'" in _error(lambda: problem_from_json(json.dumps(data)))
    data["tests"] = {"kind": "asserts", "asserts": ["assert True"]}
    assert problem_from_json(json.dumps(data)).tests.asserts == ("assert True",)  # type: ignore[union-attr]
    assert "'entry_point'" in _error(lambda: problem_from_json(json.dumps({**data, "entry_point": None})))


def test_file_benchmark_ids_without_a_path_say_what_is_needed() -> None:
    rows.clear_cache()
    assert "path" in _error(lambda: problem_from_task_id("Mbpp/2"))
