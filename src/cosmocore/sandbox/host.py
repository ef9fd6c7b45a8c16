"""Host side of the sandbox: the `Sandbox` object callers use (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cosmocore.config import SandboxConfig
from cosmocore.sandbox.isolation import Layers
from cosmocore.sandbox.pool import WorkerPool
from cosmocore.sandbox.wire import Job
from cosmocore.types import ExecutionResult, IOTests, Tests

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
