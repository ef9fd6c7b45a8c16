"""One sample's process tree, and the deadline kept from outside it.

    fork server --fork--> supervisor (root, outside the sample's PID namespace; keeps the deadline)
        --unshare(pid, mount, ipc) + fork--> judge (PID 1 of the sample; runs the tests; own uid)
            --fork--> candidate (runs the program; another uid; all rlimits)

The supervisor reads the judge's records from a pipe only the judge holds, collects the candidate's
output (capped), and at the deadline or the verdict SIGKILLs the judge: as PID 1 its death makes the
kernel kill everything the sample started. Signals, timers or C loops inside the sample cannot
move the deadline, because nothing inside keeps it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

from cosmocore.sandbox import candidate, isolation
from cosmocore.sandbox.judge import Recorder, Remote, judge
from cosmocore.sandbox.verdict import decide
from cosmocore.sandbox.wire import Job

SANDBOX_ENV = {  # the whole environment a sample sees: nothing of the host's
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class SampleSpec:
    """How one sample's processes are confined (from `SandboxConfig`, per worker)."""

    judge_uid: int
    candidate_uid: int
    max_processes: int
    max_open_files: int
    max_file_mb: int
    tmpfs_mb: int
    output_limit_bytes: int


def _clean_fds(stdout_fd: int | None, keep: tuple[int, ...]) -> None:
    """stdin from /dev/null, stdout/stderr to `stdout_fd` (or /dev/null); every fd not in `keep` closed."""
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull if stdout_fd is None else stdout_fd, 1)
    os.dup2(devnull if stdout_fd is None else stdout_fd, 2)
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def _confine(uid: int, job: Job, spec: SampleSpec, memory_mb: int) -> bool:
    os.chdir("/tmp")
    os.environ.clear()
    os.environ.update(SANDBOX_ENV)
    limits = isolation.Limits(memory_mb, int(job.timeout_s) + 1, spec.max_processes,
                              spec.max_open_files, spec.max_file_mb)
    isolation.apply_limits(limits)
    return isolation.become(uid)


def _candidate_main(job: Job, spec: SampleSpec, sock: int, out_fd: int) -> None:
    _clean_fds(out_fd, (sock,))
    _confine(spec.candidate_uid, job, spec, job.memory_mb)
    candidate.serve(sock)


def _judge_main(job: Job, spec: SampleSpec, layers: isolation.Layers, fds: dict[str, int]) -> None:
    if layers.pid_ns:
        isolation.mount_proc()
    pid = os.fork()
    if pid == 0:
        os.close(fds["verdict"])
        os.close(fds["judge_sock"])
        _candidate_main(job, spec, fds["candidate_sock"], fds["out"])
        os._exit(0)
    os.close(fds["candidate_sock"])
    _clean_fds(None, (fds["verdict"], fds["judge_sock"]))
    _confine(spec.judge_uid, job, spec, max(job.memory_mb, 1024) * 2)
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # after the uid change, which clears it
    isolation.prctl(isolation.PR_SET_DUMPABLE, 0)  # no ptrace, no /proc/<pid>/mem, even for its own uid
    judge(job, Recorder(fds["verdict"]), Remote(fds["judge_sock"], pid))


@dataclass
class _Collected:
    records: list[dict[str, Any]]
    output: bytes
    deadline_hit: bool


def _parse_records(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def _collect(verdict_fd: int, out_fd: int, deadline: float, cap: int) -> _Collected:
    """Read the judge's records until it signs off (or its channel closes) or the deadline passes.

    The candidate's output is read alongside, keeping at most `cap` bytes; it never decides anything.
    """
    verdict, output = bytearray(), bytearray()
    watching = [verdict_fd, out_fd]
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return _Collected(_parse_records(verdict), bytes(output), True)
        ready, _, _ = select.select(watching, [], [], left)
        if out_fd in ready:
            chunk = os.read(out_fd, 1 << 16)
            output += chunk[: max(cap - len(output), 0)]
            if not chunk:
                watching.remove(out_fd)
        if verdict_fd in ready:
            chunk = os.read(verdict_fd, 1 << 16)
            verdict += chunk
            if not chunk or b'"t": "done"' in verdict[-len(chunk) - 16 :]:
                return _Collected(_parse_records(verdict), bytes(output), False)


def _drain(fd: int, output: bytes, cap: int) -> bytes:
    """What the candidate wrote just before the end, without blocking."""
    os.set_blocking(fd, False)
    buf = bytearray(output)
    try:
        while len(buf) < cap and (chunk := os.read(fd, 1 << 16)):
            buf += chunk[: cap - len(buf)]
    except BlockingIOError:
        pass
    return bytes(buf)


def _kill_tree(judge_pid: int) -> int | None:
    """SIGKILL PID 1 of the sample (the kernel then kills the rest) and reap it."""
    try:
        os.kill(judge_pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(judge_pid, 0)
    return os.waitstatus_to_exitcode(status)


def run_sample(job: Job, spec: SampleSpec, worker_layers: isolation.Layers) -> dict[str, Any]:
    """In a freshly forked supervisor: run one sample and return its result record."""
    start = time.monotonic()
    isolation.isolate_sample(worker_layers, spec.tmpfs_mb)
    verdict_r, verdict_w = os.pipe()
    out_r, out_w = os.pipe()
    judge_sock, candidate_sock = socket.socketpair()
    fds = {"verdict": verdict_w, "out": out_w,
           "judge_sock": judge_sock.detach(), "candidate_sock": candidate_sock.detach()}
    judge_pid = os.fork()
    if judge_pid == 0:
        os.close(verdict_r)
        os.close(out_r)
        try:
            _judge_main(job, spec, worker_layers, fds)
        finally:
            os._exit(0)
    for fd in fds.values():
        os.close(fd)
    got = _collect(verdict_r, out_r, start + job.timeout_s, spec.output_limit_bytes)
    judge_exit = _kill_tree(judge_pid)
    output = _drain(out_r, got.output, spec.output_limit_bytes)
    verdict = decide(got.records, deadline_hit=got.deadline_hit, judge_exit=judge_exit)
    values = [r.get("value") for r in got.records if r.get("t") == "unit"] if job.record else None
    return {"status": verdict.status, "tests_passed": verdict.tests_passed,
            "tests_total": verdict.tests_total, "duration_s": time.monotonic() - start,
            "detail": verdict.detail, "output": output.decode("utf-8", "replace"), "values": values}
