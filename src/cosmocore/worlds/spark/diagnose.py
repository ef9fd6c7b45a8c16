"""Which kinds of bug a miniworld-spark program shows, read off its calls against the task's reference.

A model's own failing program carries no mutator label, so the kind is read from the program text:
both programs are parsed with `ast` (nothing is ever executed) and the calls they make are compared.

    calls compared          read from                                        kind, when the candidate...
    joins                   `.join(other, on, how)`, keywords or positions;  joins the same table with another
                            `how` defaults to inner; Spark's aliases         `how`: wrong_join_type; with other
                            (left_outer = left, ...) are one type            keys: wrong_join_key
    columns named           string literals in `F.col` / `col`, in           names a column more often than the
                            aggregate, window and ordering functions, in     reference while naming another one
                            `X['c']`, as arguments of select, groupBy,       less often, or names a column the
                            orderBy, sort, partitionBy, dropDuplicates,      reference never names: wrong_column
                            withColumn, withColumnRenamed and alias, `agg`
                            dict keys, dropna / fillna subsets, fillna keys
    aggregate and ranking   `F.sum`, `F.avg` (= `F.mean`), ...,              calls one of them more often than
    functions               `F.row_number`, `F.rank`, ...; a grouped         the reference: wrong_aggregation
                            `.sum('c')`; `agg` dict values
    null handling steps     null_filter: dropna / na.drop (one step per      has fewer steps than the reference
                            subset column), isNull / isNotNull;              in one of the four groups:
                            null_fill: fillna / na.fill (one per column),    missing_null_handling
                            coalesce, nvl; nulls_first / nulls_last: each
                            ordering key, Spark's defaults included (asc:
                            nulls first, desc: nulls last)

Calls are counted over the whole module, so intermediate variables and a reordered chain are read
like the generator's single chain, and equivalent spellings are one thing: `col` imported or
`F.col`, `F.mean` or `F.avg`, a dropna or an isNotNull filter, a fillna or a coalesce, a join key as
a list, a string or an `a.k == b.k` expression. isNull and isNotNull are one group, so a flipped null
test is a flipped comparison, not a missing step. A call with an invented name that mentions "null" or
"fill" (`.fillNull`, `.dropNulls`, `.notNull`) counts as the null step it attempts, so a hallucinated
API is not read as missing null handling. A function merely missing (an aggregation step dropped, or
renamed to a name outside pyspark) is not a wrong aggregation: nothing wrong was aggregated.

Limits (what it cannot see): SQL text (`spark.sql`, `selectExpr`, `F.expr`, string filters); columns
read as `df.c` attributes outside a join condition; a call inside a loop or a helper counts once
however often it runs, and dead code counts; a join of another table, or a join dropped or added, is
no join kind; the order of steps is not compared, so a step in the wrong place (a filter after rather
than before an aggregation) shows no kind. Equivalent rewrites beyond those above may be named as
bugs: a column computed under a name of the candidate's own reads as a wrong column, a countDistinct
as `F.size(F.collect_set(...))` as a wrong aggregation, a null test written as a comparison
(`F.col('x') == F.col('x')`) as missing null handling.
A program that does not parse, or is longer than MAX_PROGRAM_CHARS, shows no kind.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cosmocore.types import Problem, SparkTests

KINDS = ("wrong_join_type", "wrong_join_key", "wrong_column", "wrong_aggregation", "missing_null_handling")
MAX_PROGRAM_CHARS = 20_000  # characters; a sampled completion is far shorter (160 tokens by default)

FUNCTION_MODULES = frozenset({"F"})  # names bound to pyspark.sql.functions in every task's scope
AGGREGATES = frozenset({
    "sum", "avg", "min", "max", "count", "countDistinct", "approx_count_distinct", "sum_distinct", "first", "last",
    "any_value", "collect_list", "collect_set", "stddev", "stddev_pop", "variance", "var_pop", "median", "mode",
    "percentile_approx", "product", "max_by", "min_by", "count_if", "bool_and", "bool_or",
})
RANKINGS = frozenset({"row_number", "rank", "dense_rank", "percent_rank", "ntile", "cume_dist", "lag", "lead"})
ALIASES = {"mean": "avg", "count_distinct": "countDistinct", "sumDistinct": "sum_distinct", "std": "stddev",
           "approxCountDistinct": "approx_count_distinct", "stddev_samp": "stddev", "var_samp": "variance",
           "column": "col", "nvl": "coalesce", "ifnull": "coalesce"}
ORDERINGS = {"asc": "nulls_first", "asc_nulls_first": "nulls_first", "desc_nulls_first": "nulls_first",
             "desc": "nulls_last", "asc_nulls_last": "nulls_last", "desc_nulls_last": "nulls_last"}
NULL_STEPS = {"dropna": "null_filter", "isNull": "null_filter", "isNotNull": "null_filter",
              "isnull": "null_filter", "isnotnull": "null_filter", "fillna": "null_fill", "coalesce": "null_fill",
              "nvl2": "null_fill"}
NA_STEPS = {"drop": "null_filter", "fill": "null_fill"}  # `df.na.drop(...)`, `df.na.fill(...)`
COLUMN_FUNCTIONS = AGGREGATES | RANKINGS | frozenset({"col", "coalesce", "isnull", "isnotnull", *ORDERINGS})
COLUMN_METHODS = frozenset({"select", "groupBy", "groupby", "orderBy", "sort", "sortWithinPartitions", "partitionBy",
                            "dropDuplicates", "drop_duplicates", "withColumn", "withColumnRenamed", "alias", "cube",
                            "rollup"})
STAR_NAMES = COLUMN_FUNCTIONS | frozenset(ALIASES) | frozenset({"nvl2"})  # what `import *` is read to bind
SORTS = frozenset({"orderBy", "sort", "sortWithinPartitions"})
GROUPINGS = frozenset({"groupBy", "groupby", "cube", "rollup", "pivot"})
GROUPED_AGGREGATES = frozenset({"sum", "avg", "mean", "min", "max", "count"})  # `df.groupBy(k).sum('c')`
JOIN_TYPES = {"outer": "full", "fullouter": "full", "leftouter": "left", "rightouter": "right", "semi": "leftsemi",
              "anti": "leftanti"}  # Spark's join type aliases, once lower-cased and without "_"


@dataclass(frozen=True)
class Join:
    """One `.join` call: the other table (the name its expression starts from), its keys and its type."""

    table: str  # "" when the other side is not built from a name
    keys: frozenset[str]  # lower-cased column names; empty for a join without `on`
    how: str | None  # normalised join type ("left", "leftanti", ...); None when not a literal


@dataclass(frozen=True)
class Calls:
    """What one program does, as the diagnosis compares it (Counters: treat as read-only)."""

    joins: tuple[Join, ...]  # in the order they appear in the text
    columns: Counter[str]  # lower-cased column name -> times named
    functions: Counter[str]  # aggregate or ranking function (normalised) -> calls
    null_steps: Counter[str]  # null_filter / null_fill / nulls_first / nulls_last -> steps


@dataclass(frozen=True)
class _Callee:
    name: str  # normalised function or method name ("" when neither)
    function: bool  # a pyspark.sql.functions call (`F.sum`, an imported `col`), not a method


# ---- the diagnosis -------------------------------------------------------------------------------


def bug_kinds(program: str, reference: str) -> frozenset[str]:
    """The KINDS `program` shows against `reference` (empty when either does not parse or is too long)."""
    candidate, expected = read_calls(program), read_calls(reference)
    if candidate is None or expected is None:
        return frozenset()
    kinds = set(_join_kinds(candidate.joins, expected.joins))
    kinds |= {"wrong_column"} if _wrong_column(candidate.columns, expected.columns) else set()
    kinds |= {"wrong_aggregation"} if candidate.functions - expected.functions else set()
    kinds |= {"missing_null_handling"} if _fewer(candidate.null_steps, expected.null_steps) else set()
    return frozenset(kinds)


def attempt_kinds(problem: Problem, code: str) -> frozenset[str]:
    """The kinds an attempt's `code` shows at a miniworld-spark task (a task judged by `SparkTests`);
    empty for any other task."""
    if not isinstance(problem.tests, SparkTests):
        return frozenset()
    return bug_kinds(problem.program(code), problem.reference)


def _join_kinds(candidate: tuple[Join, ...], expected: tuple[Join, ...]) -> set[str]:
    """Joins of the same table paired in text order; another type or other keys name a kind."""
    kinds = set()
    for table in {j.table for j in expected}:
        mine = [j for j in candidate if j.table == table]
        for got, want in zip(mine, [j for j in expected if j.table == table], strict=False):
            if got.how is not None and want.how is not None and got.how != want.how:
                kinds.add("wrong_join_type")
            if got.keys != want.keys:
                kinds.add("wrong_join_key")
    return kinds


def _wrong_column(candidate: Counter[str], expected: Counter[str]) -> bool:
    """A column named that the reference never names, or one named more often while another is named less."""
    surplus, deficit = candidate - expected, expected - candidate
    return any(expected[c] == 0 for c in surplus) or bool(surplus and deficit)


def _fewer(candidate: Counter[str], expected: Counter[str]) -> bool:
    return any(candidate[k] < n for k, n in expected.items())


# ---- reading a program's calls -------------------------------------------------------------------


def read_calls(program: str) -> Calls | None:
    """The calls of `program`, or None when it is longer than MAX_PROGRAM_CHARS or does not parse."""
    tree = _parse(program)
    if tree is None:
        return None
    modules, imported = _function_names(tree)
    calls = [(node, _callee(node, modules, imported)) for node in ast.walk(tree) if isinstance(node, ast.Call)]
    calls.sort(key=lambda c: (c[0].end_lineno or 0, c[0].end_col_offset or 0))  # text order of a chain's steps
    named = [*(n for node, callee in calls for n in _columns_named(node, callee)), *_subscript_columns(tree)]
    columns = Counter(name.lower() for name in named if name != "*")  # `F.count('*')` names no column
    return Calls(
        joins=tuple(_join(node) for node, callee in calls if callee.name == "join" and not callee.function
                    and node.args),
        columns=columns,
        functions=Counter(name for node, callee in calls for name in _aggregates(node, callee)),
        null_steps=Counter(step for node, callee in calls for step in _null_steps(node, callee)),
    )


def _parse(program: str) -> ast.Module | None:
    if len(program) > MAX_PROGRAM_CHARS:
        return None
    try:
        return ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: a NUL byte
        return None


def _function_names(tree: ast.Module) -> tuple[frozenset[str], dict[str, str]]:
    """(names bound to pyspark.sql.functions, local name -> function for `from ...functions import`)."""
    modules, imported = set(FUNCTION_MODULES), dict[str, str]()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == "pyspark.sql.functions" and a.asname}
        elif isinstance(node, ast.ImportFrom) and node.module == "pyspark.sql":
            modules |= {a.asname or a.name for a in node.names if a.name == "functions"}
        elif isinstance(node, ast.ImportFrom) and node.module == "pyspark.sql.functions":
            imported |= {a.asname or a.name: a.name for a in node.names}
    if imported.pop("*", None):
        imported |= {name: name for name in STAR_NAMES if name not in imported}
    return frozenset(modules), imported


def _callee(call: ast.Call, modules: frozenset[str], imported: dict[str, str]) -> _Callee:
    f = call.func
    if isinstance(f, ast.Name) and (f.id in imported or f.id == "col"):  # `col` as the tasks' models write it
        return _Callee(_normal(imported.get(f.id, f.id)), True)
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in modules:
        return _Callee(_normal(f.attr), True)
    if isinstance(f, ast.Attribute) and not isinstance(f.value, ast.Constant):  # not `", ".join(...)`
        return _Callee(f.attr, False)
    return _Callee("", False)


def _normal(name: str) -> str:
    return ALIASES.get(name, name)


def _strings(nodes: Iterable[ast.expr | None]) -> Iterator[str]:
    """The string literals among `nodes`, and inside list or tuple literals among them."""
    for node in nodes:
        items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
        yield from (i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str))


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _dict_keys(call: ast.Call) -> list[ast.expr | None]:
    return list(call.args[0].keys) if call.args and isinstance(call.args[0], ast.Dict) else []


# ---- joins ---------------------------------------------------------------------------------------


def _join(call: ast.Call) -> Join:
    on = _keyword(call, "on") or (call.args[1] if len(call.args) > 1 else None)
    how = _keyword(call, "how") or (call.args[2] if len(call.args) > 2 else None)
    return Join(_root_name(call.args[0]), _join_keys(on), _join_type(how))


def _root_name(node: ast.expr) -> str:
    """The name an expression such as `customers.select('a').alias('c')` is built from."""
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return ""
    return node.id


def _join_keys(on: ast.expr | None) -> frozenset[str]:
    """Keys from a list, a string, or an expression (`a.k == b.k`, `F.col('k')`): the columns it names."""
    if on is None:
        return frozenset()
    called = {id(n.func) for n in ast.walk(on) if isinstance(n, ast.Call)}
    names = [n.value for n in ast.walk(on) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    names += [n.attr for n in ast.walk(on) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
              and id(n) not in called]
    return frozenset(name.lower() for name in names)


def _join_type(how: ast.expr | None) -> str | None:
    if how is None:
        return "inner"
    if not (isinstance(how, ast.Constant) and isinstance(how.value, str)):
        return None
    plain = how.value.lower().replace("_", "")
    return JOIN_TYPES.get(plain, plain)


# ---- columns, functions and null steps -----------------------------------------------------------


def _columns_named(call: ast.Call, callee: _Callee) -> Iterator[str]:
    """Column names `call` takes as literals, where the generator (and the API) puts them."""
    if callee.function and callee.name in COLUMN_FUNCTIONS:
        yield from _strings(call.args)
    elif not callee.function and (callee.name in COLUMN_METHODS or _grouped_aggregate(call, callee)):
        yield from _strings(call.args)
    elif not callee.function and callee.name in {"agg", "fillna", "fill"}:
        yield from _strings(_dict_keys(call))
    if not callee.function and callee.name in {"dropna", "fillna", "drop", "fill"}:
        yield from _strings([_keyword(call, "subset")])


def _subscript_columns(tree: ast.Module) -> Iterator[str]:
    """`orders['quantity']`: a string subscript of a name or a call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name | ast.Call | ast.Attribute):
            yield from _strings([node.slice])


