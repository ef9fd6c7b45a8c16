"""Rank-based eviction: when the buffer is full, the lowest-priority items leave first.

Protected items (the Dream Queue's members, unless `BufferConfig.protect_dream` is off: then nothing
is protected and eviction goes by priority alone) leave only when every live item is protected, and
then the lowest-priority of them go (the buffer must make room somehow; new items always enter).

Finding the k lowest of a million priorities is an O(capacity) scan, so `LowestFirst` keeps a pool of
candidates between scans, with the invariant: every evictable live item whose priority is below
`ceiling` is in the pool. A scan fills the pool with the `pool_size` lowest evictable items and sets
`ceiling` to the highest priority among them; afterwards `note` adds every item that is inserted or
updated to a priority below the ceiling. Pool entries can go stale (deleted, re-prioritised above the
ceiling, became protected) and are checked against the buffer's arrays when chosen, so the
choice is exact (ties at equal priority are broken arbitrarily) and the scan's cost is shared by
about `pool_size` evictions. A pool grown past 4 x `pool_size` by notes is dropped (the next eviction
scans again), which bounds its memory.
"""

from __future__ import annotations

import numpy as np


class LowestFirst:
    """Chooses eviction victims: lowest priority first, protected items last."""

    def __init__(self, capacity: int, pool_size: int) -> None:
        self.pool_size = pool_size
        self.pool = np.zeros(0, np.int64)  # candidate slots, distinct (entries may have gone stale)
        self.in_pool = np.zeros(capacity, bool)
        self.ceiling = -np.inf  # evictable items outside the pool have priority >= ceiling

    def note(self, slots: np.ndarray, priority: np.ndarray, evictable: np.ndarray) -> None:
        """Items in `slots` (distinct) now have `priority` and are / are not evictable (not protected)."""
        below = evictable & (priority <= self.ceiling)
        if below.any():
            new = slots[below]
            new = new[~self.in_pool[new]]
            self.replace_pool(np.concatenate([self.pool, new]))
            if len(self.pool) > 4 * self.pool_size:  # many items fell below the ceiling: scan again later
                self.reset()

    def reset(self) -> None:
        """Forget the pool (after a change that may make many items evictable at once)."""
        self.replace_pool(np.zeros(0, np.int64))
        self.ceiling = -np.inf

    def replace_pool(self, pool: np.ndarray) -> None:
        """Make `pool` (distinct slots) the candidate pool."""
        self.in_pool[self.pool] = False
        self.pool = pool
        self.in_pool[pool] = True

    def choose(self, n: int, priority: np.ndarray, alive: np.ndarray, protected: np.ndarray | None) -> np.ndarray:
        """n distinct live slots to delete (n <= live items); `protected` None: nothing is."""
        candidates = self._valid(priority, alive, protected)
        if len(candidates) < n:
            self._scan(n, priority, alive if protected is None else alive & ~protected)
            candidates = self._valid(priority, alive, protected)
        if len(candidates) < n:  # only protected items are left to go
            assert protected is not None
            rest = _lowest(np.flatnonzero(alive & protected), n - len(candidates), priority)
            self.reset()
            return np.concatenate([candidates, rest])
        order = np.argpartition(priority[candidates], n - 1) if n < len(candidates) else np.arange(n)
        self.replace_pool(candidates[order[n:]])
        return candidates[order[:n]]

    def _valid(self, priority: np.ndarray, alive: np.ndarray, protected: np.ndarray | None) -> np.ndarray:
        pool = self.pool
        ok = alive[pool] & (priority[pool] <= self.ceiling)
        return pool[ok if protected is None else ok & ~protected[pool]]

    def _scan(self, n: int, priority: np.ndarray, evictable: np.ndarray) -> None:
        self.replace_pool(_lowest(np.flatnonzero(evictable), max(n, self.pool_size), priority))
        self.ceiling = float(priority[self.pool].max()) if len(self.pool) else -np.inf


def _lowest(slots: np.ndarray, k: int, priority: np.ndarray) -> np.ndarray:
    """The (up to) k slots of `slots` with the lowest priority, in no particular order."""
    if k >= len(slots):
        return slots
    return slots[np.argpartition(priority[slots], k - 1)[:k]]
