"""The buffer's records: what goes in (`TrajectoryBatch`, `Salience`), what comes out (`ReplayBatch`).

Batches are columnar. Token arrays are ragged: the rows of a batch lie end to end in one flat array
with one length per row (`prompt_ids` with `prompt_lengths`; `completion_ids` and
`behaviour_logprobs` with `completion_lengths`). Task ids are factorised: `task_names` holds names
and `task_index` each row's position in it (a sampled batch carries the buffer's whole vocabulary,
so it may hold names no row uses). `features` holds each row's execution feature vector, (B, F)
float32, so the learner can re-tag stored items; F is fixed per buffer. The learner maps its
rollouts to these records (`TrajectoryBatch.from_trajectories` builds one from per-item
`Trajectory` records) and pads what it needs with `pad_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def row_starts(lengths: np.ndarray) -> np.ndarray:
    """Where each row begins in the flat array: the exclusive cumulative sum of `lengths` (int64)."""
    lengths = np.asarray(lengths, np.int64)
    return np.cumsum(lengths) - lengths


def row_index(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions of the rows [starts[i], starts[i] + lengths[i]) laid end to end (int64)."""
    lengths = np.asarray(lengths, np.int64)
    shift = np.repeat(np.asarray(starts, np.int64) - row_starts(lengths), lengths)
    return shift + np.arange(len(shift))


