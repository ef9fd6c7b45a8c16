"""One training run, top to bottom: the only module (with `experiments/`) that wires the stages together.

    warm-up (step 0, every method alike): `value_warmup_rollouts` wake-sized rollouts executed
      --> the value head fitted to their rewards (ridge, PPO) --> the tagger fitted to their tags;
      then the greedy held-out baseline and a step-0 checkpoint
    every wake step (the environment budget: prompts_per_step x samples_per_prompt executed completions)
      tasks --Problem--> policy.generate --Completion--> sandbox.run_many --ExecutionResult-->
      rewards.feedback --Feedback--> expectation b (PPO: V(prompt) pooled with the prompt's other
      attempts; GRPO: the group mean), TD = r - b --> tagger: fit (scold labels, |TD| on a running
      scale), then tag --AffectTag--> advantage scale (uncentred RMS of this batch's TD) --> on-policy
      update of the policy (every token's advantage: its completion's TD) and the critic
      --> buffer.add (the Prune Bin may drop it; the Dream Queue may take it)
    every K wake steps, the nocturnal phase: items older than the staleness cap expire, then M minibatches
      buffer draw (80% Dream Queue by priority + 20% uniform, or the method's rule; or the latest wake
      batch for `on_policy`) --ReplayBatch--> policy.score --> off-policy update (clipped ratio to the
      stored behaviour log-probs, truncated IS, PER weights with batch mean 1) --> new V re-tags the
      drawn items (TD, valence, arousal: they join and leave the Dream Queue) --> confidence variance
      --> meta-step on the prune thresholds (both ways) --> stored items re-examined by the Prune Bin
    held-out evaluation (greedy) every `eval_every` steps, one metrics line per step, atomic checkpoints

A run directory holds `config.yaml` (resolved), `metrics.jsonl` and `checkpoints/`. `--resume`
restores the last checkpoint (policy, optimizer, tagger, buffer, arousal and advantage scales, prune
thresholds, RNG states) and truncates the metrics after it, so steps after it are redone, never
duplicated. Every choice made here is written out in docs/learner.md.
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
    PEER_MEAN,
    PEERS,
    AffectiveTagger,
    TaggerStepStats,
    TaggerTrainer,
    feature_matrix,
    load_scold_file,
    load_tagger,
    save_tagger,
    scold_labels,
    tag,
    with_baselines,
)
from cosmocore.buffer import CosmoBuffer, ReplayBatch, Salience, TrajectoryBatch
from cosmocore.buffer.records import Trajectory, Updated
from cosmocore.config import TrainConfig
from cosmocore.errors import InputError
from cosmocore.learn.gae import advantage_rms, terminal_gae
from cosmocore.learn.grpo import group_td, peer_means, token_advantages
from cosmocore.learn.meta import PruneThresholds, meta_prune_step
from cosmocore.learn.offpolicy import dream_rate_ratio, nocturnal_due, sample_weights
from cosmocore.learn.ppo import TokenBatch, objective
from cosmocore.learn.expectation import ExpectationScale, pooled_expectation, update_scale
from cosmocore.learn.signals import batch_confidence_variance, explained_variance, prompt_values
from cosmocore.policy import Completion, Policy, load_policy
from cosmocore.rewards import feedback
from cosmocore.sandbox import Sandbox
from cosmocore.telemetry import MetricsRecorder
from cosmocore.types import STATUSES, ExecutionResult, Feedback, Problem, UpdateStats

LOW_VALENCE = -0.5  # "cringe": the valence below which rollouts count as low-valence in entropy reports
WARMUP_KEY = 1_000_000_000  # task-draw and sampling keys of warm-up rollouts (wake steps use 1, 2, ...)


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
    reference: Policy | None = None  # the frozen starting policy of the KL term (kl_coef > 0)
    human_scold: Any = None
    step: int = 0
    completions: int = 0  # executed completions of wake steps so far (the environment budget spent)
    warmup_completions: int = 0  # executed completions of the warm-up (reported apart, equal for every method)
    gradient_steps: int = 0  # optimizer steps of the policy so far, wake and nocturnal
    advantage_scale: float = 1.0  # what advantages are divided by: the latest wake batch's RMS, reward units
    expectation: ExpectationScale = field(default_factory=ExpectationScale)  # weighs the critic against peers
    status_counts: Counter[str] = field(default_factory=Counter)
    tagger_seconds: float = 0.0
    step_seconds: float = 0.0


@dataclass(frozen=True)
class Executed:
    """Completions of some tasks, executed and rewarded (a rollout before the critic and the tagger)."""

    tasks: tuple[Problem, ...]
    completions: tuple[Completion, ...]
    results: tuple[ExecutionResult, ...]
    feedbacks: tuple[Feedback, ...]
    group_ids: np.ndarray  # (B,) index of each row's task within the draw

    @property
    def rewards(self) -> np.ndarray:
        return np.array([f.reward for f in self.feedbacks], np.float32)


@dataclass(frozen=True)
class Rollout(Executed):
    """One wake step's executed completions and what the critic and the tagger made of them (row i is
    completion i)."""

    td: np.ndarray  # (B,) reward units: reward - baseline
    features: np.ndarray  # (B, F) execution features (expectation columns included), as the buffer stores them
    valence: np.ndarray  # (B,)
    arousal: np.ndarray  # (B,)
    tagger: TaggerStepStats  # the tagger's fit of this batch


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


def make_optimizer(policy: Policy, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam over the policy's trainable weights (lr) and its value head (value_lr): two groups."""
    head = {id(p) for p in policy.value_head.parameters()}
    body = [p for p in policy.trainable_parameters() if id(p) not in head]
    return torch.optim.Adam([{"params": body, "lr": config.learn.lr},
                             {"params": list(policy.value_head.parameters()), "lr": config.learn.value_lr}])


