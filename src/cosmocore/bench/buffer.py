"""`cosmocore bench buffer`: the CosmoCore buffer against cpprb's PrioritizedReplayBuffer, same run.

Both get the same stream: `items` trajectories (ragged prompt and completion token ids, behaviour
log-probs, reward, policy version, normalised entropy, valence, an execution feature vector of
`FEATURES` float32) inserted in batches of `insert_batch` with the
same priorities p = |TD| + 0.6 |v| a + eps, then `rounds` rounds of: sample `batch`, compute new TDs,
update the sampled items' priorities. Then ours is topped up until full (untimed: the Prune Bin kept
it below capacity) and both take `items // 10` more into the full buffer. The timings alternate
between the two buffers call by call, so noise from other processes falls on both.

The CosmoCore buffer runs with its Dream Queue and Prune Bin on, over a mix of valence / arousal
that looks like training (failures with high |v| and arousal, routine successes, surprising
successes), stores tokens ragged, and on update recomputes priority, membership and pruning from
the stored components. cpprb stores tokens padded to the maximum length (it has fixed shapes only),
its priority is computed by the caller, and a full cpprb buffer overwrites its oldest item (FIFO)
where ours evicts the lowest priority. The insert phase includes each buffer's construction: cpprb
writes all of its storage when constructed, ours maps its token arenas lazily and pays for the
pages as it fills them, so timing inserts alone would leave half of cpprb's cost out.

Limits: one process, CPU only, synthetic data; memory is the process's resident-set drop when each
buffer is deleted.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cosmocore.buffer import CosmoBuffer, Salience, TrajectoryBatch
from cosmocore.buffer.priority import priority
from cosmocore.config import BufferConfig

POOL = 8  # distinct payload batches, reused in turn (token content does not change the work)
FEATURES = 11  # execution feature width stored per item (cosmocore.affect.features.FEATURE_DIM)


@dataclass(frozen=True)
class Phase:
    items: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.items / self.seconds


@dataclass(frozen=True)
class Side:
    """One buffer's timings and footprint."""

    insert: Phase  # construction + inserts until `items` were offered
    construct_s: float  # of which construction
    rounds: Phase  # sample + update, items = rows sampled
    full_insert: Phase  # inserts into the full buffer
    rss_bytes: int  # resident-set drop when the buffer was deleted
    size: int  # items held when it was deleted


@dataclass(frozen=True)
class BufferBench:
    ours: Side
    cpprb: Side
    mixed_rounds: Phase  # ours only: sample_mixed (80% Dream Queue / 20% uniform) + update
    stored: int  # ours: items held after the insert phase
    dream_size: int  # ours: Dream Queue members after the insert phase
    pruned: int  # ours: pruned at insert during the insert phase
    accounted_bytes_per_item: float  # ours, from the arrays' nbytes after the insert phase
    settings: str


@dataclass(frozen=True)
class Workload:
    payloads: list[TrajectoryBatch]
    padded: list[dict[str, np.ndarray]]
    salience: Salience  # one row per item inserted
    entropy: np.ndarray  # (items,) normalised entropy (nats/token / ln |V|), in [0, 1]


def synthetic_affect(rng: np.random.Generator, n: int) -> tuple[Salience, np.ndarray]:
    """Valence, arousal, TD and normalised policy entropy of n completions, in a training-like mix."""
    kind = rng.choice(3, n, p=(0.45, 0.35, 0.20))  # failure, routine success, surprising success
    failure, routine = kind == 0, kind == 1
    valence = np.select([failure, routine], [-rng.uniform(0.3, 1.0, n), rng.uniform(-0.25, 0.25, n)],
                        rng.uniform(0.2, 1.0, n))
    arousal = np.select([failure, routine], [rng.beta(4, 2, n), rng.beta(1.5, 6, n)], rng.beta(2, 3, n))
    td = rng.normal(0.0, 1.0, n) * arousal
    entropy = np.minimum(rng.gamma(2.0, 0.1, n), 1.0)  # mean 0.2: about 1 in 5 above the 0.3 exemption
    return Salience(td.astype(np.float32), valence.astype(np.float32), arousal.astype(np.float32)), \
        entropy.astype(np.float32)


