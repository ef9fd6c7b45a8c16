"""Mutators of numbers, comparisons and aggregates. off_by_one: an integer +-1 where a bound or a count
lives, or `+ 1` / `- 1` on a `range` stop or a slice bound; flipped_comparison: a comparison operator
replaced by a wrong one (`<` -> `>=`, `in` -> `not in`, `is` -> `is not`); wrong_aggregation: sum <-> max /
min / len, max <-> min, any <-> all, and an augmented assignment `x += y` turned into `x = y`."""

from __future__ import annotations

import ast
import re

from cosmocore.worlds.bugs.program import Change, Edit, Program, Site, is_call_to, is_int, is_numeral, snip


# ---------------------------------------------------------------- off_by_one


def off_by_one_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if is_int(node) and _is_boundary(p, node):
            sites.append(_int_site(p, node))
        elif is_call_to(node, "range") and isinstance(node, ast.Call) and 0 < len(node.args) <= 3:
            stop = node.args[0] if len(node.args) == 1 else node.args[1]
            sites.append(_bound_site(p, stop, "`range` stop"))
        elif isinstance(node, ast.Slice):
            sites.extend(_bound_site(p, bound, "slice bound") for bound in (node.lower, node.upper) if bound)
    return [site for site in sites if site]


def _is_boundary(p: Program, node: ast.AST) -> bool:
    """An int where a count or a bound lives: compared, indexed or sliced with, added, a `range` or
    `enumerate` argument, a variable's first value; not a dict value, a modulus or a rounding digit."""
    parent = p.parent(node)
    while isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub | ast.UAdd):
        node, parent = parent, p.parent(parent)
    if isinstance(parent, ast.Slice):
        return parent.step is not node  # `[::-1]` -> `[::-2]` is no off-by-one
    if isinstance(parent, ast.Compare | ast.Assign):
        return True
    if isinstance(parent, ast.Subscript):
        return parent.slice is node
    if isinstance(parent, ast.BinOp):
        return isinstance(parent.op, ast.Add | ast.Sub)
    return is_call_to(parent, "range", "enumerate") if parent is not None else False


def _int_site(p: Program, node: ast.AST) -> Site:
    assert isinstance(node, ast.Constant) and isinstance(node.value, int)
    old = p.segment(node)
    return [p.change(node, str(node.value + d), f"changed `{old}` to `{node.value + d}`") for d in (1, -1)]


_TIGHT = (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant)  # need no parentheses before `+ 1`
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)


def _bound_site(p: Program, bound: ast.expr, what: str) -> Site:
    offset = isinstance(bound, ast.BinOp) and isinstance(bound.op, ast.Add | ast.Sub) and is_numeral(bound.right)
    if is_numeral(bound) or offset:  # `3`, `n - 1`: the constant is a site of its own
        return []
    text = p.segment(bound)
    tight = isinstance(bound, _TIGHT) or (isinstance(bound, ast.BinOp) and isinstance(bound.op, _ARITHMETIC))
    base = text if tight else f"({text})"
    return [
        p.change(bound, f"{base} {sign} 1", f"{what} `{snip(text)}` changed to `{snip(base)} {sign} 1`")
        for sign in "+-"
    ]


# ---------------------------------------------------------------- flipped_comparison

_COMPARISON_TEXT = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}  # fmt: skip
_FLIPS = {
    "<": ("<=", ">", ">="), "<=": ("<", ">", ">="), ">": (">=", "<", "<="), ">=": (">", "<", "<="),
    "==": ("!=",), "!=": ("==",), "in": ("not in",), "not in": ("in",), "is": ("is not",), "is not": ("is",),
}  # fmt: skip
_COMPARISON_TOKEN = re.compile(r"<=|>=|==|!=|<|>|\bnot\s+in\b|\bis\s+not\b|\bin\b|\bis\b")


def flip_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            sites.extend(_flip_site(p, op, operands[i], operands[i + 1]) for i, op in enumerate(node.ops))
    return [site for site in sites if site]


def _flip_site(p: Program, op: ast.cmpop, left: ast.expr, right: ast.expr) -> Site:
    start, end = p.end(left), p.start(right)
    found = _COMPARISON_TOKEN.search(p.text, start, end)
    old = _COMPARISON_TEXT[type(op)]
    if found is None or " ".join(found.group().split()) != old:
        return []
    line = left.end_lineno or left.lineno
    return [
        Change((Edit(found.start(), found.end(), new),), f"flipped `{old}` to `{new}` in line {line}")
        for new in dict.fromkeys(_FLIPS[old])
    ]


# ---------------------------------------------------------------- wrong_aggregation

_AGGREGATES = {"sum": ("max", "min", "len"), "max": ("min", "sum"), "min": ("max", "sum"), "len": ("sum",)}
_QUANTIFIERS = {"any": ("all",), "all": ("any",)}
_AUGMENTED = re.compile(r"(\*\*|//|>>|<<|[-+*/%@&|^])=")


def aggregation_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in p.visible(functions):
            sites.append(_aggregate_site(p, node, node.func))
        elif isinstance(node, ast.AugAssign):
            sites.append(_overwrite_site(p, node))
    return [site for site in sites if site]


def _aggregate_site(p: Program, call: ast.Call, func: ast.Name) -> Site:
    simple = len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred)
    if func.id in _QUANTIFIERS and simple:
        others: tuple[str, ...] = _QUANTIFIERS[func.id]
    elif func.id in _AGGREGATES:
        others = _AGGREGATES[func.id] if simple else {"max": ("min",), "min": ("max",)}.get(func.id, ())
    else:
        return []
    return [p.change(func, other, f"replaced `{func.id}(` with `{other}(`") for other in others]


def _overwrite_site(p: Program, node: ast.AugAssign) -> Site:
    found = _AUGMENTED.search(p.text, p.end(node.target), p.start(node.value))
    if found is None:
        return []
    edit = Edit(found.start(), found.end(), "=")
    return [Change((edit,), f"replaced `{found.group()}` with `=` in line {node.lineno}")]
