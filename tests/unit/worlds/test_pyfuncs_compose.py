"""miniworld-py composition checks on hand-picked compositions: redundant steps, constant answers,
runaway values, and entry-point names that would shadow a builtin."""

from __future__ import annotations

import random

from cosmocore.worlds.pyfuncs.compose import Case, Draft, has_redundant_step, is_degenerate
from cosmocore.worlds.pyfuncs.phrasing import entry_point
from cosmocore.worlds.pyfuncs.primitives import PRIMITIVES
from cosmocore.worlds.pyfuncs.source import body
from cosmocore.worlds.pyfuncs.steps import Step, TooLarge, run_steps

INPUTS = ([], [0], [-3, -8, -1], [4, 4, 1, 4, -2], [5, 6, 7, 8])


def _draft(*keys: str | tuple[str, int]) -> Draft:
    steps = tuple(Step(PRIMITIVES[k]) if isinstance(k, str) else Step(PRIMITIVES[k[0]], (k[1],)) for k in keys)
    return Draft(steps, tuple(Case(v, run_steps(steps, v)) for v in INPUTS))


def test_a_step_that_changes_nothing_is_redundant() -> None:
    assert has_redundant_step(_draft("sort_asc", "sum"))  # sorting does not change a sum
    assert has_redundant_step(_draft("square", "absolute"))
    assert not has_redundant_step(_draft("filter_even", "square", "sum"))


def test_a_composition_with_a_constant_answer_is_degenerate() -> None:
    assert is_degenerate(_draft("filter_positive", "filter_negative"))
    assert not is_degenerate(_draft("filter_even", "square", "sum"))


def test_steps_refuse_values_beyond_their_limit() -> None:
    steps = (Step(PRIMITIVES["product"]), Step(PRIMITIVES["divisors"]))
    assert run_steps(steps, [2, 3]) == [1, 2, 3, 6]
    try:
        run_steps(steps, [100, 200, 300])
    except TooLarge:
        return
    raise AssertionError("divisors of 6000000 were computed")


def test_entry_points_never_shadow_builtins_or_taken_names() -> None:
    rng = random.Random(0)
    names = {entry_point((Step(PRIMITIVES["sum"]),), rng, {"sum_2"}) for _ in range(50)}
    assert "sum" not in names and "sum_2" not in names
    assert entry_point((Step(PRIMITIVES["sum"]),), random.Random(1), {"get_sum", "compute_sum", "find_sum",
                                                                       "make_sum"}) != "sum"


def test_body_chains_variables_and_returns_the_last_step() -> None:
    steps = (Step(PRIMITIVES["filter_gt"], (-2,)), Step(PRIMITIVES["product"]))
    assert body(steps, "nums") == (
        "    above = [x for x in nums if x > -2]\n"
        "    product = 1\n"
        "    for x in above:\n"
        "        product *= x\n"
        "    return product\n"
    )
