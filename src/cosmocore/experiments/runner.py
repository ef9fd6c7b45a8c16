"""Grids: methods x seeds, every run at the same environment budget, run one after another and resumable.

A grid is a name ("quick", "paper") or a YAML file `{name, methods, seeds, overrides: {dotted.key: value}}`.
Run directories are `OUT/runs/METHOD/seed-S/`; a run with `DONE.json` is finished and never run again,
a run with a `config.yaml` but no `DONE.json` was interrupted and is resumed from its last checkpoint.
The grid's overrides apply to every run (so every method sees the same budget); a method's preset
(`cosmocore.methods`) and the seed are applied per run.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cosmocore import configfile
from cosmocore.config import TrainConfig
from cosmocore.errors import InputError
from cosmocore.experiments.results import SelfCorrectionRow
from cosmocore.methods import METHODS, resolve

T = TypeVar("T")
QUICK_METHODS = ("ppo", "uniform-replay", "cosmocore", "cosmocore-no-prune")  # the headline family + pruning


@dataclass(frozen=True)
class GridSpec:
    """What a grid runs: methods x seeds, with overrides shared by every run."""

    name: str
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    self_correction: tuple[str, ...] = ()  # methods that also run Algorithm 1 (experiments/selfcorrect.py)
    self_correction_tasks: int = 12  # held-out tasks in Algorithm 1's task set
    self_correction_cycles: int = 6  # its cycle cap


GRIDS: dict[str, GridSpec] = {
    # The main job on 2 CPU cores: small enough that 12 runs, Algorithm 1 for ppo and cosmocore and the
    # embedded model's first build (about 6 minutes here) fit in 10 minutes.
    "quick": GridSpec("quick", QUICK_METHODS, (1, 2, 3), {
        "run.world": "miniworld-py", "run.steps": 10, "run.prompts_per_step": 8, "run.samples_per_prompt": 4,
        "run.train_tasks": 600, "run.eval_every": 0, "run.eval_tasks": 64, "run.checkpoint_every": 5,
        "policy.max_new_tokens": 96, "buffer.capacity": 20_000, "learn.nocturnal_every": 1,
        "learn.nocturnal_minibatches": 2, "learn.replay_batch_size": 16, "learn.minibatch_size": 16,
        "learn.lr": 5e-5, "learn.value_warmup_rollouts": 2, "sandbox.workers": 2},
        self_correction=("ppo", "cosmocore"), self_correction_tasks=8, self_correction_cycles=4),
    # The paper's comparison at a size a workstation runs in hours: every method, five seeds.
    "paper": GridSpec("paper", tuple(METHODS), (1, 2, 3, 4, 5), {
        "run.world": "miniworld-py", "run.steps": 200, "run.eval_every": 20, "run.eval_tasks": 200,
        "buffer.capacity": 200_000},
        self_correction=("ppo", "cosmocore", "cosmocore-no-prio", "cosmocore-no-prune"), self_correction_tasks=40,
        self_correction_cycles=80),
}


def load_grid(name_or_path: str) -> GridSpec:
    """A named grid or one read from a YAML file."""
    if name_or_path in GRIDS:
        return GRIDS[name_or_path]
    path = Path(name_or_path)
    if not path.exists():
        raise InputError(f"unknown grid {name_or_path!r}: not {', '.join(GRIDS)} and no such file")
    data = configfile.read_yaml(path)
    known = ("name", "methods", "seeds", "overrides", "self_correction", "self_correction_tasks",
             "self_correction_cycles")
    unknown = set(data) - set(known)
    if unknown:
        raise InputError(f"grid file {path}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(known)})")
    return GridSpec(str(data.get("name", path.stem)), tuple(data.get("methods", QUICK_METHODS)),
                    tuple(int(s) for s in data.get("seeds", (1, 2, 3))), dict(data.get("overrides") or {}),
                    tuple(data.get("self_correction", ())), int(data.get("self_correction_tasks", 12)),
                    int(data.get("self_correction_cycles", 6)))


def with_choices(spec: GridSpec, methods: Sequence[str] | None, seeds: Sequence[int] | None,
                 overrides: Mapping[str, Any]) -> GridSpec:
    """The grid narrowed to chosen methods / seeds, with more overrides on top of its own."""
    for method in methods or ():
        if method not in METHODS:
            raise InputError(f"unknown method {method!r}; choose from: {', '.join(METHODS)}")
    chosen = tuple(methods or spec.methods)
    return dataclasses.replace(spec, methods=chosen, seeds=tuple(seeds or spec.seeds),
                               overrides={**spec.overrides, **overrides},
                               self_correction=tuple(m for m in spec.self_correction if m in chosen))


def run_dir(out: Path, method: str, seed: int) -> Path:
    return out / "runs" / method / f"seed-{seed}"


def run_config(spec: GridSpec, method: str, seed: int, config_file: Path | None = None) -> TrainConfig:
    return resolve(method, config_file, {"run.seed": seed}, shared=spec.overrides)


def check_grid(spec: GridSpec, config_file: Path | None = None, out: Path | None = None) -> list[TrainConfig]:
    """Every run's config, resolved before any work so a bad key fails at once; budgets must agree, and
    a run already in `out` must have been started with the config the grid asks for now."""
    configs = [run_config(spec, m, s, config_file) for m in spec.methods for s in spec.seeds]
    budgets = {c.run.steps * c.run.completions_per_step for c in configs}
    if len(budgets) > 1:
        raise InputError(f"grid {spec.name!r}: methods would get different environment budgets {sorted(budgets)}")
    if out is not None:
        for (m, s), config in zip(itertools.product(spec.methods, spec.seeds), configs, strict=True):
            check_saved(run_dir(out, m, s), config)
    return configs


def check_saved(directory: Path, config: TrainConfig) -> None:
    """Refuse to reuse or resume a run whose saved config differs from `config`: its numbers would
    not be the grid's (one line naming the first key that differs)."""
    if not (directory / "config.yaml").exists():
        return
    saved, wanted = _flat(configfile.read_yaml(directory / "config.yaml")), _flat(configfile.to_dict(config))
    for key in wanted:
        if saved.get(key) != wanted[key]:
            raise InputError(f"{directory} was run with {key} = {saved.get(key)!r} but the grid now asks for "
                             f"{wanted[key]!r}: use another --out, or delete that run to redo it")


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config mapping as {"section.key": value}."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


