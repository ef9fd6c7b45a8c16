"""`cosmocore.worlds`: the registry, its errors, split and size selection, and a cheap import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cosmocore import worlds
from cosmocore.errors import InputError


def test_world_names_lists_miniworld_py() -> None:
    assert "miniworld-py" in worlds.world_names()


def test_unknown_world_raises_input_error_listing_the_choices() -> None:
    with pytest.raises(InputError, match=r"unknown world 'nope'; choose one of: .*miniworld-py"):
        worlds.generate("nope")


def test_unknown_split_and_negative_n_raise_input_error() -> None:
    with pytest.raises(InputError, match="unknown split 'dev'"):
        worlds.generate("miniworld-py", split="dev")
    with pytest.raises(InputError, match="n must be >= 0"):
        worlds.generate("miniworld-py", n=-1)


def test_split_and_n_select_the_first_problems_of_that_split() -> None:
    everything = worlds.generate("miniworld-py")
    first_tests = [p for p in everything.values() if dict(p.meta)["split"] == "test"][:5]
    assert list(worlds.generate("miniworld-py", split="test", n=5).values()) == first_tests
    assert worlds.generate("miniworld-py", n=0) == {}
    train, test = worlds.generate("miniworld-py", split="train"), worlds.generate("miniworld-py", split="test")
    assert len(train) + len(test) == len(everything)


def test_the_returned_dict_is_a_fresh_copy() -> None:
    worlds.generate("miniworld-py").clear()
    assert worlds.generate("miniworld-py")


def test_importing_worlds_does_not_import_a_world() -> None:
    code = "import sys, cosmocore.worlds; print(any(m.startswith('cosmocore.worlds.pyfuncs') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