def _payload(rng: np.random.Generator, n: int, prompt_max: int, completion_max: int) -> TrajectoryBatch:
    p_len = rng.integers(prompt_max // 4, prompt_max + 1, n)
    c_len = rng.integers(max(1, completion_max // 4), completion_max + 1, n)
    return TrajectoryBatch(
        rng.integers(0, 50_000, int(p_len.sum()), dtype=np.int32), p_len,
        rng.integers(0, 50_000, int(c_len.sum()), dtype=np.int32), c_len,
        -rng.exponential(1.0, int(c_len.sum())).astype(np.float32),
        rng.uniform(-1, 1, n).astype(np.float32), np.zeros(n, np.int64), np.zeros(n, np.float32),
        tuple(f"task/{i}" for i in range(64)), rng.integers(0, 64, n).astype(np.int32),
        rng.random((n, FEATURES), dtype=np.float32))


def _padded(batch: TrajectoryBatch, prompt_max: int, completion_max: int) -> dict[str, np.ndarray]:
    """The same batch with fixed shapes, as cpprb stores it."""
    from cosmocore.buffer.records import pad_rows

    def pad(flat: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
        rows = pad_rows(flat, lengths)
        return np.pad(rows, ((0, 0), (0, width - rows.shape[1])))

    return {"prompt": pad(batch.prompt_ids, batch.prompt_lengths, prompt_max),
            "completion": pad(batch.completion_ids, batch.completion_lengths, completion_max),
            "logp": pad(batch.behaviour_logprobs, batch.completion_lengths, completion_max),
            "lengths": np.stack([batch.prompt_lengths, batch.completion_lengths], 1).astype(np.int32),
            "reward": batch.reward, "version": batch.policy_version, "task": batch.task_index,
            "features": batch.features}


def make_workload(items: int, insert_batch: int, prompt_max: int, completion_max: int, seed: int) -> Workload:
    rng = np.random.default_rng(seed)
    payloads = [_payload(rng, insert_batch, prompt_max, completion_max) for _ in range(POOL)]
    salience, entropy = synthetic_affect(rng, 2 * items)  # insert phase, top-up, full-buffer phase
    return Workload(payloads, [_padded(b, prompt_max, completion_max) for b in payloads], salience, entropy)


def _cpprb_buffer(capacity: int, prompt_max: int, completion_max: int) -> Any:
    from cpprb import PrioritizedReplayBuffer

    env = {"prompt": {"shape": prompt_max, "dtype": np.int32},
           "completion": {"shape": completion_max, "dtype": np.int32},
           "logp": {"shape": completion_max, "dtype": np.float32}, "lengths": {"shape": 2, "dtype": np.int32},
           "reward": {"dtype": np.float32}, "version": {"dtype": np.int64}, "task": {"dtype": np.int32},
           "features": {"shape": FEATURES, "dtype": np.float32},
           "entropy": {"dtype": np.float32}, "valence": {"dtype": np.float32}}
    return PrioritizedReplayBuffer(capacity, env, alpha=0.6, eps=1e-4)


class _Clock:
    """Accumulates the time spent in calls made through it."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.seconds += time.perf_counter() - t0
        return out


def _salience_rows(w: Workload, lo: int, hi: int) -> Salience:
    return Salience(w.salience.td[lo:hi], w.salience.valence[lo:hi], w.salience.arousal[lo:hi])


def _insert_ours(buf: CosmoBuffer, w: Workload, k: int, lo: int, hi: int) -> None:
    batch = dataclasses.replace(w.payloads[k % POOL], entropy=w.entropy[lo:hi])
    buf.add(batch, _salience_rows(w, lo, hi))


def _insert_cpprb(rb: Any, w: Workload, k: int, lo: int, hi: int) -> None:
    s = w.salience
    p = priority(s.td[lo:hi], s.valence[lo:hi], s.arousal[lo:hi])
    rb.add(priorities=p, entropy=w.entropy[lo:hi], valence=s.valence[lo:hi], **w.padded[k % POOL])


def _insert_phase(buf: CosmoBuffer, rb: Any, w: Workload, start: int, count: int, step: int,
                  clocks: tuple[_Clock, _Clock] | None = None) -> tuple[Phase, Phase]:
    ours, theirs = clocks or (_Clock(), _Clock())
    for k, lo in enumerate(range(start, start + count, step)):
        ours(_insert_ours, buf, w, k, lo, lo + step)
        theirs(_insert_cpprb, rb, w, k, lo, lo + step)
    n = len(range(start, start + count, step)) * step
    return Phase(n, ours.seconds), Phase(n, theirs.seconds)


def _new_td(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """New TDs after an update and the arousal they imply (normalised |TD|, clipped to [0, 1])."""
    td = rng.normal(0.0, 0.5, n).astype(np.float32)
    return td, np.minimum(np.abs(td), 1.0)


def _round_ours(buf: CosmoBuffer, n: int, td: np.ndarray, arousal: np.ndarray, mixed: bool) -> None:
    batch = buf.sample_mixed(n, 0.8) if mixed else buf.sample(n)
    buf.update(batch.ids, td, arousal=arousal)


def _round_cpprb(rb: Any, n: int, td: np.ndarray, arousal: np.ndarray, beta: float) -> None:
    batch = rb.sample(n, beta)
    rb.update_priorities(batch["indexes"], priority(td, batch["valence"][:, 0], arousal))


def _round_phase(buf: CosmoBuffer, rb: Any, rounds: int, n: int, seed: int) -> tuple[Phase, Phase, Phase]:
    rng = np.random.default_rng(seed)
    ours, mixed, theirs = _Clock(), _Clock(), _Clock()
    for _ in range(rounds):
        td, arousal = _new_td(rng, n)
        beta = buf.beta
        ours(_round_ours, buf, n, td, arousal, False)
        theirs(_round_cpprb, rb, n, td, arousal, beta)
        mixed(_round_ours, buf, n, td, arousal, True)
    return Phase(rounds * n, ours.seconds), Phase(rounds * n, theirs.seconds), Phase(rounds * n, mixed.seconds)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _freed(holder: dict[str, Any], key: str) -> int:
    """Resident bytes returned when holder[key], the last reference, is deleted."""
    gc.collect()
    before = _rss()
    del holder[key]
    gc.collect()
    return before - _rss()


def _top_up(buf: CosmoBuffer, w: Workload, start: int, step: int) -> int:
    """Insert (untimed) until the buffer is full; returns the next unused workload row."""
    k = 0
    while len(buf) < buf.config.capacity:
        _insert_ours(buf, w, k, start, start + step)
        start, k = start + step, k + 1
    return start


def bench_buffer(items: int = 1_000_000, batch: int = 256, rounds: int = 2000, insert_batch: int = 512,
                 prompt_max: int = 16, completion_max: int = 32, seed: int = 0,
                 log: Callable[[str], None] = print) -> BufferBench:
    """Run the comparison; `log` receives progress lines."""
    items -= items % insert_batch
    settings = (f"{items:,} items in batches of {insert_batch}, capacity {items:,}, {rounds} rounds of "
                f"{batch}, prompts <= {prompt_max} and completions <= {completion_max} tokens")
    log(settings)
    w = make_workload(items, insert_batch, prompt_max, completion_max, seed)
    clocks = _Clock(), _Clock()
    held = {"ours": clocks[0](CosmoBuffer, BufferConfig(capacity=items, seed=seed)),
            "cpprb": clocks[1](_cpprb_buffer, items, prompt_max, completion_max)}
    construct = clocks[0].seconds, clocks[1].seconds
    ours_in, cpprb_in = _insert_phase(held["ours"], held["cpprb"], w, 0, items, insert_batch, clocks)
    stats, memory = held["ours"].stats(), held["ours"].memory()
    log(f"insert: cosmocore {ours_in.per_s:,.0f} items/s, cpprb {cpprb_in.per_s:,.0f} items/s")
    ours_r, cpprb_r, mixed_r = _round_phase(held["ours"], held["cpprb"], rounds, batch, seed + 1)
    log(f"sample+update: cosmocore {ours_r.per_s:,.0f} items/s, cpprb {cpprb_r.per_s:,.0f} items/s")
    start = _top_up(held["ours"], w, items, insert_batch)
    extra = max(insert_batch, items // 10 - (items // 10) % insert_batch)
    ours_full, cpprb_full = _insert_phase(held["ours"], held["cpprb"], w, start, extra, insert_batch)
    sizes = len(held["ours"]), held["cpprb"].get_stored_size()
    ours_side = Side(ours_in, construct[0], ours_r, ours_full, _freed(held, "ours"), sizes[0])
    cpprb_side = Side(cpprb_in, construct[1], cpprb_r, cpprb_full, _freed(held, "cpprb"), sizes[1])
    return BufferBench(ours_side, cpprb_side, mixed_r, stats.size, stats.dream_size, stats.pruned_at_insert,
                       memory.per_item, settings)


def format_bench(b: BufferBench) -> str:
    rows = [("construct + insert", b.ours.insert, b.cpprb.insert),
            ("sample + update priorities", b.ours.rounds, b.cpprb.rounds),
            ("insert into the full buffer", b.ours.full_insert, b.cpprb.full_insert)]
    lines = [b.settings,
             f"{'phase':<30} {'cosmocore items/s':>18} {'cpprb items/s':>15} {'ratio':>7}"]
    lines += [f"{name:<30} {o.per_s:>18,.0f} {c.per_s:>15,.0f} {o.per_s / c.per_s:>6.2f}x" for name, o, c in rows]
    inserts = [Phase(side.insert.items, side.insert.seconds - side.construct_s) for side in (b.ours, b.cpprb)]
    lines.append(f"construction: cosmocore {b.ours.construct_s:.3f} s, cpprb {b.cpprb.construct_s:.3f} s; "
                 f"inserts alone: cosmocore {inserts[0].per_s:,.0f} items/s, cpprb {inserts[1].per_s:,.0f} items/s "
                 f"({inserts[0].per_s / inserts[1].per_s:.2f}x)")
    lines.append(f"cosmocore sample_mixed (80% dream / 20% uniform) + update: {b.mixed_rounds.per_s:,.0f} items/s")
    lines.append(f"cosmocore after the insert phase: {b.stored:,} stored, {b.dream_size:,} in the Dream Queue, "
                 f"{b.pruned:,} pruned at insert")
    lines.append(f"memory per stored trajectory (resident-set drop on delete): cosmocore "
                 f"{b.ours.rss_bytes / b.ours.size:,.0f} B, cpprb {b.cpprb.rss_bytes / b.cpprb.size:,.0f} B; "
                 f"cosmocore arrays' nbytes {b.accounted_bytes_per_item:,.0f} B")
    return "\n".join(lines)
