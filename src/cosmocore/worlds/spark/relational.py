"""Pure-Python relational operations with Spark's semantics, over `Table`s: the trusted side of miniworld-spark.

Every expected output is computed here, never by running generated PySpark. The semantics mirrored:
- comparisons with null are not true (a filter drops the row); `!=` against null drops it too;
- joins on named key columns (`on=[...]`): keys never match when null; output columns are the keys,
  then the left's other columns, then the right's; `left` pads missing right columns with null;
  `left_anti` keeps left rows without a match (null keys included) and only the left's columns;
- group-by treats null as one group; count(*) counts rows, count(col) non-null values; sum/min/max
  skip nulls and give null on no values; avg is a double (null on no values); countDistinct skips
  nulls; sum keeps the column's type;
- sorts take explicit null placement per key; row_number/rank/running sums follow Window semantics
  (rank: ties share a rank and leave gaps; running sum: rows frame from the partition start).
Limits: bigint overflow is not modelled (the values are tiny), and only the operations used by the
world are provided.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from cosmocore.worlds.spark.tables import Row, Table

SortKey = tuple[str, bool, bool]  # (column, descending, nulls_first)


def project(table: Table, columns: Sequence[str]) -> Table:
    indexes = [table.names.index(c) for c in columns]
    return Table(tuple(table.columns[i] for i in indexes), tuple(tuple(r[i] for i in indexes) for r in table.rows))


def keep_rows(table: Table, keep: Callable[[dict[str, Any]], bool]) -> Table:
    return Table(table.columns, tuple(r for r in table.rows if keep(dict(zip(table.names, r, strict=True)))))


def with_column(table: Table, name: str, kind: str, value: Callable[[dict[str, Any]], Any]) -> Table:
    """Add `name` at the end, or replace it in place where it exists (as Spark's withColumn does)."""
    records = [dict(zip(table.names, r, strict=True)) for r in table.rows]
    if name in table.names:
        i = table.names.index(name)
        columns = (*table.columns[:i], (name, kind), *table.columns[i + 1:])
    else:
        columns = (*table.columns, (name, kind))
    for record in records:
        record[name] = value(record)
    return Table(columns, tuple(tuple(rec[c] for c, _ in columns) for rec in records))


def rename(table: Table, old: str, new: str) -> Table:
    return Table(tuple((new if c == old else c, t) for c, t in table.columns), table.rows)


def join(left: Table, right: Table, keys: Sequence[str], how: str) -> Table:
    """Spark's `left.join(right, on=list(keys), how=how)` for how in inner, left, left_anti."""
    left_rest = [c for c in left.names if c not in keys]
    right_rest = [c for c in right.names if c not in keys]
    rows: list[Row] = []
    for lrow in left.rows:
        lrec = dict(zip(left.names, lrow, strict=True))
        matches = [dict(zip(right.names, r, strict=True)) for r in right.rows if _keys_match(lrec, right, r, keys)]
        head = tuple(lrec[k] for k in keys) + tuple(lrec[c] for c in left_rest)
        if how == "left_anti":
            rows.extend([head] if not matches else [])
            continue
        rows.extend(head + tuple(m[c] for c in right_rest) for m in matches)
        if how == "left" and not matches:
            rows.append(head + (None,) * len(right_rest))
    columns = tuple((k, left.type_of(k)) for k in keys) + tuple((c, left.type_of(c)) for c in left_rest)
    if how != "left_anti":
        columns += tuple((c, right.type_of(c)) for c in right_rest)
    return Table(columns, tuple(rows))


def _keys_match(lrec: dict[str, Any], right: Table, rrow: Row, keys: Sequence[str]) -> bool:
    rrec = dict(zip(right.names, rrow, strict=True))
    return all(lrec[k] is not None and lrec[k] == rrec[k] for k in keys)


def dedupe(table: Table, subset: Sequence[str]) -> Table:
    """dropDuplicates(subset), keeping the first row per subset value (callers only use it where the
    rows sharing a subset value are identical on the columns kept, so which one Spark keeps is moot)."""
    seen: set[tuple[Any, ...]] = set()
    rows = []
    for row in table.rows:
        value = tuple(row[table.names.index(c)] for c in subset)
        if value not in seen:
            seen.add(value)
            rows.append(row)
    return Table(table.columns, tuple(rows))


# ---- aggregation -------------------------------------------------------------------------------------


def _non_null(values: Sequence[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _sum(values: Sequence[Any]) -> Any:
    present = _non_null(values)
    return sum(present) if present else None


def _avg(values: Sequence[Any]) -> float | None:
    present = _non_null(values)
    return float(sum(present)) / len(present) if present else None


AGGREGATES: dict[str, Callable[[Sequence[Any]], Any]] = {  # function over a group's column values
    "count": lambda vs: len(_non_null(vs)),
    "sum": _sum,
    "avg": _avg,
    "min": lambda vs: min(_non_null(vs), default=None),
    "max": lambda vs: max(_non_null(vs), default=None),
    "countDistinct": lambda vs: len(set(_non_null(vs))),
}


def aggregate_type(function: str, column_type: str) -> str:
    """The Spark type of an aggregate's result (count(*) is written as function "count", column "*")."""
    if function in ("count", "countDistinct"):
        return "bigint"
    if function == "avg":
        return "double"
    return "bigint" if function == "sum" and column_type == "int" else column_type  # Spark widens int sums


def group_by(table: Table, keys: Sequence[str], aggs: Sequence[tuple[str, str, str]]) -> Table:
    """groupBy(keys).agg(...) for aggs of (function, column or "*", alias); groups in first-seen order."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in table.rows:
        groups.setdefault(tuple(row[table.names.index(k)] for k in keys), []).append(row)
    rows = []
    for value, members in groups.items():
        results = tuple(_aggregate(table, members, function, column) for function, column, _ in aggs)
        rows.append(value + results)
    columns = tuple((k, table.type_of(k)) for k in keys) + tuple(
        (alias, aggregate_type(f, "bigint" if c == "*" else table.type_of(c))) for f, c, alias in aggs)
    return Table(columns, tuple(rows))


def _aggregate(table: Table, members: list[Row], function: str, column: str) -> Any:
    if column == "*":
        return len(members)
    index = table.names.index(column)
    return AGGREGATES[function]([row[index] for row in members])


# ---- ordering and windows ----------------------------------------------------------------------------


def _compare_values(a: Any, b: Any, descending: bool, nulls_first: bool) -> int:
    if a is None or b is None:
        if a is None and b is None:
            return 0
        return (-1 if a is None else 1) * (1 if nulls_first else -1)
    order = (a > b) - (a < b)
    return -order if descending else order


def _row_comparator(table: Table, keys: Sequence[SortKey]) -> Callable[[Row, Row], int]:
    indexes = [(table.names.index(c), desc, nf) for c, desc, nf in keys]

    def compare(a: Row, b: Row) -> int:
        for i, desc, nf in indexes:
            result = _compare_values(a[i], b[i], desc, nf)
            if result:
                return result
        return 0

    return compare


def sort(table: Table, keys: Sequence[SortKey]) -> Table:
    return Table(table.columns, tuple(sorted(table.rows, key=functools.cmp_to_key(_row_comparator(table, keys)))))


def _partitions(table: Table, by: Sequence[str]) -> dict[tuple[Any, ...], list[int]]:
    parts: dict[tuple[Any, ...], list[int]] = {}
    for i, row in enumerate(table.rows):
        parts.setdefault(tuple(row[table.names.index(c)] for c in by), []).append(i)
    return parts


def window(table: Table, by: Sequence[str], order: Sequence[SortKey], function: str, column: str | None,
           name: str) -> Table:
    """Add `name` = function over Window.partitionBy(by).orderBy(order): row_number, rank, or a running sum
    of `column` (rows from the partition start to the current row)."""
    compare = _row_comparator(table, order)

    def by_index(i: int, j: int) -> int:
        return compare(table.rows[i], table.rows[j])

    values: list[Any] = [None] * len(table.rows)
    for members in _partitions(table, by).values():
        ranked = sorted(members, key=functools.cmp_to_key(by_index))
        for position, i in enumerate(ranked):
            values[i] = _window_value(table, ranked, position, function, column, compare)
    kind = "int" if function in ("row_number", "rank") else aggregate_type("sum", table.type_of(column or ""))
    rows = tuple((*row, value) for row, value in zip(table.rows, values, strict=True))
    return Table((*table.columns, (name, kind)), rows)


def _window_value(table: Table, ranked: list[int], position: int, function: str, column: str | None,
                  compare: Callable[[Row, Row], int]) -> Any:
    if function == "row_number":
        return position + 1
    if function == "rank":
        row = table.rows[ranked[position]]
        return 1 + sum(compare(table.rows[j], row) < 0 for j in ranked[:position])
    index = table.names.index(column or "")
    return _sum([table.rows[j][index] for j in ranked[: position + 1]])
