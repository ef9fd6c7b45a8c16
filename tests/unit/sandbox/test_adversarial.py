"""One attack per test: each names the property of the sandbox it protects.

Programs here are what a policy optimised for "pass" might write. Each test checks the verdict and,
where the attack aims at the host, the host's side of things after the sample has ended.
"""

from __future__ import annotations

import os
import socket
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import pytest

from cosmocore.config import SandboxConfig
from cosmocore import codec
from cosmocore.sandbox.isolation import processes_of
from cosmocore.sandbox.host import Sandbox
from cosmocore.types import CheckFunctionTests, IOTests

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (as in CI and sessions)")

ADD_TESTS = CheckFunctionTests(
    test_code="def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 4\n",
    entry_point="add",
)
GOOD_ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def sandbox():
    os.environ["COSMOCORE_TEST_SECRET"] = "hunter2"  # must never reach a sample
    with Sandbox(SandboxConfig(timeout_s=3.0, workers=2, output_limit_bytes=4096)) as sb:
        yield sb
    del os.environ["COSMOCORE_TEST_SECRET"]


def _all_gone(uids: range, within_s: float = 5.0) -> bool:
    """True once no process of `uids` is left (the kernel reaps a dead namespace asynchronously)."""
    deadline = time.monotonic() + within_s
    while processes_of(uids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def program(src: str) -> str:
    return textwrap.dedent(src).lstrip()


def probe(sandbox: Sandbox, src: str) -> object:
    """What `probe()` returns inside the sandbox (its source defines `probe`)."""
    tests = IOTests(entry_point="probe", inputs=(codec.encode([]),))
    return codec.decode(sandbox.record_outputs(program(src), tests)[0])


def judged(sandbox: Sandbox, src: str, tests: CheckFunctionTests = ADD_TESTS) -> str:
    return sandbox.run(program(src), tests).status


# ---- false passes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("exit_call", ["sys.exit(0)", "os._exit(0)", "raise SystemExit(0)", "exit()"])
def test_exiting_before_the_tests_never_passes(sandbox, exit_call):
    assert judged(sandbox, f"import os, sys\n{exit_call}\ndef add(a, b):\n    return a + b\n") != "passed"


def test_exiting_inside_the_function_never_passes(sandbox):
    assert judged(sandbox, "import os\ndef add(a, b):\n    os._exit(0)\n") != "passed"


def test_a_thread_that_ends_the_process_never_passes(sandbox):
    src = """
        import os, threading, time
        threading.Thread(target=lambda: (time.sleep(0.01), os._exit(0)), daemon=True).start()
        def add(a, b):
            time.sleep(0.05)
            return a + b
    """
    assert judged(sandbox, src) != "passed"


def test_exit_handlers_and_printed_claims_never_pass(sandbox):
    src = """
        import atexit
        atexit.register(lambda: print("passed"))
        print("All tests passed")
        def add(a, b):
            return 0
    """
    assert judged(sandbox, src) == "wrong_answer"


def test_an_object_whose_eq_lies_does_not_pass(sandbox):
    src = """
        class Anything:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
        def add(a, b):
            return Anything()
    """
    assert judged(sandbox, src) == "wrong_answer"


def test_an_int_subclass_that_equals_everything_does_not_pass(sandbox):
    src = """
        class Int(int):
            def __eq__(self, other): return True
            __hash__ = int.__hash__
        def add(a, b):
            return Int(0)
    """
    assert judged(sandbox, src) == "wrong_answer"


def test_io_outputs_are_compared_by_exact_type(sandbox):
    inputs = (codec.encode([1, 2]),)
    tests = IOTests(entry_point="add", inputs=inputs, expected=(codec.encode(3),))
    assert sandbox.run(GOOD_ADD, tests).status == "passed"
    assert sandbox.run("def add(a, b):\n    return float(a + b)\n", tests).status == "wrong_answer"
    assert sandbox.run("def add(a, b):\n    return True\n", tests).status == "wrong_answer"


def test_forged_records_on_every_descriptor_do_not_pass(sandbox):
    src = """
        import os
        forged = b'{"t": "unit", "i": 0, "ok": true}\\n{"t": "unit", "i": 1, "ok": true}\\n'
        forged += b'{"t": "done", "status": "passed", "detail": ""}\\n'
        for fd in range(1024):
            try:
                os.write(fd, forged)
            except OSError:
                pass
        def add(a, b):
            return None
    """
    assert judged(sandbox, src) == "runtime_error"  # it garbled its own channel to the judge


def test_the_judge_is_outside_the_candidates_reach(sandbox):
    src = """
        import os
        def probe():
            pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            return [os.getppid(), pids, os.getsid(0) == os.getpid()]
    """
    parent, pids, session_leader = probe(sandbox, src)
    assert parent == 0  # the judge (its parent) is outside its PID namespace: no pid to signal or trace
    assert pids == [1]
    assert session_leader  # and in a session of its own


# ---- escapes and damage ---------------------------------------------------------------------------


def test_no_connection_leaves_the_sandbox(sandbox):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        src = f"""
            import socket
            def probe():
                results = []
                for host in ("127.0.0.1", "10.0.0.1", "1.1.1.1"):
                    try:
                        socket.create_connection((host, {port}), timeout=0.5).close()
                        results.append("connected")
                    except OSError as e:
                        results.append(type(e).__name__)
                return results
        """
        results = probe(sandbox, src)
        with pytest.raises(TimeoutError):
            server.accept()  # the host's listener never saw the sample
    assert "connected" not in results


def test_nothing_outside_the_private_tmp_can_be_written_or_deleted(sandbox, tmp_path_factory):
    shared = Path("/var/tmp") / f"cosmocore-test-{os.getpid()}"
    shared.mkdir(mode=0o777, exist_ok=True)
    shared.chmod(0o777)
    victim = shared / "victim.txt"
    victim.write_text("keep me")
    victim.chmod(0o666)
    try:
        src = f"""
            import os
            def probe():
                results = []
                for action in (lambda: open("{shared}/new.txt", "w").write("x"),
                               lambda: os.remove("{victim}"),
                               lambda: open("{victim}", "w").write("gone"),
                               lambda: open("/tmp/mine.txt", "w").write("ok")):
                    try:
                        action()
                        results.append("done")
                    except OSError as e:
                        results.append(type(e).__name__)
                return results
        """
        results = probe(sandbox, src)
        assert results[:3] != ["done"] * 3 and "done" not in results[:3]
        assert results[3] == "done"  # the sample's own /tmp works
        assert victim.read_text() == "keep me"
        assert not (shared / "new.txt").exists()
        assert not Path("/tmp/mine.txt").exists()
    finally:
        victim.unlink(missing_ok=True)
        shared.rmdir()


def test_host_secrets_in_the_environment_never_reach_a_sample(sandbox):
    src = """
        import os
        def probe():
            try:
                raw = open("/proc/self/environ", "rb").read().decode()
            except OSError:
                raw = ""
            return [dict(os.environ), raw]
    """
    env, raw = probe(sandbox, src)
    assert "COSMOCORE_TEST_SECRET" not in env and "hunter2" not in raw
    assert set(env) <= {"PATH", "HOME", "TMPDIR", "LANG", "MPLBACKEND", "OPENBLAS_NUM_THREADS",
                        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "LC_CTYPE"}


def test_samples_run_unprivileged_and_see_only_their_own_processes(sandbox):
    src = """
        import os
        def probe():
            pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            return [os.getuid(), os.geteuid(), os.getgid(), pids]
    """
    uid, euid, gid, pids = probe(sandbox, src)
    assert uid != 0 and euid != 0 and gid != 0
    assert pids == [1]  # itself, PID 1 of its own namespace


def test_the_candidate_cannot_signal_host_processes(sandbox):
    victim = subprocess.Popen(["sleep", "30"])
    try:
        src = f"""
            import os, signal
            def probe():
                try:
                    os.kill({victim.pid}, signal.SIGKILL)
                    return "sent"
                except OSError as e:
                    return type(e).__name__
        """
        probe(sandbox, src)
        time.sleep(0.1)
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


def test_daemons_die_with_their_sample(sandbox):
    src = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        def add(a, b):
            return a + b
    """
    assert judged(sandbox, src) == "passed"
    assert _all_gone(sandbox.config.sample_uids)


def test_a_fork_bomb_is_contained_and_the_next_sample_is_unaffected(sandbox):
    src = """
        import os
        def add(a, b):
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
    """
    assert judged(sandbox, src) in {"timeout", "runtime_error", "crashed"}
    assert _all_gone(sandbox.config.sample_uids)
    assert judged(sandbox, GOOD_ADD) == "passed"


def test_no_state_leaks_from_one_sample_to_the_next(sandbox):
    writer = """
        import builtins
        builtins.LEAKED = 1
        open("/tmp/leak.txt", "w").write("x")
        def probe():
            return 0
    """
    reader = """
        import builtins, os
        def probe():
            return [hasattr(builtins, "LEAKED"), os.path.exists("/tmp/leak.txt")]
    """
    probe(sandbox, writer)
    assert probe(sandbox, reader) == [False, False]


# ---- resources and time ---------------------------------------------------------------------------


def test_ignoring_signals_and_clearing_timers_cannot_extend_the_deadline(sandbox):
    src = """
        import signal
        for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):
            signal.signal(sig, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.pthread_sigmask(signal.SIG_BLOCK, range(1, 32))
        def add(a, b):
            while True:
                signal.setitimer(signal.ITIMER_REAL, 0)
    """
    start = time.monotonic()
    result = sandbox.run(program(src), ADD_TESTS, timeout_s=1.0)
    assert result.status == "timeout"
    assert time.monotonic() - start < 2.5


def test_spinning_inside_c_code_is_stopped_at_the_deadline(sandbox):
    src = """
        import re
        def add(a, b):
            return re.match(r"(a+)+$", "a" * 64 + "b")
    """
    start = time.monotonic()
    assert sandbox.run(program(src), ADD_TESTS, timeout_s=1.0).status == "timeout"
    assert time.monotonic() - start < 2.5


def test_a_memory_bomb_reports_memory_limit(sandbox):
    src = "def add(a, b):\n    return len(bytearray(8 * 1024**3))\n"
    assert sandbox.run(src, ADD_TESTS, memory_mb=256).status == "memory_limit"


def test_a_disk_bomb_is_stopped_by_the_file_size_limit(sandbox):
    src = """
        def probe():
            try:
                with open("/tmp/big", "wb") as f:
                    for _ in range(1024):
                        f.write(b"x" * (1 << 20))
                return "wrote 1 GiB"
            except OSError as e:
                return type(e).__name__
    """
    assert probe(sandbox, src) == "OSError"


def test_output_is_captured_with_a_cap(sandbox):
    src = "print('x' * 1_000_000)\ndef add(a, b):\n    return a + b\n"
    result = sandbox.run(src, ADD_TESTS)
    assert result.status == "passed"
    assert 0 < len(result.output) <= sandbox.config.output_limit_bytes


def test_closing_the_sandbox_kills_what_its_samples_left_running():
    src = """
        import ctypes, os, time
        ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # clears its own parent-death signal
        def add(a, b):
            time.sleep(60)
    """
    config = SandboxConfig(workers=1, timeout_s=30.0)
    hung = Sandbox(config)
    runner = threading.Thread(target=lambda: hung.run(program(src), ADD_TESTS), daemon=True)
    runner.start()
    time.sleep(1.0)  # the sample is asleep inside its call
    uids = hung.config.sample_uids  # the block this sandbox holds (another live sandbox may hold the first)
    assert processes_of(uids) != []
    hung.close()
    assert _all_gone(uids)


def test_parallel_samples_keep_their_own_verdicts(sandbox):
    items = [(GOOD_ADD if i % 2 else "def add(a, b):\n    return a - b\n", ADD_TESTS) for i in range(20)]
    statuses = [r.status for r in sandbox.run_many(items)]
    assert statuses == ["wrong_answer" if i % 2 == 0 else "passed" for i in range(20)]


def test_the_host_thread_is_not_blocked_by_a_hanging_sample(sandbox):
    done = threading.Event()
    threading.Thread(target=lambda: (sandbox.run("def add(a, b):\n    while True: pass\n", ADD_TESTS,
                                                 timeout_s=1.0), done.set()), daemon=True).start()
    assert sandbox.run(GOOD_ADD, ADD_TESTS).status == "passed"
    assert done.wait(5.0)


def test_benchmark_files_and_home_directories_are_hidden_from_samples():
    answers = Path("/var/tmp") / f"cosmocore-answers-{os.getpid()}.jsonl"  # outside /tmp, which is private anyway
    answers.write_text('{"task_id": "T/0", "expected": 42}\n')
    src = f"""
        import os
        def probe():
            return [open("{answers}").read(), os.listdir("/root"), os.path.exists("/root/.bash_history")]
    """
    try:
        with Sandbox(SandboxConfig(workers=1), hide_paths=[str(answers)]) as hidden:
            content, root_listing, history = probe(hidden, src)
        assert content == ""  # the file reads as empty inside; outside it is intact
        assert answers.read_text().startswith('{"task_id"')
    finally:
        answers.unlink()
    assert not history and set(root_listing) <= {".pyenv"}  # only the interpreter is put back
