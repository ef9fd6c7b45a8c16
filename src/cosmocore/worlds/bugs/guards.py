"""The missing_null_handling mutator: it removes what protects the code from empty, None, zero or short
input. An early-return guard is dropped; an `if`, a ternary or an `and` / `or` operand that protects an
index, a division or max/min is removed, keeping the branch that does the work; a fallback or default is
dropped: `d.get(k, 0)` -> `d[k]`, `xs or []` -> `xs`, `max(xs, default=0)` -> `max(xs)`."""

from __future__ import annotations

import ast
import io
from collections.abc import Sequence

from cosmocore.worlds.bugs.program import (
    Change,
    Edit,
    Program,
    Site,
    is_call_to,
    is_elif,
    is_empty_literal,
    is_int,
    mentions_none,
    snip,
)

_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def null_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if isinstance(node, ast.If) and _is_guard(node.test) and not is_elif(p, node):
            sites.append(_if_site(p, node))
        elif isinstance(node, ast.IfExp) and _is_guard(node.test):
            sites.append(_ifexp_site(p, node))
        elif isinstance(node, ast.BoolOp):
            sites.extend([*_operand_sites(p, node), _fallback_site(p, node)])
        elif isinstance(node, ast.Call):
            sites.extend([_get_site(p, node), _default_site(p, node)])
    return [site for site in sites if site]


def _is_guard(test: ast.expr) -> bool:
    """A test for empty, None, zero or short input: `not xs`, `xs`, `x is None`, `len(xs) == 0`, `b != 0`,
    `n < 2`, `i < len(xs)`; not a test of the data itself (`x > 0`, `n % k == 0`, `len(a) > len(b)`)."""
    if isinstance(test, ast.BoolOp):
        return all(_is_guard(value) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name | ast.Attribute | ast.Subscript | ast.Call) or _is_guard(test.operand)
    if isinstance(test, ast.Name | ast.Attribute):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        return _is_edge_check(test.left, test.ops[0], test.comparators[0])
    return is_call_to(test, "len")


_SMALL = {ast.Eq: (0, 1), ast.NotEq: (0, 1), ast.Lt: (1, 2), ast.LtE: (0, 1), ast.Gt: (0,), ast.GtE: (1,)}


def _is_edge_check(left: ast.expr, op: ast.cmpop, right: ast.expr) -> bool:
    """`x is None`, `xs == []`, `len(xs) < k`, `i < len(xs)`, `n <= 1`, `b != 0`, `len(xs) > 0`."""
    sides = (left, right)
    if any(isinstance(x, ast.Constant) and x.value is None for x in sides):
        return True
    if any(is_empty_literal(x) and not is_int(x) for x in sides):  # [], "", {}, ()
        return True
    lens = [is_call_to(x, "len") for x in sides]
    if any(lens):
        return not all(lens)
    subject_is_plain = isinstance(left, ast.Name | ast.Attribute | ast.Subscript)
    small = _SMALL.get(type(op), ())
    return subject_is_plain and is_int(right) and isinstance(right, ast.Constant) and right.value in small


def _is_protected(nodes: Sequence[ast.AST]) -> bool:
    """nodes index, divide or take max/min: what fails on empty or zero input."""
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
                return True
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
                if not isinstance(node.right, ast.Constant):
                    return True
            if is_call_to(node, "max", "min"):
                return True
    return False


def _is_trivial_value(node: ast.expr | None) -> bool:
    return node is None or is_empty_literal(node) or isinstance(node, ast.Constant | ast.Name)


def _is_trivial(stmts: list[ast.stmt]) -> bool:
    """A branch that only handles the edge case: `return None`, `return 0`, `continue`, `raise ...`, `x = []`."""
    if len(stmts) != 1:
        return False
    stmt = stmts[0]
    if isinstance(stmt, ast.Return | ast.Assign):
        return _is_trivial_value(stmt.value)
    return isinstance(stmt, ast.Raise | ast.Continue | ast.Break | ast.Pass)


def _if_site(p: Program, node: ast.If) -> Site:
    header = f"`if {snip(p.segment(node.test))}:`"
    if not node.orelse:
        if isinstance(node.body[-1], _EXITS) or (_is_trivial(node.body) and mentions_none(node.test)):
            return _drop(p, node, f"dropped the guard {header}")
        keep = node.body if _is_protected(node.body) else None
    elif len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) and is_elif(p, node.orelse[0]):
        return []
    else:
        keep = _protected_branch(node.body, node.orelse)
    return _unwrap(p, node, keep, f"removed the check {header}, its branch always runs") if keep else []


