"""Checkpoints become visible only when complete; a torn save leaves the previous one as latest."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmocore import checkpoints


def _writer(text: str):  # type: ignore[no-untyped-def]
    return lambda d: (d / "part.txt").write_text(text)


def test_the_latest_complete_checkpoint_is_found_with_its_parts_and_state(tmp_path: Path) -> None:
    assert checkpoints.latest(tmp_path) is None
    checkpoints.save(tmp_path, 5, {"policy": _writer("a")}, {"rng": [1, 2]})
    checkpoints.save(tmp_path, 10, {"policy": _writer("b")}, {"rng": [3]})
    ckpt = checkpoints.latest(tmp_path)
    assert ckpt is not None and ckpt.step == 10
    assert (ckpt.path / "policy" / "part.txt").read_text() == "b"
    assert ckpt.state() == {"step": 10, "rng": [3]}


def test_a_save_killed_mid_write_leaves_the_previous_checkpoint_latest(tmp_path: Path) -> None:
    checkpoints.save(tmp_path, 5, {"policy": _writer("a")}, {})

    def dies(d: Path) -> None:
        raise KeyboardInterrupt  # stands in for SIGKILL between two parts

    with pytest.raises(KeyboardInterrupt):
        checkpoints.save(tmp_path, 10, {"policy": _writer("b"), "buffer": dies}, {})
    ckpt = checkpoints.latest(tmp_path)
    assert ckpt is not None and ckpt.step == 5
    checkpoints.save(tmp_path, 10, {"policy": _writer("b")}, {})  # the redo cleans the leftover up
    assert not list((tmp_path / "checkpoints").glob("*.partial"))


def test_only_the_last_two_checkpoints_are_kept(tmp_path: Path) -> None:
    for step in (1, 2, 3, 4):
        checkpoints.save(tmp_path, step, {"p": _writer(str(step))}, {})
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir() if p.is_dir())
    assert names == ["step-000003", "step-000004"]
