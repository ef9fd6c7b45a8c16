"""The pure rules of judgement: exception -> status, exit code -> status, output comparison (numbers
worked by hand), and the final verdict, which may only say "passed" when everything agrees."""

from __future__ import annotations

import dataclasses
import math
import signal
from typing import Any

import pytest

from cosmocore.sandbox.verdict import (
    DETAIL_CHARS,
    FLOAT_DEFAULT_ATOL,
    FLOAT_RTOL,
    Verdict,
    classify_exception,
    decide,
    outputs_match,
    poly_root_ok,
    status_for_exit,
    truncate,
)

# ---- classify_exception --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc_type", "message", "status"),
    [
        ("NameError", "name 'foo' is not defined", "name_error"),
        ("ImportError", "cannot import name 'x' from 'y'", "name_error"),
        ("ModuleNotFoundError", "No module named 'numpyy'", "name_error"),
        ("AttributeError", "module 'math' has no attribute 'sqr'", "name_error"),
        ("AttributeError", "'list' object has no attribute 'push'", "name_error"),
        ("AttributeError", "'NoneType' object has no attribute 'append'", "runtime_error"),
        ("UnboundLocalError", "cannot access local variable 'x' where it is not associated with a value",
         "runtime_error"),
        ("MemoryError", "", "memory_limit"),
        ("SyntaxError", "invalid syntax", "syntax_error"),
        ("IndentationError", "unexpected indent", "syntax_error"),
        ("TabError", "inconsistent use of tabs and spaces in indentation", "syntax_error"),
        ("AssertionError", "", "wrong_answer"),
        ("ValueError", "bad", "runtime_error"),
        ("ZeroDivisionError", "division by zero", "runtime_error"),
        ("RecursionError", "maximum recursion depth exceeded", "runtime_error"),
        ("KeyError", "'k'", "runtime_error"),
        ("AnalysisException", "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column ... `qty` cannot be resolved",
         "name_error"),
        ("AnalysisException", "[UNRESOLVED_ROUTINE] Cannot resolve routine `medain`", "name_error"),
        ("AnalysisException", "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve ...", "runtime_error"),
        ("PySparkAttributeError", "[ATTRIBUTE_NOT_SUPPORTED] Attribute `renameColumn` is not supported.",
         "name_error"),
        ("Py4JJavaError", "An error occurred while calling o42.collectToPython.", "runtime_error"),
    ],
)
def test_each_exception_maps_to_its_status(exc_type, message, status):
    assert classify_exception(exc_type, message) == status


def test_classification_is_by_exact_class_name_not_by_a_name_that_looks_similar():
    assert classify_exception("MyNameError") == "runtime_error"
    assert classify_exception("nameerror") == "runtime_error"


def test_an_attribute_error_without_a_message_counts_as_a_hallucinated_name():
    assert classify_exception("AttributeError") == "name_error"  # no message: a hallucinated attribute


# ---- status_for_exit -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("returncode", "status"),
    [
        (-signal.SIGXCPU, "timeout"),
        (-signal.SIGKILL, "timeout"),
        (-signal.SIGSEGV, "crashed"),
        (-signal.SIGABRT, "crashed"),
        (-signal.SIGTERM, "crashed"),
        (-signal.SIGBUS, "crashed"),
        (0, "runtime_error"),
        (1, "runtime_error"),
        (137, "runtime_error"),  # an exit status, not a signal
    ],
)
def test_exit_code_maps_to_its_status(returncode, status):
    assert status_for_exit(returncode) == status


# ---- truncate ------------------------------------------------------------------------------------


def test_truncate_leaves_text_at_the_limit_alone():
    text = "x" * DETAIL_CHARS
    assert truncate(text) == text


def test_truncate_cuts_longer_text_to_exactly_the_limit_with_an_ellipsis():
    out = truncate("y" * (DETAIL_CHARS + 1))
    assert len(out) == DETAIL_CHARS
    assert out == "y" * (DETAIL_CHARS - 3) + "..."


def test_truncate_with_a_custom_limit():
    assert truncate("abcdefghijk", 10) == "abcdefg..."
    assert truncate("abcdefghij", 10) == "abcdefghij"
    assert truncate("", 10) == ""


# ---- outputs_match: floats (tolerance worked by hand) --------------------------------------------


def test_tolerance_constants_are_evalplus():
    assert FLOAT_RTOL == 1e-7
    assert FLOAT_DEFAULT_ATOL == 1e-6


