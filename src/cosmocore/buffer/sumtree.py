"""Sum tree: batch (vectorised numpy) update and batch prefix-sum search over non-negative leaves.

Each leaf is one buffer slot's weight. Leaves come in groups of `group` (8 float64 = one cache
line); above the group sums the tree is binary for `height` levels; above that, the roots of the
blocks are kept in one flat array whose prefix sums are taken on demand (cached until the next
update). With at most `flat_top` blocks this costs one cumsum of a few thousand numbers per
sampling call and saves the ~12 top binary levels. A search descends the binary levels and then
resolves the leaf inside its group from one gathered row. Why this shape: at a batch of a few
hundred, numpy's per-call overhead and scattered memory reads cost more than the arithmetic, so
fewer levels and fewer scattered reads win (measured in benchmarks/README.md).

Writes within a short span of leaves (filling the buffer) update ancestors with slices; scattered
writes gather child pairs level by level. Parents are always recomputed from their children (never
adjusted by deltas), so rounding error does not accumulate; `rebuild()` recomputes every level from
the leaves (after a load, or as a periodic guard). A search value within rounding of a node's total
may land on a zero-weight leaf: `sample` detects and redraws those rows (probability about 1e-16).

`DerivedTree` wraps a SumTree whose leaves are a function of other state (the buffer's priorities):
changes only mark slots, and the tree is brought up to date when it is next read. A sampler that is
not in use costs nothing per update; past `limit` marked slots it is rebuilt whole when next read.

Limits: float64 leaves, about 10 bytes per leaf with the levels above; the caller keeps dead slots
at weight 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def tree_height(groups: int, flat_top: int) -> int:
    """Binary levels above the leaf groups: the fewest that leave at most `flat_top` blocks."""
    height = 0
    while -(-groups >> height) > flat_top:
        height += 1
    return height


class SumTree:
    """Sums of `capacity` non-negative leaf weights."""

    def __init__(self, capacity: int, flat_top: int = 4096, group: int = 8, slice_span: int | None = 4096) -> None:
        self.capacity = capacity
        self.group = group  # leaves per bottom node: one cache line of float64
        self.slice_span = slice_span  # writes within max(4n, slice_span) leaves update by slices; None: never
        self.height = tree_height(-(-capacity // group), flat_top)
        blocks = -(-capacity // (group << self.height))
        self.leaves = np.zeros((blocks * group) << self.height)
        self._rows = self.leaves.reshape(-1, group)  # the leaf groups
        self.sums = [np.zeros(blocks << (self.height - lv)) for lv in range(self.height + 1)]  # [0]: group sums
        self._pairs = [level.reshape(-1, 2) for level in self.sums[:-1]]  # children of level lv + 1
        self._prefix: np.ndarray | None = None

    # ---- update ----------------------------------------------------------------------------------

    def set(self, slots: np.ndarray, values: np.ndarray | float) -> None:
        """Leaf `slots[i]` takes `values[i]` (>= 0; a scalar sets them all)."""
        if len(slots) == 0:
            return
        lo, hi = int(slots.min()), int(slots.max()) + 1
        dense = self.slice_span is not None and hi - lo <= max(4 * len(slots), self.slice_span)
        self.leaves[slots] = values
        if dense:
            self._propagate_span(lo, hi)
        else:
            self._propagate_index(np.asarray(slots, np.int64) // self.group)
        self._prefix = None

    def _propagate_span(self, lo: int, hi: int) -> None:
        """Recompute the ancestors of leaves [lo, hi) level by level with slices (dense batches)."""
        lo, hi = lo // self.group, (hi - 1) // self.group + 1
        self._rows[lo:hi].sum(axis=1, out=self.sums[0][lo:hi])
        for lv in range(self.height):
            lo, hi = lo >> 1, ((hi - 1) >> 1) + 1
            pairs = self._pairs[lv][lo:hi]
            np.add(pairs[:, 0], pairs[:, 1], out=self.sums[lv + 1][lo:hi])

    def _propagate_index(self, groups: np.ndarray) -> None:
        """Recompute the ancestors of scattered leaves: one gather per level."""
        self.sums[0][groups] = self._rows.take(groups, axis=0).sum(axis=1)
        idx = groups
        for lv in range(self.height):
            idx = idx >> 1
            pairs = self._pairs[lv].take(idx, axis=0)
            self.sums[lv + 1][idx] = pairs[:, 0] + pairs[:, 1]

    def rebuild(self) -> None:
        """Recompute every internal node from the leaf values."""
        self._propagate_span(0, len(self.leaves))
        self._prefix = None

    # ---- queries ---------------------------------------------------------------------------------

    def total(self) -> float:
        """Sum of all leaves (the same number the search uses)."""
        return float(self._prefix_sums()[-1])

    def _prefix_sums(self) -> np.ndarray:
        if self._prefix is None:
            self._prefix = np.cumsum(self.sums[self.height])
        return self._prefix

    def find(self, values: np.ndarray) -> np.ndarray:
        """For each value in [0, total): the leaf where the running sum of leaves first exceeds it."""
        prefix = self._prefix_sums()
        roots = self.sums[self.height]
        idx = np.minimum(np.searchsorted(prefix, values, side="right"), len(prefix) - 1)
        rest = np.maximum(values - (prefix[idx] - roots[idx]), 0.0)
        for lv in range(self.height - 1, -1, -1):
            idx = idx << 1
            left = self.sums[lv].take(idx)
            right = rest >= left
            np.subtract(rest, left, out=rest, where=right)
            idx += right
        running = np.cumsum(self._rows.take(idx, axis=0), axis=1)  # (n, group) within each leaf group
        j = np.minimum(np.count_nonzero(running <= rest[:, None], axis=1), self.group - 1)
        return idx * self.group + j

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n leaves drawn with replacement, each with probability leaf / total (total must be > 0)."""
        total = self.total()
        if not total > 0:
            raise ValueError("cannot sample from a sum tree whose leaves are all 0")
        slots = self.find(rng.random(n) * total)
        bad = np.flatnonzero(self.leaves.take(slots) <= 0)
        while len(bad):  # a value within rounding of a node's total: draw that row again
            slots[bad] = self.find(rng.random(len(bad)) * total)
            bad = bad[self.leaves.take(slots[bad]) <= 0]
        return slots

    @property
    def nbytes(self) -> int:
        return self.leaves.nbytes + sum(a.nbytes for a in self.sums)


