"""Small semantic mutations of a reference solution, for checking that wrong code is judged wrong.

Each mutation changes one node inside the entry-point function: a flipped comparison, an integer
constant off by one, a return value replaced by None. (The full bug-injection catalogue of the
Mini-World issue builds on richer, categorised mutators; this is the benchmark's minimal set.)
"""

from __future__ import annotations

import ast
from collections.abc import Callable

_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
}


def _flip_comparison(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare) and type(node.ops[0]) in _FLIP:
        node.ops[0] = _FLIP[type(node.ops[0])]()
        return True
    return False


def _off_by_one(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        node.value += 1
        return True
    return False


def _return_none(node: ast.AST) -> bool:
    if isinstance(node, ast.Return) and node.value is not None:
        node.value = ast.Constant(None)
        return True
    return False


MUTATIONS: dict[str, Callable[[ast.AST], bool]] = {
    "flipped_comparison": _flip_comparison,
    "off_by_one": _off_by_one,
    "return_none": _return_none,
}


def mutate(program: str, entry_point: str, mutation: str) -> str | None:
    """`program` with the first applicable `mutation` inside `entry_point`, or None if none applies."""
    tree = ast.parse(program)
    target = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)
    if target is None:
        return None
    apply = MUTATIONS[mutation]
    for node in ast.walk(target):
        if node is not target and apply(node):
            return ast.unparse(tree)
    return None
