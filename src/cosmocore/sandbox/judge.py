"""The judge process: runs a problem's tests against the candidate, which lives in another process.

The judge holds the tests, the expected values and the one write end of the verdict channel; the
candidate holds none of them. Tests call the candidate through `RemoteFunction` proxies, which
return decoded plain data (`codec`), so every comparison happens here on honest builtin values: a
lying `__eq__`, an int subclass, `sys.exit(0)` or an early `os._exit` in the candidate cannot make a
test pass. The judge reports each test as it finishes (`Recorder`), then signs off with `done`.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from cosmocore.sandbox import codec
from cosmocore.sandbox.verdict import classify_exception, outputs_match, poly_root_ok, status_for_exit, truncate
from cosmocore.sandbox.wire import ChannelClosed, FrameError, Job, read_frame, write_frame
from cosmocore.types import AssertTests, CheckFunctionTests, IOTests, Status, UnittestTests


class TestFailure(Exception):
    """One test failed with a known status."""

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class Recorder:
    """Writes the judge's records (JSON lines) to the private verdict channel."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def _write(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record) + "\n").encode()
        while data:
            data = data[os.write(self._fd, data) :]

    def total(self, n: int) -> None:
        self._write({"t": "total", "n": n})

    def unit(self, i: int, failure: TestFailure | None, value: str | None = None) -> None:
        record: dict[str, Any] = {"t": "unit", "i": i, "ok": failure is None}
        if failure is not None:
            record.update(status=failure.status, detail=truncate(failure.detail))
        if value is not None:
            record["value"] = value
        self._write(record)

    def done(self, status: Status = "passed", detail: str = "") -> None:
        self._write({"t": "done", "status": status, "detail": truncate(detail)})


class Remote:
    """The judge's end of the candidate channel."""

    def __init__(self, fd: int, pid: int) -> None:
        self.fd, self.pid = fd, pid
        self.gone: TestFailure | None = None

    def _exited(self) -> TestFailure:
        if self.gone is None:
            _, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            how = f"signal {-code}" if code < 0 else f"status {code}"
            self.gone = TestFailure(status_for_exit(code), f"candidate process ended ({how}) during the tests")
        return self.gone

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.gone is not None:
            raise self.gone
        try:
            write_frame(self.fd, message)
        except OSError as err:
            raise self._exited() from err
        return self.receive()

    def receive(self) -> dict[str, Any]:
        try:
            reply = read_frame(self.fd)
        except (ChannelClosed, OSError) as err:
            raise self._exited() from err
        except FrameError as err:
            self.gone = TestFailure("runtime_error", f"the program corrupted the judge's channel: {err}")
            raise self.gone from err
        if not isinstance(reply, dict):
            raise TestFailure("runtime_error", "malformed reply from the candidate")
        return reply

    def raise_for(self, reply: dict[str, Any]) -> None:
        if reply.get("ok") is True:
            return
        exc_type, message = str(reply.get("exc_type")), str(reply.get("message"))
        status = "wrong_answer" if exc_type == "NotPlainData" else classify_exception(exc_type, message)
        raise TestFailure(status, f"{exc_type}: {message}")

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            encoded = {"args": codec.encode(list(args)), "kwargs": codec.encode(dict(kwargs))}
        except codec.CodecError as err:
            raise TestFailure("crashed", f"harness cannot pass this argument: {err}") from err
        reply = self.request({"op": "call", "name": name, **encoded})
        self.raise_for(reply)
        try:
            return codec.decode(str(reply["value"]))
        except (codec.CodecError, KeyError) as err:
            raise TestFailure("wrong_answer", f"undecodable return value: {err}") from err


class RemoteFunction:
    """Stands in for the candidate's function `name` inside the test code."""

    def __init__(self, remote: Remote, name: str) -> None:
        self._remote, self.__name__ = remote, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._remote.call(self.__name__, list(args), kwargs)


def _failure(err: BaseException) -> TestFailure:
    if isinstance(err, TestFailure):
        return err
    if isinstance(err, AssertionError):
        return TestFailure("wrong_answer", truncate(f"AssertionError: {err}"))
    return TestFailure("wrong_answer", truncate(f"test raised {type(err).__name__}: {err}"))


def _run_units(rec: Recorder, units: list[Callable[[], str | None]]) -> None:
    for i, unit in enumerate(units):
        try:
            value = unit()
        except Exception as err:
            rec.unit(i, _failure(err))
        else:
            rec.unit(i, None, value)


# ---- HumanEval: check(candidate) -----------------------------------------------------------------


