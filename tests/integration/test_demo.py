"""`cosmocore demo`, the main job, end to end through the real CLI (slow: it builds the embedded model
when it is not cached, then runs the quick grid; `make demo` is the same command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (as in CI and sessions)")]


def test_the_demo_writes_the_report_and_states_a_verdict_against_each_baseline(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cosmocore.cli", "demo", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name in ("results.json", "results.csv", "report.md", "report.html", "learning_curves.png"):
        assert (tmp_path / name).exists(), name
    for baseline in ("ppo", "uniform-replay"):
        assert f"CosmoCore vs {baseline}, held-out pass@1 gain over step 0: " in proc.stdout
    assert "Learned at all? " in proc.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results["runs"]) == 12  # 4 methods x 3 seeds
    assert "Loading weights" not in proc.stderr and "Writing model shards" not in proc.stderr
