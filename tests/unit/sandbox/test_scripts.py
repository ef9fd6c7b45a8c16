"""Script mode (`Sandbox.run_scripts`): a whole program run as `python main.py < stdin` under every
isolation layer, reporting what it did, never a verdict. One property per test; the attacks are the
ones `test_adversarial.py` makes on judged samples, made by a script."""

from __future__ import annotations

import base64
import os
import socket
import textwrap
import time
from pathlib import Path

import pytest

from cosmocore.config import SandboxConfig
from cosmocore.sandbox import wire
from cosmocore.sandbox.host import Sandbox
from cosmocore.sandbox.isolation import processes_of
from cosmocore.types import ScriptResult, ScriptTests

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="full isolation needs root (as in CI and sessions)")


@pytest.fixture(scope="module")
def sandbox():
    os.environ["COSMOCORE_TEST_SECRET"] = "hunter2"  # must never reach a script
    with Sandbox(SandboxConfig(timeout_s=3.0, workers=2, output_limit_bytes=4096)) as sb:
        yield sb
    del os.environ["COSMOCORE_TEST_SECRET"]


NO_INPUT = ScriptTests()


def run(sandbox: Sandbox, src: str, tests: ScriptTests = NO_INPUT, timeout_s: float | None = None) -> ScriptResult:
    return sandbox.run_scripts([(textwrap.dedent(src).lstrip(), tests)], timeout_s=timeout_s)[0]


