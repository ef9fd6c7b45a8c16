"""The metrics recorder: namespaced keys only, one flushed line per log, and truncation for resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmocore.telemetry import MetricsRecorder, read_metrics


def test_each_log_is_one_line_and_non_finite_values_become_null(tmp_path: Path) -> None:
    recorder = MetricsRecorder(tmp_path / "m.jsonl")
    recorder.log(1, {"rollout/pass_rate": 0.5, "update/kl": float("nan")})
    recorder.log(2, {"rollout/pass_rate": 0.75})
    assert read_metrics(tmp_path / "m.jsonl") == [{"step": 1, "rollout/pass_rate": 0.5, "update/kl": None},
                                                  {"step": 2, "rollout/pass_rate": 0.75}]


def test_keys_without_a_known_stage_are_refused(tmp_path: Path) -> None:
    recorder = MetricsRecorder(tmp_path / "m.jsonl")
    for key in ("pass_rate", "train/pass_rate", "rollout/"):
        with pytest.raises(ValueError, match="stage/name"):
            recorder.log(1, {key: 1.0})


def test_truncation_drops_later_steps_and_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    recorder = MetricsRecorder(path)
    for step in range(1, 5):
        recorder.log(step, {"perf/samples_per_s": float(step)})
    with open(path, "a") as f:
        f.write('{"step": 5, "perf/sam')  # killed mid-write
    recorder.truncate_after(2)
    assert [row["step"] for row in read_metrics(path)] == [1, 2]
