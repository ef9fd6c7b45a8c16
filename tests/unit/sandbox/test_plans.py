"""Test plans without a sandbox: how `prepare` counts tests, and what executing a plan records.

The candidate is played in-process by `FakeRemote`: a `Remote` whose `send`/`receive` answer from
Python functions the way `cosmocore.sandbox.candidate.serve` would (same reply shapes), so the real
`call`, `call_encoded` and `raise_for` run, values still cross `codec`, and a real `Recorder` keeps
the records the verdict is decided from.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from cosmocore import codec
from cosmocore.sandbox import candidate
from cosmocore.sandbox.judge import Recorder, Remote, judge
from cosmocore.sandbox.judge import TestFailure as Failure  # not `Test*`: pytest would try to collect it
from cosmocore.sandbox.plans import prepare
from cosmocore.sandbox.verdict import decide
from cosmocore.types import AssertTests, CheckFunctionTests, IOTests, UnittestTests


class FakeRemote(Remote):
    """A candidate answering in-process from `functions`; `calls` lists the names asked for, in order."""

    def __init__(
        self, functions: dict[str, Callable[..., Any]], unittest_frames: Sequence[dict[str, Any]] = ()
    ) -> None:
        super().__init__(sock=-1, out=-1, pid=0, reap=lambda pid: 0)  # no I/O: send/receive are replaced
        self.functions = functions
        self.unittest_frames = list(unittest_frames)
        self.calls: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self._replies: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["op"] == "load":
            self._replies.append({"ok": True})
        elif message["op"] == "call":
            self._replies.append(self._call(message["name"], message["args"], message["kwargs"]))
        else:
            self._replies.extend(self.unittest_frames)

    def receive(self) -> dict[str, Any]:
        return self._replies.pop(0)

    def _call(self, name: str, args: str, kwargs: str) -> dict[str, Any]:
        self.calls.append(name)
        try:  # exactly what the real candidate process answers
            return candidate._call(self.functions, name, args, kwargs)
        except Exception as err:
            return candidate.describe(err)


def execute(tests: Any, functions: dict[str, Callable[..., Any]], record: bool = False,
            unittest_frames: Sequence[dict[str, Any]] = ()) -> tuple[list[dict[str, Any]], FakeRemote]:
    remote = FakeRemote(functions, unittest_frames)
    rec = Recorder()
    prepare(tests, record).execute(rec, remote)
    return rec.records, remote


def outcomes(records: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(index, "ok" or the failure status) per unit record, in order."""
    return [(r["i"], "ok" if r["ok"] else r["status"]) for r in records if r["t"] == "unit"]


def check_tests(body: str, entry_point: str = "f", setup_code: str = "") -> CheckFunctionTests:
    code = "def check(candidate):\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    return CheckFunctionTests(test_code=code, entry_point=entry_point, setup_code=setup_code)


def enc(*args: Any) -> str:
    return codec.encode(list(args))


# ---- counting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "total"),
    [
        ("assert candidate(1) == 1\nassert candidate(2) == 2\nassert candidate(3) == 3", 3),
        ("for x in range(10):\n    assert candidate(x) == x", 1),  # a loop of asserts is one test
        ("for x in range(3):\n    assert candidate(x) == x\nassert candidate(9) == 9", 2),
        # statements without an assert are not tests
        ("xs = [1, 2]\nprint(xs)\nassert candidate(1) == 1\nassert candidate(2) == 2", 2),
        ("if True:\n    assert candidate(1) == 1\n    assert candidate(2) == 2", 1),  # nested: counted once
        ("with open('/dev/null'):\n    assert candidate(1) == 1", 1),
        ("candidate(1)", 1),  # no asserts at all: one test, it returns or it raises
        ("pass", 1),
    ],
)
def test_check_function_counts_one_test_per_top_level_statement_holding_an_assert(body, total):
    assert prepare(check_tests(body)).total == total


@pytest.mark.parametrize("n", [0, 1, 3])
def test_asserts_count_one_test_per_string(n):
    asserts = tuple(f"assert f({i}) == {i}" for i in range(n))
    assert prepare(AssertTests(asserts=asserts)).total == n


def test_io_counts_one_test_per_input():
    inputs = tuple(enc(i) for i in range(4))
    tests = IOTests(entry_point="f", inputs=inputs, expected=tuple(codec.encode(i) for i in range(4)))
    assert prepare(tests).total == 4


def test_io_without_expected_outputs_needs_record_mode():
    tests = IOTests(entry_point="f", inputs=(enc(1), enc(2)))
    assert prepare(tests, record=True).total == 2
    with pytest.raises(Failure) as info:
        prepare(tests)
    assert info.value.status == "crashed"


