"""HumanEval+ (EvalPlus, Liu et al. 2023) as `Problem` records judged by input/output tests.

Reads an EvalPlus release file (`HumanEvalPlus-v0.1.10.jsonl.gz`, the `-NoExtreme` or the `-Mini` one;
any path, `.gz` or plain). The model sees the prompt and writes the body, as in HumanEval; `reference`
is prompt + EvalPlus's canonical_solution (its rewritten ground truth, not HumanEval's). The tests are
`IOTests`: `entry_point(*args)` for every input, base_input first and then plus_input, each argument
list encoded with `cosmocore.codec.encode`; `expected` stays None until the reference has been
run. HumanEval/32 (`find_zero`) is judged by the `poly_root` oracle, as EvalPlus does. The original
`check` (field `test`, absent in Mini) is not used. `meta` holds ("base_inputs", n): the first n inputs
are HumanEval's own, for a base-only score.

What the stored data holds (v0.1.10, main file: 164 problems, 1570 base + 122683 plus inputs):
- Inputs are plain JSON arrays of arguments; they contain only lists, str-keyed dicts, str, int (up to
  99 digits), finite floats, bool and None. There are no NaN/Infinity tokens and no special strings
  standing for them ("nan" occurs only as real text in HumanEval/7 and /18). Python's json reads every
  float back exactly, so the values are converted as stored, with no decoding step.
- JSON cannot hold tuples or non-str dict keys, so EvalPlus stored HumanEval/127's interval tuples as
  lists and the key 5 of HumanEval/95's dict as "5". EvalPlus itself calls the functions with the
  JSON values, so this loader does the same: it reproduces EvalPlus, not the original `check`.
- 272 inputs (in 98 problems) repeat an earlier input of the same problem, e.g. base inputs recorded
  twice because HumanEval's check calls the candidate again in its assert message. They are kept, as
  EvalPlus keeps them.
- `atol` is 0 except 1e-06 (HumanEval/2, /4) and 1e-04 (HumanEval/32); stored as the int 0 or a float.
- The prompt of HumanEval/115 differs from HumanEval's (`import math` moved to module level).
"""

from __future__ import annotations

from typing import Literal

from cosmocore.codec import CodecError, encode
from cosmocore.tasks.records import PathArg, Record, index_problems, read_jsonl, require_path
from cosmocore.types import IOTests, Problem

POLY_ROOT_ENTRY_POINT = "find_zero"  # HumanEval/32: any root of the polynomial is right, so no equality


def load(path: PathArg = None) -> dict[str, Problem]:
    """The problems of an EvalPlus HumanEval+ file (full, NoExtreme or Mini), in file order."""
    source = require_path(path, "humanevalplus", "HumanEvalPlus-v0.1.10.jsonl.gz")
    return index_problems(source, ((record, problem_from_record(record)) for record in read_jsonl(source)))


def problem_from_record(record: Record) -> Problem:
    prompt, entry_point = record.text("prompt"), record.text("entry_point")
    base, plus = encoded_inputs(record, "base_input"), encoded_inputs(record, "plus_input")
    tests = IOTests(
        entry_point=entry_point,
        inputs=base + plus,
        atol=record.number("atol"),
        oracle=oracle_for(entry_point),
    )
    return Problem(
        task_id=record.text("task_id"),
        prompt=prompt,
        entry_point=entry_point,
        completion_prefix=prompt,
        reference=prompt + record.text("canonical_solution"),
        tests=tests,
        benchmark="humanevalplus",
        meta=(("base_inputs", str(len(base))),),
    )


def encoded_inputs(record: Record, name: str) -> tuple[str, ...]:
    """The argument lists of field `name`, each encoded as one codec value (a list of positional args)."""
    arg_lists = record.field(name, list)
    for index, args in enumerate(arg_lists):
        if not isinstance(args, list):
            raise record.error(f"{name}[{index}] must be a list of arguments, got {type(args).__name__}")
    try:
        return tuple(encode(args) for args in arg_lists)
    except CodecError as err:
        raise record.error(f"{name}: {err}") from None


def oracle_for(entry_point: str) -> Literal["equal", "poly_root"]:
    return "poly_root" if entry_point == POLY_ROOT_ENTRY_POINT else "equal"
