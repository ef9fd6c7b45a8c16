"""PySpark bug injection on the miniworld-spark references: every category applies where it should, mutants
compile (syntax slips never do), the draw is deterministic, and invented names really do not exist."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from cosmocore.errors import InputError
from cosmocore.types import Problem
from cosmocore.worlds.spark import generate_world
from cosmocore.worlds.spark.bugs import CATEGORIES, INVENTED, MUTATORS, inject


@pytest.fixture(scope="module")
def world() -> list[Problem]:
    return list(generate_world(0).values())


def _compiles(program: str) -> bool:
    try:
        compile(program, "<m>", "exec")
    except SyntaxError:
        return False
    return True


def test_every_category_applies_to_the_references_it_should(world: list[Problem]) -> None:
    applies = Counter(bug.category for i, p in enumerate(world)
                      for bug in inject(p.reference, "result", random.Random(i)))
    n = len(world)
    joins = sum(".join(" in p.reference for p in world)
    assert applies["faulty_join"] == joins > 0
    for category in ("hallucinated_api", "syntax_slip", "wrong_return"):
        assert applies[category] == n, category
    for category in ("flipped_comparison", "wrong_aggregation", "missing_null_handling", "wrong_column"):
        assert applies[category] > n // 10, category
    assert applies["off_by_one"] > 0


def test_mutants_differ_and_compile_except_syntax_slips(world: list[Problem]) -> None:
    for i, problem in enumerate(world[:120]):
        for bug in inject(problem.reference, "result", random.Random(i)):
            assert bug.program != problem.reference
            assert _compiles(bug.program) == (bug.category != "syntax_slip"), (bug.category, bug.program)
            assert bug.description


def test_injection_is_deterministic_for_the_rng_and_one_category_does_not_shift_another(world: list[Problem]) -> None:
    program = next(p.reference for p in world if ".join(" in p.reference)
    first = inject(program, "result", random.Random(7))
    assert first == inject(program, "result", random.Random(7))
    alone = inject(program, "result", random.Random(7), ["faulty_join"])
    assert alone == [b for b in first if b.category == "faulty_join"]


def test_a_faulty_join_changes_the_join_type_or_its_key() -> None:
    program = ("result = (\n    orders\n    .join(customers, on=['customer_id'], how='left')\n"
               "    .filter(F.col('quantity') > 3)\n    .select('order_id', 'name')\n)\n")
    seen = {MUTATORS["faulty_join"](program, "result", random.Random(s)).description.split()[1]  # type: ignore[union-attr]
            for s in range(40)}
    assert seen == {"type", "key"}


def test_invented_names_exist_nowhere_in_pyspark() -> None:
    pytest.importorskip("pyspark")
    from pyspark.sql import Column, DataFrame, functions
    from pyspark.sql.window import Window, WindowSpec

    owners = {".": (DataFrame, Column, WindowSpec, Window), "F.": (functions,), "Window.": (Window,)}
    for invented in INVENTED.values():
        prefix = "Window." if invented.startswith("Window.") else "F." if invented.startswith("F.") else "."
        name = invented.removeprefix(prefix).split("(")[0]
        assert not any(hasattr(owner, name) for owner in owners[prefix]), invented


def test_unknown_categories_are_refused_with_the_choices() -> None:
    with pytest.raises(InputError, match="faulty_join"):
        inject("result = x\n", "result", random.Random(0), ["no_such_bug"])
    assert set(CATEGORIES) == set(MUTATORS)
