"""Bug kinds read off miniworld-spark programs: each mutator category is named by its kind on the generated
references, other categories by none, equivalent spellings are no bug, and nothing is ever executed."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from cosmocore import worlds
from cosmocore.types import AssertTests, Problem
from cosmocore.worlds.bugs import Bug
from cosmocore.worlds.spark.bugs import MUTATORS
from cosmocore.worlds.spark.diagnose import KINDS, MAX_PROGRAM_CHARS, attempt_kinds, bug_kinds

MIN_AGREEMENT = 0.9  # measured 1.0 on seeds 0, 1 and 2 for every category

REFERENCE = """result = (
    orders
    .join(customers, on=['customer_id'], how='left')
    .dropna(subset=['status'])
    .groupBy('status').agg(F.avg('quantity').alias('avg_quantity'))
    .orderBy(F.col('avg_quantity').desc_nulls_last(), F.col('status').asc_nulls_first())
    .select('status', 'avg_quantity')
)
"""


@pytest.fixture(scope="module")
def world() -> list[Problem]:
    return list(worlds.generate("miniworld-spark", 0).values())


def _mutants(world: list[Problem], category: str) -> list[tuple[Problem, Bug]]:
    """One mutant of `category` per reference it applies to, each drawn with its own seeded rng."""
    drawn = [(p, MUTATORS[category](p.reference, "result", random.Random(f"{i}:{category}")))
             for i, p in enumerate(world)]
    return [(p, bug) for p, bug in drawn if bug is not None]


def _agreement(mutants: list[tuple[Problem, Bug]], kind: str) -> float:
    assert len(mutants) >= 20  # enough of them for a share to mean something
    return sum(kind in bug_kinds(bug.program, p.reference) for p, bug in mutants) / len(mutants)


# ---- one test per kind, on the generated references ------------------------------------------------


def test_a_changed_join_type_is_a_wrong_join_type(world: list[Problem]) -> None:
    mutants = [(p, b) for p, b in _mutants(world, "faulty_join") if b.description.startswith("join type")]
    assert _agreement(mutants, "wrong_join_type") >= MIN_AGREEMENT


def test_a_dropped_or_replaced_join_key_is_a_wrong_join_key(world: list[Problem]) -> None:
    mutants = [(p, b) for p, b in _mutants(world, "faulty_join") if b.description.startswith("join key")]
    assert _agreement(mutants, "wrong_join_key") >= MIN_AGREEMENT


def test_a_column_read_replaced_by_another_is_a_wrong_column(world: list[Problem]) -> None:
    assert _agreement(_mutants(world, "wrong_column"), "wrong_column") >= MIN_AGREEMENT


def test_a_swapped_aggregate_or_ranking_function_is_a_wrong_aggregation(world: list[Problem]) -> None:
    assert _agreement(_mutants(world, "wrong_aggregation"), "wrong_aggregation") >= MIN_AGREEMENT


def test_a_dropped_null_step_coalesce_or_flipped_nulls_ordering_is_missing_null_handling(
        world: list[Problem]) -> None:
    assert _agreement(_mutants(world, "missing_null_handling"), "missing_null_handling") >= MIN_AGREEMENT


# ---- what shows no kind -----------------------------------------------------------------------------


def test_every_reference_against_itself_shows_no_kind(world: list[Problem]) -> None:
    assert all(bug_kinds(p.reference, p.reference) == frozenset() for p in world)


def test_a_program_that_does_not_parse_shows_no_kind(world: list[Problem]) -> None:
    slips = _mutants(world, "syntax_slip")
    assert slips and all(bug_kinds(bug.program, p.reference) == frozenset() for p, bug in slips)
    assert bug_kinds("result = (\x00)\n", REFERENCE) == frozenset()
    assert bug_kinds(REFERENCE, "result = (") == frozenset()


def test_a_program_over_the_size_cap_shows_no_kind() -> None:
    padded = REFERENCE.replace("how='left'", "how='inner'") + "#" * MAX_PROGRAM_CHARS
    assert bug_kinds(padded, REFERENCE) == frozenset()
    assert bug_kinds(REFERENCE.replace("how='left'", "how='inner'"), REFERENCE) == {"wrong_join_type"}


@pytest.mark.parametrize("category", ["hallucinated_api", "off_by_one", "flipped_comparison", "syntax_slip"])
def test_other_categories_show_none_of_the_kinds(world: list[Problem], category: str) -> None:
    for p, bug in _mutants(world, category):
        assert bug_kinds(bug.program, p.reference) == frozenset(), (bug.description, bug.program)


def test_an_invented_null_step_name_is_not_missing_null_handling() -> None:
    invented = REFERENCE.replace(".dropna(", ".dropNulls(")
    assert bug_kinds(invented, REFERENCE) == frozenset()
    assert bug_kinds(REFERENCE.replace("    .dropna(subset=['status'])\n", ""), REFERENCE) == {"missing_null_handling"}


# ---- the rules on hand-made programs ----------------------------------------------------------------


def test_equivalent_spellings_and_intermediate_variables_are_no_bug() -> None:
    rewritten = """from pyspark.sql.functions import col, mean
