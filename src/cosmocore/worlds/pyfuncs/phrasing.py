"""Natural-language side of a miniworld-py task: the docstring and the entry-point name.

Every choice (one of each primitive's phrasings, the opening, the connectives, prose or numbered steps,
name fragments and prefix) is drawn from the task's RNG, so a seed fixes the text. Parameters appear
as Python literals in prose (`'a'`, `', '`, `3`) and as identifier-safe text in names (`neg3` for -3).
Limits: the docstring describes behaviour only through the phrasings and the examples; it never
contains triple quotes or backslashes (the values it shows have none).
"""

from __future__ import annotations

import builtins
import keyword
import random
import textwrap
from collections.abc import Collection, Sequence
from typing import Any

from cosmocore.worlds.pyfuncs.compose import Case
from cosmocore.worlds.pyfuncs.source import INDENT, call
from cosmocore.worlds.pyfuncs.steps import DSI, INT, LI, LS, STR, Step

WIDTH = 96  # docstring text width, indentation included

OPENINGS = {
    LI: ("Given a list of integers `{arg}`,", "Take the list of integers `{arg}` and", "For the integers in `{arg}`,"),
    LS: ("Given a list of strings `{arg}`,", "Take the list of words `{arg}` and", "For the strings in `{arg}`,"),
    STR: ("Given a string `{arg}`,", "Take the text `{arg}` and", "For the string `{arg}`,"),
    INT: ("Given an integer `{arg}`,", "Take the integer `{arg}` and", "For the number `{arg}`,"),
    DSI: ("Given a dict `{arg}` mapping strings to integers,",
          "Take the dict `{arg}` (string keys, integer values) and", "For the string-to-integer dict `{arg}`,"),
}
HEADERS = ("Apply these steps to `{arg}` and return the result:", "Compute the following from `{arg}`, in order:",
           "Transform `{arg}` step by step and return what you get:")
ENDINGS = ("Return the result.", "Return the final value.", "The function returns that value.")
PREFIXES = ("", "", "", "get_", "compute_", "find_", "make_")


def _literal(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _name_part(value: Any) -> str:
    return f"neg{-value}" if isinstance(value, int) and value < 0 else str(value)


def phrase(step: Step, rng: random.Random) -> str:
    """One of the step's phrasings, with its parameters written as literals."""
    return rng.choice(step.primitive.says).format(**{k: _literal(v) for k, v in step.params.items()})


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _prose(clauses: Sequence[str], opening: str, rng: random.Random) -> str:
    if len(clauses) == 1:
        joined = clauses[0]
    elif len(clauses) == 2:
        joined = rng.choice(("{}, then {}", "{} and then {}", "{}; after that, {}")).format(*clauses)
    else:
        joined = rng.choice(("{}, then {}, and finally {}", "{}; next, {}; last, {}",
                             "first {}, then {}, and at the end {}")).format(*clauses)
    return textwrap.fill(f"{opening} {joined}. {rng.choice(ENDINGS)}", WIDTH - len(INDENT))


def _numbered(clauses: Sequence[str], header: str) -> str:
    items = [textwrap.fill(f"{n}. {_capital(c)}.", WIDTH - len(INDENT), subsequent_indent="   ")
             for n, c in enumerate(clauses, 1)]
    return header + "\n\n" + "\n".join(items)


def description(steps: Sequence[Step], arg: str, rng: random.Random) -> str:
    """The task in words: a sentence for short compositions or numbered steps, chosen per task."""
    clauses = [phrase(step, rng) for step in steps]
    if len(steps) > 1 and rng.random() < 0.35:
        return _numbered(clauses, rng.choice(HEADERS).format(arg=arg))
    return _prose(clauses, rng.choice(OPENINGS[steps[0].primitive.takes]).format(arg=arg), rng)


def docstring(text: str, entry_point: str, examples: Sequence[Case]) -> str:
    """The indented docstring: the description, then one `>>>` line and its output per example."""
    shown = "".join(f"\n>>> {call(entry_point, case)}\n{case.expected!r}" for case in examples)
    lines = (text + "\n" + shown).splitlines()
    indented = "\n".join(INDENT + line if line else "" for line in lines)
    return f'{INDENT}"""{indented.lstrip()}\n{INDENT}"""\n'


def entry_point(steps: Sequence[Step], rng: random.Random, taken: Collection[str]) -> str:
    """A fresh, valid identifier naming the task: its steps' fragments, last step first, maybe a prefix."""
    fragments = [rng.choice(step.primitive.names).format(**_name_params(step)) for step in reversed(steps)]
    base = rng.choice(PREFIXES) + "_".join(fragments)
    if base in dir(builtins) or keyword.iskeyword(base) or not base.isidentifier():
        base = "get_" + base
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def _name_params(step: Step) -> dict[str, str]:
    return {k: _name_part(v) for k, v in step.params.items()}
