"""The operations a miniworld-spark pipeline is built from: each draws its parameters from the current
frame and returns a `Step` holding its implementation (`apply`, built on `relational`) beside its code
(a PySpark method-chain fragment) and its phrasings.

    joins      join_inner, join_left, join_anti (with customers or products on their key; products or
               customers never ordered; events with orders on the two keys customer_id and product_id)
    filters    filter_cmp (numbers), filter_str (==, !=, isin), filter_null (isNull / isNotNull)
    nulls      dropna, fillna, coalesce
    dedupe     dedupe_key (dropDuplicates on the row key), dedupe_subset (distinct value pairs)
    columns    rename, amount (quantity * price)
    aggregate  agg_count, agg_count_col, agg_sum, agg_avg, agg_min, agg_max, agg_distinct (group-by)
    window     row_number, rank, running_sum
    order      sort (explicit null placement, ties broken by the row key; always the last step)

A draw returns None where the operation does not fit the frame (a missing column, nothing to filter).
Every step that orders rows breaks ties by the frame's `key`, so expected outputs are deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cosmocore.worlds.spark import relational as rel
from cosmocore.worlds.spark.tables import KEYS, Table


@dataclass(frozen=True)
class Frame:
    """The DataFrame a pipeline has built so far, with what the next steps need to know about it."""

    table: Table
    key: tuple[str, ...]  # rows equal on these columns are identical
    sources: tuple[str, ...]  # input tables used so far
    grouped: bool = False  # after a group-by (no second one)
    new: tuple[str, ...] = ()  # columns the steps added or renamed (always part of the output)


@dataclass(frozen=True)
class Step:
    """One drawn operation: `apply` (the trusted implementation), `code` and `says` (its phrasings)."""

    op: str
    code: str  # method-chain fragment starting with "."
    says: tuple[str, ...]
    apply: Callable[[Frame], Frame] = field(compare=False)
    ordered: bool = False  # the result's row order is part of the task


Draw = Callable[[Frame, dict[str, Table], random.Random], Step | None]

RENAMES = {"name": "customer_name", "country": "country_code", "status": "order_status",
           "category": "product_category", "quantity": "qty", "price": "unit_price", "event_type": "kind",
           "day": "event_day", "signup_year": "joined_in"}
FILLS = {"string": "unknown", "bigint": 0, "double": 0.0}


def lit(value: Any) -> str:
    """A Python literal as it appears in code and prompts."""
    return repr(value)


def _numeric(frame: Frame) -> list[str]:
    return [c for c, t in frame.table.columns if t in ("bigint", "double", "int") and not c.endswith("_id")]


def _groupable(frame: Frame) -> list[str]:
    return [c for c, t in frame.table.columns
            if (t == "string" or c in ("customer_id", "product_id", "signup_year", "joined_in")) and c not in frame.key]


def _nullable(frame: Frame) -> list[str]:
    return [c for c in frame.table.names if any(v is None for v in frame.table.values(c))]


# ---- joins -------------------------------------------------------------------------------------------

JOIN_SAYS = {
    "inner": ("join `{right}` on {on} (inner join: keep only rows with a match)",
              "inner-join the rows with `{right}` using {on}",
              "attach the matching `{right}` row to each row by {on}, dropping rows without a match"),
    "left": ("left-join `{right}` on {on}, keeping every row (its columns are null where nothing matches)",
             "add the columns of `{right}` matched on {on} with a left join, so unmatched rows stay with nulls",
             "look up `{right}` by {on} with a left outer join"),
    "left_anti": ("keep only the rows whose {on} matches no row of `{right}` (a null never matches)",
                  "anti-join with `{right}` on {on}: keep rows with no match there (null keys have none)",
                  "drop every row that has a match in `{right}` on {on}, keeping the unmatched ones (nulls included)"),
}
JOINS = (  # (right table, keys, the left must be derived from one of these tables, hows)
    ("customers", ("customer_id",), ("orders", "events"), ("inner", "left", "left_anti")),
    ("products", ("product_id",), ("orders", "events"), ("inner", "left", "left_anti")),
    ("orders", ("customer_id",), ("customers",), ("left_anti",)),
    ("orders", ("product_id",), ("products",), ("left_anti",)),
    ("orders", ("customer_id", "product_id"), ("events",), ("inner",)),
)


def draw_join(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    right, keys, lefts, hows = rng.choice(JOINS)
    right_table = tables[right]
    rest = [c for c in right_table.names if c not in keys]
    if frame.sources[0] not in lefts or right in frame.sources or (frame.grouped and len(keys) > 1):
        return None
    if any(k not in frame.table.names for k in keys) or any(c in frame.table.names for c in rest):
        return None
    how = rng.choice(hows)
    unique_right = KEYS[right] == keys
    key = frame.key if unique_right or how == "left_anti" else frame.key + KEYS[right]

    def apply(f: Frame) -> Frame:
        return Frame(rel.join(f.table, right_table, keys, how), key, (*f.sources, right), f.grouped, f.new)

    on = " and ".join(f"`{k}`" for k in keys)
    says = tuple(s.format(right=right, on=on) for s in JOIN_SAYS[how])
    name = {"inner": "join_inner", "left": "join_left", "left_anti": "join_anti"}[how]
    return Step(name, f".join({right}, on={list(keys)!r}, how={how!r})", says, apply)


# ---- filters -----------------------------------------------------------------------------------------

COMPARATORS: dict[str, tuple[Callable[[Any, Any], bool], tuple[str, ...]]] = {
    ">": (lambda a, b: a > b, ("greater than", "above", "more than")),
    ">=": (lambda a, b: a >= b, ("at least", "greater than or equal to", "no less than")),
    "<": (lambda a, b: a < b, ("less than", "below", "smaller than")),
    "<=": (lambda a, b: a <= b, ("at most", "less than or equal to", "no more than")),
    "==": (lambda a, b: a == b, ("equal to", "exactly", "equal to")),
    "!=": (lambda a, b: a != b, ("not equal to", "different from", "other than")),
}


def _column_and_values(frame: Frame, columns: list[str], rng: random.Random) -> tuple[str, list[Any]] | None:
    """A column drawn from `columns` and its distinct non-null values, if it has at least two."""
    if not columns:
        return None
    column = rng.choice(columns)
    present = sorted({v for v in frame.table.values(column) if v is not None})
    return (column, present) if len(present) >= 2 else None


def draw_filter_cmp(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    picked = _column_and_values(frame, _numeric(frame), rng)
    if picked is None:
        return None
    column, present = picked
    value, symbol = rng.choice(present), rng.choice(list(COMPARATORS))
    test, words = COMPARATORS[symbol]

    def apply(f: Frame) -> Frame:
        kept = rel.keep_rows(f.table, lambda r: r[column] is not None and test(r[column], value))
        return Frame(kept, f.key, f.sources, f.grouped, f.new)

    says = tuple(f"keep the rows whose `{column}` is {w} {lit(value)}" for w in words)
    return Step("filter_cmp", f".filter(F.col({column!r}) {symbol} {lit(value)})", says, apply)


def draw_filter_str(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    picked = _column_and_values(frame, [c for c, t in frame.table.columns if t == "string"], rng)
    if picked is None:
        return None
    column, present = picked
    kind = rng.choice(("==", "!=", "isin"))
    chosen = tuple(rng.sample(present, 2)) if kind == "isin" and len(present) > 2 else (rng.choice(present),)
    kind = kind if len(chosen) == 2 or kind != "isin" else "=="

    def keep(r: dict[str, Any]) -> bool:
        v = r[column]
        return v is not None and ((v in chosen) if kind != "!=" else v != chosen[0])

    def apply(f: Frame) -> Frame:
        return Frame(rel.keep_rows(f.table, keep), f.key, f.sources, f.grouped, f.new)

    if kind == "isin":
        listed = f"{lit(chosen[0])} or {lit(chosen[1])}"
        code = f".filter(F.col({column!r}).isin({lit(chosen[0])}, {lit(chosen[1])}))"
        says = (f"keep the rows whose `{column}` is {listed}",
                f"keep only rows with `{column}` in ({listed.replace(' or', ',')})")
    elif kind == "==":
        code, says = f".filter(F.col({column!r}) == {lit(chosen[0])})", (
            f"keep the rows whose `{column}` is {lit(chosen[0])}",
            f"keep only rows with `{column}` equal to {lit(chosen[0])}")
    else:
        code, says = f".filter(F.col({column!r}) != {lit(chosen[0])})", (
            f"keep the rows whose `{column}` is not {lit(chosen[0])} (a null `{column}` is dropped too)",
            f"drop the rows with `{column}` equal to {lit(chosen[0])} or null")
    return Step("filter_str", code, says, apply)


def draw_filter_null(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    columns = _nullable(frame)
    if not columns:
        return None
    column, want_null = rng.choice(columns), rng.random() < 0.3

    def apply(f: Frame) -> Frame:
        kept = rel.keep_rows(f.table, lambda r: (r[column] is None) == want_null)
        return Frame(kept, f.key, f.sources, f.grouped, f.new)

    if want_null:
        says = (f"keep only the rows where `{column}` is null", f"select the rows with a missing (null) `{column}`")
        return Step("filter_null", f".filter(F.col({column!r}).isNull())", says, apply)
    says = (f"keep only the rows where `{column}` is not null", f"filter out rows whose `{column}` is null")
    return Step("filter_null", f".filter(F.col({column!r}).isNotNull())", says, apply)


# ---- null handling -----------------------------------------------------------------------------------


def draw_dropna(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    columns = _nullable(frame)
    if not columns:
        return None
    subset = sorted(rng.sample(columns, min(len(columns), rng.choice((1, 1, 2)))), key=frame.table.names.index)

    def apply(f: Frame) -> Frame:
        kept = rel.keep_rows(f.table, lambda r: all(r[c] is not None for c in subset))
        return Frame(kept, f.key, f.sources, f.grouped, f.new)

    named = " or ".join(f"`{c}`" for c in subset)
    says = (f"drop the rows with a null {named}", f"remove every row where {named} is missing (null)")
    return Step("dropna", f".dropna(subset={subset!r})", says, apply)


def draw_fillna(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    columns = [c for c in _nullable(frame) if frame.table.type_of(c) in FILLS and c not in frame.key]
    if not columns:
        return None
    column = rng.choice(columns)
    value = FILLS[frame.table.type_of(column)]

    def apply(f: Frame) -> Frame:
        filled = rel.with_column(f.table, column, f.table.type_of(column),
                                 lambda r: value if r[column] is None else r[column])
        return Frame(filled, f.key, f.sources, f.grouped, f.new)

    says = (f"replace null `{column}` values with {lit(value)}", f"fill missing `{column}` with {lit(value)}")
    return Step("fillna", f".fillna({{{column!r}: {lit(value)}}})", says, apply)


def draw_coalesce(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    columns = [c for c in _nullable(frame) if frame.table.type_of(c) in FILLS]
    if not columns:
        return None
    column = rng.choice(columns)
    value, name = FILLS[frame.table.type_of(column)], f"{column}_or_default"
    if name in frame.table.names:
        return None

    def apply(f: Frame) -> Frame:
        added = rel.with_column(f.table, name, f.table.type_of(column),
                                lambda r: value if r[column] is None else r[column])
        return Frame(added, f.key, f.sources, f.grouped, (*f.new, name))

    says = (f"add a column `{name}` holding `{column}`, or {lit(value)} where it is null",
            f"add `{name}` = the first non-null of `{column}` and {lit(value)}")
    return Step("coalesce", f".withColumn({name!r}, F.coalesce(F.col({column!r}), F.lit({lit(value)})))", says, apply)


# ---- deduplication and columns -----------------------------------------------------------------------


def draw_dedupe_key(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    if frame.grouped or not frame.key:
        return None
    key = list(frame.key)

    def apply(f: Frame) -> Frame:
        return Frame(rel.dedupe(f.table, key), f.key, f.sources, f.grouped, f.new)

    named = ", ".join(f"`{k}`" for k in key)
    says = (f"drop duplicate rows, keeping one row per {named}",
            f"deduplicate on {named} (duplicates are exact copies)",
            f"remove repeated records so that each {named} appears once")
    return Step("dedupe_key", f".dropDuplicates({key!r})", says, apply)


def draw_dedupe_subset(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    columns = _groupable(frame)
    if frame.grouped or len(columns) < 2:
        return None
    subset = sorted(rng.sample(columns, 2), key=frame.table.names.index)

    def apply(f: Frame) -> Frame:
        table = rel.project(rel.dedupe(f.table, subset), subset)
        return Frame(table, tuple(subset), f.sources, f.grouped, tuple(c for c in f.new if c in subset))

    pair = f"(`{subset[0]}`, `{subset[1]}`)"
    says = (f"keep one row per distinct {pair} pair and only those two columns",
            f"reduce the rows to the distinct {pair} combinations")
    return Step("dedupe_subset", f".dropDuplicates({subset!r}).select({subset[0]!r}, {subset[1]!r})", says, apply)


def draw_rename(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    names = frame.table.names
    columns = [c for c in names if c in RENAMES and c not in frame.key and RENAMES[c] not in names]
    if not columns:
        return None
    old = rng.choice(columns)
    new = RENAMES[old]

    def apply(f: Frame) -> Frame:
        return Frame(rel.rename(f.table, old, new), f.key, f.sources, f.grouped, (*f.new, new))

    says = (f"rename `{old}` to `{new}`", f"call the `{old}` column `{new}` from here on")
    return Step("rename", f".withColumnRenamed({old!r}, {new!r})", says, apply)


def _amount(r: dict[str, Any]) -> Any:
    return None if r["quantity"] is None or r["price"] is None else r["quantity"] * r["price"]


def draw_amount(frame: Frame, tables: dict[str, Table], rng: random.Random) -> Step | None:
    if "quantity" not in frame.table.names or "price" not in frame.table.names or "amount" in frame.table.names:
        return None

    def apply(f: Frame) -> Frame:
        table = rel.with_column(f.table, "amount", "double", _amount)
        return Frame(table, f.key, f.sources, f.grouped, (*f.new, "amount"))

    says = ("add a double column `amount` = `quantity` * `price` (null if either is null)",
            "compute `amount` as `quantity` times `price` for each row")
    return Step("amount", '.withColumn("amount", F.col("quantity") * F.col("price"))', says, apply)
