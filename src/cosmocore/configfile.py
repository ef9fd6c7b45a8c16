"""Config files and command-line overrides <-> the frozen config dataclasses of `cosmocore.config`.

    YAML file (optional) --> nested dict --> dotted overrides ("buffer.dream_valence=0.6") --> checked
    against the dataclass fields' types --> the dataclass (whose own checks reject impossible values)

Every failure is an `InputError` that names the key: an unknown key (with the closest known one),
a value of the wrong type, a value the stage's config refuses. Nothing is run before the whole config
is valid. Types understood: bool, int, float (an int is accepted), str, Literal choices, tuple[str, ...],
X | None, and nested config dataclasses. Written back with `dump`, a resolved config reads in again
to an equal one.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from cosmocore.errors import InputError

T = TypeVar("T")


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping a YAML config file holds ({} for an empty file)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise InputError(f"cannot read config {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise InputError(f"config {path} is not valid YAML: {str(err).splitlines()[0]}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"config {path} must hold a mapping of sections, not a {type(data).__name__}")
    return data


def parse_overrides(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Dotted keys with values as typed on the command line: numbers (3e-5 included), true/false, lists, text."""
    return {key: _typed(text) for key, text in pairs}


def _typed(text: str) -> Any:
    import yaml

    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


def merge(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with each dotted override set in it (sections created as needed)."""
    merged = _deep_copy(data)
    for dotted, value in overrides.items():
        *sections, name = dotted.split(".")
        node = merged
        for section in sections:
            child = node.setdefault(section, {})
            if not isinstance(child, dict):
                raise InputError(f"config key {dotted!r}: {section!r} is a value, not a section")
            node = child
        node[name] = value
    return merged


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def build(cls: type[T], data: Mapping[str, Any], prefix: str = "") -> T:
    """An instance of the config dataclass `cls` from a nested mapping; missing keys keep their defaults."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    values = {}
    for key, raw in data.items():
        if key not in fields:
            raise InputError(f"unknown config key {prefix + str(key)!r}{_suggestion(str(key), fields, prefix)}")
        values[key] = _convert(hints[key], raw, prefix + key)
    return cls(**values)


def _suggestion(key: str, fields: Mapping[str, Any], prefix: str) -> str:
    close = difflib.get_close_matches(key, list(fields), n=1)
    return f" (did you mean {prefix + close[0]!r}?)" if close else f" (known: {', '.join(fields)})"


def _convert(kind: Any, raw: Any, key: str) -> Any:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(raw, Mapping):
            raise InputError(f"config key {key!r} is a section: give it a mapping, not {raw!r}")
        return build(kind, raw, key + ".")
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        return _convert(next(a for a in args if a is not type(None)), raw, key)
    if origin is typing.Literal:
        if raw not in args:
            raise InputError(f"config key {key!r} must be one of {', '.join(map(repr, args))}, got {raw!r}")
        return raw
    if origin is tuple:
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise InputError(f"config key {key!r} must be a list of strings, got {raw!r}")
        return tuple(raw)
    return _scalar(kind, raw, key)


def _scalar(kind: Any, raw: Any, key: str) -> Any:
    ok = {
        bool: isinstance(raw, bool),
        int: isinstance(raw, int) and not isinstance(raw, bool),
        float: isinstance(raw, int | float) and not isinstance(raw, bool),
        str: isinstance(raw, str),
    }
    if kind is str and isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)  # `--policy.model 123` names a directory "123"
    if kind not in ok:
        raise InputError(f"config key {key!r} has a type this loader does not know: {kind!r}")
    if not ok[kind]:
        raise InputError(f"config key {key!r} must be {kind.__name__}, got {raw!r}")
    return float(raw) if kind is float else raw


def to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as a nested plain mapping (tuples as lists), ready for YAML or JSON."""
    def plain(value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    return {f.name: to_dict(v) if dataclasses.is_dataclass(v := getattr(config, f.name)) else plain(v)
            for f in dataclasses.fields(config)}


def dump(config: Any) -> str:
    """YAML text of a resolved config (every key, in declaration order)."""
    import yaml

    return str(yaml.safe_dump(to_dict(config), sort_keys=False))
