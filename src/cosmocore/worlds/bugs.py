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

import ast
import io
import random
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cosmocore.errors import InputError

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


@dataclass(frozen=True)
class Bug:
    category: str  # one of CATEGORIES
    program: str  # the whole mutated program
    description: str  # one line, e.g. "flipped `<` to `>=` in line 7"


Mutator = Callable[[str, str, random.Random], Bug | None]  # (program, entry_point, rng) -> bug or None

FuncDef = ast.FunctionDef | ast.AsyncFunctionDef
Located = ast.expr | ast.stmt  # nodes with a (end_)lineno and (end_)col_offset
Positioned = Located | ast.alias | ast.keyword
T = TypeVar("T")


# ---------------------------------------------------------------- the program, positions and edits


@dataclass(frozen=True)
class _Edit:
    start: int  # character offsets into the program text
    end: int
    text: str


@dataclass(frozen=True)
class _Change:
    """One way to mutate one site."""

    edits: tuple[_Edit, ...]
    description: str


Site = list[_Change]  # the alternative changes at one site


class _Program:
    """A parsed reference: its text, tree and entry-point function, and character offsets of nodes."""

    def __init__(self, text: str, entry_point: str) -> None:
        self.text = text
        try:
            self.tree = ast.parse(text)
        except (SyntaxError, ValueError) as err:
            raise InputError(f"the reference program does not parse: {err}") from err
        self.entry = _find_function(self.tree, entry_point)
        self._lines = io.StringIO(text, newline="").readlines()  # the parser's own line breaks: \n, \r\n, \r
        self._starts = [0]
        for line in self._lines:
            self._starts.append(self._starts[-1] + len(line))
        self.defined = _defined_names(self.tree)
        self.modules = _module_names(self.tree)
        self._scopes = {id(func): _local_names(func) for func, _ in _functions(self.entry)}
        self._parents = {id(child): node for node in ast.walk(self.entry) for child in ast.iter_child_nodes(node)}

    def offset(self, lineno: int, col: int) -> int:
        """The character offset of (lineno, col), col counted in UTF-8 bytes as `ast` does."""
        line = self._lines[lineno - 1] if lineno <= len(self._lines) else ""
        return self._starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def start(self, node: Positioned) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: Positioned) -> int:
        return self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)

    def segment(self, node: Positioned) -> str:
        return self.text[self.start(node) : self.end(node)]

    def line_start(self, lineno: int) -> int:
        return self._starts[lineno - 1]

    def line_end(self, lineno: int) -> int:
        return self._starts[min(lineno, len(self._lines))]

    def indent_before(self, node: Located) -> str | None:
        """The text between the start of node's line and node, when it is only whitespace."""
        prefix = self.text[self.line_start(node.lineno) : self.start(node)]
        return None if prefix.strip() else prefix

    def own_lines(self, node: ast.stmt) -> tuple[int, int] | None:
        """The span of the full lines `node` occupies, or None when it shares a line with other code."""
        last = node.end_lineno or node.lineno
        rest = self.text[self.end(node) : self.line_end(last)].strip()
        if self.indent_before(node) is None or (rest and not rest.startswith("#")):
            return None
        return self.line_start(node.lineno), self.line_end(last)

    def walk(self) -> Iterator[tuple[ast.AST, tuple[FuncDef, ...]]]:
        """The nodes of the entry point's body (and of functions nested in it), each with its enclosing functions."""
        for stmt in _body(self.entry):
            yield from _visit(stmt, (self.entry,))

    def visible(self, functions: tuple[FuncDef, ...]) -> list[str]:
        """The local variables of the innermost function, then those of the enclosing ones (ordered, distinct)."""
        names = [name for func in reversed(functions) for name in self._scopes[id(func)]]
        return list(dict.fromkeys(names))

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self._parents.get(id(node))

    def change(self, node: Located, text: str, description: str) -> _Change:
        """Replace node's text."""
        return _Change((_Edit(self.start(node), self.end(node), text),), f"{description} in line {node.lineno}")


