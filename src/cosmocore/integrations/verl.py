"""verl with CosmoCore's trusted sandbox as the reward (`compute_score`), and a Dream-Queue curriculum sampler.

Reward: point verl's custom reward function at this module (verl loads it with
`verl.trainer.ppo.reward.get_custom_reward_fn`, which calls `verl.utils.import_utils.load_extern_object`):

    reward.custom_reward_function.path=pkg://cosmocore.integrations.verl   (or the path of this file)
    reward.custom_reward_function.name=compute_score

`compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs)` judges the response
in one long-lived sandbox per process (a `Judge`; verl calls it from several threads at once, and the
judge batches those calls onto its workers) and returns {"score": reward, "status", "passed", "acc",
"pass_fraction", "duration_s"} (numbers and one string: verl keeps them as per-sample extra info).
`ground_truth` (the dataset's `reward_model.ground_truth`) is one of:

- a task id: "HumanEval/<n>", "miniworld-py/<n>", "miniworld-spark/<n>" (`rows.problem_from_task_id`);
- a JSON-encoded problem (`rows.problem_to_json`, format "cosmocore.problem/1"), or a JSON object / dict
  with a dataset row's columns (HumanEval, MBPP or Mini-World, as `rows.problem_from_row` reads them);
- test code: a HumanEval `def check(candidate): ...` (needs `extra_info["entry_point"]`), or `assert`
  lines (MBPP style; the entry point is the first function they call). The response is then judged
  as a whole program, unless `extra_info["completion_prefix"]` holds the prompt it continues.

`reward_kwargs` (verl's `custom_reward_function.reward_kwargs`), read by the first call in a process:
`timeout_s`, `memory_mb`, `workers` (the sandbox) and `scheme` ("coderl" or "pass_fraction").

Replay: `DreamCurriculumSampler` implements verl's curriculum-sampler interface
(`verl.experimental.dataset.sampler.AbstractCurriculumSampler`: `__init__(data_source, data_config)`,
`update(batch)`), which verl 0.7.x builds from `data.sampler.class_path` / `class_name` and calls after
every training step. It yields dataset positions: while there are dream prompts, a slot is a replay
with probability `data.sampler.replay_fraction` (default 0.25), and 80% (`dream_fraction`) of replay
draws re-ask a "cringe" prompt (`cosmocore.integrations.replay` gives the rule). `update` reads the
step's rewards (`token_level_scores` summed per response), the "status" this `compute_score` returned
and each row's `extra_info.index` (verl's own key for a row; it must be distinct per row).

Limits: verl 0.8 and later no longer have the curriculum-sampler interface (the sampler needs verl
0.7.x; `compute_score` works with 0.7 to 0.9). verl runs its reward in worker processes: each starts its
own sandbox (workers x processes sandbox workers in all). Prompts are replayed, not trajectories (no
off-policy correction needed, no exact replay); the memory is lost on resume; a prompt needs
`rollout.n` >= 2 to show surprise. Problems that cannot be judged here (missing libraries) raise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cosmocore.config import RewardConfig, SandboxConfig
from cosmocore.errors import InputError
from cosmocore.integrations.judging import Judge, Verdict
from cosmocore.integrations.replay import DreamPrompts, FreshThenReplay
from cosmocore.integrations.rows import problem_from_json, problem_from_row, problem_from_task_id
from cosmocore.types import AssertTests, CheckFunctionTests, Problem, Status

__all__ = ["compute_score", "problem_of"]  # and `DreamCurriculumSampler`, built on first access: see `__getattr__`

_JUDGE: Judge | None = None
_JUDGE_LOCK = threading.Lock()
_JUDGE_SETTINGS = ("timeout_s", "memory_mb", "workers", "scheme")


def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None,
                  **kwargs: Any) -> dict[str, Any]:
    """verl's custom reward function: the sandbox's verdict on `solution_str` (see the module docstring)."""
    problem = problem_of(ground_truth, extra_info or {})
    verdict = _judge(kwargs).judge(problem, solution_str)
    return {"score": verdict.reward, "status": verdict.status, "passed": verdict.passed, "acc": float(verdict.passed),
            "pass_fraction": _pass_fraction(verdict), "duration_s": verdict.duration_s}


def _pass_fraction(verdict: Verdict) -> float:
    """Tests passed / tests defined (1 for a pass, 0 where unknown): a number verl can average."""
    if verdict.passed:
        return 1.0
    return (verdict.tests_passed or 0) / verdict.tests_total if verdict.tests_total else 0.0


def _judge(settings: Mapping[str, Any]) -> Judge:
    """This process's judge, made on the first call from the reward kwargs it brings."""
    global _JUDGE
    with _JUDGE_LOCK:
        if _JUDGE is None:
            chosen = {k: settings[k] for k in _JUDGE_SETTINGS if settings.get(k) is not None}
            sandbox = SandboxConfig(**{k: chosen[k] for k in ("timeout_s", "memory_mb", "workers") if k in chosen})
            _JUDGE = Judge(sandbox, RewardConfig(scheme=chosen.get("scheme", "coderl")))
        return _JUDGE


# ---- ground truth -> problem ----------------------------------------------------------------------


def problem_of(ground_truth: Any, extra_info: Mapping[str, Any]) -> Problem:
    """The problem a verl `ground_truth` names or holds (the forms in the module docstring)."""
    if isinstance(ground_truth, Mapping):
        return problem_from_row(ground_truth)
    if not isinstance(ground_truth, str) or not ground_truth.strip():
        raise InputError(f"ground_truth must be a task id, a JSON problem or test code, got {ground_truth!r:.80}")
    text = ground_truth.strip()
    if text.startswith("{"):
        return _problem_from_json_text(text)
    if "\n" not in text and "/" in text and not text.startswith("assert"):
        return problem_from_task_id(text)
    entry_point, prefix = str(extra_info.get("entry_point", "")), str(extra_info.get("completion_prefix", ""))
    task_id = str(extra_info.get("task_id", extra_info.get("index", "verl")))
    return _problem_from_tests(text, entry_point, prefix, task_id)


