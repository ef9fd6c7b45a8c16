"""The candidate process: confines itself right after the fork, then runs the untrusted program
and answers the judge's requests.

Before a line of the program runs it is PID 1 of fresh namespaces with its own /proc, bare fds,
rlimits, an unprivileged uid, no_new_privs and no capabilities, and it holds one socket to the
judge and nothing else. It is assumed hostile: whatever it sends back is decoded as plain data only
(`codec`), and it never sees the tests' expected values. The one exception is `unittest` mode
(BigCodeBench), whose tests must patch this process's modules and therefore run here.

Script mode (`ScriptTests`, no verdict) runs the program in a child of this process as `__main__`, the
way `python main.py` would, with the script's stdin and a stderr of its own; the child never holds the
judge's channel, and this process reports its exit status and the files asked for.
"""

from __future__ import annotations

import atexit
import base64
import builtins
import linecache
import os
import signal
import sys
import threading
import traceback
import types
from dataclasses import dataclass
from typing import Any

from cosmocore import codec
from cosmocore.sandbox import isolation
from cosmocore.sandbox.verdict import truncate
from cosmocore.sandbox.wire import FrameError, FrameReader, write_frame

SANDBOX_ENV = {  # the whole environment a sample sees (set when the fork server starts): nothing of the host's
    "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",  # `python` is this interpreter
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class SampleSpec:
    """How one sample's candidate is confined (from `SandboxConfig`, per worker)."""

    candidate_uid: int
    max_processes: int
    max_open_files: int
    max_file_mb: int
    tmpfs_mb: int
    output_limit_bytes: int
    drop_uid: bool = False  # switch uids (only possible as real root; set by the fork server)


# ---- confinement, right after the fork ------------------------------------------------------------


def _clean_fds(stdout_fd: int, keep: int, stdio: tuple[int, int] | None) -> None:
    """stdin from /dev/null, stdout/stderr to `stdout_fd` (a script: stdin and stderr from `stdio`);
    every fd but `keep` closed."""
    stdin_fd, stderr_fd = stdio if stdio is not None else (os.open("/dev/null", os.O_RDWR), stdout_fd)
    os.dup2(stdin_fd, 0)
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)


def main(spec: SampleSpec, memory_mb: int, timeout_s: float, pid_ns: bool, sock: int, out_fd: int,
         stdio: tuple[int, int] | None = None) -> None:
    """Right after the fork, as PID 1 of the sample: a /proc of its own, bare fds, limits, another
    uid, no_new_privs, no capabilities; then serve the judge. Never returns normally.

    `stdio` (scripts only): the fds of the script's stdin and of its own stderr file."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the fork server's deadline handler is not ours
    os.setsid()  # its own session: no controlling terminal, no job control shared with the host
    if pid_ns:
        isolation.mount_proc()
    _clean_fds(out_fd, sock, stdio)
    os.chdir("/tmp")
    limits = isolation.Limits(memory_mb, int(timeout_s) + 1, spec.max_processes, spec.max_open_files,
                              spec.max_file_mb)
    isolation.apply_limits(limits)
    isolation.become(spec.candidate_uid if spec.drop_uid else None)
    isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with its fork server (after the uid change)
    serve(sock)


# ---- serving the judge ---------------------------------------------------------------------------

MODULE_NAME = "__test__"  # the candidate's module name (never "__main__": its main block does not run)


def describe(err: BaseException) -> dict[str, Any]:
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
    except codec.CodecError:  # not plain data: the judge gets only its type name and truth value
        return {"ok": True, "opaque": truncate(type(value).__name__), "truth": bool(value)}


def _unittest(ns: dict[str, Any], fd: int, test_code: str, class_name: str) -> dict[str, Any]:
    from cosmocore.sandbox.inprocess import run_unittest  # unittest stays out of the fork server

    run_unittest(ns, fd, test_code, class_name)
    return {"ok": True, "done": True}


def _spark(ns: dict[str, Any], port: int, secret: str, tables: str) -> dict[str, Any]:
    from cosmocore.sandbox import spark_session

    ns.update(spark_session.namespace(spark_session.attach(port, secret), codec.decode(tables)))
    return {"ok": True}


def _collect(ns: dict[str, Any], name: str) -> dict[str, Any]:
    """The DataFrame bound to `name`, collected: {"table": encoded plain table} or {"not_frame": type}."""
    from cosmocore.sandbox import spark_session

    if name not in ns:
        raise NameError(f"name '{name}' is not defined")
    value = ns[name]
    if not spark_session.is_frame(value):
        return {"ok": True, "not_frame": truncate(type(value).__name__)}
    table = spark_session.from_frame(value)
    try:
        return {"ok": True, "table": codec.encode(table)}
    except codec.CodecError as err:  # e.g. Decimal or date values: the schema check fails them anyway
        return {"ok": True, "table": codec.encode({"columns": table["columns"], "rows": []}),
                "unencodable": truncate(str(err))}


# ---- script mode: `python main.py`, no verdict -----------------------------------------------------

SCRIPT_NAME = "main.py"  # the script's file name in tracebacks and sys.argv[0] (it is not written to disk)
FETCH_LIMIT_BYTES = 8 * 1024 * 1024  # fetched files, all together; a file past the limit is left out


def _exit_status(code: object) -> int:
    """The exit status `sys.exit(code)` gives, by Python's rules (a message goes to stderr, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _shutdown(status: int) -> int:
    """What the interpreter does on its way out: join non-daemon threads, run exit handlers, flush."""
    try:
        threading._shutdown()  # type: ignore[attr-defined]  # the interpreter's own join of non-daemon threads
        atexit._run_exitfuncs()
    except BaseException:
        pass
    _flush()
    return status


