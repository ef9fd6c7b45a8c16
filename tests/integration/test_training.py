"""`cosmocore train`, `reproduce` and `report` through the real CLI, on a tiny random Llama (seconds).

What they protect: a run directory holds its resolved config, metrics and checkpoints; a bad config
fails before any work, naming the key; a run killed with SIGKILL resumes with no lost or duplicated
step or buffer item; a grid produces every report file, and an interrupted grid reruns only what
did not finish.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tiny_models

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (as in CI and sessions)")

TINY = ["--run.prompts_per_step", "2", "--run.samples_per_prompt", "2", "--run.eval_tasks", "3",
        "--run.train_tasks", "20", "--policy.max_new_tokens", "12", "--buffer.capacity", "200",
        "--learn.nocturnal_every", "1", "--learn.nocturnal_minibatches", "1", "--learn.replay_batch_size", "4",
        "--sandbox.workers", "1"]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build("llama", tmp_path_factory.mktemp("model") / "llama")


def cosmocore(*args: str, **kwargs) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "cosmocore.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env, **kwargs)


def steps_logged(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_run_directory_holds_config_metrics_and_checkpoints(tiny_llama: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = cosmocore("train", "--method", "cosmocore", "--model", str(tiny_llama), "--steps", "2", "--out", str(out),
                     "--run.eval_every", "1", *TINY)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert steps_logged(out) == [0, 1, 2]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert {"rollout/pass_rate", "update/loss", "nocturnal/loss", "buffer/size", "eval/pass_at_1"} <= rows[-1].keys()
    assert all(k == "step" or "/" in k for row in rows for k in row)  # stage-namespaced keys only
    assert "method: cosmocore" in (out / "config.yaml").read_text()
    latest = (out / "checkpoints" / "LATEST").read_text()
    assert {p.name for p in (out / "checkpoints" / latest).iterdir()} >= {"policy", "tagger", "optimizer", "buffer"}
    assert "step 2/2" in proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--buffer.capacityy", "5"], "unknown config key 'buffer.capacityy' (did you mean 'buffer.capacity'?)"),
    (["--learn.lr", "fast"], "config key 'learn.lr' must be float, got 'fast'"),
    (["--buffer.dream_valence", "-1"], "invalid buffer setting dream_valence=-1.0"),
    (["--method", "dqn"], "unknown method 'dqn'"),
])
def test_a_bad_config_fails_before_any_work_naming_the_key(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "run"
    proc = cosmocore("train", "--out", str(out), *args)
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count("\n") == 1
    assert not out.exists()


def test_a_run_killed_with_sigkill_resumes_without_lost_or_duplicated_steps(tiny_llama: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "--method", "uniform-replay", "--model", str(tiny_llama), "--steps", "4", "--out", str(out),
            "--run.checkpoint_every", "1", "--run.eval_every", "0", *TINY]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "cosmocore.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + 300
    while not ((out / "metrics.jsonl").exists() and 2 in steps_logged(out)):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # mid-run: between or inside steps, whatever it was doing
    proc.wait()
    assert not (out / "DONE.json").exists()
    resumed = cosmocore("train", "--resume", "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert steps_logged(out) == [0, 1, 2, 3, 4]
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["perf/completions"] == 4 * 2 * 2  # every step's completions counted once
    assert last["buffer/size"] == last["buffer/inserted"] == 16  # no buffer item lost or stored twice


def test_resume_refuses_a_directory_without_a_run(tmp_path: Path) -> None:
    proc = cosmocore("train", "--resume", "--out", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and "holds no run to resume" in proc.stderr


def tiny_grid(tiny_llama: Path, tmp_path: Path) -> Path:
    grid = tmp_path / "grid.yaml"
    grid.write_text(f"""
name: tiny
methods: [ppo, cosmocore]
seeds: [1, 2]
self_correction: [cosmocore]
self_correction_tasks: 2
self_correction_cycles: 2
overrides:
  policy.model: {tiny_llama}
  run.steps: 2
  run.eval_every: 1
  run.prompts_per_step: 2
  run.samples_per_prompt: 2
  run.eval_tasks: 3
  run.train_tasks: 20
  policy.max_new_tokens: 12
  buffer.capacity: 200
  learn.nocturnal_every: 1
  learn.nocturnal_minibatches: 1
  learn.replay_batch_size: 4
  sandbox.workers: 1
""")
    return grid


def test_a_tiny_grid_writes_every_report_file_and_reruns_only_unfinished_runs(tiny_llama: Path,
                                                                              tmp_path: Path) -> None:
    grid = tiny_grid(tiny_llama, tmp_path)
    out = tmp_path / "out"
    first = cosmocore("reproduce", "--grid", str(grid), "--out", str(out))
    assert first.returncode == 0, first.stderr[-2000:]
    for name in ("results.json", "results.csv", "report.md", "report.html", "learning_curves.png",
                 "status_breakdown.png", "buffer_occupancy.png", "cycles_to_zero_error.png"):
        assert (out / name).stat().st_size > 0, name
    answer = first.stdout.splitlines()[:4]  # the title, then the answer: vs ppo, vs uniform-replay, learned at all
    assert answer[0].startswith("CosmoCore results: tiny grid")
    assert answer[1].startswith("CosmoCore vs ppo, held-out pass@1 gain over step 0: ") and "MDE" in answer[1]
    assert answer[2].startswith("CosmoCore vs uniform-replay: not in this grid")
    assert answer[3].startswith("Learned at all? ")
    results = json.loads((out / "results.json").read_text())
    assert {(r["method"], r["seed"]) for r in results["runs"]} == {("ppo", 1), ("ppo", 2), ("cosmocore", 1),
                                                                  ("cosmocore", 2)}
    headline = [r for r in results["paired"] if r["family"] == "headline"]
    assert [(r["method"], r["baseline"], r["metric"], r["n"], r["interval"]) for r in headline] == [
        ("cosmocore", "ppo", results["primary"], 2, "t")]
    assert all(run["final"]["eval/pass_at_1_start"] is not None for run in results["runs"])  # the step-0 evaluation
    assert len(results["self_correction"]) == 2
    kept = out / "runs" / "ppo" / "seed-1" / "metrics.jsonl"
    before = kept.stat().st_mtime_ns
    (out / "runs" / "cosmocore" / "seed-2" / "DONE.json").unlink()  # as if killed at its very end
    (out / "results.json").unlink()
    again = cosmocore("reproduce", "--grid", str(grid), "--out", str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    assert kept.stat().st_mtime_ns == before  # a finished run is not run again
    assert "cosmocore seed 2" in again.stderr and "ppo seed 1" not in again.stderr
    assert (out / "results.json").exists()
    (out / "report.md").unlink()
    rerendered = cosmocore("report", str(out))
    assert rerendered.returncode == 0 and (out / "report.md").exists()


def test_runs_in_parallel_worker_processes_give_the_same_numbers_as_runs_in_turn(tiny_llama: Path,
                                                                                 tmp_path: Path) -> None:
    grid = tiny_grid(tiny_llama, tmp_path)
    finals = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        proc = cosmocore("reproduce", "--grid", str(grid), "--out", str(out), "--jobs", jobs)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Loading weights" not in proc.stderr and "Writing model shards" not in proc.stderr
        runs = json.loads((out / "results.json").read_text())["runs"]
        finals[jobs] = {(r["method"], r["seed"]): {k: v for k, v in r["final"].items() if not k.startswith("perf/")}
                        for r in runs}  # wall times differ; no learned number may (nothing reads a clock)
    assert finals["1"] == finals["2"]

