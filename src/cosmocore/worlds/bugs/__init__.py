"""Bug injection for Python programs: mutators that turn a correct reference into a realistic buggy one.

The paper's "embarrassment injection". A mutator makes one small change of one category to a reference
program (a whole module: imports, maybe helpers, and the entry-point function), the kind of slip a code
model makes; the mutants build noisy warm-start corpora and give "bug recurrence" its categories.

    category               the change (at one site, drawn at random among the sites that apply)
    off_by_one             an integer +-1 where a bound or a count lives (compared, indexed or sliced with, added,
                           a `range` / `enumerate` argument, a first value), or `+ 1` / `- 1` on a `range` stop
                           or a slice bound
    flipped_comparison     `<` `<=` `>` `>=` `==` `!=` replaced by a wrong one; `in` <-> `not in`; `is` <-> `is not`
    wrong_aggregation      sum <-> max / min / len, max <-> min, any <-> all, `x += y` -> `x = y` (any `op=`)
    missing_null_handling  an early-return guard for empty / None / zero / short input dropped; the `if`, the
                           ternary or the `and` / `or` operand that protects an index, a division or max/min
                           removed; `d.get(k, 0)` -> `d[k]`, `xs or []` -> `xs`, `max(xs, default=0)` -> `max(xs)`
    wrong_variable         a variable read replaced by another variable of the same function (or an enclosing one)
    hallucinated_api       a method, builtin, module or module attribute that does not exist, as a model
                           invents it: `.append` -> `.push`, `sorted` -> `sort`, `.lower()` -> `.lowercase()`,
                           `len` -> `length`, `import collections` -> `import collection`, `math.ceil` -> `math.ceiling`
    syntax_slip            the program no longer compiles: a missing `:`, an unclosed bracket, a bad indent,
                           `=` for `==` in a condition, `else if` for `elif`
    wrong_return           return another variable (an intermediate or an input argument), the flipped bool, or nothing

`MUTATORS[category](program, entry_point, rng)` returns a `Bug` or None when the category does not apply
to the program; `inject(program, entry_point, rng, categories)` returns at most one bug per applicable
category. The PySpark categories (faulty join: wrong key or join type; wrong column) come with the
miniworld-spark world.

How: the program is parsed with `ast` and the sites are collected in the body of the entry-point function
(after its docstring) and of the functions nested in it; never in a docstring or other bare string, a
signature, an annotation, module-level code (the prompt's imports and helpers) or inside an f-string
(whose node positions are unreliable before Python 3.12). So for a HumanEval-form program the prompt
(everything up to the end of the entry point's docstring) is a prefix of every mutant, and the rest is
its completion. The edit is made in the source text at the node's position, so every other character
(docstring, comments, formatting) is kept. The sites are tried in an order drawn from the rng until one
gives a valid mutant, so every mutator is pure and deterministic for the rng's state; `inject` draws one
number from the rng and gives each category its own generator, so a category's bug does not depend on
which other categories are asked for.

Guarantees: a mutant always differs from the original; every mutant compiles except a syntax_slip,
which never does (checked with `compile`; nothing is ever executed here).
Limits: a mutant may be equivalent, i.e. still pass the task's tests (an off-by-one on a bound that no
test reaches, a swapped variable holding the same value, a dropped guard the rest of the code does not
need). This module cannot tell: the caller runs every mutant through the sandbox and drops those that
pass. Names are judged by syntax only: an invented function is no builtin, an invented method exists on
no common type that has the real one (`list.add` is invented though `set.add` is not), and neither is
defined in the program; but a receiver's type is not known, so a rare invented method may exist on it.
The categories' shares differ by program style: on the 164 HumanEval canonical programs
missing_null_handling applies to about one in five, most others to 57-100% (see tests/unit/worlds).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from cosmocore.errors import InputError
from cosmocore.worlds.bugs.guards import null_sites
from cosmocore.worlds.bugs.names import api_sites, variable_sites
from cosmocore.worlds.bugs.numbers import aggregation_sites, flip_sites, off_by_one_sites
from cosmocore.worlds.bugs.program import Bug, Mutator, site_mutator
from cosmocore.worlds.bugs.returns import return_sites
from cosmocore.worlds.bugs.syntax import syntax_slip

__all__ = ["CATEGORIES", "MUTATORS", "Bug", "Mutator", "inject"]

CATEGORIES: tuple[str, ...] = (
    "off_by_one",
    "flipped_comparison",
    "wrong_aggregation",
    "missing_null_handling",
    "wrong_variable",
    "hallucinated_api",
    "syntax_slip",
    "wrong_return",
)


MUTATORS: dict[str, Mutator] = {
    "off_by_one": site_mutator("off_by_one", off_by_one_sites),
    "flipped_comparison": site_mutator("flipped_comparison", flip_sites),
    "wrong_aggregation": site_mutator("wrong_aggregation", aggregation_sites),
    "missing_null_handling": site_mutator("missing_null_handling", null_sites),
    "wrong_variable": site_mutator("wrong_variable", variable_sites),
    "hallucinated_api": site_mutator("hallucinated_api", api_sites),
    "syntax_slip": syntax_slip,
    "wrong_return": site_mutator("wrong_return", return_sites),
}
assert tuple(MUTATORS) == CATEGORIES


def inject(program: str, entry_point: str, rng: random.Random, categories: Sequence[str] | None = None) -> list[Bug]:
    """At most one bug per category (all of CATEGORIES by default) that applies to the program, in the
    order asked. Draws one number from rng; each category then gets its own generator seeded from it."""
    chosen = _check_categories(categories)
    base = rng.getrandbits(64)
    bugs = [MUTATORS[category](program, entry_point, random.Random(f"{base}:{category}")) for category in chosen]
    return [bug for bug in bugs if bug is not None]


def _check_categories(categories: Sequence[str] | None) -> list[str]:
    if categories is None:
        return list(CATEGORIES)
    names = [categories] if isinstance(categories, str) else list(categories)
    unknown = [name for name in names if name not in MUTATORS]
    if unknown:
        raise InputError(f"unknown bug category {unknown[0]!r}; choose from: {', '.join(CATEGORIES)}")
    return list(dict.fromkeys(names))
