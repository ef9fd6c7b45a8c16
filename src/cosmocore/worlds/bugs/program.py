"""The machinery every mutator shares: a parsed reference (`Program`) with character offsets of its nodes,
the walk over the entry point's body that yields the candidate sites, text edits (`Edit`, `Change`, `Site`),
the search for the first valid change (`first_valid`: alters the program and compiles, or for a syntax_slip
does not), the wrapper that turns a site finder into a mutator (`site_mutator`), and the small AST
predicates several categories use. See the package docstring for the rules the sites follow."""

from __future__ import annotations

import ast
import io
import random
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cosmocore.errors import InputError


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
class Edit:
    start: int  # character offsets into the program text
    end: int
    text: str


@dataclass(frozen=True)
class Change:
    """One way to mutate one site."""

    edits: tuple[Edit, ...]
    description: str


Site = list[Change]  # the alternative changes at one site


class Program:
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

    def change(self, node: Located, text: str, description: str) -> Change:
        """Replace node's text."""
        return Change((Edit(self.start(node), self.end(node), text),), f"{description} in line {node.lineno}")


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


def _apply(text: str, edits: Sequence[Edit]) -> str:
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


def snip(text: str, limit: int = 40) -> str:
    """text on one line, at most `limit` characters, for a description."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def shuffled(items: Sequence[T], rng: random.Random) -> list[T]:
    return rng.sample(list(items), len(items))


def first_valid(program: Program, sites: Sequence[Site], rng: random.Random, category: str) -> Bug | None:
    """The first change, in an order drawn from rng, that alters the program and compiles (or, for a
    syntax_slip, does not)."""
    must_compile = category != "syntax_slip"
    for site in shuffled(sites, rng):
        for change in shuffled(site, rng):
            mutant = _apply(program.text, change.edits)
            if mutant != program.text and _compiles(mutant) == must_compile:
                return Bug(category, mutant, change.description)
    return None


# ---------------------------------------------------------------- small predicates


def is_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def is_numeral(node: ast.AST) -> bool:
    """An int literal, maybe signed: `3`, `-1`."""
    signed = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd)
    return is_int(node.operand if isinstance(node, ast.UnaryOp) and signed else node)


def is_call_to(node: ast.AST, *names: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def is_empty_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in (None, 0, 1, "", b"") and not isinstance(node.value, bool)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return not node.elts
    return isinstance(node, ast.Dict) and not node.keys


def is_elif(p: Program, node: ast.If) -> bool:
    return p.text.startswith("elif", p.start(node))


def mentions_none(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Constant) and n.value is None for n in ast.walk(test))


# ---------------------------------------------------------------- from sites to a mutator


def site_mutator(category: str, find_sites: Callable[[Program], list[Site]]) -> Mutator:
    def mutate(program: str, entry_point: str, rng: random.Random) -> Bug | None:
        p = Program(program, entry_point)
        return first_valid(p, find_sites(p), rng, category)

    mutate.__name__ = mutate.__qualname__ = category
    mutate.__doc__ = f"A `{category}` bug in the program, or None when none applies (see the module docstring)."
    return mutate
