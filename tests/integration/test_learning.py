"""A short real training run on the embedded default model, through the CLI: the pass rate on the
training tasks goes up (slow: builds the embedded model when it is not cached)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (as in CI and sessions)")]


def test_the_training_pass_rate_rises_on_a_fixed_task_set(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "--method", "cosmocore", "--steps", "12", "--out", str(out), "--run.train_tasks", "8",
            "--run.prompts_per_step", "8", "--run.samples_per_prompt", "4", "--run.eval_every", "0",
            "--run.eval_tasks", "8", "--learn.lr", "1e-4", "--buffer.capacity", "5000", "--learn.nocturnal_every", "1"]
    proc = subprocess.run([sys.executable, "-m", "cosmocore.cli", *args], capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    rates = [r["rollout/pass_rate"] for r in rows if "rollout/pass_rate" in r]
    assert sum(rates[-4:]) / 4 > sum(rates[:2]) / 2 + 0.1, rates