@pytest.mark.parametrize(
    ("out", "exp", "atol", "ok"),
    [
        # atol 0 -> 1e-6 default; at exp = 0 the relative part is 0: tolerance 1e-6
        (9e-7, 0.0, 0.0, True),
        (2e-6, 0.0, 0.0, False),
        (-9e-7, 0.0, 0.0, True),
        # exp = 1e6, atol 0: tolerance 1e-6 + 1e-7 * 1e6 = 0.100001; the relative part decides
        (1e6 + 0.05, 1e6, 0.0, True),
        (1e6 + 0.1, 1e6, 0.0, True),
        (1e6 + 0.11, 1e6, 0.0, False),
        (1e6 - 0.11, 1e6, 0.0, False),
        (-1e6 - 0.05, -1e6, 0.0, True),  # |exp|, so a negative expectation gets the same room
        # 0.05 off an expectation of 0 is far outside 1e-6
        (0.05, 0.0, 0.0, False),
        # a given atol replaces the default: exp 0, atol 0.5 -> tolerance 0.5 exactly
        (0.5, 0.0, 0.5, True),
        (0.6, 0.0, 0.5, False),
        # a given atol smaller than the default is honoured too: 5e-7 passes at 1e-6 but not at 1e-9
        (5e-7, 0.0, 1e-9, False),
        (5e-7, 0.0, 0.0, True),
        # exp 100, atol 1e-3: tolerance 1e-3 + 1e-5 = 0.00101
        (100.001, 100.0, 1e-3, True),
        (100.0011, 100.0, 1e-3, False),
        (-0.0, 0.0, 0.0, True),
    ],
)
def test_floats_match_within_atol_plus_rtol_times_expected(out, exp, atol, ok):
    assert outputs_match(out, exp, atol) is ok


@pytest.mark.parametrize(
    ("out", "exp", "ok"),
    [
        (math.nan, math.nan, True),
        (math.nan, 1.0, False),
        (1.0, math.nan, False),
        (math.inf, math.inf, True),
        (-math.inf, -math.inf, True),
        (math.inf, -math.inf, False),
        (1e308, math.inf, False),
        (math.inf, 1e308, False),
        (math.nan, math.inf, False),
    ],
)
def test_nan_matches_nan_and_infinities_match_only_themselves(out, exp, ok):
    assert outputs_match(out, exp, 0.0) is ok


# ---- outputs_match: types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "exp"),
    [
        (True, 1),
        (1, True),
        (1, 1.0),
        (1.0, 1),
        (False, 0),
        (0.0, False),
        (False, 0.0),
        ("1", 1),
        (b"a", "a"),
        (None, 0),
        (1 + 0j, 1.0),
        ([1], (1,)),
        ((1,), [1]),
        ({1}, frozenset({1})),
        ([True], [1]),
        ({"a": 1}, {"a": 1.0}),
        ({True: "x"}, {1: "x"}),  # dict keys: 1 == True, but the types differ
        ({1.0: "x"}, {1: "x"}),
        ({(1, True): "x"}, {(1, 1): "x"}),
        ({1.0}, {1}),  # set elements too
        (frozenset({True}), frozenset({1})),
        ({frozenset({1.0})}, {frozenset({1})}),
    ],
    ids=repr,
)
def test_bool_int_and_float_never_match_each_other_anywhere(out, exp):
    assert not outputs_match(out, exp, 0.0)


