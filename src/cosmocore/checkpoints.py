"""Atomic run checkpoints: a directory per step, made visible only once complete.

    run_dir/checkpoints/step-000010.partial/   written part by part (policy, tagger, optimizer, buffer, state)
    run_dir/checkpoints/step-000010/           renamed once every part is on disk
    run_dir/checkpoints/LATEST                 "step-000010", replaced atomically after the rename

A run killed at any moment leaves either the previous checkpoint as LATEST or the new one, never a
half-written one; leftovers (`.partial` directories, checkpoints older than the one kept before
LATEST) are removed on the next save. `state.json` holds the loop's own state (step, RNG states).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Writer = Callable[[Path], None]  # writes one part into the checkpoint directory it is given
KEEP = 2  # complete checkpoints kept: the latest and the one before it


@dataclass(frozen=True)
class Checkpoint:
    step: int
    path: Path

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path / "state.json").read_text())
        return data


def _root(run_dir: Path) -> Path:
    return run_dir / "checkpoints"


def _name(step: int) -> str:
    return f"step-{step:06d}"


def save(run_dir: Path, step: int, writers: Mapping[str, Writer], state: Mapping[str, Any]) -> Checkpoint:
    """Write a complete checkpoint for `step` and make it the latest."""
    root = _root(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    partial = root / (_name(step) + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for name, write in writers.items():
        (partial / name).mkdir()
        write(partial / name)
    (partial / "state.json").write_text(json.dumps({"step": step, **state}))
    final = root / _name(step)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)
    _write_pointer(root, final.name)
    _prune(root, final.name)
    return Checkpoint(step, final)


def _write_pointer(root: Path, name: str) -> None:
    tmp = root / "LATEST.tmp"
    with open(tmp, "w") as f:
        f.write(name)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / "LATEST")


def _prune(root: Path, latest_name: str) -> None:
    complete = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-")
                      and not p.name.endswith(".partial") and p.name <= latest_name)
    for old in complete[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in root.glob("*.partial"):
        shutil.rmtree(leftover, ignore_errors=True)


def latest(run_dir: Path) -> Checkpoint | None:
    """The last complete checkpoint of a run, or None if it has none yet."""
    pointer = _root(run_dir) / "LATEST"
    if not pointer.exists():
        return None
    path = _root(run_dir) / pointer.read_text().strip()
    return Checkpoint(int(path.name.removeprefix("step-")), path)
