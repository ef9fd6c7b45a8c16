"""The real `cosmocore` command in a subprocess: happy paths and every bad-input path.

Bad input ends with one line on stderr, `cosmocore: error: ...`, exit code 2, and no results file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (CI and sessions run as root)")

PROBLEMS = [
    {"task_id": "Demo/0", "entry_point": "add", "prompt": "def add(a, b):\n    \"\"\"Sum of a and b.\"\"\"\n",
     "canonical_solution": "    return a + b\n",
     "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"},
    {"task_id": "Demo/1", "entry_point": "double", "prompt": "def double(x):\n",
     "canonical_solution": "    return 2 * x\n", "test": "def check(candidate):\n    assert candidate(4) == 8\n"},
]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cosmocore.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def problems(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "problems.jsonl", PROBLEMS)


def test_check_judges_a_samples_file_and_prints_status_counts_and_pass_at_k(tmp_path, problems):
    samples = write_jsonl(tmp_path / "samples.jsonl", [
        {"task_id": "Demo/0", "completion": "    return a + b\n", "id": 1},
        {"task_id": "Demo/0", "completion": "    return a - b\n", "id": 2},
        {"task_id": "Demo/1", "completion": "    return x +\n", "id": 3},
        {"task_id": "Demo/1", "completion": "    return helper(x)\n", "id": 4},
        {"task_id": "Demo/0", "solution": "def add(a, b):\n    while True:\n        pass\n", "id": 5},
        {"task_id": "Demo/1", "solution": "def double(x):\n    return x * 2\n", "id": 6},
    ])
    out = tmp_path / "results.jsonl"
    proc = run("check", str(samples), "--problems", str(problems), "--out", str(out), "--timeout-s", "1",
               "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in results] == [1, 2, 3, 4, 5, 6]  # the sample's own fields, in order
    assert [r["status"] for r in results] == ["passed", "wrong_answer", "syntax_error", "name_error",
                                              "timeout", "passed"]
    assert results[0]["tests_passed"] == results[0]["tests_total"] == 2 and results[0]["passed"] is True
    assert {"passed", "status", "tests_passed", "tests_total", "duration_s", "detail"} <= results[1].keys()
    assert "pass@1: 0.3333" in proc.stdout and "pass@10" not in proc.stdout
    assert "wrong_answer" in proc.stdout and "judged 6 of 6 samples" in proc.stdout


def test_check_reads_a_named_benchmark(tmp_path):
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "    return False\n"}])
    proc = run("check", str(samples), "--benchmark", "humaneval", "--out", str(tmp_path / "r.jsonl"),
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "r.jsonl").read_text())["status"] == "wrong_answer"


@pytest.mark.parametrize(
    ("samples_text", "message"),
    [
        (None, "samples file not found"),
        ('{"task_id": "Demo/0", "completion": "x"}\n{not json\n', "line 2: not valid JSON"),
        ('{"task_id": "Nope/9", "completion": "x"}\n', "line 1: unknown task id 'Nope/9'"),
        ('{"task_id": "Demo/0"}\n', "line 1: missing field 'completion'"),
        ('{"completion": "x"}\n', "line 1: missing field 'task_id'"),
        ('[1, 2]\n', "line 1: expected a JSON object"),
        ("", "no samples"),
    ],
)
def test_bad_samples_get_one_line_naming_the_problem_and_exit_2(tmp_path, problems, samples_text, message):
    samples = tmp_path / "samples.jsonl"
    if samples_text is not None:
        samples.write_text(samples_text)
    out = tmp_path / "results.jsonl"
    proc = run("check", str(samples), "--problems", str(problems), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("cosmocore: error: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--problems", "missing.jsonl"], "missing.jsonl"),
        (["--benchmark", "nosuch"], "unknown benchmark 'nosuch'"),
        (["--benchmark", "mbpp"], "--problems"),
        ([], "give --benchmark NAME or --problems FILE"),
        (["--benchmark", "humaneval", "--timeout-s", "0"], "timeout_s"),
        (["--benchmark", "humaneval", "--memory-mb", "1"], "memory_mb"),
        (["--benchmark", "humaneval", "--out", "/proc/no-such-dir/r.jsonl"], "cannot write /proc/no-such-dir/r.jsonl"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(tmp_path, args, message):
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "x"}])
    out = [] if "--out" in args else ["--out", str(tmp_path / "r.jsonl")]
    proc = run("check", str(samples), *args, *out, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("cosmocore: error: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_a_failed_check_leaves_an_earlier_results_file_untouched(tmp_path, problems):
    out = tmp_path / "results.jsonl"
    out.write_text("earlier results\n")
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "Nope/1", "completion": "x"}])
    proc = run("check", str(samples), "--problems", str(problems), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert out.read_text() == "earlier results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no half-written temp file


def test_doctor_reports_every_isolation_layer_on(tmp_path):
    proc = run("doctor", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all isolation layers on" in proc.stdout and "OFF" not in proc.stdout


def test_help_lists_the_commands(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for command in ("check", "doctor", "bench", "demo"):
        assert command in proc.stdout
