"""The trusted code sandbox: the only way CosmoCore executes generated code.

`Sandbox.run(program, tests)` returns an `ExecutionResult` whose `passed` can be trusted even when
the program was written by a policy optimised to get a pass by any means. `Sandbox.run_scripts`
(script mode, `ScriptTests`) runs a whole program as `python main.py < stdin` under the same layers and
returns what it did (`ScriptResult`: exit code, stdout, stderr): isolation without a verdict.

What it protects against (each layer is checked and reported by `cosmocore doctor`):
- False passes. Tests run in a separate *judge* process; the program runs in a *candidate* process
  that only answers calls and returns plain data (exact builtin types, JSON-coded, never pickle).
  A pass is the judge's own record on a pipe the candidate does not hold, saying every test ran and
  passed. Exit status, stdout, `sys.exit(0)`, `os._exit(0)`, exit handlers, threads that end the
  process, lying `__eq__` and int subclasses never count.
- Escapes and damage. Per worker: a network namespace with only loopback, a mount namespace in
  which every host mount is read-only and nosuid, benchmark files and home directories hidden. Per
  sample: a fresh PID namespace (the judge is PID 1; when it dies the kernel kills everything the
  sample started, daemons included; nothing outside can be signalled), fresh IPC namespace, private
  tmpfs /tmp and /dev/shm, unprivileged uids (judge and candidate differ) with no_new_privs and no
  capabilities, rlimits (address space, CPU, processes, file size, open files, core = 0), an
  environment with none of the host's variables, output captured with a cap.
- Time. The deadline is kept by a supervisor outside the sample's PID namespace; ignoring signals,
  clearing timers or spinning in C code (regex backtracking) cannot extend it.

What it does not protect against:
- Kernel exploits: this is namespaces and rlimits, not a VM or gVisor. Run untrusted models on
  hardened hosts.
- Reading world-readable host files (the filesystem is read-only, not invisible); only the paths in
  `hide_paths` and the benchmark files named by the caller are hidden.
- CPU and memory contention between samples beyond the rlimits (no cgroups).
- `unittest`-style tests (BigCodeBench): they patch the candidate's own modules, so they must run
  inside the candidate's process, where a determined program can tamper with them or forge their
  reports. Their verdicts are hardened (early exits, lying objects) but not unforgeable.
- Without root, uids cannot change: the layers that need them are reported as off by the doctor.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["Layers", "Sandbox", "SandboxConfig", "SandboxError"]

_LAZY = {  # resolved on first use, so the fork server's image holds no host-side modules
    "Sandbox": "cosmocore.sandbox.host",
    "SandboxError": "cosmocore.sandbox.host",
    "SandboxConfig": "cosmocore.config",
    "Layers": "cosmocore.sandbox.isolation",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'cosmocore.sandbox' has no attribute {name!r}")
    module = import_module(_LAZY[name])
    return getattr(module, name)
