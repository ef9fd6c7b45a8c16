"""The Spark executor's long-lived JVM: one per sandbox worker, started on the first Spark sample.

    fork server (root, worker namespaces: loopback-only network, read-only root, private /tmp)
        --fork, become(spark uid), exec--> Spark host (python -m cosmocore.sandbox.spark_host)
            --spark-submit--> JVM: local[1] SparkContext, UI off, 1 shuffle partition, py4j on 127.0.0.1

The host runs as its own unprivileged uid (not the samples' uid, so a sample cannot signal it or read
its files), with no_new_privs and no capabilities, in the worker's namespaces: the JVM binds loopback
only and sees the sandbox's read-only filesystem. Its scratch directory is a 0700 folder of the host's
uid in the private /tmp, kept when /tmp is wiped between samples. It warms the JVM up with a query of
every kind the worlds use, then reports its gateway port and secret and waits; it exits when the fork
server closes its stdin (or dies: parent-death signal), and the JVM exits when the host does.

`SparkHost` (in the fork server) starts it lazily, hands each Spark sample the gateway, and restarts it
after a sample that timed out or crashed (the JVM may still run its jobs, or be broken), when it died,
and every `restart_every` samples, so a candidate cannot degrade the samples after it for long.

Not protected against: a candidate can run arbitrary JVM code through py4j as the host's uid, and JVM
state it leaves (threads, cached tables) lasts until the next restart. It can slow or fail later
samples of the same worker until then, but cannot make them pass: expected tables never reach the JVM
or any candidate, and every comparison happens in the fork server.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from cosmocore.config import SandboxConfig
from cosmocore.sandbox import isolation
from cosmocore.sandbox.judge import EXECUTOR_FAILURE

RESTART_STATUSES = ("timeout", "crashed", "memory_limit")


class SparkUnavailable(RuntimeError):
    """The Spark host could not be started or reached."""


@dataclass(frozen=True)
class SparkSettings:
    """The Spark host's settings (from `SandboxConfig`)."""

    driver_memory_mb: int
    start_timeout_s: float
    restart_every: int  # Spark samples per JVM

    @classmethod
    def of(cls, config: SandboxConfig) -> SparkSettings:
        return cls(config.spark_driver_memory_mb, config.spark_start_timeout_s, config.spark_restart_every)


def scratch_dir(uid: int) -> str:
    return f"/tmp/.cosmocore-spark-{uid}"


class SparkHost:
    """The fork server's handle on its Spark host process."""

    def __init__(self, uid: int | None, settings: SparkSettings) -> None:
        self.uid, self.settings = uid, settings
        self.pid = -1
        self._stdin = -1
        self.gateway: dict[str, Any] = {}
        self.served = 0
        self.workdir = scratch_dir(uid if uid is not None else os.getuid())

    def alive(self) -> bool:
        return self.pid > 0 and os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def ensure(self) -> dict[str, Any]:
        """The gateway {"port", "secret"} of a running host, starting (or restarting) one if needed."""
        if self.served >= self.settings.restart_every or not self.alive():
            self.stop()
            self._start()
        self.served += 1
        return self.gateway

    def keep_paths(self) -> tuple[str, ...]:
        """What the wipe of /tmp between samples must leave: the put-back interpreter (a checkout in
        /tmp) and the running host's scratch directory."""
        return (*isolation.kept_in_private_tmp(), *((self.workdir,) if self.pid > 0 else ()))

    def after_sample(self, status: str, detail: str) -> None:
        if status in RESTART_STATUSES or detail.startswith(EXECUTOR_FAILURE) or not self.alive():
            self.stop()

    def stop(self) -> None:
        if self.pid > 0:
            os.close(self._stdin)
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the host and its JVM (its own process group)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
        if self.uid is not None:
            isolation.kill_all(range(self.uid, self.uid + 1))
        self.pid, self.gateway, self.served = -1, {}, 0

    def _start(self) -> None:
        workdir = _fresh_scratch(self.workdir, self.uid)
        stdin_r, stdin_w = os.pipe()
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            _exec_host(stdin_r, report_w, workdir, self.uid, self.settings)
        os.close(stdin_r)
        os.close(report_w)
        self.pid, self._stdin = pid, stdin_w
        try:
            self.gateway = _read_report(report_r, self.settings.start_timeout_s, workdir)
        except SparkUnavailable:
            self.stop()
            raise
        finally:
            os.close(report_r)