def _find_function(tree: ast.Module, entry_point: str) -> FuncDef:
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == entry_point:
            return stmt
    raise InputError(f"the reference program defines no top-level function {entry_point!r}")


def _body(entry: FuncDef) -> list[ast.stmt]:
    """The entry point's statements after its docstring: the first bare string, even when code precedes it
    (HumanEval/115 imports before the docstring, and all of that is the prompt)."""
    strings = [i for i, stmt in enumerate(entry.body) if _is_bare_string(stmt)]
    return entry.body[strings[0] + 1 :] if strings else entry.body


def _is_bare_string(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _children(node: ast.AST) -> list[ast.AST]:
    """The children worth mutating: not decorators, signatures, annotations or f-string parts."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return list(node.body)
    if isinstance(node, ast.JoinedStr):
        return []
    if isinstance(node, ast.AnnAssign):  # a local variable's annotation is never evaluated
        return [node.target] + ([node.value] if node.value else [])
    return list(ast.iter_child_nodes(node))


def _visit(node: ast.AST, functions: tuple[FuncDef, ...]) -> Iterator[tuple[ast.AST, tuple[FuncDef, ...]]]:
    if _is_bare_string(node):  # documentation, wherever it stands
        return
    yield node, functions
    inner = (*functions, node) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else functions
    for child in _children(node):
        yield from _visit(child, inner)


def _functions(entry: FuncDef) -> Iterator[tuple[FuncDef, tuple[FuncDef, ...]]]:
    yield entry, ()
    for node, functions in _visit(entry, ()):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node is not entry:
            yield node, functions


def _local_names(func: FuncDef) -> list[str]:
    """func's arguments, then the names it binds (not those of nested functions or comprehensions)."""
    args = func.args
    every = [*args.posonlyargs, *args.args, *([args.vararg] if args.vararg else []), *args.kwonlyargs]
    names = [a.arg for a in every] + ([args.kwarg.arg] if args.kwarg else [])
    pending: list[ast.AST] = list(func.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        if not isinstance(node, _NEW_SCOPES):
            pending[:0] = list(ast.iter_child_nodes(node))
    return list(dict.fromkeys(names))


_NEW_SCOPES = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
)  # fmt: skip


def _defined_names(tree: ast.Module) -> frozenset[str]:
    """Every name the program binds or reads anywhere, so an invented name never collides with one."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.arg):
            names.append(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.alias):
            names.extend([node.asname or node.name.split(".")[0], node.name.split(".")[-1]])
    return frozenset(names)


def _module_names(tree: ast.Module) -> frozenset[str]:
    """The names `import m` / `import m as n` bind anywhere in the program."""
    names = [
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    return frozenset(names)


def _apply(text: str, edits: Sequence[_Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def _compiles(text: str) -> bool:
    with warnings.catch_warnings():  # a slip may also draw a SyntaxWarning ("invalid decimal literal")
        warnings.simplefilter("ignore")
        try:
            compile(text, "<mutant>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
    return True


def _snip(text: str, limit: int = 40) -> str:
    """text on one line, at most `limit` characters, for a description."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _shuffled(items: Sequence[T], rng: random.Random) -> list[T]:
    return rng.sample(list(items), len(items))


def _first_valid(program: _Program, sites: Sequence[Site], rng: random.Random, category: str) -> Bug | None:
    """The first change, in an order drawn from rng, that alters the program and compiles (or, for a
    syntax_slip, does not)."""
    must_compile = category != "syntax_slip"
    for site in _shuffled(sites, rng):
        for change in _shuffled(site, rng):
            mutant = _apply(program.text, change.edits)
            if mutant != program.text and _compiles(mutant) == must_compile:
                return Bug(category, mutant, change.description)
    return None


# ---------------------------------------------------------------- small predicates


def _is_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _is_numeral(node: ast.AST) -> bool:
    """An int literal, maybe signed: `3`, `-1`."""
    signed = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd)
    return _is_int(node.operand if isinstance(node, ast.UnaryOp) and signed else node)