def _all_gone(uids: range, within_s: float = 5.0) -> bool:
    """True once no process of `uids` is left (the kernel reaps a dead namespace asynchronously)."""
    deadline = time.monotonic() + within_s
    while processes_of(uids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# ---- what a script is told and what it reports (no root needed for the record's trip) -------------


def test_script_tests_survive_the_trip_to_a_fork_server():
    tests = ScriptTests(stdin="1 2\n", files=(("a/b.txt", "eA=="),), fetch_files=("out.txt",))
    job = wire.Job("print(1)", wire.INLINE, 1.0, 64, tests=tests)
    assert wire.Job.from_wire(job.to_wire(with_tests=True)) == job


@needs_root
def test_a_script_reads_its_stdin_and_reports_stdout_stderr_and_exit_status_apart(sandbox):
    src = """
        import sys
        a, b = map(int, input().split())
        print(a + b)
        print("note", file=sys.stderr)
        sys.exit(3)
    """
    result = run(sandbox, src, ScriptTests(stdin="2 5\n"))
    assert (result.outcome, result.return_code, result.stdout, result.stderr) == ("finished", 3, "7\n", "note\n")


@needs_root
def test_a_script_runs_as_main(sandbox):
    assert run(sandbox, "if __name__ == '__main__':\n    print('main')\n").stdout == "main\n"


@needs_root
@pytest.mark.parametrize(("src", "status", "stderr_end"), [
    ("x = 1 / 0\n", 1, "ZeroDivisionError: division by zero\n"),
    ("def f(:\n", 1, "SyntaxError: invalid syntax\n"),
    ("import sys\nsys.exit('bye')\n", 1, "bye\n"),
    ("import os\nos._exit(7)\n", 7, ""),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", -9, ""),
])
def test_the_exit_status_is_the_one_python_would_give(sandbox, src, status, stderr_end):
    result = run(sandbox, src)
    assert (result.outcome, result.return_code) == ("finished", status)
    assert result.stderr.endswith(stderr_end)


@needs_root
def test_exit_code_zero_is_what_the_program_chose_not_a_verdict(sandbox):
    result = run(sandbox, "import sys\nsys.exit(0)\nassert False, 'never reached'\n")
    assert (result.outcome, result.return_code) == ("finished", 0)
    with pytest.raises(TypeError, match="no verdict"):
        sandbox.run_many([("print(1)", ScriptTests())])  # type: ignore[list-item]


@needs_root
def test_a_script_cannot_forge_its_report(sandbox):
    src = """
        import os, struct
        body = b'{"ok": true, "exit": 0, "files": {}}'
        forged = struct.pack(">I", len(body)) + body  # a well-formed report frame
        for fd in range(1024):
            try:
                os.write(fd, forged)
            except OSError:
                pass
        os._exit(5)
    """
    assert run(sandbox, src).return_code == 5  # the script never holds the channel its report travels on


@needs_root
def test_input_files_are_written_and_output_files_fetched(sandbox):
    tests = ScriptTests(files=(("data/in.txt", base64.b64encode(b"abc").decode()),),
                        fetch_files=("out.txt", "missing.txt"))
    result = run(sandbox, "open('out.txt', 'w').write(open('data/in.txt').read()[::-1])\n", tests)
    assert result.files == (("out.txt", base64.b64encode(b"cba").decode()),)


# ---- escapes and damage ---------------------------------------------------------------------------


@needs_root
def test_a_fork_bomb_script_is_contained_and_the_next_script_is_unaffected(sandbox):
    src = """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    assert run(sandbox, src, timeout_s=1.0).outcome in {"timeout", "finished"}
    assert _all_gone(sandbox.config.sample_uids)
    assert run(sandbox, "print('ok')\n").stdout == "ok\n"


@needs_root
def test_no_connection_leaves_a_script(sandbox):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        src = f"""
            import socket
            for host in ("127.0.0.1", "10.0.0.1", "1.1.1.1"):
                try:
                    socket.create_connection((host, {port}), timeout=0.5).close()
                    print("connected")
                except OSError as e:
                    print(type(e).__name__)
        """
        result = run(sandbox, src)
        with pytest.raises(TimeoutError):
            server.accept()  # the host's listener never saw the script
    assert result.return_code == 0 and "connected" not in result.stdout


@needs_root
def test_a_script_writes_nothing_outside_its_private_tmp(sandbox):
    shared = Path("/var/tmp") / f"cosmocore-script-test-{os.getpid()}"
    shared.mkdir(mode=0o777, exist_ok=True)
    shared.chmod(0o777)
    victim = shared / "victim.txt"
    victim.write_text("keep me")
    victim.chmod(0o666)
    src = f"""
        import os
        for action in (lambda: open("{shared}/new.txt", "w").write("x"), lambda: os.remove("{victim}"),
                       lambda: open("{victim}", "w").write("gone"), lambda: open("/tmp/mine.txt", "w").write("ok")):
            try:
                action()
                print("done")
            except OSError as e:
                print(type(e).__name__)
    """
    try:
        lines = run(sandbox, src).stdout.split()
        assert "done" not in lines[:3] and lines[3] == "done"  # only the script's own /tmp is writable
        assert victim.read_text() == "keep me"
        assert not (shared / "new.txt").exists() and not Path("/tmp/mine.txt").exists()
    finally:
        victim.unlink(missing_ok=True)
        shared.rmdir()


@needs_root
def test_input_files_cannot_be_placed_outside_the_private_tmp(sandbox):
    target = Path("/var/tmp") / f"cosmocore-planted-{os.getpid()}.txt"
    result = run(sandbox, "print('ran')\n", ScriptTests(files=((str(target), "eA=="),)))
    assert result.outcome == "error" and "Read-only file system" in result.detail
    assert not target.exists()


@needs_root
def test_a_script_cannot_read_home_directories_or_host_secrets(sandbox):
    src = """
        import os
        print(sorted(os.listdir("/root")))
        print(os.path.exists("/root/.bash_history"))
        print(sorted(os.environ))
        try:
            print(repr(open("/proc/self/environ", "rb").read()))
        except OSError as e:
            print(type(e).__name__)
    """
    listing, history, env, raw = run(sandbox, src).stdout.splitlines()[:4]
    assert set(eval(listing)) <= {".pyenv"}  # only the interpreter is put back
    assert history == "False"
    assert "COSMOCORE_TEST_SECRET" not in env and "hunter2" not in raw


@needs_root
def test_daemons_a_script_leaves_die_with_it(sandbox):
    src = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(60)
        print("parent done")
    """
    assert run(sandbox, src).stdout == "parent done\n"
    assert _all_gone(sandbox.config.sample_uids)


@needs_root
def test_nothing_a_script_leaves_in_tmp_reaches_the_next(sandbox):
    run(sandbox, "open('/tmp/leak.txt', 'w').write('x')\n")
    assert run(sandbox, "import os\nprint(os.path.exists('/tmp/leak.txt'))\n").stdout == "False\n"


# ---- resources and time ---------------------------------------------------------------------------


@needs_root
def test_an_infinite_loop_is_ended_at_the_run_timeout(sandbox):
    result = run(sandbox, "print('started', flush=True)\nwhile True:\n    pass\n", timeout_s=1.0)
    assert (result.outcome, result.return_code) == ("timeout", None)
    assert result.stdout == "started\n"  # what it printed before the deadline is kept


@needs_root
def test_huge_output_is_capped_and_the_sandbox_keeps_serving(sandbox):
    src = "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n    sys.stderr.write('y' * 65536)\n"
    result = run(sandbox, src, timeout_s=2.0)
    assert 0 < len(result.stdout) <= sandbox.config.output_limit_bytes
    assert 0 < len(result.stderr) <= sandbox.config.output_limit_bytes
    assert run(sandbox, "print('ok')\n").stdout == "ok\n"


@needs_root
def test_a_memory_bomb_script_fails_inside_its_limit(sandbox):
    result = sandbox.run_scripts([("x = bytearray(8 * 1024**3)\n", ScriptTests())], memory_mb=256)[0]
    assert result.return_code == 1 and result.stderr.endswith("MemoryError\n")
