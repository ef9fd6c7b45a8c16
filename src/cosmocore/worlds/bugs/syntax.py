"""The syntax_slip mutator: one slip that stops the program compiling: a missing `:` after a compound
statement's header, an unclosed bracket, a bad indent (2 spaces too many or too few), `=` for `==` in
a condition, or `else if` for `elif`. The kind of slip is drawn first, so that frequent sites (brackets)
do not drown the others."""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Callable

from cosmocore.worlds.bugs.program import Bug, Change, Edit, Program, Site, first_valid, is_elif, shuffled, snip

_HEADER_END = re.compile(r"[\s)\\]*:")


def syntax_slip(program: str, entry_point: str, rng: random.Random) -> Bug | None:
    """A slip of one kind, the kind drawn first so that frequent sites (brackets) do not drown the others."""
    p = Program(program, entry_point)
    kinds: dict[str, Callable[[Program], list[Site]]] = {
        "colon": _colon_sites, "bracket": _bracket_sites, "indent": _indent_sites,
        "assign": _assign_sites, "elif": _elif_sites,
    }  # fmt: skip
    for kind in shuffled(list(kinds), rng):
        bug = first_valid(p, kinds[kind](p), rng, "syntax_slip")
        if bug is not None:
            return bug
    return None


def _header_expr(node: ast.AST) -> ast.expr | None:
    """The expression a compound statement's `:` follows."""
    if isinstance(node, ast.If | ast.While):
        return node.test
    if isinstance(node, ast.For | ast.AsyncFor):
        return node.iter
    if isinstance(node, ast.With | ast.AsyncWith):
        last = node.items[-1]
        return last.optional_vars or last.context_expr
    return None


def _colon_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        expr = _header_expr(node)
        found = _HEADER_END.match(p.text, p.end(expr)) if expr is not None else None
        if isinstance(node, ast.stmt) and expr is not None and found is not None:
            colon = found.end() - 1
            what = f"missing `:` after `{snip(p.text[p.start(node) : colon])}` in line {expr.end_lineno}"
            sites.append([Change((Edit(colon, colon + 1, ""),), what)])
    return sites


_CLOSERS: dict[type[ast.AST], str] = {
    ast.Call: ")", ast.Tuple: ")", ast.GeneratorExp: ")", ast.Subscript: "]", ast.List: "]", ast.ListComp: "]",
    ast.Set: "}", ast.SetComp: "}", ast.Dict: "}", ast.DictComp: "}",
}  # fmt: skip
_OPENERS = {")": "(", "]": "[", "}": "{"}


def _bracket_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        closer = _CLOSERS.get(type(node))
        if closer is None or not isinstance(node, ast.expr):
            continue
        text, end = p.segment(node), p.end(node)
        if text.endswith(closer) and (not isinstance(node, ast.Tuple) or text.startswith("(")):
            what = f"unclosed `{_OPENERS[closer]}` in `{snip(text)}` in line {node.lineno}"
            sites.append([Change((Edit(end - 1, end, ""),), what)])
    return sites


def _indent_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        indent = p.indent_before(node) if isinstance(node, ast.stmt) else None
        if isinstance(node, ast.stmt) and indent and "\t" not in indent:
            at = p.start(node)
            site = [Change((Edit(at, at, "  "),), f"bad indent: 2 extra spaces in line {node.lineno}")]
            if len(indent) >= 2:
                site.append(Change((Edit(at - 2, at, ""),), f"bad indent: 2 spaces missing in line {node.lineno}"))
            sites.append(site)
    return sites


def _assign_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        test = node.test if isinstance(node, ast.If | ast.While) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            found = re.compile("==").search(p.text, p.end(test.left), p.start(test.comparators[0]))
            if found:
                what = f"`=` instead of `==` in line {test.lineno}"
                sites.append([Change((Edit(found.start(), found.end(), "="),), what)])
    return sites


def _elif_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if isinstance(node, ast.If) and is_elif(p, node):
            edit = Edit(p.start(node), p.start(node) + len("elif"), "else if")
            sites.append([Change((edit,), f"`else if` instead of `elif` in line {node.lineno}")])
    return sites
