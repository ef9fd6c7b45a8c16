"""The execution feature vector's layout and the scold labels (status table and human file)."""

import json
import subprocess
import sys

import numpy as np
import pytest

import cosmocore.affect as affect
from cosmocore.affect.features import (
    BASELINE,
    FEATURE_DIM,
    FEATURE_NAMES,
    execution_features,
    feature_matrix,
    with_baselines,
)
from cosmocore.affect.scold import STATUS_SCOLD, load_scold_file, scold_labels, status_scold
from cosmocore.errors import InputError
from cosmocore.types import STATUSES, Feedback


def _fb(status="passed", reward=1.0, fraction=1.0, duration=0.0):
    return Feedback(reward, status, fraction, duration)


def test_feature_layout_is_reward_status_onehot_fraction_expectation_and_no_wall_time():
    assert FEATURE_DIM == 13
    assert FEATURE_NAMES[0] == "reward"
    assert FEATURE_NAMES[1:9] == tuple(f"status={s}" for s in STATUSES)
    assert FEATURE_NAMES[9:] == ("pass_fraction", "baseline", "peer_mean", "peers")
    vector = execution_features(_fb("name_error", -0.8, 0.25, 1.7), 0.4, 0.5, 3)
    expected = [-0.8, 0, 0, 0, 1, 0, 0, 0, 0, 0.25, 0.4, 0.5, 3]  # name_error is the 4th status
    assert vector.dtype == np.float32
    assert vector.tolist() == pytest.approx(expected)


def test_feature_matrix_stacks_rows_and_handles_an_empty_batch():
    rows = feature_matrix([_fb(), _fb("timeout", -0.6, 0.0, 10.0)])
    assert rows.shape == (2, FEATURE_DIM) and rows.dtype == np.float32
    assert rows[1, 1 + STATUSES.index("timeout")] == 1.0
    assert (execution_features(_fb(duration=0.001)) == execution_features(_fb(duration=9.0))).all()  # no clock
    assert feature_matrix([]).shape == (0, FEATURE_DIM)


def test_with_baselines_rewrites_only_the_baseline_column_of_a_copy():
    rows = feature_matrix([_fb(), _fb("timeout", -0.6, 0.0, 10.0)], baselines=[0.1, 0.2])
    new = with_baselines(rows, np.array([0.9, -0.5]))
    assert new[:, BASELINE].tolist() == pytest.approx([0.9, -0.5])
    assert rows[:, BASELINE].tolist() == pytest.approx([0.1, 0.2])  # the input is untouched
    assert np.array_equal(np.delete(new, BASELINE, axis=1), np.delete(rows, BASELINE, axis=1))


def test_status_table_covers_every_status_and_puts_failures_in_the_dream_range():
    assert set(STATUS_SCOLD) == set(STATUSES)
    for status in STATUSES:
        label = status_scold(_fb(status))
        assert -1.0 <= label <= 1.0
        if status != "passed":
            assert abs(label) > 0.5, status  # a failure is a "cringe" the Dream Queue can take
    assert status_scold(_fb("syntax_error")) == status_scold(_fb("name_error")) == -1.0
    assert abs(status_scold(_fb("passed"))) < 0.2  # a routine success stays prunable
    assert status_scold(_fb("passed"), success_valence=1.0) == 1.0


def _write(tmp_path, lines):
    path = tmp_path / "scold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_human_labels_override_status_labels_for_the_same_task_and_code(tmp_path):
    path = _write(tmp_path, [json.dumps({"task": "t1", "code": "return x\n", "label": 0.9}), ""])
    human = load_scold_file(path)
    assert len(human) == 1
    labels = scold_labels(
        [_fb("wrong_answer"), _fb("wrong_answer"), _fb("syntax_error")],
        ["t1", "t2", "t1"],
        ["  return x", "return x", "return y"],
        human,
    )
    assert labels.tolist() == pytest.approx([0.9, -0.6, -1.0])


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"task": "t", "label": 1}', "'code'"),
        ('{"task": "t", "code": "c", "label": "bad"}', "'label'"),
        ('{"task": "t", "code": "c", "label": true}', "'label'"),
        ('{"task": "t", "code": "c", "label": 1.5}', "outside"),
        ('{"task": 3, "code": "c", "label": 0}', "'task'"),
        ('{"task": "t1", "code": "return x", "label": -1}', "conflicting"),
    ],
)
def test_a_bad_scold_line_names_file_and_line(tmp_path, bad_line, message):
    good = json.dumps({"task": "t1", "code": "return x", "label": 0.5})
    path = _write(tmp_path, [good, "", bad_line])
    with pytest.raises(InputError, match=message) as err:
        load_scold_file(path)
    assert f"{path}:3:" in str(err.value)


def test_a_missing_scold_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_scold_file(tmp_path / "absent.jsonl")


def test_features_and_scold_load_without_torch_and_every_lazy_export_resolves():
    code = "import sys, cosmocore.affect.features, cosmocore.affect.scold; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

    for name in affect.__all__:
        assert getattr(affect, name) is not None, name
    with pytest.raises(AttributeError):
        _ = affect.no_such_name
