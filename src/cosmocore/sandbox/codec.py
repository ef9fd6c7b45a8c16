"""Plain-value codec: the only format values cross the sandbox boundary in.

Encodes None, bool, int, float, complex, str, bytes, list, tuple, dict, set and frozenset, checked by
*exact* type: a subclass of `int` that equals everything, or an object with a lying `__eq__`, cannot
be encoded, and decoding can only ever produce these exact builtin types. The text is JSON (no pickle,
no marshal), so decoding bytes written by hostile code cannot run code; lists are JSON arrays and every
other container is a tagged object `{"#": tag, "v": ...}`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

sys.set_int_max_str_digits(0)  # big ints are legitimate test values; size is capped by the frame limit


class CodecError(ValueError):
    """A value that is not plain data, or text that is not a valid encoding."""


_SCALARS = (type(None), bool, int, float, str)


def _to_json(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return [_to_json(v) for v in value]
    if kind is tuple:
        return {"#": "t", "v": [_to_json(v) for v in value]}
    if kind is dict:
        return {"#": "d", "v": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
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


def _from_tag(obj: dict[str, Any]) -> Any:
    tag, payload = obj.get("#"), obj.get("v")
    if len(obj) != 2:
        raise CodecError("malformed tagged value")
    if tag == "t":
        return tuple(payload)
    if tag == "d":
        return {k: v for k, v in payload}
    if tag == "s":
        return set(payload)
    if tag == "f":
        return frozenset(payload)
    if tag == "b":
        return bytes.fromhex(payload)
    if tag == "c":
        return complex(payload[0], payload[1])
    raise CodecError(f"unknown tag {tag!r}")


def decode(text: str | bytes) -> Any:
    """The value `encode` wrote; raises CodecError on anything malformed."""
    try:
        return json.loads(text, object_hook=_from_tag)
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError, AttributeError, IndexError) as err:
        raise CodecError(f"invalid encoding: {type(err).__name__}: {err}") from err
