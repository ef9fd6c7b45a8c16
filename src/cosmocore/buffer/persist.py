"""Save and load a `CosmoBuffer` without pickle: one .npz file of arrays plus a JSON document.

The JSON part (config as it is now, counters, RNG state, task-id vocabulary, arena positions) is
stored inside the same .npz as a uint8 array named `meta`, so the checkpoint is a single file and
the write is atomic: it goes to a temporary file in the same directory, is fsynced, then renamed
over the target with `os.replace`. A crash leaves either the old file or the new one. Loading uses
`allow_pickle=False`.

What is saved: live flags, generations, the free-slot stack and the live-slot list (so ids handed
out before a save still resolve, or not, after a load, and uniform draws pick the same slots);
priority components, priorities and Dream Queue flags; the leaf weights of the sum trees, brought up
to date first (internal nodes are rebuilt from them, giving the same sums); the payload arenas
up to their end (garbage included, not compacted, so saving does not change the buffer); the live
items' execution features (in live-list order); the eviction pool; counters; the generator state.
A loaded buffer draws the same samples as the saved one would have, for the same generator state.
A checkpoint of another format version is refused, naming the file and the format.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from cosmocore.buffer.core import CosmoBuffer, Counts
from cosmocore.buffer.storage import Arena
from cosmocore.config import BufferConfig
from cosmocore.errors import InputError

FORMAT = "cosmocore-buffer/2"  # 2: execution features per item, expiry and Dream Queue join / leave counters


def save_buffer(buffer: CosmoBuffer, path: Path) -> None:
    arrays = _arrays(buffer)
    arrays["meta"] = np.frombuffer(json.dumps(_meta(buffer)).encode(), np.uint8)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub types the kwargs as allow_pickle
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _arrays(b: CosmoBuffer) -> dict[str, np.ndarray]:
    cap = b.config.capacity
    out = {"alive": b.slots.alive, "generation": b.slots.generation, "free": b.slots.free[:b.slots.top],
           "item_rows": b.table.rows,
           "members": b.slots.members[:len(b)], "weights": b.weights.current().leaves[:cap],
           "dream_weights": b.dream_weights.current().leaves[:cap],
           "payload_rows": b.payload.rows, "eviction_pool": b.eviction.pool}
    for name, arena in (("prompts", b.payload.prompts), ("completions", b.payload.completions)):
        for k, data in enumerate(arena.data):
            out[f"{name}_data{k}"] = data[:arena.end]
    if b.payload.features is not None:
        out["features"] = b.payload.features[b.slots.members[:len(b)]]  # (live, F), in live-list order
    return out


def _meta(b: CosmoBuffer) -> dict[str, Any]:
    return {"format": FORMAT, "config": asdict(b.config), "counts": asdict(b.counts),
            "dream_size": b.dream_size, "rng": b.rng.bit_generator.state,
            "task_names": b.payload.task_names, "eviction_ceiling": b.eviction.ceiling,
            "feature_width": None if b.payload.features is None else b.payload.features.shape[1],
            "arenas": {"prompts": b.payload.prompts.used, "completions": b.payload.completions.used}}


def load_buffer(path: Path) -> CosmoBuffer:
    if not path.is_file():
        raise InputError(f"buffer checkpoint not found: {path}")
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        _check_format(path, meta.get("format"))
        buffer = CosmoBuffer(BufferConfig(**meta["config"]))
        _restore_slots(buffer, z)
        _restore_table(buffer, z)
        _restore_payload(buffer, z, meta)
    buffer.counts = Counts(**meta["counts"])
    buffer.dream_size = int(meta["dream_size"])
    buffer.eviction.ceiling = float(meta["eviction_ceiling"])
    buffer.rng = np.random.Generator(np.random.PCG64())
    buffer.rng.bit_generator.state = meta["rng"]
    return buffer


def _check_format(path: Path, found: Any) -> None:
    if found == FORMAT:
        return
    if isinstance(found, str) and found.startswith("cosmocore-buffer/"):  # another CosmoCore version's
        raise InputError(f"{path}: a {found} checkpoint, but this version reads {FORMAT} only (format 1 lacks "
                         "the per-item execution features); start a fresh buffer")
    raise InputError(f"{path}: not a {FORMAT} checkpoint (format {found!r})")


def _restore_slots(b: CosmoBuffer, z: Any) -> None:
    b.slots.alive[:] = z["alive"]
    b.slots.generation[:] = z["generation"]
    free, members = z["free"], z["members"]
    b.slots.free[:len(free)] = free
    b.slots.top = len(free)
    b.slots.members[:len(members)] = members
    b.slots.position[members] = np.arange(len(members))


def _restore_table(b: CosmoBuffer, z: Any) -> None:
    b.table.rows[:] = z["item_rows"]  # td, valence, arousal, priority, Dream Queue flags
    b.weights.restore(z["weights"])
    b.dream_weights.restore(z["dream_weights"])
    b.eviction.replace_pool(z["eviction_pool"].astype(np.int64))


def _restore_payload(b: CosmoBuffer, z: Any, meta: dict[str, Any]) -> None:
    p = b.payload
    p.rows[:] = z["payload_rows"]  # scalars and both arenas' row offsets
    p.set_task_names(meta["task_names"])
    for name, arena in (("prompts", p.prompts), ("completions", p.completions)):
        _restore_arena(arena, z, name, int(meta["arenas"][name]))
    if meta["feature_width"] is not None:
        p.features = np.zeros((b.config.capacity, int(meta["feature_width"])), np.float32)
        p.features[b.slots.members[:len(b)]] = z["features"]


def _restore_arena(arena: Arena, z: Any, name: str, used: int) -> None:
    for k, data in enumerate(arena.data):
        written = z[f"{name}_data{k}"]
        if len(written) > len(data):  # saved by a buffer whose arena had grown past its reservation
            arena.data[k] = data = np.zeros(2 * len(written), data.dtype)
        data[:len(written)] = written
    arena.end = len(z[f"{name}_data0"])
    arena.used = used
