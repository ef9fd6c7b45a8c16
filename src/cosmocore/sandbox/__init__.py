"""The trusted code sandbox: the only way CosmoCore executes generated code.

`Sandbox.run(program, tests)` returns an `ExecutionResult` whose `passed` can be trusted even when
the program was written by a policy optimised to get a pass by any means.

What it protects against (each layer is checked and reported by `cosmocore doctor`):
- False passes. Tests run in a separate *judge* process; the program runs in a *candidate* process
  that only answers calls and returns plain data (exact builtin types, JSON-coded, never pickle).
  A pass is the judge's own record on a pipe the candidate does not hold, saying every test ran and
  passed. Exit status, stdout, `sys.exit(0)`, `os._exit(0)`, exit handlers, threads that end the
  process, lying `__eq__` and int subclasses never count.
- Escapes and damage. Per worker: a network namespace with only loopback, a mount namespace in
  which every host mount is read-only and nosuid, benchmark files and home directories hidden. Per
  sample: a fresh PID namespace (the judge is PID 1; when it dies the kernel kills everything the
  sample started, daemons included; nothing outside can be signalled), fresh IPC namespace, private
  tmpfs /tmp and /dev/shm, unprivileged uids (judge and candidate differ) with no_new_privs and no
  capabilities, rlimits (address space, CPU, processes, file size, open files, core = 0), an
  environment with none of the host's variables, output captured with a cap.
- Time. The deadline is kept by a supervisor outside the sample's PID namespace; ignoring signals,
  clearing timers or spinning in C code (regex backtracking) cannot extend it.

What it does not protect against:
- Kernel exploits: this is namespaces and rlimits, not a VM or gVisor. Run untrusted models on
  hardened hosts.
- Reading world-readable host files (the filesystem is read-only, not invisible); only the paths in
  `hide_paths` and the benchmark files named by the caller are hidden.
- CPU and memory contention between samples beyond the rlimits (no cgroups).
- `unittest`-style tests (BigCodeBench): they patch the candidate's own modules, so they must run
  inside the candidate's process, where a determined program can tamper with them or forge their
  reports. Their verdicts are hardened (early exits, lying objects) but not unforgeable.
- Without root, uids cannot change: the layers that need them are reported as off by the doctor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cosmocore.config import SandboxConfig
from cosmocore.sandbox.isolation import Layers
from cosmocore.sandbox.pool import WorkerPool
from cosmocore.sandbox.wire import Job
from cosmocore.types import ExecutionResult, IOTests, Tests

__all__ = ["Layers", "Sandbox", "SandboxConfig", "SandboxError"]


class SandboxError(RuntimeError):
    """The sandbox could not do what was asked (not a verdict on the program)."""


def _result(raw: dict[str, Any]) -> ExecutionResult:
    return ExecutionResult(
        status=raw["status"], tests_passed=raw["tests_passed"], tests_total=raw["tests_total"],
        duration_s=float(raw["duration_s"]), detail=raw["detail"], output=raw["output"],
    )


class Sandbox:
    """A pool of pre-warmed, isolated workers. Use as a context manager, or call `close()`."""

    def __init__(self, config: SandboxConfig | None = None, hide_paths: Sequence[str] = ()) -> None:
        self.config = config or SandboxConfig()
        self._pool = WorkerPool(self.config, (*self.config.hide_paths, *hide_paths))

    @property
    def layers(self) -> Layers:
        """The isolation layers the workers really have."""
        return self._pool.layers

    def _job(self, program: str, tests: Tests, timeout_s: float | None, memory_mb: int | None) -> Job:
        return Job(program, tests, timeout_s or self.config.timeout_s, memory_mb or self.config.memory_mb)

    def run(self, program: str, tests: Tests, *, timeout_s: float | None = None,
            memory_mb: int | None = None) -> ExecutionResult:
        """Judge one program against `tests`."""
        return self.run_many([(program, tests)], timeout_s=timeout_s, memory_mb=memory_mb)[0]

    def run_many(self, items: Sequence[tuple[str, Tests]], *, timeout_s: float | None = None,
                 memory_mb: int | None = None,
                 on_result: Callable[[], None] | None = None) -> list[ExecutionResult]:
        """Judge many programs in parallel; results in the order given. `on_result` ticks per result."""
        jobs = [self._job(program, tests, timeout_s, memory_mb) for program, tests in items]
        return [_result(raw) for raw in self._pool.map(jobs, on_result)]

    def record_outputs(self, program: str, tests: IOTests, *, timeout_s: float | None = None) -> tuple[str, ...]:
        """The (encoded) return value of `program` on each of `tests.inputs`: a reference's outputs.

        Raises SandboxError if the program fails on any input.
        """
        job = Job(program, tests, timeout_s or self.config.timeout_s, self.config.memory_mb, record=True)
        raw = next(self._pool.map([job]))
        values = raw.get("values") or []
        if raw["status"] != "passed" or len(values) != len(tests.inputs) or None in values:
            raise SandboxError(f"reference failed: {raw['status']}: {raw['detail']}")
        return tuple(values)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
