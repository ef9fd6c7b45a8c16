"""The judge: runs a problem's tests against the candidate, which lives in another process.

The judge runs in the fork server, outside the sample's PID namespace and under another uid than
the candidate; it holds the tests, the expected values and the record a verdict is decided from,
and the candidate can reach none of them. Tests call the candidate through `RemoteFunction`
proxies, which return decoded plain data (`codec`), so every comparison happens here on honest
builtin values: a lying `__eq__`, an int subclass, `sys.exit(0)` or an early `os._exit` in the
candidate cannot make a test pass.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cosmocore import codec
from cosmocore.sandbox.verdict import classify_exception, status_for_exit, truncate
from cosmocore.sandbox.wire import ChannelClosed, FrameError, FrameReader, write_frame
from cosmocore.types import Status

if TYPE_CHECKING:
    from cosmocore.sandbox.plans import Plan

_EMPTY_KWARGS = codec.encode({})


class TestFailure(Exception):
    """One test failed with a known status."""

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class DeadlineExceeded(BaseException):
    """The sample's wall-clock deadline passed (a BaseException: test code's `except Exception`
    cannot swallow it)."""


class Recorder:
    """The judge's record of one sample, in the fork server's memory: what the verdict is decided from."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def total(self, n: int) -> None:
        self.records.append({"t": "total", "n": n})

    def unit(self, i: int, failure: TestFailure | None, value: str | None = None) -> None:
        record: dict[str, Any] = {"t": "unit", "i": i, "ok": failure is None}
        if failure is not None:
            record.update(status=failure.status, detail=truncate(failure.detail))
        if value is not None:
            record["value"] = value
        self.records.append(record)

    def done(self, status: Status = "passed", detail: str = "") -> None:
        self.records.append({"t": "done", "status": status, "detail": truncate(detail)})


class Remote:
    """The judge's end of the candidate: its socket, its output file, its process."""

    def __init__(self, sock: int, out: int, pid: int, reap: Callable[[int], int]) -> None:
        self.sock, self.out, self.pid, self._reap = sock, out, pid, reap
        self.frames = FrameReader(sock)
        self.gone: TestFailure | None = None  # why the candidate can no longer answer
        self.reaped = False

    def _exited(self) -> TestFailure:
        if self.gone is None:
            code = self._reap(self.pid)
            self.reaped = True
            how = f"signal {-code}" if code < 0 else f"status {code}"
            self.gone = TestFailure(status_for_exit(code), f"candidate process ended ({how}) during the tests")
        return self.gone

    def output(self, cap: int) -> str:
        """The first `cap` bytes the candidate printed (its stdout and stderr share one memfd)."""
        return os.pread(self.out, cap, 0).decode("utf-8", "replace")

    def send(self, message: dict[str, Any]) -> None:
        if self.gone is not None:
            raise self.gone
        try:
            write_frame(self.sock, message)
        except OSError as err:
            raise self._exited() from err

    def receive(self) -> dict[str, Any]:
        try:
            reply = self.frames.read()
        except (ChannelClosed, OSError) as err:
            raise self._exited() from err
        except FrameError as err:
            self.gone = TestFailure("runtime_error", f"the program corrupted the judge's channel: {err}")
            raise self.gone from err
        if not isinstance(reply, dict):
            raise TestFailure("runtime_error", "malformed reply from the candidate")
        return reply

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        return self.receive()

    def raise_for(self, reply: dict[str, Any]) -> None:
        if reply.get("ok") is True:
            return
        exc_type, message = str(reply.get("exc_type")), str(reply.get("message"))
        raise TestFailure(classify_exception(exc_type, message), f"{exc_type}: {message}")

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            args_text, kwargs_text = codec.encode(list(args)), codec.encode(dict(kwargs))
        except codec.CodecError as err:
            raise TestFailure("crashed", f"harness cannot pass this argument: {err}") from err
        return self.call_encoded(name, args_text, kwargs_text)

    def call_encoded(self, name: str, args: str, kwargs: str = _EMPTY_KWARGS) -> Any:
        """Call the candidate's `name` with already-encoded arguments; the decoded return value."""
        reply = self.request({"op": "call", "name": name, "args": args, "kwargs": kwargs})
        self.raise_for(reply)
        if "opaque" in reply:
            return Opaque(str(reply["opaque"]), reply.get("truth") is True)
        try:
            return codec.decode(str(reply["value"]))
        except (codec.CodecError, KeyError) as err:
            raise TestFailure("wrong_answer", f"undecodable return value: {err}") from err


class Opaque:
    """Stands in for a return value that is not plain data (a `re.Match`, an object of the program's).

    It carries only the type's name and the truth value the candidate computed (which the program
    could as well have returned as a bool): `assert f(x)` can pass, but it equals nothing, so
    `f(x) == y` fails however the original object's `__eq__` was written.
    """

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, type_name: str, truth: bool) -> None:
        self.type_name, self._truth = type_name, truth

    def __bool__(self) -> bool:
        return self._truth

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<{self.type_name} object: not plain data>"


class RemoteFunction:
    """Stands in for the candidate's function `name` inside the test code."""

    def __init__(self, remote: Remote, name: str) -> None:
        self._remote, self.__name__ = remote, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._remote.call(self.__name__, list(args), kwargs)


def _compile_check(program: str) -> None:
    try:
        with warnings.catch_warnings():  # the program's own warnings are not the judge's to print
            warnings.simplefilter("ignore")
            compile(program, "<candidate>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise TestFailure("syntax_error", f"{type(err).__name__}: {err}") from err


EXECUTOR_FAILURE = "spark executor: "  # a prelude that failed: the executor's fault, not the program's


def _prelude(request: dict[str, Any], remote: Remote) -> None:
    """Set up the candidate's namespace (attach to Spark, bind the tables) before the program loads."""
    reply = remote.request(request)
    if reply.get("ok") is not True:
        raise TestFailure("crashed", truncate(f"{EXECUTOR_FAILURE}{reply.get('exc_type')}: {reply.get('message')}"))


def judge(program: str, plan: Plan, rec: Recorder, remote: Remote, prelude: dict[str, Any] | None = None) -> None:
    """Run `plan` against the candidate holding `program`, recording everything; `prelude` (if any) is
    sent before the program loads.

    Raises only DeadlineExceeded; every other failure becomes a record.
    """
    try:
        rec.total(plan.total)
        _compile_check(program)
        if prelude is not None:
            _prelude(prelude, remote)
        remote.raise_for(remote.request({"op": "load", "program": program}))
        plan.execute(rec, remote)
        rec.done()
    except TestFailure as failure:
        rec.done(failure.status, failure.detail)
    except Exception as err:  # a bug in the harness or in the dataset's test code
        rec.done("crashed", f"harness error: {type(err).__name__}: {err}")
