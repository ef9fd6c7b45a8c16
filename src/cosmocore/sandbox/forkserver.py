"""The pre-warmed fork server: one per sandbox worker, started by the host's `WorkerPool`.

It starts with an empty environment, enters its own network and mount namespaces once
(`isolation.isolate_worker`), then forks a fresh supervisor per sample, so every sample starts from
the same clean, already-imported state and nothing leaks from one sample to the next.

Protocol on stdin/stdout (frames, see `wire`): first a settings frame in, a `layers` frame out; then
one `Job` in, one result record out, until stdin closes.
"""

from __future__ import annotations

import os
import select
import signal
import sys
from dataclasses import asdict
from typing import Any

from cosmocore.sandbox import isolation
from cosmocore.sandbox.supervisor import SampleSpec, run_sample
from cosmocore.sandbox.wire import FrameError, Job, read_frame, write_frame

SUPERVISOR_GRACE_S = 10.0  # beyond a job's deadline before the fork server gives up on its supervisor


def _crashed(detail: str) -> dict[str, Any]:
    return {"status": "crashed", "tests_passed": None, "tests_total": None, "duration_s": 0.0,
            "detail": detail, "output": "", "values": None}


def _supervise(job: Job, spec: SampleSpec, layers: isolation.Layers, result_fd: int) -> None:
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    try:
        result = run_sample(job, spec, layers)
    except BaseException as err:
        result = _crashed(f"supervisor error: {type(err).__name__}: {err}")
    write_frame(result_fd, result)


def _run_job(job: Job, spec: SampleSpec, layers: isolation.Layers) -> dict[str, Any]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _supervise(job, spec, layers, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], job.timeout_s + SUPERVISOR_GRACE_S)
        result = read_frame(read_fd) if ready else _crashed("supervisor did not answer")
    except FrameError as err:
        result = _crashed(f"supervisor died: {err}")
    finally:
        os.close(read_fd)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return result


def main() -> None:
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    settings = read_frame(stdin)
    spec = SampleSpec(**settings["spec"])
    layers = isolation.isolate_worker(tuple(settings["hide_paths"]))
    write_frame(stdout, {"layers": asdict(layers)})
    while True:
        try:
            job = Job.from_wire(read_frame(stdin))
        except FrameError:
            return
        write_frame(stdout, _run_job(job, spec, layers))


if __name__ == "__main__":
    main()