def frozen_reference(config: TrainConfig) -> Policy | None:
    """The starting policy, frozen, for the KL term (only when kl_coef > 0: it costs a second model)."""
    if config.learn.kl_coef == 0:
        return None
    reference = load_policy(config.policy, seed=config.run.seed)
    for parameter in reference.trainable_parameters():
        parameter.requires_grad_(False)
    return reference


def start(config: TrainConfig, run_dir: Path, resume: bool = False) -> Run:
    """Build every stage of a run (or restore one from its last checkpoint)."""
    _seed_everything(config.run.seed, config.run.torch_threads)
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = checkpoints.latest(run_dir) if resume else None
    policy = load_policy(config.policy, seed=config.run.seed,
                         path=str(checkpoint.path / "policy") if checkpoint else None)
    train_tasks, eval_tasks = resolve_tasks(config)
    uses_buffer = config.learn.nocturnal_every > 0 and config.learn.replay != "on_policy"
    run = Run(
        config=config, run_dir=run_dir, train_tasks=train_tasks, eval_tasks=eval_tasks, policy=policy,
        optimizer=make_optimizer(policy, config),
        tagger=TaggerTrainer(AffectiveTagger(policy.hidden_size, policy.hidden_size, proj_dim=config.affect.proj_dim,
                                             hidden=config.affect.hidden), config.affect),
        buffer=CosmoBuffer(config.buffer) if uses_buffer else None,
        sandbox=Sandbox(config.sandbox), recorder=MetricsRecorder(run_dir / "metrics.jsonl"),
        thresholds=PruneThresholds(config.buffer.prune_valence, config.buffer.prune_arousal),
        reference=frozen_reference(config),
        human_scold=load_scold_file(config.affect.scold_file) if config.affect.scold_file else None,
    )
    if checkpoint is not None:
        _restore(run, checkpoint)
    else:
        (run_dir / "config.yaml").write_text(configfile.dump(config))
    return run


# ---- rollouts: sample, execute, reward, expect, tag ----------------------------------------------


def draw_tasks(run: Run, key: int) -> list[Problem]:
    """A seeded draw without replacement for wake step `key` (or a warm-up key), reproducible on resume."""
    rng = np.random.default_rng([run.config.run.seed, key])
    n = min(run.config.run.prompts_per_step, len(run.train_tasks))
    return [run.train_tasks[i] for i in rng.choice(len(run.train_tasks), size=n, replace=False)]


def execute(run: Run, tasks: Sequence[Problem], completions: Sequence[Completion]) -> list[ExecutionResult]:
    items = [(task.program(c.code), task.tests) for task, c in zip(tasks, completions, strict=True)]
    return run.sandbox.run_many(items)


def sample_and_execute(run: Run, drawn: Sequence[Problem], key: int, group: int) -> Executed:
    """`group` completions for each of `drawn`, executed and rewarded."""
    tasks = [task for task in drawn for _ in range(group)]
    completions = run.policy.generate([t.prompt for t in tasks], run.config.policy, seed=_step_seed(run, key),
                                      entry_points=[t.entry_point for t in tasks])
    results = execute(run, tasks, completions)
    feedbacks = [feedback(r, run.config.reward) for r in results]
    return Executed(tuple(tasks), tuple(completions), tuple(results), tuple(feedbacks),
                    np.repeat(np.arange(len(drawn)), group))


