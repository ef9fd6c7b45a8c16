"""Host side of the sandbox: the `Sandbox` object callers use (see the package docstring)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cosmocore.config import SandboxConfig
from cosmocore.sandbox.isolation import Layers
from cosmocore.sandbox.pool import SandboxError, WorkerPool
from cosmocore.sandbox.wire import INLINE, Job
from cosmocore.types import ExecutionResult, IOTests, ScriptResult, ScriptTests, SparkTests, Tests

def _result(raw: dict[str, Any]) -> ExecutionResult:
    return ExecutionResult(
        status=raw["status"], tests_passed=raw["tests_passed"], tests_total=raw["tests_total"],
        duration_s=float(raw["duration_s"]), detail=raw["detail"], output=raw["output"],
    )


def _script_result(raw: dict[str, Any]) -> ScriptResult:
    if "outcome" not in raw:  # the pool's record of a worker that failed: the sandbox's error
        return ScriptResult("error", None, "", "", float(raw["duration_s"]), detail=raw["detail"])
    return ScriptResult(
        outcome=raw["outcome"], return_code=raw["return_code"], stdout=raw["stdout"], stderr=raw["stderr"],
        duration_s=float(raw["duration_s"]), files=tuple((str(p), str(c)) for p, c in raw["files"]),
        detail=raw["detail"],
    )


CacheKey = tuple[Any, ...]


class VerdictCache:
    """Verdicts of Spark samples by (tests key, program, deadline, memory), least recently used out first.

    Only Spark programs are cached: they are slow to judge and deterministic (the judge compares
    collected tables; Spark's own nondeterminism, such as row order, is what the tests allow for).
    Crashes are not cached (they may be the executor's fault).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[CacheKey, dict[str, Any]] = OrderedDict()
        self.hits = 0

    def key(self, job: Job) -> CacheKey | None:
        if self.capacity == 0 or not isinstance(job.tests, SparkTests) or job.record:
            return None
        return (job.tests_key, job.program, job.timeout_s, job.memory_mb)

    def __contains__(self, key: CacheKey) -> bool:
        return key in self._items

    def get(self, key: CacheKey) -> dict[str, Any]:
        self.hits += 1
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: CacheKey, raw: dict[str, Any]) -> None:
        if key[0] == "uncached" or raw["status"] == "crashed":
            return
        self._items[key] = raw
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)


REFERENCE_TIME_FACTOR = 4.0  # an IO test's deadline is at least this many times its reference's time


@dataclass(frozen=True)
class ReferenceRun:
    """A reference program's outputs (encoded, one per input) and how long it took on all of them."""

    outputs: tuple[str, ...]
    duration_s: float


def _reference_run(raw: dict[str, Any], expected_count: int) -> ReferenceRun | SandboxError:
    values = raw.get("values") or []
    if raw["status"] != "passed" or len(values) != expected_count or None in values:
        return SandboxError(f"{raw['status']}: {raw['detail']}")
    return ReferenceRun(tuple(values), float(raw["duration_s"]))


