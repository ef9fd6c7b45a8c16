"""The CosmoCore replay buffer: prioritised replay with a Dream Queue, a Prune Bin and rank-based eviction.

numpy only. `CosmoBuffer` (core.py) wires small parts: stable ids (slots.py), priority components
(table.py), payloads (storage.py), sum trees (sumtree.py), eviction (eviction.py); the math is in
pure functions (priority.py) and the records handed in and out are in records.py. Save / load:
persist.py. The learner maps its rollouts to `TrajectoryBatch` + `Salience`, samples `ReplayBatch`es
and passes the new TDs back to `CosmoBuffer.update` with the batch's ids.
"""

from cosmocore.buffer.core import CosmoBuffer
from cosmocore.buffer.records import (
    BufferStats,
    Inserted,
    MemoryReport,
    ReplayBatch,
    Salience,
    Trajectory,
    TrajectoryBatch,
    Updated,
    pad_rows,
)

__all__ = [
    "BufferStats",
    "CosmoBuffer",
    "Inserted",
    "MemoryReport",
    "ReplayBatch",
    "Salience",
    "Trajectory",
    "TrajectoryBatch",
    "Updated",
    "pad_rows",
]