def test_io_with_fewer_expected_outputs_than_inputs_is_refused():
    tests = IOTests(entry_point="f", inputs=(enc(1), enc(2)), expected=(codec.encode(1),))
    with pytest.raises(Failure):
        prepare(tests)


UNITTEST_CODE = """
import unittest

class Helper(unittest.TestCase):
    def test_not_ours(self):
        pass

class TestCases(unittest.TestCase):
    def setUp(self):
        pass

    def helper(self):
        pass

    def test_a(self):
        self.assertEqual(task_func(1), 1)

    def test_b(self):
        self.assertEqual(task_func(2), 2)

    def test_c(self):
        pass
"""


def test_unittest_counts_the_test_methods_of_the_named_class_only():
    assert prepare(UnittestTests(test_code=UNITTEST_CODE)).total == 3
    assert prepare(UnittestTests(test_code=UNITTEST_CODE, class_name="Helper")).total == 1


def test_check_function_without_check_is_refused_as_crashed():
    with pytest.raises(Failure) as info:
        prepare(
            CheckFunctionTests(test_code="def test(candidate):\n    assert candidate(1)\n", entry_point="f")
        )
    assert info.value.status == "crashed"


def test_unittest_without_the_named_class_is_refused_as_crashed():
    with pytest.raises(Failure) as info:
        prepare(UnittestTests(test_code="import unittest\nclass Other(unittest.TestCase):\n    pass\n"))
    assert info.value.status == "crashed"


@pytest.mark.parametrize(
    "tests",
    [
        CheckFunctionTests(test_code="def check(candidate):\n    assert (\n", entry_point="f"),
        AssertTests(asserts=("assert f(1) ==",)),
        UnittestTests(test_code="class TestCases(:\n"),
        IOTests(entry_point="f", inputs=(enc(1),), expected=("not json",)),  # expected decodes in prepare
    ],
    ids=["check", "asserts", "unittest", "io"],
)
def test_malformed_tests_raise_only_errors_the_fork_server_turns_into_crashed(tests):
    with pytest.raises((Failure, SyntaxError, ValueError)):  # what forkserver catches around prepare()
        prepare(tests)


# ---- HumanEval check(candidate) ------------------------------------------------------------------


def test_check_records_each_assert_and_keeps_going_after_a_failure():
    tests = check_tests("assert candidate(1) == 2\nassert candidate(2) == 99\nassert candidate(3) == 4")
    records, remote = execute(tests, {"f": lambda x: x + 1})
    assert outcomes(records) == [(0, "ok"), (1, "wrong_answer"), (2, "ok")]
    assert remote.calls == ["f", "f", "f"]  # the third assert ran after the second failed
    assert records[1]["detail"].startswith("AssertionError")


def test_check_with_every_assert_passing_records_every_unit_ok():
    tests = check_tests("assert candidate(1) == 2\nassert candidate(5) == 6")
    records, _ = execute(tests, {"f": lambda x: x + 1})
    assert outcomes(records) == [(0, "ok"), (1, "ok")]


def test_check_records_a_candidate_exception_with_its_classified_status():
    def f(x: int) -> int:
        if x == 2:
            raise ValueError("no twos")
        return x

    tests = check_tests("assert candidate(1) == 1\nassert candidate(2) == 2\nassert candidate(3) == 3")
    records, _ = execute(tests, {"f": f})
    assert outcomes(records) == [(0, "ok"), (1, "runtime_error"), (2, "ok")]
    assert records[1]["detail"] == "ValueError: no twos"


def test_check_records_a_missing_candidate_function_as_name_error():
    records, _ = execute(check_tests("assert candidate(1) == 1"), {"g": lambda x: x})
    assert outcomes(records) == [(0, "name_error")]


def test_a_failing_statement_outside_the_asserts_fails_the_tests_that_did_not_run():
    def f(x: int) -> int:
        if x == 0:
            raise ZeroDivisionError("x == 0")
        return x

    body = "assert candidate(1) == 1\ny = candidate(0)\nassert y == 0\nassert candidate(2) == 2"
    records, remote = execute(check_tests(body), {"f": f})
    assert outcomes(records) == [(0, "ok"), (1, "runtime_error"), (2, "runtime_error")]
    assert remote.calls == ["f", "f"]  # check() stopped at the failing statement


def test_a_check_without_asserts_is_one_test_that_passes_when_it_returns():
    records, _ = execute(check_tests("candidate(1)"), {"f": lambda x: x})
    assert outcomes(records) == [(0, "ok")]


