"""The wrong_return mutator: a `return` whose value is replaced by another visible variable (an
intermediate or an input argument), a returned bool flipped, or the value dropped (`return`). Returns
that mention None are left alone."""

from __future__ import annotations

import ast

from cosmocore.worlds.bugs.program import Program, Site, mentions_none, snip


def return_sites(p: Program) -> list[Site]:
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Return) and node.value is not None and not mentions_none(node.value):
            sites.append(_return_site(p, node, node.value, p.visible(functions)))
    return [site for site in sites if site]


def _return_site(p: Program, node: ast.Return, value: ast.expr, names: list[str]) -> Site:
    old = p.segment(value)
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return [p.change(value, str(not value.value), f"returns `{not value.value}` instead of `{old}`")]
    changes = [p.change(value, name, f"returns `{name}` instead of `{snip(old)}`") for name in names if name != old]
    changes.append(p.change(node, "return", f"returns nothing instead of `{snip(old)}`"))
    return changes
