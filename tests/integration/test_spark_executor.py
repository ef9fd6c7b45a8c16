"""The sandbox's Spark executor on real miniworld-spark tasks: references pass, the checks are strict, a
hanging or crashing candidate leaves the next one unaffected, and identical candidates hit the cache.

One sandbox (one worker, so one JVM) serves the module; every test here needs Java 17 and pyspark.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cosmocore.config import SandboxConfig
from cosmocore.sandbox.host import Sandbox
from cosmocore.types import Problem, SparkTests
from cosmocore.worlds.spark import generate_world

pytestmark = pytest.mark.spark
SAMPLE = 16  # references judged (spread over the world, so every kind of step shows up)


@pytest.fixture(scope="module")
def world() -> list[Problem]:
    pytest.importorskip("pyspark", reason="the spark tests need pyspark>=4 and Java 17")
    return list(generate_world(0).values())


@pytest.fixture(scope="module")
def spark_sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=1, timeout_s=20)) as sandbox:
        yield sandbox


def _first(world: list[Problem], predicate) -> Problem:  # type: ignore[no-untyped-def]
    return next(p for p in world if predicate(p))


def _tests(problem: Problem) -> SparkTests:
    assert isinstance(problem.tests, SparkTests)
    return problem.tests


def test_sampled_references_pass_through_the_sandbox(world: list[Problem], spark_sandbox: Sandbox) -> None:
    sample = world[:: len(world) // SAMPLE][:SAMPLE]
    results = spark_sandbox.run_many([(p.reference, p.tests) for p in sample])
    failed = [f"{p.task_id}: {r.status} {r.detail}" for p, r in zip(sample, results, strict=True) if not r.passed]
    assert not failed
    assert all(r.tests_passed == r.tests_total == 2 for r in results)


def test_reordered_rows_fail_where_the_task_fixes_the_order(world: list[Problem], spark_sandbox: Sandbox) -> None:
    def ordered_with_rows(p: Problem) -> bool:
        return _tests(p).ordered and ".limit(" not in p.reference and _tests(p).expected.count("],[") > 3

    problem = _first(world, ordered_with_rows)
    flipped = problem.reference.replace("asc_nulls", "@").replace("desc_nulls", "asc_nulls").replace("@", "desc_nulls")
    result = spark_sandbox.run(flipped, problem.tests)
    assert result.status == "wrong_answer"
    assert "row order differs" in result.detail  # the same rows: only the order is wrong


def test_a_wrong_column_type_fails_the_schema_check(world: list[Problem], spark_sandbox: Sandbox) -> None:
    problem = _first(world, lambda p: '"bigint"' in _tests(p).expected and "orders" in p.reference.split("\n")[1])
    column = next(c for c in ("quantity", "order_id", "customer_id") if f"'{c}'" in problem.reference.splitlines()[-2])
    program = problem.reference + f"result = result.withColumn({column!r}, F.col({column!r}).cast('string'))\n"
    result = spark_sandbox.run(program, problem.tests)
    assert result.status == "wrong_answer"
    assert f"column '{column}' is string, expected bigint" in result.detail
    assert result.tests_passed == 0


def test_doubles_compare_within_the_stated_tolerance(world: list[Problem], spark_sandbox: Sandbox) -> None:
    problem = _first(world, lambda p: '"double"' in _tests(p).expected and "F.avg(" in p.reference)
    alias = problem.reference.split("F.avg(")[1].split(".alias('")[1].split("'")[0]
    nudge = "result = result.withColumn({0!r}, F.col({0!r}) + F.lit({1}))\n"
    inside = spark_sandbox.run(problem.reference + nudge.format(alias, "1e-9"), problem.tests)
    outside = spark_sandbox.run(problem.reference + nudge.format(alias, "1e-3"), problem.tests)
    assert inside.passed
    assert outside.status == "wrong_answer"


def test_unresolved_columns_and_invented_methods_are_hallucinations(world: list[Problem],
                                                                    spark_sandbox: Sandbox) -> None:
    problem = world[0]
    base = problem.reference.splitlines()[1].strip()
    for program in (f"result = {base}.select(F.col('no_such_column'))", f"result = {base}.renameColumn('a', 'b')"):
        result = spark_sandbox.run(program, problem.tests)
        assert result.status == "name_error", result.detail


def test_the_next_candidate_is_unaffected_by_a_hang_or_a_crash(world: list[Problem], spark_sandbox: Sandbox) -> None:
    problem = world[1]
    base = problem.reference.splitlines()[1].strip()
    hostile = {
        "python hang": "while True:\n    pass",
        "JVM hang": f"result = {base}.crossJoin(spark.range(10**12)).groupBy().count()\nresult.collect()",
        "JVM killed": "spark._jvm.java.lang.System.exit(3)",
        "candidate killed": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    }
    for name, program in hostile.items():
        bad = spark_sandbox.run(program, problem.tests, timeout_s=8)
        assert not bad.passed, name
        after = spark_sandbox.run(problem.reference, problem.tests)
        assert after.passed, f"after {name} ({bad.status}): {after.status} {after.detail}"


def test_the_host_is_out_of_the_candidates_reach(world: list[Problem], spark_sandbox: Sandbox) -> None:
    problem = world[2]
    probe = ("import os\n"
             "dirs = [d for d in os.listdir('/tmp') if d.startswith('.cosmocore-spark')]\n"
             "try:\n    os.listdir('/tmp/' + dirs[0])\n    seen = 'readable'\n"
             "except PermissionError:\n    seen = 'denied'\n"
             "procs = [p for p in os.listdir('/proc') if p.isdigit()]\n"
             "print('probe:', seen, len(dirs), len(procs))\n" + problem.reference)
    result = spark_sandbox.run(probe, problem.tests)
    assert result.passed, result.detail
    # the probe's own line (PySpark may warn on stderr about the pandas it finds, which shares the output)
    probed = [line.split()[1:] for line in result.output.splitlines() if line.startswith("probe: ")]
    assert probed == [["denied", "1", "1"]]  # the JVM's files are closed and its process unseen


def test_identical_candidates_are_answered_from_the_cache(world: list[Problem], spark_sandbox: Sandbox) -> None:
    problem = world[3]
    wrong = problem.reference + "result = result.limit(0)\n"
    first = spark_sandbox.run_many([(wrong, problem.tests), (wrong, problem.tests)])
    hits = spark_sandbox._cache.hits
    again = spark_sandbox.run(wrong, problem.tests)
    assert spark_sandbox._cache.hits == hits + 1
    assert first[0] == first[1] == again
    assert again.status == "wrong_answer"