def _is_call_to(node: ast.AST, *names: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def _is_empty_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in (None, 0, 1, "", b"") and not isinstance(node.value, bool)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return not node.elts
    return isinstance(node, ast.Dict) and not node.keys


# ---------------------------------------------------------------- off_by_one


def _off_by_one_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if _is_int(node) and _is_boundary(p, node):
            sites.append(_int_site(p, node))
        elif _is_call_to(node, "range") and isinstance(node, ast.Call) and 0 < len(node.args) <= 3:
            stop = node.args[0] if len(node.args) == 1 else node.args[1]
            sites.append(_bound_site(p, stop, "`range` stop"))
        elif isinstance(node, ast.Slice):
            sites.extend(_bound_site(p, bound, "slice bound") for bound in (node.lower, node.upper) if bound)
    return [site for site in sites if site]


def _is_boundary(p: _Program, node: ast.AST) -> bool:
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
    return _is_call_to(parent, "range", "enumerate") if parent is not None else False


def _int_site(p: _Program, node: ast.AST) -> Site:
    assert isinstance(node, ast.Constant) and isinstance(node.value, int)
    old = p.segment(node)
    return [p.change(node, str(node.value + d), f"changed `{old}` to `{node.value + d}`") for d in (1, -1)]


_TIGHT = (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant)  # need no parentheses before `+ 1`
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)


def _bound_site(p: _Program, bound: ast.expr, what: str) -> Site:
    offset = isinstance(bound, ast.BinOp) and isinstance(bound.op, ast.Add | ast.Sub) and _is_numeral(bound.right)
    if _is_numeral(bound) or offset:  # `3`, `n - 1`: the constant is a site of its own
        return []
    text = p.segment(bound)
    tight = isinstance(bound, _TIGHT) or (isinstance(bound, ast.BinOp) and isinstance(bound.op, _ARITHMETIC))
    base = text if tight else f"({text})"
    return [
        p.change(bound, f"{base} {sign} 1", f"{what} `{_snip(text)}` changed to `{_snip(base)} {sign} 1`")
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


def _flip_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            sites.extend(_flip_site(p, op, operands[i], operands[i + 1]) for i, op in enumerate(node.ops))
    return [site for site in sites if site]


def _flip_site(p: _Program, op: ast.cmpop, left: ast.expr, right: ast.expr) -> Site:
    start, end = p.end(left), p.start(right)
    found = _COMPARISON_TOKEN.search(p.text, start, end)
    old = _COMPARISON_TEXT[type(op)]
    if found is None or " ".join(found.group().split()) != old:
        return []
    line = left.end_lineno or left.lineno
    return [
        _Change((_Edit(found.start(), found.end(), new),), f"flipped `{old}` to `{new}` in line {line}")
        for new in dict.fromkeys(_FLIPS[old])
    ]


# ---------------------------------------------------------------- wrong_aggregation

_AGGREGATES = {"sum": ("max", "min", "len"), "max": ("min", "sum"), "min": ("max", "sum"), "len": ("sum",)}
_QUANTIFIERS = {"any": ("all",), "all": ("any",)}
_AUGMENTED = re.compile(r"(\*\*|//|>>|<<|[-+*/%@&|^])=")


def _aggregation_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in p.visible(functions):
            sites.append(_aggregate_site(p, node, node.func))
        elif isinstance(node, ast.AugAssign):
            sites.append(_overwrite_site(p, node))
    return [site for site in sites if site]


def _aggregate_site(p: _Program, call: ast.Call, func: ast.Name) -> Site:
    simple = len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred)
    if func.id in _QUANTIFIERS and simple:
        others: tuple[str, ...] = _QUANTIFIERS[func.id]
    elif func.id in _AGGREGATES:
        others = _AGGREGATES[func.id] if simple else {"max": ("min",), "min": ("max",)}.get(func.id, ())
    else:
        return []
    return [p.change(func, other, f"replaced `{func.id}(` with `{other}(`") for other in others]


