"""TRL (1.x) `GRPOTrainer` with CosmoCore's trusted sandbox as the reward, and Dream-Queue prompt replay.

    reward = ExecutionReward()                      # or AsyncExecutionReward(): TRL awaits it on its own loop
    trainer = GRPOTrainer(model=..., reward_funcs=[reward], train_dataset=rows, args=GRPOConfig(...))

`ExecutionReward` is a `reward_funcs` entry: TRL calls it with `prompts`, `completions`,
`completion_ids` and every other dataset column as a list per completion, plus `trainer_state`,
`log_extra` and `log_metric`. Each completion is judged, in one long-lived sandbox (a `Judge`), against
the problem its row describes (`cosmocore.integrations.rows.problem_from_row`: HumanEval / MBPP /
Mini-World columns, a `problem` column, or a known `task_id`; the row's "prompt" is the string prompt
TRL passes back). Completions may be strings or conversations (the last assistant message's text is
judged). The reward is the verdict's (pass +1, wrong answer -0.3 + 0.3 x fraction, ...; see
`cosmocore.integrations.judging`); a row whose problem cannot be judged on this machine gets None
(TRL leaves that reward function out for that sample). Logged through TRL when it passes the hooks:
`cosmocore/pass_rate`, `cosmocore/<status>_rate` for every failing status, `cosmocore/judge_s`, and a
`status` column in the completions table.

Dream-Queue replay of prompts: `DreamGRPOTrainer(..., replay=DreamPrompts(len(rows)))` (with the same
memory handed to `ExecutionReward(replay=...)`, and a `row_index` column from `with_row_index`) uses a
sampler shaped like TRL's `RepeatSampler` (each prompt repeated `num_generations` times, each batch
`num_iterations x steps_per_generation` times) in which a prompt slot is, while there are dream
prompts, a replay with probability `replay_fraction`: 80% of replay draws re-ask a "cringe" prompt
(`cosmocore.integrations.replay` gives the rule), 20% a uniform one.

Limits: prompts are replayed, not trajectories (no off-policy correction is needed; no exact replay
either); the sampler decides each generation batch as it is drawn, so feedback reaches it one
generation batch late (the dataloader prefetches one); single process only: with several processes
each rank would see only its own rewards, and the sampler refuses to run (`torch.distributed` world
size > 1). Conversational prompts need a `problem` or `task_id` column (the chat messages are not a
HumanEval prompt). Base-model completions are judged as written: cut them at the end of the function
yourself (e.g. `generation_kwargs={"stop_strings": [...]}`) if the model runs on into more code.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cosmocore.config import RewardConfig, SandboxConfig
from cosmocore.errors import InputError
from cosmocore.integrations.judging import Judge, UnjudgeableError, Verdict
from cosmocore.integrations.replay import DreamPrompts, FreshThenReplay
from cosmocore.integrations.rows import problem_from_row
from cosmocore.types import STATUSES, Problem

__all__ = ["AsyncExecutionReward", "DreamRepeatSampler", "ExecutionReward", "completion_text", "with_row_index"]
# and `DreamGRPOTrainer`, built on first access (it subclasses TRL's GRPOTrainer): see `__getattr__`

ROW_INDEX = "row_index"  # the column `with_row_index` adds: a row's position in the training dataset
_TRL_HOOKS = ("trainer_state", "log_extra", "log_metric", "environments")  # kwargs TRL adds that are not columns


def completion_text(completion: Any) -> str:
    """The text of one TRL completion: a string as is; a conversation: its last assistant message's text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        replies = [m for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        if replies:
            return _content_text(replies[-1].get("content", ""))
    raise InputError(f"a completion must be a string or a list of chat messages, got {type(completion).__name__}")


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    raise InputError(f"a chat message's content must be a string or a list of parts, got {type(content).__name__}")


