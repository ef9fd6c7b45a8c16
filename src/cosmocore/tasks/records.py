"""Reading benchmark files into located raw records, and the one error every loader raises.

A `Record` is one JSON object of a data file plus where it came from ("path:line" for JSON Lines,
"path[index]" for a JSON array), so that every error names the exact place in one line: a malformed
JSON line, a missing or mistyped field, a duplicate task_id. A path ending in `.gz` is read through
gzip. Nothing here runs code from the data; the loaders only parse it (`ast`, `json`).
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias, TypeVar

from cosmocore.errors import InputError
from cosmocore.types import Problem

PathArg: TypeAlias = str | os.PathLike[str] | None  # what `load_problems(..., path=)` accepts
T = TypeVar("T")

_READ_ERRORS = (OSError, EOFError, UnicodeDecodeError, zlib.error)  # missing file, bad gzip, bad UTF-8


class TaskLoadError(InputError):
    """A benchmark request or file that cannot be turned into problems; the message is one line."""


@dataclass(frozen=True)
class Record:
    """One JSON object of a benchmark file and where it came from ("path:line" or "path[index]")."""

    where: str
    data: dict[str, Any]

    def error(self, message: str) -> TaskLoadError:
        return TaskLoadError(f"{self.where}: {message}")

    def field(self, name: str, kind: type[T]) -> T:
        """The value of field `name`, which must be present and an instance of `kind` (bool is no int)."""
        value = self.value(name)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.error(f"field {name!r} must be {kind.__name__}, got {type(value).__name__}")
        return value

    def value(self, name: str) -> Any:
        """The value of field `name`, which must be present."""
        if name not in self.data:
            raise self.error(f"missing field {name!r}")
        return self.data[name]

    def text(self, name: str) -> str:
        return self.field(name, str)

    def strings(self, name: str) -> tuple[str, ...]:
        """A field holding a list of strings."""
        items = self.field(name, list)
        if not all(isinstance(item, str) for item in items):
            raise self.error(f"field {name!r} must be a list of str")
        return tuple(items)

    def number(self, name: str) -> float:
        """A field holding an int or a float (EvalPlus writes `atol` as 0 or 1e-06)."""
        value = self.value(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"field {name!r} must be a number, got {type(value).__name__}")
        return float(value)


def require_path(path: PathArg, benchmark: str, example: str) -> Path:
    """The data file a benchmark reads; there is no hidden default location."""
    if path is None:
        raise TaskLoadError(
            f"benchmark {benchmark!r} needs its data file: pass --problems PATH (path=...), e.g. {example}"
        )
    return Path(path)


def open_text(path: Path) -> IO[str]:
    """The file as UTF-8 text, decompressed when the name ends in `.gz`."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_jsonl(path: Path) -> Iterator[Record]:
    """The JSON objects of a JSON Lines file, in file order; blank lines are skipped."""
    line_no = 0
    try:
        with open_text(path) as lines:
            for line_no, line in enumerate(lines, start=1):
                if line.strip():
                    yield _parse_line(path, line_no, line)
    except _READ_ERRORS as err:
        where = f"{path}:{line_no + 1}" if line_no else str(path)
        raise TaskLoadError(f"{where}: cannot read: {_one_line(err)}") from err


def read_json_array(path: Path) -> list[Record]:
    """The objects of a file holding one JSON array (MBPP sanitized), located by index."""
    try:
        with open_text(path) as handle:
            data = json.load(handle)
    except json.JSONDecodeError as err:
        raise TaskLoadError(
            f"{path}:{err.lineno}: malformed JSON ({err.msg} at column {err.colno})"
        ) from None
    except _READ_ERRORS as err:
        raise TaskLoadError(f"{path}: cannot read: {_one_line(err)}") from err
    except ValueError as err:  # e.g. an integer literal beyond the interpreter's digit limit
        raise TaskLoadError(f"{path}: malformed JSON ({_one_line(err)})") from None
    if not isinstance(data, list):
        raise TaskLoadError(f"{path}: expected one JSON array of objects, got {type(data).__name__}")
    return [_as_record(f"{path}[{index}]", item) for index, item in enumerate(data)]


def index_problems(source: Path, pairs: Iterable[tuple[Record, Problem]]) -> dict[str, Problem]:
    """Problems keyed by task_id in file order; a repeated task_id or an empty file is an error."""
    problems: dict[str, Problem] = {}
    first_seen: dict[str, str] = {}  # task_id -> where it first appeared
    for record, problem in pairs:
        if problem.task_id in first_seen:
            raise record.error(
                f"duplicate task_id {problem.task_id!r} (first at {first_seen[problem.task_id]})"
            )
        first_seen[problem.task_id] = record.where
        problems[problem.task_id] = problem
    if not problems:
        raise TaskLoadError(f"{source}: no problems in the file")
    return problems


def parse_code(source: str) -> ast.Module:
    """The syntax tree of dataset code, without running it. Compile-time warnings are silenced (invalid
    escapes such as '\\d' in 18 MBPP and 3 sanitized references, 31 BigCodeBench references and 5 of its
    tests), so that a `-W error` run does not turn them into a SyntaxError; a real SyntaxError propagates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        return ast.parse(source)


def _parse_line(path: Path, line_no: int, line: str) -> Record:
    where = f"{path}:{line_no}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as err:
        raise TaskLoadError(f"{where}: malformed JSON ({err.msg} at column {err.colno})") from None
    except ValueError as err:  # e.g. an integer literal beyond the interpreter's digit limit
        raise TaskLoadError(f"{where}: malformed JSON ({_one_line(err)})") from None
    return _as_record(where, data)


def _as_record(where: str, data: Any) -> Record:
    if not isinstance(data, dict):
        raise TaskLoadError(f"{where}: expected a JSON object, got {type(data).__name__}")
    return Record(where, data)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