def _overwrite_site(p: _Program, node: ast.AugAssign) -> Site:
    found = _AUGMENTED.search(p.text, p.end(node.target), p.start(node.value))
    if found is None:
        return []
    edit = _Edit(found.start(), found.end(), "=")
    return [_Change((edit,), f"replaced `{found.group()}` with `=` in line {node.lineno}")]


# ---------------------------------------------------------------- missing_null_handling

_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def _null_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if isinstance(node, ast.If) and _is_guard(node.test) and not _is_elif(p, node):
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
    return _is_call_to(test, "len")


_SMALL = {ast.Eq: (0, 1), ast.NotEq: (0, 1), ast.Lt: (1, 2), ast.LtE: (0, 1), ast.Gt: (0,), ast.GtE: (1,)}


def _is_edge_check(left: ast.expr, op: ast.cmpop, right: ast.expr) -> bool:
    """`x is None`, `xs == []`, `len(xs) < k`, `i < len(xs)`, `n <= 1`, `b != 0`, `len(xs) > 0`."""
    sides = (left, right)
    if any(isinstance(x, ast.Constant) and x.value is None for x in sides):
        return True
    if any(_is_empty_literal(x) and not _is_int(x) for x in sides):  # [], "", {}, ()
        return True
    lens = [_is_call_to(x, "len") for x in sides]
    if any(lens):
        return not all(lens)
    subject_is_plain = isinstance(left, ast.Name | ast.Attribute | ast.Subscript)
    small = _SMALL.get(type(op), ())
    return subject_is_plain and _is_int(right) and isinstance(right, ast.Constant) and right.value in small


def _is_protected(nodes: Sequence[ast.AST]) -> bool:
    """nodes index, divide or take max/min: what fails on empty or zero input."""
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
                return True
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
                if not isinstance(node.right, ast.Constant):
                    return True
            if _is_call_to(node, "max", "min"):
                return True
    return False


def _is_trivial_value(node: ast.expr | None) -> bool:
    return node is None or _is_empty_literal(node) or isinstance(node, ast.Constant | ast.Name)


def _is_trivial(stmts: list[ast.stmt]) -> bool:
    """A branch that only handles the edge case: `return None`, `return 0`, `continue`, `raise ...`, `x = []`."""
    if len(stmts) != 1:
        return False
    stmt = stmts[0]
    if isinstance(stmt, ast.Return | ast.Assign):
        return _is_trivial_value(stmt.value)
    return isinstance(stmt, ast.Raise | ast.Continue | ast.Break | ast.Pass)


def _is_elif(p: _Program, node: ast.If) -> bool:
    return p.text.startswith("elif", p.start(node))


def _if_site(p: _Program, node: ast.If) -> Site:
    header = f"`if {_snip(p.segment(node.test))}:`"
    if not node.orelse:
        if isinstance(node.body[-1], _EXITS) or (_is_trivial(node.body) and _mentions_none(node.test)):
            return _drop(p, node, f"dropped the guard {header}")
        keep = node.body if _is_protected(node.body) else None
    elif len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) and _is_elif(p, node.orelse[0]):
        return []
    else:
        keep = _protected_branch(node.body, node.orelse)
    return _unwrap(p, node, keep, f"removed the check {header}, its branch always runs") if keep else []


def _mentions_none(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Constant) and n.value is None for n in ast.walk(test))


def _protected_branch(body: list[ast.stmt], orelse: list[ast.stmt]) -> list[ast.stmt] | None:
    """The branch doing the real work when the other only handles the edge case."""
    if _is_trivial(body) != _is_trivial(orelse):
        return orelse if _is_trivial(body) else body
    if _is_protected(body) != _is_protected(orelse):
        return body if _is_protected(body) else orelse
    return None


def _drop(p: _Program, node: ast.stmt, description: str) -> Site:
    span = p.own_lines(node)
    if span is None:
        return []
    return [_Change((_Edit(span[0], span[1], ""),), f"{description} in line {node.lineno}")]


