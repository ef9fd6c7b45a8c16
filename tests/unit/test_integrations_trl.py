"""The TRL reward and sampler (cosmocore.integrations.trl), called the way GRPOTrainer calls them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from cosmocore.config import SandboxConfig
from cosmocore.errors import InputError
from cosmocore.integrations.judging import Judge
from cosmocore.integrations.replay import DreamPrompts
from cosmocore.integrations.trl import AsyncExecutionReward, DreamRepeatSampler, ExecutionReward, completion_text
from cosmocore.types import Problem

HOSTILE = {
    "sys.exit(0)": "    import sys\n    sys.exit(0)\n",
    "lying __eq__": "    class Yes:\n        def __eq__(self, other):\n            return True\n    return Yes()\n",
    "os._exit(0)": "    import os\n    os._exit(0)\n",
}


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    with Judge(SandboxConfig(workers=2, timeout_s=5.0)) as j:
        yield j


def _columns(problems: list[Problem]) -> dict[str, list[Any]]:
    """The dataset columns TRL passes as kwargs (all but "prompt", which comes as `prompts`)."""
    return {"task_id": [p.task_id for p in problems], "entry_point": [p.entry_point for p in problems],
            "canonical_solution": [p.reference[len(p.prompt):] for p in problems],
            "test": [p.tests.test_code for p in problems]}  # type: ignore[union-attr]


class Hooks:
    """Collects what a reward function hands to TRL's `log_metric` and `log_extra`."""

    def __init__(self) -> None:
        self.metrics: dict[str, list[float]] = defaultdict(list)
        self.extra: dict[str, list[Any]] = defaultdict(list)

    def log_metric(self, name: str, value: float) -> None:
        self.metrics[name].append(value)

    def log_extra(self, column: str, values: list[Any]) -> None:
        self.extra[column].extend(values)


def _call(reward: ExecutionReward, problems: list[Problem], completions: list[Any], hooks: Hooks | None = None,
          **more: list[Any]) -> list[float | None]:
    hooks = hooks or Hooks()
    return reward(prompts=[p.prompt for p in problems], completions=completions, completion_ids=[[0]] * len(problems),
                  trainer_state=None, log_metric=hooks.log_metric, log_extra=hooks.log_extra,
                  **_columns(problems), **more)


def test_hostile_completions_get_no_positive_reward(judge: Judge, humaneval: dict[str, Problem]) -> None:
    problem = humaneval["HumanEval/0"]
    completions = [problem.reference[len(problem.prompt):], *HOSTILE.values()]
    rewards = _call(ExecutionReward(judge), [problem] * len(completions), completions)
    assert rewards[0] == 1.0
    assert all(r is not None and r <= 0.0 for r in rewards[1:]), dict(zip(HOSTILE, rewards[1:], strict=True))


def test_conversational_completions_are_judged_on_the_last_assistant_message(
        judge: Judge, humaneval: dict[str, Problem]) -> None:
    problem = humaneval["HumanEval/2"]
    good = "```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```"
    chats = [[{"role": "assistant", "content": good}],
             [{"role": "assistant", "content": [{"type": "text", "text": good}]}],
             [{"role": "assistant", "content": "```python\n" + "import sys\nsys.exit(0)\n```"}]]
    assert _call(ExecutionReward(judge), [problem] * 3, chats) == [1.0, 1.0, -0.6]
    assert completion_text([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]) == "a"
    with pytest.raises(InputError, match="completion"):
        completion_text(42)


def test_async_form_gives_the_same_rewards(judge: Judge, humaneval: dict[str, Problem]) -> None:
    problems = [humaneval["HumanEval/0"], humaneval["HumanEval/3"]]
    completions = ["    return False\n", problems[1].reference[len(problems[1].prompt):]]
    expected = _call(ExecutionReward(judge), problems, completions)
    coroutine = AsyncExecutionReward(judge)(prompts=[p.prompt for p in problems], completions=completions,
                                            **_columns(problems))
    assert asyncio.run(coroutine) == expected == [pytest.approx(-0.3 + 0.3 * 3 / 7), 1.0]


def test_pass_rate_and_statuses_are_logged_through_trls_hooks(judge: Judge, humaneval: dict[str, Problem]) -> None:
    problem, hooks = humaneval["HumanEval/0"], Hooks()
    _call(ExecutionReward(judge), [problem] * 4, ["    return True\n", "    return (\n", "    return x\n",
                                                  problem.reference[len(problem.prompt):]], hooks)
    assert hooks.metrics["cosmocore/pass_rate"] == [0.25]
    assert hooks.metrics["cosmocore/syntax_error_rate"] == [0.25]
    assert hooks.metrics["cosmocore/name_error_rate"] == [0.25]
    assert hooks.extra["status"] == ["wrong_answer", "syntax_error", "name_error", "passed"]


def test_rows_that_cannot_be_judged_here_get_no_reward(judge: Judge) -> None:
    from cosmocore.integrations.rows import problem_to_json
    from cosmocore.types import CheckFunctionTests

    tests = CheckFunctionTests("def check(candidate):\n    assert candidate() == 1\n", "f")
    unjudgeable = Problem("own/1", "def f():\n", "f", "def f():\n", "def f():\n    return 1\n", tests, "custom",
                          required_libs=("surely_not_an_installed_module",))
    rewards = ExecutionReward(judge)(prompts=["p"], completions=["    return 1\n"],
                                     problem=[problem_to_json(unjudgeable)])
    assert rewards == [None]


def test_bad_rows_stop_with_a_one_line_input_error(judge: Judge) -> None:
    with pytest.raises(InputError) as info:
        ExecutionReward(judge)(prompts=["p"], completions=["x"], task_id=["HumanEval/0"], test=["t"])
    assert "'entry_point'" in str(info.value) and "\n" not in str(info.value)


def test_replay_feedback_needs_the_row_index_column(judge: Judge, humaneval: dict[str, Problem]) -> None:
    problem = humaneval["HumanEval/0"]
    reward = ExecutionReward(judge, replay=DreamPrompts(4))
    with pytest.raises(InputError, match="row_index"):
        _call(reward, [problem], ["    return True\n"])
    _call(reward, [problem] * 2, ["    return True\n", problem.reference[len(problem.prompt):]], row_index=[1, 1])
    assert reward.replay is not None and reward.replay.stats().groups_seen == 1


def test_dream_sampler_keeps_trls_repeat_order_and_length() -> None:
    trl_utils = pytest.importorskip("trl.trainer.utils")
    for size, mini, batch, repeat in ((7, 2, 3, 4), (12, 3, 4, 1), (5, 1, 5, 2)):
        ours = DreamRepeatSampler(DreamPrompts(size), mini, batch, repeat, shuffle=False)
        theirs = trl_utils.RepeatSampler(list(range(size)), mini, batch, repeat, shuffle=False)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    shuffled = list(DreamRepeatSampler(DreamPrompts(9), 2, 3, 2, shuffle=True, seed=1))
    chunks = [shuffled[i:i + 6] for i in range(0, len(shuffled), 6)]
    assert all(chunks[k] == chunks[k + 1] for k in range(0, len(chunks), 2))  # each chunk repeat_count times
    assert sorted(set(shuffled)) == list(range(9))
