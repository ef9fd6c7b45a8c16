"""`cosmocore doctor`: which isolation layers are really on, shown by probing from inside a sample.

Each line pairs what the fork server set up (`Layers`) with evidence observed by a probe program
running in the sandbox, so a layer is reported on only when the probe could not get past it.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, replace

from cosmocore import codec
from cosmocore.config import SandboxConfig
from cosmocore.sandbox.host import Sandbox
from cosmocore.types import IOTests

PROBE = textwrap.dedent('''
    import errno, os, resource, socket
    def probe():
        def attempt(action):
            try:
                action()
                return "allowed"
            except OSError as e:
                return errno.errorcode.get(e.errno, type(e).__name__)
        return {
            "uid": os.getuid(),
            "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "connect": attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=1).close()),
            "interfaces": sorted(name for _, name in socket.if_nameindex()),
            "write_var_tmp": attempt(lambda: open("/var/tmp/.cosmocore-doctor", "w").close()),
            "write_tmp": attempt(lambda: open("/tmp/.cosmocore-doctor", "w").close()),
            "env": sorted(os.environ),
            "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
            "rlimit_nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
            "rlimit_core": resource.getrlimit(resource.RLIMIT_CORE)[0],
        }
''')


@dataclass(frozen=True)
class Finding:
    layer: str
    on: bool
    evidence: str


HOST_MARKER = "COSMOCORE_DOCTOR_HOST_SECRET"  # set in the host; must not be seen inside


def diagnose(config: SandboxConfig) -> list[Finding]:
    """Start a sandbox, probe it from inside; one finding per isolation layer."""
    os.environ[HOST_MARKER] = "1"
    try:
        with Sandbox(replace(config, workers=1)) as sandbox:
            tests = IOTests(entry_point="probe", inputs=(codec.encode([]),))
            seen = codec.decode(sandbox.record_outputs(PROBE, tests)[0])
            layers = sandbox.layers
    finally:
        del os.environ[HOST_MARKER]
    return [
        Finding("network namespace (loopback only)", layers.net_ns and seen["connect"] != "allowed",
                f"interfaces {seen['interfaces']}; connect to 1.1.1.1:53 -> {seen['connect']}"),
        Finding("PID namespace per sample", layers.pid_ns and seen["pids"] == [1],
                f"sample sees pids {seen['pids']}"),
        Finding("read-only host filesystem (mount namespace)", seen["write_var_tmp"] != "allowed",
                f"{layers.readonly_mounts} mounts read-only, {layers.readonly_failed} failed; "
                f"write /var/tmp -> {seen['write_var_tmp']}"),
        Finding("private /tmp per sample", layers.private_tmp and seen["write_tmp"] == "allowed",
                f"write /tmp -> {seen['write_tmp']}"),
        Finding("hidden paths", layers.hidden_paths > 0, f"{layers.hidden_paths} paths covered"),
        Finding("unprivileged uid", seen["uid"] != 0, f"sample runs as uid {seen['uid']}"),
        Finding("rlimits (memory, processes, core)",
                seen["rlimit_as"] > 0 and seen["rlimit_core"] == 0 and seen["rlimit_nproc"] > 0,
                f"address space {seen['rlimit_as'] // 2**20} MiB, processes {seen['rlimit_nproc']}, core 0"),
        Finding("scrubbed environment", HOST_MARKER not in seen["env"],
                f"sample sees {len(seen['env'])} variables: {', '.join(seen['env'])}"),
    ]
