"""Per-slot priority components and Dream Queue flags, stored so the priority can be recomputed.

td, valence and arousal are kept as float32 (the priority is always computed from the stored
float32 values, so a recomputation gives the same number); the priority itself is float64 (the
eviction ranks by it). The five live in one 24-byte record per slot (`ITEM`), so a sampled batch
reads them with one scattered gather; the attributes are field views of that record array.
"""

from __future__ import annotations

import numpy as np

from cosmocore.buffer.records import Salience

ITEM = np.dtype([("td", np.float32), ("valence", np.float32), ("arousal", np.float32), ("dream", np.bool_),
                 ("priority", np.float64)], align=True)


class ItemTable:
    """td, valence, arousal, priority and Dream Queue membership of every slot."""

    def __init__(self, capacity: int) -> None:
        self.rows = np.zeros(capacity, ITEM)
        r = self.rows
        self.td, self.valence, self.arousal = r["td"], r["valence"], r["arousal"]
        self.priority, self.dream = r["priority"], r["dream"]

    def write(self, slots: np.ndarray, td: np.ndarray | None, valence: np.ndarray | None,
              arousal: np.ndarray | None) -> None:
        """Store the given components of `slots` (None leaves that component as it is)."""
        for column, values in ((self.td, td), (self.valence, valence), (self.arousal, arousal)):
            if values is not None:
                column[slots] = values

    def gather(self, slots: np.ndarray) -> tuple[Salience, np.ndarray]:
        """(stored td / valence / arousal, Dream Queue flags) of `slots`, as contiguous copies."""
        r = self.rows.take(slots)
        return Salience(r["td"].copy(), r["valence"].copy(), r["arousal"].copy()), r["dream"].copy()

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes
