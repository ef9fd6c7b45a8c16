"""Judging a result table against the expected one (pure Python: the Spark judge runs it on collected rows).

Tables are plain {"columns": [[name, type], ...], "rows": [[value, ...], ...]} (as `SparkTests` encodes
them). `compare_tables` returns None when they are equal, else a short human reason. Equal means:
- the same column names, in the same order, with the same Spark type names;
- every value of the column's Python type (int for bigint/int, float for double, str, bool) or null;
- the same rows, as a multiset (duplicates count) unless `ordered`, then row by row in order;
- doubles within `atol` absolutely (null equals only null; NaN equals NaN), everything else exactly.
Limits: unordered matching with tolerance is greedy within rows that agree on every non-double column,
which is exact unless two expected rows differ only by less than `atol` (they never do in the worlds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "bigint": (int,), "int": (int,), "smallint": (int,), "tinyint": (int,), "double": (float,), "float": (float,),
    "string": (str,), "boolean": (bool,),
}
_EXAMPLES = 3  # rows shown in a reason


def compare_tables(actual: dict[str, Any], expected: dict[str, Any], ordered: bool = False,
                   atol: float = 1e-6) -> str | None:
    """None when `actual` equals `expected` (see the module docstring), else why not."""
    return columns_reason(actual, expected) or rows_reason(actual, expected, ordered, atol)


def malformed_reason(table: Any) -> str | None:
    """Why `table` (decoded from an untrusted candidate) is not a plain table, or None if it is one."""
    if not isinstance(table, dict) or set(table) != {"columns", "rows"}:
        return "not a table"
    columns, rows = table["columns"], table["rows"]
    if not isinstance(columns, list) or not all(
            isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c) for c in columns):
        return "malformed columns"
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        return "malformed rows"
    return None


def columns_reason(actual: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """None when the column names and type names agree, in order; else why not."""
    return _column_reason([tuple(c) for c in actual["columns"]], [tuple(c) for c in expected["columns"]])


def rows_reason(actual: dict[str, Any], expected: dict[str, Any], ordered: bool, atol: float) -> str | None:
    """None when the rows hold values of the expected types and equal the expected rows; else why not.

    Assumes `columns_reason` found the columns equal.
    """
    columns = [tuple(c) for c in expected["columns"]]
    reason = _value_type_reason(actual, columns)
    if reason:
        return reason
    floats = [kind in ("double", "float") for _, kind in columns]
    if ordered:
        return _ordered_reason(actual["rows"], expected["rows"], floats, atol)
    return _multiset_reason(actual["rows"], expected["rows"], floats, atol)


def _column_reason(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> str | None:
    names, wanted = [c[0] for c in actual], [c[0] for c in expected]
    if names != wanted:
        return f"columns {names}, expected {wanted}"
    for (name, kind), (_, want) in zip(actual, expected, strict=True):
        if kind != want:
            return f"column {name!r} is {kind}, expected {want}"
    return None


def _value_type_reason(table: dict[str, Any], columns: list[tuple[Any, ...]]) -> str | None:
    for number, row in enumerate(table["rows"]):
        if len(row) != len(columns):
            return f"row {number} has {len(row)} values, expected {len(columns)}"
        for value, (name, kind) in zip(row, columns, strict=True):
            allowed = _PYTHON_TYPES.get(kind)
            if value is not None and allowed is not None and type(value) not in allowed:
                return f"row {number}: column {name!r} holds {value!r}, not a {kind}"
    return None


def values_equal(a: Any, b: Any, is_float: bool, atol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if is_float:
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= atol
    return bool(a == b)


def rows_equal(a: Sequence[Any], b: Sequence[Any], floats: Sequence[bool], atol: float) -> bool:
    return all(values_equal(x, y, f, atol) for x, y, f in zip(a, b, floats, strict=True))


def _ordered_reason(actual: list[Any], expected: list[Any], floats: list[bool], atol: float) -> str | None:
    if len(actual) != len(expected):
        return f"{len(actual)} rows, expected {len(expected)}" + _missing_extra(actual, expected, floats, atol)
    for number, (got, want) in enumerate(zip(actual, expected, strict=True)):
        if not rows_equal(got, want, floats, atol):
            if _multiset_reason(actual, expected, floats, atol) is None:
                return f"row order differs at row {number}: got {got}, expected {want}"
            return f"row {number} is {got}, expected {want}"
    return None


def _multiset_reason(actual: list[Any], expected: list[Any], floats: list[bool], atol: float) -> str | None:
    missing, extra = _unmatched(actual, expected, floats, atol)
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append(f"{len(missing)} rows missing, e.g. {missing[:_EXAMPLES]}")
    if extra:
        parts.append(f"{len(extra)} unexpected rows, e.g. {extra[:_EXAMPLES]}")
    return "; ".join(parts)


def _missing_extra(actual: list[Any], expected: list[Any], floats: list[bool], atol: float) -> str:
    reason = _multiset_reason(actual, expected, floats, atol)
    return f" ({reason})" if reason else ""


def _unmatched(actual: list[Any], expected: list[Any], floats: list[bool],
               atol: float) -> tuple[list[Any], list[Any]]:
    """(expected rows with no partner, actual rows with no partner), matching within exact-column buckets."""
    buckets: dict[str, list[Any]] = {}
    for row in actual:
        buckets.setdefault(_exact_part(row, floats), []).append(row)
    missing = []
    for row in expected:
        bucket = buckets.get(_exact_part(row, floats), [])
        partner = next((i for i, other in enumerate(bucket) if rows_equal(other, row, floats, atol)), None)
        if partner is None:
            missing.append(row)
        else:
            bucket.pop(partner)
    return missing, [row for bucket in buckets.values() for row in bucket]


def _exact_part(row: Sequence[Any], floats: Sequence[bool]) -> str:
    return repr([(type(v).__name__, v) for v, f in zip(row, floats, strict=True) if not f])
