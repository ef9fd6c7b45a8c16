"""The registry of miniworld-py steps: every primitive by name, and which steps may follow a value type.

The primitives themselves (implementation and code template side by side) live in `prims_numbers`,
`prims_text` and `prims_dicts`; this module only gathers them. `INPUT_TYPES` are the types a task's
argument may have (groupings and tallies appear only as intermediate or final values).
"""

from __future__ import annotations

from cosmocore.worlds.pyfuncs import prims_dicts, prims_numbers, prims_text
from cosmocore.worlds.pyfuncs.steps import DSI, INT, LI, LS, STR, Primitive

PRIMITIVES: dict[str, Primitive] = {
    p.name: p for p in prims_numbers.PRIMITIVES + prims_text.PRIMITIVES + prims_dicts.PRIMITIVES
}

INPUT_TYPES: tuple[str, ...] = (LI, LS, STR, INT, DSI)


def taking(type_name: str) -> tuple[Primitive, ...]:
    """The primitives whose input is a `type_name` value, in registry order."""
    return tuple(p for p in PRIMITIVES.values() if p.takes == type_name)


def starters() -> tuple[Primitive, ...]:
    """The primitives a task may begin with: those taking one of `INPUT_TYPES`."""
    return tuple(p for p in PRIMITIVES.values() if p.takes in INPUT_TYPES)