def _problem_from_json_text(text: str) -> Problem:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"ground_truth: not valid JSON ({err.msg})") from None
    if isinstance(data, dict) and "format" in data:
        return problem_from_json(text, "ground_truth")
    if isinstance(data, dict):
        return problem_from_row(data)
    raise InputError(f"ground_truth: expected a JSON object, got {type(data).__name__}")


@lru_cache(maxsize=100_000)  # the same problem object for the same ground truth: the sandbox keeps its tests
def _problem_from_tests(test_code: str, entry_point: str, prefix: str, task_id: str) -> Problem:
    from cosmocore.tasks import mbpp

    if "def check(" in test_code:
        if not entry_point:
            raise InputError("ground_truth holds a check(candidate) test: extra_info needs 'entry_point'")
        tests: CheckFunctionTests | AssertTests = CheckFunctionTests(test_code, entry_point, setup_code=prefix)
    else:
        lines = [line for line in test_code.splitlines() if line.strip()]
        asserts = tuple(line.strip() for line in lines if line.strip().startswith("assert"))
        setup = "\n".join(line for line in lines if not line.strip().startswith("assert"))
        if not asserts:
            raise InputError("ground_truth is neither a task id, a JSON problem, a check(candidate) test nor asserts")
        entry_point = entry_point or _first_call(asserts[0], mbpp)
        tests = AssertTests(asserts, setup_code=setup)
    return Problem(task_id=task_id, prompt=prefix, entry_point=entry_point, completion_prefix=prefix, reference=prefix,
                   tests=tests, benchmark="verl")


def _first_call(first_assert: str, mbpp: Any) -> str:
    try:
        name = mbpp.entry_point(first_assert, "")
    except SyntaxError as err:
        raise InputError(f"ground_truth: assert does not parse: {err.msg}") from None
    if name is None:
        raise InputError("ground_truth: the first assert calls no function; give extra_info['entry_point']")
    return str(name)


# ---- Dream-Queue curriculum sampler (verl 0.7.x) -------------------------------------------------------


def _positions(data_source: Any) -> Callable[[Any], int]:
    """Maps a row's `extra_info.index` (what verl's batch carries as "index") to its dataset position."""
    frame = getattr(data_source, "dataframe", None)
    if frame is None or "extra_info" not in getattr(frame, "column_names", ()):
        return int  # no extra_info column: the index is the position
    indices = [info.get("index") if isinstance(info, Mapping) else None for info in frame["extra_info"]]
    if None in indices or len(set(indices)) != len(indices):
        raise InputError("DreamCurriculumSampler needs a distinct extra_info.index in every row of the dataset")
    table = {index: position for position, index in enumerate(indices)}
    return lambda index: table[index]


def _feedback(batch: Any) -> tuple[list[Any], list[float], list[Status]]:
    """(row indices, rewards, statuses) of a verl training batch (DataProto)."""
    missing = [k for k in ("index", "status") if k not in batch.non_tensor_batch]
    if missing or "token_level_scores" not in batch.batch.keys():
        raise InputError(f"DreamCurriculumSampler.update: the batch lacks {(missing or ['token_level_scores'])[0]!r} "
                         "(use cosmocore.integrations.verl.compute_score as the reward)")
    rewards = batch.batch["token_level_scores"].sum(-1).tolist()
    statuses: list[Status] = [s for s in batch.non_tensor_batch["status"]]  # the strings compute_score returned
    return list(batch.non_tensor_batch["index"]), rewards, statuses


def _sampler_settings(data_config: Any) -> dict[str, Any]:
    sampler = data_config.get("sampler") or {}
    return {"replay_fraction": float(sampler.get("replay_fraction", 0.25)),
            "dream_fraction": float(sampler.get("dream_fraction", 0.8)),
            "shuffle": bool(data_config.get("shuffle", True)), "seed": int(data_config.get("seed") or 0)}


def _dream_curriculum_sampler() -> type:
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler

    base: Any = AbstractCurriculumSampler  # verl's isinstance check needs its class; its types are not ours to check

    class DreamCurriculumSampler(base):
        """Dataset positions, fresh or re-asked at the Dream Queue's rate; fed by `update(batch)` each step."""

        def __init__(self, data_source: Any, data_config: Any) -> None:
            settings = _sampler_settings(data_config)
            self.memory = DreamPrompts(len(data_source), replay_fraction=settings["replay_fraction"],
                                       dream_fraction=settings["dream_fraction"])
            self.slots = FreshThenReplay(self.memory, settings["shuffle"], settings["seed"])
            self.position = _positions(data_source)

        def __iter__(self) -> Any:
            return (self.slots.next() for _ in range(self.memory.size))

        def __len__(self) -> int:
            return self.memory.size

        def update(self, batch: Any) -> None:
            indices, rewards, statuses = _feedback(batch)
            self.memory.observe([self.position(i) for i in indices], rewards, statuses)

        def metrics(self) -> dict[str, float]:
            return self.memory.stats().metrics()

    return DreamCurriculumSampler


_LAZY: dict[str, Callable[[], type]] = {"DreamCurriculumSampler": _dream_curriculum_sampler}
_BUILT: dict[str, type] = {}


def __getattr__(name: str) -> type:
    """`DreamCurriculumSampler` is built (importing verl) on first access, e.g. by verl's own loader."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _BUILT:
        _BUILT[name] = _LAZY[name]()
    return _BUILT[name]
