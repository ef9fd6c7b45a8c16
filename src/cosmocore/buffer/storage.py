"""Payload storage keyed by slot: ragged token arrays in arenas, fixed scalars in columns.

An `Arena` keeps variable-length rows end to end in flat arrays (one per dtype, all with the same
layout), with a start and a length per slot. Writing appends at the end; deleting only marks the
row's positions as garbage. The arrays are reserved up front (`reserve` positions) as zero-filled
memory the OS maps lazily: a page takes RAM only once written, so a generous reservation costs
address space, not memory, and filling the buffer copies nothing. When garbage outweighs the live
rows, the live rows are packed to the front in place (RAM stays within about 2x the live tokens);
only when the live rows outgrow the reservation are the arrays copied into ones twice as large.

`PayloadStore` holds one arena for prompts and one for completions, whose rows are (token id,
behaviour log-prob) pairs (`PAIR`: one scattered read gives both), and task ids interned as int32
codes (the vocabulary grows with the distinct task ids ever stored; it is never pruned). The
per-item scalars and both arenas' row offsets live in one 48-byte record per slot (`ROW`), so a
sampled batch costs one scattered gather for all of them rather than one per column (scattered
reads are cache misses, the bulk of a sample's cost at a million items). Each item's execution
feature vector lives in a (capacity, F) float32 column created at the first `put` of a non-empty
batch (zero-filled, so its pages take RAM only once written; F = 0 is allowed); F is then fixed.

Limits: nothing here checks that a slot is live; the buffer does.
"""

from __future__ import annotations

import numpy as np

from cosmocore.buffer.records import TrajectoryBatch, row_index, row_starts

PAIR = np.dtype([("id", np.int32), ("logp", np.float32)])  # a completion token and its behaviour log-prob
ROW = np.dtype([("prompt_start", np.int64), ("completion_start", np.int64), ("policy_version", np.int64),
                ("prompt_len", np.int32), ("completion_len", np.int32), ("reward", np.float32),
                ("entropy", np.float32), ("task", np.int32), ("_pad", np.int32)])