def _unwrap(p: _Program, node: ast.If, keep: list[ast.stmt], description: str) -> Site:
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
    return [_Change((_Edit(span[0], span[1], block),), f"{description} in line {node.lineno}")]


def _ifexp_site(p: _Program, node: ast.IfExp) -> Site:
    body_trivial, orelse_trivial = _is_empty_literal(node.body), _is_empty_literal(node.orelse)
    if body_trivial == orelse_trivial:
        return []
    keep = node.orelse if body_trivial else node.body
    text = p.segment(keep)
    return [p.change(node, text, f"kept only `{_snip(text)}` of a ternary guarded by `{_snip(p.segment(node.test))}`")]


def _operand_sites(p: _Program, node: ast.BoolOp) -> list[Site]:
    """`xs and xs[0] > 0` -> `xs[0] > 0`: drop a guarding operand that comes before an access."""
    sites: list[Site] = []
    for i, value in enumerate(node.values[:-1]):
        if _is_guard(value) and _is_protected(node.values[i + 1 :]):
            edit = _Edit(p.start(value), p.start(node.values[i + 1]), "")
            what = f"dropped the guard `{_snip(p.segment(value))}` of a condition in line {value.lineno}"
            sites.append([_Change((edit,), what)])
    return sites


def _fallback_site(p: _Program, node: ast.BoolOp) -> Site:
    """`xs or []` -> `xs`."""
    *_, before, last = node.values
    if not (isinstance(node.op, ast.Or) and _is_empty_literal(last)):
        return []
    edit = _Edit(p.end(before), p.end(last), "")
    return [_Change((edit,), f"dropped the fallback `or {p.segment(last)}` in line {last.lineno}")]