Progress = Callable[[str, int, int], None]  # (run label, step, steps)


@dataclass(frozen=True)
class RunTask:
    """One training run of a grid, as a worker process receives it (everything in it pickles)."""

    config: TrainConfig
    directory: Path
    resume: bool
    label: str  # "[run i/N] method seed s"
    started: float  # time.time() of the grid's start, for the elapsed seconds in progress lines


def run_grid(spec: GridSpec, out: Path, config_file: Path | None = None,
             progress: Progress | None = None, jobs: int = 1) -> list[Path]:
    """Run every (method, seed) not finished yet, `jobs` at a time (1: in this process, sharing the
    baseline evaluations); returns the run directories in grid order."""
    check_grid(spec, config_file, out)
    dirs = [run_dir(out, m, s) for m in spec.methods for s in spec.seeds]
    pending = [(m, s, run_dir(out, m, s)) for m in spec.methods for s in spec.seeds
               if not (run_dir(out, m, s) / "DONE.json").exists()]
    if jobs > 1:
        started = time.time()
        tasks = [RunTask(_saved(d) if (d / "config.yaml").exists() else run_config(spec, m, s, config_file), d,
                         (d / "config.yaml").exists(), f"{m} seed {s}", started) for m, s, d in pending]
        in_pool(train_task, tasks, jobs)
        return dirs
    from cosmocore.loop import train

    baselines = {}  # type: ignore[var-annotated]
    for method, seed, directory in pending:
        resume = (directory / "config.yaml").exists()
        config = _saved(directory) if resume else run_config(spec, method, seed, config_file)
        label = f"{method} seed {seed}"
        on_step = (lambda step, _m, label=label, steps=config.run.steps: progress(label, step, steps)) \
            if progress else None
        train(config, directory, resume=resume, on_step=on_step, baselines=baselines)
    return dirs


def train_task(task: RunTask) -> Path:
    """A worker process's training run, printing its own progress lines on stderr."""
    from cosmocore.loop import train

    steps = task.config.run.steps

    def on_step(step: int, _metrics: object) -> None:
        print(f"[{task.label}] step {step}/{steps} ({time.time() - task.started:.0f} s)", file=sys.stderr, flush=True)

    return train(task.config, task.directory, resume=task.resume, on_step=on_step)


def in_pool(work: Callable[[Any], T], tasks: Sequence[Any], jobs: int) -> list[T]:
    """`work` over `tasks` in `jobs` fresh worker processes (spawned, so no parent state is shared; no
    library progress bars), in order; the first failure is raised once every started task has ended."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from cosmocore.policy.loading import quiet_transformers

    if not tasks:
        return []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context,
                             initializer=quiet_transformers) as pool:
        return list(pool.map(work, tasks))


def _saved(directory: Path) -> TrainConfig:
    return configfile.build(TrainConfig, configfile.read_yaml(directory / "config.yaml"))


@dataclass(frozen=True)
class CorrectionTask:
    """One Algorithm 1 run of a grid, as a worker process receives it."""

    config: TrainConfig
    directory: Path
    spec: Any  # SelfCorrectionSpec (imported lazily: it pulls in the loop)


def run_self_correction(spec: GridSpec, out: Path, config_file: Path | None = None,
                        progress: Progress | None = None, jobs: int = 1) -> list[SelfCorrectionRow]:
    """Algorithm 1 for each of the grid's self-correction methods and seeds, `jobs` at a time (finished
    ones are read back)."""
    from cosmocore.experiments.selfcorrect import SelfCorrectionSpec

    task_spec = SelfCorrectionSpec(spec.self_correction_tasks, spec.self_correction_cycles)
    tasks = [CorrectionTask(run_config(spec, m, s, config_file), out / "selfcorrect" / m / f"seed-{s}", task_spec)
             for m in spec.self_correction for s in spec.seeds]
    if jobs > 1:
        return in_pool(correction_task, tasks, jobs)
    rows = []
    for task in tasks:
        if progress is not None:
            progress(f"self-correction {task.config.run.method} seed {task.config.run.seed}", 0, task_spec.max_cycles)
        rows.append(correction_task(task))
    return rows


def correction_task(task: CorrectionTask) -> SelfCorrectionRow:
    """One Algorithm 1 run (read back when finished), with a line on stderr when it is done."""
    from cosmocore.experiments.selfcorrect import self_correct

    row = self_correct(task.config, task.directory, task.spec)
    reached = "not reached" if row.cycles_to_zero_error is None else f"{row.cycles_to_zero_error} cycles"
    print(f"[self-correction {row.method} seed {row.seed}] zero error: {reached}", file=sys.stderr, flush=True)
    return row