def _grouped_aggregate(call: ast.Call, callee: _Callee) -> bool:
    """`df.groupBy('k').sum('c')`: an aggregate method of the grouped data a grouping call returns."""
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    return (callee.name in GROUPED_AGGREGATES and isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Attribute) and receiver.func.attr in GROUPINGS)


def _aggregates(call: ast.Call, callee: _Callee) -> Iterator[str]:
    if callee.function and callee.name in AGGREGATES | RANKINGS:
        yield callee.name
    elif _grouped_aggregate(call, callee):
        yield _normal(callee.name)
    elif not callee.function and callee.name == "agg":  # `.agg({'quantity': 'sum'})`
        values = call.args[0].values if call.args and isinstance(call.args[0], ast.Dict) else []
        yield from (_normal(v) for v in _strings(values))


def _null_steps(call: ast.Call, callee: _Callee) -> Iterator[str]:
    """The null handling steps `call` makes: one per subset or dict column where it names them."""
    step = _null_step(call, callee)
    if step is not None:
        yield from [step] * _weight(call)
    if not callee.function and callee.name in SORTS:
        yield from _default_orderings(call)


def _null_step(call: ast.Call, callee: _Callee) -> str | None:
    name = callee.name
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if not callee.function and name in NA_STEPS and isinstance(receiver, ast.Attribute) and receiver.attr == "na":
        return NA_STEPS[name]
    if name in ORDERINGS or name in NULL_STEPS:
        return ORDERINGS.get(name) or NULL_STEPS[name]
    lowered = name.lower()  # an invented name still attempts the step it mentions
    return "null_fill" if "fill" in lowered else "null_filter" if "null" in lowered else None


def _weight(call: ast.Call) -> int:
    subset = _keyword(call, "subset")
    if isinstance(subset, ast.List | ast.Tuple) and subset.elts:
        return len(subset.elts)
    return max(1, len(_dict_keys(call)))


def _default_orderings(call: ast.Call) -> Iterator[str]:
    """Keys a sort gives as bare names or `col(...)` take Spark's default: ascending, nulls first,
    or nulls last under `ascending=False`."""
    ascending = _keyword(call, "ascending")
    if ascending is not None and not isinstance(ascending, ast.Constant):
        return
    step = "nulls_last" if ascending is not None and ascending.value is False else "nulls_first"
    for node in call.args:
        items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
        yield from (step for i in items if _bare_column(i))


def _bare_column(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in {"col", "column"})
