"""The pure-Python operations behind miniworld-spark's expected tables, on hand-computed examples of Spark semantics."""

from __future__ import annotations

from cosmocore.worlds.spark import relational as rel
from cosmocore.worlds.spark.tables import Table

ORDERS = Table((("order_id", "bigint"), ("customer_id", "bigint"), ("quantity", "bigint")),
               ((1, 10, 2), (2, 10, None), (3, None, 5), (4, 99, 1), (5, 11, 3)))
CUSTOMERS = Table((("customer_id", "bigint"), ("country", "string")), ((10, "US"), (11, None), (12, "DE")))


def test_inner_join_drops_null_and_dangling_keys_and_puts_keys_first() -> None:
    joined = rel.join(ORDERS, CUSTOMERS, ["customer_id"], "inner")
    assert joined.names == ("customer_id", "order_id", "quantity", "country")
    assert joined.rows == ((10, 1, 2, "US"), (10, 2, None, "US"), (11, 5, 3, None))


def test_left_join_pads_with_nulls_and_anti_join_keeps_null_keys() -> None:
    left = rel.join(ORDERS, CUSTOMERS, ["customer_id"], "left")
    assert (None, 3, 5, None) in left.rows and (99, 4, 1, None) in left.rows and len(left.rows) == 5
    anti = rel.join(ORDERS, CUSTOMERS, ["customer_id"], "left_anti")
    assert anti.names == ("customer_id", "order_id", "quantity")
    assert anti.rows == ((None, 3, 5), (99, 4, 1))


def test_aggregates_skip_nulls_and_null_is_a_group() -> None:
    table = rel.group_by(ORDERS, ["customer_id"], [("count", "*", "n"), ("count", "quantity", "nq"),
                                                   ("sum", "quantity", "s"), ("avg", "quantity", "a")])
    assert table.columns[1:] == (("n", "bigint"), ("nq", "bigint"), ("s", "bigint"), ("a", "double"))
    assert set(table.rows) == {(10, 2, 1, 2, 2.0), (None, 1, 1, 5, 5.0), (99, 1, 1, 1, 1.0), (11, 1, 1, 3, 3.0)}


def test_sum_and_avg_of_only_nulls_are_null() -> None:
    table = rel.group_by(ORDERS, ["order_id"], [("sum", "quantity", "s"), ("avg", "quantity", "a"),
                                                ("max", "quantity", "m"), ("countDistinct", "quantity", "d")])
    assert (2, None, None, None, 0) in table.rows


def test_sort_places_nulls_as_asked() -> None:
    last = rel.sort(ORDERS, [("quantity", True, False)])
    assert [r[2] for r in last.rows] == [5, 3, 2, 1, None]
    first = rel.sort(ORDERS, [("quantity", False, True)])
    assert [r[2] for r in first.rows] == [None, 1, 2, 3, 5]


def test_rank_shares_ranks_with_gaps_and_row_number_counts() -> None:
    table = Table((("g", "string"), ("v", "bigint")), (("a", 5), ("a", 5), ("a", 3), ("b", None), ("b", 1)))
    ranked = rel.window(table, ["g"], [("v", True, False)], "rank", None, "r")
    assert [r[2] for r in ranked.rows] == [1, 1, 3, 2, 1]
    assert ranked.type_of("r") == "int"


def test_running_sum_skips_nulls_and_widens_to_bigint() -> None:
    table = Table((("g", "string"), ("i", "bigint"), ("v", "int")), (("a", 1, None), ("a", 2, 4), ("a", 3, 1)))
    running = rel.window(table, ["g"], [("i", False, True)], "sum", "v", "s")
    assert [r[3] for r in running.rows] == [None, 4, 5]
    assert running.type_of("s") == "bigint"