class Arena:
    """Ragged rows keyed by slot, stored end to end in one flat array per dtype.

    `start` and `length` (one entry per slot) may be views into a larger record array.
    """

    SLACK = 1 << 16  # garbage positions always tolerated before packing (small buffers would pack often)

    def __init__(self, start: np.ndarray, length: np.ndarray, dtypes: tuple[type, ...], reserve: int) -> None:
        self.start = start
        self.length = length
        self.data: list[np.ndarray] = [np.zeros(max(reserve, 1), dt) for dt in dtypes]
        self.end = 0  # next write position
        self.used = 0  # positions held by live rows; the rest of [0, end) is garbage

    def put(self, slots: np.ndarray, lengths: np.ndarray, flats: list[np.ndarray],
            rows: np.ndarray | None = None) -> None:
        """Write the ragged rows (`lengths`, flats end to end) and store row rows[i] under slots[i].

        `rows` (default: every row, in order) picks the rows to keep; the others are written too
        (one copy of the whole batch) and are garbage at once. Slots must hold no row (fresh or freed).
        """
        total = int(lengths.sum())
        self._reserve(total)
        starts = self.end + row_starts(lengths)
        kept = lengths if rows is None else lengths[rows]
        self.start[slots] = starts if rows is None else starts[rows]
        self.length[slots] = kept
        for data, flat in zip(self.data, flats, strict=True):
            data[self.end:self.end + total] = flat
        self.end += total
        self.used += total if rows is None else int(kept.sum())

    def free(self, slots: np.ndarray) -> None:
        """Forget the rows of `slots` (unique); their positions become garbage."""
        self.used -= int(self.length[slots].sum())
        self.length[slots] = 0

    def take(self, slots: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """(lengths, flat arrays) of the rows of `slots`, copied, end to end in that order."""
        lengths = self.length[slots].astype(np.int64)
        return lengths, self.take_at(self.start[slots], lengths)

    def take_at(self, starts: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
        """The rows at these starts and lengths (already looked up), copied, end to end."""
        index = row_index(starts, lengths)
        return [data.take(index) for data in self.data]

    def _reserve(self, n: int) -> None:
        """Make room for n more positions at the end: pack when garbage outweighs live rows, else grow."""
        size, garbage = len(self.data[0]), self.end - self.used
        if self.end + n <= size and garbage <= max(self.used, self.SLACK):
            return
        new_size = size
        while self.used + n > new_size * 3 // 4:
            new_size *= 2
        if garbage > self.used or new_size == size:
            self._repack(new_size)
        else:
            self._grow(new_size)

    def _grow(self, size: int) -> None:
        """Copy [0, end) as it is (garbage included) into fresh arrays of `size` positions."""
        fresh = [np.zeros(size, d.dtype) for d in self.data]
        for new, old in zip(fresh, self.data, strict=True):
            new[:self.end] = old[:self.end]
        self.data = fresh

    def _repack(self, size: int) -> None:
        """Pack the live rows, in slot order, to the front of arrays of `size` positions (the same
        arrays when the size is unchanged: their pages are already in memory)."""
        live = np.flatnonzero(self.length)
        lengths, flats = self.take(live)  # copies, so writing them back in place is safe
        if size != len(self.data[0]):
            self.data = [np.zeros(size, d.dtype) for d in self.data]
        for data, flat in zip(self.data, flats, strict=True):
            data[:len(flat)] = flat
        self.start[live] = row_starts(lengths)
        self.end = self.used = int(lengths.sum())

    @property
    def reserved_nbytes(self) -> int:
        """Address space of the token arrays (RAM only for pages written)."""
        return sum(d.nbytes for d in self.data)

    @property
    def written_nbytes(self) -> int:
        """Bytes of [0, end): live rows and garbage."""
        return self.end * sum(d.itemsize for d in self.data)

    @property
    def live_nbytes(self) -> int:
        return self.used * sum(d.itemsize for d in self.data)


class PayloadStore:
    """Trajectory payloads keyed by slot."""

    def __init__(self, capacity: int, token_reserve: int = 256) -> None:
        self.rows = np.zeros(capacity, ROW)
        r, reserve = self.rows, capacity * token_reserve
        self.prompts = Arena(r["prompt_start"], r["prompt_len"], (np.int32,), reserve)
        self.completions = Arena(r["completion_start"], r["completion_len"], (np.uint64,), reserve)  # PAIR words
        self.reward, self.policy_version, self.entropy = r["reward"], r["policy_version"], r["entropy"]
        self.task = r["task"]  # code into task_names
        self.task_names: list[str] = []
        self._codes: dict[str, int] = {}
        self._names: tuple[str, ...] | None = None  # task_names as a tuple, rebuilt when it grows
        self._last: tuple[tuple[str, ...] | None, np.ndarray] = (None, np.zeros(0, np.int32))
        self.features: np.ndarray | None = None  # (capacity, F) float32, created at the first non-empty put

    def check(self, batch: TrajectoryBatch) -> None:
        """Raise ValueError if `batch` has rows whose feature width F differs from the stored items'."""
        if self.features is not None and len(batch) and batch.features.shape[1] != self.features.shape[1]:
            raise ValueError(f"execution features of width {batch.features.shape[1]} offered to a buffer that "
                             f"stores width {self.features.shape[1]}")

    def put(self, slots: np.ndarray, batch: TrajectoryBatch, rows: np.ndarray | None = None) -> None:
        """Store row rows[i] of `batch` (default: row i) under `slots[i]` (unique slots holding nothing).

        The tokens of rows not picked are written as garbage (cheaper than cutting them out; the
        arena reclaims them when it next packs). A feature width other than the stored one raises
        ValueError before anything is written.
        """
        self.check(batch)
        at = slice(None) if rows is None else rows
        self.prompts.put(slots, batch.prompt_lengths, [batch.prompt_ids], rows)
        pairs = np.empty(len(batch.completion_ids), PAIR)
        pairs["id"], pairs["logp"] = batch.completion_ids, batch.behaviour_logprobs
        self.completions.put(slots, batch.completion_lengths, [pairs.view(np.uint64)], rows)
        self.reward[slots] = batch.reward[at]
        self.policy_version[slots] = batch.policy_version[at]
        self.entropy[slots] = batch.entropy[at]
        self.task[slots] = self._intern(batch.task_names)[batch.task_index[at]]
        if len(batch):  # a batch without rows carries no width
            self._feature_column(batch.features.shape[1])[slots] = batch.features[at]

    def _feature_column(self, width: int) -> np.ndarray:
        """The (capacity, F) feature column, created on first use (zeros: pages take RAM once written)."""
        if self.features is None:
            self.features = np.zeros((len(self.rows), width), np.float32)
        return self.features

    def _intern(self, names: tuple[str, ...]) -> np.ndarray:
        """The codes of `names`, adding new names to the vocabulary (the last answer is reused)."""
        if names == self._last[0]:
            return self._last[1]
        for name in names:
            if name not in self._codes:
                self._codes[name] = len(self.task_names)
                self.task_names.append(name)
        self._last = (names, np.array([self._codes[name] for name in names], np.int32))
        return self._last[1]

    def set_task_names(self, names: list[str]) -> None:
        """Replace the vocabulary (after a load)."""
        self.task_names = list(names)
        self._codes = {name: i for i, name in enumerate(self.task_names)}
        self._last = (None, np.zeros(0, np.int32))

    def free(self, slots: np.ndarray) -> None:
        self.prompts.free(slots)
        self.completions.free(slots)

    def take(self, slots: np.ndarray) -> TrajectoryBatch:
        """Copies of the payloads of `slots`, in that order (task_names: the whole vocabulary)."""
        r = self.rows.take(slots)  # one scattered read for every scalar and offset
        p_len, c_len = r["prompt_len"].astype(np.int64), r["completion_len"].astype(np.int64)
        (prompt_ids,) = self.prompts.take_at(r["prompt_start"], p_len)
        (words,) = self.completions.take_at(r["completion_start"], c_len)
        pairs = words.view(PAIR)
        completion_ids, logprobs = pairs["id"].copy(), pairs["logp"].copy()
        if self._names is None or len(self._names) != len(self.task_names):
            self._names = tuple(self.task_names)
        features = np.zeros((len(slots), 0), np.float32) if self.features is None else self.features.take(slots, 0)
        return TrajectoryBatch(prompt_ids, p_len, completion_ids, c_len, logprobs, r["reward"].copy(),
                               r["policy_version"].copy(), r["entropy"].copy(), self._names, r["task"].copy(),
                               features)

    @property
    def fixed_nbytes(self) -> int:
        return self.rows.nbytes + (0 if self.features is None else self.features.nbytes)

    @property
    def token_nbytes(self) -> int:
        return self.prompts.written_nbytes + self.completions.written_nbytes

    @property
    def reserved_token_nbytes(self) -> int:
        return self.prompts.reserved_nbytes + self.completions.reserved_nbytes

    @property
    def live_token_nbytes(self) -> int:
        return self.prompts.live_nbytes + self.completions.live_nbytes