joined = orders.join(customers, orders.customer_id == customers.customer_id, 'left_outer')
kept = joined.filter(col('status').isNotNull())
grouped = kept.groupBy('status').agg(mean('quantity').alias('avg_quantity'))
result = grouped.orderBy(col('avg_quantity').desc(), col('status').asc()).select('status', 'avg_quantity')
"""
    assert bug_kinds(rewritten, REFERENCE) == frozenset()


def test_functions_imported_by_star_are_read_as_functions() -> None:
    star = "from pyspark.sql.functions import *\n" + REFERENCE.replace("F.", "")
    assert bug_kinds(star, REFERENCE) == frozenset()
    assert bug_kinds(star.replace("avg(", "max("), REFERENCE) == {"wrong_aggregation"}


def test_an_omitted_how_is_an_inner_join() -> None:
    assert bug_kinds(REFERENCE.replace(", how='left'", ""), REFERENCE) == {"wrong_join_type"}
    inner = REFERENCE.replace("how='left'", "how='inner'")
    assert bug_kinds(inner.replace(", how='inner'", ""), inner) == frozenset()


def test_a_key_expression_naming_another_column_is_a_wrong_join_key() -> None:
    keyed = REFERENCE.replace("on=['customer_id']", "on=orders.customer_id == customers.name")
    assert bug_kinds(keyed, REFERENCE) == {"wrong_join_key"}


def test_a_column_the_reference_never_names_is_a_wrong_column() -> None:
    assert bug_kinds(REFERENCE.replace("'avg_quantity')\n", "'average')\n"), REFERENCE) == {"wrong_column"}


def test_reading_a_named_column_once_more_is_not_a_wrong_column() -> None:
    extra = REFERENCE.replace("    .dropna(", "    .filter(F.col('quantity') > 0)\n    .dropna(")
    assert bug_kinds(extra, REFERENCE) == frozenset()


def test_a_dropped_aggregate_is_not_a_wrong_aggregation() -> None:
    grouped = REFERENCE.replace(".agg(F.avg('quantity').alias('avg_quantity'))", ".agg(F.avg('quantity'))")
    assert bug_kinds(grouped, REFERENCE) == frozenset()  # the alias is gone: one name fewer, none instead
    added = REFERENCE.replace(".alias('avg_quantity')", ".alias('avg_quantity'), F.count(F.lit(1)).alias('n')")
    assert "wrong_aggregation" in bug_kinds(added, REFERENCE)


def test_fewer_null_steps_in_any_group_is_missing_null_handling() -> None:
    fill = "result = orders.fillna({'status': 'none', 'quantity': 0})\n"
    assert bug_kinds("result = orders.fillna({'status': 'none'})\n", fill) == {"missing_null_handling"}
    coalesced = ("result = (orders.withColumn('status', F.coalesce(F.col('status'), F.lit('none')))\n"
                 "          .withColumn('quantity', F.coalesce(F.col('quantity'), F.lit(0))))\n")
    assert bug_kinds(coalesced, fill) == frozenset()
    assert bug_kinds("result = orders.orderBy('day', ascending=False)\n",
                     "result = orders.orderBy(F.col('day').desc_nulls_first())\n") == {"missing_null_handling"}


def test_the_program_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    program = f"open({str(marker)!r}, 'w').close()\nresult = orders\n"
    bug_kinds(program, REFERENCE)
    assert not marker.exists()


def test_kinds_come_from_the_vocabulary(world: list[Problem]) -> None:
    seen = {k for category in MUTATORS for p, bug in _mutants(world[:80], category)
            for k in bug_kinds(bug.program, p.reference)}
    assert seen <= set(KINDS)


# ---- attempts at tasks ------------------------------------------------------------------------------


def test_only_spark_tasks_are_diagnosed(world: list[Problem]) -> None:
    spark = next(p for p in world if "how='left'" in p.reference)
    assert attempt_kinds(spark, spark.reference.replace("how='left'", "how='full'")) == {"wrong_join_type"}
    python = Problem("t/0", "", "f", "", REFERENCE, AssertTests(("assert True",)), "custom")
    assert attempt_kinds(python, REFERENCE.replace("how='left'", "how='inner'")) == frozenset()


def test_generating_and_diagnosing_need_no_spark() -> None:
    code = ("import sys; from cosmocore import worlds; from cosmocore.worlds.spark.diagnose import bug_kinds; "
            "p = next(iter(worlds.generate('miniworld-spark', 0, 'test', 1).values())); "
            "bug_kinds(p.reference, p.reference); print('pyspark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
