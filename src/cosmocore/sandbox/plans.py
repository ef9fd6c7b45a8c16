"""Test plans: a problem's tests, parsed and compiled once in the fork server, run in each judge.

`prepare(tests, record)` does everything that depends only on the (trusted) tests: parsing,
instrumenting HumanEval's `check`, compiling, decoding expected values. The fork server caches
plans, so the many samples of one problem pay for it once, and each judge, forked with the plan
already in memory, only executes it against its candidate.

Counting: one test per top-level statement of `check` that contains an `assert` (HumanEval), per
assert (MBPP), per input (EvalPlus), per `test*` method (unittest); two for a Spark pipeline (the
result's columns, then its rows).
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from cosmocore import codec
from cosmocore.sandbox.judge import Opaque, Recorder, Remote, RemoteFunction, TestFailure
from cosmocore.sandbox.verdict import classify_exception, outputs_match, poly_root_ok, truncate
from cosmocore.tables import columns_reason, malformed_reason, rows_reason
from cosmocore.types import AssertTests, CheckFunctionTests, IOTests, SparkTests, Tests, UnittestTests

Execute = Callable[[Recorder, Remote], None]


@dataclass(frozen=True)
class Plan:
    total: int  # tests the problem defines
    execute: Execute  # runs them in the judge, recording each
    spark: bool = False  # needs the worker's Spark executor: the candidate attaches before the program loads
    prelude: dict[str, Any] | None = None  # request that sets up the candidate's namespace before the program loads


def _failure(err: BaseException, source: str = "") -> TestFailure:
    """A failed test's record; `source` (the test's first line) says which assert failed."""
    if isinstance(err, TestFailure):
        return err
    where = f" in `{source}`" if source else ""
    if isinstance(err, AssertionError):
        return TestFailure("wrong_answer", truncate(f"AssertionError{where}: {err}"))
    return TestFailure("wrong_answer", truncate(f"test raised {type(err).__name__}{where}: {err}"))


def _first_line(source: str | None) -> str:
    return (source or "").strip().splitlines()[0] if (source or "").strip() else ""


def _run_units(rec: Recorder, units: list[Callable[[], str | None]], sources: list[str]) -> None:
    for i, unit in enumerate(units):
        try:
            value = unit()
        except Exception as err:
            rec.unit(i, _failure(err, sources[i]))
        else:
            rec.unit(i, None, value)


# ---- HumanEval: check(candidate) -----------------------------------------------------------------


def _has_assert(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def _wrap_unit(stmt: ast.stmt, i: int) -> ast.stmt:
    """try: <stmt> / except Exception as e: report(i, e) / else: report(i, None)."""

    def report(arg: ast.expr) -> list[ast.stmt]:
        call = ast.Call(ast.Name("__cosmocore_unit__", ast.Load()), [ast.Constant(i), arg], [])
        return [ast.Expr(call)]

    handler = ast.ExceptHandler(ast.Name("Exception", ast.Load()), "__cosmocore_err__",
                                report(ast.Name("__cosmocore_err__", ast.Load())))
    return ast.Try([stmt], [handler], report(ast.Constant(None)), [])


def _instrument_check(test_code: str) -> tuple[ast.Module, list[str]]:
    """`check` with each top-level statement holding an assert wrapped as a test; the tests' first lines."""
    tree = ast.parse(test_code)
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if check is None:
        raise TestFailure("crashed", "test code defines no check(candidate)")
    sources: list[str] = []
    for j, stmt in enumerate(check.body):
        if _has_assert(stmt):
            sources.append(_first_line(ast.get_source_segment(test_code, stmt)))
            check.body[j] = _wrap_unit(stmt, len(sources) - 1)
    return ast.fix_missing_locations(tree), sources


