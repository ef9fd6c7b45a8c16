"""Drawing a miniworld-spark pipeline (a base table, 1 to 3 steps, an output projection) and rejecting weak ones.

A drawn pipeline is kept only if it makes a real task on the seed's tables:
- every step changes the frame it receives (no filter that keeps everything, no fillna with no nulls);
- no step is redundant: dropping any one (where the rest still applies) changes the final output;
- the output has at least 2 rows.
The expected table comes from the steps' `apply` (the pure-Python implementations), never from code.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from cosmocore.worlds.spark import ops, ops_summary
from cosmocore.worlds.spark import relational as rel
from cosmocore.tables import compare_tables
from cosmocore.worlds.spark.ops import Draw, Frame, Step
from cosmocore.worlds.spark.tables import KEYS, Table

BASES = {"orders": 0.4, "events": 0.25, "customers": 0.2, "products": 0.15}  # share of pipelines starting there
LENGTH_WEIGHTS = {1: 0.25, 2: 0.4, 3: 0.35}
DRAWS: dict[Draw, float] = {  # operation -> weight
    ops.draw_join: 3.0, ops.draw_filter_cmp: 1.5, ops.draw_filter_str: 1.5, ops.draw_filter_null: 1.0,
    ops.draw_dropna: 0.7, ops.draw_fillna: 1.0, ops.draw_coalesce: 0.7, ops.draw_dedupe_key: 1.0,
    ops.draw_dedupe_subset: 0.7, ops.draw_rename: 0.6, ops.draw_amount: 0.8, ops_summary.draw_aggregate: 3.0,
    ops_summary.draw_window: 2.0, ops_summary.draw_sort: 1.5,
}
MAX_OUTPUT_COLUMNS = 5
MIN_ROWS = 2


@dataclass(frozen=True)
class Pipeline:
    """A drawn task: where it starts, its steps, the output columns and the expected table."""

    base: str
    steps: tuple[Step, ...]
    output: tuple[str, ...]
    expected: Table
    sources: tuple[str, ...]  # the input tables the pipeline reads

    @property
    def ordered(self) -> bool:
        return bool(self.steps) and self.steps[-1].ordered

    @property
    def composition(self) -> str:
        return ">".join((self.base, *(step.op for step in self.steps)))


def start(base: str, tables: dict[str, Table]) -> Frame:
    return Frame(tables[base], KEYS[base], (base,))


def draw_steps(frame: Frame, tables: dict[str, Table], rng: random.Random) -> tuple[Step, ...] | None:
    """A random walk of 1-3 steps, each changing the frame; a sort only as the last step."""
    length = rng.choices(list(LENGTH_WEIGHTS), weights=list(LENGTH_WEIGHTS.values()))[0]
    steps: list[Step] = []
    for _ in range(10 * length):
        if len(steps) == length:
            return tuple(steps)
        draw = rng.choices(list(DRAWS), weights=list(DRAWS.values()))[0]
        step = draw(frame, tables, rng)
        if step is None or (step.ordered and len(steps) < length - 1):
            continue
        after = step.apply(frame)
        if after.table == frame.table and not step.ordered:
            continue
        steps.append(step)
        frame = after
    return None


def choose_output(frame: Frame, rng: random.Random) -> tuple[str, ...]:
    """All columns of a narrow frame; else the key and new columns plus others, up to MAX_OUTPUT_COLUMNS."""
    names = frame.table.names
    if len(names) <= MAX_OUTPUT_COLUMNS:
        return names
    must = [c for c in names if c in frame.key or c in frame.new]
    others = [c for c in names if c not in must]
    chosen = set(must) | set(rng.sample(others, max(0, MAX_OUTPUT_COLUMNS - len(must))))
    return tuple(c for c in names if c in chosen)


def run(base: str, steps: Sequence[Step], output: Sequence[str], tables: dict[str, Table]) -> Table:
    """The expected table: the steps' implementations, then the projection."""
    frame = start(base, tables)
    for step in steps:
        frame = step.apply(frame)
    return rel.project(frame.table, output)


def has_redundant_step(pipeline: Pipeline, tables: dict[str, Table]) -> bool:
    for i in range(len(pipeline.steps)):
        rest = pipeline.steps[:i] + pipeline.steps[i + 1:]
        try:
            other = run(pipeline.base, rest, pipeline.output, tables)
        except (KeyError, ValueError, IndexError):  # a later step or the output needs what step i made
            continue
        if compare_tables(other.plain(), pipeline.expected.plain(), ordered=pipeline.ordered) is None:
            return True
    return False


def draw_pipeline(tables: dict[str, Table], rng: random.Random) -> Pipeline | None:
    base = rng.choices(list(BASES), weights=list(BASES.values()))[0]
    frame = start(base, tables)
    steps = draw_steps(frame, tables, rng)
    if steps is None:
        return None
    for step in steps:
        frame = step.apply(frame)
    output = choose_output(frame, rng)
    pipeline = Pipeline(base, steps, output, rel.project(frame.table, output), frame.sources)
    if len(pipeline.expected.rows) < MIN_ROWS or has_redundant_step(pipeline, tables):
        return None
    return pipeline