def _get_site(p: _Program, call: ast.Call) -> Site:
    """`counts.get(key, 0)` -> `counts[key]`."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "get" and 1 <= len(call.args) <= 2) or call.keywords:
        return []
    if (isinstance(func.value, ast.Name) and func.value.id in p.modules) or isinstance(call.args[0], ast.Starred):
        return []
    text = f"{p.segment(func.value)}[{p.segment(call.args[0])}]"
    return [p.change(call, text, f"indexed with `{_snip(text)}` instead of `.get` with a default")]


def _default_site(p: _Program, call: ast.Call) -> Site:
    """`max(xs, default=0)` -> `max(xs)`; `next(it, None)` -> `next(it)`."""
    if _is_call_to(call, "next") and len(call.args) == 2:
        before: ast.expr | ast.keyword = call.args[0]
        dropped: ast.expr | ast.keyword = call.args[1]
    else:
        named = [i for i, k in enumerate(call.keywords) if k.arg == "default"]
        if not (_is_call_to(call, "max", "min") and named and (call.args or named[0] > 0)):
            return []
        i = named[0]
        before, dropped = (call.keywords[i - 1] if i else call.args[-1]), call.keywords[i]
    edit = _Edit(p.end(before), p.end(dropped), "")
    return [_Change((edit,), f"dropped the default of `{_snip(p.segment(call))}` in line {call.lineno}")]


# ---------------------------------------------------------------- wrong_variable


def _variable_sites(p: _Program) -> list[Site]:
    called = {id(node.func) for node, _ in p.walk() if isinstance(node, ast.Call)}
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) not in called:
            names = p.visible(functions)
            if node.id in names:
                others = [name for name in names if name != node.id]
                sites.append([p.change(node, other, f"used `{other}` instead of `{node.id}`") for other in others])
    return [site for site in sites if site]


# ---------------------------------------------------------------- hallucinated_api

_METHODS: dict[str, tuple[str, ...]] = {  # real method -> names a model invents for it
    "append": ("push", "add"), "extend": ("push_all", "append_all"), "add": ("append", "push"),
    "insert": ("insert_at",), "pop": ("pop_back", "remove_last"), "remove": ("delete",), "sort": ("sorted",),
    "reverse": ("reversed",), "copy": ("clone",), "index": ("index_of", "find_index"), "count": ("count_of",),
    "lower": ("lowercase", "to_lower"), "upper": ("uppercase", "to_upper"), "strip": ("trim",),
    "lstrip": ("trim_start", "ltrim"), "rstrip": ("trim_end", "rtrim"), "startswith": ("starts_with",),
    "endswith": ("ends_with",), "split": ("split_by",), "splitlines": ("lines",), "join": ("join_with", "concat"),
    "replace": ("replace_all",), "find": ("index_of", "indexOf"), "isdigit": ("is_digit", "isnumber"),
    "isalpha": ("is_alpha", "isletter"), "isalnum": ("is_alnum",), "isupper": ("is_upper",),
    "islower": ("is_lower",), "isspace": ("is_space", "iswhitespace"), "isnumeric": ("is_numeric",),
    "isdecimal": ("is_decimal",), "swapcase": ("swap_case",), "capitalize": ("capitalise",),
    "title": ("to_title",), "zfill": ("pad_left",), "ljust": ("pad_right",), "rjust": ("pad_left",),
    "center": ("centre",), "format": ("formatted",), "items": ("iteritems", "entries"), "keys": ("iterkeys",),
    "values": ("itervalues",), "get": ("get_or_default", "getOrDefault"), "setdefault": ("set_default",),
    "update": ("merge",), "union": ("merge",), "intersection": ("intersect",), "difference": ("minus",),
    "issubset": ("is_subset",), "most_common": ("most_frequent",), "appendleft": ("push_front",),
    "popleft": ("pop_front",),
}  # fmt: skip
_MODULE_ATTRS: dict[str, tuple[str, ...]] = {  # real module attribute -> invented ones
    "sqrt": ("square_root",), "isqrt": ("int_sqrt",), "floor": ("floor_div",), "ceil": ("ceiling",),
    "gcd": ("greatest_common_divisor",), "lcm": ("least_common_multiple",), "factorial": ("fact",),
    "log": ("ln",), "pi": ("PI",), "inf": ("infinity",), "prod": ("product",), "fabs": ("absolute",),
    "Counter": ("Count", "Counts"), "defaultdict": ("default_dict",), "OrderedDict": ("SortedDict",),
    "deque": ("Deque",), "permutations": ("permutate",), "combinations": ("combos",), "chain": ("concat",),
    "accumulate": ("running",), "groupby": ("group_by",), "reduce": ("fold",), "cmp_to_key": ("key_from_cmp",),
    "heappush": ("push",), "heappop": ("pop",), "heapify": ("make_heap",), "sub": ("replace",),
    "findall": ("find_all",), "split": ("split_by",), "ascii_lowercase": ("lowercase",),
    "ascii_uppercase": ("uppercase",), "ascii_letters": ("letters",), "punctuation": ("punctuations",),
    "md5": ("md5sum",), "bisect_left": ("lower_bound",), "bisect_right": ("upper_bound",),
}  # fmt: skip
_BUILTINS: dict[str, tuple[str, ...]] = {  # real builtin -> invented ones
    "len": ("length", "size"), "sorted": ("sort",), "reversed": ("reverse",), "enumerate": ("enumerated",),
    "sum": ("total",), "max": ("maximum",), "min": ("minimum",), "abs": ("absolute",), "range": ("xrange",),
    "zip": ("izip", "zip_longest"), "map": ("imap",), "filter": ("ifilter",), "str": ("string",),
    "int": ("integer",), "float": ("double",), "bool": ("boolean",), "list": ("array",), "dict": ("hashmap",),
    "set": ("hashset",), "tuple": ("Tuple",), "isinstance": ("instanceof",), "ord": ("char_code",),
    "chr": ("char",), "any": ("some",), "all": ("every",), "pow": ("power",), "divmod": ("div_mod",),
    "bin": ("binary",), "hex": ("to_hex",), "round": ("rounded",), "print": ("println",),
}  # fmt: skip
_MODULES: dict[str, tuple[str, ...]] = {  # real module -> invented ones
    "collections": ("collection",), "itertools": ("itertool",), "functools": ("functool",), "math": ("maths",),
    "string": ("strings",), "re": ("regexp",), "heapq": ("heap",), "hashlib": ("hashlibs",),
    "bisect": ("binary_search",), "statistics": ("stats",), "operator": ("operators",), "random": ("randoms",),
    "datetime": ("date_time",), "typing": ("typings",),
}  # fmt: skip


def _api_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            sites.append(_attribute_site(p, node))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in p.visible(functions):
            sites.append(_name_site(p, node, _BUILTINS.get(node.id, ()), "function"))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            sites.extend(_import_sites(p, node))
    return [site for site in sites if site]


def _attribute_site(p: _Program, node: ast.Attribute) -> Site:
    on_module = isinstance(node.value, ast.Name) and node.value.id in p.modules
    invented = (_MODULE_ATTRS if on_module else _METHODS).get(node.attr, ())
    end = p.end(node)
    start = end - len(node.attr)
    if p.text[start:end] != node.attr:  # a non-ASCII name the parser normalised
        return []
    what = f"`.{node.attr}`"
    return [
        _Change((_Edit(start, end, new),), f"hallucinated `.{new}` for {what} in line {node.lineno}")
        for new in invented
        if new not in p.defined
    ]


def _name_site(p: _Program, node: Located, invented: tuple[str, ...], kind: str) -> Site:
    old = p.segment(node)
    return [p.change(node, new, f"hallucinated {kind} `{new}` for `{old}`") for new in invented if new not in p.defined]


def _import_sites(p: _Program, node: ast.Import | ast.ImportFrom) -> list[Site]:
    sites: list[Site] = []
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        found = re.compile(r"from\s+(\w+)").match(p.text, p.start(node))
        invented = _MODULES.get(node.module.split(".")[0], ())
        if found and found.group(1) == node.module.split(".")[0]:
            edits = [_Edit(found.start(1), found.end(1), new) for new in invented if new not in p.defined]
            sites.append([_Change((e,), f"hallucinated module `{e.text}` in line {node.lineno}") for e in edits])
    for alias in node.names:
        top = alias.name.split(".")[0]
        table = _MODULES if isinstance(node, ast.Import) else _MODULE_ATTRS
        start = p.start(alias)
        if p.text.startswith(top, start):
            edits = [_Edit(start, start + len(top), new) for new in table.get(top, ()) if new not in p.defined]
            what = f"hallucinated import `{{}}` for `{top}` in line {node.lineno}"
            sites.append([_Change((e,), what.format(e.text)) for e in edits])
    return sites


# ---------------------------------------------------------------- syntax_slip

_HEADER_END = re.compile(r"[\s)\\]*:")


def _syntax_slip(program: str, entry_point: str, rng: random.Random) -> Bug | None:
    """A slip of one kind, the kind drawn first so that frequent sites (brackets) do not drown the others."""
    p = _Program(program, entry_point)
    kinds: dict[str, Callable[[_Program], list[Site]]] = {
        "colon": _colon_sites, "bracket": _bracket_sites, "indent": _indent_sites,
        "assign": _assign_sites, "elif": _elif_sites,
    }  # fmt: skip
    for kind in _shuffled(list(kinds), rng):
        bug = _first_valid(p, kinds[kind](p), rng, "syntax_slip")
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


def _colon_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        expr = _header_expr(node)
        found = _HEADER_END.match(p.text, p.end(expr)) if expr is not None else None
        if isinstance(node, ast.stmt) and expr is not None and found is not None:
            colon = found.end() - 1
            what = f"missing `:` after `{_snip(p.text[p.start(node) : colon])}` in line {expr.end_lineno}"
            sites.append([_Change((_Edit(colon, colon + 1, ""),), what)])
    return sites


_CLOSERS: dict[type[ast.AST], str] = {
    ast.Call: ")", ast.Tuple: ")", ast.GeneratorExp: ")", ast.Subscript: "]", ast.List: "]", ast.ListComp: "]",
    ast.Set: "}", ast.SetComp: "}", ast.Dict: "}", ast.DictComp: "}",
}  # fmt: skip
_OPENERS = {")": "(", "]": "[", "}": "{"}


def _bracket_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        closer = _CLOSERS.get(type(node))
        if closer is None or not isinstance(node, ast.expr):
            continue
        text, end = p.segment(node), p.end(node)
        if text.endswith(closer) and (not isinstance(node, ast.Tuple) or text.startswith("(")):
            what = f"unclosed `{_OPENERS[closer]}` in `{_snip(text)}` in line {node.lineno}"
            sites.append([_Change((_Edit(end - 1, end, ""),), what)])
    return sites


def _indent_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        indent = p.indent_before(node) if isinstance(node, ast.stmt) else None
        if isinstance(node, ast.stmt) and indent and "\t" not in indent:
            at = p.start(node)
            site = [_Change((_Edit(at, at, "  "),), f"bad indent: 2 extra spaces in line {node.lineno}")]
            if len(indent) >= 2:
                site.append(_Change((_Edit(at - 2, at, ""),), f"bad indent: 2 spaces missing in line {node.lineno}"))
            sites.append(site)
    return sites


def _assign_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        test = node.test if isinstance(node, ast.If | ast.While) else None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            found = re.compile("==").search(p.text, p.end(test.left), p.start(test.comparators[0]))
            if found:
                what = f"`=` instead of `==` in line {test.lineno}"
                sites.append([_Change((_Edit(found.start(), found.end(), "="),), what)])
    return sites


def _elif_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, _ in p.walk():
        if isinstance(node, ast.If) and _is_elif(p, node):
            edit = _Edit(p.start(node), p.start(node) + len("elif"), "else if")
            sites.append([_Change((edit,), f"`else if` instead of `elif` in line {node.lineno}")])
    return sites


# ---------------------------------------------------------------- wrong_return


def _return_sites(p: _Program) -> list[Site]:
    sites: list[Site] = []
    for node, functions in p.walk():
        if isinstance(node, ast.Return) and node.value is not None and not _mentions_none(node.value):
            sites.append(_return_site(p, node, node.value, p.visible(functions)))
    return [site for site in sites if site]


def _return_site(p: _Program, node: ast.Return, value: ast.expr, names: list[str]) -> Site:
    old = p.segment(value)
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return [p.change(value, str(not value.value), f"returns `{not value.value}` instead of `{old}`")]
    changes = [p.change(value, name, f"returns `{name}` instead of `{_snip(old)}`") for name in names if name != old]
    changes.append(p.change(node, "return", f"returns nothing instead of `{_snip(old)}`"))
    return changes


# ---------------------------------------------------------------- the registry and `inject`


def _site_mutator(category: str, find_sites: Callable[[_Program], list[Site]]) -> Mutator:
    def mutate(program: str, entry_point: str, rng: random.Random) -> Bug | None:
        p = _Program(program, entry_point)
        return _first_valid(p, find_sites(p), rng, category)

    mutate.__name__ = mutate.__qualname__ = category
    mutate.__doc__ = f"A `{category}` bug in the program, or None when none applies (see the module docstring)."
    return mutate


MUTATORS: dict[str, Mutator] = {
    "off_by_one": _site_mutator("off_by_one", _off_by_one_sites),
    "flipped_comparison": _site_mutator("flipped_comparison", _flip_sites),
    "wrong_aggregation": _site_mutator("wrong_aggregation", _aggregation_sites),
    "missing_null_handling": _site_mutator("missing_null_handling", _null_sites),
    "wrong_variable": _site_mutator("wrong_variable", _variable_sites),
    "hallucinated_api": _site_mutator("hallucinated_api", _api_sites),
    "syntax_slip": _syntax_slip,
    "wrong_return": _site_mutator("wrong_return", _return_sites),
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