def _check_function_plan(tests: CheckFunctionTests) -> Plan:
    tree, sources = _instrument_check(tests.test_code)
    setup, code = compile(tests.setup_code, "<prompt>", "exec"), compile(tree, "<tests>", "exec")
    total = max(len(sources), 1)  # a check() without top-level asserts is one test: it returns or it raises

    def execute(rec: Recorder, remote: Remote) -> None:
        reported: dict[int, TestFailure | None] = {}

        def report(i: int, err: BaseException | None) -> None:
            reported.setdefault(i, None if err is None else _failure(err, sources[i]))

        candidate = RemoteFunction(remote, tests.entry_point)
        ns: dict[str, Any] = {"__name__": "__judge__", "__cosmocore_unit__": report}
        exec(setup, ns)  # the reference: its helpers are the dataset's own, not the candidate's
        ns[tests.entry_point] = candidate  # tests that name the function itself mean the candidate's
        exec(code, ns)
        try:
            ns["check"](candidate)
            aborted = None
        except Exception as err:  # a statement outside the asserts failed: the rest did not run
            aborted = _failure(err)
        for i in range(total):
            rec.unit(i, reported[i] if i in reported else aborted)

    return Plan(total, execute)


# ---- MBPP: assert statements ---------------------------------------------------------------------


def _free_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bind_names(ns: dict[str, Any], names: set[str], program_names: set[str], remote: Remote) -> None:
    """Names the asserts use: the program's go to the candidate, stdlib modules are imported here.

    Without a declared list, every name that is not set up, a builtin or a stdlib module is the program's.
    """
    for name in sorted(names - ns.keys()):
        if name in program_names or (not program_names and not hasattr(builtins, name)
                                     and name not in sys.stdlib_module_names):
            ns[name] = RemoteFunction(remote, name)
        elif name in sys.stdlib_module_names:
            ns[name] = __import__(name)


def _assert_plan(tests: AssertTests) -> Plan:
    setup = compile(tests.setup_code, "<setup>", "exec")
    trees = [ast.parse(src) for src in tests.asserts]
    names = set().union(*(_free_names(t) for t in trees))
    codes = [compile(t, "<assert>", "exec") for t in trees]
    sources = [_first_line(a) for a in tests.asserts]

    def execute(rec: Recorder, remote: Remote) -> None:
        ns: dict[str, Any] = {"__name__": "__judge__"}
        exec(setup, ns)
        _bind_names(ns, names, set(tests.program_names), remote)
        _run_units(rec, [_exec_unit(code, ns) for code in codes], sources)

    return Plan(len(codes), execute)


def _exec_unit(code: CodeType, ns: dict[str, Any]) -> Callable[[], None]:
    return lambda: exec(code, ns)


# ---- EvalPlus: inputs and reference outputs ------------------------------------------------------


def _io_plan(tests: IOTests, record: bool) -> Plan:
    if not record and (tests.expected is None or len(tests.expected) != len(tests.inputs)):
        raise TestFailure("crashed", "IO tests have no expected outputs (run the reference first)")
    expected = [codec.decode(e) for e in tests.expected] if tests.expected and not record else []
    first_args = [codec.decode(i)[0] for i in tests.inputs] if tests.oracle == "poly_root" else []

    def judge_output(i: int, out: Any) -> None:
        ok = (poly_root_ok(first_args[i], out, tests.atol) if tests.oracle == "poly_root"
              else outputs_match(out, expected[i], tests.atol))
        if not ok:
            shown = repr(out) if isinstance(out, Opaque) else codec.encode(out)
            raise TestFailure("wrong_answer", truncate(f"input #{i}: got {shown}"))

    def unit(remote: Remote, i: int) -> Callable[[], str | None]:
        def run() -> str | None:
            out = remote.call_encoded(tests.entry_point, tests.inputs[i])
            if record:
                if isinstance(out, Opaque):
                    raise TestFailure("crashed", f"reference returned {out!r} for input #{i}")
                return codec.encode(out)
            judge_output(i, out)
            return None

        return run

    def execute(rec: Recorder, remote: Remote) -> None:
        _run_units(rec, [unit(remote, i) for i in range(len(tests.inputs))], [""] * len(tests.inputs))

    return Plan(len(tests.inputs), execute)


