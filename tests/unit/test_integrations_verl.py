"""verl's compute_score (cosmocore.integrations.verl), called as verl calls it: ground-truth forms, reward hacks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cosmocore.errors import InputError
from cosmocore.integrations.rows import problem_to_json
from cosmocore.integrations.verl import compute_score
from cosmocore.types import Problem

SYS_EXIT = "    import sys\n    sys.exit(0)\n"
LYING_EQ = "    class Yes:\n        def __eq__(self, other):\n            return True\n    return Yes()\n"


def _score(solution: str, ground_truth: Any, extra_info: dict[str, Any] | None = None) -> dict[str, Any]:
    return compute_score(data_source="humaneval", solution_str=solution, ground_truth=ground_truth,
                         extra_info=extra_info, reward_router_address=None)  # verl may add kwargs of its own


def _body(problem: Problem) -> str:
    return problem.reference[len(problem.completion_prefix):]


def test_a_task_id_ground_truth_judges_in_the_sandbox(humaneval: dict[str, Problem]) -> None:
    result = _score(_body(humaneval["HumanEval/0"]), "HumanEval/0")
    assert result == {"score": 1.0, "status": "passed", "passed": True, "acc": 1.0, "pass_fraction": 1.0,
                      "duration_s": pytest.approx(result["duration_s"])}
    assert result["duration_s"] > 0


@pytest.mark.parametrize("hack", [SYS_EXIT, LYING_EQ])
def test_reward_hacks_score_no_more_than_zero(humaneval: dict[str, Problem], hack: str) -> None:
    result = _score(hack, "HumanEval/0")
    assert result["score"] <= 0.0 and not result["passed"], result


def test_json_problem_and_row_ground_truths(humaneval: dict[str, Problem]) -> None:
    problem = humaneval["HumanEval/4"]
    assert _score(_body(problem), problem_to_json(problem))["passed"]
    row = {"task_id": problem.task_id, "prompt": problem.prompt, "entry_point": problem.entry_point,
           "canonical_solution": _body(problem), "test": problem.tests.test_code}  # type: ignore[union-attr]
    assert _score(_body(problem), json.dumps(row))["passed"]
    assert _score(_body(problem), row)["passed"]  # a struct column arrives as a dict


def test_check_function_ground_truth_needs_the_entry_point(humaneval: dict[str, Problem]) -> None:
    problem = humaneval["HumanEval/0"]
    test_code = problem.tests.test_code  # type: ignore[union-attr]
    whole_program = problem.reference  # judged as a whole program: no completion_prefix given
    assert _score(whole_program, test_code, {"entry_point": "has_close_elements"})["passed"]
    body = _score(_body(problem), test_code, {"entry_point": "has_close_elements", "completion_prefix": problem.prompt})
    assert body["passed"]
    with pytest.raises(InputError, match="entry_point"):
        _score(whole_program, test_code, {})


def test_assert_lines_ground_truth_is_judged_as_a_whole_program() -> None:
    asserts = "import math\nassert area(1) == math.pi\nassert area(0) == 0"
    good = "```python\nimport math\ndef area(r):\n    return math.pi * r * r\n```"
    assert _score(good, asserts)["status"] == "passed"
    wrong = _score("def area(r):\n    return 3.14 * r * r\n", asserts)
    assert (wrong["status"], wrong["pass_fraction"]) == ("wrong_answer", 0.5)
    assert _score("def area(r):\n    import sys; sys.exit(0)\n", asserts)["score"] <= 0.0


@pytest.mark.parametrize("ground_truth, needle", [
    ("", "ground_truth"), (None, "ground_truth"), ("NoSuchBench/3", "NoSuchBench/3"),
    ("{not json", "JSON"), ("print('no tests here')\nx = 1", "neither"), ('{"format": "x"}', "'format'"),
])
def test_bad_ground_truths_raise_one_line_input_errors(ground_truth: Any, needle: str) -> None:
    with pytest.raises(InputError) as info:
        _score("x", ground_truth)
    assert needle in str(info.value) and "\n" not in str(info.value)
