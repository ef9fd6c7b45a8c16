"""Plain-value codec: the only format values cross the sandbox boundary in, and the one the task
loaders and worlds store test inputs and expected outputs in.

Encodes None, bool, int, float, complex, str, bytes, list, tuple, dict, set and frozenset, checked by
*exact* type: a subclass of `int` that equals everything, or an object with a lying `__eq__`, cannot
be encoded, and decoding can only ever produce these exact builtin types. Two narrow additions:
Counter, OrderedDict and defaultdict travel as the plain dicts they compare equal to, and the
builtin types themselves (`int`, `str`, ...) travel by name, as MBPP passes them as arguments.
The text is JSON (no pickle, no marshal), so decoding bytes written by hostile code cannot run
code; lists are JSON arrays and every other container, and every int beyond 2**63 (as hex), is a
tagged object `{"#": tag, "v": ...}`.
"""

from __future__ import annotations

import collections
import json
import sys
from typing import Any

sys.set_int_max_str_digits(0)  # a hostile peer may still send long decimal ints; the frame limit caps them


class CodecError(ValueError):
    """A value that is not plain data, or text that is not a valid encoding."""


_SCALARS = (type(None), bool, float, str)
# stdlib dict subclasses whose == against a dict is dict's own: they travel as plain dicts (read with
# dict.items, never their own methods, so a patched class cannot lie)
_DICT_LIKE = (collections.Counter, collections.OrderedDict, collections.defaultdict)
_BUILTIN_TYPES = {t.__name__: t for t in (bool, int, float, complex, str, bytes, list, tuple, dict, set,
                                          frozenset, type(None))}  # passed by name (MBPP passes `int`)
_BIG = 2**63  # ints beyond this travel as hex: decimal conversion of huge ints is quadratic, hex is linear


def _to_json(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is int:
        return value if -_BIG < value < _BIG else {"#": "i", "v": hex(value)}
    if kind is list:
        return [_to_json(v) for v in value]
    if kind is tuple:
        return {"#": "t", "v": [_to_json(v) for v in value]}
    if kind is dict or kind in _DICT_LIKE:
        return {"#": "d", "v": [[_to_json(k), _to_json(v)] for k, v in dict.items(value)]}
    if kind is type and value in _BUILTIN_TYPES.values():
        return {"#": "y", "v": value.__name__}
    if kind is set or kind is frozenset:
        return {"#": "s" if kind is set else "f", "v": [_to_json(v) for v in value]}
    if kind is bytes:
        return {"#": "b", "v": value.hex()}
    if kind is complex:
        return {"#": "c", "v": [value.real, value.imag]}
    raise CodecError(f"not plain data: value of type {kind.__qualname__}")


def encode(value: Any) -> str:
    """JSON text for a plain value; raises CodecError for anything else (subclasses included)."""
    try:
        return json.dumps(_to_json(value), allow_nan=True, separators=(",", ":"))
    except RecursionError as err:
        raise CodecError("value nested too deeply") from err


def _dict_from_pairs(payload: list[Any]) -> dict[Any, Any]:
    if not all(type(pair) is list and len(pair) == 2 for pair in payload):
        raise CodecError("malformed dict entry: not a [key, value] pair")
    return {k: v for k, v in payload}


def _complex_from_parts(payload: list[Any]) -> complex:
    if len(payload) != 2 or not all(type(part) in (int, float) for part in payload):
        raise CodecError("malformed complex: not [real, imag]")
    return complex(payload[0], payload[1])


# tag -> (the payload's exact type, how to build the value from it)
_TAGS: dict[str, tuple[type, Any]] = {
    "t": (list, tuple),
    "d": (list, _dict_from_pairs),
    "s": (list, set),
    "f": (list, frozenset),
    "b": (str, bytes.fromhex),
    "c": (list, _complex_from_parts),
    "i": (str, lambda text: int(text, 16)),
    "y": (str, lambda name: _BUILTIN_TYPES[name]),
}


def _from_tag(obj: dict[str, Any]) -> Any:
    tag, payload = obj.get("#"), obj.get("v")
    if len(obj) != 2:
        raise CodecError("malformed tagged value")
    if type(tag) is not str or tag not in _TAGS:
        raise CodecError(f"unknown tag {tag!r}")
    payload_type, build = _TAGS[tag]
    if type(payload) is not payload_type:  # e.g. a string where a list belongs would build a tuple of chars
        raise CodecError(f"tag {tag!r} needs a {payload_type.__name__} payload")
    return build(payload)


def decode(text: str | bytes) -> Any:
    """The value `encode` wrote; raises CodecError on anything malformed."""
    try:
        return json.loads(text, object_hook=_from_tag)
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError, AttributeError, IndexError, KeyError) as err:
        raise CodecError(f"invalid encoding: {type(err).__name__}: {err}") from err
