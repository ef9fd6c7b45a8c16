"""Drawing a world's tasks: distinct ones, a bounded number per composition, with a bound on retries.

Shared by every world, so that "distinct", "at most N of one composition" and "fail loudly when the
catalogue cannot fill the world" mean the same thing everywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def draw_distinct(draw: Callable[[], T | None], key: Callable[[T], str], composition: Callable[[T], str],
                  size: int, per_composition: int, max_draws: int, world: str) -> list[T]:
    """`size` drawn items with distinct keys, at most `per_composition` of each composition.

    `draw` returns None for a rejected draw; after `max_draws` draws without filling the world, raise.
    """
    items: list[T] = []
    keys: set[str] = set()
    counts: Counter[str] = Counter()
    for _ in range(max_draws):
        if len(items) == size:
            return items
        item = draw()
        if item is None:
            continue
        item_key, item_composition = key(item), composition(item)
        if item_key in keys or counts[item_composition] >= per_composition:
            continue
        keys.add(item_key)
        counts[item_composition] += 1
        items.append(item)
    raise RuntimeError(f"{world}: only {len(items)} of {size} tasks after {max_draws} draws")
