"""results.json: the round trip keeps every field, writes are atomic, bad files name the file and the field."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from cosmocore.errors import InputError
from cosmocore.experiments.results import (
    GridInfo,
    PairedRow,
    Results,
    RunResult,
    SelfCorrectionRow,
    TableRow,
    load_results,
    results_from_dict,
    save_results,
    to_dict,
)
from cosmocore.experiments.stats import describe_family, judge_family, summarise


def _results() -> Results:
    grid = GridInfo(name="quick", world="miniworld-py", benchmark="", methods=("ppo", "cosmocore"), seeds=(1, 2),
                    steps=4, completions_per_step=8, eval_every=2, eval_tasks=16, model="default")
    runs = (
        RunResult("ppo", 1, 3.5, {"eval/pass_at_1": 0.375, "eval/hallucination": 0.625, "sample_efficiency": None},
                  curve={"completions": (0, 16, 32), "eval/pass_at_1": (0.125, 0.25, 0.375)},
                  status_counts={"passed": 9, "wrong_answer": 20, "syntax_error": 3}),
        RunResult("cosmocore", 1, 4.25, {"eval/pass_at_1": 0.5, "eval/hallucination": 0.5},
                  curve={"completions": (0, 16, 32), "eval/pass_at_1": (0.125, None, 0.5)},
                  buffer={"completions": (16, 32), "buffer/size": (14, 25), "buffer/dream_size": (3, 6)},
                  entropy_by_valence={"low": 0.75, "rest": None}, status_counts={"passed": 12, "name_error": 20}),
    )
    table = (TableRow.from_summary("cosmocore", "eval/pass_at_1", summarise([0.5, 0.625])),
             TableRow("ppo", "eval/pass_at_1", 0.375, float("nan"), float("nan"), float("nan"), 1, "none"))
    headline = judge_family([[0.125, 0.25, 0.1875]], [1])[0]  # t = 5.2, p = 0.035: better
    secondary = describe_family([[-0.125]])[0]  # one seed: NaN p, no interval
    paired = (PairedRow.from_comparison("cosmocore", "ppo", "eval/pass_at_1_gain", "headline", headline),
              PairedRow.from_comparison("cosmocore", "ppo", "eval/hallucination", "secondary", secondary))
    sc = (SelfCorrectionRow("cosmocore", 1, True, 7, 20, {"faulty_join": 0.25, "off_by_one": None}),
          SelfCorrectionRow("cosmocore", 1, False, None, 20))
    metrics = {"eval/pass_at_1": "headline", "eval/pass_at_1_gain": "headline", "eval/hallucination": "secondary"}
    return Results(grid, runs, metrics, "eval/pass_at_1_gain", table, paired, sc)


def _same(a: Results, b: Results) -> bool:
    """Equal, with NaN equal to NaN (a record holding NaN is not == itself)."""
    return json.dumps(to_dict(a), sort_keys=True) == json.dumps(to_dict(b), sort_keys=True) and \
        list(a.metrics) == list(b.metrics)


def test_round_trip_through_the_file_keeps_every_field(tmp_path: Path) -> None:
    original = _results()
    written = save_results(tmp_path / "out" / "results.json", original)
    back = load_results(written)
    assert _same(back, original) and _same(load_results(tmp_path / "out"), original)  # a folder: its results.json
    assert back.paired[0] == original.paired[0]  # the headline row has no NaN: equal as records
    assert back.paired[0].p_adjusted == original.paired[0].p_adjusted and back.paired[0].verdict == "better"
    assert math.isnan(back.paired[1].p) and back.paired[1].interval == "none"


def test_save_replaces_the_old_file_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text("old, half-written junk")
    save_results(path, _results())
    assert json.loads(path.read_text())["version"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_non_finite_numbers_are_written_as_null_and_read_back_as_missing(tmp_path: Path) -> None:
    r = _results()
    nan_row = TableRow.from_summary("ppo", "sample_efficiency", summarise([]))  # no seed reached: NaN, n=0
    run = RunResult("ppo", 2, float("inf"), {"eval/pass_at_1": float("nan")})
    path = save_results(tmp_path / "results.json", Results(r.grid, (run,), r.metrics, r.primary, (nan_row,), ()))
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
    with pytest.raises(InputError, match=r"runs\[0\]\.wall_s: expected a number, got null"):
        load_results(path)  # wall time is required, so inf (stored as null) is refused on the way back
    data = json.loads(path.read_text())
    data["runs"][0]["wall_s"] = 1.0
    back = results_from_dict(data)
    assert back.runs[0].final == {"eval/pass_at_1": None}
    assert math.isnan(back.table[0].mean) and back.table[0].n == 0


def _set(data: dict[str, Any], where: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target = data
    for key in where[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[where[-1]]
    else:
        target[where[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(("where", "value", "field"), [
    (("version",), 1, "field version: this CosmoCore reads version 2, the file has 1; delete the file and run "
                      "`cosmocore report`"),
    (("primary",), "eval/nope", "field primary: 'eval/nope' is not one of the metrics"),
    (("metrics", "eval/pass_at_1"), "headline-ish", "field metrics['eval/pass_at_1']: unknown value 'headline-ish'"),
    (("table", 0, "interval"), "bca", "field table[0].interval: unknown value 'bca'; expected one of: t, bootstrap-t"),
    (("paired", 0, "family"), "main", "field paired[0].family: unknown value 'main'"),
    (("paired", 0, "verdict"), "great", "field paired[0].verdict: unknown value 'great'"),
    (("paired", 0, "p_adjusted"), 1.5, "field paired[0].p_adjusted: expected a probability in [0, 1] or null"),
    (("paired", 0, "level"), 95, "field paired[0].level: expected an interval level in (0, 1)"),
    (("paired", 0, "mde"), _DELETE, "field paired[0].mde: missing"),
    (("grid", "steps"), -1, "field grid.steps: expected a count"),
    (("grid", "seeds", 1), "two", "field grid.seeds[1]: expected an integer, got a string"),
    (("grid", "model"), _DELETE, "field grid.model: missing"),
    (("runs", 0, "seed"), True, "field runs[0].seed: expected an integer, got a boolean"),
    (("runs", 1, "final", "eval/pass_at_1"), "high", "field runs[1].final['eval/pass_at_1']: expected a number"),
    (("runs", 0, "curve", "eval/pass_at_1"), [0.1, 0.2], "field runs[0].curve['eval/pass_at_1']: has 2 points"),
    (("runs", 1, "buffer", "completions"), _DELETE, "field runs[1].buffer.completions: missing"),
    (("runs", 1, "entropy_by_valence", "high"), 0.5, "field runs[1].entropy_by_valence: unknown group 'high'"),
    (("runs", 0, "status_counts", "passed"), -3, "field runs[0].status_counts['passed']: expected a count"),
    (("runs", 0, "extra"), 1, "field runs[0].extra: unknown field"),
    (("table", 1, "n"), _DELETE, "field table[1].n: missing"),
    (("paired", 0, "mean"), [1], "field paired[0].mean: expected a number or null, got a list"),
    (("self_correction", 0, "pruning"), "yes", "field self_correction[0].pruning: expected true or false"),
    (("metrics",), "eval/pass_at_1", "field metrics: expected an object, got a string"),
])
def test_a_bad_field_is_named_with_the_file(tmp_path: Path, where: tuple[Any, ...], value: Any, field: str) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_set(to_dict(_results()), where, value)))
    with pytest.raises(InputError) as err:
        load_results(path)
    assert str(err.value).startswith(f"{path}: ") and field in str(err.value)


def test_a_file_that_is_not_json_or_missing_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"version": 1,')
    with pytest.raises(InputError, match=r"results\.json: not valid JSON \(line 1"):
        load_results(path)
    with pytest.raises(InputError, match="no such file"):
        load_results(tmp_path / "elsewhere.json")
    with pytest.raises(InputError, match=r"field \(top level\): expected an object"):
        results_from_dict([1, 2, 3])


def test_grid_budget_is_steps_times_completions_per_step() -> None:
    grid = _results().grid
    assert grid.budget == 4 * 8 and grid.task_source == "miniworld-py"


def test_lookups_find_rows_and_order_runs_by_seed() -> None:
    r = _results()
    assert r.methods == ("ppo", "cosmocore")
    assert r.row("cosmocore", "eval/pass_at_1") == r.table[0] and r.row("cosmocore", "nope") is None
    assert r.paired_row("cosmocore", "ppo", "eval/pass_at_1_gain") == r.paired[0]
    assert r.family("headline") == (r.paired[0],) and r.family("secondary") == (r.paired[1],)
    assert r.metrics_with("headline") == ("eval/pass_at_1", "eval/pass_at_1_gain")
    assert r.table[0].summary == summarise([0.5, 0.625])
    assert [x.method for x in r.runs_of("cosmocore")] == ["cosmocore"]
