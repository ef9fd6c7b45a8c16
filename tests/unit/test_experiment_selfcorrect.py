"""Algorithm 1's recurrence counts on hand-made attempts: per status and per Spark bug kind, a cycle records
the kinds of its failed Spark attempts, and the per-kind rates survive results.json and the report."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cosmocore import worlds
from cosmocore.config import TrainConfig
from cosmocore.errors import InputError
from cosmocore.experiments import selfcorrect
from cosmocore.experiments.aggregate import PRIMARY, results_from_runs
from cosmocore.experiments.reproduce import rerender
from cosmocore.experiments.results import (
    GridInfo,
    Results,
    RunResult,
    SelfCorrectionRow,
    load_results,
    results_from_dict,
    save_results,
    to_dict,
)
from cosmocore.experiments.selfcorrect import ROW_FILE, Recurrence, SelfCorrectionSpec, self_correct
from cosmocore.types import AssertTests, Problem

JOIN, COLUMN = frozenset({"wrong_join_type"}), frozenset({"wrong_column"})


def test_a_status_recurs_when_the_next_attempt_at_the_task_fails_the_same_way() -> None:
    r = Recurrence()
    for task, status in [("a", "wrong_answer"), ("b", "name_error"), ("a", "wrong_answer"), ("b", "passed"),
                         ("a", "syntax_error")]:
        r.record(task, status)
    assert r.rates() == {"name_error": 0.0, "wrong_answer": 0.5}  # a: 2 chances, 1 repeat; b: 1 chance, none


def test_a_kind_recurs_when_the_next_attempt_at_the_task_shows_it_again() -> None:
    r = Recurrence()
    r.record("a", "wrong_answer", JOIN | COLUMN)
    r.record("a", "wrong_answer", COLUMN)  # join: gone (0 of 1); column: again (1 of 1)
    r.record("a", "wrong_answer", frozenset())  # column: gone (1 of 2)
    assert r.kind_rates() == {"wrong_column": 0.5, "wrong_join_type": 0.0}


def test_a_passing_next_attempt_does_not_repeat_a_kind_and_a_passing_attempt_shows_none() -> None:
    r = Recurrence()
    r.record("a", "wrong_answer", COLUMN)
    r.record("a", "passed", COLUMN)  # kinds of a passing attempt are ignored
    r.record("a", "wrong_answer", COLUMN)
    assert r.kind_rates() == {"wrong_column": 0.0}  # one chance (the first attempt), not repeated


def test_attempts_at_other_tasks_and_last_attempts_give_no_chance() -> None:
    r = Recurrence()
    r.record("a", "wrong_answer", COLUMN)
    r.record("b", "wrong_answer", COLUMN)  # another task: not a next attempt of "a"
    assert r.kind_rates() == {}
    r.record("b", "wrong_answer", COLUMN)
    assert r.kind_rates() == {"wrong_column": 1.0}


def test_a_cycle_records_the_kinds_of_its_failed_spark_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    spark = next(p for p in worlds.generate("miniworld-spark", 0).values() if "how='left'" in p.reference)
    python = Problem("custom/0", "", "f", "", "def f():\n    return 1\n", AssertTests(("assert f() == 1",)), "custom")
    wrong = spark.reference.replace("how='left'", "how='inner'")
    attempts = iter([[wrong, wrong], [wrong, "def f():\n    return 2\n"]])
    for name in ("wake_update", "store", "nocturnal_phase"):
        monkeypatch.setattr(selfcorrect, name, lambda run, r: None)

    def rollout(run: Any, tasks: list[Problem], key: int, group: int) -> SimpleNamespace:
        codes = next(attempts)
        return SimpleNamespace(tasks=tasks, completions=[SimpleNamespace(code=c) for c in codes],
                               feedbacks=[SimpleNamespace(status="wrong_answer") for _ in codes])

    monkeypatch.setattr(selfcorrect, "rollout_tasks", rollout)
    monkeypatch.setattr(selfcorrect, "evaluate_tasks", lambda run, tasks: [SimpleNamespace(passed=False)] * 2)
    recurrence, run = Recurrence(), SimpleNamespace(step=0)
    for cycle in (1, 2):
        selfcorrect._cycle(run, cycle, [spark, python], recurrence)
    assert recurrence.kind_rates() == {"wrong_join_type": 1.0}  # the Python task shows no kind
    assert recurrence.rates() == {"wrong_answer": 1.0}


# ---- the row in results.json and the report ---------------------------------------------------------


def _row(kinds: dict[str, float]) -> SelfCorrectionRow:
    return SelfCorrectionRow("cosmocore", 1, True, 3, 12, {"wrong_answer": 0.5}, kinds)


def _results(kinds: dict[str, float]) -> Results:
    grid = GridInfo("quick", "miniworld-spark", "", ("cosmocore",), (1, 2), 4, 8, 2, 12, "default")
    runs = [RunResult("cosmocore", s, 1.0, {"eval/pass_at_1_start": 0.1, "eval/pass_at_1": 0.2 * s, PRIMARY: 0.1},
                      curve={"completions": (0, 32), "eval/pass_at_1": (0.1, 0.2 * s)}) for s in (1, 2)]
    return results_from_runs(grid, runs, [_row(kinds)])


def test_kind_rates_round_trip_and_rows_without_them_read_as_empty(tmp_path: Path) -> None:
    kinds = {"wrong_column": 0.25, "missing_null_handling": 1.0}
    assert load_results(save_results(tmp_path, _results(kinds))).self_correction == (_row(kinds),)
    plain = to_dict(_results({}))
    assert "bug_kind_recurrence" not in plain["self_correction"][0]  # written as before the field
    assert results_from_dict(plain).self_correction == (_row({}),)


@pytest.mark.parametrize(("kinds", "problem"), [({"faulty_join": 0.5}, "unknown bug kind 'faulty_join'"),
                                                ({"wrong_column": 1.5}, r"expected a rate in \[0, 1\]"),
                                                ({"wrong_column": None}, "expected a number, got null")])
def test_a_bad_kind_rate_is_refused_naming_the_field(kinds: dict[str, Any], problem: str) -> None:
    data = to_dict(_results({"wrong_column": 0.5}))
    data["self_correction"][0]["bug_kind_recurrence"] = kinds
    with pytest.raises(InputError, match=rf"self_correction\[0\]\.bug_kind_recurrence.*{problem}"):
        results_from_dict(data)


def test_the_report_renders_rows_with_kind_rates(tmp_path: Path) -> None:
    save_results(tmp_path, _results({"wrong_join_key": 0.5}))
    assert "report:" in rerender(tmp_path)
    assert (tmp_path / "report.md").read_text()


def test_a_saved_row_from_before_the_field_is_read_back_not_rerun(tmp_path: Path) -> None:
    old = {"method": "cosmocore", "seed": 1, "pruning": True, "cycles_to_zero_error": 3, "tasks": 12,
           "bug_recurrence": {"wrong_answer": 0.5}}
    (tmp_path / ROW_FILE).write_text(json.dumps(old))
    assert self_correct(TrainConfig(), tmp_path, SelfCorrectionSpec()) == _row({})