def with_row_index(dataset: Any, column: str = ROW_INDEX) -> Any:
    """A Hugging Face `datasets.Dataset` with a `column` holding each row's position (what replay keys on)."""
    return dataset.map(lambda _, i: {column: i}, with_indices=True)


class _ExecutionScorer:
    """What both reward forms share: rows -> problems -> one batched judge call -> rewards and metrics."""

    def __init__(self, judge: Judge | None = None, *, sandbox: SandboxConfig | None = None,
                 rewards: RewardConfig | None = None, replay: DreamPrompts | None = None,
                 index_column: str = ROW_INDEX) -> None:
        self.judge = judge or Judge(sandbox, rewards)
        self.replay, self.index_column = replay, index_column
        self.last_verdicts: tuple[Verdict | None, ...] = ()  # the latest call's verdicts (None: unjudgeable row)

    def _score(self, prompts: Sequence[Any], completions: Sequence[Any], kwargs: dict[str, Any]) -> list[float | None]:
        start = time.monotonic()
        problems = self._problems(prompts, kwargs)
        judged = [(i, p) for i, p in enumerate(problems) if p is not None]
        verdicts: list[Verdict | None] = [None] * len(problems)
        results = self.judge.judge_many([(p, completion_text(completions[i])) for i, p in judged])
        for (i, _), verdict in zip(judged, results, strict=True):
            verdicts[i] = verdict
        self.last_verdicts = tuple(verdicts)
        self._log(verdicts, time.monotonic() - start, kwargs)
        self._observe(verdicts, kwargs)
        return [v.reward if v is not None else None for v in verdicts]

    def _problems(self, prompts: Sequence[Any], kwargs: dict[str, Any]) -> list[Problem | None]:
        columns = {k: v for k, v in kwargs.items() if k not in _TRL_HOOKS}
        problems: list[Problem | None] = []
        for i, prompt in enumerate(prompts):
            row = {name: values[i] for name, values in columns.items()}
            if isinstance(prompt, str):
                row.setdefault("prompt", prompt)
            problems.append(self._judgeable(problem_from_row(row)))
        return problems

    def _judgeable(self, problem: Problem) -> Problem | None:
        try:
            self.judge.prepare(problem)
        except UnjudgeableError:
            return None
        return problem

    def _log(self, verdicts: Sequence[Verdict | None], seconds: float, kwargs: dict[str, Any]) -> None:
        log_metric: Callable[[str, float], None] | None = kwargs.get("log_metric")
        log_extra: Callable[[str, list[Any]], None] | None = kwargs.get("log_extra")
        judged = [v for v in verdicts if v is not None]
        if log_metric is not None and judged:
            counts = Counter(v.status for v in judged)
            log_metric("cosmocore/pass_rate", counts["passed"] / len(judged))
            for status in STATUSES[1:]:  # "passed" is the pass rate
                log_metric(f"cosmocore/{status}_rate", counts[status] / len(judged))
            log_metric("cosmocore/judge_s", seconds)
        if log_extra is not None:
            log_extra("status", [v.status if v is not None else "unjudgeable" for v in verdicts])

    def _observe(self, verdicts: Sequence[Verdict | None], kwargs: dict[str, Any]) -> None:
        if self.replay is None:
            return
        if self.index_column not in kwargs:
            raise InputError(f"replay needs the dataset column {self.index_column!r} (add it with with_row_index)")
        pairs = [(int(k), v) for k, v in zip(kwargs[self.index_column], verdicts, strict=True) if v is not None]
        self.replay.observe([k for k, _ in pairs], [v.reward for _, v in pairs], [v.status for _, v in pairs])
        log_metric = kwargs.get("log_metric")
        if log_metric is not None:
            for name, value in self.replay.stats().metrics().items():
                log_metric(name, value)

    def close(self) -> None:
        """Stop the judge's sandbox (it also stops at interpreter exit)."""
        self.judge.close()


