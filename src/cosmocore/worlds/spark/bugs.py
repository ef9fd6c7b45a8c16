"""Bug injection for miniworld-spark programs: the PySpark slips a code model makes, one per category.

A reference is a parenthesised chain, one step per line (see `generate.reference`):

    result = (
        orders                                                   <- base table
        .join(customers, on=['customer_id'], how='left')         <- steps
        .filter(F.col('quantity') > 3)
        .select('order_id', 'name')                              <- output columns
    )

    category               the change (at one site, drawn at random among the sites that apply)
    faulty_join            another join type (`how='left'` -> `'inner'`), or a wrong key (one key of several
                           dropped, or the key replaced by another column)
    off_by_one             an integer compared with, or a `limit`, +-1
    flipped_comparison     `==` `!=` `<` `<=` `>` `>=` replaced by a wrong one; `isNull` <-> `isNotNull`
    wrong_aggregation      sum / min / max / avg / count / countDistinct swapped; row_number / rank / dense_rank swapped
    missing_null_handling  a `dropna`, `fillna` or `isNotNull` filter step dropped; `coalesce(col, default)` -> col;
                           nulls first <-> nulls last in an ordering
    wrong_column           a column read (`F.col('x')`, an aggregate's or a window's column) replaced by another
                           column the program names
    hallucinated_api       a DataFrame, Column, Window or functions name that does not exist, as a model invents
                           it: `.withColumnRenamed` -> `.renameColumn`, `F.countDistinct` -> `F.distinctCount`
    syntax_slip            the program no longer compiles: a bracket dropped, `==` -> `=`, a comma dropped
    wrong_return           `result` bound to an intermediate: the output `select` or the last step dropped

`MUTATORS[category](program, entry_point, rng)` returns a `Bug` or None (same contract as
`cosmocore.worlds.bugs`); `inject` gives at most one bug per category. Edits are textual, on the lines of
the chain, so everything else is kept. Guarantees: a mutant differs from the original and compiles,
except a syntax_slip, which never does. Limits: a mutant may be equivalent (a `dropna` on a column
without nulls): the caller judges every mutant and drops those that pass.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from cosmocore.errors import InputError
from cosmocore.worlds.bugs import Bug, Mutator

# (line index, start, end, replacement, description): replace line[start:end] with replacement
Site = tuple[int, int, int, str, str]
SiteFinder = Callable[[list[str]], list[Site]]

JOIN_TYPES = ("inner", "left", "right", "full", "left_anti", "left_semi")
COMPARATORS = ("==", "!=", "<", "<=", ">", ">=")
AGGREGATES = ("sum", "min", "max", "avg", "count", "countDistinct")
RANKINGS = ("row_number", "rank", "dense_rank")
INVENTED = {  # real name -> the name a model invents (none of them exists in pyspark 4)
    ".withColumnRenamed(": ".renameColumn(", ".dropDuplicates(": ".dropDuplicate(", ".orderBy(": ".sortBy(",
    ".groupBy(": ".group_by(", ".filter(": ".filterBy(", ".fillna(": ".fillNull(", ".dropna(": ".dropNulls(",
    ".withColumn(": ".addColumn(", ".join(": ".merge(", ".isNotNull()": ".notNull()", ".alias(": ".as_(",
    "F.countDistinct(": "F.distinctCount(", "F.row_number(": "F.rowNumber(", "F.dense_rank(": "F.denseRank(",
    "F.avg(": "F.average(", "F.sum(": "F.total(", ".rowsBetween(": ".rowRange(", "Window.partitionBy(":
    "Window.partition_by(",
}


def _step_lines(lines: list[str]) -> range:
    """Indices of the step lines: after `result = (` and the base table, before the output select."""
    return range(2, len(lines) - 2)


def _matches(lines: list[str], pattern: str, rows: Sequence[int]) -> list[tuple[int, re.Match[str]]]:
    return [(i, m) for i in rows for m in re.finditer(pattern, lines[i])]


def _other(value: str, choices: Sequence[str], rng: random.Random) -> str:
    return rng.choice([c for c in choices if c != value])


def _drop_line(lines: list[str], i: int, why: str) -> Site:
    return (i, 0, len(lines[i]), "", f"{why} (line {i + 1} dropped)")


# ---- the categories ------------------------------------------------------------------------------


def _join_sites(lines: list[str], rng: random.Random) -> list[Site]:
    sites = [(i, m.start(1), m.end(1), new, f"join type {m.group(1)!r} -> {new!r} in line {i + 1}")
             for i, m in _matches(lines, r"how='(\w+)'", _step_lines(lines))
             for new in [_other(m.group(1), JOIN_TYPES, rng)]]
    for i, m in _matches(lines, r"on=\[([^\]]*)\]", _step_lines(lines)):
        keys = [k.strip() for k in m.group(1).split(",")]
        if len(keys) > 1:
            dropped = rng.choice(keys)
            kept = ", ".join(k for k in keys if k != dropped)
            sites.append((i, m.start(1), m.end(1), kept, f"join key dropped: [{kept}] in line {i + 1}"))
        elif others := [c for c in _columns(lines) if repr(c) != keys[0]]:
            new = repr(rng.choice(others))
            sites.append((i, m.start(1), m.end(1), new, f"join key {keys[0]} -> {new} in line {i + 1}"))
    return sites


def _off_by_one_sites(lines: list[str], rng: random.Random) -> list[Site]:
    pattern = r"(?:[<>]=?|[!=]=) (-?\d+)(?![.\d])\)|\.limit\((\d+)\)"
    sites = []
    for i, m in _matches(lines, pattern, _step_lines(lines)):
        group = 1 if m.group(1) is not None else 2
        value = int(m.group(group))
        new = str(value + rng.choice((-1, 1)))
        sites.append((i, m.start(group), m.end(group), new, f"{value} -> {new} in line {i + 1}"))
    return sites


def _flip_sites(lines: list[str], rng: random.Random) -> list[Site]:
    sites = [(i, m.start(1), m.end(1), new, f"`{m.group(1)}` -> `{new}` in line {i + 1}")
             for i, m in _matches(lines, r"\) (==|!=|<=|>=|<|>) ", _step_lines(lines))
             for new in [_other(m.group(1), COMPARATORS, rng)]]
    for i, m in _matches(lines, r"\.(isNull|isNotNull)\(\)", _step_lines(lines)):
        new = "isNotNull" if m.group(1) == "isNull" else "isNull"
        sites.append((i, m.start(1), m.end(1), new, f"{m.group(1)} -> {new} in line {i + 1}"))
    return sites


def _aggregation_sites(lines: list[str], rng: random.Random) -> list[Site]:
    pattern = rf"F\.({'|'.join(AGGREGATES)}|{'|'.join(RANKINGS)})\("
    sites = []
    for i, m in _matches(lines, pattern, _step_lines(lines)):
        family = RANKINGS if m.group(1) in RANKINGS else AGGREGATES
        new = _other(m.group(1), family, rng)
        sites.append((i, m.start(1), m.end(1), new, f"F.{m.group(1)} -> F.{new} in line {i + 1}"))
    return sites


def _null_sites(lines: list[str], rng: random.Random) -> list[Site]:
    rows = _step_lines(lines)
    guard = r"\s*\.(dropna|fillna)\(|\s*\.filter\(.*\.isNotNull\(\)\)"
    sites = [_drop_line(lines, i, "null handling step dropped") for i in rows if re.match(guard, lines[i])]
    sites += [(i, m.start(), m.end(), m.group(1), f"coalesce dropped in line {i + 1}")
              for i, m in _matches(lines, r"F\.coalesce\((F\.col\('\w+'\)), F\.lit\([^()]*\)\)", rows)]
    sites += [(i, m.start(1), m.end(1), new, f"nulls {m.group(1)} -> nulls {new} in line {i + 1}")
              for i, m in _matches(lines, r"_nulls_(first|last)\(\)", rows)
              for new in ["last" if m.group(1) == "first" else "first"]]
    return sites


def _columns(lines: list[str]) -> list[str]:
    """The column names the program reads or outputs, in first-seen order."""
    names = re.findall(r"F\.col\('(\w+)'\)", "".join(lines)) + re.findall(r"'(\w+)'", lines[-2])
    return list(dict.fromkeys(names))


def _column_sites(lines: list[str], rng: random.Random) -> list[Site]:
    columns = _columns(lines)
    pattern = rf"(?:F\.(?:col|{'|'.join(AGGREGATES)})|partitionBy|groupBy)\('(\w+)'"
    return [(i, m.start(1), m.end(1), new, f"column {m.group(1)!r} -> {new!r} in line {i + 1}")
            for i, m in _matches(lines, pattern, _step_lines(lines))
            if len(columns) > 1 for new in [_other(m.group(1), columns, rng)]]


def _api_sites(lines: list[str], rng: random.Random) -> list[Site]:
    return [(i, m.start(), m.end(), new, f"{real.strip('(.')} -> {new.strip('(.')} (does not exist) in line {i + 1}")
            for real, new in INVENTED.items()
            for i, m in _matches(lines, re.escape(real), _step_lines(lines))]


def _syntax_sites(lines: list[str], rng: random.Random) -> list[Site]:
    rows = _step_lines(lines)
    sites = [(i, m.start(), m.end(), "", f"closing bracket dropped in line {i + 1}")
             for i, m in _matches(lines, r"\)(?=\n?$)", rows)]
    sites += [(i, m.start(), m.end(), "=", f"`==` -> `=` in line {i + 1}") for i, m in _matches(lines, r"==", rows)]
    sites += [(i, m.start(), m.end(), " ", f"comma dropped in line {i + 1}") for i, m in _matches(lines, r", ", rows)]
    return sites


def _return_sites(lines: list[str], rng: random.Random) -> list[Site]:
    sites = [_drop_line(lines, len(lines) - 2, "output select dropped")]
    if len(_step_lines(lines)) > 1:
        sites.append(_drop_line(lines, len(lines) - 3, "last step dropped"))
    return sites


# ---- mutators ------------------------------------------------------------------------------------


def _apply(lines: list[str], site: Site) -> str:
    i, start, end, new, _ = site
    return "".join(lines[:i]) + lines[i][:start] + new + lines[i][end:] + "".join(lines[i + 1:])


def _compiles(program: str) -> bool:
    try:
        compile(program, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def site_mutator(category: str, finder: Callable[[list[str], random.Random], list[Site]],
                 must_compile: bool = True) -> Mutator:
    """A mutator trying `finder`'s sites in a random order until one gives a valid mutant."""

    def mutate(program: str, entry_point: str, rng: random.Random) -> Bug | None:
        lines = program.splitlines(keepends=True)
        if len(lines) < 4:
            return None
        sites = finder(lines, rng)
        rng.shuffle(sites)
        for site in sites:
            mutant = _apply(lines, site)
            if mutant != program and _compiles(mutant) == must_compile:
                return Bug(category, mutant, site[4])
        return None

    return mutate


