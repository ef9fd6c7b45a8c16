"""The miniworld-spark result checker: strict on columns, types and (where asked) order; tolerant on doubles only."""

from __future__ import annotations

from typing import Any

import pytest

from cosmocore.tables import columns_reason, compare_tables, malformed_reason, rows_reason

COLUMNS = [["customer_id", "bigint"], ["total", "double"], ["country", "string"]]


def _table(rows: list[list[Any]], columns: list[list[str]] | None = None) -> dict[str, Any]:
    return {"columns": columns or COLUMNS, "rows": rows}


ROWS = [[1, 2.5, "US"], [2, None, None], [3, 0.1 + 0.2, "DE"]]


def test_identical_tables_are_equal_ordered_or_not() -> None:
    assert compare_tables(_table(ROWS), _table(ROWS)) is None
    assert compare_tables(_table(ROWS), _table(ROWS), ordered=True) is None


def test_same_rows_in_another_order_pass_when_order_does_not_matter() -> None:
    assert compare_tables(_table(ROWS[::-1]), _table(ROWS)) is None


def test_reordered_rows_fail_when_order_matters() -> None:
    reason = compare_tables(_table(ROWS[::-1]), _table(ROWS), ordered=True)
    assert reason is not None and "row order differs at row 0" in reason


def test_a_wrong_column_type_fails_with_its_name() -> None:
    columns = [["customer_id", "bigint"], ["total", "bigint"], ["country", "string"]]
    rows = [[1, 2, "US"]]
    reason = compare_tables(_table(rows, columns), _table([[1, 2.0, "US"]]))
    assert reason == "column 'total' is bigint, expected double"


def test_a_value_of_the_wrong_python_type_fails() -> None:
    reason = compare_tables(_table([[1, 2, "US"]]), _table([[1, 2.0, "US"]]))
    assert reason is not None and "not a double" in reason


def test_wrong_or_reordered_column_names_fail() -> None:
    columns = [["customer_id", "bigint"], ["country", "string"], ["total", "double"]]
    reason = compare_tables(_table([[1, "US", 2.5]], columns), _table([[1, 2.5, "US"]]))
    assert reason is not None and reason.startswith("columns")


def test_doubles_compare_within_atol_and_no_further() -> None:
    assert compare_tables(_table([[1, 2.5 + 5e-7, "US"]]), _table([[1, 2.5, "US"]]), atol=1e-6) is None
    assert compare_tables(_table([[1, 2.5 + 5e-6, "US"]]), _table([[1, 2.5, "US"]]), atol=1e-6) is not None


def test_nulls_equal_nulls_only_and_nan_equals_nan() -> None:
    assert compare_tables(_table([[1, None, None]]), _table([[1, None, None]])) is None
    assert compare_tables(_table([[1, 0.0, None]]), _table([[1, None, None]])) is not None
    assert compare_tables(_table([[1, float("nan"), "x"]]), _table([[1, float("nan"), "x"]])) is None


def test_integers_and_strings_compare_exactly() -> None:
    assert compare_tables(_table([[2, 1.0, "US"]]), _table([[1, 1.0, "US"]])) is not None
    assert compare_tables(_table([[1, 1.0, "us"]]), _table([[1, 1.0, "US"]])) is not None


def test_duplicates_count_as_a_multiset() -> None:
    twice = [[1, 1.0, "US"], [1, 1.0, "US"], [2, 2.0, "DE"]]
    once = [[1, 1.0, "US"], [2, 2.0, "DE"], [2, 2.0, "DE"]]
    reason = compare_tables(_table(once), _table(twice))
    assert reason == "1 rows missing, e.g. [[1, 1.0, 'US']]; 1 unexpected rows, e.g. [[2, 2.0, 'DE']]"


def test_missing_rows_are_reported_with_an_example() -> None:
    reason = compare_tables(_table(ROWS[:2]), _table(ROWS))
    assert reason is not None and reason.startswith("1 rows missing")


def test_an_ordered_table_with_a_wrong_row_says_which() -> None:
    rows = [ROWS[0], [2, 9.0, None], ROWS[2]]
    reason = compare_tables(_table(rows), _table(ROWS), ordered=True)
    assert reason == "row 1 is [2, 9.0, None], expected [2, None, None]"


@pytest.mark.parametrize("table", [
    None, [], {"columns": []}, {"columns": [], "rows": [], "extra": 1}, {"columns": [["a"]], "rows": []},
    {"columns": [["a", 1]], "rows": []}, {"columns": "ab", "rows": []}, {"columns": [], "rows": [1]},
])
def test_anything_but_a_plain_table_is_called_malformed(table):
    assert malformed_reason(table) is not None


def test_a_plain_table_is_well_formed_and_columns_and_rows_are_judged_apart():
    good = _table(ROWS)
    assert malformed_reason(good) is None
    assert columns_reason(good, good) is None and rows_reason(good, good, True, 1e-6) is None
    assert columns_reason(_table(ROWS, [["id", "bigint"]]), good) is not None
    assert rows_reason(_table(ROWS[:1]), good, False, 1e-6) is not None
