"""Stop sequences and code extraction from the forms completions come in."""

from __future__ import annotations

import ast

from cosmocore.config import BODY_STOPS
from cosmocore.policy.text import extract_code, find_stop

PROMPT = 'def add(a, b):\n    """Sum of a and b."""\n'


def runs(completion: str) -> int:
    namespace: dict = {}
    exec(compile(PROMPT + completion, "<test>", "exec"), namespace)  # trusted test strings only
    return namespace["add"](2, 3)


def test_find_stop_returns_the_first_stop_from_the_start_offset():
    text = "    return a + b\n\ndef other():\n    pass\n# note\n"
    assert find_stop(text, BODY_STOPS) == text.index("\ndef ")
    assert find_stop(text, BODY_STOPS, start=text.index("\ndef ") + 1) == text.index("\n# note")
    assert find_stop("    return a\n", BODY_STOPS) == -1


def test_indented_statements_do_not_stop_a_body():
    body = "    if a:\n        print(a)\n    # comment\n    return a + b\n"
    assert find_stop(body, BODY_STOPS) == -1


def test_a_body_only_completion_is_kept_as_written():
    body = "    return a + b\n"
    assert extract_code(body, "add") == body
    assert runs(extract_code(body, "add")) == 5


def test_a_fenced_whole_function_in_a_chat_reply_is_taken_and_redefines_the_stub():
    reply = "Sure! Here it is:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nIt adds the numbers."
    code = extract_code(reply, "add")
    assert "Sure" not in code and "It adds" not in code
    assert runs(code) == 5


def test_the_fenced_block_defining_the_entry_point_wins_over_an_earlier_one():
    reply = "```python\nimport math\n```\nthen\n```py\ndef add(a, b):\n    return b + a\n```"
    assert "def add" in extract_code(reply, "add")


def test_an_unclosed_fence_takes_the_rest():
    assert runs(extract_code("```python\ndef add(a, b):\n    return a + b\n", "add")) == 5


def test_a_chat_reply_without_fences_keeps_the_code_and_drops_the_prose():
    reply = "The function is:\n\ndef add(a, b):\n    return a + b\n\nThis returns the sum of both."
    code = extract_code(reply, "add")
    ast.parse(code)
    assert "This returns" not in code and runs(code) == 5


def test_a_bare_body_in_a_fence_is_indented_into_the_function():
    assert runs(extract_code("```\nreturn a + b\n```", "add")) == 5


def test_imports_before_the_function_are_kept():
    code = extract_code("```python\nimport operator\n\ndef add(a, b):\n    return operator.add(a, b)\n```", "add")
    assert code.lstrip().startswith("import operator") and runs(code) == 5


def test_an_empty_completion_stays_empty():
    assert extract_code("", "add") == ""
