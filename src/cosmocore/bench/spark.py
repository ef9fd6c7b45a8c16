"""`cosmocore bench spark`: the sandbox's Spark executor, cold, warm and cached, in one run.

Candidates are miniworld-spark test-split programs: each task's reference and one injected bug, all
distinct. It reports
- cold: a fresh sandbox judging its first `workers` candidates (each worker starts and warms its JVM);
- warm: every candidate on the running JVMs (distinct programs: no cache hits), candidates/s and p50;
- cached: the same candidates again, answered from the verdict cache;
- the naive peer: a fresh local Spark per candidate (`spark-submit`-style start, as a script that
  creates its own SparkSession would), on a few candidates, outside the sandbox.
Verdicts must agree between the warm and cached passes; references must pass and bugs must fail.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cosmocore.config import SandboxConfig
from cosmocore.sandbox import Sandbox
from cosmocore.types import ExecutionResult, Problem, SparkTests
from cosmocore.worlds import generate
from cosmocore.worlds.bugs import Bug
from cosmocore.worlds.spark.bugs import inject


@dataclass(frozen=True)
class Candidate:
    task_id: str
    kind: str  # "reference" or a bug category
    program: str
    tests: SparkTests


@dataclass(frozen=True)
class Pass:
    candidates: int
    seconds: float
    p50_ms: float

    @property
    def per_s(self) -> float:
        return self.candidates / self.seconds


@dataclass(frozen=True)
class SparkBench:
    workers: int
    cold: Pass
    warm: Pass
    cached: Pass
    naive: Pass | None
    references_passed: tuple[int, int]
    bugs_failed: tuple[int, int]
    cache_agrees: bool


def build_candidates(tasks: int, seed: int = 0) -> list[Candidate]:
    problems = generate("miniworld-spark", seed, "test", tasks)
    out = []
    for task_id, problem in problems.items():
        assert isinstance(problem.tests, SparkTests)
        out.append(Candidate(task_id, "reference", problem.reference, problem.tests))
        out += [Candidate(task_id, bug.category, bug.program, problem.tests)
                for bug in _one_bug(problem, random.Random(f"bench:{task_id}"))]
    return out


def _one_bug(problem: Problem, rng: random.Random) -> list[Bug]:
    bugs = inject(problem.reference, problem.entry_point, rng)
    return [rng.choice(bugs)] if bugs else []


def _timed(sandbox: Sandbox, cases: Sequence[Candidate]) -> tuple[list[ExecutionResult], Pass]:
    start = time.perf_counter()
    results = sandbox.run_many([(c.program, c.tests) for c in cases])
    seconds = time.perf_counter() - start
    p50 = float(np.percentile([r.duration_s * 1000 for r in results], 50))
    return results, Pass(len(cases), seconds, p50)


NAIVE_SCRIPT = """
import sys, json
from pyspark.sql import SparkSession, functions as F
from pyspark.sql.window import Window
from cosmocore import codec
from cosmocore.sandbox.spark_session import from_frame, to_frames
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
tables, program = json.loads(sys.stdin.read())
env = {"spark": spark, "F": F, "Window": Window, **to_frames(spark, codec.decode(tables))}
exec(program, env)
from_frame(env["result"])
spark.stop()
"""


def run_naive(cases: Sequence[Candidate]) -> Pass:
    """A fresh Python + JVM per candidate (no sandbox): what a script with its own SparkSession pays."""
    import json

    latencies = []
    start = time.perf_counter()
    for case in cases:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", NAIVE_SCRIPT], input=json.dumps([case.tests.tables, case.program]),
                       text=True, capture_output=True, check=False)
        latencies.append((time.perf_counter() - t0) * 1000)
    return Pass(len(cases), time.perf_counter() - start, float(np.percentile(latencies, 50)))


def bench_spark(tasks: int = 40, workers: int = 0, naive: int = 2,
                log: Callable[[str], None] = print) -> SparkBench:
    config = SandboxConfig(workers=workers)
    cases = build_candidates(tasks)
    n = config.worker_count
    log(f"{len(cases)} candidates ({tasks} miniworld-spark test tasks: references and one bug each), {n} workers")
    with Sandbox(config) as sandbox:
        _, cold = _timed(sandbox, cases[:n])
        log(f"cold: {cold.seconds:.1f} s for the first {n} candidates (JVM start and warm-up included)")
        warm_results, warm = _timed(sandbox, cases[n:])
        log(f"warm: {warm.per_s:.2f} candidates/s")
        cached_results, cached = _timed(sandbox, cases[n:])
        cached = Pass(cached.candidates, cached.seconds, 1000 * cached.seconds / cached.candidates)  # no runs
    naive_pass = run_naive(cases[:naive]) if naive > 0 else None
    refs = [r for c, r in zip(cases[n:], warm_results, strict=True) if c.kind == "reference"]
    bugs = [r for c, r in zip(cases[n:], warm_results, strict=True) if c.kind != "reference"]
    agree = [a.status for a in warm_results] == [b.status for b in cached_results]
    return SparkBench(n, cold, warm, cached, naive_pass, (sum(r.passed for r in refs), len(refs)),
                      (sum(not r.passed for r in bugs), len(bugs)), agree)


def format_bench(b: SparkBench) -> str:
    rows = [("cold (fresh sandbox)", b.cold), ("warm (running JVMs)", b.warm), ("cached (identical)", b.cached)]
    if b.naive is not None:
        rows.append(("naive: fresh Spark per candidate", b.naive))
    lines = [f"{'pass':<34} {'candidates':>10} {'seconds':>8} {'cand/s':>8} {'p50 ms':>8}"]
    lines += [f"{name:<34} {p.candidates:>10} {p.seconds:>8.2f} {p.per_s:>8.2f} {p.p50_ms:>8.1f}" for name, p in rows]
    if b.naive is not None:
        lines.append(f"per-candidate latency (p50): warm {b.warm.p50_ms:.0f} ms vs naive {b.naive.p50_ms:.0f} ms "
                     f"({b.naive.p50_ms / b.warm.p50_ms:.1f}x); warm runs {b.workers} workers, naive one at a time")
    lines.append(f"references passed {b.references_passed[0]}/{b.references_passed[1]}, "
                 f"bugs failed {b.bugs_failed[0]}/{b.bugs_failed[1]} (the others are equivalent mutants), "
                 f"cached verdicts {'agree' if b.cache_agrees else 'DISAGREE'} with warm ones")
    return "\n".join(lines)