def _fresh_scratch(path: str, uid: int | None) -> str:
    """An empty 0700 directory at `path` owned by `uid`, whatever a sample left there."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    shutil.rmtree(path, ignore_errors=True)
    os.mkdir(path, 0o700)
    if uid is not None:
        os.chown(path, uid, uid)
    return path


def _exec_host(stdin_fd: int, report_fd: int, workdir: str, uid: int | None, settings: SparkSettings) -> None:
    """In the forked child: become the host's uid and exec the host. Never returns."""
    try:
        os.setsid()
        os.dup2(stdin_fd, 0)
        log = os.open(os.path.join(workdir, "host.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.dup2(report_fd, 3)
        os.closerange(4, 1 << 20)
        isolation.become(uid)
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # after the uid change, which clears it
        env = {**os.environ, "HOME": workdir, "TMPDIR": workdir, "SPARK_LOCAL_DIRS": workdir,
           "SPARK_LOCAL_IP": "127.0.0.1",
           "HADOOP_USER_NAME": "cosmocore", "SPARK_USER": "cosmocore"}  # the uid has no passwd entry to name it
        args = [sys.executable, "-I", "-m", "cosmocore.sandbox.spark_host", workdir, str(settings.driver_memory_mb)]
        os.execve(sys.executable, args, env)
    finally:
        os._exit(127)


def _read_report(fd: int, timeout_s: float, workdir: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise SparkUnavailable(f"the Spark host did not start within {timeout_s:g} s{_log_tail(workdir)}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise SparkUnavailable(f"the Spark host exited while starting{_log_tail(workdir)}")
        data += chunk
    report: dict[str, Any] = json.loads(data)
    return report


def _log_tail(workdir: str) -> str:
    try:
        with open(os.path.join(workdir, "host.log"), errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return ""
    return (": " + " | ".join(lines[-6:]))[:3000] if lines else ""


# ---- the host process itself ---------------------------------------------------------------------

SESSION_CONFIG = {  # tuned for tiny tables, where planning and code generation cost more than the data
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",  # interpreted execution: no Janino compile per query
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.python.worker.reuse": "false",  # a UDF's Python worker does not outlive its job
}

WARM_UP = """
left = spark.createDataFrame([(1, "a", 2.5), (2, None, 1.0), (1, "c", None)], "id bigint, s string, x double")
right = spark.createDataFrame([(1, True), (3, False)], "id bigint, flag boolean")
joined = left.join(right, "id", "left").join(right, "id", "left_anti").dropDuplicates(["id"]).fillna({"s": "?"})
grouped = left.groupBy("id").agg(F.sum("x").alias("t"), F.count("*").alias("n"), F.avg("x"), F.max("s"))
ranked = left.withColumn("r", F.row_number().over(Window.partitionBy("id").orderBy(F.col("x").desc_nulls_last())))
for frame in (joined, grouped, ranked.orderBy("id", "r")):
    frame.collect()
"""


def _session(workdir: str, driver_memory_mb: int) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[1]").appName("cosmocore-spark-executor")
    options = {**SESSION_CONFIG, "spark.driver.memory": f"{driver_memory_mb}m", "spark.local.dir": workdir,
               "spark.jars.ivy": os.path.join(workdir, "ivy"),
               # the host's uid has no passwd entry: without user.home the JVM would use "?"
               "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={workdir} -Duser.home={workdir} -XX:+UseSerialGC"}
    for key, value in options.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def main() -> None:
    workdir, driver_memory_mb = sys.argv[1], int(sys.argv[2])
    from pyspark.sql import functions
    from pyspark.sql.window import Window

    spark = _session(workdir, driver_memory_mb)
    exec(WARM_UP, {"spark": spark, "F": functions, "Window": Window})
    params = spark.sparkContext._gateway.gateway_parameters
    os.write(3, (json.dumps({"port": params.port, "secret": params.auth_token}) + "\n").encode())
    os.close(3)
    sys.stdin.buffer.read()  # until the fork server closes the pipe or dies
    spark.stop()


if __name__ == "__main__":
    main()
