"""Framing and job records for the sandbox's pipes and sockets.

Every message is a 4-byte big-endian length followed by UTF-8 JSON. Readers refuse frames over
`MAX_FRAME` bytes, so a hostile peer cannot make a trusted process allocate without bound.
`Job` is what the host sends a fork server; test records (`cosmocore.types.Tests`) travel inside it.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import asdict, dataclass
from typing import Any

from cosmocore.types import AssertTests, CheckFunctionTests, IOTests, ScriptTests, SparkTests, Tests, UnittestTests

MAX_FRAME = 256 * 1024 * 1024  # bytes


class FrameError(EOFError):
    """The peer sent a frame that is not valid."""


class ChannelClosed(FrameError):
    """The peer closed the channel."""


class FrameReader:
    """Reads frames from `fd` through a buffer, so a small frame costs one read() call."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray()

    def _fill(self, n: int) -> None:
        while len(self._buf) < n:
            chunk = os.read(self.fd, max(n - len(self._buf), 1 << 16))
            if not chunk:
                raise ChannelClosed("channel closed")
            self._buf += chunk

    def read(self) -> Any:
        self._fill(4)
        (size,) = struct.unpack(">I", self._buf[:4])
        if size > MAX_FRAME:
            raise FrameError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
        self._fill(4 + size)
        data = bytes(self._buf[4 : 4 + size])
        del self._buf[: 4 + size]
        try:
            return json.loads(data)
        except ValueError as err:
            raise FrameError(f"malformed frame: {err}") from err


def write_frame(fd: int, message: Any) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def failed_result(status: str, detail: str) -> dict[str, Any]:
    """The result record for a sample the sandbox itself could not run to a verdict."""
    return {"status": status, "tests_passed": None, "tests_total": None, "duration_s": 0.0,
            "detail": detail, "output": "", "values": None}


_TEST_KINDS: dict[str, type] = {  # the kinds a problem's tests can be (each judged to a verdict)
    "check_function": CheckFunctionTests,
    "asserts": AssertTests,
    "io": IOTests,
    "unittest": UnittestTests,
    "spark": SparkTests,
}
_WIRE_KINDS: dict[str, type] = {**_TEST_KINDS, "script": ScriptTests}  # and what else a job can carry

INLINE = ""  # the tests key of a job whose tests travel with it every time and are never kept (scripts)


def tests_to_wire(tests: Tests | ScriptTests) -> dict[str, Any]:
    kind = next(k for k, cls in _WIRE_KINDS.items() if isinstance(tests, cls))
    return {"kind": kind, **asdict(tests)}


def _tuples(value: Any) -> Any:
    """JSON's lists back to the tuples they were (nested ones too: a script's (path, content) pairs)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def tests_from_wire(data: dict[str, Any]) -> Tests | ScriptTests:
    cls = _WIRE_KINDS[str(data["kind"])]
    fields = {k: _tuples(v) for k, v in data.items() if k != "kind"}
    tests: Tests | ScriptTests = cls(**fields)
    return tests


@dataclass(frozen=True)
class Job:
    """One program to judge, as a fork server receives it.

    Tests travel by key: a fork server is sent a key's tests once and keeps them, so a problem's
    test code and expected outputs (HumanEval+ has some of 100 MB) do not cross the pipe per sample.
    """

    program: str
    tests_key: str  # names `tests` for the whole life of the sandbox (INLINE: sent with every job, never kept)
    timeout_s: float
    memory_mb: int
    record: bool = False  # IOTests only: return the program's outputs instead of judging them
    tests: Tests | ScriptTests | None = None  # None once the receiving fork server already holds `tests_key`

    def to_wire(self, with_tests: bool) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "tests"}
        if with_tests and self.tests is not None:
            data["tests"] = tests_to_wire(self.tests)
        return data

    @staticmethod
    def from_wire(data: dict[str, Any]) -> Job:
        tests = tests_from_wire(data["tests"]) if "tests" in data else None
        return Job(**{**data, "tests": tests})
