"""In-process unittest runner for BigCodeBench-style tests, run inside the candidate process.

These tests patch the program's own modules (`unittest.mock.patch`), so they cannot run in the
judge. Each finished test is streamed to the judge at once; the judge checks the names against
the tests the file defines. A program that tampers with `unittest` or writes forged frames can
fool this mode: its verdicts are hardened, not unforgeable (see `cosmocore.sandbox`).
"""

from __future__ import annotations

import unittest
from typing import Any

from cosmocore.sandbox.candidate import describe
from cosmocore.sandbox.wire import write_frame


class _StreamingResult(unittest.TestResult):
    """Sends each finished test to the judge as it ends."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def _send(self, test: unittest.TestCase, err: Any = None) -> None:
        frame: dict[str, Any] = {"test": test.id().rsplit(".", 1)[-1], "ok": err is None}
        if err is not None:
            frame.update(describe(err[1]))
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


def run_unittest(ns: dict[str, Any], fd: int, test_code: str, class_name: str) -> None:
    """Define the tests in the program's namespace and run them, streaming each result on `fd`."""
    exec(compile(test_code, "__test___tests.py", "exec"), ns)
    suite = unittest.TestLoader().loadTestsFromTestCase(ns[class_name])
    suite.run(_StreamingResult(fd))


