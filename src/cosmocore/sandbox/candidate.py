"""The candidate process: runs the untrusted program and answers the judge's requests.

It runs with every isolation layer on and privileges dropped, and holds one socket to the judge
and nothing else. It is assumed hostile: whatever it sends back is decoded as plain data only
(`codec`), and it never sees the tests' expected values. The one exception is `unittest` mode
(BigCodeBench), whose tests must patch this process's modules and therefore run here.
"""

from __future__ import annotations

import builtins
import sys
import types
import unittest
from typing import Any

from cosmocore.sandbox import codec
from cosmocore.sandbox.verdict import truncate
from cosmocore.sandbox.wire import FrameError, read_frame, write_frame

MODULE_NAME = "__test__"  # the candidate's module name (never "__main__": its main block does not run)


def _describe(err: BaseException) -> dict[str, Any]:
    try:
        message = str(err)
    except BaseException:  # a hostile __str__ must not take the server down
        message = "<unprintable>"
    return {"ok": False, "exc_type": type(err).__name__, "message": truncate(message)}


def _new_module() -> types.ModuleType:
    module = types.ModuleType(MODULE_NAME)
    module.__dict__.update({"__builtins__": builtins, "__file__": f"{MODULE_NAME}.py"})
    sys.modules[MODULE_NAME] = module
    return module


def _load(ns: dict[str, Any], program: str) -> dict[str, Any]:
    exec(compile(program, f"{MODULE_NAME}.py", "exec"), ns)
    return {"ok": True}


def _call(ns: dict[str, Any], name: str, args: str, kwargs: str) -> dict[str, Any]:
    if name not in ns:
        raise NameError(f"name '{name}' is not defined")
    value = ns[name](*codec.decode(args), **codec.decode(kwargs))
    try:
        return {"ok": True, "value": codec.encode(value)}
    except codec.CodecError as err:
        return {"ok": False, "exc_type": "NotPlainData", "message": truncate(str(err))}


class _StreamingResult(unittest.TestResult):
    """Sends each finished test to the judge as it ends."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def _send(self, test: unittest.TestCase, err: Any = None) -> None:
        frame: dict[str, Any] = {"test": test.id().rsplit(".", 1)[-1], "ok": err is None}
        if err is not None:
            frame.update(_describe(err[1]))
            frame["ok"] = False
        write_frame(self._fd, frame)

    def addSuccess(self, test: unittest.TestCase) -> None:
        self._send(test)

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        self._send(test, err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        self._send(test, err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        self._send(test, (None, unittest.SkipTest(reason), None))


def _unittest(ns: dict[str, Any], fd: int, test_code: str, class_name: str) -> dict[str, Any]:
    exec(compile(test_code, f"{MODULE_NAME}_tests.py", "exec"), ns)
    suite = unittest.TestLoader().loadTestsFromTestCase(ns[class_name])
    suite.run(_StreamingResult(fd))
    return {"ok": True, "done": True}


def serve(fd: int) -> None:
    """Answer the judge's requests on `fd` until it closes the channel."""
    ns = _new_module().__dict__
    while True:
        try:
            request = read_frame(fd)
        except FrameError:
            return
        try:
            op = request["op"]
            if op == "load":
                reply = _load(ns, request["program"])
            elif op == "call":
                reply = _call(ns, request["name"], request["args"], request["kwargs"])
            else:
                reply = _unittest(ns, fd, request["test_code"], request["class_name"])
        except BaseException as err:  # SystemExit and KeyboardInterrupt are candidate failures too
            reply = _describe(err)
        _flush()
        write_frame(fd, reply)


def _flush() -> None:
    """Push the program's buffered prints to the captured output (it may be killed, never exit)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