def _step_seed(run: Run, key: int) -> int:
    return run.config.run.seed * 1_000_003 + key


@dataclass(frozen=True)
class Expectation:
    """What the learner expected of each completion's reward, and the evidence it pooled (all (B,))."""

    baseline: np.ndarray  # reward units: TD = reward - baseline
    peer_mean: np.ndarray  # mean reward of the other attempts at the same prompt in the same step
    peers: np.ndarray  # how many there were


def critic_weight(run: Run) -> float:
    """The critic's worth in attempts: `learn.critic_weight`, or (0) the posterior weight estimated
    from the variances of earlier batches (`cosmocore.learn.expectation`)."""
    return run.config.learn.critic_weight or run.expectation.critic_weight


def expectation(run: Run, executed: Executed, prompt_value: np.ndarray) -> Expectation:
    """PPO: the value head's V(prompt) pooled with the prompt's other attempts (`critic_weight`); the
    batch then updates the running variances. GRPO: the group mean (DESIGN 1; docs/learner.md says
    why PPO pools)."""
    rewards, groups = torch.as_tensor(executed.rewards), torch.as_tensor(executed.group_ids)
    peer_mean, peers = peer_means(rewards, groups)
    if run.config.learn.algorithm == "grpo":
        baseline = rewards - group_td(rewards, groups)
    else:
        head = torch.as_tensor(prompt_value)
        baseline = pooled_expectation(head, peer_mean, peers, critic_weight(run))
        run.expectation = update_scale(run.expectation, rewards, groups, head)
    return Expectation(baseline.numpy(), peer_mean.numpy(), peers.numpy())


def fit_tags(run: Run, executed: Executed, expected: Expectation, prompt_emb: np.ndarray,
             code_emb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, TaggerStepStats]:
    """Fit the tagger on this batch's targets, then tag it: (features, valence, arousal, fit stats)."""
    started = time.perf_counter()
    td = executed.rewards - expected.baseline
    features = feature_matrix(executed.feedbacks, expected.baseline, expected.peer_mean, expected.peers)
    labels = scold_labels(executed.feedbacks, [t.task_id for t in executed.tasks],
                          [c.code for c in executed.completions], run.human_scold, run.config.affect.success_valence)
    stats = run.tagger.step(prompt_emb, code_emb, features, labels, td)
    tags = tag(run.tagger.tagger, prompt_emb, code_emb, features)
    run.tagger_seconds += time.perf_counter() - started
    valence = np.array([t.valence for t in tags], np.float32)
    return features, valence, np.array([t.arousal for t in tags], np.float32), stats


def rollout(run: Run, step: int) -> Rollout:
    """Generate for the step's tasks, execute, reward, compare with the baseline and tag."""
    return rollout_tasks(run, draw_tasks(run, step), step, run.config.run.samples_per_prompt)


def rollout_tasks(run: Run, drawn: Sequence[Problem], key: int, group: int) -> Rollout:
    """`group` completions for each of `drawn` (sampling seed from `key`), executed, rewarded and tagged."""
    executed = sample_and_execute(run, drawn, key, group)
    cs = executed.completions
    expected = expectation(run, executed, np.array([c.prompt_value for c in cs], np.float32))
    features, valence, arousal, stats = fit_tags(run, executed, expected, np.stack([c.prompt_embedding for c in cs]),
                                                 np.stack([c.code_embedding for c in cs]))
    return Rollout(executed.tasks, cs, executed.results, executed.feedbacks, executed.group_ids,
                   td=executed.rewards - expected.baseline, features=features, valence=valence, arousal=arousal,
                   tagger=stats)


def normalised_entropy(run: Run, completion: Completion) -> float:
    """Mean per-token entropy over ln |V|, in [0, 1]: the Prune Bin's curiosity gate for any vocabulary."""
    return completion.mean_entropy / run.policy.max_entropy


def trajectories(run: Run, rollout_: Rollout) -> TrajectoryBatch:
    return TrajectoryBatch.from_trajectories([
        Trajectory(np.asarray(c.prompt_ids, np.int32), np.asarray(c.completion_ids, np.int32), c.logprobs,
                   f.reward, c.policy_version, t.task_id, normalised_entropy(run, c), rollout_.features[i])
        for i, (t, c, f) in enumerate(zip(rollout_.tasks, rollout_.completions, rollout_.feedbacks, strict=True))])


