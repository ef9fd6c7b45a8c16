"""The long-lived Judge (cosmocore.integrations.judging): trusted verdicts, rewards, thread safety, life cycle."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from cosmocore import worlds
from cosmocore.config import RewardConfig, SandboxConfig
from cosmocore.errors import InputError
from cosmocore.exporting import problem_record
from cosmocore.integrations.judging import Judge, UnjudgeableError, Verdict, program_for
from cosmocore.integrations.rows import problem_from_row
from cosmocore.types import AssertTests, Problem

HOSTILE_BODIES = {  # HumanEval/0 bodies that try to pass without solving it
    "sys.exit(0)": "    import sys\n    sys.exit(0)\n",
    "os._exit(0)": "    import os\n    os._exit(0)\n",
    "lying __eq__": "    class Yes:\n        def __eq__(self, other):\n            return True\n    return Yes()\n",
    "int subclass": "    class T(int):\n        def __eq__(self, other):\n            return True\n    return T(1)\n",
    "exit handler": "    import atexit, os\n    atexit.register(lambda: os._exit(0))\n    raise SystemExit(0)\n",
}


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    with Judge(SandboxConfig(workers=2, timeout_s=5.0)) as j:
        yield j


def _body(problem: Problem) -> str:
    return problem.reference[len(problem.completion_prefix):]


def test_canonical_solutions_pass_with_reward_one(judge: Judge, humaneval: dict[str, Problem]) -> None:
    problems = [humaneval[f"HumanEval/{i}"] for i in range(6)]
    verdicts = judge.judge_many([(p, _body(p)) for p in problems])
    assert [(v.status, v.passed, v.reward) for v in verdicts] == [("passed", True, 1.0)] * 6
    assert all(v.tests_passed == v.tests_total and v.tests_total for v in verdicts)


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_reward_hacks_get_no_positive_reward(judge: Judge, humaneval: dict[str, Problem], name: str) -> None:
    verdict = judge.judge(humaneval["HumanEval/0"], HOSTILE_BODIES[name])
    assert not verdict.passed and verdict.reward <= 0.0, verdict


def test_rewards_follow_the_reward_table(judge: Judge, humaneval: dict[str, Problem]) -> None:
    problem = humaneval["HumanEval/0"]
    cases = {"    return (\n": ("syntax_error", -1.0), "    return undefined_name\n": ("name_error", -0.8),
             "    raise ValueError('no')\n": ("runtime_error", -0.6),
             "    while True:\n        pass\n": ("timeout", -0.6)}
    verdicts = judge.judge_many([(problem, body) for body in cases])
    assert [(v.status, v.reward) for v in verdicts] == list(cases.values())
    wrong = judge.judge(problem, "    return False\n")  # right on 3 of the 7 asserts
    assert wrong.status == "wrong_answer" and (wrong.tests_passed, wrong.tests_total) == (3, 7)
    assert wrong.reward == pytest.approx(-0.3 + 0.3 * 3 / 7)


def test_pass_fraction_rewards_are_the_judges_reward_config(humaneval: dict[str, Problem]) -> None:
    with Judge(SandboxConfig(workers=1), RewardConfig(scheme="pass_fraction")) as j:
        assert j.judge(humaneval["HumanEval/0"], "    return False\n").reward == pytest.approx(3 / 7)


def test_completions_in_chat_form_become_programs(judge: Judge, humaneval: dict[str, Problem]) -> None:
    problem = humaneval["HumanEval/2"]
    reply = ("Here you go:\n```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```\n"
             "It keeps the decimals.")
    assert judge.judge(problem, reply).passed


def test_whole_programs_in_fences_are_not_reindented(judge: Judge) -> None:
    tests = AssertTests(asserts=("assert double(2) == 4",), program_names=("double",))
    problem = Problem("own/1", "", "double", "", "", tests, "custom")
    program = "```python\nK = 2\ndef double(x):\n    return K * x\n```"
    assert program_for(problem, program) == "K = 2\ndef double(x):\n    return K * x\n"
    assert judge.judge(problem, program).passed


def test_miniworld_exported_rows_judge_their_references(judge: Judge) -> None:
    problems = list(worlds.generate("miniworld-py", split="test", n=4).values())
    converted = [problem_from_row(problem_record(p)) for p in problems]
    verdicts = judge.judge_many([(c, _body(p)) for c, p in zip(converted, problems, strict=True)])
    assert all(v.passed for v in verdicts), verdicts


def test_judge_is_safe_to_call_from_many_threads(judge: Judge, humaneval: dict[str, Problem]) -> None:
    """Concurrent callers with different problems each get their own verdicts (batched into shared runs)."""
    problems = [humaneval[f"HumanEval/{i}"] for i in range(10, 26)]
    got: dict[int, list[Verdict]] = {}

    def work(i: int) -> None:
        p = problems[i]
        got[i] = judge.judge_many([(p, _body(p)), (p, "    return None\n")])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(problems))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(len(problems)))
    assert all([v.passed for v in got[i]] == [True, False] for i in got), got


def test_requests_waiting_on_a_busy_judge_share_one_batch_and_keep_their_verdicts(
        judge: Judge, humaneval: dict[str, Problem]) -> None:
    import time

    slow = humaneval["HumanEval/0"]
    problems = [humaneval[f"HumanEval/{i}"] for i in range(30, 38)]
    got: dict[int, list[Verdict]] = {}

    def pattern(i: int) -> list[bool]:  # which of request i's completions are its canonical body
        return [True, False, False] if i % 2 else [False, True]

    def work(i: int) -> None:
        p = problems[i]
        got[i] = judge.judge_many([(p, _body(p) if good else "    return None\n") for good in pattern(i)])

    before = judge.batches
    first = threading.Thread(target=judge.judge, args=(slow, "    import time\n    time.sleep(2.0)\n"))
    first.start()
    while judge.batches == before:  # until the slow sample runs: the next requests queue behind it
        time.sleep(0.01)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(problems))]
    for t in threads:
        t.start()
    for t in [first, *threads]:
        t.join()
    assert judge.batches - before == 2  # the slow one, then all eight together
    assert all([v.passed for v in got[i]] == pattern(i) for i in range(len(problems))), got


def test_unjudgeable_problems_raise_instead_of_scoring(judge: Judge, humaneval: dict[str, Problem]) -> None:
    from dataclasses import replace

    problem = replace(humaneval["HumanEval/0"], required_libs=("surely_not_an_installed_module",))
    with pytest.raises(UnjudgeableError, match="surely_not_an_installed_module"):
        judge.judge(problem, _body(problem))


def test_judge_starts_lazily_and_refuses_work_once_closed(humaneval: dict[str, Problem]) -> None:
    j = Judge(SandboxConfig(workers=1))
    assert not j.started
    assert j.judge(humaneval["HumanEval/0"], _body(humaneval["HumanEval/0"])).passed
    assert j.started
    j.close()
    j.close()  # twice is fine
    with pytest.raises(InputError, match="closed"):
        j.judge(humaneval["HumanEval/0"], "    return True\n")


def test_verdict_is_a_frozen_record_with_a_json_dict(judge: Judge, humaneval: dict[str, Problem]) -> None:
    import dataclasses
    import json

    verdict = judge.judge(humaneval["HumanEval/0"], "    return True\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.reward = 1.0  # type: ignore[misc]
    assert set(json.loads(json.dumps(verdict.as_dict()))) == {"reward", "status", "passed", "tests_passed",
                                                              "tests_total", "detail", "duration_s"}


def test_a_pickled_judge_travels_without_its_sandbox_and_starts_its_own(judge: Judge,
                                                                         humaneval: dict[str, Problem]) -> None:
    import pickle

    judge.judge(humaneval["HumanEval/1"], "    return []\n")  # the original is running
    copy = pickle.loads(pickle.dumps(judge))
    assert not copy.started and copy.sandbox_config == judge.sandbox_config
    try:
        assert copy.judge(humaneval["HumanEval/1"], _body(humaneval["HumanEval/1"])).passed
    finally:
        copy.close()
    assert judge.started  # closing the copy left the original alone
