"""Config files and overrides: unknown keys, wrong types and impossible values are refused by name;
a dumped config reads back equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmocore.config import BufferConfig, LearnConfig, SandboxConfig
from cosmocore.configfile import build, dump, merge, parse_overrides, read_yaml
from cosmocore.errors import InputError


def test_overrides_are_typed_like_the_field_they_set() -> None:
    data = merge({}, parse_overrides([("dream_valence", "0.6"), ("prune", "false"), ("capacity", "1000")]))
    config = build(BufferConfig, data)
    assert config.dream_valence == 0.6 and isinstance(config.dream_valence, float)
    assert config.prune is False and config.capacity == 1000


def test_an_unknown_key_is_refused_with_the_closest_known_one() -> None:
    with pytest.raises(InputError, match=r"'dream_valance' \(did you mean 'dream_valence'\?\)"):
        build(BufferConfig, {"dream_valance": 0.5})


@pytest.mark.parametrize(("data", "message"), [
    ({"capacity": "many"}, "config key 'capacity' must be int, got 'many'"),
    ({"capacity": 1.5}, "config key 'capacity' must be int"),
    ({"prune": 1}, "config key 'prune' must be bool"),
    ({"capacity": 0}, "invalid buffer setting capacity=0"),
])
def test_wrong_types_and_impossible_values_are_refused_by_name(data: dict, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        build(BufferConfig, data)


def test_literal_and_tuple_fields_accept_only_their_choices() -> None:
    assert build(LearnConfig, {"algorithm": "grpo"}).algorithm == "grpo"
    with pytest.raises(InputError, match="must be one of 'ppo', 'grpo'"):
        build(LearnConfig, {"algorithm": "a2c"})
    assert build(SandboxConfig, {"hide_paths": ["/x"]}).hide_paths == ("/x",)
    with pytest.raises(InputError, match="list of strings"):
        build(SandboxConfig, {"hide_paths": "/x"})


def test_a_dumped_config_reads_back_equal(tmp_path: Path) -> None:
    config = build(LearnConfig, {"algorithm": "grpo", "lr": 3e-4})
    path = tmp_path / "c.yaml"
    path.write_text(dump(config))
    assert build(LearnConfig, read_yaml(path)) == config


def test_bad_yaml_files_are_refused_with_their_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("buffer: [1, 2\n")
    with pytest.raises(InputError, match=r"bad\.yaml is not valid YAML"):
        read_yaml(path)
    path.write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="must hold a mapping"):
        read_yaml(path)
    with pytest.raises(InputError, match="cannot read config"):
        read_yaml(tmp_path / "missing.yaml")


def test_an_override_into_a_value_is_refused() -> None:
    with pytest.raises(InputError, match="'capacity' is a value, not a section"):
        merge({"capacity": 3}, {"capacity.x": 1})