def store(run: Run, rollout_: Rollout) -> None:
    """Offer the rollout to the buffer (success-replay keeps only passing trajectories)."""
    if run.buffer is None:
        return
    keep = np.ones(len(rollout_.feedbacks), bool)
    if run.config.learn.replay == "success":
        keep = np.array([f.status == "passed" for f in rollout_.feedbacks])
    if keep.any():
        batch = trajectories(run, rollout_).keep(keep)
        run.buffer.add(batch, Salience(rollout_.td[keep], rollout_.valence[keep], rollout_.arousal[keep]))


# ---- the warm-up: a critic and a tagger before the first update ----------------------------------


def warm_up(run: Run) -> dict[str, float]:
    """Execute `value_warmup_rollouts` rollouts, fit the value head to their rewards (PPO), then fit the
    tagger on them with the fitted critic's baselines. The policy itself is not changed."""
    group = run.config.run.samples_per_prompt
    batches = [sample_and_execute(run, draw_tasks(run, WARMUP_KEY + k), WARMUP_KEY + k, group)
               for k in range(run.config.learn.value_warmup_rollouts)]
    if not batches:
        return {}
    run.warmup_completions = sum(len(b.completions) for b in batches)
    out = {"warmup/completions": float(run.warmup_completions)}
    if run.config.learn.algorithm == "ppo":
        everything = [c for b in batches for c in b.completions]
        out["warmup/value_explained_var"] = run.policy.fit_value_head(
            [c.prompt_ids for c in everything], [c.completion_ids for c in everything],
            np.concatenate([b.rewards for b in batches]).tolist(), l2=run.config.learn.value_warmup_l2)
    for batch in batches:
        with torch.no_grad():
            scored = run.policy.score([c.prompt_ids for c in batch.completions],
                                      [c.completion_ids for c in batch.completions])
        expected = expectation(run, batch, prompt_values(scored.values, scored.mask).numpy())
        stats = fit_tags(run, batch, expected, scored.prompt_embedding.numpy(), scored.code_embedding.numpy())[3]
    out.update({"warmup/tagger_valence_loss": stats.valence_loss, "warmup/tagger_arousal_loss": stats.arousal_loss})
    return out


# ---- updates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Minibatch:
    """What one gradient step needs, as arrays (rows are trajectories)."""

    prompt_ids: list[Sequence[int]]
    completion_ids: list[Sequence[int]]
    behaviour_logp: list[np.ndarray]  # (T_i,) nats each
    reward: np.ndarray  # (B,)
    td: np.ndarray  # (B,) the advantage source: reward - the learner's expectation (as stored when replayed)
    versions: np.ndarray  # (B,) policy versions that sampled them
    per_weights: np.ndarray  # (B,) PER importance weights, batch mean 1 (1 on-policy)
    old_values: list[np.ndarray] | None = None  # (T_i,) values at sampling time (value clipping); None = unknown


def _padded(rows: Sequence[np.ndarray], width: int) -> torch.Tensor:
    out = torch.zeros(len(rows), width, dtype=torch.float32)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(np.asarray(row, np.float32))
    return out


def applied_weights(run: Run, mb: Minibatch) -> np.ndarray:
    """The per-row loss weights of a minibatch: PER weight x freshness (0 beyond the staleness cap)."""
    return sample_weights(torch.as_tensor(mb.versions), run.policy.version, run.config.learn.staleness_cap,
                          torch.as_tensor(mb.per_weights, dtype=torch.float32)).numpy()


def token_batch(run: Run, mb: Minibatch) -> tuple[TokenBatch, Any]:
    """Score a minibatch under the current policy and build the objective's inputs."""
    scored = run.policy.score(mb.prompt_ids, mb.completion_ids)
    width = scored.mask.shape[1]
    learn = run.config.learn
    weights = torch.as_tensor(applied_weights(run, mb))
    behaviour, ref = _padded(mb.behaviour_logp, width), reference_logp(run, mb)
    adv = token_advantages(torch.as_tensor(mb.td) / run.advantage_scale, scored.mask)
    if learn.algorithm == "grpo":
        return TokenBatch(scored.logp, behaviour, adv, scored.mask, scored.entropy, weights, ref_logp=ref), scored
    returns = terminal_gae(torch.as_tensor(mb.reward), scored.values.detach(), scored.mask, learn.gamma,
                           learn.gae_lambda).returns
    old = None if mb.old_values is None else _padded(mb.old_values, width)
    return TokenBatch(scored.logp, behaviour, adv, scored.mask, scored.entropy, weights, scored.values,
                      returns, old, ref), scored


