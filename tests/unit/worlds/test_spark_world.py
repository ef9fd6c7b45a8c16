"""The miniworld-spark world as a whole: determinism, size, distinctness, splits, prompts and expected tables."""

from __future__ import annotations

from collections import Counter

import pytest

from cosmocore import codec
from cosmocore.types import Problem, SparkTests
from cosmocore.worlds.spark import generate, split_of
from cosmocore.worlds.spark.generate import generate_world
from cosmocore.worlds.spark.tables import SCHEMAS, draw_tables


@pytest.fixture(scope="module")
def world() -> list[Problem]:
    return list(generate_world(0).values())


def _label(problem: Problem, key: str) -> str:
    return dict(problem.meta)[key]


def _tests(problem: Problem) -> SparkTests:
    assert isinstance(problem.tests, SparkTests)
    return problem.tests


def test_the_same_seed_gives_identical_problems(world: list[Problem]) -> None:
    assert list(generate._world.__wrapped__(0)) == world  # type: ignore[attr-defined]  # bypass the cache


def test_different_seeds_give_different_tables_and_tasks(world: list[Problem]) -> None:
    assert draw_tables(0) != draw_tables(1)
    other = {p.reference for p in generate_world(1).values()}
    assert sum(p.reference in other for p in world) < len(world) // 2


def test_at_least_300_distinct_tasks(world: list[Problem]) -> None:
    assert len({p.reference for p in world}) == len(world) >= 300
    assert [p.task_id for p in world] == [f"miniworld-spark/{n}" for n in range(len(world))]


def test_no_composition_is_in_both_splits(world: list[Problem]) -> None:
    by_split: dict[str, set[str]] = {"train": set(), "test": set()}
    for p in world:
        by_split[_label(p, "split")].add(_label(p, "composition"))
    assert by_split["train"] and by_split["test"]
    assert not by_split["train"] & by_split["test"]
    assert all(_label(p, "split") == split_of(_label(p, "composition")) for p in world)


def test_difficulty_is_the_number_of_steps_and_all_depths_occur(world: list[Problem]) -> None:
    depths = Counter(_label(p, "difficulty") for p in world)
    assert set(depths) == {"1", "2", "3"}
    assert all(int(_label(p, "difficulty")) == _label(p, "composition").count(">") for p in world)


def test_every_operation_family_occurs(world: list[Problem]) -> None:
    ops = {op for p in world for op in _label(p, "composition").split(">")[1:]}
    wanted = {"join_inner", "join_left", "join_anti", "filter_cmp", "filter_str", "filter_null", "dropna", "fillna",
              "coalesce", "dedupe_key", "dedupe_subset", "rename", "agg_count", "agg_sum", "agg_avg", "agg_min",
              "agg_max", "agg_distinct", "row_number", "rank", "running_sum", "sort"}
    assert wanted <= ops


def test_prompts_state_input_schemas_and_output_columns(world: list[Problem]) -> None:
    for p in world:
        expected = codec.decode(_tests(p).expected)
        tables = codec.decode(_tests(p).tables)
        for name, table in tables.items():
            assert table["columns"] == [list(c) for c in SCHEMAS[name]]
            assert f"- {name}(" + ", ".join(f"{c} {t}" for c, t in SCHEMAS[name]) + ")" in p.prompt
        columns = ", ".join(f"`{c}` {t}" for c, t in expected["columns"])
        assert f"exactly these columns, in this order: {columns}." in p.prompt
        assert ("exactly the order" in p.prompt) == _tests(p).ordered


def test_expected_tables_match_their_declared_columns_and_the_reference_select(world: list[Problem]) -> None:
    for p in world:
        expected = codec.decode(_tests(p).expected)
        names = [c for c, _ in expected["columns"]]
        assert f".select({', '.join(repr(c) for c in names)})" in p.reference
        assert len(expected["rows"]) >= 2
        assert all(len(row) == len(names) for row in expected["rows"])


def test_problems_are_whole_programs_binding_result(world: list[Problem]) -> None:
    for p in world:
        assert p.completion_prefix == "" and p.entry_point == "result" and p.benchmark == "miniworld-spark"
        assert p.reference.startswith("result = (\n") and _tests(p).atol == 1e-6
        compile(p.reference, p.task_id, "exec")


def test_ordered_tasks_end_with_a_sort(world: list[Problem]) -> None:
    for p in world:
        assert _tests(p).ordered == _label(p, "composition").endswith(">sort")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tables_hold_nulls_duplicates_and_dangling_keys(seed: int) -> None:
    tables = draw_tables(seed)
    for table in tables.values():
        assert 12 <= len(table.rows) <= 60
    orders, customers = tables["orders"], tables["customers"]
    assert None in orders.values("customer_id") and None in customers.values("country")
    assert set(orders.values("customer_id")) - set(customers.values("customer_id")) - {None}  # dangling ids
    for name in ("orders", "events"):
        rows = tables[name].rows
        assert len(set(rows)) < len(rows)  # exact duplicates
        assert len({row[0] for row in rows}) == len(set(rows))  # equal ids only on identical rows
