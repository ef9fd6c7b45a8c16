"""The grid runner's guards: a run directory left by another config is never reused or resumed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmocore import configfile
from cosmocore.errors import InputError
from cosmocore.experiments.runner import GRIDS, check_grid, run_config, run_dir, with_choices


def _spec():  # one method, one seed of the quick grid
    return with_choices(GRIDS["quick"], ["ppo"], [1], {})


def test_a_run_saved_with_the_grids_own_config_is_accepted(tmp_path: Path) -> None:
    spec = _spec()
    directory = run_dir(tmp_path, "ppo", 1)
    directory.mkdir(parents=True)
    (directory / "config.yaml").write_text(configfile.dump(run_config(spec, "ppo", 1)))
    assert len(check_grid(spec, None, tmp_path)) == 1


def test_a_run_saved_with_another_learning_rate_is_refused_naming_the_key(tmp_path: Path) -> None:
    spec = _spec()
    directory = run_dir(tmp_path, "ppo", 1)
    directory.mkdir(parents=True)
    other = with_choices(spec, None, None, {"learn.lr": 3e-5})
    (directory / "config.yaml").write_text(configfile.dump(run_config(other, "ppo", 1)))
    with pytest.raises(InputError, match=r"learn\.lr = 3e-05 but the grid now asks for 5e-05"):
        check_grid(spec, None, tmp_path)