def reference_logp(run: Run, mb: Minibatch) -> torch.Tensor | None:
    """log pi_ref of the minibatch's tokens under the frozen starting policy (None without a KL term)."""
    if run.reference is None:
        return None
    with torch.no_grad():
        return run.reference.score(mb.prompt_ids, mb.completion_ids).logp


def gradient_step(run: Run, mb: Minibatch) -> tuple[UpdateStats, Any]:
    batch, scored = token_batch(run, mb)
    result = objective(batch, run.config.learn)
    run.optimizer.zero_grad(set_to_none=True)
    result.loss.backward()
    torch.nn.utils.clip_grad_norm_(run.policy.trainable_parameters(), run.config.learn.max_grad_norm)
    run.optimizer.step()
    run.gradient_steps += 1
    stale = int((batch.weights == 0).sum()) if batch.weights is not None else 0
    variance = batch_confidence_variance(scored.logp, scored.values, scored.mask, run.config.learn.confidence_source)
    return result.stats(stale, variance), scored


def rollout_minibatch(rollout_: Rollout, rows: np.ndarray) -> Minibatch:
    """Rows of a wake batch as a minibatch (on-policy data: behaviour log-probs and values just sampled)."""
    cs = rollout_.completions
    return Minibatch([cs[i].prompt_ids for i in rows], [cs[i].completion_ids for i in rows],
                     [cs[i].logprobs for i in rows], rollout_.rewards[rows], rollout_.td[rows],
                     np.array([cs[i].policy_version for i in rows]), np.ones(len(rows), np.float32),
                     [cs[i].values for i in rows])


def wake_minibatches(run: Run, rollout_: Rollout) -> list[Minibatch]:
    n, size = len(rollout_.completions), run.config.learn.minibatch_size
    order = np.random.default_rng([run.config.run.seed, run.step, 7]).permutation(n)
    return [rollout_minibatch(rollout_, rows) for rows in np.array_split(order, max(1, int(np.ceil(n / size))))]


def _sampled(rollout_: Rollout) -> tuple[torch.Tensor, torch.Tensor]:
    """The wake batch's values as sampled (B, T) and its completion mask (B, T), right-padded."""
    cs = rollout_.completions
    width = max(len(c.completion_ids) for c in cs)
    mask = _padded([np.ones(len(c.completion_ids)) for c in cs], width).bool()
    return _padded([c.values for c in cs], width), mask


def wake_advantage_scale(run: Run, rollout_: Rollout) -> float:
    """The uncentred RMS of this wake batch's TD over its completion tokens, or 1 (`advantage_scale`)."""
    if run.config.learn.advantage_scale == "none":
        return 1.0
    _, mask = _sampled(rollout_)
    return advantage_rms(token_advantages(torch.as_tensor(rollout_.td), mask), mask)


def baseline_explained_variance(rollout_: Rollout) -> float:
    """1 - Var(r - b) / Var(r) over the wake batch's completions: how much of the reward the
    expectation behind TD and arousal foresaw."""
    mask = torch.ones(len(rollout_.td), 1, dtype=torch.bool)
    rewards = torch.as_tensor(rollout_.rewards).unsqueeze(-1)
    return explained_variance(rewards - torch.as_tensor(rollout_.td).unsqueeze(-1), rewards, mask)


def value_explained_variance(rollout_: Rollout) -> float:
    """1 - Var(R - V) / Var(R) over the wake batch's tokens, V as sampled (before this step's update)."""
    values, mask = _sampled(rollout_)
    returns = torch.as_tensor(rollout_.rewards).unsqueeze(-1) * mask  # gamma = 1: every token's return is r
    return explained_variance(values, returns, mask)


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


