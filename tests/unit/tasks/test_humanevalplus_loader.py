"""HumanEval+ (EvalPlus): counts, IO tests built from every stored input, faithful value encoding."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from cosmocore.codec import decode, encode
from cosmocore.tasks.records import parse_code
from cosmocore.tasks import load_problems
from cosmocore.types import IOTests, Problem


def _raw_records(path: Path) -> dict[str, dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return {row["task_id"]: row for row in rows}


def _same_value(a: Any, b: Any) -> bool:
    """Equal with the exact same types all the way down (1 is not 1.0 nor True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def _io_tests(problem: Problem) -> IOTests:
    assert isinstance(problem.tests, IOTests)
    return problem.tests


def test_humanevalplus_has_164_problems_with_all_124253_inputs(humanevalplus: dict[str, Problem]) -> None:
    assert list(humanevalplus) == [f"HumanEval/{i}" for i in range(164)]
    assert sum(len(_io_tests(p).inputs) for p in humanevalplus.values()) == 1570 + 122683
    assert sum(int(dict(p.meta)["base_inputs"]) for p in humanevalplus.values()) == 1570


def test_every_input_round_trips_through_the_codec_as_the_stored_arguments(
    humanevalplus: dict[str, Problem], humanevalplus_path: Path
) -> None:
    raw = _raw_records(humanevalplus_path)
    for task_id, problem in humanevalplus.items():
        stored = raw[task_id]["base_input"] + raw[task_id]["plus_input"]
        inputs = _io_tests(problem).inputs
        assert len(inputs) == len(stored)
        for text, args in zip(inputs, stored, strict=True):
            value = decode(text)
            assert encode(value) == text
            assert _same_value(value, args), (task_id, args)


def test_expected_outputs_are_left_for_the_reference_run(humanevalplus: dict[str, Problem]) -> None:
    assert all(_io_tests(p).expected is None for p in humanevalplus.values())


def test_find_zero_uses_the_poly_root_oracle_and_others_equality(humanevalplus: dict[str, Problem]) -> None:
    oracles = {task_id: _io_tests(p).oracle for task_id, p in humanevalplus.items()}
    assert oracles.pop("HumanEval/32") == "poly_root"
    assert set(oracles.values()) == {"equal"}


def test_atol_is_a_float_taken_from_the_task(humanevalplus: dict[str, Problem]) -> None:
    atols = {task_id: _io_tests(p).atol for task_id, p in humanevalplus.items()}
    assert all(type(atol) is float for atol in atols.values())
    assert {k: v for k, v in atols.items() if v} == {
        "HumanEval/2": 1e-6,
        "HumanEval/4": 1e-6,
        "HumanEval/32": 1e-4,
    }


def test_every_humanevalplus_reference_parses(humanevalplus: dict[str, Problem]) -> None:
    for problem in humanevalplus.values():
        assert problem.program("") == problem.prompt
        parse_code(problem.reference)


def test_mini_file_loads_with_the_same_loader(data_dir: Path) -> None:
    mini = load_problems("humanevalplus", data_dir / "humanevalplus" / "HumanEvalPlus-Mini-v0.1.10.jsonl.gz")
    assert len(mini) == 164
    assert sum(len(_io_tests(p).inputs) for p in mini.values()) == 1570 + 1107


def _one_problem_file(tmp_path: Path, **overrides: object) -> Path:
    row = {"task_id": "T/0", "prompt": "def f(x):\n", "entry_point": "f", "canonical_solution": "    return x\n",
           "base_input": [[1]], "plus_input": [], "atol": 0, **overrides}
    path = tmp_path / "plus.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path


def test_an_input_that_is_not_an_argument_list_is_rejected(tmp_path: Path) -> None:
    path = _one_problem_file(tmp_path, base_input=[[1], 2])
    with pytest.raises(ValueError, match=r"plus\.jsonl:1: base_input\[1\] must be a list of arguments"):
        load_problems("humanevalplus", path)


def test_a_non_numeric_atol_is_rejected(tmp_path: Path) -> None:
    path = _one_problem_file(tmp_path, atol=True)
    with pytest.raises(ValueError, match=r"plus\.jsonl:1: field 'atol' must be a number, got bool"):
        load_problems("humanevalplus", path)
