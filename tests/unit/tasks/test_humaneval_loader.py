"""HumanEval and custom HumanEval-format files: counts, order, the prompt/body/reference mapping."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from cosmocore.tasks.records import parse_code
from cosmocore.tasks import load_problems
from cosmocore.types import CheckFunctionTests, Problem


def _raw_records(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_packaged_humaneval_has_164_problems_in_file_order(humaneval: dict[str, Problem]) -> None:
    assert list(humaneval) == [f"HumanEval/{i}" for i in range(164)]
    assert {p.benchmark for p in humaneval.values()} == {"humaneval"}


def test_shared_copy_loads_the_same_problems_as_the_packaged_one(
    humaneval: dict[str, Problem], data_dir: Path
) -> None:
    assert load_problems("humaneval", data_dir / "humaneval" / "HumanEval.jsonl.gz") == humaneval


def test_every_humaneval_reference_parses(humaneval: dict[str, Problem]) -> None:
    for problem in humaneval.values():
        parse_code(problem.reference)


def test_reference_is_the_program_of_the_canonical_body(
    humaneval: dict[str, Problem], data_dir: Path
) -> None:
    for raw in _raw_records(data_dir / "humaneval" / "HumanEval.jsonl.gz"):
        problem = humaneval[raw["task_id"]]
        assert problem.prompt == problem.completion_prefix == raw["prompt"]
        assert problem.program(raw["canonical_solution"]) == problem.reference


def test_check_function_tests_call_the_entry_point_with_the_reference_as_setup(
    humaneval: dict[str, Problem],
) -> None:
    for problem in humaneval.values():
        assert isinstance(problem.tests, CheckFunctionTests)
        assert problem.tests.entry_point == problem.entry_point
        assert problem.tests.setup_code == problem.reference  # a prompt alone may not compile
        assert "def check(candidate)" in problem.tests.test_code


def test_custom_jsonl_maps_like_humaneval_with_benchmark_custom(
    humaneval: dict[str, Problem], tmp_path: Path
) -> None:
    path = tmp_path / "mine.jsonl"
    records = [
        {
            "task_id": "Mine/0",
            "prompt": "def f():\n",
            "entry_point": "f",
            "canonical_solution": "    return 1\n",
            "test": "def check(candidate):\n    assert candidate() == 1\n",
        }
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    problem = load_problems("jsonl", path)["Mine/0"]
    assert problem.benchmark == "custom"
    assert problem.reference == "def f():\n    return 1\n"
    assert problem.tests == CheckFunctionTests(records[0]["test"], "f", setup_code="def f():\n    return 1\n")


def test_custom_jsonl_reads_gzip_by_suffix(data_dir: Path) -> None:
    problems = load_problems("jsonl", data_dir / "humanevalplus" / "HumanEvalPlus-OriginFmt-v0.1.10.jsonl.gz")
    assert len(problems) == 164
    for problem in problems.values():
        parse_code(problem.reference)