def test_a_check_without_asserts_is_one_test_that_fails_when_it_raises():
    tests = check_tests("if candidate(1) != 2:\n    raise ValueError('wrong')")
    records, _ = execute(tests, {"f": lambda x: x})
    assert outcomes(records) == [(0, "wrong_answer")]  # the test's own exception: a wrong answer


def test_prompt_helpers_used_by_the_tests_are_the_datasets_not_the_candidates():
    setup = "def double(x):\n    return 2 * x\n"
    tests = check_tests("assert candidate(double(1)) == 3", setup_code=setup)
    records, remote = execute(tests, {"f": lambda x: x + 1, "double": lambda x: 0})
    assert outcomes(records) == [(0, "ok")]
    assert remote.calls == ["f"]


def test_tests_naming_the_entry_point_directly_call_the_candidate_not_the_prompt_stub():
    setup = 'def inc(x):\n    """Add one."""\n'  # the prompt: a stub that returns None
    tests = check_tests("assert inc(1) == 2", entry_point="inc", setup_code=setup)
    records, remote = execute(tests, {"inc": lambda x: x + 1})
    assert outcomes(records) == [(0, "ok")]
    assert remote.calls == ["inc"]


def test_the_judge_decides_wrong_answer_with_the_passed_count_from_the_records():
    tests = check_tests("assert candidate(1) == 2\nassert candidate(2) == 99\nassert candidate(3) == 4")
    remote, rec = FakeRemote({"f": lambda x: x + 1}), Recorder()
    judge("def f(x):\n    return x + 1\n", prepare(tests), rec, remote)
    verdict = decide(rec.records, deadline_hit=False)
    assert (verdict.status, verdict.tests_passed, verdict.tests_total) == ("wrong_answer", 2, 3)


def test_the_judge_decides_passed_only_after_every_test_passed():
    tests = check_tests("assert candidate(1) == 2\nassert candidate(3) == 4")
    remote, rec = FakeRemote({"f": lambda x: x + 1}), Recorder()
    judge("def f(x):\n    return x + 1\n", prepare(tests), rec, remote)
    assert decide(rec.records, deadline_hit=False).status == "passed"


# ---- EvalPlus inputs and expected outputs --------------------------------------------------------


def io_tests(pairs: Sequence[tuple[Any, Any]], atol: float = 0.0) -> IOTests:
    return IOTests(entry_point="f", inputs=tuple(enc(a) for a, _ in pairs),
                   expected=tuple(codec.encode(e) for _, e in pairs), atol=atol)


def test_io_compares_with_exact_types_so_a_float_never_passes_for_an_int():
    records, _ = execute(io_tests([(1, 1), (2, 2)]), {"f": lambda x: float(x) if x == 1 else x})
    assert outcomes(records) == [(0, "wrong_answer"), (1, "ok")]
    assert records[0]["detail"] == "input #0: got 1.0"


def test_io_compares_with_exact_types_so_a_bool_never_passes_for_an_int():
    records, _ = execute(io_tests([(1, 1)]), {"f": lambda x: True})
    assert outcomes(records) == [(0, "wrong_answer")]


@pytest.mark.parametrize(
    ("returned", "atol", "ok"),
    [
        (2.0 + 5e-7, 0.0, True),  # tolerance 1e-6 + 1e-7 * 2 = 1.2e-6
        (2.0 + 1e-5, 0.0, False),
        (2.0 + 1e-5, 1e-4, True),  # tolerance 1e-4 + 2e-7
        (2.0 - 2e-4, 1e-4, False),
    ],
)
def test_io_compares_floats_within_tolerance(returned, atol, ok):
    records, _ = execute(io_tests([(1, 2.0)], atol=atol), {"f": lambda x: returned})
    assert outcomes(records) == [(0, "ok" if ok else "wrong_answer")]


def test_io_passes_nested_arguments_and_compares_nested_results():
    records, _ = execute(io_tests([(((1, 2), {"k": [3]}), {"sum": 6.0})]),
                         {"f": lambda pair: {"sum": float(sum(pair[0]) + pair[1]["k"][0])}})
    assert outcomes(records) == [(0, "ok")]


def test_io_records_a_non_plain_return_value_as_wrong_answer():
    records, _ = execute(io_tests([(1, 1)]), {"f": lambda x: object()})
    assert outcomes(records) == [(0, "wrong_answer")]


def test_io_keeps_going_after_a_failing_input():
    def f(x: int) -> int:
        if x == 1:
            raise IndexError("list index out of range")
        return x

    records, remote = execute(io_tests([(0, 0), (1, 1), (2, 2)]), {"f": f})
    assert outcomes(records) == [(0, "ok"), (1, "runtime_error"), (2, "ok")]
    assert remote.calls == ["f", "f", "f"]


