"""The miniworld-spark world, top to bottom: draw the seed's tables, draw pipelines, write each as a `Problem`.

    seed --> tables (tables) --> draw_pipeline (compose: steps + expected table, weak ones rejected) x WORLD_SIZE
         --> prompt (schemas, steps in words, output columns and order) and reference (PySpark) --> Problem

The model writes a whole program binding `result` (completion_prefix ""); the input DataFrames are
bound by table name, with `spark`, `F` (pyspark.sql.functions) and `Window`. Labels (`Problem.meta`):
`split` is "test" for compositions (base table and operation names) whose SHA-256 is 0 mod 5, so a
composition never appears in both splits; `difficulty` is the number of steps; `composition` is e.g.
"orders>join_inner>agg_sum". A seed fixes every problem. Judging needs the Spark executor (to come).
"""

from __future__ import annotations

import functools
import random

from cosmocore import codec
from cosmocore.types import Problem, SparkTests
from cosmocore.worlds.spark.compose import Pipeline, draw_pipeline
from cosmocore.worlds.spark.tables import Table, draw_tables
from cosmocore.worlds.sampling import draw_distinct
from cosmocore.worlds.splits import split_of

WORLD = "miniworld-spark"
WORLD_SIZE = 400  # problems per seed
MAX_PER_COMPOSITION = 4
MAX_DRAWS = 200 * WORLD_SIZE
ATOL = 1e-6

OPENINGS = ("Write PySpark DataFrame code that binds the final DataFrame to a variable named `result`.",
            "Build a PySpark pipeline and assign the resulting DataFrame to `result`.",
            "Using the PySpark DataFrame API, compute a DataFrame and bind it to `result`.")
SCOPE = ("These DataFrames are already defined (with `spark`, `F` = pyspark.sql.functions and `Window` from "
         "pyspark.sql.window in scope):")
NULL_RULE = "Any column may hold nulls; comparisons follow SQL semantics (a comparison with null is not true)."
STEP_HEADERS = ("Starting from `{base}`:", "Take `{base}` and:", "Begin with the `{base}` DataFrame, then:")


def reference(pipeline: Pipeline) -> str:
    lines = ["result = (", f"    {pipeline.base}"]
    lines += [f"    {step.code}" for step in pipeline.steps]
    lines += [f"    .select({', '.join(repr(c) for c in pipeline.output)})", ")"]
    return "\n".join(lines) + "\n"


def _schema_line(name: str, table: Table) -> str:
    return f"- {name}({', '.join(f'{c} {t}' for c, t in table.columns)})"


def prompt(pipeline: Pipeline, tables: dict[str, Table], rng: random.Random) -> str:
    parts = [rng.choice(OPENINGS), "", SCOPE]
    parts += [_schema_line(name, tables[name]) for name in sorted(set(pipeline.sources), key=list(tables).index)]
    parts += [NULL_RULE, "", rng.choice(STEP_HEADERS).format(base=pipeline.base)]
    parts += [f"{i}. {rng.choice(step.says)}." for i, step in enumerate(pipeline.steps, start=1)]
    columns = ", ".join(f"`{c}` {t}" for c, t in pipeline.expected.columns)
    parts += ["", f"`result` must have exactly these columns, in this order: {columns}."]
    parts.append("The rows must come in exactly the order described." if pipeline.ordered
                 else "Row order does not matter.")
    if any(t == "double" for _, t in pipeline.expected.columns):
        parts.append(f"Doubles are compared within an absolute tolerance of {ATOL:g}.")
    return "\n".join(parts) + "\n"


def draw_pipelines(tables: dict[str, Table], rng: random.Random, size: int) -> list[Pipeline]:
    """`size` pipelines with distinct reference programs, at most MAX_PER_COMPOSITION each."""
    return draw_distinct(lambda: draw_pipeline(tables, rng), reference, lambda p: p.composition,
                         size, MAX_PER_COMPOSITION, MAX_DRAWS, WORLD)


def build_problem(number: int, pipeline: Pipeline, tables: dict[str, Table], rng: random.Random) -> Problem:
    inputs = {name: tables[name].plain() for name in tables if name in pipeline.sources}
    tests = SparkTests(tables=codec.encode(inputs), expected=codec.encode(pipeline.expected.plain()),
                       ordered=pipeline.ordered, atol=ATOL)
    return Problem(
        task_id=f"{WORLD}/{number}",
        prompt=prompt(pipeline, tables, rng),
        entry_point="result",
        completion_prefix="",
        reference=reference(pipeline),
        tests=tests,
        benchmark=WORLD,
        meta=(("split", split_of(pipeline.composition)), ("difficulty", str(len(pipeline.steps))),
              ("composition", pipeline.composition)),
    )


@functools.lru_cache(maxsize=4)
def _world(seed: int) -> tuple[Problem, ...]:
    tables = draw_tables(seed)
    rng = random.Random(f"{WORLD}:{seed}")
    pipelines = draw_pipelines(tables, rng, WORLD_SIZE)
    return tuple(build_problem(number, p, tables, rng) for number, p in enumerate(pipelines))


def generate_world(seed: int = 0) -> dict[str, Problem]:
    """Every problem of the world for `seed`, keyed by task_id ("miniworld-spark/0" ...), both splits."""
    return {problem.task_id: problem for problem in _world(seed)}