def take_rows(flat: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The rows flat[starts[i] : starts[i] + lengths[i]] laid end to end (a copy)."""
    return flat.take(row_index(starts, lengths))


def pad_rows(flat: np.ndarray, lengths: np.ndarray, fill: float | int = 0) -> np.ndarray:
    """(B, max length) array of the ragged rows, right-padded with `fill`."""
    lengths = np.asarray(lengths, np.int64)
    width = int(lengths.max()) if len(lengths) else 0
    out = np.full((len(lengths), width), fill, dtype=flat.dtype)
    out[np.arange(width) < lengths[:, None]] = flat
    return out


@dataclass(frozen=True)
class Trajectory:
    """One stored completion and what the learner needs to replay it off-policy."""

    prompt_ids: np.ndarray  # (P,) int32 token ids
    completion_ids: np.ndarray  # (T,) int32 token ids
    behaviour_logprobs: np.ndarray  # (T,) float32 nats: log-prob of each completion token when sampled
    reward: float  # reward units
    policy_version: int  # the policy update count that sampled the completion
    task_id: str
    entropy: float  # normalised: mean sampling-policy entropy over the completion (nats/token) / ln |V|, in [0, 1]
    features: np.ndarray  # (F,) float32: the execution feature vector the tagger reads


@dataclass(frozen=True)
class TrajectoryBatch:
    """B trajectories, columnar, token arrays ragged (see the module docstring)."""

    prompt_ids: np.ndarray  # (sum of prompt_lengths,) int32
    prompt_lengths: np.ndarray  # (B,) int64 tokens
    completion_ids: np.ndarray  # (sum of completion_lengths,) int32
    completion_lengths: np.ndarray  # (B,) int64 tokens
    behaviour_logprobs: np.ndarray  # (sum of completion_lengths,) float32 nats
    reward: np.ndarray  # (B,) float32 reward units
    policy_version: np.ndarray  # (B,) int64
    entropy: np.ndarray  # (B,) float32 normalised entropy: nats/token / ln |V|, in [0, 1]
    task_names: tuple[str, ...]  # task ids the rows point into (may include unused ones)
    task_index: np.ndarray  # (B,) int32 position of each row's task id in task_names
    features: np.ndarray  # (B, F) float32: the execution feature vector the tagger reads (F fixed per buffer)

    def __len__(self) -> int:
        return len(self.reward)

    def check(self) -> None:
        """Raise ValueError if the columns do not describe the same B rows."""
        n = len(self.reward)
        per_row = (self.prompt_lengths, self.completion_lengths, self.policy_version, self.entropy, self.task_index)
        if any(len(a) != n for a in per_row):
            raise ValueError("TrajectoryBatch: per-row columns differ in length")
        if np.ndim(self.features) != 2 or len(self.features) != n:
            raise ValueError(f"TrajectoryBatch: features must be (B, F) with B = {n}, got {np.shape(self.features)}")
        if int(np.sum(self.prompt_lengths)) != len(self.prompt_ids):
            raise ValueError("TrajectoryBatch: prompt_lengths do not add up to prompt_ids")
        tokens = int(np.sum(self.completion_lengths))
        if tokens != len(self.completion_ids) or tokens != len(self.behaviour_logprobs):
            raise ValueError("TrajectoryBatch: completion_lengths do not add up to completion_ids / logprobs")
        if n and (self.task_index.min() < 0 or self.task_index.max() >= len(self.task_names)):
            raise ValueError("TrajectoryBatch: task_index out of range of task_names")

    def take(self, rows: np.ndarray) -> TrajectoryBatch:
        """The rows `rows` (indices into this batch), in that order."""
        p_starts, c_starts = row_starts(self.prompt_lengths), row_starts(self.completion_lengths)
        p_len, c_len = self.prompt_lengths[rows], self.completion_lengths[rows]
        return TrajectoryBatch(
            take_rows(self.prompt_ids, p_starts[rows], p_len), p_len,
            take_rows(self.completion_ids, c_starts[rows], c_len), c_len,
            take_rows(self.behaviour_logprobs, c_starts[rows], c_len),
            self.reward[rows], self.policy_version[rows], self.entropy[rows],
            self.task_names, self.task_index[rows], self.features[rows])

    def keep(self, mask: np.ndarray) -> TrajectoryBatch:
        """The rows where `mask` (B,) bool is True, in order (cheaper than `take` for a filter)."""
        p_mask = np.repeat(mask, self.prompt_lengths)
        c_mask = np.repeat(mask, self.completion_lengths)
        return TrajectoryBatch(
            self.prompt_ids[p_mask], self.prompt_lengths[mask], self.completion_ids[c_mask],
            self.completion_lengths[mask], self.behaviour_logprobs[c_mask], self.reward[mask],
            self.policy_version[mask], self.entropy[mask], self.task_names, self.task_index[mask],
            self.features[mask])

    def item(self, i: int) -> Trajectory:
        """Row i as a `Trajectory` (views into this batch's arrays)."""
        p0, c0 = int(np.sum(self.prompt_lengths[:i])), int(np.sum(self.completion_lengths[:i]))
        p1, c1 = p0 + int(self.prompt_lengths[i]), c0 + int(self.completion_lengths[i])
        return Trajectory(self.prompt_ids[p0:p1], self.completion_ids[c0:c1], self.behaviour_logprobs[c0:c1],
                          float(self.reward[i]), int(self.policy_version[i]),
                          self.task_names[int(self.task_index[i])], float(self.entropy[i]), self.features[i])

    def task_id(self, i: int) -> str:
        return self.task_names[int(self.task_index[i])]

    @classmethod
    def from_trajectories(cls, items: Sequence[Trajectory]) -> TrajectoryBatch:
        names = tuple(dict.fromkeys(t.task_id for t in items))
        code = {name: i for i, name in enumerate(names)}
        return cls(
            _concat([t.prompt_ids for t in items], np.int32), _lengths([t.prompt_ids for t in items]),
            _concat([t.completion_ids for t in items], np.int32), _lengths([t.completion_ids for t in items]),
            _concat([t.behaviour_logprobs for t in items], np.float32),
            np.array([t.reward for t in items], np.float32), np.array([t.policy_version for t in items], np.int64),
            np.array([t.entropy for t in items], np.float32), names,
            np.array([code[t.task_id] for t in items], np.int32), _stack([t.features for t in items]))


def _concat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    """(B, F) float32 of B equal-width rows; (0, 0) when there are none."""
    return np.stack(rows).astype(np.float32, copy=False) if rows else np.zeros((0, 0), np.float32)


def _lengths(arrays: list[np.ndarray]) -> np.ndarray:
    return np.array([len(a) for a in arrays], np.int64)


@dataclass(frozen=True)
class Salience:
    """Per-item inputs of the priority: p = |td| + lambda * |valence| * arousal + eps."""

    td: np.ndarray  # (B,) TD error r - V(prompt), reward units
    valence: np.ndarray  # (B,) in [-1, 1]; negative = "cringe"
    arousal: np.ndarray  # (B,) in [0, 1]; normalised |TD| (surprise)

    def __len__(self) -> int:
        return len(self.td)

    def check(self, n: int) -> None:
        if not len(self.td) == len(self.valence) == len(self.arousal) == n:
            raise ValueError(f"Salience: td, valence and arousal must each have {n} rows")


@dataclass(frozen=True)
class Inserted:
    """What `CosmoBuffer.add` did with each row of a batch."""

    ids: np.ndarray  # (B,) int64 stable id of each stored row; -1 where the Prune Bin deleted it
    pruned: np.ndarray  # (B,) bool: deleted at insert by the Prune Bin
    dream: np.ndarray  # (B,) bool: entered the Dream Queue
    evicted: int  # stored items that left to make room


@dataclass(frozen=True)
class Updated:
    """What `CosmoBuffer.update` did with a batch of new TDs."""

    applied: int  # distinct live items whose priority was recomputed
    stale: int  # ids ignored: their item was deleted or overwritten since they were handed out
    pruned: int  # items the Prune Bin deleted after the update
    joined: int  # items that entered the Dream Queue through this update
    left: int  # items that were Dream Queue members before this update and are not after (pruned ones included)


@dataclass(frozen=True)
class ReplayBatch:
    """A sampled minibatch: stable ids to pass back to `update`, PER weights, the stored payloads."""

    ids: np.ndarray  # (B,) int64 stable ids
    slots: np.ndarray  # (B,) int64 storage indices (valid while the id is)
    is_weights: np.ndarray  # (B,) float64 importance weights (N P(i))**-beta, divided by their batch mean (mean 1)
    probs: np.ndarray  # (B,) float64 probability the row's item had of being drawn for that row
    from_dream: np.ndarray  # (B,) bool: drawn by the Dream Queue part of a mixed batch
    in_dream: np.ndarray  # (B,) bool: the item is a Dream Queue member
    beta: float  # the IS exponent used
    salience: Salience  # the stored priority components
    trajectories: TrajectoryBatch  # copies of the stored payloads

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class BufferStats:
    """Counts for reports; `metrics()` gives them under `buffer/` keys (DESIGN habit 8)."""

    size: int  # live items
    capacity: int
    dream_size: int  # live Dream Queue members
    dream_joins: int  # items that entered the Dream Queue through update(), cumulative
    dream_leaves: int  # members that left it through update() (pruned ones included), cumulative
    inserted: int  # rows offered to add(), pruned ones included
    pruned_at_insert: int
    pruned_on_update: int
    pruned_by_sweep: int  # deleted by prune_existing() after a threshold change
    evicted: int  # items that left to make room (Dream Queue members included)
    evicted_dream: int  # of which Dream Queue members (with protect_dream: only when nothing else was left)
    expired: int  # deleted by expire(): older than the learner's staleness cap
    stale_updates: int  # priority updates ignored because their item had gone
    updates: int  # update() calls
    samples: int  # sampling calls (the beta schedule's step)
    beta: float  # IS exponent the next sampling call uses
    nbytes: int  # bytes held by the buffer's arrays

    @property
    def pruned(self) -> int:
        return self.pruned_at_insert + self.pruned_on_update + self.pruned_by_sweep

    def metrics(self) -> dict[str, float]:
        """`buffer/<name>` counts; the Dream Queue's cumulative joins and leaves are `..._total` (the
        learner logs each nocturnal phase's own as `buffer/dream_joins`, `buffer/dream_leaves`)."""
        names = ("size", "dream_size", "inserted", "pruned", "pruned_at_insert", "pruned_on_update",
                 "pruned_by_sweep", "evicted", "evicted_dream", "expired", "stale_updates", "beta", "nbytes")
        out = {f"buffer/{name}": float(getattr(self, name)) for name in names}
        out["buffer/dream_joins_total"] = float(self.dream_joins)
        out["buffer/dream_leaves_total"] = float(self.dream_leaves)
        out["buffer/occupancy"] = self.size / self.capacity
        return out


@dataclass(frozen=True)
class MemoryReport:
    """Bytes the buffer's arrays hold (their nbytes): fixed per-slot costs and token storage."""

    fixed_bytes: int  # arrays sized by capacity (trees, ids, priority components, scalars, row offsets, features)
    capacity: int  # slots
    token_bytes: int  # token / log-prob positions written so far: live rows and not yet reclaimed garbage
    live_token_bytes: int  # of which live rows
    reserved_token_bytes: int  # address space reserved for tokens (pages take RAM only once written)
    items: int  # live items

    @property
    def fixed_per_slot(self) -> float:
        """Bytes per slot that do not depend on token counts."""
        return self.fixed_bytes / self.capacity

    @property
    def per_item(self) -> float:
        """Fixed bytes plus written token bytes, divided by the live items (nan when empty)."""
        return (self.fixed_bytes + self.token_bytes) / self.items if self.items else float("nan")
