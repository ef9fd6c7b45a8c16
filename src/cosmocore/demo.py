"""`cosmocore demo` / `make demo`: the main job, end to end, on what this release can do.

Until the learner lands (issues 3-6) the demo is the foundation's end-to-end job: probe the
sandbox's isolation, write a samples file of HumanEval's 164 canonical solutions plus one injected
bug each, judge it through `cosmocore check`, and print the verdicts. Every reference must pass
and every mutant that changes behaviour must fail; the demo says plainly if that is not so.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cosmocore import checking
from cosmocore.bench.sandbox import build_cases
from cosmocore.config import SandboxConfig
from cosmocore.sandbox import Sandbox
from cosmocore.sandbox.doctor import diagnose
from cosmocore.tasks import load_problems, source_paths


def _write_samples(path: Path) -> int:
    canonical, mutants = build_cases()
    lines = [{"task_id": c.task_id, "solution": c.program, "kind": c.kind} for c in canonical + mutants]
    checking.write_atomic(path, "".join(json.dumps(line) + "\n" for line in lines))
    return len(lines)


def run_demo(out: Path) -> int:
    config = SandboxConfig(timeout_s=5.0)
    print("== sandbox isolation (cosmocore doctor)")
    for f in diagnose(config):
        print(f"[{'on ' if f.on else 'OFF'}] {f.layer}")
    samples_path, results_path = out / "samples.jsonl", out / "results.jsonl"
    n = _write_samples(samples_path)
    print(f"\n== cosmocore check {samples_path} --benchmark humaneval  ({n} samples: canonical + injected bugs)")
    problems = load_problems("humaneval")
    samples = checking.read_samples(samples_path, problems)
    with Sandbox(config, hide_paths=source_paths("humaneval", None)) as sandbox:
        summary = checking.check(samples, problems, sandbox, results_path, out / "cache")
    print(checking.format_summary(summary))
    results = [json.loads(line) for line in results_path.read_text().splitlines()]
    by_kind = Counter((r["kind"], r["passed"]) for r in results)
    refs_ok = by_kind[("canonical", True)]
    mutant_fail = sum(v for (kind, passed), v in by_kind.items() if kind != "canonical" and not passed)
    mutants = sum(v for (kind, _), v in by_kind.items() if kind != "canonical")
    print(f"\ncanonical solutions passed: {refs_ok}/{refs_ok + by_kind[('canonical', False)]}")
    print(f"injected bugs caught: {mutant_fail}/{mutants} (a mutant that still passes is an equivalent mutant)")
    print(f"results: {results_path}")
    return 0 if by_kind[("canonical", False)] == 0 else 1