def _has_assert(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def _wrap_unit(stmt: ast.stmt, i: int) -> ast.stmt:
    """try: <stmt> / except Exception as e: report(i, e) / else: report(i, None)."""
    def report(arg: ast.expr) -> list[ast.stmt]:
        call = ast.Call(ast.Name("__cosmocore_unit__", ast.Load()), [ast.Constant(i), arg], [])
        return [ast.Expr(call)]

    handler = ast.ExceptHandler(ast.Name("Exception", ast.Load()), "__cosmocore_err__",
                                report(ast.Name("__cosmocore_err__", ast.Load())))
    return ast.Try([stmt], [handler], report(ast.Constant(None)), [])


def _instrument_check(test_code: str) -> tuple[ast.Module, int]:
    tree = ast.parse(test_code)
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if check is None:
        raise TestFailure("crashed", "test code defines no check(candidate)")
    count = 0
    for j, stmt in enumerate(check.body):
        if _has_assert(stmt):
            check.body[j] = _wrap_unit(stmt, count)
            count += 1
    return ast.fix_missing_locations(tree), count


def run_check_function(tests: CheckFunctionTests, rec: Recorder, remote: Remote) -> None:
    tree, count = _instrument_check(tests.test_code)
    reported: dict[int, TestFailure | None] = {}

    def report(i: int, err: BaseException | None) -> None:
        reported.setdefault(i, None if err is None else _failure(err))

    ns: dict[str, Any] = {"__name__": "__judge__", "__cosmocore_unit__": report}
    exec(compile(tests.setup_code, "<prompt>", "exec"), ns)
    exec(compile(tree, "<tests>", "exec"), ns)
    try:
        ns["check"](RemoteFunction(remote, tests.entry_point))
        aborted = None
    except Exception as err:  # a statement outside the asserts failed: the rest did not run
        aborted = _failure(err)
    for i in range(max(count, 1)):
        rec.unit(i, reported[i] if i in reported else aborted)


# ---- MBPP: assert statements ---------------------------------------------------------------------


def _free_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bind_names(ns: dict[str, Any], names: set[str], remote: Remote) -> None:
    """Names the asserts use: stdlib modules are imported here, anything else is the candidate's."""
    for name in sorted(names - ns.keys() - set(dir(builtins))):
        if name in sys.stdlib_module_names:
            ns[name] = __import__(name)
        else:
            ns[name] = RemoteFunction(remote, name)


def run_asserts(tests: AssertTests, rec: Recorder, remote: Remote) -> None:
    ns: dict[str, Any] = {"__name__": "__judge__"}
    exec(compile(tests.setup_code, "<setup>", "exec"), ns)
    trees = [ast.parse(src) for src in tests.asserts]
    _bind_names(ns, set().union(*(_free_names(t) for t in trees)), remote)

    def unit(tree: ast.Module) -> Callable[[], None]:
        return lambda: exec(compile(tree, "<assert>", "exec"), ns)

    _run_units(rec, [unit(t) for t in trees])


# ---- EvalPlus: inputs and reference outputs ------------------------------------------------------


def run_io(tests: IOTests, rec: Recorder, remote: Remote, record: bool) -> None:
    if not record and (tests.expected is None or len(tests.expected) != len(tests.inputs)):
        raise TestFailure("crashed", "IO tests have no expected outputs (run the reference first)")

    def unit(i: int) -> Callable[[], str | None]:
        def run() -> str | None:
            args = codec.decode(tests.inputs[i])
            out = remote.call(tests.entry_point, args, {})
            if record:
                return codec.encode(out)
            assert tests.expected is not None
            ok = (poly_root_ok(args[0], out, tests.atol) if tests.oracle == "poly_root"
                  else outputs_match(out, codec.decode(tests.expected[i]), tests.atol))
            if not ok:
                raise TestFailure("wrong_answer", truncate(f"input #{i}: got {codec.encode(out)}"))
            return None
        return run

    _run_units(rec, [unit(i) for i in range(len(tests.inputs))])


# ---- BigCodeBench: unittest in the candidate's process -------------------------------------------


def _test_names(tests: UnittestTests) -> list[str]:
    tree = ast.parse(tests.test_code)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == tests.class_name), None)
    if cls is None:
        raise TestFailure("crashed", f"test code defines no class {tests.class_name}")
    return [n.name for n in cls.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]


def run_unittest(tests: UnittestTests, rec: Recorder, remote: Remote) -> None:
    names = _test_names(tests)
    index = {name: i for i, name in enumerate(names)}
    write_frame(remote.fd, {"op": "unittest", "test_code": tests.test_code, "class_name": tests.class_name})
    seen: set[int] = set()
    while True:
        frame = remote.receive()
        if "test" not in frame:
            remote.raise_for(frame)
            break
        i = index.get(str(frame["test"]))
        if i is None or i in seen:
            continue  # not a test this file defines, or reported twice: ignored
        seen.add(i)
        ok = frame.get("ok") is True
        failure = None if ok else _unittest_failure(frame)
        rec.unit(i, failure)
    for i in sorted(set(range(len(names))) - seen):
        rec.unit(i, TestFailure("crashed", "test never reported"))


def _unittest_failure(frame: dict[str, Any]) -> TestFailure:
    exc_type, message = str(frame.get("exc_type")), str(frame.get("message"))
    status = "runtime_error" if exc_type == "SkipTest" else classify_exception(exc_type, message)
    return TestFailure(status, f"{frame.get('test')}: {exc_type}: {message}")


# ---- the whole job -------------------------------------------------------------------------------


def _compile_check(program: str) -> None:
    try:
        compile(program, "<candidate>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise TestFailure("syntax_error", f"{type(err).__name__}: {err}") from err


def count_tests(job: Job) -> int:
    tests = job.tests
    if isinstance(tests, CheckFunctionTests):
        return max(_instrument_check(tests.test_code)[1], 1)
    if isinstance(tests, AssertTests):
        return len(tests.asserts)
    if isinstance(tests, IOTests):
        return len(tests.inputs)
    return len(_test_names(tests))


def judge(job: Job, rec: Recorder, remote: Remote) -> None:
    """Run `job` against the candidate, writing every record; never raises."""
    try:
        rec.total(count_tests(job))
        _compile_check(job.program)
        remote.raise_for(remote.request({"op": "load", "program": job.program}))
        tests = job.tests
        if isinstance(tests, CheckFunctionTests):
            run_check_function(tests, rec, remote)
        elif isinstance(tests, AssertTests):
            run_asserts(tests, rec, remote)
        elif isinstance(tests, IOTests):
            run_io(tests, rec, remote, job.record)
        else:
            run_unittest(tests, rec, remote)
        rec.done()
    except TestFailure as failure:
        rec.done(failure.status, failure.detail)
    except Exception as err:  # a bug in the harness or in the dataset's test code
        rec.done("crashed", f"harness error: {type(err).__name__}: {err}")
