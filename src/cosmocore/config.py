"""One config dataclass per stage; every field has a type, a safe default and a one-line doc with its unit.

Stages receive their own record and nothing else. Later issues add the policy, buffer and learner
configs here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from cosmocore.errors import InputError


@dataclass(frozen=True)
class SandboxConfig:
    """How generated code is executed (see `cosmocore.sandbox` for what each layer protects)."""

    timeout_s: float = 10.0  # wall-clock deadline per sample, kept from outside the sample
    memory_mb: int = 1024  # address-space limit of the candidate process
    workers: int = 0  # fork servers running samples in parallel; 0 = one per CPU core
    output_limit_bytes: int = 64 * 1024  # stdout+stderr kept per sample; the rest is read and dropped
    max_processes: int = 64  # processes/threads per sample uid (RLIMIT_NPROC)
    max_open_files: int = 256  # file descriptors per process (RLIMIT_NOFILE)
    max_file_mb: int = 64  # largest file a sample may write (RLIMIT_FSIZE)
    tmpfs_mb: int = 128  # size of the sample's private /tmp (and /dev/shm)
    uid_base: int = 61000  # a sample runs as uid uid_base + its worker's index (when started as root)
    hide_paths: tuple[str, ...] = ("/root", "/home")  # covered by empty mounts inside the sandbox

    def __post_init__(self) -> None:
        checks = {
            "timeout_s": self.timeout_s > 0,
            "memory_mb": self.memory_mb >= 64,
            "workers": self.workers >= 0,
            "output_limit_bytes": self.output_limit_bytes >= 0,
            "max_processes": self.max_processes >= 1,
            "max_open_files": self.max_open_files >= 16,
            "max_file_mb": self.max_file_mb >= 1,
            "tmpfs_mb": self.tmpfs_mb >= 1,
            "uid_base": 1000 <= self.uid_base <= 2**31,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise InputError(f"invalid sandbox setting {bad[0]}={getattr(self, bad[0])!r}")

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @property
    def sample_uids(self) -> range:
        """The uids samples run as, one per worker (when started as root)."""
        return range(self.uid_base, self.uid_base + self.worker_count)


@dataclass(frozen=True)
class RewardConfig:
    """How an execution verdict becomes a reward (DESIGN 1: CodeRL-style by default)."""

    scheme: Literal["coderl", "pass_fraction"] = "coderl"  # pass_fraction = the paper's 0..1 reward
    passed: float = 1.0  # reward of a program that passes every test
    wrong_answer_base: float = -0.3  # wrong answer: base + wrong_answer_slope x fraction of tests passed
    wrong_answer_slope: float = 0.3  # reward per unit fraction of tests passed, for a wrong answer
    runtime_error: float = -0.6  # runtime error, timeout, memory limit or crash
    name_error: float = -0.8  # a hallucinated name, attribute, module or import
    syntax_error: float = -1.0  # the program does not parse

    def __post_init__(self) -> None:
        if self.scheme not in ("coderl", "pass_fraction"):
            raise InputError(f"invalid reward setting scheme={self.scheme!r} (choose coderl or pass_fraction)")
