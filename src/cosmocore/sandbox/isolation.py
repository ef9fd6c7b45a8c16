"""Linux isolation primitives for the sandbox: namespaces, mounts, rlimits, credentials.

Thin ctypes wrappers over unshare(2), mount(2), prctl(2) and capset(2), plus the two set-up steps
built from them: `isolate_worker` (once per fork server: network and mount namespaces, a read-only
view of the host, hidden paths) and `isolate_sample` (once per sample: fresh PID, mount and IPC
namespaces with a private tmpfs). What each step achieved is returned as `Layers`, so
`cosmocore doctor` reports what is really on, not what was hoped for.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import re
import resource
import shutil
import signal
import sys
import socket
import struct
from dataclasses import dataclass, replace

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 14, 1 << 18, 1 << 21, 1 << 24
_OPTION_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
}

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38

_libc = ctypes.CDLL(None, use_errno=True)  # libc is already loaded; find_library would spawn ldconfig


class IsolationError(OSError):
    """A system call the isolation needs failed."""


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _c_string(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    ret = _libc.mount(_c_string(source), _c_string(target), _c_string(fstype), ctypes.c_ulong(flags),
                      _c_string(data))
    _check(ret, f"mount {target}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), "prctl")


def drop_capabilities() -> None:
    """Empty the effective, permitted and inheritable capability sets (capset v3)."""
    header = struct.pack("Ii", 0x20080522, 0)
    data = bytes(24)  # two __user_cap_data_struct of three u32, all zero
    _check(_libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)), "capset")


@dataclass(frozen=True)
class Layers:
    """Which isolation layers a sandbox process really has (reported by `cosmocore doctor`)."""

    user_ns: bool = False  # user namespace (only used when not started as root)
    net_ns: bool = False  # network namespace with loopback only
    mount_ns: bool = False  # private mount table
    readonly_mounts: int = 0  # host mounts made read-only inside
    readonly_failed: int = 0  # host mounts that could not be made read-only
    hidden_paths: int = 0  # paths covered by an empty mount (benchmark files, home dirs)
    pid_ns: bool = False  # per-sample PID namespace
    private_tmp: bool = False  # per-sample tmpfs at /tmp and /dev/shm
    drop_uid: bool = False  # runs as an unprivileged uid


# ---- per fork server ------------------------------------------------------------------------------


def _enter_user_ns() -> bool:
    """As a non-root user, become root of a new user namespace (maps only our own uid)."""
    uid, gid = os.getuid(), os.getgid()
    try:
        unshare(CLONE_NEWUSER)
    except IsolationError:
        return False
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")
    return True


def _loopback_up() -> None:
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh22x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def _mount_points() -> list[tuple[str, int]]:
    """(mount point, per-mount flags) from /proc/self/mountinfo, parents before children."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])  # \040 = space
            flags = sum(_OPTION_FLAGS.get(opt, 0) for opt in fields[5].split(","))
            points.append((target, flags))
    return points


def _make_readonly() -> tuple[int, int]:
    done = failed = 0
    for target, flags in _mount_points():
        try:
            mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | flags)
            done += 1
        except (IsolationError, ValueError):
            failed += 1
    return done, failed


def _python_paths() -> list[str]:
    """Directories this interpreter needs: its installation, stdlib and package paths (outermost only)."""
    paths = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, *sys.path) if p and os.path.isdir(p)}
    return sorted(p for p in paths if not any(p.startswith(q + os.sep) for q in paths))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _hide_dir(path: str, python: list[str]) -> None:
    """Cover `path` with an empty tmpfs, then put back the parts of it Python needs.

    The put-back also makes the interpreter reachable for the sandbox's uids when an ancestor
    (/root, mode 700) would otherwise stop them.
    """
    keep = [p for p in python if _under(p, path)]
    handles = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep}  # before they are covered
    try:
        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        for p, fd in handles.items():
            os.makedirs(p, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
    finally:
        for fd in handles.values():
            os.close(fd)


def _hide(paths: tuple[str, ...]) -> int:
    python = _python_paths()
    hidden = 0
    for path in map(os.path.realpath, paths):
        try:
            if os.path.isdir(path):
                _hide_dir(path, python)
            elif os.path.exists(path):
                mount("/dev/null", path, None, MS_BIND)
            else:
                continue
            hidden += 1
        except (IsolationError, OSError):
            continue
    return hidden


def isolate_worker(hide_paths: tuple[str, ...], tmpfs_mb: int) -> Layers:
    """Move this (fork server) process into its own network and mount namespaces.

    Inside: only a loopback interface; every host mount read-only and nosuid; `hide_paths`
    (benchmark files, /root, /home) covered by empty mounts; a private tmpfs of `tmpfs_mb` MiB at
    /tmp and /dev/shm, emptied after every sample (`wipe_private_tmp`). Degrades layer by layer
    where the kernel refuses, and says so in the returned `Layers`.
    """
    layers = Layers()
    if os.geteuid() != 0:
        layers = replace(layers, user_ns=_enter_user_ns())
        if not layers.user_ns:
            return layers
    layers = replace(layers, net_ns=_enter_network_ns())
    try:
        unshare(CLONE_NEWNS)
        mount("none", "/", None, MS_REC | MS_PRIVATE)
    except IsolationError:
        return layers
    hidden = _hide(hide_paths)
    done, failed = _make_readonly()
    per_sample = _can_isolate_samples()
    return replace(layers, mount_ns=True, readonly_mounts=done, readonly_failed=failed, hidden_paths=hidden,
                   private_tmp=_mount_private_tmp(tmpfs_mb), pid_ns=per_sample, drop_uid=_is_real_root())


def _enter_network_ns() -> bool:
    try:
        unshare(CLONE_NEWNET)
        _loopback_up()
        return True
    except (IsolationError, OSError):
        return False


def _mount_private_tmp(tmpfs_mb: int) -> bool:
    """A fresh tmpfs on /tmp and /dev/shm (after the read-only remount, so they stay writable).

    An interpreter or virtualenv that lives under them (a checkout in /tmp) is put back, read-only,
    so that modules imported later (pyspark in a Spark host) are still found."""
    python = _python_paths()
    try:
        for path in filter(os.path.isdir, PRIVATE_TMP):
            keep = [p for p in python if _under(p, path) and p != path]
            handles = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep}  # before they are covered
            mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,nr_inodes=16384,mode=1777")
            _put_back_readonly(handles)
    except (IsolationError, OSError):
        return False
    return True