def test_io_record_mode_returns_the_encoded_outputs_without_judging():
    tests = IOTests(entry_point="f", inputs=(enc(1), enc(2)))
    records, _ = execute(tests, {"f": lambda x: (x, float(x))}, record=True)
    assert outcomes(records) == [(0, "ok"), (1, "ok")]
    assert [codec.decode(r["value"]) for r in records] == [(1, 1.0), (2, 2.0)]


def test_io_poly_root_oracle_accepts_any_root_within_atol():
    # x^2 - 2: sqrt(2) is a root, 1.5 gives 0.25
    tests = IOTests(entry_point="find_zero", inputs=(enc([-2.0, 0.0, 1.0]), enc([-2.0, 0.0, 1.0])),
                    expected=(codec.encode(0.0), codec.encode(0.0)), atol=1e-6, oracle="poly_root")
    answers = iter([math.sqrt(2), 1.5])
    records, _ = execute(tests, {"find_zero": lambda coeffs: next(answers)})
    assert outcomes(records) == [(0, "ok"), (1, "wrong_answer")]


# ---- MBPP asserts --------------------------------------------------------------------------------


def test_asserts_bind_stdlib_module_names_by_import_not_from_the_candidate():
    records, remote = execute(AssertTests(asserts=("assert math.isclose(f(1), 1.0)",)), {"f": lambda x: 1.0})
    assert outcomes(records) == [(0, "ok")]
    assert remote.calls == ["f"]  # `math` was imported in the judge, never asked of the candidate


def test_asserts_each_record_their_own_result_and_later_ones_still_run():
    asserts = ("assert f(1) == 2", "assert f(2) == 99", "assert f(3) == 4")
    records, remote = execute(AssertTests(asserts=asserts), {"f": lambda x: x + 1})
    assert outcomes(records) == [(0, "ok"), (1, "wrong_answer"), (2, "ok")]
    assert remote.calls == ["f", "f", "f"]


def test_asserts_use_names_from_the_setup_code_before_asking_the_candidate():
    tests = AssertTests(asserts=("assert f(sqrt(4)) == 3.0",), setup_code="from math import sqrt")
    records, remote = execute(tests, {"f": lambda x: x + 1, "sqrt": lambda x: -1})
    assert outcomes(records) == [(0, "ok")]
    assert remote.calls == ["f"]


def test_asserts_call_every_non_stdlib_name_on_the_candidate():
    functions = {"f": lambda x: x + 1, "g": lambda x: 2 * x}
    records, remote = execute(AssertTests(asserts=("assert g(f(1)) == 4",)), functions)
    assert outcomes(records) == [(0, "ok")]
    assert remote.calls == ["f", "g"]


def test_asserts_record_a_hallucinated_function_as_name_error():
    records, _ = execute(AssertTests(asserts=("assert f(1) == 1",)), {})
    assert outcomes(records) == [(0, "name_error")]


def test_asserts_compare_the_decoded_value_so_a_lying_eq_cannot_pass():
    class Liar:
        def __eq__(self, other: object) -> bool:
            return True

    records, _ = execute(AssertTests(asserts=("assert f(1) == 2",)), {"f": lambda x: Liar()})
    assert outcomes(records) == [(0, "wrong_answer")]  # not plain data: refused before any comparison


# ---- BigCodeBench unittest -----------------------------------------------------------------------


def test_unittest_records_each_reported_test_and_crashes_the_unreported():
    frames = [
        {"test": "test_a", "ok": True},
        {"test": "test_b", "ok": False, "exc_type": "AssertionError", "message": "1 != 2"},
        {"test": "test_not_ours", "ok": True},  # not in TestCases: ignored
        {"test": "test_a", "ok": False, "exc_type": "AssertionError", "message": "again"},  # twice: ignored
        {"ok": True, "done": True},
    ]
    records, remote = execute(UnittestTests(test_code=UNITTEST_CODE), {}, unittest_frames=frames)
    assert outcomes(records) == [(0, "ok"), (1, "wrong_answer"), (2, "crashed")]
    assert remote.sent == [{"op": "unittest", "test_code": UNITTEST_CODE, "class_name": "TestCases"}]


def test_unittest_classifies_errors_and_counts_a_skip_as_a_failure():
    frames = [
        {"test": "test_a", "ok": False, "exc_type": "ModuleNotFoundError", "message": "No module named 'x'"},
        {"test": "test_b", "ok": False, "exc_type": "SkipTest", "message": "skipped"},
        {"test": "test_c", "ok": "yes"},  # only a literal True is a pass
        {"ok": True, "done": True},
    ]
    records, _ = execute(UnittestTests(test_code=UNITTEST_CODE), {}, unittest_frames=frames)
    assert outcomes(records) == [(0, "name_error"), (1, "runtime_error"), (2, "runtime_error")]


