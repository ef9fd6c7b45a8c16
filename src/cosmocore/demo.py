"""`cosmocore demo` / `make demo`: the main job, end to end, on what this release can do.

Until the learner lands (issues 4-6) the demo is the foundation's end-to-end job: probe the
sandbox's isolation; judge HumanEval's 164 canonical solutions plus one injected bug each through
`cosmocore check`; export 300 held-out Mini-World tasks with their references and categorised
injected bugs, and judge those too. Every reference must pass and every kept bug must fail; the
demo says plainly if that is not so.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from cosmocore import checking, exporting, worlds
from cosmocore.bench.sandbox import build_cases
from cosmocore.config import SandboxConfig
from cosmocore.sandbox import Sandbox
from cosmocore.sandbox.doctor import diagnose
from cosmocore.tasks import load_problems, source_paths

MINIWORLD_TASKS = 300  # held-out Mini-World tasks the demo judges (with every injected bug of each)


def _write_samples(path: Path) -> int:
    canonical, mutants = build_cases()
    lines = [{"task_id": c.task_id, "solution": c.program, "kind": c.kind} for c in canonical + mutants]
    checking.write_atomic(path, "".join(json.dumps(line) + "\n" for line in lines))
    return len(lines)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _humaneval_step(out: Path, config: SandboxConfig) -> bool:
    """HumanEval's canonical solutions and one injected bug each, through `cosmocore check`."""
    samples_path, results_path = out / "samples.jsonl", out / "results.jsonl"
    n = _write_samples(samples_path)
    print(f"\n== cosmocore check {samples_path} --benchmark humaneval  ({n} samples: canonical + injected bugs)")
    problems = load_problems("humaneval")
    samples = checking.read_samples(samples_path, problems)
    with Sandbox(config, hide_paths=source_paths("humaneval", None)) as sandbox:
        summary = checking.check(samples, problems, sandbox, results_path, out / "cache")
    print(checking.format_summary(summary))
    by_kind = Counter((r["kind"], r["passed"]) for r in _read_jsonl(results_path))
    refs_ok, refs_failed = by_kind[("canonical", True)], by_kind[("canonical", False)]
    caught = sum(v for (kind, passed), v in by_kind.items() if kind != "canonical" and not passed)
    mutants = sum(v for (kind, _), v in by_kind.items() if kind != "canonical")
    print(f"canonical solutions passed: {refs_ok}/{refs_ok + refs_failed}")
    print(f"injected bugs caught: {caught}/{mutants} (a mutant that still passes is an equivalent mutant)")
    return refs_failed == 0


def _miniworld_step(out: Path, config: SandboxConfig, n: int = MINIWORLD_TASKS) -> bool:
    """Mini-World: export held-out tasks with their references and injected bugs, then judge both."""
    folder = out / "miniworld"
    problems_path, refs_path, bugs_path = folder / "problems.jsonl", folder / "refs.jsonl", folder / "bugs.jsonl"
    print(f"\n== cosmocore worlds export miniworld-py --split test --n {n} (+ references, injected bugs)")
    problems = worlds.generate("miniworld-py", split="test", n=n)
    exporting.write_problems(problems, problems_path)
    exporting.write_references(problems, refs_path)
    loaded = load_problems("jsonl", problems_path)  # back through the HumanEval-format loader, as a user would
    with Sandbox(config, hide_paths=(str(problems_path),)) as sandbox:
        counts = exporting.write_bugs(problems, bugs_path, sandbox, seed=0)
        print(exporting.format_bug_counts(counts))
        refs = checking.check(checking.read_samples(refs_path, loaded), loaded, sandbox,
                              folder / "refs_results.jsonl", out / "cache")
        checking.check(checking.read_samples(bugs_path, loaded), loaded, sandbox,
                       folder / "bugs_results.jsonl", out / "cache")
    bugs = _read_jsonl(folder / "bugs_results.jsonl")
    print(f"reference solutions passed: {refs.status_counts['passed']}/{refs.judged}")
    print(f"kept injected bugs caught: {sum(not b['passed'] for b in bugs)}/{len(bugs)}")
    return refs.status_counts["passed"] == refs.judged


def run_demo(out: Path) -> int:
    """Probe the sandbox, then judge HumanEval and a Mini-World slice; 0 if every reference passed."""
    config = SandboxConfig(timeout_s=5.0)
    print("== sandbox isolation (cosmocore doctor)")
    for f in diagnose(config):
        print(f"[{'on ' if f.on else 'OFF'}] {f.layer}")
    ok = _humaneval_step(out, config) and _miniworld_step(out, config)
    print(f"\nresults under {out}")
    return 0 if ok else 1
