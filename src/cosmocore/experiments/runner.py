"""Grids: methods x seeds, every run at the same environment budget, run one after another and resumable.

A grid is a name ("quick", "paper") or a YAML file `{name, methods, seeds, overrides: {dotted.key: value}}`.
Run directories are `OUT/runs/METHOD/seed-S/`; a run with `DONE.json` is finished and never run again,
a run with a `config.yaml` but no `DONE.json` was interrupted and is resumed from its last checkpoint.
The grid's overrides apply to every run (so every method sees the same budget); a method's preset
(`cosmocore.methods`) and the seed are applied per run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosmocore import configfile
from cosmocore.config import TrainConfig
from cosmocore.errors import InputError
from cosmocore.experiments.results import SelfCorrectionRow
from cosmocore.methods import METHODS, resolve

QUICK_METHODS = ("ppo", "uniform-replay", "cosmocore", "cosmocore-no-prio", "cosmocore-no-prune")


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
    # The main job on 2 CPU cores: small enough that 15 runs and the embedded model fit in 10 minutes.
    "quick": GridSpec("quick", QUICK_METHODS, (1, 2, 3), {
        "run.world": "miniworld-py", "run.steps": 10, "run.prompts_per_step": 8, "run.samples_per_prompt": 4,
        "run.train_tasks": 600, "run.eval_every": 5, "run.eval_tasks": 64, "run.checkpoint_every": 5,
        "policy.max_new_tokens": 96, "buffer.capacity": 20_000, "learn.nocturnal_every": 1,
        "learn.nocturnal_minibatches": 2, "learn.replay_batch_size": 16, "learn.minibatch_size": 16,
        "learn.lr": 5e-5, "sandbox.workers": 2},
        self_correction=("ppo", "cosmocore", "cosmocore-no-prune"), self_correction_tasks=10, self_correction_cycles=6),
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


def check_grid(spec: GridSpec, config_file: Path | None = None) -> list[TrainConfig]:
    """Every run's config, resolved before any work so a bad key fails at once; budgets must agree."""
    configs = [run_config(spec, m, s, config_file) for m in spec.methods for s in spec.seeds]
    budgets = {c.run.steps * c.run.completions_per_step for c in configs}
    if len(budgets) > 1:
        raise InputError(f"grid {spec.name!r}: methods would get different environment budgets {sorted(budgets)}")
    return configs


Progress = Callable[[str, int, int], None]  # (run label, step, steps)


def run_grid(spec: GridSpec, out: Path, config_file: Path | None = None,
             progress: Progress | None = None) -> list[Path]:
    """Run every (method, seed) not finished yet; returns the run directories in grid order."""
    from cosmocore.loop import train

    check_grid(spec, config_file)
    dirs, baselines = [], {}  # type: ignore[var-annotated]
    for method in spec.methods:
        for seed in spec.seeds:
            directory = run_dir(out, method, seed)
            dirs.append(directory)
            if (directory / "DONE.json").exists():
                continue
            resume = (directory / "config.yaml").exists()
            config = _saved(directory) if resume else run_config(spec, method, seed, config_file)
            label = f"{method} seed {seed}"
            on_step = (lambda step, _m, label=label, steps=config.run.steps: progress(label, step, steps)) \
                if progress else None
            train(config, directory, resume=resume, on_step=on_step, baselines=baselines)
    return dirs


def _saved(directory: Path) -> TrainConfig:
    return configfile.build(TrainConfig, configfile.read_yaml(directory / "config.yaml"))


def run_self_correction(spec: GridSpec, out: Path, config_file: Path | None = None,
                        progress: Progress | None = None) -> list[SelfCorrectionRow]:
    """Algorithm 1 for each of the grid's self-correction methods and seeds (finished ones are read back)."""
    from cosmocore.experiments.selfcorrect import SelfCorrectionSpec, self_correct

    task_spec = SelfCorrectionSpec(spec.self_correction_tasks, spec.self_correction_cycles)
    rows = []
    for method in spec.self_correction:
        for seed in spec.seeds:
            if progress is not None:
                progress(f"self-correction {method} seed {seed}", 0, task_spec.max_cycles)
            config = run_config(spec, method, seed, config_file)
            rows.append(self_correct(config, out / "selfcorrect" / method / f"seed-{seed}", task_spec))
    return rows
