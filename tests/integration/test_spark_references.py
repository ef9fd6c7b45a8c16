"""miniworld-spark references run in a real local Spark session give exactly the expected tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cosmocore import codec
from cosmocore.types import SparkTests
from cosmocore.worlds.spark import compare_tables, generate_world
from cosmocore.worlds.spark.frames import from_frame, namespace

SAMPLE = 20  # references checked (every 20th task, so every kind of step shows up)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.skip("pyspark is not installed (the spark tests need `pip install 'pyspark>=4,<5'` and Java 17)")
    session = (SparkSession.builder.master("local[1]").appName("miniworld-spark-references")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .getOrCreate())
    yield session
    session.stop()


@pytest.mark.spark
def test_sampled_references_give_the_expected_tables_in_spark(spark: Any) -> None:
    problems = list(generate_world(0).values())
    failures = []
    for problem in problems[:: max(1, len(problems) // SAMPLE)][:SAMPLE]:
        tests = problem.tests
        assert isinstance(tests, SparkTests)
        env = namespace(spark, codec.decode(tests.tables))
        exec(problem.reference, env)
        reason = compare_tables(from_frame(env["result"]), codec.decode(tests.expected), tests.ordered, tests.atol)
        if reason is not None:
            failures.append(f"{problem.task_id}: {reason}")
    assert not failures, failures
