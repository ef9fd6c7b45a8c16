"""Custom benchmarks: any HumanEval-format JSON Lines file (`.jsonl`, or `.jsonl.gz`) as `Problem` records.

Each line needs the fields task_id, prompt, entry_point, canonical_solution and test (a `check(candidate)`
function); the mapping is HumanEval's (see `cosmocore.tasks.humaneval`) with benchmark "custom". A line
with a "spark" field {"tables", "expected", "ordered", "atol"} instead of "test" is a PySpark pipeline
problem, judged by the sandbox's Spark executor (the format `cosmocore worlds export miniworld-spark` writes).
EvalPlus's `HumanEvalPlus-OriginFmt` file is in this format, for example.
"""

from __future__ import annotations

from cosmocore.tasks.humaneval import problems_from_file
from cosmocore.tasks.records import PathArg, require_path
from cosmocore.types import Problem


def load(path: PathArg = None) -> dict[str, Problem]:
    """The problems of a HumanEval-format file, in file order."""
    return problems_from_file(require_path(path, "jsonl", "my-problems.jsonl"), benchmark="custom")
