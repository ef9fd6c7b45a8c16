"""The pre-warmed fork server: one per sandbox worker, started by the host's `WorkerPool`.

It starts with the sandbox's fixed environment (none of the host's variables), enters its own
network and mount namespaces once (`isolation.isolate_worker`); then, per sample, it forks a
fresh candidate and judges it (`supervisor.run_sample`; a script: `supervisor.run_script`), so every sample
starts from the same clean, already-imported state and nothing leaks between samples. Test plans
are prepared here and cached, so the samples of one problem share that work. A Spark sample also
needs the worker's Spark host (`spark_host`), started on the first one and restarted when a sample
may have left it broken.

Protocol on stdin/stdout (frames, see `wire`): first a settings frame in, a `layers` frame out; then
one `Job` in, one result record out, until stdin closes.
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import asdict, dataclass, replace
from typing import Any

from cosmocore.sandbox import isolation, spark_session
from cosmocore.sandbox.candidate import SampleSpec
from cosmocore.sandbox.judge import EXECUTOR_FAILURE, TestFailure
from cosmocore.sandbox.plans import Plan, prepare
from cosmocore.config import SPARK_UID_OFFSET
from cosmocore.sandbox.spark_host import SparkHost, SparkSettings, SparkUnavailable
from cosmocore.sandbox.supervisor import run_sample, run_script
from cosmocore.sandbox.wire import FrameError, FrameReader, Job, failed_result, write_frame
from cosmocore.types import ScriptTests, Tests

class PlanCache:
    """The tests this fork server has been sent (by key), and their prepared plans.

    Kept for the fork server's life: a run judges a bounded set of problems, many samples each.
    """

    def __init__(self) -> None:
        self._tests: dict[str, Tests] = {}
        self._plans: dict[tuple[str, bool], Plan] = {}

    def get(self, job: Job) -> Plan:
        if job.tests is not None and not isinstance(job.tests, ScriptTests):  # scripts are never kept
            self._tests[job.tests_key] = job.tests
        key = (job.tests_key, job.record)
        if key not in self._plans:
            if job.tests_key not in self._tests:
                raise TestFailure("crashed", f"fork server was never sent tests {job.tests_key!r}")
            self._plans[key] = prepare(self._tests[job.tests_key], job.record)
        return self._plans[key]


@dataclass
class ServerState:
    """What a fork server keeps between samples."""

    spec: SampleSpec
    layers: isolation.Layers
    home: isolation.HomeNamespaces | None
    plans: PlanCache
    spark: SparkHost


def _answer(job: Job, state: ServerState) -> tuple[dict[str, Any], int]:
    if isinstance(job.tests, ScriptTests):  # no tests to prepare: the program runs as a script
        return _script_sample(job, job.tests, state)
    try:
        plan = state.plans.get(job)
    except (TestFailure, SyntaxError, ValueError) as err:  # malformed tests: the dataset's fault
        return failed_result("crashed", f"cannot prepare the tests: {type(err).__name__}: {err}"), -1
    try:
        if plan.spark:
            return _spark_sample(job, plan, state)
        return run_sample(job, plan, state.spec, state.layers, state.home)
    except (SparkUnavailable, ImportError) as err:
        return failed_result("crashed", f"{EXECUTOR_FAILURE}{err}"), -1
    except Exception as err:  # a failure of the sandbox itself, never of the program
        return failed_result("crashed", f"sandbox error: {type(err).__name__}: {err}"), -1


def _script_sample(job: Job, tests: ScriptTests, state: ServerState) -> tuple[dict[str, Any], int]:
    try:
        return run_script(job, tests, state.spec, state.layers, state.home)
    except Exception as err:  # a failure of the sandbox itself, never of the program
        return {"outcome": "error", "detail": f"sandbox error: {type(err).__name__}: {err}"}, -1


def _spark_sample(job: Job, plan: Plan, state: ServerState) -> tuple[dict[str, Any], int]:
    """A Spark sample; run once more on a fresh JVM if the executor (not the program) failed."""
    spark_session.preload()  # once: every candidate forked after this has pyspark imported
    for attempt in range(2):
        prelude = {**(plan.prelude or {}), **state.spark.ensure()}
        result, pid = run_sample(job, plan, state.spec, state.layers, state.home, prelude)
        state.spark.after_sample(result["status"], result["detail"])
        if attempt or not result["detail"].startswith(EXECUTOR_FAILURE):
            break
        end_sample(pid, state.layers, state.spark.keep_paths())
    return result, pid


def end_sample(pid: int, layers: isolation.Layers, keep: tuple[str, ...] = ()) -> None:
    """Reap the sample's candidate (its namespace dies with it), then empty the private tmpfs but `keep`."""
    if pid > 0:
        os.waitpid(pid, 0)
    if layers.private_tmp:  # never without it: /tmp would be the host's own
        isolation.wipe_private_tmp(keep)


def serve(jobs: FrameReader, stdout: int, state: ServerState) -> None:
    gc.freeze()  # the imported heap is never scanned again, so collections do not copy its pages
    try:
        while True:
            try:
                job = Job.from_wire(jobs.read())
            except FrameError:
                return
            result, pid = _answer(job, state)
            write_frame(stdout, result)
            end_sample(pid, state.layers, state.spark.keep_paths())  # after answering: teardown is off the latency path
    finally:
        state.spark.stop()


def main() -> None:
    frames, stdout = FrameReader(sys.stdin.fileno()), sys.stdout.fileno()
    settings = frames.read()
    spec = SampleSpec(**settings["spec"])
    layers = isolation.isolate_worker(tuple(settings["hide_paths"]), spec.tmpfs_mb)
    spec = replace(spec, drop_uid=layers.drop_uid)
    write_frame(stdout, {"layers": asdict(layers)})
    spark_uid = spec.candidate_uid + SPARK_UID_OFFSET if layers.drop_uid else None
    state = ServerState(spec, layers, isolation.HomeNamespaces() if layers.pid_ns else None, PlanCache(),
                        SparkHost(spark_uid, SparkSettings(**settings["spark"])))
    serve(frames, stdout, state)


if __name__ == "__main__":
    main()