class DerivedTree:
    """A SumTree over `leaves(slots)` (leaves(None): every slot), updated when next read."""

    def __init__(self, tree: SumTree, leaves: Callable[[np.ndarray | None], np.ndarray], limit: int) -> None:
        self._tree = tree
        self._leaves = leaves
        self.limit = limit  # marked slots beyond which the next read rebuilds the whole tree
        self._pending: list[np.ndarray] = []
        self._marked = 0
        self._whole = True  # the tree has not been built yet

    def mark(self, slots: np.ndarray) -> None:
        """The leaves of `slots` may have changed."""
        if self._whole or len(slots) == 0:
            return
        self._pending.append(slots)
        self._marked += len(slots)
        if self._marked > self.limit:
            self.mark_all()

    def mark_all(self) -> None:
        self._whole = True
        self._pending, self._marked = [], 0

    def current(self) -> SumTree:
        """The tree, up to date."""
        if self._whole:
            self._tree.leaves[:self._tree.capacity] = self._leaves(None)
            self._tree.rebuild()
        elif self._pending:
            slots = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._tree.set(slots, self._leaves(slots))
        self._whole, self._pending, self._marked = False, [], 0
        return self._tree

    def restore(self, leaves: np.ndarray) -> None:
        """Take these leaf values as they are (a load) and rebuild the rest of the tree from them."""
        self._tree.leaves[:self._tree.capacity] = leaves
        self._tree.rebuild()
        self._whole, self._pending, self._marked = False, [], 0

    @property
    def nbytes(self) -> int:
        return self._tree.nbytes
