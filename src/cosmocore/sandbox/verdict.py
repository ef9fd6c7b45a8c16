"""Pure rules of judgement: exception -> status, output comparison, and the final verdict.

No I/O here; the judge and the supervisor call these, and the unit tests pin them down.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cosmocore.types import Status

DETAIL_CHARS = 300  # a failure's detail is truncated to this many characters
FLOAT_RTOL = 1e-7  # EvalPlus's relative tolerance
FLOAT_DEFAULT_ATOL = 1e-6  # EvalPlus's absolute tolerance where the task gives 0

_HALLUCINATION = {"NameError", "ImportError", "ModuleNotFoundError", "AttributeError", "PySparkAttributeError"}
_SPARK_UNRESOLVED = "[UNRESOLVED_"  # AnalysisException: a column, function, table or join key that does not exist


def classify_exception(exc_type: str, message: str = "") -> Status:
    """Status for an exception the candidate raised (by class name; hierarchy is not trusted).

    A hallucinated name, module or attribute (in Spark: an unresolved column, function or join key) is
    `name_error`; an attribute looked up on None is a
    plain runtime bug, and so is a local read before assignment (UnboundLocalError).
    """
    if exc_type in {"SyntaxError", "IndentationError", "TabError"}:
        return "syntax_error"
    if exc_type == "MemoryError":
        return "memory_limit"
    if exc_type == "AttributeError" and message.startswith("'NoneType'"):
        return "runtime_error"
    if exc_type in _HALLUCINATION or (exc_type == "AnalysisException" and message.startswith(_SPARK_UNRESOLVED)):
        return "name_error"
    if exc_type == "AssertionError":
        return "wrong_answer"
    return "runtime_error"


def status_for_exit(returncode: int) -> Status:
    """Status for a candidate process that ended while tests were still running.

    `returncode` as `os.waitstatus_to_exitcode` gives it: negative for a signal.
    """
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return "timeout"  # RLIMIT_CPU: SIGXCPU, then SIGKILL at the hard limit
    if returncode < 0:
        return "crashed"
    return "runtime_error"  # sys.exit / os._exit before the tests finished


def truncate(text: str, limit: int = DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _typed(value: Any) -> Any:
    """A hashable value with each element's exact type attached: 1, 1.0 and True stay apart."""
    kind = type(value)
    if kind is tuple:
        return kind, tuple(_typed(v) for v in value)
    if kind is frozenset:
        return kind, frozenset(_typed(v) for v in value)
    return kind, value


def _typed_set(values: Any) -> frozenset[Any]:
    """Set elements or dict keys compared by type too (plain `==` has {True: x} == {1: x})."""
    return frozenset(_typed(v) for v in values)


def outputs_match(out: Any, exp: Any, atol: float) -> bool:
    """EvalPlus comparison, stricter on types: exact type everywhere, floats within tolerance.

    |out - exp| <= atol + FLOAT_RTOL * |exp| for floats (atol = FLOAT_DEFAULT_ATOL where 0);
    NaN matches NaN; bool, int and float never match each other.
    """
    if type(out) is not type(exp):
        return False
    if type(exp) is float:
        if math.isnan(exp) or math.isnan(out):
            return math.isnan(exp) and math.isnan(out)
        if math.isinf(exp) or math.isinf(out):
            return out == exp
        return abs(out - exp) <= (atol or FLOAT_DEFAULT_ATOL) + FLOAT_RTOL * abs(exp)
    if type(exp) in (list, tuple):
        return len(out) == len(exp) and all(outputs_match(o, e, atol) for o, e in zip(out, exp, strict=True))
    if type(exp) is dict:
        return _typed_set(out) == _typed_set(exp) and all(outputs_match(out[k], exp[k], atol) for k in exp)
    if type(exp) in (set, frozenset):
        return _typed_set(out) == _typed_set(exp)
    return bool(out == exp)  # exact builtin types only: their == is honest


def poly_root_ok(coeffs: Sequence[float], root: Any, atol: float) -> bool:
    """HumanEval/32 (find_zero): any x with |poly(coeffs, x)| <= atol is right, as EvalPlus accepts.

    poly is summed left to right with math.pow, exactly as EvalPlus does: near a root of a
    high-degree polynomial the result is rounding noise, and a more exact sum would reject
    roots EvalPlus accepts.
    """
    if type(root) not in (int, float) or not math.isfinite(root):
        return False
    try:
        value = sum(c * math.pow(root, i) for i, c in enumerate(coeffs))
    except OverflowError:
        return False
    return abs(value) <= atol


@dataclass(frozen=True)
class Verdict:
    status: Status
    tests_passed: int | None
    tests_total: int | None
    detail: str


def decide(records: Sequence[dict[str, Any]], *, deadline_hit: bool) -> Verdict:
    """The final verdict from the judge's record stream (the private channel), trusted only as a whole.

    Passed only if the judge declared the test count, reported every test as passed, and signed off
    with `done`; anything else (a missing record, a killed judge) is a failure.
    """
    total = next((r["n"] for r in records if r.get("t") == "total"), None)
    units = [r for r in records if r.get("t") == "unit"]
    passed = sum(1 for r in units if r["ok"])
    done = next((r for r in records if r.get("t") == "done"), None)
    failures = [r for r in units if not r["ok"]]
    if done is None:
        if deadline_hit:
            return Verdict("timeout", passed, total, "wall-clock deadline exceeded")
        return Verdict("crashed", passed, total, "judge ended without a verdict")
    if failures:
        return Verdict(failures[0]["status"], passed, total, failures[0].get("detail", ""))
    if done["status"] != "passed":
        return Verdict(done["status"], passed, total, done.get("detail", ""))
    if not total or passed != total:
        return Verdict("crashed", passed, total, f"judge reported {passed} of {total} tests")
    return Verdict("passed", passed, total, "")
