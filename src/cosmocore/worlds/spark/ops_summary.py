"""The summarising operations of miniworld-spark: group-by aggregations, window functions and the final sort.

Same contract as `ops`: each draw returns a `Step` (implementation beside code and phrasings) or None.
Window orderings and sorts end with the frame's key columns (ascending), so every row's position is
determined; rank orders by its value only, since ties sharing a rank is the point of it.
"""

from __future__ import annotations

import random

from cosmocore.worlds.spark import relational as rel
from cosmocore.worlds.spark.ops import Frame, Step, _groupable, _numeric
from cosmocore.worlds.spark.tables import Table

AGGS = {  # op name -> (Spark function, alias prefix, phrasings with {col})
    "agg_count": ("count", "n", ("the number of rows", "how many rows there are", "the row count")),
    "agg_count_col": ("count", "n_{col}", ("the number of non-null `{col}` values", "how many rows have a `{col}`")),
    "agg_sum": ("sum", "total_{col}", ("the sum of `{col}`", "the total `{col}`")),
    "agg_avg": ("avg", "avg_{col}", ("the average `{col}` (a double)", "the mean of `{col}`")),
    "agg_min": ("min", "min_{col}", ("the smallest `{col}`", "the minimum `{col}`")),
    "agg_max": ("max", "max_{col}", ("the largest `{col}`", "the maximum `{col}`")),
    "agg_distinct": ("countDistinct", "distinct_{col}", ("the number of distinct non-null `{col}` values",
                                                         "how many different `{col}` values occur")),
}
NULL_WORDS = {True: "nulls first", False: "nulls last"}


def _agg_column(frame: Frame, op: str, group: str, rng: random.Random) -> str | None:
    if op == "agg_count":
        return "*"
    if op == "agg_count_col":
        options = [c for c in frame.table.names if c != group and any(v is None for v in frame.table.values(c))]
    elif op == "agg_distinct":
        options = [c for c in frame.table.names if c != group and c not in frame.key]
    else:
        options = [c for c in _numeric(frame) if c != group]
    return rng.choice(options) if options else None


def draw_aggregate(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    groups = _groupable(frame)
    if frame.grouped or not groups:
        return None
    op, group = rng.choice(list(AGGS)), rng.choice(groups)
    column = _agg_column(frame, op, group, rng)
    if column is None:
        return None
    function, alias, words = AGGS[op]
    alias = alias.format(col=column)
    aggs = [(function, column, alias)]
    if op != "agg_count" and rng.random() < 0.35:
        aggs.append(("count", "*", "n"))

    def apply(f: Frame) -> Frame:
        return Frame(rel.group_by(f.table, [group], aggs), (group,), f.sources, True, tuple(a for _, _, a in aggs))

    calls = ", ".join(_agg_code(fn, col, name) for fn, col, name in aggs)
    also = " and the number of rows as `n`" if len(aggs) == 2 else ""
    says = tuple(f"for each `{group}` (null is a group of its own), compute {w.format(col=column)} as `{alias}`{also}"
                 for w in words)
    return Step(op, f".groupBy({group!r}).agg({calls})", says, apply)


def _agg_code(function: str, column: str, alias: str) -> str:
    argument = 'F.lit(1)' if column == "*" else repr(column)
    return f"F.{function}({argument}).alias({alias!r})"


def _order_code(column: str, descending: bool, nulls_first: bool) -> str:
    direction = "desc" if descending else "asc"
    return f"F.col({column!r}).{direction}_nulls_{'first' if nulls_first else 'last'}()"


def _order_words(column: str, descending: bool, nulls_first: bool) -> str:
    return f"`{column}` {'descending' if descending else 'ascending'} ({NULL_WORDS[nulls_first]})"


def _tie_break(frame: Frame) -> list[rel.SortKey]:
    return [(k, False, True) for k in frame.key]


def _tie_words(keys: list[rel.SortKey]) -> str:
    return ", ".join(_order_words(*k) for k in keys)


WINDOWS = {  # op name -> (column name, phrasings with {part}, {order})
    "row_number": ("rn", ("number the rows within each `{part}` as `rn` (1, 2, ...) ordered by {order}",
                          "add `rn`, the row_number within each `{part}` partition, ordered by {order}")),
    "rank": ("rnk", ("add `rnk`, the rank (ties share a rank, leaving gaps) within each `{part}` by {order}",
                     "rank the rows within each `{part}` by {order} into `rnk` (rank, not dense_rank)")),
    "running_sum": ("running_{col}", ("add `running_{col}`, the running sum of `{col}` within each `{part}` in the"
                                      " order {order} (from the first row to the current one; nulls add nothing)",
                                      "compute a cumulative sum of `{col}` per `{part}` as `running_{col}`, "
                                      "rows ordered by {order}")),
}


def draw_window(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    groups, measures = _groupable(frame), _numeric(frame)
    if frame.grouped or not groups or not measures or not frame.key:
        return None
    op, part, measure = rng.choice(list(WINDOWS)), rng.choice(groups), rng.choice(measures)
    ties = _tie_break(frame)
    if op == "rank":
        order: list[rel.SortKey] = [(measure, True, False)]
    elif op == "row_number":
        order = [(measure, rng.random() < 0.6, rng.random() < 0.5), *ties]
    else:
        order = ties
    name = WINDOWS[op][0].format(col=measure)
    if name in frame.table.names:
        return None
    function, column = (op, None) if op != "running_sum" else ("sum", measure)

    def apply(f: Frame) -> Frame:
        table = rel.window(f.table, [part], order, op, column, name)
        return Frame(table, f.key, f.sources, f.grouped, (*f.new, name))

    spec = f"Window.partitionBy({part!r}).orderBy({', '.join(_order_code(*k) for k in order)})"
    if op == "running_sum":
        spec += ".rowsBetween(Window.unboundedPreceding, Window.currentRow)"
    call = f"F.{function}({measure!r})" if column else f"F.{function}()"
    says = tuple(s.format(part=part, order=_tie_words(order), col=measure) for s in WINDOWS[op][1])
    return Step(op, f".withColumn({name!r}, {call}.over({spec}))", says, apply)


def draw_sort(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    columns = [c for c in frame.table.names if c not in frame.key]
    if not columns:
        return None
    first: rel.SortKey = (rng.choice(columns), rng.random() < 0.5, rng.random() < 0.5)
    keys = [first, *_tie_break(frame)]

    def apply(f: Frame) -> Frame:
        return Frame(rel.sort(f.table, keys), f.key, f.sources, f.grouped, f.new)

    order = _tie_words(keys)
    says = (f"order the rows by {order}", f"sort by {order}", f"arrange the rows by {order}")
    return Step("sort", f".orderBy({', '.join(_order_code(*k) for k in keys)})", says, apply, ordered=True)
