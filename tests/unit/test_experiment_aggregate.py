"""The aggregator: each declared metric computed once from a run's metrics rows, hallucination shown only
where it is a number of its own, and the headline family limited to the declared comparisons."""

from __future__ import annotations

import pytest

from cosmocore.experiments.aggregate import (
    END,
    HALLUCINATION,
    HEADLINE_FAMILY,
    PRIMARY,
    START,
    compared_pairs,
    final_metrics,
    metric_roles,
    results_from_runs,
)
from cosmocore.experiments.results import GridInfo, RunResult


def _rows() -> list[dict[str, float | int | None]]:
    """A run as metrics.jsonl has it: step 0 (warm-up and the baseline evaluation), then 3 wake steps."""
    return [
        {"step": 0, "eval/pass_at_1": 0.25, "eval/hallucination": 0.75, "perf/completions": 0.0,
         "update/gradient_steps": 0.0},
        {"step": 1, "rollout/hallucination": 0.7, "perf/completions": 32.0, "update/gradient_steps": 3.0,
         "buffer/size": 32.0, "perf/wall_s": 1.5, "eval/pass_at_1": 0.5, "eval/hallucination": 0.5},
        {"step": 2, "rollout/hallucination": 0.6, "perf/completions": 64.0, "update/gradient_steps": 6.0,
         "buffer/size": 60.0, "perf/wall_s": 3.0, "eval/pass_at_1": 0.625, "eval/hallucination": 0.375,
         "eval/status/wrong_answer": 0.25, "eval/status/syntax_error": 0.125},
        {"step": 3, "rollout/hallucination": 0.6, "perf/completions": 96.0, "update/gradient_steps": 9.0,
         "buffer/size": 90.0, "perf/wall_s": 4.5},
    ]


def test_the_primary_metric_is_the_gain_over_the_runs_own_step_0() -> None:
    final = final_metrics(_rows())
    assert (final[START], final[END], final[PRIMARY]) == (0.25, 0.625, 0.375)


def test_sample_efficiency_counts_completions_to_80_percent_of_the_gain() -> None:
    # gain 0.375 -> threshold 0.25 + 0.3 = 0.55: first reached at step 2, 64 completions
    assert final_metrics(_rows())["sample_efficiency"] == 64.0
    flat = [{**r, "eval/pass_at_1": 0.25} if "eval/pass_at_1" in r else r for r in _rows()]
    assert final_metrics(flat)["sample_efficiency"] is None  # no gain


def test_a_run_without_a_step_0_evaluation_has_no_start_and_no_gain() -> None:
    final = final_metrics(_rows()[1:])
    assert final[START] is None and final[PRIMARY] is None and final["sample_efficiency"] is None
    assert final[END] == 0.625


def test_cost_and_occupancy_are_the_last_logged_values() -> None:
    final = final_metrics(_rows())
    assert final["update/gradient_steps"] == 9.0 and final["buffer/size"] == 90.0 and final["perf/wall_s"] == 4.5
    assert final["eval/status/wrong_answer"] == 0.25  # the last evaluation's shares


def _run(method: str, seed: int, gain: float, hallucination_gap: float = 0.0) -> RunResult:
    end = 0.25 + gain
    return RunResult(method, seed, 1.0, {START: 0.25, END: end, PRIMARY: gain,
                                         HALLUCINATION: 1 - end - hallucination_gap})


def _grid(methods: tuple[str, ...]) -> GridInfo:
    return GridInfo("t", "miniworld-py", "", methods, (1, 2, 3), 4, 8, 2, 16, "default")


def test_hallucination_is_a_secondary_metric_only_where_it_differs_from_1_minus_pass_at_1() -> None:
    assert HALLUCINATION not in metric_roles([_run("ppo", 1, 0.1), _run("ppo", 2, 0.2)])
    partial = [_run("ppo", 1, 0.1), _run("ppo", 2, 0.2, hallucination_gap=0.05)]  # a reward that pays partial work
    assert metric_roles(partial)[HALLUCINATION] == "secondary"


def test_every_metric_has_one_role_and_the_primary_is_a_headline_one() -> None:
    roles = metric_roles([_run("ppo", 1, 0.1)])
    assert roles[PRIMARY] == "headline" and list(roles)[:3] == [START, END, PRIMARY]
    assert set(roles.values()) == {"headline", "secondary", "diagnostic"}


def test_pairs_are_compared_once_and_ablations_against_cosmocore() -> None:
    methods = ("ppo", "uniform-replay", "cosmocore", "cosmocore-no-prune")
    assert compared_pairs(methods) == [
        ("uniform-replay", "ppo"), ("cosmocore", "ppo"), ("cosmocore-no-prune", "ppo"),
        ("cosmocore", "uniform-replay"), ("cosmocore-no-prune", "uniform-replay"), ("cosmocore-no-prune", "cosmocore")]


def test_the_headline_family_is_the_declared_one_and_nothing_else_gets_a_verdict() -> None:
    methods = ("ppo", "uniform-replay", "cosmocore", "cosmocore-no-prio")
    runs = [_run(m, s, g + 0.01 * s) for m, g in zip(methods, (0.1, 0.1, 0.3, 0.2), strict=True) for s in (1, 2, 3)]
    results = results_from_runs(_grid(methods), runs)
    assert [(r.metric, r.method, r.baseline) for r in results.family("headline")] == list(HEADLINE_FAMILY)
    assert {r.verdict for r in results.family("headline")} == {"better"}  # +0.2 on every seed
    assert {r.verdict for r in results.family("secondary")} == {"not judged"}
    ablation = results.paired_row("cosmocore-no-prio", "cosmocore", PRIMARY)
    assert ablation is not None and ablation.family == "secondary" and ablation.mean == pytest.approx(-0.1)


def test_a_family_member_the_grid_did_not_run_is_left_out() -> None:
    runs = [_run(m, s, 0.1 * s) for m in ("ppo", "cosmocore") for s in (1, 2, 3)]
    results = results_from_runs(_grid(("ppo", "cosmocore")), runs)
    assert [(r.method, r.baseline) for r in results.family("headline")] == [("cosmocore", "ppo")]
    assert results.family("headline")[0].level == 0.95  # a family of one: Holm's only step is alpha itself