def _protected_branch(body: list[ast.stmt], orelse: list[ast.stmt]) -> list[ast.stmt] | None:
    """The branch doing the real work when the other only handles the edge case."""
    if _is_trivial(body) != _is_trivial(orelse):
        return orelse if _is_trivial(body) else body
    if _is_protected(body) != _is_protected(orelse):
        return body if _is_protected(body) else orelse
    return None


def _drop(p: Program, node: ast.stmt, description: str) -> Site:
    span = p.own_lines(node)
    if span is None:
        return []
    return [Change((Edit(span[0], span[1], ""),), f"{description} in line {node.lineno}")]


def _unwrap(p: Program, node: ast.If, keep: list[ast.stmt], description: str) -> Site:
    """Replace the `if` by the statements of one of its branches, re-indented to the `if`'s level."""
    span, indent = p.own_lines(node), p.indent_before(node)
    if span is None or indent is None:
        return []
    first, last = keep[0], keep[-1]
    inner = p.indent_before(first)
    if inner is None:  # `if x: return y` on one line
        block = indent + p.text[p.start(first) : p.end(last)] + "\n"
    else:
        lines = io.StringIO(p.text[p.line_start(first.lineno) : p.line_end(last.end_lineno or last.lineno)], "")
        block = "".join(indent + line[len(inner) :] if line.startswith(inner) else line for line in lines)
    if not p.text[span[0] : span[1]].endswith("\n"):
        block = block.rstrip("\n")
    return [Change((Edit(span[0], span[1], block),), f"{description} in line {node.lineno}")]


def _ifexp_site(p: Program, node: ast.IfExp) -> Site:
    body_trivial, orelse_trivial = is_empty_literal(node.body), is_empty_literal(node.orelse)
    if body_trivial == orelse_trivial:
        return []
    keep = node.orelse if body_trivial else node.body
    text = p.segment(keep)
    return [p.change(node, text, f"kept only `{snip(text)}` of a ternary guarded by `{snip(p.segment(node.test))}`")]


def _operand_sites(p: Program, node: ast.BoolOp) -> list[Site]:
    """`xs and xs[0] > 0` -> `xs[0] > 0`: drop a guarding operand that comes before an access."""
    sites: list[Site] = []
    for i, value in enumerate(node.values[:-1]):
        if _is_guard(value) and _is_protected(node.values[i + 1 :]):
            edit = Edit(p.start(value), p.start(node.values[i + 1]), "")
            what = f"dropped the guard `{snip(p.segment(value))}` of a condition in line {value.lineno}"
            sites.append([Change((edit,), what)])
    return sites


def _fallback_site(p: Program, node: ast.BoolOp) -> Site:
    """`xs or []` -> `xs`."""
    *_, before, last = node.values
    if not (isinstance(node.op, ast.Or) and is_empty_literal(last)):
        return []
    edit = Edit(p.end(before), p.end(last), "")
    return [Change((edit,), f"dropped the fallback `or {p.segment(last)}` in line {last.lineno}")]


def _get_site(p: Program, call: ast.Call) -> Site:
    """`counts.get(key, 0)` -> `counts[key]`."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(call.args) <= 2) or call.keywords:
        return []
    if (isinstance(func.value, ast.Name) and func.value.id in p.modules) or isinstance(call.args[0], ast.Starred):
        return []
    text = f"{p.segment(func.value)}[{p.segment(call.args[0])}]"
    return [p.change(call, text, f"indexed with `{snip(text)}` instead of `.get` with a default")]


def _default_site(p: Program, call: ast.Call) -> Site:
    """`max(xs, default=0)` -> `max(xs)`; `next(it, None)` -> `next(it)`."""
    if is_call_to(call, "next") and len(call.args) == 2:
        before: ast.expr | ast.keyword = call.args[0]
        dropped: ast.expr | ast.keyword = call.args[1]
    else:
        named = [i for i, k in enumerate(call.keywords) if k.arg == "default"]
        if not (is_call_to(call, "max", "min") and named and (call.args or named[0] > 0)):
            return []
        i = named[0]
        before, dropped = (call.keywords[i - 1] if i else call.args[-1]), call.keywords[i]
    edit = Edit(p.end(before), p.end(dropped), "")
    return [Change((edit,), f"dropped the default of `{snip(p.segment(call))}` in line {call.lineno}")]
