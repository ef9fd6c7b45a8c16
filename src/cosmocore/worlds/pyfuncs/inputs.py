"""Test inputs for miniworld-py tasks: fixed edge cases and seeded random values, per argument type.

Edge cases come first in every task's tests: the empty value (empty list, string or dict; 0 for an
integer), negatives, duplicates and Unicode words ("ÉCOLE", "naïve", "Straße") where the type holds
text. Random values are small (lists of at most 8 items) so that test literals stay readable.
Limits: strings never contain quotes or backslashes, so every value's `repr` can sit in a docstring.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from cosmocore.worlds.pyfuncs.steps import DSI, INT, LI, LS, STR

WORDS = (
    "apple", "apricot", "avocado", "banana", "berry", "bread", "cherry", "cat", "cake", "dog", "date", "egg",
    "fig", "grape", "kiwi", "lemon", "mango", "melon", "moon", "nut", "olive", "pear", "peach", "plum", "sun",
    "star", "salt", "tea", "tree", "tomato", "sky", "ice", "Apple", "Banana", "Cat", "Moon", "Star", "Tea",
    "ÉCOLE", "naïve", "café", "été", "über", "Straße", "a", "ab", "r2d2", "42", " kiwi ", "mint",
)

EDGE_CASES: dict[str, tuple[Any, ...]] = {
    LI: ([], [0], [-3, -8, -1], [4, 4, 1, 4, -2]),
    LS: ([], [""], ["ÉCOLE", "naïve", "café"], ["tea", "tea", "Tea", "sun"]),
    STR: ("", "   ", "ÉCOLE naïve café", "Hello, World! 42", "noon"),
    INT: (0, 1, -7, 12, 97),
    DSI: ({}, {"a": 0}, {"x": -2, "y": -2, "z": 5}, {"été": 3, "ÉCOLE": 7, "sun": 7}),
}


def _int_list(rng: random.Random) -> list[int]:
    values = [rng.randint(-20, 20) for _ in range(rng.randint(1, 8))]
    if rng.random() < 0.35:  # duplicates matter to dedupe, mode, tally
        values.insert(rng.randrange(len(values) + 1), rng.choice(values))
    return values


def _word_list(rng: random.Random) -> list[str]:
    return [rng.choice(WORDS) for _ in range(rng.randint(1, 7))]


def _text(rng: random.Random) -> str:
    words = [rng.choice(WORDS).strip() + rng.choice(("", "", "", ",", "!", ".")) for _ in range(rng.randint(1, 6))]
    text = rng.choice((" ", " ", " ", "  ")).join(words)
    return rng.choice(("", "", "", " ")) + text + rng.choice(("", "", "", " "))


def _integer(rng: random.Random) -> int:
    band = rng.random()
    if band < 0.6:
        return rng.randint(-20, 60)
    return rng.randint(100, 9999) if band < 0.85 else rng.randint(-999, -100)


def _table(rng: random.Random) -> dict[str, int]:
    keys = rng.sample([w for w in WORDS if w.strip() == w], rng.randint(1, 6))
    return {key: rng.randint(-5, 20) for key in keys}


RANDOM: dict[str, Callable[[random.Random], Any]] = {
    LI: _int_list, LS: _word_list, STR: _text, INT: _integer, DSI: _table,
}


def draw_inputs(type_name: str, rng: random.Random, count: int) -> list[Any]:
    """`count` distinct inputs of `type_name`: its edge cases, then random values."""
    inputs = list(EDGE_CASES[type_name])
    seen = {repr(value) for value in inputs}
    for _ in range(50 * count):
        if len(inputs) >= count:
            break
        value = RANDOM[type_name](rng)
        if repr(value) not in seen:
            seen.add(repr(value))
            inputs.append(value)
    return inputs