@dataclass
class PhaseTally:
    """What one nocturnal phase replayed (summed over its minibatches)."""

    rows: int = 0
    member_rows: int = 0  # replayed rows that were Dream Queue members when drawn
    members: int = 0  # Dream Queue size at each draw, summed
    others: int = 0  # non-members at each draw, summed
    weight: float = 0.0  # sum of the per-row loss weights applied (PER x freshness)
    joined: int = 0
    left: int = 0
    pruned: int = 0

    def add(self, replay: ReplayBatch, dream_size: int, size: int, weights: np.ndarray) -> None:
        self.rows += len(replay)
        self.member_rows += int(replay.in_dream.sum())
        self.members += dream_size
        self.others += size - dream_size
        self.weight += float(weights.sum())

    def refreshed(self, updated: Updated) -> None:
        self.joined += updated.joined
        self.left += updated.left
        self.pruned += updated.pruned

    def metrics(self) -> dict[str, float | None]:
        ratio = dream_rate_ratio(self.member_rows, self.members, self.rows - self.member_rows, self.others)
        return {"nocturnal/dream_share": self.member_rows / max(1, self.rows), "nocturnal/dream_rate_ratio": ratio,
                "nocturnal/mean_weight": self.weight / max(1, self.rows), "buffer/dream_joins": float(self.joined),
                "buffer/dream_leaves": float(self.left), "nocturnal/pruned_on_refresh": float(self.pruned)}


def nocturnal_phase(run: Run, rollout_: Rollout) -> dict[str, float | None]:
    """M off-policy minibatches (from the buffer, or the latest wake batch for `on_policy`), then the
    meta-step on pruning."""
    if run.config.learn.replay == "on_policy":
        return on_policy_epochs(run, rollout_)
    if run.buffer is None:
        return {}
    expired = run.buffer.expire(run.policy.version - run.config.learn.staleness_cap)
    if len(run.buffer) == 0:
        return {"nocturnal/expired": float(expired)}
    rng = np.random.default_rng([run.config.run.seed, run.step, 11])
    stats, tally = [], PhaseTally()
    for _ in range(run.config.learn.nocturnal_minibatches):
        dream_size, size = run.buffer.dream_size, len(run.buffer)
        replay = draw_replay(run, rng)
        minibatch = replay_minibatch(replay)
        update, scored = gradient_step(run, minibatch)
        stats.append(update)
        tally.add(replay, dream_size, size, applied_weights(run, minibatch))
        tally.refreshed(refresh_tags(run, replay, scored))
    return {**_mean_stats(stats, "nocturnal"), **tally.metrics(), "nocturnal/expired": float(expired),
            "nocturnal/samples": float(sum(s.samples for s in stats)), **meta_step(run, stats)}


