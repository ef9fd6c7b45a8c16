"""Scold labels: the valence target the tagger regresses on, from the execution status or a human file.

Default table (`STATUS_SCOLD`; a label is in [-1, 1], negative = "cringe"):

    passed          success_valence (default 0.0: a routine success, inside the Prune Bin's |v| < 0.2)
    wrong_answer    -0.6   a logical bug: inside the Dream Queue's |v| > 0.5
    runtime_error   -0.7
    timeout         -0.6
    memory_limit    -0.6
    crashed         -0.6
    name_error      -1.0   a hallucinated name, attribute or import: the paper's cringe
    syntax_error    -1.0

Why a pass is 0 and not +1: the paper's Prune Bin (|v| < 0.2, a < 0.3) is meant to hold "routine
successes" and its Dream Queue (|v| > 0.5) "failures"; a +1 label would make every pass immune to
pruning and every surprising pass a dream. `AffectConfig.success_valence` changes it.

Human labels (`load_scold_file`): JSON Lines, one object per line, {"task": str, "code": str,
"label": number in [-1, 1]}; blank lines are skipped. A human label overrides the status label of
the completion with the same task id and the same code (compared with surrounding whitespace
stripped). Every bad line raises `InputError` naming `path:line`. Nothing here executes the code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cosmocore.errors import InputError
from cosmocore.types import Feedback, Status

STATUS_SCOLD: Mapping[Status, float] = {
    "passed": 0.0,  # replaced by success_valence
    "wrong_answer": -0.6,
    "runtime_error": -0.7,
    "timeout": -0.6,
    "memory_limit": -0.6,
    "crashed": -0.6,
    "name_error": -1.0,
    "syntax_error": -1.0,
}


@dataclass(frozen=True)
class ScoldLabels:
    """Human scold labels keyed by (task id, stripped code); `source` names the file for reports."""

    labels: Mapping[tuple[str, str], float] = field(default_factory=dict)
    source: str = ""

    def get(self, task_id: str, code: str) -> float | None:
        """The human label of this completion, or None when the file has none."""
        return self.labels.get((task_id, code.strip()))

    def __len__(self) -> int:
        return len(self.labels)


def status_scold(feedback: Feedback, success_valence: float = 0.0) -> float:
    """The default scold label of an execution (the table in the module doc)."""
    if feedback.status == "passed":
        return success_valence
    return STATUS_SCOLD[feedback.status]


def scold_labels(
    feedbacks: Sequence[Feedback],
    task_ids: Sequence[str],
    codes: Sequence[str],
    human: ScoldLabels | None = None,
    success_valence: float = 0.0,
) -> np.ndarray:
    """Valence targets of a batch, shape (B,), float32: the human label where there is one, else the status's."""
    if not len(feedbacks) == len(task_ids) == len(codes):
        raise ValueError(f"batch lengths differ: {len(feedbacks)}, {len(task_ids)}, {len(codes)}")
    labels = np.empty(len(feedbacks), dtype=np.float32)
    for i, (feedback, task_id, code) in enumerate(zip(feedbacks, task_ids, codes, strict=True)):
        found = human.get(task_id, code) if human is not None else None
        labels[i] = status_scold(feedback, success_valence) if found is None else found
    return labels


def load_scold_file(path: str | os.PathLike[str]) -> ScoldLabels:
    """The human labels of a JSON Lines scold file; any bad line raises InputError naming `path:line`."""
    source = Path(path)
    labels: dict[tuple[str, str], float] = {}
    try:
        with source.open(encoding="utf-8") as lines:
            for line_no, line in enumerate(lines, start=1):
                if line.strip():
                    _add_line(labels, f"{source}:{line_no}", line)
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{source}: cannot read scold file: {err}") from err
    return ScoldLabels(labels, str(source))


def _add_line(labels: dict[tuple[str, str], float], where: str, line: str) -> None:
    task, code, label = _parse_line(where, line)
    key = (task, code.strip())
    if key in labels and labels[key] != label:
        raise InputError(f"{where}: conflicting label {label} for a (task, code) labelled {labels[key]} before")
    labels[key] = label


def _parse_line(where: str, line: str) -> tuple[str, str, float]:
    try:
        data: Any = json.loads(line)
    except ValueError as err:
        raise InputError(f"{where}: malformed JSON in scold file ({err})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object with task, code, label; got {type(data).__name__}")
    for name, kinds in (("task", (str,)), ("code", (str,)), ("label", (int, float))):
        value = data.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, kinds):
            raise InputError(f"{where}: field {name!r} missing or not a {kinds[-1].__name__}")
    label = float(data["label"])
    if not -1.0 <= label <= 1.0:
        raise InputError(f"{where}: label {label} outside [-1, 1]")
    return data["task"], data["code"], label