class ExecutionReward(_ExecutionScorer):
    """A synchronous TRL reward function: one reward (or None) per completion, judged in the sandbox."""

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Sequence[Any] | None = None,
                 **kwargs: Any) -> list[float | None]:
        return self._score(prompts, completions, kwargs)


class AsyncExecutionReward(_ExecutionScorer):
    """The same reward as a coroutine: TRL runs async reward functions concurrently on its event loop;
    the judging runs in a worker thread so that loop is never blocked."""

    async def __call__(self, prompts: Sequence[Any], completions: Sequence[Any],
                       completion_ids: Sequence[Any] | None = None, **kwargs: Any) -> list[float | None]:
        return await asyncio.to_thread(self._score, prompts, completions, kwargs)


# ---- Dream-Queue prompt replay ------------------------------------------------------------------------


class DreamRepeatSampler:
    """TRL's `RepeatSampler` order (chunks of `batch_size` prompts, each repeated `mini_repeat_count` times,
    each chunk `repeat_count` times) with each prompt slot chosen by `FreshThenReplay` as the chunk is drawn.

    Same length as `RepeatSampler`: (size // batch_size) * batch_size * mini_repeat_count * repeat_count.
    """

    def __init__(self, memory: DreamPrompts, mini_repeat_count: int, batch_size: int = 1, repeat_count: int = 1,
                 shuffle: bool = True, seed: int = 0) -> None:
        if memory.size < batch_size:
            raise InputError(f"the dataset has {memory.size} prompts, fewer than one batch of {batch_size}")
        self.memory, self.mini_repeat_count = memory, mini_repeat_count
        self.batch_size, self.repeat_count = batch_size, repeat_count
        self.slots = FreshThenReplay(memory, shuffle, seed)

    def __iter__(self) -> Iterator[int]:
        _refuse_distributed()
        for _ in range(self.memory.size // self.batch_size):
            chunk = [self.slots.next() for _ in range(self.batch_size)]  # decided now, with the latest feedback
            for _ in range(self.repeat_count):
                for index in chunk:
                    yield from [index] * self.mini_repeat_count

    def __len__(self) -> int:
        return (self.memory.size // self.batch_size) * self.batch_size * self.mini_repeat_count * self.repeat_count


def _refuse_distributed() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        raise InputError("Dream-Queue prompt replay runs in a single process only (each rank sees only its own "
                         "rewards); train without replay, or with one process")


def _dream_grpo_trainer() -> type:
    """`GRPOTrainer` whose training sampler is a `DreamRepeatSampler` over the `replay` memory."""
    from trl import GRPOTrainer

    base: Any = GRPOTrainer  # typed loosely: TRL's own annotations are not this module's to check

    class DreamGRPOTrainer(base):
        """GRPOTrainer(..., replay=DreamPrompts(len(train_dataset))): prompts re-asked at the Dream Queue's rate."""

        def __init__(self, *args: Any, replay: DreamPrompts, **kwargs: Any) -> None:
            self.replay = replay
            super().__init__(*args, **kwargs)
            if len(self.train_dataset) != replay.size:
                raise InputError(f"replay memory is for {replay.size} prompts; the training dataset has "
                                 f"{len(self.train_dataset)}")

        def _get_train_sampler(self, dataset: Any = None) -> DreamRepeatSampler:
            return DreamRepeatSampler(
                self.replay, mini_repeat_count=self.num_generations,
                batch_size=self.args.generation_batch_size // self.num_generations,
                repeat_count=self.num_iterations * self.args.steps_per_generation,
                shuffle=self.shuffle_dataset, seed=self.args.seed,
            )

    return DreamGRPOTrainer


_LAZY: dict[str, Callable[[], type]] = {"DreamGRPOTrainer": _dream_grpo_trainer}
_BUILT: dict[str, type] = {}


def __getattr__(name: str) -> type:
    """`DreamGRPOTrainer` is built (importing TRL) on first access."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _BUILT:
        _BUILT[name] = _LAZY[name]()
    return _BUILT[name]
