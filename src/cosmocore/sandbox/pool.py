"""Host side of the sandbox: a pool of pre-warmed fork servers and the jobs sent to them.

Each worker is a `forkserver` subprocess started with an empty environment; a thread per worker
feeds it jobs. A worker that stops answering (it should not: deadlines are kept inside) is killed
and replaced, and its job is reported as `crashed`, never lost.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

from cosmocore.config import SandboxConfig
from cosmocore.sandbox import isolation
from cosmocore.sandbox.isolation import Layers
from cosmocore.sandbox.candidate import SANDBOX_ENV, SampleSpec
from cosmocore.sandbox.spark_host import SparkSettings
from cosmocore.sandbox.wire import INLINE, FrameError, FrameReader, Job, failed_result, write_frame

HOST_GRACE_S = 30.0  # beyond a job's deadline before the host gives up on a fork server


class Worker:
    """One fork server process and its pipes."""

    def __init__(self, config: SandboxConfig, index: int, hide_paths: tuple[str, ...]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "cosmocore.sandbox.forkserver"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=SANDBOX_ENV, close_fds=True,
            start_new_session=True,  # a Ctrl-C at the terminal is the host's to handle, not the workers'
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin.fileno(), FrameReader(self.proc.stdout.fileno())
        spec = SampleSpec(
            candidate_uid=config.sample_uids[index],
            max_processes=config.max_processes, max_open_files=config.max_open_files,
            max_file_mb=config.max_file_mb, tmpfs_mb=config.tmpfs_mb,
            output_limit_bytes=config.output_limit_bytes,
        )
        try:
            write_frame(self._in, {"spec": asdict(spec), "hide_paths": list(hide_paths),
                                   "spark": asdict(SparkSettings.of(config))})
            self.layers = Layers(**self._out.read()["layers"])
        except (FrameError, OSError) as err:
            self.close()
            raise SandboxError(f"a sandbox worker failed to start (exit code {self.proc.returncode}): {err}") from err
        self._sent: set[str] = set()  # tests keys this fork server holds

    def run(self, job: Job) -> dict[str, Any]:
        write_frame(self._in, job.to_wire(with_tests=job.tests_key == INLINE or job.tests_key not in self._sent))
        if job.tests_key != INLINE:
            self._sent.add(job.tests_key)
        return dict(self._out.read())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


UID_BLOCK = 64  # uids per sandbox: a block holds one sample uid per worker
UID_BLOCKS = 64  # blocks tried after `uid_base` before giving up


def _lock_dir() -> str:
    return "/run/lock" if os.path.isdir("/run/lock") and os.access("/run/lock", os.W_OK) else tempfile.gettempdir()


def claim_uid_block(first_base: int, workers: int) -> tuple[int, int]:
    """(lock fd, uid base) of a block of sample uids no other live sandbox on this machine holds.

    Closing a sandbox kills every process of its uids, so two sandboxes (two runs side by side)
    must never share them: each holds an exclusive flock on its block's lock file, released when it
    closes or its process dies.
    """
    size = max(UID_BLOCK, workers)
    for k in range(UID_BLOCKS):
        base = first_base + k * size
        fd = os.open(os.path.join(_lock_dir(), f"cosmocore-uids-{base}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd, base
    raise SandboxError(f"no free block of sandbox uids from {first_base}: {UID_BLOCKS} sandboxes are running")


class SandboxError(RuntimeError):
    """The sandbox could not do what was asked (not a verdict on the program)."""


class WorkerPool:
    """`config.worker_count` fork servers; `map` runs jobs on them and yields results in order."""

    def __init__(self, config: SandboxConfig, hide_paths: tuple[str, ...]) -> None:
        self._uid_lock, base = claim_uid_block(config.uid_base, config.worker_count)
        config = dataclasses.replace(config, uid_base=base)
        self.config = self._config = config
        self._hide = hide_paths
        self._idle: queue.Queue[tuple[int, Worker]] = queue.Queue()
        self._lock = threading.Lock()
        self._closing = False
        self._workers = {i: Worker(config, i, hide_paths) for i in range(config.worker_count)}
        for item in self._workers.items():
            self._idle.put(item)
        self._executor = ThreadPoolExecutor(config.worker_count, thread_name_prefix="sandbox")

    @property
    def layers(self) -> Layers:
        return next(iter(self._workers.values())).layers

    def _run_one(self, job: Job) -> dict[str, Any]:
        index, worker = self._idle.get()
        timer = threading.Timer(job.timeout_s + HOST_GRACE_S, worker.proc.kill)
        timer.start()
        try:
            return worker.run(job)
        except (FrameError, OSError) as err:
            if self._closing:
                return failed_result("crashed", "the sandbox was closed before this sample was judged")
            worker.close()
            worker = Worker(self._config, index, self._hide)
            with self._lock:
                self._workers[index] = worker
            return failed_result("crashed", f"sandbox worker failed and was restarted: {err}")
        finally:
            timer.cancel()
            self._idle.put((index, worker))

    def map(self, jobs: Iterable[Job], on_result: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
        def run(job: Job) -> dict[str, Any]:
            result = self._run_one(job)
            if on_result is not None:
                on_result()
            return result

        futures = [self._executor.submit(run, job) for job in jobs]
        for future in futures:
            yield future.result()

    def close(self) -> None:
        """Stop at once: queued jobs are cancelled, running ones end with their fork servers."""
        self._closing = True
        for worker in self._workers.values():
            worker.proc.kill()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for worker in self._workers.values():
            worker.close()
        if self.layers.drop_uid:  # samples and Spark hosts run under uids of their own: what is left of them goes too
            isolation.kill_all(self._config.sample_uids)
            isolation.kill_all(self._config.spark_uids)
        os.close(self._uid_lock)  # the uid block is free for the next sandbox
