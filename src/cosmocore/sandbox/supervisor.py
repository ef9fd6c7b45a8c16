"""One sample, seen from the fork server: fork the candidate, judge it, keep the deadline.

    fork server (root; judges; keeps the deadline; outside the sample's namespaces)
        --unshare(pid, mount, ipc) + fork--> candidate
                (PID 1 of the sample; runs the program; unprivileged uid; rlimits; own /proc)

The fork server runs the tests itself (`judge`), calling the candidate over a socket; the
candidate's output goes to a memory file the fork server reads (capped) afterwards. At the verdict
or the deadline it SIGKILLs the candidate: as PID 1 its death makes the kernel kill everything the
sample started, daemons included. The deadline is a timer of the fork server's: signals, timers or
C loops inside the sample cannot move it.

A script sample (`ScriptTests`, `run_script`) has no judge: the fork server hands the candidate the
program, waits for its report (exit status, fetched files) under the same deadline, and reads the
script's stdout and stderr from two memory files, each capped.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from cosmocore.sandbox import candidate, isolation
from cosmocore.sandbox.candidate import SampleSpec
from cosmocore.sandbox.judge import DeadlineExceeded, Recorder, Remote, TestFailure, judge
from cosmocore.sandbox.plans import Plan
from cosmocore.sandbox.verdict import decide, truncate
from cosmocore.sandbox.wire import Job
from cosmocore.types import ScriptTests

JUDGE_SEED = 0  # `random` is reseeded with this before each sample's tests run


def _fork_candidate(job: Job, spec: SampleSpec, layers: isolation.Layers,
                    home: isolation.HomeNamespaces | None,
                    stdio: tuple[int, int] | None = None) -> tuple[int, int, int]:
    """Fork the candidate as PID 1 of fresh namespaces: (pid, socket fd, output memfd).

    The fork server itself goes back to its own namespaces right after the fork. `stdio` (scripts):
    the fds the candidate takes as its stdin and its stderr.
    """
    judge_end, candidate_end = socket.socketpair()
    out = os.memfd_create("cosmocore-output")  # stdout+stderr; bounded by RLIMIT_FSIZE
    if home is not None:
        home.enter_sample()
    try:
        pid = os.fork()
        if pid == 0:
            try:
                judge_end.close()
                candidate.main(spec, job.memory_mb, job.timeout_s, layers.pid_ns, candidate_end.fileno(), out, stdio)
            finally:
                os._exit(0)
    finally:
        if home is not None:
            home.leave_sample()
    candidate_end.close()
    return pid, judge_end.detach(), out


def _reap(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _on_deadline(signum: int, frame: object) -> None:
    raise DeadlineExceeded


def _within(deadline_s: float, work: Callable[[], None]) -> bool:
    """Run `work` under a wall-clock alarm; True if the deadline cut it short."""
    signal.signal(signal.SIGALRM, _on_deadline)
    try:
        signal.setitimer(signal.ITIMER_REAL, deadline_s)
        try:
            work()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except DeadlineExceeded:
        return True
    return False


def run_sample(job: Job, plan: Plan, spec: SampleSpec, layers: isolation.Layers,
               home: isolation.HomeNamespaces | None,
               prelude: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    """Run one sample; returns its result record and the candidate's pid if it is still to be reaped.

    `prelude` is sent to the candidate before its program loads (a Spark sample's attach request)."""
    start = time.monotonic()
    pid, sock, out = _fork_candidate(job, spec, layers, home)
    remote = Remote(sock, out, pid, _reap)
    rec = Recorder()
    random.seed(JUDGE_SEED)  # tests that draw random inputs draw the same ones for every sample
    left_s = max(job.timeout_s - (time.monotonic() - start), 0.001)
    deadline_hit = _within(left_s, lambda: judge(job.program, plan, rec, remote, prelude))
    if not remote.reaped:
        os.kill(pid, signal.SIGKILL)  # PID 1: the whole sample goes with it
    output = remote.output(spec.output_limit_bytes)
    os.close(sock)
    os.close(out)
    verdict = decide(rec.records, deadline_hit=deadline_hit)
    values = [r.get("value") for r in rec.records if r.get("t") == "unit"] if job.record else None
    result = {"status": verdict.status, "tests_passed": verdict.tests_passed,
              "tests_total": verdict.tests_total, "duration_s": time.monotonic() - start,
              "detail": verdict.detail, "output": output, "values": values}
    return result, (-1 if remote.reaped else pid)


# ---- script mode ---------------------------------------------------------------------------------


def _stdin_file(text: str) -> int:
    """A memory file holding `text`, positioned at its start: the script's stdin."""
    fd = os.memfd_create("cosmocore-stdin")
    data = memoryview(text.encode())
    while data:
        data = data[os.write(fd, data) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _script_report(remote: Remote, job: Job, tests: ScriptTests) -> dict[str, Any]:
    """Send the candidate the script and wait for its report; an `error` record if it has none."""
    request = {"op": "script", "program": job.program, "files": [list(f) for f in tests.files],
               "fetch": list(tests.fetch_files)}
    try:
        reply = remote.request(request)
    except TestFailure as failure:  # the candidate (PID 1, not the script) died: the sandbox's failure
        return {"outcome": "error", "detail": f"sandbox: {failure.detail}"}
    if reply.get("ok") is not True:
        return {"outcome": "error", "detail": truncate(f"{reply.get('exc_type')}: {reply.get('message')}")}
    files = reply.get("files")
    if not isinstance(reply.get("exit"), int) or not isinstance(files, dict):
        return {"outcome": "error", "detail": "malformed report from the sample"}
    return {"outcome": "finished", "return_code": reply["exit"], "detail": "",
            "files": [[str(k), str(v)] for k, v in files.items()]}


def run_script(job: Job, tests: ScriptTests, spec: SampleSpec, layers: isolation.Layers,
               home: isolation.HomeNamespaces | None) -> tuple[dict[str, Any], int]:
    """Run one script sample; returns its record (outcome, return code, stdout, stderr, fetched files)
    and the candidate's pid if it is still to be reaped."""
    start = time.monotonic()
    stdin, err = _stdin_file(tests.stdin), os.memfd_create("cosmocore-stderr")
    try:
        pid, sock, out = _fork_candidate(job, spec, layers, home, (stdin, err))
    finally:
        os.close(stdin)
    remote = Remote(sock, out, pid, _reap)
    report: dict[str, Any] = {"outcome": "timeout", "detail": "wall-clock deadline exceeded"}
    left_s = max(job.timeout_s - (time.monotonic() - start), 0.001)
    _within(left_s, lambda: report.update(_script_report(remote, job, tests)))
    if not remote.reaped:
        os.kill(pid, signal.SIGKILL)  # PID 1: what the script left running goes with it
    record = {"return_code": None, "files": [], "detail": "", **report,
              "stdout": remote.output(spec.output_limit_bytes),
              "stderr": os.pread(err, spec.output_limit_bytes, 0).decode("utf-8", "replace"),
              "duration_s": time.monotonic() - start}
    for fd in (sock, out, err):
        os.close(fd)
    return record, (-1 if remote.reaped else pid)
