"""`cosmocore worlds export`: a world as files `cosmocore check` reads, top to bottom.

    generate(world) --Problem--> problems.jsonl (HumanEval format: prompt, entry_point,
        canonical_solution, test, plus the world's labels)
    references --> refs.jsonl (samples with `solution`)
    inject(reference) --Bug--> Sandbox.run_many --> bugs.jsonl (samples with `solution`, `bug`)

An injected bug that still passes its tests is an equivalent mutant: it is dropped, and counted.
Every file is written atomically.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosmocore.checking import Progress, no_progress, write_atomic
from cosmocore.sandbox.host import Sandbox
from cosmocore.types import CheckFunctionTests, Problem, SparkTests
from cosmocore.worlds.bugs import Bug, inject
from cosmocore.worlds.spark import bugs as spark_bugs


@dataclass(frozen=True)
class BugCounts:
    """Per category: bugs kept (they fail their tests) and equivalent mutants dropped."""

    kept: dict[str, int]
    equivalent: dict[str, int]


def problem_record(problem: Problem) -> dict[str, Any]:
    """A line for `problem` in the format `--problems FILE` reads, with the world's labels: HumanEval's,
    or for a Spark pipeline its tables and expected result under "spark" (see `cosmocore.tasks.jsonl`)."""
    body = problem.reference[len(problem.completion_prefix):]
    record: dict[str, Any] = {"task_id": problem.task_id, "prompt": problem.prompt,
                              "entry_point": problem.entry_point,
              "canonical_solution": body}
    tests = problem.tests
    if isinstance(tests, CheckFunctionTests):
        record["test"] = tests.test_code
    elif isinstance(tests, SparkTests):
        record["spark"] = {"tables": tests.tables, "expected": tests.expected, "ordered": tests.ordered,
                           "atol": tests.atol}
    else:
        raise TypeError(f"{problem.task_id}: {type(tests).__name__} does not export")
    return {**record, **dict(problem.meta)}


def _write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> None:
    write_atomic(path, "".join(json.dumps(r) + "\n" for r in records))


def write_problems(problems: dict[str, Problem], path: Path) -> None:
    _write_jsonl(path, [problem_record(p) for p in problems.values()])


def write_references(problems: dict[str, Problem], path: Path) -> None:
    _write_jsonl(path, [{"task_id": t, "solution": p.reference} for t, p in problems.items()])


def _bugs_of(task_id: str, problem: Problem, seed: int) -> list[Bug]:
    mutate = spark_bugs.inject if isinstance(problem.tests, SparkTests) else inject
    return mutate(problem.reference, problem.entry_point, random.Random(f"{seed}:{task_id}"))


def write_bugs(problems: dict[str, Problem], path: Path, sandbox: Sandbox, seed: int,
               progress: Progress = no_progress) -> BugCounts:
    """Inject every applicable bug category into each reference; keep the bugs that fail."""
    candidates = [(t, bug) for t, p in problems.items() for bug in _bugs_of(t, p, seed)]
    tick = progress("judging injected bugs", len(candidates))
    results = sandbox.run_many([(bug.program, problems[t].tests) for t, bug in candidates], on_result=tick)
    kept, equivalent = Counter[str](), Counter[str]()
    lines = []
    for (task_id, bug), result in zip(candidates, results, strict=True):
        if result.passed:
            equivalent[bug.category] += 1
            continue
        kept[bug.category] += 1
        lines.append({"task_id": task_id, "solution": bug.program, "bug": bug.category,
                      "description": bug.description})
    _write_jsonl(path, lines)
    return BugCounts(dict(sorted(kept.items())), dict(sorted(equivalent.items())))


def format_bug_counts(counts: BugCounts) -> str:
    categories = sorted(counts.kept.keys() | counts.equivalent.keys())
    lines = [f"{'bug category':<24} {'kept':>6} {'equivalent (dropped)':>21}"]
    lines += [f"{c:<24} {counts.kept.get(c, 0):>6} {counts.equivalent.get(c, 0):>21}" for c in categories]
    return "\n".join(lines)
