"""Stable ids: which slots are live, each slot's generation, and the free list.

An item's id is `generation << 32 | slot` (a non-negative int64). A slot's generation goes up by one
each time its item is deleted (evicted, pruned), so an id kept by the learner across a deletion no
longer resolves: a priority update for an overwritten or deleted item is recognised and ignored.
Generations are kept modulo 2**31 (an id could only alias after 2**31 reuses of one slot).

Free slots form a stack; a fresh table hands out slots 0, 1, 2, ... in order, and a released slot is
the next one handed out. The live slots are also kept densely in `members` (in no particular order,
with each slot's position), so a uniform draw over live items is one random index per row; a
release fills the holes it leaves with members from the end (vectorised swap-remove).
"""

from __future__ import annotations

import numpy as np

SLOT_BITS = 32
SLOT_MASK = (1 << SLOT_BITS) - 1
GENERATION_MASK = (1 << 31) - 1


def encode_ids(slots: np.ndarray, generations: np.ndarray) -> np.ndarray:
    """(generation mod 2**31) << 32 | slot, int64."""
    return ((np.asarray(generations, np.int64) & GENERATION_MASK) << SLOT_BITS) | np.asarray(slots, np.int64)


def decode_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(slots, generations) of ids made by `encode_ids`."""
    ids = np.asarray(ids, np.int64)
    return ids & SLOT_MASK, ids >> SLOT_BITS


class SlotTable:
    """Live flags, generations and free slots of a buffer of `capacity` slots."""

    def __init__(self, capacity: int) -> None:
        if not 1 <= capacity <= SLOT_MASK:
            raise ValueError(f"capacity must be in [1, 2**32), got {capacity}")
        self.capacity = capacity
        self.alive = np.zeros(capacity, bool)
        self.generation = np.zeros(capacity, np.int64)
        self.free = np.arange(capacity - 1, -1, -1, dtype=np.int64)  # a stack: the next slot is free[top - 1]
        self.top = capacity
        self.members = np.zeros(capacity, np.int64)  # members[:len(self)] are the live slots
        self.position = np.zeros(capacity, np.int64)  # position[slot] in members, for live slots

    def __len__(self) -> int:
        """Live items."""
        return self.capacity - self.top

    def allocate(self, n: int) -> np.ndarray:
        """n free slots, now live (the caller makes room first: n <= free slots)."""
        if n > self.top:
            raise ValueError(f"{n} slots asked for, {self.top} free")
        live = len(self)
        slots = self.free[self.top - n:self.top][::-1].copy()
        self.top -= n
        self.alive[slots] = True
        self.members[live:live + n] = slots
        self.position[slots] = np.arange(live, live + n)
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Delete the items in `slots` (unique, live): their ids stop resolving, the slots become free."""
        self.alive[slots] = False
        self.generation[slots] += 1
        live = len(self) - len(slots)  # members after the release
        holes = self.position[slots]
        holes = holes[holes < live]
        movers = self.members[live:live + len(slots)]
        movers = movers[self.alive[movers]]  # members past the new end that stay live: as many as holes
        self.members[holes] = movers
        self.position[movers] = holes
        self.free[self.top:self.top + len(slots)] = slots[::-1]
        self.top += len(slots)

    def uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n live slots drawn uniformly with replacement (needs at least one live slot)."""
        return self.members[rng.integers(0, len(self), n)]

    def ids(self, slots: np.ndarray) -> np.ndarray:
        return encode_ids(slots, self.generation[slots])

    def resolve(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(slots, current): the slot of each id and whether the id still names the item there."""
        slots, generations = decode_ids(ids)  # a negative id decodes to a negative generation: never current
        in_range = slots < self.capacity
        safe = slots if in_range.all() else np.where(in_range, slots, 0)
        current = in_range & self.alive[safe] & ((self.generation[safe] & GENERATION_MASK) == generations)
        return safe, current