# ---- BigCodeBench: unittest in the candidate's process -------------------------------------------


def _test_names(tests: UnittestTests) -> list[str]:
    tree = ast.parse(tests.test_code)
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == tests.class_name), None)
    if cls is None:
        raise TestFailure("crashed", f"test code defines no class {tests.class_name}")
    names = [n.name for n in cls.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    return list(dict.fromkeys(names))  # a method defined twice is one test (the later definition)


def _unittest_failure(frame: dict[str, Any]) -> TestFailure:
    exc_type, message = str(frame.get("exc_type")), str(frame.get("message"))
    status = "runtime_error" if exc_type == "SkipTest" else classify_exception(exc_type, message)
    return TestFailure(status, f"{frame.get('test')}: {exc_type}: {message}")


def _unittest_plan(tests: UnittestTests) -> Plan:
    names = _test_names(tests)
    index = {name: i for i, name in enumerate(names)}

    def execute(rec: Recorder, remote: Remote) -> None:
        remote.send({"op": "unittest", "test_code": tests.test_code, "class_name": tests.class_name})
        seen: set[int] = set()
        while "test" in (frame := remote.receive()):
            i = index.get(str(frame["test"]))
            if i is None or i in seen:
                continue  # not a test this file defines, or reported twice: ignored
            seen.add(i)
            rec.unit(i, None if frame.get("ok") is True else _unittest_failure(frame))
        remote.raise_for(frame)
        for i in sorted(set(range(len(names))) - seen):
            rec.unit(i, TestFailure("crashed", f"{names[i]}: never reported"))

    return Plan(len(names), execute)


# ---- Mini-World spark: the DataFrame bound to `result` -------------------------------------------


def _collected_table(reply: dict[str, Any]) -> dict[str, Any]:
    """The candidate's collected table, checked for shape (it is untrusted data)."""
    if "not_frame" in reply:
        raise TestFailure("wrong_answer", f"`result` is a {reply['not_frame']}, not a DataFrame")
    try:
        table = codec.decode(str(reply["table"]))
    except (codec.CodecError, KeyError) as err:
        raise TestFailure("wrong_answer", f"undecodable result table: {err}") from err
    reason = malformed_reason(table)
    if reason:
        raise TestFailure("wrong_answer", f"result table: {reason}")
    if "unencodable" in reply:
        table["rows"] = None
    return dict(table)


def _spark_plan(tests: SparkTests) -> Plan:
    expected = codec.decode(tests.expected)
    sources = ["result columns (names and types, in order)", "result rows"]

    def check_rows(table: dict[str, Any]) -> str | None:
        if table["rows"] is None:
            return "the result holds values that are not plain (e.g. Decimal or date)"
        return rows_reason(table, expected, tests.ordered, tests.atol)

    def execute(rec: Recorder, remote: Remote) -> None:
        reply = remote.request({"op": "collect", "name": "result"})
        remote.raise_for(reply)
        table = _collected_table(reply)
        columns = columns_reason(table, expected)
        rows = f"not judged: {columns}" if columns else check_rows(table)
        for i, reason in enumerate((columns, rows)):
            rec.unit(i, None if reason is None else TestFailure("wrong_answer", f"{sources[i]}: {reason}"))

    return Plan(len(sources), execute, spark=True, prelude={"op": "spark", "tables": tests.tables})


def prepare(tests: Tests, record: bool = False) -> Plan:
    """Parse and compile `tests` (trusted) into a plan; raises TestFailure if they are malformed."""
    if isinstance(tests, CheckFunctionTests):
        return _check_function_plan(tests)
    if isinstance(tests, AssertTests):
        return _assert_plan(tests)
    if isinstance(tests, IOTests):
        return _io_plan(tests, record)
    if isinstance(tests, UnittestTests):
        return _unittest_plan(tests)
    if isinstance(tests, SparkTests) and not record:
        return _spark_plan(tests)
    raise TestFailure("crashed", f"this sandbox cannot {'record' if record else 'judge'} {type(tests).__name__}")
