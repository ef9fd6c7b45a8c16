"""Framing over real pipes: frames arrive whole and in order however the bytes are split, a hostile
length or body is a FrameError (never an allocation, never mistaken for a clean close), and a Job
survives the trip to a fork server unchanged, with its tests or by their key alone."""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cosmocore import codec
from cosmocore.sandbox import wire  # wire.tests_*: imported bare, pytest would collect them
from cosmocore.sandbox.wire import (
    MAX_FRAME,
    ChannelClosed,
    FrameError,
    FrameReader,
    Job,
    write_frame,
)
from cosmocore.types import AssertTests, CheckFunctionTests, IOTests, UnittestTests


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass  # the test closed it already


def frame_bytes(message: object) -> bytes:
    data = json.dumps(message).encode()
    return struct.pack(">I", len(data)) + data


def test_frames_written_back_to_back_are_read_in_order(pipe):
    r, w = pipe
    messages = [{"op": "call", "i": i} for i in range(5)] + [[1, 2], "text", None, 3.5]
    for message in messages:
        write_frame(w, message)
    reader = FrameReader(r)
    assert [reader.read() for _ in messages] == messages


def test_non_ascii_text_survives_a_frame(pipe):
    r, w = pipe
    write_frame(w, {"s": "héllo ✓ \u2028"})
    assert FrameReader(r).read() == {"s": "héllo ✓ \u2028"}


def test_a_frame_split_across_writes_is_read_whole(pipe):
    r, w = pipe
    data = frame_bytes({"program": "x" * 1000}) + frame_bytes({"next": True})
    pieces = [data[:2], data[2:7], data[7:500], data[500:]]  # splits inside the header and the body

    def writer() -> None:
        for piece in pieces:
            os.write(w, piece)
            time.sleep(0.01)  # the reader sees each piece on its own

    thread = threading.Thread(target=writer)
    thread.start()
    reader = FrameReader(r)
    assert reader.read() == {"program": "x" * 1000}
    assert reader.read() == {"next": True}
    thread.join()


def test_a_frame_delivered_one_byte_per_read_is_read_whole(pipe, monkeypatch):
    r, w = pipe
    os.write(w, frame_bytes({"a": [1, 2, 3]}) + frame_bytes("second"))
    real_read = os.read
    monkeypatch.setattr(wire.os, "read", lambda fd, n: real_read(fd, 1))
    reader = FrameReader(r)
    assert reader.read() == {"a": [1, 2, 3]}
    assert reader.read() == "second"


@pytest.mark.parametrize("size", [MAX_FRAME + 1, 2**32 - 1])
def test_a_length_over_max_frame_is_a_frame_error_not_a_close(pipe, size):
    r, w = pipe
    os.write(w, struct.pack(">I", size) + b"{}")
    with pytest.raises(FrameError, match="exceeds") as info:
        FrameReader(r).read()
    assert not isinstance(info.value, ChannelClosed)


def test_eof_before_any_frame_is_channel_closed(pipe):
    r, w = pipe
    os.close(w)
    with pytest.raises(ChannelClosed):
        FrameReader(r).read()


@pytest.mark.parametrize(
    "partial", [b"\x00\x00", struct.pack(">I", 10) + b'{"a"'], ids=["in header", "in body"]
)
def test_eof_inside_a_frame_is_channel_closed(pipe, partial):
    r, w = pipe
    os.write(w, partial)
    os.close(w)
    with pytest.raises(ChannelClosed):
        FrameReader(r).read()


def test_eof_after_the_last_whole_frame_is_channel_closed(pipe):
    r, w = pipe
    write_frame(w, 1)
    os.close(w)
    reader = FrameReader(r)
    assert reader.read() == 1
    with pytest.raises(ChannelClosed):
        reader.read()


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe\xfd", b"[1, 2"], ids=repr)
def test_a_malformed_body_is_a_frame_error_not_a_close(pipe, body):
    r, w = pipe
    os.write(w, struct.pack(">I", len(body)) + body)
    with pytest.raises(FrameError, match="malformed") as info:
        FrameReader(r).read()
    assert not isinstance(info.value, ChannelClosed)


def test_channel_closed_is_a_frame_error_and_both_are_eof_errors():
    assert issubclass(ChannelClosed, FrameError)
    assert issubclass(FrameError, EOFError)


def test_write_frame_writes_a_big_endian_length_then_the_json(pipe):
    r, w = pipe
    write_frame(w, {"a": 1})
    assert os.read(r, 100) == b'\x00\x00\x00\x07{"a":1}'


# ---- Job -----------------------------------------------------------------------------------------

TESTS = [
    CheckFunctionTests(test_code="def check(candidate):\n    assert candidate(1) == 2\n", entry_point="inc",
                       setup_code="def inc(x):\n    '''prompt'''\n"),
    AssertTests(asserts=("assert f(1) == 2", "assert f(2) == 3"), setup_code="import math"),
    AssertTests(asserts=()),
    IOTests(entry_point="f", inputs=(codec.encode([1]), codec.encode([(2, 3)])),
            expected=(codec.encode(2), codec.encode({1: 2.5})), atol=1e-4),
    IOTests(entry_point="find_zero", inputs=(codec.encode([[1.0, 2.0]]),), oracle="poly_root"),
    UnittestTests(test_code="import unittest\nclass T(unittest.TestCase):\n    def test_a(self): pass\n",
                  class_name="T"),
]


def make_job(tests: Any, record: bool = False) -> Job:
    return Job(program="def f(x):\n    return x + 1\n", tests_key="task/7", timeout_s=2.5, memory_mb=512,
               record=record, tests=tests)


def through_a_frame(fd_pair: tuple[int, int], message: Any) -> Any:
    r, w = fd_pair
    write_frame(w, message)
    return FrameReader(r).read()


@pytest.mark.parametrize("tests", TESTS, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("record", [False, True])
def test_job_with_its_tests_round_trips_through_a_frame_unchanged(pipe, tests, record):
    job = make_job(tests, record)
    back = Job.from_wire(through_a_frame(pipe, job.to_wire(with_tests=True)))
    assert back == job
    assert type(back.tests) is type(tests)


@pytest.mark.parametrize("tests", TESTS, ids=lambda t: type(t).__name__)
def test_job_sent_by_key_alone_carries_no_tests(pipe, tests):
    job = make_job(tests)
    wire_job = job.to_wire(with_tests=False)
    assert "tests" not in wire_job  # the fork server already holds them under tests_key
    assert Job.from_wire(through_a_frame(pipe, wire_job)) == dataclasses.replace(job, tests=None)


@pytest.mark.parametrize("tests", TESTS, ids=lambda t: type(t).__name__)
def test_tests_round_trip_through_a_frame_unchanged(pipe, tests):
    assert wire.tests_from_wire(through_a_frame(pipe, wire.tests_to_wire(tests))) == tests


def test_tests_wire_names_the_tests_kind():
    kinds = [wire.tests_to_wire(t)["kind"] for t in TESTS]
    assert kinds == ["check_function", "asserts", "asserts", "io", "io", "unittest"]


def test_io_tests_sequences_come_back_as_tuples_so_the_frozen_record_stays_hashable(pipe):
    tests = wire.tests_from_wire(through_a_frame(pipe, wire.tests_to_wire(TESTS[3])))
    assert isinstance(tests, IOTests)
    assert type(tests.inputs) is tuple and type(tests.expected) is tuple
    hash(tests)
