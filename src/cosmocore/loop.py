"""One training run, top to bottom: the only module (with `experiments/`) that wires the stages together.

    every wake step (the environment budget: prompts_per_step x samples_per_prompt executed completions)
      tasks --Problem--> policy.generate --Completion--> sandbox.run_many --ExecutionResult-->
      rewards.feedback --Feedback--> TD = r - V(prompt) (PPO) or r - group mean (GRPO)
      --> tagger: train on (scold labels, |TD|), then tag --AffectTag--> on-policy update of the policy
      --> buffer.add (the Prune Bin may drop it, the Dream Queue may take it)
    every K wake steps, the nocturnal phase: M minibatches
      buffer draw (80% Dream Queue by priority + 20% uniform, or the method's rule) --ReplayBatch-->
      policy.score --> off-policy update (clipped ratio to the stored behaviour log-probs, truncated
      IS, staleness cap, PER weights) --> new TDs refresh the priorities --> confidence variance
      --> meta-step on the prune thresholds
    held-out evaluation (greedy) every `eval_every` steps, one metrics line per step, atomic checkpoints

A run directory holds `config.yaml` (resolved), `metrics.jsonl` and `checkpoints/`. `--resume`
restores the last checkpoint (policy, optimizer, tagger, buffer, arousal scale, prune thresholds, RNG
states) and truncates the metrics after it, so steps after it are redone, never duplicated.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cosmocore import checkpoints, configfile
from cosmocore.affect import (
    AffectiveTagger,
    TaggerTrainer,
    feature_matrix,
    load_scold_file,
    load_tagger,
    save_tagger,
    scold_labels,
    tag,
)
from cosmocore.buffer import CosmoBuffer, ReplayBatch, Salience, TrajectoryBatch
from cosmocore.buffer.records import Trajectory
from cosmocore.config import TrainConfig
from cosmocore.errors import InputError
from cosmocore.learn.gae import ppo_advantages
from cosmocore.learn.grpo import group_td, token_advantages
from cosmocore.learn.meta import PruneThresholds, meta_prune_step
from cosmocore.learn.offpolicy import nocturnal_due, sample_weights
from cosmocore.learn.ppo import TokenBatch, objective
from cosmocore.learn.signals import batch_confidence_variance, prompt_values
from cosmocore.policy import Completion, Policy, load_policy
from cosmocore.rewards import feedback
from cosmocore.sandbox import Sandbox
from cosmocore.telemetry import MetricsRecorder
from cosmocore.types import STATUSES, ExecutionResult, Feedback, Problem, UpdateStats

LOW_VALENCE = -0.5  # "cringe": the valence below which rollouts count as low-valence in entropy reports


# ---- the run's state -----------------------------------------------------------------------------


@dataclass
class Run:
    """Everything a run holds between steps (mutable: this is the loop's own state)."""

    config: TrainConfig
    run_dir: Path
    train_tasks: list[Problem]
    eval_tasks: list[Problem]
    policy: Policy
    optimizer: torch.optim.Optimizer
    tagger: TaggerTrainer
    buffer: CosmoBuffer | None
    sandbox: Sandbox
    recorder: MetricsRecorder
    thresholds: PruneThresholds
    human_scold: Any = None
    step: int = 0
    completions: int = 0  # executed completions so far (the environment budget spent)
    status_counts: Counter[str] = field(default_factory=Counter)
    tagger_seconds: float = 0.0
    step_seconds: float = 0.0


@dataclass(frozen=True)
class Rollout:
    """One wake step's completions and what became of them (row i is completion i)."""

    tasks: tuple[Problem, ...]
    completions: tuple[Completion, ...]
    results: tuple[ExecutionResult, ...]
    feedbacks: tuple[Feedback, ...]
    group_ids: np.ndarray  # (B,) index of each row's task within the step
    td: np.ndarray  # (B,) reward units
    valence: np.ndarray  # (B,)
    arousal: np.ndarray  # (B,)

    @property
    def rewards(self) -> np.ndarray:
        return np.array([f.reward for f in self.feedbacks], np.float32)


# ---- building a run ------------------------------------------------------------------------------


def resolve_tasks(config: TrainConfig) -> tuple[list[Problem], list[Problem]]:
    """(training pool, held-out evaluation tasks) of the run's world or benchmark."""
    run = config.run
    if run.world:
        from cosmocore.worlds import generate

        train = list(generate(run.world, run.world_seed, "train").values())
        test = list(generate(run.world, run.world_seed, "test").values())
    else:
        from cosmocore.tasks import load_problems

        problems = list(load_problems(run.benchmark, run.benchmark_path or None).values())
        cut = int(0.8 * len(problems))
        train, test = problems[:cut], problems[cut:]
    if run.train_tasks:
        train = train[: run.train_tasks]
    return train, test[: run.eval_tasks]


def _seed_everything(seed: int, threads: int) -> None:
    if threads:
        torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def start(config: TrainConfig, run_dir: Path, resume: bool = False) -> Run:
    """Build every stage of a run (or restore one from its last checkpoint)."""
    _seed_everything(config.run.seed, config.run.torch_threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = checkpoints.latest(run_dir) if resume else None
    policy = load_policy(config.policy, seed=config.run.seed,
                         path=str(checkpoint.path / "policy") if checkpoint else None)
    train_tasks, eval_tasks = resolve_tasks(config)
    run = Run(
        config=config, run_dir=run_dir, train_tasks=train_tasks, eval_tasks=eval_tasks, policy=policy,
        optimizer=torch.optim.Adam(policy.trainable_parameters(), lr=config.learn.lr),
        tagger=TaggerTrainer(AffectiveTagger(policy.hidden_size, policy.hidden_size, proj_dim=config.affect.proj_dim,
                                             hidden=config.affect.hidden), config.affect),
        buffer=CosmoBuffer(config.buffer) if config.learn.nocturnal_every > 0 else None,
        sandbox=Sandbox(config.sandbox), recorder=MetricsRecorder(run_dir / "metrics.jsonl"),
        thresholds=PruneThresholds(config.buffer.prune_valence, config.buffer.prune_arousal),
        human_scold=load_scold_file(config.affect.scold_file) if config.affect.scold_file else None,
    )
    if checkpoint is not None:
        _restore(run, checkpoint)
    else:
        (run_dir / "config.yaml").write_text(configfile.dump(config))
    return run


# ---- the wake step -------------------------------------------------------------------------------


def draw_tasks(run: Run, step: int) -> list[Problem]:
    """The step's training tasks: a seeded draw without replacement, reproducible on resume."""
    rng = np.random.default_rng([run.config.run.seed, step])
    n = min(run.config.run.prompts_per_step, len(run.train_tasks))
    return [run.train_tasks[i] for i in rng.choice(len(run.train_tasks), size=n, replace=False)]


def execute(run: Run, tasks: Sequence[Problem], completions: Sequence[Completion]) -> list[ExecutionResult]:
    items = [(task.program(c.code), task.tests) for task, c in zip(tasks, completions, strict=True)]
    return run.sandbox.run_many(items)


def td_errors(run: Run, rewards: np.ndarray, completions: Sequence[Completion], group_ids: np.ndarray) -> np.ndarray:
    """TD = r - V(prompt) for PPO, r - the group's mean reward for GRPO (DESIGN 1)."""
    if run.config.learn.algorithm == "grpo":
        return group_td(torch.as_tensor(rewards), torch.as_tensor(group_ids)).numpy()
    return rewards - np.array([c.prompt_value for c in completions], np.float32)


def tag_rollout(run: Run, tasks: Sequence[Problem], completions: Sequence[Completion],
                feedbacks: Sequence[Feedback], td: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Train the tagger on this batch's targets, then tag the batch: (valence, arousal)."""
    started = time.perf_counter()
    prompt_emb = np.stack([c.prompt_embedding for c in completions])
    code_emb = np.stack([c.code_embedding for c in completions])
    features = feature_matrix(feedbacks)
    labels = scold_labels(feedbacks, [t.task_id for t in tasks], [c.code for c in completions], run.human_scold,
                          run.config.affect.success_valence)
    run.tagger.step(prompt_emb, code_emb, features, labels, td)
    tags = tag(run.tagger.tagger, prompt_emb, code_emb, features)
    run.tagger_seconds += time.perf_counter() - started
    return np.array([t.valence for t in tags], np.float32), np.array([t.arousal for t in tags], np.float32)


def rollout(run: Run, step: int) -> Rollout:
    """Generate for the step's tasks, execute, reward, compute TDs and tag."""
    return rollout_tasks(run, draw_tasks(run, step), step, run.config.run.samples_per_prompt)


def rollout_tasks(run: Run, drawn: Sequence[Problem], step: int, group: int) -> Rollout:
    """`group` completions for each of `drawn`, executed, rewarded and tagged."""
    tasks = [task for task in drawn for _ in range(group)]
    completions = run.policy.generate([t.prompt for t in tasks], run.config.policy, seed=_step_seed(run, step),
                                      entry_points=[t.entry_point for t in tasks])
    results = execute(run, tasks, completions)
    feedbacks = [feedback(r, run.config.reward) for r in results]
    group_ids = np.repeat(np.arange(len(drawn)), group)
    rewards = np.array([f.reward for f in feedbacks], np.float32)
    td = td_errors(run, rewards, completions, group_ids)
    valence, arousal = tag_rollout(run, tasks, completions, feedbacks, td)
    return Rollout(tuple(tasks), tuple(completions), tuple(results), tuple(feedbacks), group_ids, td, valence,
                   arousal)


def _step_seed(run: Run, step: int) -> int:
    return run.config.run.seed * 1_000_003 + step


def trajectories(rollout_: Rollout) -> TrajectoryBatch:
    return TrajectoryBatch.from_trajectories([
        Trajectory(np.asarray(c.prompt_ids, np.int32), np.asarray(c.completion_ids, np.int32), c.logprobs,
                   f.reward, c.policy_version, t.task_id, c.mean_entropy)
        for t, c, f in zip(rollout_.tasks, rollout_.completions, rollout_.feedbacks, strict=True)])


def store(run: Run, rollout_: Rollout) -> None:
    """Offer the rollout to the buffer (success-replay keeps only passing trajectories)."""
    if run.buffer is None:
        return
    keep = np.ones(len(rollout_.feedbacks), bool)
    if run.config.learn.replay == "success":
        keep = np.array([f.status == "passed" for f in rollout_.feedbacks])
    if keep.any():
        batch = trajectories(rollout_).keep(keep)
        run.buffer.add(batch, Salience(rollout_.td[keep], rollout_.valence[keep], rollout_.arousal[keep]))


# ---- updates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Minibatch:
    """What one gradient step needs, as arrays (rows are trajectories)."""

    prompt_ids: list[Sequence[int]]
    completion_ids: list[Sequence[int]]
    behaviour_logp: list[np.ndarray]  # (T_i,) nats each
    reward: np.ndarray  # (B,)
    group_td: np.ndarray  # (B,) GRPO advantage source: reward - group mean (stored)
    versions: np.ndarray  # (B,) policy versions that sampled them
    per_weights: np.ndarray  # (B,) PER importance weights (1 on-policy)


def _padded(rows: Sequence[np.ndarray], width: int) -> torch.Tensor:
    out = torch.zeros(len(rows), width, dtype=torch.float32)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(np.asarray(row, np.float32))
    return out


def token_batch(run: Run, mb: Minibatch) -> tuple[TokenBatch, Any]:
    """Score a minibatch under the current policy and build the objective's inputs."""
    scored = run.policy.score(mb.prompt_ids, mb.completion_ids)
    behaviour = _padded(mb.behaviour_logp, scored.mask.shape[1])
    learn = run.config.learn
    weights = sample_weights(torch.as_tensor(mb.versions), run.policy.version, learn.staleness_cap,
                             torch.as_tensor(mb.per_weights, dtype=torch.float32))
    reward = torch.as_tensor(mb.reward)
    if learn.algorithm == "grpo":
        adv = token_advantages(torch.as_tensor(mb.group_td), scored.mask)
        return TokenBatch(scored.logp, behaviour, adv, scored.mask, scored.entropy, weights), scored
    gae = ppo_advantages(reward, scored.values.detach(), scored.mask, learn.gamma, learn.gae_lambda,
                         learn.normalise_advantages)
    return TokenBatch(scored.logp, behaviour, gae.advantages, scored.mask, scored.entropy, weights,
                      scored.values, gae.returns), scored


def gradient_step(run: Run, mb: Minibatch) -> tuple[UpdateStats, Any]:
    batch, scored = token_batch(run, mb)
    result = objective(batch, run.config.learn)
    run.optimizer.zero_grad(set_to_none=True)
    result.loss.backward()
    torch.nn.utils.clip_grad_norm_(run.policy.trainable_parameters(), run.config.learn.max_grad_norm)
    run.optimizer.step()
    stale = int((batch.weights == 0).sum()) if batch.weights is not None else 0
    variance = batch_confidence_variance(scored.logp, scored.values, scored.mask, run.config.learn.confidence_source)
    return result.stats(stale, variance), scored


def wake_minibatches(run: Run, rollout_: Rollout) -> list[Minibatch]:
    cs, size = rollout_.completions, run.config.learn.minibatch_size
    rng = np.random.default_rng([run.config.run.seed, run.step, 7])
    order = rng.permutation(len(cs))
    group_td_ = (rollout_.rewards - _group_means(rollout_.rewards, rollout_.group_ids)).astype(np.float32)
    return [Minibatch([cs[i].prompt_ids for i in rows], [cs[i].completion_ids for i in rows],
                      [cs[i].logprobs for i in rows], rollout_.rewards[rows], group_td_[rows],
                      np.array([cs[i].policy_version for i in rows]), np.ones(len(rows), np.float32))
            for rows in np.array_split(order, max(1, int(np.ceil(len(cs) / size))))]


def _group_means(rewards: np.ndarray, group_ids: np.ndarray) -> np.ndarray:
    sums = np.bincount(group_ids, weights=rewards)
    counts = np.bincount(group_ids)
    return (sums / counts)[group_ids]


def wake_update(run: Run, rollout_: Rollout) -> list[UpdateStats]:
    """On-policy PPO/GRPO epochs over the wake batch."""
    stats = []
    for _ in range(run.config.learn.ppo_epochs):
        stats += [gradient_step(run, mb)[0] for mb in wake_minibatches(run, rollout_)]
    run.policy.version += 1  # versions count wake updates: the staleness cap is in wake steps
    return stats


# ---- the nocturnal phase -------------------------------------------------------------------------


def draw_replay(run: Run, rng: np.random.Generator) -> ReplayBatch:
    assert run.buffer is not None
    learn, n = run.config.learn, run.config.learn.replay_batch_size
    if learn.replay == "dream_mix":
        return run.buffer.sample_mixed(n, learn.dream_fraction, rng)
    if learn.replay == "priority":
        return run.buffer.sample(n, rng)
    return run.buffer.sample_uniform(n, rng)


def replay_minibatch(replay: ReplayBatch) -> Minibatch:
    trajs = replay.trajectories
    items = [trajs.item(i) for i in range(len(trajs))]
    return Minibatch([t.prompt_ids.tolist() for t in items], [t.completion_ids.tolist() for t in items],
                     [t.behaviour_logprobs for t in items], trajs.reward.astype(np.float32),
                     np.asarray(replay.salience.td, np.float32), trajs.policy_version,
                     replay.is_weights.astype(np.float32))


def nocturnal_phase(run: Run) -> dict[str, float]:
    """M off-policy minibatches from the buffer; new TDs refresh priorities; the meta-step on pruning."""
    if run.buffer is None or len(run.buffer) == 0:
        return {}
    rng = np.random.default_rng([run.config.run.seed, run.step, 11])
    stats, dream_rows, rows = [], 0, 0
    for _ in range(run.config.learn.nocturnal_minibatches):
        replay = draw_replay(run, rng)
        update, scored = gradient_step(run, replay_minibatch(replay))
        stats.append(update)
        dream_rows += int(replay.from_dream.sum())
        rows += len(replay)
        refresh_priorities(run, replay, scored)
    meta = meta_step(run, stats)
    return {**_mean_stats(stats, "nocturnal"), "nocturnal/dream_share": dream_rows / max(1, rows), **meta}


def refresh_priorities(run: Run, replay: ReplayBatch, scored: Any) -> None:
    """PPO: TD = r - V_new(prompt) from the update's own scoring; GRPO keeps the stored group TD."""
    assert run.buffer is not None
    if run.config.learn.algorithm == "grpo":
        return
    values = prompt_values(scored.values, scored.mask).numpy()
    run.buffer.update(replay.ids, replay.trajectories.reward - values)


def meta_step(run: Run, stats: Sequence[UpdateStats]) -> dict[str, float]:
    """Below the confidence-variance threshold, raise the prune thresholds (docs/learner.md)."""
    assert run.buffer is not None
    variance = float(np.nanmean([s.confidence_variance for s in stats])) if stats else float("nan")
    if not run.config.buffer.prune or run.config.learn.meta_lr == 0 or len(run.buffer) < 2:
        return {"nocturnal/confidence_variance": variance}
    sample = run.buffer.sample_uniform(min(256, len(run.buffer)), np.random.default_rng([run.step, 13]))
    exempt = sample.trajectories.entropy > run.config.buffer.prune_entropy
    new = meta_prune_step(run.thresholds, variance, sample.salience.valence, sample.salience.arousal, exempt,
                          run.config.learn)
    if new != run.thresholds:
        run.thresholds = new
        run.buffer.set_prune_thresholds(new.valence, new.arousal)
    return {"nocturnal/confidence_variance": variance, "nocturnal/prune_valence": new.valence,
            "nocturnal/prune_arousal": new.arousal}


# ---- evaluation and metrics ----------------------------------------------------------------------


def evaluate(run: Run) -> dict[str, float]:
    """Greedy pass@1 and hallucination on the held-out tasks, with the breakdown by status."""
    tasks = run.eval_tasks
    greedy = dataclasses.replace(run.config.policy, temperature=0.0)
    completions = run.policy.generate([t.prompt for t in tasks], greedy, seed=0,
                                      entry_points=[t.entry_point for t in tasks])
    results = execute(run, tasks, completions)
    feedbacks = [feedback(r, run.config.reward) for r in results]
    counts = Counter(f.status for f in feedbacks)
    out = {"eval/pass_at_1": float(np.mean([r.passed for r in results])),
           "eval/hallucination": float(np.mean([f.hallucinated for f in feedbacks])),
           "eval/mean_reward": float(np.mean([f.reward for f in feedbacks]))}
    out.update({f"eval/status/{s}": counts.get(s, 0) / len(tasks) for s in STATUSES})
    return out


def rollout_metrics(run: Run, r: Rollout) -> dict[str, float]:
    entropy = np.array([c.mean_entropy for c in r.completions])
    low = r.valence < LOW_VALENCE
    counts = Counter(f.status for f in r.feedbacks)
    out = {"rollout/pass_rate": float(np.mean([f.status == "passed" for f in r.feedbacks])),
           "rollout/hallucination": float(np.mean([f.hallucinated for f in r.feedbacks])),
           "rollout/mean_reward": float(r.rewards.mean()), "rollout/entropy": float(entropy.mean()),
           "rollout/entropy_low_valence": float(entropy[low].mean()) if low.any() else None,
           "rollout/entropy_rest": float(entropy[~low].mean()) if (~low).any() else None,
           "rollout/low_valence_n": float(low.sum()), "rollout/td_abs": float(np.abs(r.td).mean()),
           "affect/valence": float(r.valence.mean()), "affect/arousal": float(r.arousal.mean())}
    out.update({f"rollout/status/{s}": float(counts.get(s, 0)) for s in STATUSES})
    return out  # type: ignore[return-value]


def _mean_stats(stats: Sequence[UpdateStats], stage: str) -> dict[str, float]:
    if not stats:
        return {}
    rows = [s.metrics() for s in stats]
    return {f"{stage}/{k}": float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


# ---- checkpoints ---------------------------------------------------------------------------------


def save(run: Run) -> None:
    writers: dict[str, Callable[[Path], None]] = {
        "policy": run.policy.save_pretrained,
        "tagger": lambda d: save_tagger(run.tagger, d),
        "optimizer": lambda d: torch.save(run.optimizer.state_dict(), d / "optimizer.pt"),
    }
    if run.buffer is not None:
        writers["buffer"] = lambda d: run.buffer.save(d / "buffer")  # type: ignore[union-attr]
    state = {"completions": run.completions, "status_counts": dict(run.status_counts),
             "version": run.policy.version, "thresholds": [run.thresholds.valence, run.thresholds.arousal],
             "tagger_seconds": run.tagger_seconds, "step_seconds": run.step_seconds,
             "torch_rng": torch.get_rng_state().tolist()}
    checkpoints.save(run.run_dir, run.step, writers, state)


def _restore(run: Run, checkpoint: checkpoints.Checkpoint) -> None:
    state = checkpoint.state()
    run.step, run.completions = checkpoint.step, int(state["completions"])
    run.status_counts = Counter(state["status_counts"])
    run.policy.version = int(state["version"])
    run.thresholds = PruneThresholds(*state["thresholds"])
    run.tagger_seconds, run.step_seconds = float(state["tagger_seconds"]), float(state["step_seconds"])
    run.tagger = load_tagger(checkpoint.path / "tagger", run.config.affect)
    run.optimizer.load_state_dict(torch.load(checkpoint.path / "optimizer" / "optimizer.pt", weights_only=True))
    torch.set_rng_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))
    if run.buffer is not None:
        run.buffer = CosmoBuffer.load(checkpoint.path / "buffer" / "buffer")
        run.buffer.set_prune_thresholds(run.thresholds.valence, run.thresholds.arousal)
    run.recorder.truncate_after(run.step)


# ---- the run, top to bottom ----------------------------------------------------------------------


def wake_step(run: Run, step: int) -> dict[str, float]:
    r = rollout(run, step)
    run.completions += len(r.completions)
    run.status_counts.update(f.status for f in r.feedbacks)
    updates = wake_update(run, r)
    store(run, r)
    return {**rollout_metrics(run, r), **_mean_stats(updates, "update")}


def step_metrics(run: Run, started: float) -> dict[str, float]:
    run.step_seconds += time.perf_counter() - started
    out = {"perf/completions": float(run.completions), "perf/wall_s": run.step_seconds,
           "perf/samples_per_s": run.completions / max(run.step_seconds, 1e-9),
           "perf/tagger_overhead": run.tagger_seconds / max(run.step_seconds, 1e-9),
           "update/policy_version": float(run.policy.version)}
    if run.buffer is not None:
        out.update(run.buffer.stats().metrics())
    return out


def _eval_due(run: Run, step: int) -> bool:
    every = run.config.run.eval_every
    return step == run.config.run.steps or (every > 0 and step % every == 0)


BaselineCache = dict[tuple[Any, ...], dict[str, float]]


def baseline_evaluation(run: Run, cache: BaselineCache | None) -> dict[str, float]:
    """The held-out evaluation before training. Greedy decoding depends only on the starting weights,
    so runs of a grid that start from the same model share it (`cache`, keyed by model and tasks)."""
    key = (run.config.policy, run.config.reward, tuple(t.task_id for t in run.eval_tasks))
    if cache is not None and key in cache:
        return cache[key]
    result = evaluate(run)
    if cache is not None:
        cache[key] = result
    return result


def train(config: TrainConfig, run_dir: Path, resume: bool = False,
          on_step: Callable[[int, dict[str, float]], None] | None = None,
          baselines: BaselineCache | None = None) -> Path:
    """Run (or resume) a training run in `run_dir`; returns the metrics file."""
    run = start(config, run_dir, resume)
    try:
        if run.step == 0 and not resume_has_baseline(run):
            run.recorder.log(0, {**baseline_evaluation(run, baselines), "perf/completions": 0.0})
        for step in range(run.step + 1, config.run.steps + 1):
            started = time.perf_counter()
            run.step = step
            metrics = wake_step(run, step)
            if nocturnal_due(step, config.learn.nocturnal_every):
                metrics.update(nocturnal_phase(run))
            metrics.update(step_metrics(run, started))
            if _eval_due(run, step):
                metrics.update(evaluate(run))
            run.recorder.log(step, metrics)
            if on_step is not None:
                on_step(step, metrics)
            if step % config.run.checkpoint_every == 0 or step == config.run.steps:
                save(run)
        _write_done(run)
    finally:
        run.sandbox.close()
        run.recorder.close()
    return run.recorder.path


def resume_has_baseline(run: Run) -> bool:
    from cosmocore.telemetry import read_metrics

    return any(row.get("step") == 0 for row in read_metrics(run.recorder.path))


def _write_done(run: Run) -> None:
    (run.run_dir / "DONE.json").write_text(json.dumps({"steps": run.step, "completions": run.completions}))


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """Refuse to overwrite a finished or started run unless resuming it."""
    if not resume and (run_dir / "metrics.jsonl").exists():
        raise InputError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if resume and not (run_dir / "config.yaml").exists():
        raise InputError(f"{run_dir} holds no run to resume (no config.yaml)")