@pytest.mark.parametrize(
    ("out", "exp", "ok"),
    [
        ([1.0, (2.0, {"a": 3.0})], [1.0 + 5e-7, (2.0, {"a": 3.0 + 5e-7})], True),  # tolerance applies inside
        ([1.0, (2.0, {"a": 3.0})], [1.0, (2.0, {"a": 3.1})], False),
        ([1.0, (2.0, {"a": 3.0})], [1.0, [2.0, {"a": 3.0}]], False),  # tuple vs list, nested
        ([1, 2], [1, 2, 3], False),
        ([1, 2, 3], [1, 2], False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": 1, "b": 2}, {"a": 1}, False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),  # dict order does not matter
        ({1, 2}, {2, 1}, True),
        ({(1, 2), frozenset({"a"})}, {frozenset({"a"}), (1, 2)}, True),
        ([[]], [[]], True),
        ("abc", "abc", True),
        ("abc", "abd", False),
        (None, None, True),
        (b"\x00", b"\x00", True),
        (1 + 2j, 1 + 2j, True),
        (10**30, 10**30, True),
        (10**30, 10**30 + 1, False),  # ints are exact, no tolerance
    ],
    ids=repr,
)
def test_containers_compare_element_by_element(out, exp, ok):
    assert outputs_match(out, exp, 0.0) is ok


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True


def test_an_object_with_a_lying_eq_does_not_match_a_builtin_value():
    assert not outputs_match(AlwaysEqual(), 3, 0.0)
    assert not outputs_match([AlwaysEqual()], [3], 0.0)


# ---- poly_root_ok --------------------------------------------------------------------------------

# 1 - 3x + 2x^2 = (1 - x)(1 - 2x): roots 1 and 0.5; at x = 2: 1 - 6 + 8 = 3
COEFFS = [1.0, -3.0, 2.0]


@pytest.mark.parametrize(
    ("root", "atol", "ok"),
    [
        (1, 1e-6, True),
        (1.0, 1e-6, True),
        (0.5, 1e-6, True),
        (2, 1e-6, False),
        (2.0, 3.0, True),  # |3| <= 3
        (2.0, 2.999, False),
        (1.0 + 1e-9, 1e-6, True),  # p'(1) = -3 + 4 = 1: |p(1 + 1e-9)| is about 1e-9
        (True, 1e-6, False),  # a bool is not a number here, though True == 1 is a root
        (math.nan, 1e6, False),
        (math.inf, 1e6, False),
        ("1", 1e6, False),
        (1 + 0j, 1e6, False),
    ],
)
def test_poly_root_ok_accepts_exactly_the_roots_within_atol(root, atol, ok):
    assert poly_root_ok(COEFFS, root, atol) is ok


def test_poly_root_ok_with_an_irrational_root():
    assert poly_root_ok([-2.0, 0.0, 1.0], math.sqrt(2), 1e-6)  # x^2 - 2
    assert not poly_root_ok([-2.0, 0.0, 1.0], 1.41, 1e-6)  # 1.41^2 - 2 = -0.0119


# ---- decide --------------------------------------------------------------------------------------


def total(n: int) -> dict[str, Any]:
    return {"t": "total", "n": n}


def ok(i: int) -> dict[str, Any]:
    return {"t": "unit", "i": i, "ok": True}


def bad(i: int, status: str = "wrong_answer", detail: str = "") -> dict[str, Any]:
    return {"t": "unit", "i": i, "ok": False, "status": status, "detail": detail}


def done(status: str = "passed", detail: str = "") -> dict[str, Any]:
    return {"t": "done", "status": status, "detail": detail}


def test_every_unit_passing_and_signed_off_is_passed():
    assert decide([total(3), ok(0), ok(1), ok(2), done()], deadline_hit=False) == Verdict("passed", 3, 3, "")


def test_a_deadline_hit_after_a_full_sign_off_does_not_change_a_pass():
    assert decide([total(1), ok(0), done()], deadline_hit=True).status == "passed"


def test_zero_tests_never_pass():
    assert decide([total(0), done()], deadline_hit=False).status == "crashed"


def test_no_declared_total_never_passes():
    assert decide([ok(0), done()], deadline_hit=False) == Verdict(
        "crashed", 1, None, "judge reported 1 of None tests"
    )


def test_done_claiming_passed_with_too_few_units_is_crashed():
    verdict = decide([total(3), ok(0), ok(1), done()], deadline_hit=False)
    assert verdict == Verdict("crashed", 2, 3, "judge reported 2 of 3 tests")


def test_done_claiming_passed_with_too_many_units_is_crashed():
    assert decide([total(1), ok(0), ok(1), done()], deadline_hit=False).status == "crashed"


def test_a_missing_done_with_the_deadline_hit_is_timeout():
    verdict = decide([total(3), ok(0), ok(1)], deadline_hit=True)
    assert verdict == Verdict("timeout", 2, 3, "wall-clock deadline exceeded")


def test_a_missing_done_without_the_deadline_is_crashed():
    verdict = decide([total(3), ok(0), ok(1), ok(2)], deadline_hit=False)
    assert verdict == Verdict("crashed", 3, 3, "judge ended without a verdict")


def test_a_missing_done_outranks_a_failed_unit():
    assert decide([total(2), bad(0, "runtime_error")], deadline_hit=True).status == "timeout"
    assert decide([total(2), bad(0, "runtime_error")], deadline_hit=False).status == "crashed"


def test_no_records_at_all_is_crashed():
    assert decide([], deadline_hit=False) == Verdict("crashed", 0, None, "judge ended without a verdict")


def test_the_first_failed_units_status_and_detail_win():
    records = [total(3), ok(0), bad(1, "name_error", "NameError: x"), bad(2, "runtime_error", "boom"), done()]
    assert decide(records, deadline_hit=False) == Verdict("name_error", 1, 3, "NameError: x")


def test_a_failed_unit_wins_over_a_non_passed_done():
    records = [total(2), ok(0), bad(1, "wrong_answer", "AssertionError"), done("runtime_error", "later")]
    assert decide(records, deadline_hit=False) == Verdict("wrong_answer", 1, 2, "AssertionError")


@pytest.mark.parametrize("status", ["syntax_error", "runtime_error", "name_error", "memory_limit", "crashed"])
def test_done_with_a_non_passed_status_gives_that_status(status):
    verdict = decide([total(2), done(status, "why")], deadline_hit=False)
    assert verdict == Verdict(status, 0, 2, "why")


def test_a_failed_unit_without_detail_gives_an_empty_detail():
    records = [total(1), {"t": "unit", "i": 0, "ok": False, "status": "wrong_answer"}, done()]
    assert decide(records, deadline_hit=False) == Verdict("wrong_answer", 0, 1, "")


def test_verdict_is_frozen():
    verdict = Verdict("passed", 1, 1, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.status = "crashed"  # type: ignore[misc]
