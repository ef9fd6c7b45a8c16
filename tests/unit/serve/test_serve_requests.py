"""Request bodies and labels: each wrong body is one line naming the field; each label shape finds its
problem; the capacity gate never admits more than it holds."""

from __future__ import annotations

import json
import threading

import pytest
from pydantic import ValidationError

from cosmocore.errors import InputError
from cosmocore.serve.schemas import JudgeRequest, RewardRequest, RunCodeRequest, validation_message
from cosmocore.serve.service import Gate, ProblemSource, UnknownTask


def message(model, body: str) -> tuple[int, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(body)
    return validation_message(caught.value.errors())


@pytest.mark.parametrize(("model", "body", "expected"), [
    (RewardRequest, '{"query": ["a"], "prompts": ["b"]', (400, "body is not valid JSON: EOF")),
    (RewardRequest, '["a"]', (422, "body must be a JSON object")),
    (RewardRequest, '{"query": ["a"], "prompts": ["b"]}', (422, "field 'labels' is required")),
    (RewardRequest, '{"query": ["a", 7], "prompts": ["b", "c"], "labels": ["x", "y"]}',
     (422, "field 'query[1]': Input should be a valid string")),
    (RewardRequest, '{"query": "a", "prompts": ["b"], "labels": ["x"]}',
     (422, "field 'query': Input should be a valid array")),
    (RewardRequest, '{"query": ["a"], "prompts": ["b"], "labels": [3]}',
     (422, "field 'labels[0]' must be a string or a JSON object")),
    (JudgeRequest, '{"task_id": "HumanEval/0"}', (422, "field 'completion' is required")),
    (RunCodeRequest, '{"code": "print(1)", "language": "python", "run_timeout": "5"}',
     (422, "field 'run_timeout': Input should be a valid number")),
    (RunCodeRequest, '{"code": "print(1)", "language": "python", "files": {"a.txt": 5}}',
     (422, "field 'files.a.txt': Input should be a valid string")),
])
def test_a_wrong_body_is_one_line_naming_the_field(model, body, expected):
    code, text = message(model, body)
    assert (code, text[: len(expected[1])]) == expected
    assert "\n" not in text


def test_sandbox_fusion_requests_keep_their_defaults_and_ignore_unknown_fields():
    body = RunCodeRequest.model_validate_json('{"code": "x", "language": "python", "memory_limit_MB": 512, '
                                              '"run_timeout": 3, "args": ["-q"], "trace": "abc"}')
    assert (body.run_timeout, body.memory_limit_MB, body.stdin) == (3.0, 512, None)
    assert (body.files, body.fetch_files) == ({}, [])


# ---- labels --------------------------------------------------------------------------------------

SOURCE = ProblemSource()


def test_a_task_id_label_names_a_known_problem():
    assert SOURCE.problem("HumanEval/3", "labels[0]").entry_point == "below_zero"


def test_an_unknown_task_id_is_its_own_error_naming_the_field():
    with pytest.raises(UnknownTask, match=r"^labels\[2\]: unknown task id 'HumanEval/999'"):
        SOURCE.problem("HumanEval/999", "labels[2]")


ROW = {"task_id": "Mine/1", "prompt": "def double(x):\n", "canonical_solution": "    return 2 * x\n",
       "test": "def check(candidate):\n    assert candidate(2) == 4\n", "entry_point": "double"}


def test_a_row_label_is_read_as_a_dataset_row_as_an_object_or_as_its_json_text():
    from_object, from_text = SOURCE.problem(ROW, "problem"), SOURCE.problem(json.dumps(ROW), "problem")
    assert from_object.task_id == from_text.task_id == "Mine/1" and from_object.entry_point == "double"


def test_a_cosmocore_problem_object_is_read_as_one():
    from cosmocore.integrations.rows import problem_to_json

    problem = SOURCE.problem(ROW, "problem")
    assert SOURCE.problem(json.loads(problem_to_json(problem)), "problem") == problem


@pytest.mark.parametrize(("label", "match"), [
    ("{not json", "labels\\[0\\]: not a task id, and not a JSON problem"),
    ("[1, 2]", "labels\\[0\\]: unknown task id"),
    ({"prompt": "x"}, "labels\\[0\\]: dataset row has none of the columns"),
])
def test_a_label_that_names_no_problem_is_an_input_error(label, match):
    with pytest.raises(InputError, match=match):
        SOURCE.problem(label, "labels[0]")


# ---- the gate ------------------------------------------------------------------------------------


def test_the_gate_admits_exactly_its_capacity_across_threads():
    gate, admitted = Gate(3), []
    threads = [threading.Thread(target=lambda: admitted.append(gate.try_enter())) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert admitted.count(True) == 3 and gate.held == 3
    gate.leave()
    assert gate.try_enter() and not gate.try_enter()
