"""`CosmoBuffer`: the CosmoCore replay buffer, wired from small parts keyed by slot and stable id.

Parts: `SlotTable` (stable ids, generations, free slots, the dense list of live slots the uniform
sampler draws from), `ItemTable` (priority components, Dream Queue flags), `PayloadStore` (token
arrays, scalars, execution features), two `DerivedTree`s (p**alpha over every item; p**alpha over
Dream Queue members) and `LowestFirst` (eviction). The trees' leaves are a pure function of the item
table, so a change only marks slots and each tree catches up when its sampler is next used: the
nocturnal phase (sample_mixed) never pays for the whole-buffer tree, a PER learner (sample) never
pays for the Dream Queue's. This module only applies the rules of `priority.py` and keeps the parts
in step.

Rules (thresholds from `BufferConfig`; prune thresholds can change at run time):
- priority p = |TD| + affect_weight * |v| * a + eps, recomputed from the stored components on every
  update; `sample` draws by p**alpha (plain PER, the same rule for every item).
- Dream Queue: |v| > dream_valence and a > dream_arousal, measured in every buffer at insert and on
  every update (`Updated.joined` / `.left` count the changes). Its replay rule is the mixture of
  `sample_mixed` (80% members by p**alpha, 20% uniform); `sample_dream` draws members only.
- Prune Bin: |v| < prune_valence and a < prune_arousal and normalised entropy (nats/token / ln |V|,
  computed by the learner) <= prune_entropy: such an item is never stored (insert) or deleted
  (update, `prune_existing`). Dream Queue members are never pruned (only matters if the
  thresholds overlap).
- IS weights (N P(i))**-beta divided by their batch mean, so every batch's mean weight is 1.
- Full buffer: incoming items always enter; the lowest-priority items leave first, Dream Queue
  members last when `protect_dream` (else by priority alone).
- `expire(min_version)` deletes the items sampled by policies older than the learner accepts.
- A priority update naming an item that has since been deleted is ignored and counted; duplicate
  ids in one update: the last value wins.

Not thread-safe: one learner process owns a buffer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosmocore.buffer import priority as rules
from cosmocore.buffer.eviction import LowestFirst
from cosmocore.buffer.records import (
    BufferStats,
    Inserted,
    MemoryReport,
    ReplayBatch,
    Salience,
    TrajectoryBatch,
    Updated,
)
from cosmocore.buffer.slots import SlotTable
from cosmocore.buffer.storage import PayloadStore
from cosmocore.buffer.sumtree import DerivedTree, SumTree
from cosmocore.buffer.table import ItemTable
from cosmocore.config import BufferConfig

FLAT_TOP = 4096  # most subtree roots a sum tree keeps flat (see sumtree.py); fixes the tree height


@dataclass
class Counts:
    """Running counters (saved with the buffer)."""

    inserted: int = 0
    pruned_at_insert: int = 0
    pruned_on_update: int = 0
    pruned_by_sweep: int = 0
    evicted: int = 0
    evicted_dream: int = 0
    expired: int = 0
    dream_joins: int = 0  # members gained through update()
    dream_leaves: int = 0  # members lost through update() (pruned ones included)
    stale_updates: int = 0
    updates: int = 0
    samples: int = 0


class CosmoBuffer:
    """Prioritised replay of trajectories with a Dream Queue, a Prune Bin and rank-based eviction."""

    def __init__(self, config: BufferConfig | None = None) -> None:
        self.config = config or BufferConfig()
        capacity = self.config.capacity
        self.slots = SlotTable(capacity)
        self.table = ItemTable(capacity)
        self.payload = PayloadStore(capacity, self.config.token_reserve)
        limit = max(capacity // 16, 4096)  # marked slots past which a tree is rebuilt whole when next read
        self.weights = DerivedTree(_tree(capacity), self._weight_leaves, limit)  # sample()
        self.dream_weights = DerivedTree(_tree(capacity), self._dream_leaves, limit)  # sample_dream(), mixed
        self.eviction = LowestFirst(capacity, self.config.eviction_pool)
        self.rng = np.random.default_rng(self.config.seed)
        self.counts = Counts()
        self.dream_size = 0  # live Dream Queue members

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def beta(self) -> float:
        """The IS exponent the next sampling call uses."""
        return rules.annealed_beta(self.counts.samples, self.config.beta0, self.config.beta_steps)

    # ---- writing ---------------------------------------------------------------------------------

    def add(self, batch: TrajectoryBatch, salience: Salience) -> Inserted:
        """Store a batch (pruned rows are not stored); returns each row's stable id or -1."""
        batch.check()
        salience.check(len(batch))
        self.payload.check(batch)  # before anything changes: a refused batch leaves the buffer as it was
        if len(batch) > self.config.capacity:
            raise ValueError(f"a batch of {len(batch)} is larger than the capacity {self.config.capacity}")
        td, valence, arousal = (np.asarray(x, np.float32) for x in (salience.td, salience.valence, salience.arousal))
        dream = self._dream_rule(valence, arousal)
        pruned = self._prune_rule(valence, arousal, np.asarray(batch.entropy, np.float32)) & ~dream
        kept = np.flatnonzero(~pruned)
        evicted = self._make_room(len(kept))
        slots = self.slots.allocate(len(kept))
        self.payload.put(slots, batch, None if len(kept) == len(batch) else kept)
        components = td[kept], valence[kept], arousal[kept]
        self.table.write(slots, *components)
        self._place(slots, *components, dream[kept])
        ids = np.full(len(batch), -1, np.int64)
        ids[kept] = self.slots.ids(slots)
        self.counts.inserted += len(batch)
        self.counts.pruned_at_insert += len(batch) - len(kept)
        return Inserted(ids, pruned, dream, evicted)

    def update(self, ids: np.ndarray, td: np.ndarray, valence: np.ndarray | None = None,
               arousal: np.ndarray | None = None) -> Updated:
        """New TDs (and optionally new valence / arousal) for the items `ids` names; stale ids are ignored.

        Priority, Dream Queue membership and pruning are recomputed from the stored components; the
        result counts the membership changes (`joined`, `left`).
        """
        ids = np.asarray(ids, np.int64)
        slots, current = self.slots.resolve(ids)
        rows = _last_per_slot(slots, current)
        slots = slots[rows]
        was = self.table.dream[slots]  # membership before the update (a copy)
        self.table.write(slots, _rows(td, rows, len(ids)), _rows(valence, rows, len(ids)),
                         _rows(arousal, rows, len(ids)))
        kept, dream = self._reapply(slots)
        result = Updated(applied=len(kept), stale=len(ids) - int(current.sum()), pruned=len(slots) - len(kept),
                         joined=int((dream & ~was).sum()), left=int((was & ~dream).sum()))
        self._count_update(result)
        return result

    def _reapply(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply the rules to live `slots` (unique) from their stored components: prune, place the rest.

        Returns (the slots still stored, the new Dream Queue membership of every given slot).
        """
        t = self.table
        valence, arousal = t.valence[slots], t.arousal[slots]
        dream = self._dream_rule(valence, arousal)
        doomed = self._prune_rule(valence, arousal, self.payload.entropy[slots]) & ~dream
        self._delete(slots[doomed])
        kept = slots[~doomed]
        self._place(kept, t.td[kept], valence[~doomed], arousal[~doomed], dream[~doomed])
        return kept, dream

    def _count_update(self, result: Updated) -> None:
        c = self.counts
        c.updates += 1
        c.stale_updates += result.stale
        c.pruned_on_update += result.pruned
        c.dream_joins += result.joined
        c.dream_leaves += result.left
        every = self.config.rebuild_every
        if every and self.counts.updates % every == 0:
            self.rebuild()

    def _place(self, slots: np.ndarray, td: np.ndarray, valence: np.ndarray, arousal: np.ndarray,
               dream: np.ndarray) -> None:
        """Set priority and membership of live `slots` (unique) from their stored (float32) components."""
        cfg = self.config
        p = rules.priority(td, valence, arousal, cfg.affect_weight, cfg.priority_eps)
        was = self.table.dream[slots]
        self.dream_size += int(dream.sum()) - int(was.sum())
        self.table.priority[slots] = p
        self.table.dream[slots] = dream
        self.weights.mark(slots)
        self.dream_weights.mark(slots[dream | was])
        self.eviction.note(slots, p, ~dream if cfg.protect_dream else np.ones(len(slots), bool))

    def _weight_leaves(self, slots: np.ndarray | None) -> np.ndarray:
        """Leaves of the whole-buffer tree: p**alpha of live items (members or not), 0 for free slots."""
        at = slice(None) if slots is None else slots
        weight = rules.sampling_weight(self.table.priority[at], self.config.alpha)
        return np.where(self.slots.alive[at], weight, 0.0)

    def _dream_leaves(self, slots: np.ndarray | None) -> np.ndarray:
        """Leaves of the Dream Queue tree: p**alpha of live members, 0 elsewhere."""
        at = slice(None) if slots is None else slots
        member = self.slots.alive[at] & self.table.dream[at]
        return np.where(member, rules.sampling_weight(self.table.priority[at], self.config.alpha), 0.0)

    def _delete(self, slots: np.ndarray) -> None:
        """Remove the live items in `slots` (unique): weights to 0, payload freed, ids invalidated."""
        if len(slots) == 0:
            return
        was = self.table.dream[slots]
        self.dream_size -= int(was.sum())
        self.table.dream[slots] = False
        self.slots.release(slots)
        self.payload.free(slots)
        self.weights.mark(slots)
        self.dream_weights.mark(slots[was])

    def _make_room(self, n: int) -> int:
        """Evict enough items for n new ones; returns how many left."""
        missing = n - (self.config.capacity - len(self))
        if missing <= 0:
            return 0
        protected = self.table.dream if self.config.protect_dream else None
        victims = self.eviction.choose(missing, self.table.priority, self.slots.alive, protected)
        self.counts.evicted += len(victims)
        self.counts.evicted_dream += int(self.table.dream[victims].sum())
        self._delete(victims)
        return len(victims)

    def _dream_rule(self, valence: np.ndarray, arousal: np.ndarray) -> np.ndarray:
        return rules.in_dream_queue(valence, arousal, self.config.dream_valence, self.config.dream_arousal)

    def _prune_rule(self, valence: np.ndarray, arousal: np.ndarray, entropy: np.ndarray) -> np.ndarray:
        cfg = self.config
        if not cfg.prune:
            return np.zeros(len(valence), bool)
        return rules.prunable(valence, arousal, entropy, cfg.prune_valence, cfg.prune_arousal, cfg.prune_entropy)

    # ---- run-time changes ------------------------------------------------------------------------

    def set_prune_thresholds(self, valence: float | None = None, arousal: float | None = None,
                             entropy: float | None = None) -> None:
        """New Prune Bin thresholds (the learner's meta-gradient step); None keeps one as it is.

        They apply to items inserted or updated from now on; `prune_existing()` applies them to the
        items already stored. A value out of range raises InputError naming the field.
        """
        cfg = self.config
        self.config = dataclasses.replace(
            cfg, prune_valence=cfg.prune_valence if valence is None else float(valence),
            prune_arousal=cfg.prune_arousal if arousal is None else float(arousal),
            prune_entropy=cfg.prune_entropy if entropy is None else float(entropy))

    def prune_existing(self) -> int:
        """Delete every stored item the current Prune Bin rule deletes (members never); returns how many.

        Counted in `pruned_by_sweep`. The learner calls it after every threshold change.
        """
        live = self._live()
        valence, arousal = self.table.valence[live], self.table.arousal[live]
        doomed = live[self._prune_rule(valence, arousal, self.payload.entropy[live]) & ~self.table.dream[live]]
        self._delete(doomed)
        self.counts.pruned_by_sweep += len(doomed)
        return len(doomed)

    def expire(self, min_version: int) -> int:
        """Delete every live item with policy_version < min_version (Dream Queue members included).

        They are too stale for the learner's staleness cap, so drawing them would waste rows.
        Returns how many; counted in `expired`.
        """
        live = self._live()
        old = live[self.payload.policy_version[live] < min_version]
        self._delete(old)
        self.counts.expired += len(old)
        return len(old)

    def _live(self) -> np.ndarray:
        """The live slots, in no particular order (a view: index it before deleting any)."""
        return self.slots.members[:len(self)]

    def rebuild(self) -> None:
        """Recompute both sum trees whole from the stored components when next read (a drift guard)."""
        self.weights.mark_all()
        self.dream_weights.mark_all()

    # ---- sampling --------------------------------------------------------------------------------

    def sample(self, n: int, rng: np.random.Generator | None = None) -> ReplayBatch:
        """n items drawn with replacement in proportion to p**alpha over the whole buffer (plain PER)."""
        _require(len(self) > 0, "the buffer is empty")
        tree = self.weights.current()
        slots = tree.sample(n, rng or self.rng)
        return self._batch(slots, tree.leaves.take(slots) / tree.total(), np.zeros(n, bool))

    def sample_dream(self, n: int, rng: np.random.Generator | None = None) -> ReplayBatch:
        """n Dream Queue members drawn with replacement in proportion to p**alpha."""
        _require(self.dream_size > 0, "the Dream Queue is empty")
        tree = self.dream_weights.current()
        slots = tree.sample(n, rng or self.rng)
        return self._batch(slots, tree.leaves.take(slots) / tree.total(), np.ones(n, bool))

    def sample_uniform(self, n: int, rng: np.random.Generator | None = None) -> ReplayBatch:
        """n live items drawn uniformly with replacement (IS weights are all 1)."""
        _require(len(self) > 0, "the buffer is empty")
        slots = self.slots.uniform(n, rng or self.rng)
        return self._batch(slots, np.full(n, 1.0 / len(self)), np.zeros(n, bool))

    def sample_mixed(self, n: int, dream_fraction: float = 0.8,
                     rng: np.random.Generator | None = None) -> ReplayBatch:
        """The nocturnal minibatch: round(dream_fraction * n) rows from the Dream Queue by priority, the
        rest uniform over every live item (Dream Queue members included).

        Fewer dream rows when the queue has fewer members than that (none when it is empty); the rows
        it cannot give are uniform. Dream rows come first. `probs` and the IS weights are those of the
        mixture actually used: P(i) = (n_dream/n) P_dream(i) + (n_uniform/n) / N.
        """
        _require(len(self) > 0, "the buffer is empty")
        rng = rng or self.rng
        n_dream, n_uniform = rules.split_mixed(n, dream_fraction, self.dream_size)
        if n_dream == 0:  # no Dream Queue: a uniform batch, described as the mixture it is
            return self._batch(self.slots.uniform(n, rng), np.full(n, 1.0 / len(self)), np.zeros(n, bool))
        tree = self.dream_weights.current()
        slots = np.concatenate([tree.sample(n_dream, rng), self.slots.uniform(n_uniform, rng)])
        probs = rules.mixture_probs(tree.leaves.take(slots) / tree.total(), n, n_dream, len(self))
        return self._batch(slots, probs, np.arange(n) < n_dream)

    def _batch(self, slots: np.ndarray, probs: np.ndarray, from_dream: np.ndarray) -> ReplayBatch:
        beta = self.beta
        self.counts.samples += 1
        salience, in_dream = self.table.gather(slots)
        return ReplayBatch(
            ids=self.slots.ids(slots), slots=slots,
            is_weights=rules.importance_weights(probs, len(self), beta), probs=probs,
            from_dream=from_dream, in_dream=in_dream, beta=beta, salience=salience,
            trajectories=self.payload.take(slots))

    # ---- reports and persistence -----------------------------------------------------------------

    def stats(self) -> BufferStats:
        nbytes = self.memory().fixed_bytes + self.payload.token_nbytes
        return BufferStats(size=len(self), capacity=self.config.capacity, dream_size=self.dream_size,
                           beta=self.beta, nbytes=nbytes, **dataclasses.asdict(self.counts))

    def memory(self) -> MemoryReport:
        """Bytes held by the buffer's arrays (nbytes of each, measured, not estimated)."""
        s = self.slots
        fixed = (s.alive.nbytes + s.generation.nbytes + s.free.nbytes + self.table.nbytes
                 + self.payload.fixed_nbytes + self.eviction.pool.nbytes + self.eviction.in_pool.nbytes
                 + s.members.nbytes + s.position.nbytes + self.weights.nbytes + self.dream_weights.nbytes)
        return MemoryReport(fixed, self.config.capacity, self.payload.token_nbytes,
                            self.payload.live_token_nbytes, self.payload.reserved_token_nbytes, len(self))

    def save(self, path: str | Path) -> None:
        """Write the whole state to one .npz file, atomically (see `cosmocore.buffer.persist`)."""
        from cosmocore.buffer.persist import save_buffer

        save_buffer(self, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> CosmoBuffer:
        from cosmocore.buffer.persist import load_buffer

        return load_buffer(Path(path))


def _tree(capacity: int) -> SumTree:
    return SumTree(capacity, flat_top=FLAT_TOP)


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _rows(values: np.ndarray | None, rows: np.ndarray, n: int) -> np.ndarray | None:
    """values[rows] as float32 (None stays None); values must have one entry per id."""
    if values is None:
        return None
    values = np.asarray(values, np.float32)
    if len(values) != n:
        raise ValueError(f"update: {len(values)} values for {n} ids")
    return values[rows]


def _last_per_slot(slots: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Positions of the current ids, keeping only the last position naming each slot."""
    rows = np.flatnonzero(current)
    ordered = np.sort(slots[rows])
    if not (ordered[1:] == ordered[:-1]).any():  # the usual case: no slot named twice
        return rows
    _, first_from_end = np.unique(slots[rows][::-1], return_index=True)
    return rows[len(rows) - 1 - first_from_end]
