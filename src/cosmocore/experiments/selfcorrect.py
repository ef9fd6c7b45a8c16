"""The paper's Algorithm 1 as a measurement: per-task self-correction cycles on held-out tasks.

    the warm-up of a training run (critic and tagger fitted) --> task set (the first N held-out
    tasks) --> each cycle: one sampled completion per unsolved task,
      executed, rewarded and tagged (true token entropy, not the paper's random placeholder) -->
      the on-policy update on the cycle's batch, stored in the method's buffer (the Prune Bin and
      the Dream Queue act there) --> `replay_factor` more gradient steps, the same number for every
      method: drawn from the buffer by the method's own rule (80% Dream Queue for cosmocore, uniform
      for the uniform ablations, with re-tagging and pruning as in the nocturnal phase), or, for a
      method without a buffer (ppo), on the cycle's own batch again (the `ppo-epochs` rule) -->
      a task is solved once its greedy completion passes, and leaves the set
    until no task is left (cycles to zero error) or the cycle cap (then "not reached").

Also recorded, per failure status (our reading of "bug category" for a model's own failures, whose
mutator category is unknown): the recurrence rate, i.e. of the sampled attempts that failed with a
status, the share whose task failed with the same status at its next attempt; and for Spark tasks, per
bug kind read off the failing program (`cosmocore.worlds.spark.diagnose`: wrong join type or key, wrong
column, wrong aggregation, missing null handling), the share of the attempts showing a kind whose next
attempt at the task showed it again.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


from cosmocore.config import TrainConfig
from cosmocore.experiments.results import SelfCorrectionRow, write_text_atomic
from cosmocore.loop import Run, evaluate_tasks, nocturnal_phase, rollout_tasks, start, store, wake_update, warm_up
from cosmocore.types import Problem
from cosmocore.worlds.spark.diagnose import attempt_kinds

ROW_FILE = "selfcorrect.json"


@dataclass(frozen=True)
class SelfCorrectionSpec:
    tasks: int = 12  # held-out tasks in the set
    max_cycles: int = 6  # cycle cap
    replay_factor: int = 5  # extra gradient steps per cycle, every method alike (the paper's x5 replay)


class Recurrence:
    """Counts, per status, failed attempts followed by another attempt, and those that failed the same way;
    and per bug kind (`cosmocore.worlds.spark.diagnose`, Spark tasks only), attempts that showed the kind
    followed by another attempt, and those whose next attempt showed it again."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}
        self.opportunities: Counter[str] = Counter()
        self.repeats: Counter[str] = Counter()
        self.last_kinds: dict[str, frozenset[str]] = {}
        self.kind_opportunities: Counter[str] = Counter()
        self.kind_repeats: Counter[str] = Counter()

    def record(self, task_id: str, status: str, kinds: frozenset[str] = frozenset()) -> None:
        """One attempt at `task_id`; `kinds` are the bug kinds it shows (ignored when it passed)."""
        before = self.last.get(task_id)
        if before is not None and before != "passed":
            self.opportunities[before] += 1
            self.repeats[before] += status == before
        self.last[task_id] = status
        shown = frozenset() if status == "passed" else kinds
        for kind in self.last_kinds.get(task_id, frozenset()):
            self.kind_opportunities[kind] += 1
            self.kind_repeats[kind] += kind in shown
        self.last_kinds[task_id] = shown

    def rates(self) -> dict[str, float | None]:
        return {s: self.repeats[s] / n for s, n in sorted(self.opportunities.items()) if n}

    def kind_rates(self) -> dict[str, float]:
        """Bug kind -> the share of the attempts showing it whose next attempt showed it again."""
        return {k: self.kind_repeats[k] / n for k, n in sorted(self.kind_opportunities.items()) if n}


def cycle_config(config: TrainConfig, spec: SelfCorrectionSpec) -> TrainConfig:
    """The method's config with `replay_factor` nocturnal minibatches after every cycle; a method without
    a buffer replays its own cycle batch instead (so every method gets the same gradient steps)."""
    replay = config.learn.replay if config.learn.nocturnal_every > 0 else "on_policy"
    learn = dataclasses.replace(config.learn, nocturnal_every=1, nocturnal_minibatches=spec.replay_factor,
                                replay=replay)
    return dataclasses.replace(config, learn=learn)


def self_correct(config: TrainConfig, run_dir: Path, spec: SelfCorrectionSpec) -> SelfCorrectionRow:
    """Run Algorithm 1 on the run's first `spec.tasks` held-out tasks; its row of the results.

    Replay follows the method's own rule (`cycle_config`); pruning acts where the method keeps a
    Prune Bin (`cosmocore.methods`). A finished run's row is read back from `run_dir`, not rerun.
    """
    saved = run_dir / ROW_FILE
    if saved.exists():
        return SelfCorrectionRow(**json.loads(saved.read_text()))
    row = _cycles(config, run_dir, spec)
    write_text_atomic(saved, json.dumps(dataclasses.asdict(row)))
    return row


def _cycles(config: TrainConfig, run_dir: Path, spec: SelfCorrectionSpec) -> SelfCorrectionRow:
    shutil.rmtree(run_dir, ignore_errors=True)  # an interrupted attempt starts over: cycles are not checkpointed
    run = start(cycle_config(config, spec), run_dir)
    warm_up(run)  # the critic and the tagger start fitted, as in a training run
    unsolved: list[Problem] = list(run.eval_tasks[: spec.tasks])
    recurrence, cycles = Recurrence(), None
    try:
        for cycle in range(1, spec.max_cycles + 1):
            unsolved = _cycle(run, cycle, unsolved, recurrence)
            if not unsolved:
                cycles = cycle
                break
    finally:
        run.sandbox.close()
        run.recorder.close()
    return SelfCorrectionRow(config.run.method, config.run.seed, config.buffer.prune, cycles, spec.tasks,
                             recurrence.rates(), recurrence.kind_rates())


def _cycle(run: Run, cycle: int, unsolved: list[Problem], recurrence: Recurrence) -> list[Problem]:
    """One cycle on the unsolved tasks; returns those whose greedy completion still fails."""
    run.step = cycle
    r = rollout_tasks(run, unsolved, cycle, group=1)
    wake_update(run, r)
    store(run, r)
    nocturnal_phase(run, r)
    for task, completion, fb in zip(r.tasks, r.completions, r.feedbacks, strict=True):
        recurrence.record(task.task_id, fb.status, attempt_kinds(task, completion.code))
    greedy = evaluate_tasks(run, unsolved)
    return [task for task, result in zip(unsolved, greedy, strict=True) if not result.passed]
