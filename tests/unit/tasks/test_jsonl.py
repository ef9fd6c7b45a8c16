"""Custom jsonl problems: a world exported with `problem_record` loads back as the same problems, Spark ones
included, and a malformed "spark" field is refused with its place named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosmocore.errors import InputError
from cosmocore.exporting import write_problems
from cosmocore.tasks import load_problems
from cosmocore.worlds import generate


@pytest.mark.parametrize("world", ["miniworld-py", "miniworld-spark"])
def test_an_exported_world_loads_back_as_the_same_tests_and_references(world: str, tmp_path: Path) -> None:
    problems = generate(world, 0, "test", 5)
    path = tmp_path / "problems.jsonl"
    write_problems(problems, path)
    loaded = load_problems("jsonl", path)
    assert list(loaded) == list(problems)
    for task_id, problem in problems.items():
        again = loaded[task_id]
        assert again.program(problem.reference[len(problem.completion_prefix):]) == problem.reference
        if world == "miniworld-spark":
            assert again.tests == problem.tests and again.entry_point == "result"
            assert dict(again.meta)["split"] == "test"


def test_a_spark_line_with_an_undecodable_table_is_refused_with_its_line(tmp_path: Path) -> None:
    problem = next(iter(generate("miniworld-spark", 0, "test", 1).values()))
    path = tmp_path / "problems.jsonl"
    write_problems({problem.task_id: problem}, path)
    record = json.loads(path.read_text())
    record["spark"]["expected"] = "{not codec"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(InputError, match=r"problems.jsonl:1 spark: field 'expected' is not codec-encoded"):
        load_problems("jsonl", path)
