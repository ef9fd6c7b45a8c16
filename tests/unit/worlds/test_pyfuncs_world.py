"""The miniworld-py world as a whole: determinism, size, distinctness, splits, difficulty, problem shape."""

from __future__ import annotations

import builtins
import keyword
from collections import Counter

import pytest

from cosmocore.types import CheckFunctionTests, Problem
from cosmocore.worlds.pyfuncs import generate
from cosmocore.worlds.pyfuncs.generate import generate_world, split_of


@pytest.fixture(scope="module")
def world() -> list[Problem]:
    return list(generate_world(0).values())


def _label(problem: Problem, key: str) -> str:
    return dict(problem.meta)[key]


def test_the_same_seed_gives_identical_problems(world: list[Problem]) -> None:
    assert list(generate._world.__wrapped__(0)) == world  # type: ignore[attr-defined]  # bypass the cache


def test_different_seeds_give_different_problems(world: list[Problem]) -> None:
    other = {p.reference for p in generate_world(1).values()}
    shared = sum(p.reference in other for p in world)
    assert shared < len(world) // 10


def test_at_least_2000_distinct_tasks(world: list[Problem]) -> None:
    bodies = {(_label(p, "composition"), p.reference[len(p.prompt):]) for p in world}  # params are literals in the body
    assert len(bodies) == len(world) >= 2000
    assert len({p.task_id for p in world}) == len(world)


def test_entry_points_are_unique_valid_names_that_shadow_nothing(world: list[Problem]) -> None:
    names = [p.entry_point for p in world]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.isidentifier() and not keyword.iskeyword(name) and name not in dir(builtins)


def test_no_composition_is_in_both_splits_and_test_holds_15_to_30_percent(world: list[Problem]) -> None:
    by_split: dict[str, set[str]] = {"train": set(), "test": set()}
    for p in world:
        by_split[_label(p, "split")].add(_label(p, "composition"))
    assert by_split["train"] and by_split["test"]
    assert not by_split["train"] & by_split["test"]
    share = sum(_label(p, "split") == "test" for p in world) / len(world)
    assert 0.15 <= share <= 0.30


def test_split_depends_on_the_composition_only() -> None:
    assert all(_label(p, "split") == split_of(_label(p, "composition")) for p in generate_world(1).values())


def test_difficulty_is_the_number_of_steps_and_all_levels_occur(world: list[Problem]) -> None:
    for p in world:
        assert _label(p, "difficulty") == str(_label(p, "composition").count(">") + 1)
    levels = Counter(_label(p, "difficulty") for p in world)
    assert set(levels) == {"1", "2", "3"} and min(levels.values()) >= 100


def test_problems_have_the_humaneval_shape(world: list[Problem]) -> None:
    for p in world:
        assert p.task_id.startswith("miniworld-py/") and p.benchmark == "miniworld-py"
        assert p.prompt.startswith(f"def {p.entry_point}(") and p.prompt.endswith('    """\n')
        assert p.completion_prefix == p.prompt and p.reference.startswith(p.prompt)
        assert p.tests == CheckFunctionTests(p.tests.test_code, p.entry_point, setup_code=p.reference)
        assert [k for k, _ in p.meta] == ["split", "difficulty", "composition"]


def test_every_task_tests_8_to_12_inputs_with_edge_cases(world: list[Problem]) -> None:
    empty = ("candidate([])", "candidate('')", "candidate({})", "candidate(0)")
    for p in world:
        asserts = [line for line in p.tests.test_code.splitlines() if line.strip().startswith("assert ")]
        assert 8 <= len(asserts) <= 12
        assert any(e in p.tests.test_code for e in empty)
        if p.prompt.split("(", 1)[1].startswith(("text", "words", "scores")):
            assert "ÉCOLE" in p.tests.test_code  # Unicode where the input holds text
    assert sum("candidate([-3, -8, -1])" in p.tests.test_code for p in world) > len(world) // 5  # negatives


def test_every_primitive_of_the_test_split_is_also_trained_on(world: list[Problem]) -> None:
    def primitives(split: str) -> set[str]:
        return {name for p in world if _label(p, "split") == split for name in _label(p, "composition").split(">")}

    assert primitives("test") <= primitives("train")  # test is about new compositions, not unseen steps