def on_policy_epochs(run: Run, rollout_: Rollout) -> dict[str, float | None]:
    """The `ppo-epochs` control: the replay methods' M minibatches of the same size, drawn from the
    latest wake batch (cycling through permutations of it), so extra updates are on-policy epochs."""
    learn, n = run.config.learn, len(rollout_.completions)
    rng = np.random.default_rng([run.config.run.seed, run.step, 11])
    need = learn.nocturnal_minibatches * learn.replay_batch_size
    order = np.concatenate([rng.permutation(n) for _ in range(-(-need // n))])[:need]
    stats = [gradient_step(run, rollout_minibatch(rollout_, rows))[0]
             for rows in np.split(order, learn.nocturnal_minibatches)] if need else []
    return {**_mean_stats(stats, "nocturnal"), "nocturnal/samples": float(sum(s.samples for s in stats)),
            "nocturnal/confidence_variance": _mean_variance(stats)}


def refresh_tags(run: Run, replay: ReplayBatch, scored: Any) -> Updated:
    """Re-tag the drawn items with the update's own scoring: TD = r - b_new, b_new the new V(prompt)
    pooled with the stored peers (PPO; GRPO keeps its group TD), and the tagger's valence and arousal
    from the current embeddings and the new baseline. They join or leave the Dream Queue, and the
    Prune Bin may delete them."""
    assert run.buffer is not None
    trajs = replay.trajectories
    if run.config.learn.algorithm == "grpo":
        td = np.asarray(replay.salience.td, np.float32)
    else:
        stored = torch.as_tensor(trajs.features)
        baseline = pooled_expectation(prompt_values(scored.values, scored.mask), stored[:, PEER_MEAN], stored[:, PEERS],
                                      critic_weight(run))
        td = trajs.reward - baseline.numpy()
    features = with_baselines(trajs.features, trajs.reward - td)
    tags = tag(run.tagger.tagger, scored.prompt_embedding.numpy(), scored.code_embedding.numpy(), features)
    return run.buffer.update(replay.ids, td, np.array([t.valence for t in tags], np.float32),
                             np.array([t.arousal for t in tags], np.float32))


def _mean_variance(stats: Sequence[UpdateStats]) -> float:
    return float(np.nanmean([s.confidence_variance for s in stats])) if stats else float("nan")


def meta_step(run: Run, stats: Sequence[UpdateStats]) -> dict[str, float | None]:
    """Move the prune thresholds with confidence variance (both ways) and re-examine stored items."""
    assert run.buffer is not None
    variance = _mean_variance(stats)
    out: dict[str, float | None] = {"nocturnal/confidence_variance": variance}
    if run.config.buffer.prune and run.config.learn.meta_lr > 0 and len(run.buffer) >= 2:
        sample = run.buffer.sample_uniform(min(256, len(run.buffer)), np.random.default_rng([run.step, 13]))
        exempt = sample.trajectories.entropy > run.config.buffer.prune_entropy
        floor = PruneThresholds(run.config.buffer.prune_valence, run.config.buffer.prune_arousal)
        new = meta_prune_step(run.thresholds, variance, sample.salience.valence, sample.salience.arousal, exempt,
                              run.config.learn, floor)
        if new != run.thresholds:
            run.thresholds = new
            run.buffer.set_prune_thresholds(new.valence, new.arousal)
            out["nocturnal/pruned_by_sweep"] = float(run.buffer.prune_existing())
    return {**out, "nocturnal/prune_valence": run.thresholds.valence, "nocturnal/prune_arousal": run.thresholds.arousal}


# ---- evaluation and metrics ----------------------------------------------------------------------


def evaluate_tasks(run: Run, tasks: Sequence[Problem]) -> list[ExecutionResult]:
    """The verdicts on one greedy completion of each task."""
    greedy = dataclasses.replace(run.config.policy, temperature=0.0)
    completions = run.policy.generate([t.prompt for t in tasks], greedy, seed=0,
                                      entry_points=[t.entry_point for t in tasks])
    return execute(run, tasks, completions)


def evaluate(run: Run) -> dict[str, float]:
    """Greedy pass@1 and hallucination on the held-out tasks, with the breakdown by status."""
    tasks = run.eval_tasks
    results = evaluate_tasks(run, tasks)
    feedbacks = [feedback(r, run.config.reward) for r in results]
    counts = Counter(f.status for f in feedbacks)
    out = {"eval/pass_at_1": float(np.mean([r.passed for r in results])),
           "eval/hallucination": float(np.mean([f.hallucinated for f in feedbacks])),
           "eval/mean_reward": float(np.mean([f.reward for f in feedbacks]))}
    out.update({f"eval/status/{s}": counts.get(s, 0) / len(tasks) for s in STATUSES})
    return out


def rollout_metrics(run: Run, r: Rollout) -> dict[str, float | None]:
    entropy = np.array([c.mean_entropy for c in r.completions])
    low = r.valence < LOW_VALENCE
    counts = Counter(f.status for f in r.feedbacks)
    out: dict[str, float | None] = {
        "rollout/pass_rate": float(np.mean([f.status == "passed" for f in r.feedbacks])),
        "rollout/hallucination": float(np.mean([f.hallucinated for f in r.feedbacks])),
        "rollout/mean_reward": float(r.rewards.mean()), "rollout/entropy": float(entropy.mean()),
        "rollout/entropy_low_valence": float(entropy[low].mean()) if low.any() else None,
        "rollout/entropy_rest": float(entropy[~low].mean()) if (~low).any() else None,
        "rollout/low_valence_n": float(low.sum()), "rollout/td_abs": float(np.abs(r.td).mean()),
        "affect/valence": float(r.valence.mean()), "affect/arousal": float(r.arousal.mean()),
        "affect/dream_candidates": float(np.mean((np.abs(r.valence) > run.config.buffer.dream_valence)
                                                 & (r.arousal > run.config.buffer.dream_arousal))),
        "tagger/valence_loss": r.tagger.valence_loss, "tagger/arousal_loss": r.tagger.arousal_loss,
        "tagger/arousal_rms": r.tagger.arousal_rms}
    out.update({f"rollout/status/{s}": float(counts.get(s, 0)) for s in STATUSES})
    return out


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
    state = {"completions": run.completions, "warmup_completions": run.warmup_completions,
             "gradient_steps": run.gradient_steps, "advantage_scale": run.advantage_scale,
             "expectation": dataclasses.asdict(run.expectation),
             "status_counts": dict(run.status_counts), "version": run.policy.version,
             "thresholds": [run.thresholds.valence, run.thresholds.arousal],
             "tagger_seconds": run.tagger_seconds, "step_seconds": run.step_seconds,
             "torch_rng": torch.get_rng_state().tolist()}
    checkpoints.save(run.run_dir, run.step, writers, state)


def _restore(run: Run, checkpoint: checkpoints.Checkpoint) -> None:
    state = checkpoint.state()
    run.step, run.completions = checkpoint.step, int(state["completions"])
    run.warmup_completions, run.gradient_steps = int(state["warmup_completions"]), int(state["gradient_steps"])
    run.advantage_scale = float(state["advantage_scale"])
    run.expectation = ExpectationScale(**state["expectation"])
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


def wake_step(run: Run, step: int) -> tuple[Rollout, dict[str, float | None]]:
    r = rollout(run, step)
    run.completions += len(r.completions)
    run.status_counts.update(f.status for f in r.feedbacks)
    run.advantage_scale = wake_advantage_scale(run, r)
    explained = value_explained_variance(r) if run.config.learn.algorithm == "ppo" else None
    updates = wake_update(run, r)
    store(run, r)
    return r, {**rollout_metrics(run, r), **_mean_stats(updates, "update"), "update/value_explained_var": explained,
               "update/baseline_explained_var": baseline_explained_variance(r),
               "update/critic_weight": critic_weight(run),
               "update/critic_weight_estimate": run.expectation.critic_weight,
               "update/advantage_scale": run.advantage_scale}


def step_metrics(run: Run, started: float) -> dict[str, float]:
    run.step_seconds += time.perf_counter() - started
    out = {"perf/completions": float(run.completions), "perf/wall_s": run.step_seconds,
           "perf/samples_per_s": run.completions / max(run.step_seconds, 1e-9),
           "perf/tagger_overhead": run.tagger_seconds / max(run.step_seconds, 1e-9),
           "update/policy_version": float(run.policy.version), "update/gradient_steps": float(run.gradient_steps)}
    if run.buffer is not None:
        out.update(run.buffer.stats().metrics())
    return out


def _eval_due(run: Run, step: int) -> bool:
    every = run.config.run.eval_every
    return step == run.config.run.steps or (every > 0 and step % every == 0)


BaselineCache = dict[tuple[Any, ...], dict[str, float]]


def baseline_evaluation(run: Run, cache: BaselineCache | None) -> dict[str, float]:
    """The held-out evaluation before training. Greedy decoding depends only on the starting weights
    (the warm-up fits only the value head), so runs of a grid that start from the same model share it
    (`cache`, keyed by model and tasks)."""
    key = (run.config.policy, run.config.reward, tuple(t.task_id for t in run.eval_tasks))
    if cache is not None and key in cache:
        return cache[key]
    result = evaluate(run)
    if cache is not None:
        cache[key] = result
    return result


def begin(run: Run, baselines_: BaselineCache | None) -> None:
    """Step 0 of a fresh run (or one killed before its step-0 checkpoint): the warm-up and the
    baseline evaluation, logged as step 0, then a checkpoint so a resume never redoes them."""
    run.recorder.truncate_after(-1)
    metrics = {**warm_up(run), **baseline_evaluation(run, baselines_), "perf/completions": 0.0,
               "update/gradient_steps": 0.0}
    run.recorder.log(0, metrics)
    save(run)


def train(config: TrainConfig, run_dir: Path, resume: bool = False,
          on_step: Callable[[int, dict[str, Any]], None] | None = None,
          baselines: BaselineCache | None = None) -> Path:
    """Run (or resume) a training run in `run_dir`; returns the metrics file."""
    run = start(config, run_dir, resume)
    try:
        if checkpoints.latest(run_dir) is None:  # fresh, or killed before its step-0 checkpoint
            begin(run, baselines)
        for step in range(run.step + 1, config.run.steps + 1):
            started = time.perf_counter()
            run.step = step
            r, metrics = wake_step(run, step)
            if nocturnal_due(step, config.learn.nocturnal_every):
                metrics.update(nocturnal_phase(run, r))
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


def _write_done(run: Run) -> None:
    (run.run_dir / "DONE.json").write_text(json.dumps({"steps": run.step, "completions": run.completions,
                                                        "warmup_completions": run.warmup_completions,
                                                        "gradient_steps": run.gradient_steps}))


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """Refuse to overwrite a finished or started run unless resuming it."""
    if not resume and (run_dir / "metrics.jsonl").exists():
        raise InputError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if resume and not (run_dir / "config.yaml").exists():
        raise InputError(f"{run_dir} holds no run to resume (no config.yaml)")
