"""`cosmocore worlds` through the real CLI: export a world, then judge its files with `cosmocore check`.

Every reference must pass and every kept injected bug must fail; equivalent mutants are dropped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (as in CI and sessions)")


def cosmocore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "cosmocore.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def results(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_exported_world_checks_like_a_benchmark(tmp_path):
    cosmocore("worlds", "export", "miniworld-py", "--split", "test", "--n", "60", "--out", "problems.jsonl",
              "--references", "refs.jsonl", "--bugs", "bugs.jsonl", cwd=tmp_path)
    problems = results(tmp_path / "problems.jsonl")
    assert len(problems) == 60 and {p["split"] for p in problems} == {"test"}
    cosmocore("check", "refs.jsonl", "--problems", "problems.jsonl", "--out", "refs_r.jsonl", cwd=tmp_path)
    assert all(r["passed"] for r in results(tmp_path / "refs_r.jsonl"))
    cosmocore("check", "bugs.jsonl", "--problems", "problems.jsonl", "--out", "bugs_r.jsonl", cwd=tmp_path)
    bugs = results(tmp_path / "bugs_r.jsonl")
    assert not any(r["passed"] for r in bugs)
    assert len(Counter(r["bug"] for r in bugs)) == 8  # every category is represented


def test_worlds_list_and_show(tmp_path):
    listed = cosmocore("worlds", "list", cwd=tmp_path).stdout
    assert "miniworld-py" in listed and "3000 tasks" in listed
    shown = cosmocore("worlds", "show", "miniworld-py", "--n", "2", cwd=tmp_path).stdout
    assert shown.count("# miniworld-py/") == 2 and "def " in shown
