"""The one metrics recorder: every stage's numbers, keyed `stage/name`, to JSON Lines (and the console).

Each `log(step, metrics)` appends one line `{"step": S, "rollout/pass_rate": ..., ...}` and flushes it,
so a killed run loses at most the line being written; `truncate_after(step)` drops the lines a resumed
run will write again, so the file never holds a step twice. Keys must be namespaced by stage
(`rollout/`, `sandbox/`, `buffer/`, `update/`, `affect/`, `tagger/`, `warmup/`, `nocturnal/`, `eval/`,
`perf/`); values must be finite
numbers or None. TensorBoard is optional: pass `tensorboard_dir` and have `tensorboard` installed.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

STAGES = ("rollout", "sandbox", "buffer", "update", "affect", "tagger", "warmup", "eval", "perf", "nocturnal")


def check_key(key: str) -> None:
    stage, _, name = key.partition("/")
    if stage not in STAGES or not name:
        raise ValueError(f"metric key {key!r} must be 'stage/name' with stage one of {', '.join(STAGES)}")


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a metrics file (a torn last line, from a kill mid-write, is skipped)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


class MetricsRecorder:
    """Appends metrics to `path` (JSON Lines); optionally echoes chosen keys and mirrors to TensorBoard."""

    def __init__(self, path: Path, tensorboard_dir: Path | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _tensorboard(tensorboard_dir)

    def log(self, step: int, metrics: Mapping[str, float | None]) -> None:
        row: dict[str, Any] = {"step": step}
        for key, value in metrics.items():
            check_key(key)
            row[key] = None if value is None or not math.isfinite(float(value)) else float(value)
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self._writer is not None:
            for key, value in row.items():
                if key != "step" and value is not None:
                    self._writer.add_scalar(key, value, step)

    def truncate_after(self, step: int) -> None:
        """Keep only the lines of steps <= `step` (what a checkpoint at `step` has seen); atomically."""
        kept = [row for row in read_metrics(self.path) if int(row.get("step", 0)) <= step]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(row) + "\n" for row in kept))
        os.replace(tmp, self.path)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _tensorboard(directory: Path | None) -> Any:
    if directory is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(directory))
