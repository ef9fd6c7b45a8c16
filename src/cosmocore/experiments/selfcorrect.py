"""The paper's Algorithm 1 as a measurement: per-task self-correction cycles on held-out tasks.

    task set (the first N held-out tasks) --> each cycle: one sampled completion per unsolved task,
      executed, rewarded and tagged (true token entropy, not the paper's random placeholder) -->
      the on-policy update on the cycle's batch --> with prioritization, completions with valence
      < -0.5 are replayed x5 (five more off-policy gradient steps on them, clipped ratio to their
      behaviour log-probs) --> with pruning the Prune Bin applies to the buffer they are stored in
      --> a task whose reward exceeds 0.9 is solved and leaves the set
    until no task is left (cycles to zero error) or the cycle cap (then "not reached").

Also recorded, per failure status (our reading of "bug category" for a model's own failures, whose
mutator category is unknown): the recurrence rate, i.e. of the attempts that failed with a status,
the share whose task failed with the same status at its next attempt.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosmocore.config import TrainConfig
from cosmocore.experiments.results import SelfCorrectionRow, write_text_atomic
from cosmocore.loop import Minibatch, Rollout, gradient_step, rollout_tasks, start, store, wake_update
from cosmocore.types import Problem

ROW_FILE = "selfcorrect.json"
SOLVED_REWARD = 0.9  # Algorithm 1's stopping rule: reward > 0.9
CRINGE = -0.5  # valence below which a completion is replayed x5 (with prioritization)


@dataclass(frozen=True)
class SelfCorrectionSpec:
    tasks: int = 12  # held-out tasks in the set
    max_cycles: int = 6  # cycle cap
    replay_factor: int = 5  # extra gradient steps on each cycle's low-valence completions


class Recurrence:
    """Counts, per status, failed attempts followed by another attempt, and those that failed the same way."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}
        self.opportunities: Counter[str] = Counter()
        self.repeats: Counter[str] = Counter()

    def record(self, task_id: str, status: str) -> None:
        before = self.last.get(task_id)
        if before is not None and before != "passed":
            self.opportunities[before] += 1
            self.repeats[before] += status == before
        self.last[task_id] = status

    def rates(self) -> dict[str, float | None]:
        return {s: self.repeats[s] / n for s, n in sorted(self.opportunities.items()) if n}


def low_valence_minibatch(r: Rollout) -> Minibatch | None:
    rows = np.flatnonzero(r.valence < CRINGE)
    if len(rows) == 0:
        return None
    cs = r.completions
    return Minibatch([cs[i].prompt_ids for i in rows], [cs[i].completion_ids for i in rows],
                     [cs[i].logprobs for i in rows], r.rewards[rows], np.zeros(len(rows), np.float32),
                     np.array([cs[i].policy_version for i in rows]), np.ones(len(rows), np.float32))


def self_correct(config: TrainConfig, run_dir: Path, spec: SelfCorrectionSpec) -> SelfCorrectionRow:
    """Run Algorithm 1 on the run's first `spec.tasks` held-out tasks; its row of the results.

    Prioritization (the x5 replay) is on where the method keeps a Dream Queue; pruning where it keeps
    a Prune Bin (`cosmocore.methods`). A finished run's row is read back from `run_dir`, not rerun.
    """
    saved = run_dir / ROW_FILE
    if saved.exists():
        return SelfCorrectionRow(**json.loads(saved.read_text()))
    row = _cycles(config, run_dir, spec, prioritization=config.learn.replay == "dream_mix")
    write_text_atomic(saved, json.dumps(dataclasses.asdict(row)))
    return row


def _cycles(config: TrainConfig, run_dir: Path, spec: SelfCorrectionSpec, prioritization: bool) -> SelfCorrectionRow:
    shutil.rmtree(run_dir, ignore_errors=True)  # an interrupted attempt starts over: cycles are not checkpointed
    run = start(config, run_dir)
    unsolved: list[Problem] = list(run.eval_tasks[: spec.tasks])
    recurrence, cycles = Recurrence(), None
    try:
        for cycle in range(1, spec.max_cycles + 1):
            run.step = cycle
            r = rollout_tasks(run, unsolved, cycle, group=1)
            wake_update(run, r)
            store(run, r)
            replay = low_valence_minibatch(r) if prioritization else None
            for _ in range(spec.replay_factor if replay is not None else 0):
                gradient_step(run, replay)  # type: ignore[arg-type]
            for task, fb in zip(r.tasks, r.feedbacks, strict=True):
                recurrence.record(task.task_id, fb.status)
            unsolved = [t for t, fb in zip(r.tasks, r.feedbacks, strict=True) if fb.reward <= SOLVED_REWARD]
            if not unsolved:
                cycles = cycle
                break
    finally:
        run.sandbox.close()
        run.recorder.close()
    return SelfCorrectionRow(config.run.method, config.run.seed, config.buffer.prune, cycles, spec.tasks,
                             recurrence.rates())