MUTATORS: dict[str, Mutator] = {
    "faulty_join": site_mutator("faulty_join", _join_sites),
    "off_by_one": site_mutator("off_by_one", _off_by_one_sites),
    "flipped_comparison": site_mutator("flipped_comparison", _flip_sites),
    "wrong_aggregation": site_mutator("wrong_aggregation", _aggregation_sites),
    "missing_null_handling": site_mutator("missing_null_handling", _null_sites),
    "wrong_column": site_mutator("wrong_column", _column_sites),
    "hallucinated_api": site_mutator("hallucinated_api", _api_sites),
    "syntax_slip": site_mutator("syntax_slip", _syntax_sites, must_compile=False),
    "wrong_return": site_mutator("wrong_return", _return_sites),
}
CATEGORIES: tuple[str, ...] = tuple(MUTATORS)


def inject(program: str, entry_point: str, rng: random.Random, categories: Sequence[str] | None = None) -> list[Bug]:
    """At most one bug per category (all by default) that applies to the program, in the order asked.
    Draws one number from rng; each category then gets its own generator seeded from it."""
    chosen = list(CATEGORIES) if categories is None else list(dict.fromkeys(categories))
    unknown = [name for name in chosen if name not in MUTATORS]
    if unknown:
        raise InputError(f"unknown spark bug category {unknown[0]!r}; choose from: {', '.join(CATEGORIES)}")
    base = rng.getrandbits(64)
    bugs = [MUTATORS[category](program, entry_point, random.Random(f"{base}:{category}")) for category in chosen]
    return [bug for bug in bugs if bug is not None]