class Sandbox:
    """A pool of pre-warmed, isolated workers. Use as a context manager, or call `close()`."""

    def __init__(self, config: SandboxConfig | None = None, hide_paths: Sequence[str] = ()) -> None:
        self.config = config or SandboxConfig()
        self._pool = WorkerPool(self.config, (*self.config.hide_paths, *hide_paths))
        self.config = self._pool.config  # with the uid block this sandbox holds
        self._keys: dict[int, tuple[Tests, str]] = {}  # id(tests) -> (tests, key); holds them alive
        self._cache = VerdictCache(self.config.spark_cache_entries)

    def _key(self, tests: Tests) -> str:
        """A key per distinct tests object, without hashing its (possibly huge) contents."""
        entry = self._keys.get(id(tests))
        if entry is None:  # ids are never reused: every keyed object is held alive here
            entry = self._keys[id(tests)] = (tests, f"t{len(self._keys)}")
        return entry[1]

    @property
    def layers(self) -> Layers:
        """The isolation layers the workers really have."""
        return self._pool.layers

    def _job(self, program: str, tests: Tests, timeout_s: float | None, memory_mb: int | None,
             record: bool = False) -> Job:
        timeout = timeout_s or self.config.timeout_s
        if isinstance(tests, IOTests):  # slow references (HumanEval+ has some of 10 s) get room, like EvalPlus
            timeout = max(timeout, REFERENCE_TIME_FACTOR * tests.reference_s + 1.0)
        return Job(program, self._key(tests), timeout, memory_mb or self.config.memory_mb, record, tests)

    def run(self, program: str, tests: Tests, *, timeout_s: float | None = None,
            memory_mb: int | None = None) -> ExecutionResult:
        """Judge one program against `tests`."""
        return self.run_many([(program, tests)], timeout_s=timeout_s, memory_mb=memory_mb)[0]

    def run_many(self, items: Sequence[tuple[str, Tests]], *, timeout_s: float | None = None,
                 memory_mb: int | None = None,
                 on_result: Callable[[], None] | None = None) -> list[ExecutionResult]:
        """Judge many programs in parallel; results in the order given. `on_result` ticks per result.

        A Spark program already judged against the same tests (same deadline and memory) is answered
        from the verdict cache, and identical ones in one call run once."""
        if any(isinstance(tests, ScriptTests) for _, tests in items):
            raise TypeError("a script gets no verdict: run it with Sandbox.run_scripts")
        jobs = [self._job(program, tests, timeout_s, memory_mb) for program, tests in items]
        keys = [self._cache.key(job) or ("uncached", i) for i, job in enumerate(jobs)]
        todo = {key: job for key, job in zip(keys, jobs, strict=True) if key not in self._cache}
        fresh = dict(zip(todo, self._pool.map(list(todo.values()), on_result), strict=True))
        for key, raw in fresh.items():
            self._cache.put(key, raw)
        results = [_result(fresh[key] if key in fresh else self._cache.get(key)) for key in keys]
        if on_result is not None:
            for _ in range(len(jobs) - len(todo)):
                on_result()
        return results

    def record_outputs(self, program: str, tests: IOTests, *, timeout_s: float | None = None) -> tuple[str, ...]:
        """The (encoded) return value of `program` on each of `tests.inputs`: a reference's outputs.

        Raises SandboxError if the program fails on any input.
        """
        run = self.record_many([(program, tests)], timeout_s=timeout_s)[0]
        if isinstance(run, SandboxError):
            raise run
        return run.outputs

    def record_many(self, items: Sequence[tuple[str, IOTests]], *, timeout_s: float | None = None,
                    on_result: Callable[[], None] | None = None) -> list[ReferenceRun | SandboxError]:
        """Run many reference programs in parallel for their outputs; a failure is returned in its place."""
        jobs = [self._job(program, tests, timeout_s, None, record=True) for program, tests in items]
        return [_reference_run(raw, len(tests.inputs)) for raw, (_, tests) in
                zip(self._pool.map(jobs, on_result), items, strict=True)]

    def run_scripts(self, items: Sequence[tuple[str, ScriptTests]], *, timeout_s: float | None = None,
                    memory_mb: int | None = None) -> list[ScriptResult]:
        """Run whole programs as scripts (stdin in; exit code, stdout, stderr out), in parallel, under
        every isolation layer; results in the order given.

        Isolation only, no verdict: a script's return code is whatever the program chose. Its tests
        travel with each job and are never kept, so a long-lived caller does not accumulate them."""
        timeout, memory = timeout_s or self.config.timeout_s, memory_mb or self.config.memory_mb
        jobs = [Job(program, INLINE, timeout, memory, tests=tests) for program, tests in items]
        return [_script_result(raw) for raw in self._pool.map(jobs)]

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
