"""TRL's real GRPOTrainer with CosmoCore's ExecutionReward: 2 steps on a tiny random Llama on the CPU.

Two runs: one where the model generates (the async reward form, awaited on TRL's own event loop), and
one where TRL's `rollout_func` hands the trainer crafted completions (a canonical solution and a
reward hack for each prompt), through the Dream-Queue trainer and sampler.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("trl")

from cosmocore.config import SandboxConfig
from cosmocore.integrations.judging import Judge, Verdict
from cosmocore.integrations.replay import DreamPrompts
from cosmocore.integrations.trl import AsyncExecutionReward, ExecutionReward, with_row_index
from cosmocore.types import STATUSES, Problem

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tiny_models

HACKS = [  # one per prompt: each tries to pass HumanEval/k without solving it
    "    import sys\n    sys.exit(0)\n",
    "    class Yes:\n        def __eq__(self, other):\n            return True\n    return Yes()\n",
    "    import os\n    os._exit(0)\n",
    "    class T(int):\n        def __eq__(self, other):\n            return True\n    return T(0)\n",
]


class Recording(ExecutionReward):
    """The real reward, keeping every call's rewards and verdicts (TRL logs under the class name)."""

    calls: list[tuple[list[float | None], tuple[Verdict | None, ...]]]

    def __call__(self, *args: Any, **kwargs: Any) -> list[float | None]:
        rewards = super().__call__(*args, **kwargs)
        self.calls.append((rewards, self.last_verdicts))
        return rewards


class AsyncRecording(AsyncExecutionReward):
    calls: list[tuple[list[float | None], tuple[Verdict | None, ...]]]

    async def __call__(self, *args: Any, **kwargs: Any) -> list[float | None]:
        rewards = await super().__call__(*args, **kwargs)
        self.calls.append((rewards, self.last_verdicts))
        return rewards


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build("llama", tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    with Judge(SandboxConfig(workers=2, timeout_s=5.0)) as j:
        yield j


def _dataset(humaneval: dict[str, Problem]) -> Any:
    from datasets import Dataset

    problems = [humaneval[f"HumanEval/{k}"] for k in range(4)]
    return with_row_index(Dataset.from_list([
        {"task_id": p.task_id, "prompt": p.prompt, "entry_point": p.entry_point,
         "canonical_solution": p.reference[len(p.prompt):], "test": p.tests.test_code}  # type: ignore[union-attr]
        for p in problems]))


def _trainer_parts(model_dir: Path, out: Path) -> tuple[Any, Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig

    args = GRPOConfig(output_dir=str(out), max_steps=2, per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=16, logging_steps=1, report_to="none", save_strategy="no",
                      use_cpu=True, bf16=False, seed=0, disable_tqdm=True)
    return AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir), args


def _assert_rewards_came_from_the_sandbox(reward: Recording | AsyncRecording, log_history: list[dict[str, Any]],
                                          name: str) -> None:
    assert len(reward.calls) == 2  # one generation batch per step
    steps = [entry for entry in log_history if f"rewards/{name}/mean" in entry]
    assert len(steps) == 2
    for (rewards, verdicts), logged in zip(reward.calls, steps, strict=True):
        assert len(rewards) == 4 and all(v is not None for v in verdicts)
        assert [v.reward for v in verdicts if v is not None] == rewards  # what TRL got is the verdicts' reward
        assert all(v.status in STATUSES and v.duration_s > 0 for v in verdicts if v is not None)
        assert math.isclose(logged[f"rewards/{name}/mean"], sum(r for r in rewards if r is not None) / 4,
                            rel_tol=1e-5, abs_tol=1e-6)
        assert "cosmocore/pass_rate" in logged and "cosmocore/judge_s" in logged


def test_grpo_trainer_trains_on_sandbox_rewards_from_generated_code(
        tiny_llama: Path, judge: Judge, humaneval: dict[str, Problem], tmp_path: Path) -> None:
    from trl import GRPOTrainer

    model, tokenizer, args = _trainer_parts(tiny_llama, tmp_path)
    reward = AsyncRecording(judge)
    reward.calls = []
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[reward],
                          train_dataset=_dataset(humaneval), args=args)
    trainer.train()
    assert trainer.state.global_step == 2
    _assert_rewards_came_from_the_sandbox(reward, trainer.state.log_history, "AsyncRecording")


def _scripted_rollout(humaneval: dict[str, Problem]) -> Any:
    """A TRL rollout_func: each prompt's first completion is its canonical body, the second a reward hack."""
    by_prompt = {humaneval[f"HumanEval/{k}"].prompt: k for k in range(4)}

    def rollout(prompts: list[str], trainer: Any) -> dict[str, Any]:
        tok, seen = trainer.processing_class, set()
        completions = []
        for prompt in prompts:
            k = by_prompt[prompt]
            p = humaneval[f"HumanEval/{k}"]
            completions.append(HACKS[k] if prompt in seen else p.reference[len(p.prompt):])
            seen.add(prompt)
        return {"prompt_ids": [tok(p)["input_ids"] for p in prompts],
                "completion_ids": [tok(c, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
                                   for c in completions],
                "logprobs": None}

    return rollout


def test_reward_hacks_in_the_trainers_batch_get_no_positive_reward(
        tiny_llama: Path, judge: Judge, humaneval: dict[str, Problem], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cosmocore.integrations.trl import DreamGRPOTrainer

    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    model, tokenizer, args = _trainer_parts(tiny_llama, tmp_path)
    dataset = _dataset(humaneval)
    replay = DreamPrompts(len(dataset), replay_fraction=0.5)
    reward = Recording(judge, replay=replay)
    reward.calls = []
    trainer = DreamGRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[reward], train_dataset=dataset,
                               args=args, replay=replay, rollout_func=_scripted_rollout(humaneval))
    trainer.train()
    _assert_rewards_came_from_the_sandbox(reward, trainer.state.log_history, "Recording")
    for rewards, verdicts in reward.calls:  # completions come in groups: (canonical, hack) per prompt
        assert rewards[0::2] == [1.0, 1.0], verdicts
        assert all(r is not None and r <= 0.0 for r in rewards[1::2]), verdicts
        assert not any(v.passed for v in verdicts[1::2] if v is not None)
    stats = replay.stats()
    assert stats.groups_seen == 4 and stats.fresh + stats.dream + stats.uniform >= 4  # the trainer drew through it
