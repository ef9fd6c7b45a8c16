"""compute_score and the Dream-Queue sampler loaded through verl's own loaders (verl as a test extra).

Marked slow: verl cannot be installed into the project's dev environment (verl 0.9 pins
transformers < 5.11, verl 0.7 numpy < 2), so `make test` skips these; run them in a venv with
`pip install -e ".[verl]" torch==2.13.0` and `pytest -m slow tests/integration/test_integrations_verl_loaders.py`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cosmocore.types import Problem

pytestmark = pytest.mark.slow
verl = pytest.importorskip("verl", reason="verl is not installed (pip install -e '.[verl]' in a venv of its own)")

MODULE_FILE = Path(__file__).resolve().parents[2] / "src" / "cosmocore" / "integrations" / "verl.py"


def _reward_config(path: str) -> Any:
    from omegaconf import OmegaConf

    return OmegaConf.create({"reward": {"custom_reward_function": {
        "path": path, "name": "compute_score", "reward_kwargs": {"timeout_s": 5.0, "workers": 2}}}})


@pytest.mark.parametrize("path", ["pkg://cosmocore.integrations.verl", str(MODULE_FILE)])
def test_compute_score_loads_through_verls_custom_reward_loader(path: str, humaneval: dict[str, Problem]) -> None:
    from verl.trainer.ppo.reward import get_custom_reward_fn

    score = get_custom_reward_fn(_reward_config(path))
    assert score is not None
    problem = humaneval["HumanEval/0"]
    good = score(data_source="openai/humaneval", solution_str=problem.reference[len(problem.prompt):],
                 ground_truth="HumanEval/0", extra_info={"index": 0})
    assert (good["score"], good["status"], good["passed"]) == (1.0, "passed", True)
    for hack in ("    import sys\n    sys.exit(0)\n",
                 "    class Y:\n        def __eq__(self, o):\n            return True\n    return Y()\n"):
        bad = score(data_source="openai/humaneval", solution_str=hack, ground_truth="HumanEval/0", extra_info={})
        assert bad["score"] <= 0.0 and not bad["passed"], bad


def _curriculum_interface() -> Any:
    try:
        from verl.experimental.dataset.sampler import AbstractCurriculumSampler
    except ImportError:
        pytest.skip(f"verl {verl.__version__} has no curriculum-sampler interface (it was removed in verl 0.8)")
    return AbstractCurriculumSampler


def _batch(indices: list[int], rewards: list[float], statuses: list[str]) -> Any:
    import torch
    from verl import DataProto

    scores = torch.zeros(len(rewards), 4)
    scores[:, -1] = torch.tensor(rewards)  # verl puts a response's score on its last token
    return DataProto.from_dict(tensors={"token_level_scores": scores},
                               non_tensors={"index": np.array(indices, dtype=object),
                                            "status": np.array(statuses, dtype=object)})


def test_dream_sampler_is_built_and_fed_by_verl(humaneval: dict[str, Problem]) -> None:
    interface = _curriculum_interface()
    from omegaconf import OmegaConf
    from verl.trainer.main_ppo import create_rl_sampler

    data_config = OmegaConf.create({"sampler": {"class_path": "pkg://cosmocore.integrations.verl",
                                                "class_name": "DreamCurriculumSampler", "replay_fraction": 1.0},
                                    "dataloader_num_workers": 0, "shuffle": True, "seed": 0})
    dataset = list(range(2000))
    sampler = create_rl_sampler(data_config, dataset)
    assert isinstance(sampler, interface) and len(sampler) == len(dataset)
    assert sorted(sampler) == list(range(2000))  # no dream prompts yet: one fresh pass
    calm = [k for k in range(100, 140) for _ in range(2)]  # all-pass groups keep the TD scale small
    sampler.update(batch=_batch([3, 3, *calm], [1.0, -1.0] + [1.0] * len(calm),
                                ["passed", "syntax_error"] + ["passed"] * len(calm)))
    draws = list(sampler)
    share = sum(d == 3 for d in draws) / len(draws)
    expected = 0.8 + 0.2 / len(dataset)
    assert abs(share - expected) <= 4 * math.sqrt(expected * (1 - expected) / len(draws)), share


OVERRIDES = [  # the lines docs/integrations.md gives, on verl's own PPO config
    "reward.custom_reward_function.path=pkg://cosmocore.integrations.verl",
    "reward.custom_reward_function.name=compute_score",
    "+reward.custom_reward_function.reward_kwargs.timeout_s=10",
    "data.sampler.class_path=pkg://cosmocore.integrations.verl",
    "data.sampler.class_name=DreamCurriculumSampler",
    "+data.sampler.replay_fraction=1.0",
    "data.dataloader_num_workers=0",
]


def test_docs_config_lines_build_the_reward_and_a_sampler_keyed_by_extra_info_index(tmp_path: Path) -> None:
    _curriculum_interface()
    import pandas as pd
    from hydra import compose, initialize_config_module
    from verl.trainer.main_ppo import create_rl_sampler
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import RLHFDataset

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import tiny_models

    rows = [{"data_source": "openai/humaneval", "prompt": [{"role": "user", "content": f"def f{i}():"}],
             "reward_model": {"style": "rule", "ground_truth": "HumanEval/0"},
             "extra_info": {"index": 1000 + i}} for i in range(40)]  # keys that are not positions
    pd.DataFrame(rows).to_parquet(tmp_path / "train.parquet")
    with initialize_config_module("verl.trainer.config", version_base=None):
        config = compose("ppo_trainer", overrides=[*OVERRIDES, f"data.train_files={tmp_path / 'train.parquet'}"])
    tokenizer = tiny_models.tokenizer()
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    dataset = RLHFDataset(data_files=config.data.train_files, tokenizer=tokenizer, config=config.data)
    sampler = create_rl_sampler(config.data, dataset)
    assert type(sampler).__name__ == "DreamCurriculumSampler" and len(sampler) == 40
    score = get_custom_reward_fn(config)
    assert score is not None
    hack = score(data_source="openai/humaneval", solution_str="    import sys\n    sys.exit(0)\n",
                 ground_truth="HumanEval/0", extra_info={"index": 1005})
    assert hack["score"] <= 0.0
    calm = [1000 + k for k in range(10, 40) for _ in range(2)]
    sampler.update(batch=_batch([1005, 1005, *calm], [1.0, hack["score"]] + [1.0] * len(calm),
                                ["passed", hack["status"]] + ["passed"] * len(calm)))
    assert sampler.memory.dream_prompts().keys() == {5}  # extra_info.index 1005 is dataset position 5
