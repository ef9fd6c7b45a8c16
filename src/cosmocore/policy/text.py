"""Completion text: where a completion stops, and the code in it (pure string functions, no model).

Stop sequences end a HumanEval-style body: the next top-level statement (`\\ndef `, `\\nclass `,
`\\nif __name__`, `\\nprint(`, `\\n#`, `\\nassert `); chat models end with their end-of-turn token
instead (`CHAT_STOPS` is empty: a fence must not stop a reply). `extract_code` turns what a model wrote
into a completion to append to the prompt (`Problem.program`), whatever its form:

- a body-only completion (the usual for base models): kept as written;
- a fenced block (```python ... ```) or a chat reply with prose around the code: the block that
  defines the entry point (else the first), or, without fences, the lines from the first `def`/`import`
  up to where the text stops parsing as Python;
- a whole function (`def entry(...)` with its body): kept whole; appended after the prompt, it
  redefines the prompt's docstring-only function, so the program stays valid;
- a bare unindented body inside a fence (`return x + 1`): indented to become the function's body.

Limits: prose interleaved *inside* a code block is not removed; a body whose indentation is broken is
returned as is (the sandbox reports the syntax error, as it should).
"""

from __future__ import annotations

import ast
import re

from cosmocore.config import BODY_STOPS  # noqa: F401  (re-exported: the default stop list)
CHAT_STOPS: tuple[str, ...] = ()

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
CODE_START = re.compile(r"^(def |async def |class |import |from \S+ import |@)", re.MULTILINE)
INDENT = "    "


def find_stop(text: str, stops: tuple[str, ...], start: int = 0) -> int:
    """The index where the first stop sequence found in `text[start:]` begins, or -1."""
    hits = [i for i in (text.find(s, start) for s in stops) if i >= 0]
    return min(hits) if hits else -1


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _defines(code: str, entry_point: str) -> bool:
    return re.search(rf"^(async )?def {re.escape(entry_point)}\s*\(", code, re.MULTILINE) is not None


def _fenced_blocks(text: str) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(text) if m.group(1).lower() in ("", "python", "py", "python3")]


def _longest_parsing_prefix(lines: list[str]) -> str:
    """The longest run of leading lines that parses (trailing prose dropped); all lines if none does."""
    for end in range(len(lines), 0, -1):
        code = "\n".join(lines[:end]).rstrip() + "\n"
        if _parses(code):
            return code
    return "\n".join(lines).rstrip() + "\n"


def _code_in_reply(text: str) -> str | None:
    """The code of a chat reply without fences: from the first code-looking line on, while it parses."""
    match = CODE_START.search(text)
    if match is None:
        return None
    return _longest_parsing_prefix(text[match.start():].splitlines())


def _as_completion(code: str, entry_point: str) -> str:
    """Code to append to the prompt: whole definitions kept; a bare top-level body indented."""
    if _defines(code, entry_point) or CODE_START.match(code.lstrip("\n")):
        return "\n" + code.strip("\n") + "\n"
    lines = code.strip("\n").splitlines()
    if lines and not lines[0].startswith((" ", "\t")):
        lines = [INDENT + line if line.strip() else line for line in lines]
    return "\n".join(lines) + "\n"


def extract_code(text: str, entry_point: str = "") -> str:
    """The completion to append to the prompt for what the model wrote (see the module docstring)."""
    blocks = _fenced_blocks(text)
    if blocks:
        chosen = next((b for b in blocks if entry_point and _defines(b, entry_point)), blocks[0])
        return _as_completion(chosen, entry_point)
    if text.startswith((" ", "\t", "\n")) or not text.strip():
        return text  # a body-only completion, as base models write it
    reply = _code_in_reply(text)
    return _as_completion(reply, entry_point) if reply is not None else text
