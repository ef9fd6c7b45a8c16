"""`cosmocore eval` and `cosmocore pretrain` in a subprocess: real output, real files, bad input.

A tiny random model stands in for a real one: its pass rate is ~0, but every stage runs for real
(generation, the sandbox, the summary, the results file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiny_models

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (CI and sessions run as root)")


def run(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COSMOCORE_CACHE": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "cosmocore.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build("qwen2", tmp_path_factory.mktemp("model") / "qwen2")


def test_eval_on_a_world_split_prints_the_summary_and_writes_one_result_per_completion(tmp_path, tiny_model):
    out = tmp_path / "results.jsonl"
    proc = run("eval", "--model", str(tiny_model), "--world", "miniworld-py", "--split", "test", "--limit", "3",
               "--samples", "2", "--max-new-tokens", "12", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for expected in ("judged 6 of 6 completions", "pass@1: ", "pass@2: ", "hallucination (reward <= 0): ",
                     "wrong_answer", "syntax_error", "mean entropy: ", "tokens/s", f"results: {out}"):
        assert expected in proc.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 6 and [line["sample"] for line in lines] == [0, 1] * 3
    assert {"task_id", "completion", "status", "passed", "reward", "hallucinated", "mean_entropy", "tokens"} <= set(
        lines[0])
    assert all(line["tokens"] <= 12 and line["mean_entropy"] > 0 for line in lines)


def test_eval_results_are_a_samples_file_cosmocore_check_agrees_with(tmp_path, tiny_model):
    out, problems = tmp_path / "results.jsonl", tmp_path / "problems.jsonl"
    assert run("worlds", "export", "miniworld-py", "--split", "test", "--n", "2", "--out", str(problems),
               cwd=tmp_path).returncode == 0
    assert run("eval", "--model", str(tiny_model), "--benchmark", "jsonl", "--problems", str(problems),
               "--max-new-tokens", "8", "--out", str(out), cwd=tmp_path).returncode == 0
    rechecked = tmp_path / "rechecked.jsonl"
    proc = run("check", str(out), "--problems", str(problems), "--out", str(rechecked), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first = [json.loads(line)["status"] for line in out.read_text().splitlines()]
    assert [json.loads(line)["status"] for line in rechecked.read_text().splitlines()] == first


@pytest.mark.parametrize("args, message", [
    (["eval", "--model", "/no/such/model", "--world", "miniworld-py"], "model directory not found: /no/such/model"),
    (["eval", "--world", "nope"], "unknown world 'nope'"),
    (["eval", "--world", "miniworld-py", "--samples", "0"], "--samples must be at least 1"),
    (["eval", "--world", "miniworld-py", "--temperature", "-1"], "invalid policy setting temperature=-1.0"),
    (["eval", "--world", "miniworld-py", "--limit", "0"], "--limit must be at least 1"),
    (["pretrain", "--world", "nope", "--out", "m"], "cannot pretrain on world 'nope'"),
    (["pretrain", "--out", "m", "--steps", "0"], "invalid pretrain setting steps=0"),
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, args, message):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"cosmocore: error: {message}"), proc.stderr
    assert not (tmp_path / "eval_results.jsonl").exists() and not (tmp_path / "cache").exists()


def test_help_lists_the_policy_commands(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert "pretrain" in proc.stdout and "eval" in proc.stdout


@pytest.mark.slow
def test_the_embedded_model_is_built_on_first_use_and_starts_imperfect_on_held_out_tasks(tmp_path):
    """The full default build (about 4-5 minutes on 2 cores), then the held-out test split."""
    out = tmp_path / "results.jsonl"
    proc = run("eval", "--world", "miniworld-py", "--split", "test", "--cache-dir", str(tmp_path / "cache"),
               "--out", str(out), cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    pass_at_1 = sum(line["passed"] for line in lines) / len(lines)
    failures = {line["status"] for line in lines if not line["passed"]}
    assert len(lines) == 625 and 0.25 <= pass_at_1 <= 0.65
    assert {"wrong_answer", "syntax_error", "name_error"} <= failures