def _put_back_readonly(handles: dict[str, int]) -> None:
    try:
        for p, fd in handles.items():
            os.makedirs(p, mode=0o755, exist_ok=True)  # root-owned: samples cannot write beside them
            mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
            mount("none", p, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
    finally:
        for fd in handles.values():
            os.close(fd)


def kept_in_private_tmp() -> tuple[str, ...]:
    """The top-level entries of the private tmpfs that hold the put-back interpreter (never wiped)."""
    tops = set()
    for p in _python_paths():
        for root in PRIVATE_TMP:
            if _under(p, root) and p != root:
                tops.add(os.path.join(root, os.path.relpath(p, root).split(os.sep)[0]))
    return tuple(sorted(tops))


def _can_isolate_samples() -> bool:
    """Try, in a throw-away child, the per-sample namespace round trip of `HomeNamespaces`."""
    pid = os.fork()
    if pid == 0:
        try:
            home = HomeNamespaces()
            home.enter_sample()
            home.leave_sample()
            os._exit(0)
        except BaseException:
            os._exit(1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


# ---- per sample -----------------------------------------------------------------------------------

PRIVATE_TMP = ("/tmp", "/dev/shm")  # writable tmpfs inside the sandbox; everything else is read-only
_SAMPLE_NAMESPACES = (("mnt", CLONE_NEWNS), ("ipc", CLONE_NEWIPC), ("pid", CLONE_NEWPID))


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


class HomeNamespaces:
    """Handles on the fork server's own namespaces, to come back to after setting up each sample."""

    def __init__(self) -> None:
        self.fds = [(os.open(f"/proc/self/ns/{name}", os.O_RDONLY), flag) for name, flag in _SAMPLE_NAMESPACES]

    def enter_sample(self) -> None:
        """New PID, mount (for its own /proc) and IPC namespaces for the next child.

        Only children forked after this live in the new PID namespace; the first becomes its PID 1,
        and when it dies the kernel kills every process the sample started, daemons included.
        """
        unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC)

    def leave_sample(self) -> None:
        """Back to the fork server's namespaces; the sample's live on in its processes only."""
        for fd, flag in self.fds:
            setns(fd, flag)


def wipe_private_tmp(keep: tuple[str, ...] = ()) -> None:
    """Empty /tmp and /dev/shm once a sample's processes are all dead, except the paths in `keep`.

    Only for a worker whose `Layers.private_tmp` is on: these are then its own tmpfs, not the host's.
    """
    for path in filter(os.path.isdir, PRIVATE_TMP):
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.path in keep:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)


def processes_of(uids: range) -> list[int]:
    """Pids of the live processes owned by `uids` (the sandbox's); zombies, already dead, are left out."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids and not _is_zombie(entry.path):
                    found.append(int(entry.name))
            except FileNotFoundError:
                continue
    return found


def _is_zombie(proc_dir: str) -> bool:
    with open(f"{proc_dir}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def kill_all(uids: range) -> None:
    """SIGKILL every process of the sandbox's uids: what a sample left behind outlives nothing."""
    for pid in processes_of(uids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue


def mount_proc() -> None:
    """In PID 1 of the sample's namespace: a /proc that shows only the sample's processes."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed process."""

    memory_mb: int  # address space
    cpu_s: int  # CPU seconds (SIGXCPU, then SIGKILL one second later)
    max_processes: int  # RLIMIT_NPROC, per uid (binds because the uid is not root)
    max_open_files: int
    max_file_mb: int


def apply_limits(limits: Limits) -> None:
    mb = 1024 * 1024
    for res, value in (
        (resource.RLIMIT_AS, limits.memory_mb * mb),
        (resource.RLIMIT_DATA, limits.memory_mb * mb),
        (resource.RLIMIT_NPROC, limits.max_processes),
        (resource.RLIMIT_NOFILE, limits.max_open_files),
        (resource.RLIMIT_FSIZE, limits.max_file_mb * mb),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(res, (value, value))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))


def become(uid: int | None) -> None:
    """Drop to `uid` (and the same gid; None keeps the uid, as without root) with no way back.

    Either way: no_new_privs (setuid binaries gain nothing) and no capabilities left.
    """
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    drop_capabilities()


def _is_real_root() -> bool:
    """True in the initial user namespace (uid 0 there), where other uids exist to switch to."""
    try:
        with open("/proc/self/uid_map") as f:
            first = f.read().split()
        return first[:3] == ["0", "0", "4294967295"]
    except OSError:
        return False