def test_unittest_raises_the_final_frames_failure():
    frames = [{"ok": False, "exc_type": "ImportError", "message": "cannot import name 'x'"}]
    with pytest.raises(Failure) as info:
        execute(UnittestTests(test_code=UNITTEST_CODE), {}, unittest_frames=frames)
    assert info.value.status == "name_error"


EXPECTED_TABLE = {"columns": [["id", "bigint"], ["x", "double"]], "rows": [[1, 0.5], [2, None]]}


class SparkReplies(Remote):
    """A Spark candidate answering `collect` with a fixed reply (what `candidate._collect` would send)."""

    def __init__(self, collect_reply: dict[str, Any]) -> None:
        super().__init__(sock=-1, out=-1, pid=0, reap=lambda pid: 0)
        self.reply, self.sent = collect_reply, []  # type: ignore[var-annotated]

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def receive(self) -> dict[str, Any]:
        return {"ok": True} if self.sent[-1]["op"] in ("load", "spark") else self.reply


def _spark_verdict(reply: dict[str, Any], ordered: bool = False):  # type: ignore[no-untyped-def]
    from cosmocore.types import SparkTests

    tests = SparkTests(tables=codec.encode({}), expected=codec.encode(EXPECTED_TABLE), ordered=ordered)
    plan, rec, remote = prepare(tests), Recorder(), SparkReplies(reply)
    judge("result = 1", plan, rec, remote, {**(plan.prelude or {}), "port": 1, "secret": "s"})
    return decide(rec.records, deadline_hit=False), remote


def _table_reply(rows: list[list[Any]], columns: list[list[str]] = EXPECTED_TABLE["columns"]) -> dict[str, Any]:
    return {"ok": True, "table": codec.encode({"columns": columns, "rows": rows})}


def test_a_spark_plan_attaches_before_loading_then_judges_columns_and_rows():
    verdict, remote = _spark_verdict(_table_reply([[2, None], [1, 0.5 + 1e-9]]))
    assert (verdict.status, verdict.tests_passed, verdict.tests_total) == ("passed", 2, 2)
    assert [m["op"] for m in remote.sent] == ["spark", "load", "collect"]


def test_a_spark_result_with_the_right_columns_and_wrong_rows_passes_one_test_of_two():
    verdict, _ = _spark_verdict(_table_reply([[1, 0.5]]))
    assert (verdict.status, verdict.tests_passed) == ("wrong_answer", 1)
    assert "result rows" in verdict.detail


def test_a_spark_result_with_wrong_columns_fails_both_tests():
    verdict, _ = _spark_verdict(_table_reply([[1, "0.5"], [2, None]], [["id", "bigint"], ["x", "string"]]))
    assert (verdict.status, verdict.tests_passed) == ("wrong_answer", 0)
    assert "column 'x' is string, expected double" in verdict.detail


@pytest.mark.parametrize("reply", [
    {"ok": True, "not_frame": "int"},
    {"ok": True, "table": codec.encode([1, 2])},
    {"ok": True, "table": codec.encode({"columns": [["id"]], "rows": []})},
    {"ok": True, "table": codec.encode({"columns": [], "rows": [1]})},
    {"ok": True, "table": "{not codec"},
])
def test_a_malformed_or_missing_result_table_is_a_wrong_answer(reply):
    verdict, _ = _spark_verdict(reply)
    assert verdict.status == "wrong_answer"


def test_a_failed_spark_attach_is_the_executors_fault_not_the_programs():
    class NoSpark(SparkReplies):
        def receive(self) -> dict[str, Any]:
            return {"ok": False, "exc_type": "Py4JNetworkError", "message": "refused"}

    from cosmocore.types import SparkTests

    tests = SparkTests(tables=codec.encode({}), expected=codec.encode(EXPECTED_TABLE))
    rec = Recorder()
    judge("result = 1", prepare(tests), rec, NoSpark({}), {"op": "spark", "port": 1, "secret": "s", "tables": ""})
    verdict = decide(rec.records, deadline_hit=False)
    assert verdict.status == "crashed" and verdict.detail.startswith("spark executor: ")


def test_spark_tests_cannot_be_recorded():
    from cosmocore.types import SparkTests

    with pytest.raises(Failure, match="cannot record SparkTests"):
        prepare(SparkTests(tables="{}", expected="{}"), record=True)