def run_main(program: str) -> int:
    """Run `program` as `__main__`, as `python main.py` would; its exit status. Tracebacks go to stderr."""
    module = types.ModuleType("__main__")
    module.__dict__.update({"__builtins__": builtins, "__file__": SCRIPT_NAME})
    sys.modules["__main__"], sys.argv = module, [SCRIPT_NAME]
    linecache.cache[SCRIPT_NAME] = (len(program), None, program.splitlines(True), SCRIPT_NAME)  # source in tracebacks
    try:
        exec(compile(program, SCRIPT_NAME, "exec"), module.__dict__)
        status = 0
    except SystemExit as exit_:
        status = _exit_status(exit_.code)
    except BaseException as err:
        frames = err.__traceback__.tb_next if err.__traceback__ else None  # from the program's own frame on
        traceback.print_exception(err.with_traceback(frames))  # as the interpreter reports it, source lines included
        status = 1
    return _shutdown(status)


def _write_files(files: list[list[str]]) -> None:
    """The script's input files, written by the sample itself (so only where the sample may write)."""
    for path, content in files:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(content))


def _fetch_files(paths: list[str]) -> dict[str, str]:
    """The files asked for that exist and are readable, base64, within FETCH_LIMIT_BYTES all together."""
    found, left = {}, FETCH_LIMIT_BYTES
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read(left + 1)
        except OSError:
            continue
        if len(data) <= left:
            found[path], left = base64.b64encode(data).decode(), left - len(data)
    return found


def _script(fd: int, program: str, files: list[list[str]], fetch: list[str]) -> dict[str, Any]:
    """Run `program` as a script in a child (not PID 1, so signals act as usual); its exit status
    (negative: the signal that ended it) and the fetched files."""
    _write_files(files)
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(fd)  # the script never holds the judge's channel
            status = run_main(program)
        finally:
            os._exit(status)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return {"ok": True, "exit": status, "files": _fetch_files(fetch)}


def _dispatch(ns: dict[str, Any], fd: int, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "load":
        return _load(ns, request["program"])
    if op == "script":
        return _script(fd, request["program"], request["files"], request["fetch"])
    if op == "call":
        return _call(ns, request["name"], request["args"], request["kwargs"])
    if op == "spark":
        return _spark(ns, int(request["port"]), str(request["secret"]), request["tables"])
    if op == "collect":
        return _collect(ns, request["name"])
    return _unittest(ns, fd, request["test_code"], request["class_name"])


def serve(fd: int) -> None:
    """Answer the judge's requests on `fd` until it closes the channel."""
    ns = _new_module().__dict__
    frames = FrameReader(fd)
    while True:
        try:
            request = frames.read()
        except FrameError:
            return
        try:
            reply = _dispatch(ns, fd, request)
        except BaseException as err:  # SystemExit and KeyboardInterrupt are candidate failures too
            reply = describe(err)
        _flush()
        write_frame(fd, reply)


def _flush() -> None:
    """Push the program's buffered prints to the captured output (it may be killed, never exit)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
