"""`cosmocore eval`: a policy on a benchmark or a world split, top to bottom.

    problems (first `limit`) x samples --prompt--> Policy.generate --Completion (code, entropy)-->
    Problem.program --> sandbox (expected outputs first for EvalPlus-style tests; unjudgeable problems
    skipped and reported) --ExecutionResult--> rewards.feedback --> results.jsonl (atomic) + EvalSummary

The summary has pass@1 and pass@k for k = `samples` (and 10, 100 where `samples` allows), the
hallucination fraction (judged executions with reward <= 0, DESIGN 1) and its breakdown by status,
the mean per-token entropy of the sampling policy (nats; the mean over completions of each
completion's mean), and generation speed (completion tokens per second of generation wall time).
Each result line is a valid `cosmocore check` sample (`task_id`, `completion`) plus the verdict,
the reward, and what the policy reported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosmocore import checking, metrics
from cosmocore.config import PolicyConfig, RewardConfig
from cosmocore.rewards import feedback
from cosmocore.types import Completion, ExecutionResult, Problem, Status

if TYPE_CHECKING:
    from cosmocore.policy import Policy
    from cosmocore.sandbox.host import Sandbox


@dataclass(frozen=True)
class EvalSummary:
    model: str  # what was evaluated (a directory or hub id)
    samples: int  # completions generated
    judged: int  # completions executed (the rest belong to problems that cannot be judged here)
    pass_at_k: dict[int, float]
    hallucination: float  # share of judged executions with reward <= 0
    status_counts: dict[Status, int]
    skip_reasons: dict[str, int]  # reason -> skipped completions
    mean_entropy: float  # nats per token, mean over completions
    tokens: int  # completion tokens generated
    generation_s: float  # wall time of generation, seconds
    check_s: float  # wall time of judging, seconds

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.generation_s if self.generation_s > 0 else 0.0


def generate(policy: Policy, problems: Sequence[Problem], samples: int, config: PolicyConfig,
             seed: int) -> tuple[list[Problem], list[Completion], float]:
    """`samples` completions per problem (adjacent), and the generation wall time in seconds."""
    tasks = [p for p in problems for _ in range(samples)]
    started = time.monotonic()
    completions = policy.generate([t.prompt for t in tasks], config, seed=seed,
                                  entry_points=[t.entry_point for t in tasks])
    return tasks, completions, time.monotonic() - started


def _sample(line: int, task: Problem, completion: Completion, index: int) -> checking.Sample:
    fields = {"task_id": task.task_id, "sample": index, "completion": completion.code, "text": completion.text,
              "finish_reason": completion.finish_reason, "tokens": len(completion.completion_ids),
              "mean_entropy": round(completion.mean_entropy, 5),
              "logprob": round(float(completion.logprobs.sum()), 5)}
    return checking.Sample(line, task.task_id, task.program(completion.code), fields)


def judge(tasks: Sequence[Problem], completions: Sequence[Completion], sandbox: Sandbox, out: Path,
          cache_dir: Path, reward: RewardConfig, progress: checking.Progress) -> tuple[list[checking.Sample],
                                                                                     dict[int, ExecutionResult],
                                                                                     dict[str, str]]:
    """Run every judgeable completion; write `out` atomically. Returns samples, results by line, skips."""
    index: dict[str, int] = {}
    samples = []
    for line, (task, completion) in enumerate(zip(tasks, completions, strict=True), start=1):
        index[task.task_id] = index.get(task.task_id, -1) + 1
        samples.append(_sample(line, task, completion, index[task.task_id]))
    problems = {t.task_id: t for t in tasks}
    by_line, skipped = checking.judge_samples(samples, problems, sandbox, cache_dir, progress)
    lines = [_result_line(s, by_line.get(s.line), skipped.get(s.task_id, ""), reward) for s in samples]
    checking.write_atomic(out, "".join(json.dumps(line) + "\n" for line in lines))
    return samples, by_line, skipped


def _result_line(sample: checking.Sample, result: ExecutionResult | None, reason: str,
                 reward: RewardConfig) -> dict[str, Any]:
    line = checking.result_line(sample, result, reason)
    if result is not None:
        fb = feedback(result, reward)
        line.update(reward=round(fb.reward, 5), hallucinated=fb.hallucinated)
    return line


def summarise(model: str, samples: Sequence[checking.Sample], completions: Sequence[Completion],
              results: dict[int, ExecutionResult], skipped: dict[str, str], reward: RewardConfig,
              generation_s: float, check_s: float) -> EvalSummary:
    base = checking.summarise(samples, results, skipped, check_s)
    judged = list(results.values())
    per_task: dict[str, list[bool]] = {}
    for s in samples:
        if s.line in results:
            per_task.setdefault(s.task_id, []).append(results[s.line].passed)
    most = max((len(v) for v in per_task.values()), default=1)
    hallucinated = sum(feedback(r, reward).hallucinated for r in judged)
    entropies = [c.mean_entropy for c in completions]
    return EvalSummary(
        model=model, samples=len(samples), judged=len(judged),
        pass_at_k=metrics.pass_at_k(per_task, sorted({1, most, 10, 100})),
        hallucination=hallucinated / len(judged) if judged else 0.0,
        status_counts=metrics.status_counts(r.status for r in judged), skip_reasons=base.skip_reasons,
        mean_entropy=sum(entropies) / len(entropies) if entropies else 0.0,
        tokens=sum(len(c.completion_ids) for c in completions), generation_s=generation_s, check_s=check_s,
    )


def evaluate(policy: Policy, problems: Sequence[Problem], *, samples: int, config: PolicyConfig, seed: int,
             sandbox: Sandbox, out: Path, cache_dir: Path, reward: RewardConfig | None = None,
             progress: checking.Progress = checking.no_progress) -> EvalSummary:
    """Generate `samples` completions per problem, judge them, write `out`, summarise."""
    reward = reward or RewardConfig()
    tasks, completions, generation_s = generate(policy, problems, samples, config, seed)
    started = time.monotonic()
    judged_samples, results, skipped = judge(tasks, completions, sandbox, out, cache_dir, reward, progress)
    return summarise(config.model, judged_samples, completions, results, skipped, reward, generation_s,
                     time.monotonic() - started)


def format_summary(summary: EvalSummary) -> str:
    """What `cosmocore eval` prints."""
    lines = [f"model: {summary.model}",
             f"judged {summary.judged} of {summary.samples} completions "
             f"(generation {summary.generation_s:.1f} s, judging {summary.check_s:.1f} s)"]
    if summary.skip_reasons:
        lines.append(f"skipped {summary.samples - summary.judged} completions that cannot be judged here:")
        lines += [f"  {n:>6} x {reason}" for reason, n in list(summary.skip_reasons.items())[:10]]
    lines += [f"pass@{k}: {value:.4f}" for k, value in summary.pass_at_k.items()]
    lines.append(f"hallucination (reward <= 0): {summary.hallucination:.4f}")
    for status, n in summary.status_counts.items():
        share = n / summary.judged if summary.judged else 0.0
        lines.append(f"  {status:<14} {n:>6}  {share:6.1%}")
    lines.append(f"mean entropy: {summary.mean_entropy:.4f} nats/token")
    lines.append(f"speed: {summary.tokens} tokens in {summary.generation_s:.1f} s "
                 f"= {summary.tokens_per_s:.1f} tokens/s")
    return "\n".join(lines)
