"""The miniworld-py world, top to bottom: draw compositions, write each as a HumanEval-style `Problem`.

    seed --> draw_draft (compose: steps + trusted cases, weak ones rejected) x WORLD_SIZE
         --> entry point, docstring (phrasing), reference body and check (source) --> Problem

Labels (`Problem.meta`): `split` is "test" for compositions whose SHA-256 is 0 mod 5 and "train"
otherwise, so a composition (the sequence of primitive names) never appears in both splits, whatever
the seed; `difficulty` is the number of steps ("1", "2", "3"); `composition` is e.g.
"filter_even>square>sum". A seed fixes every problem; the same seed always gives identical problems.
Distinct problems differ in composition or parameters (and all entry points differ).
"""

from __future__ import annotations

import functools
import random

from cosmocore.types import CheckFunctionTests, Problem
from cosmocore.worlds.pyfuncs import phrasing, source
from cosmocore.worlds.pyfuncs.compose import Case, Draft, draw_draft
from cosmocore.worlds.pyfuncs.inputs import EDGE_CASES
from cosmocore.worlds.sampling import draw_distinct
from cosmocore.worlds.splits import split_of

WORLD = "miniworld-py"
WORLD_SIZE = 3000  # problems per seed
MAX_PER_COMPOSITION = 3  # problems sharing one composition (different parameters)
MAX_DRAWS = 100 * WORLD_SIZE  # a bound on rejected draws, so a broken catalog fails loudly


def draw_drafts(rng: random.Random, size: int) -> list[Draft]:
    """`size` accepted drafts, distinct in composition and parameters, at most MAX_PER_COMPOSITION each."""
    return draw_distinct(lambda: draw_draft(rng), lambda d: d.key, lambda d: d.composition,
                         size, MAX_PER_COMPOSITION, MAX_DRAWS, WORLD)


def _examples(draft: Draft, rng: random.Random) -> list[Case]:
    """One or two short random (non-edge) cases with different outputs, to show in the docstring;
    the first has a non-empty, non-zero output where one exists."""
    randoms = list(draft.cases[len(EDGE_CASES[draft.takes]):]) or list(draft.cases)
    pool = sorted(randoms, key=lambda case: (not case.expected, len(repr(case.value))))[:4]
    first = rng.choice([case for case in pool if case.expected] or pool)
    others = [case for case in pool if repr(case.expected) != repr(first.expected)]
    return [first, rng.choice(others)] if others and rng.random() < 0.6 else [first]


def build_problem(number: int, draft: Draft, rng: random.Random, taken: set[str]) -> Problem:
    arg = source.ARG_NAMES[draft.takes]
    entry = phrasing.entry_point(draft.steps, rng, taken | {arg, *source.variable_names(draft.steps, arg)})
    taken.add(entry)
    text = phrasing.description(draft.steps, arg, rng)
    prompt = source.signature(entry, draft.takes, draft.gives) + phrasing.docstring(text, entry, _examples(draft, rng))
    reference = prompt + source.body(draft.steps, arg)
    return Problem(
        task_id=f"{WORLD}/{number}",
        prompt=prompt,
        entry_point=entry,
        completion_prefix=prompt,
        reference=reference,
        tests=CheckFunctionTests(test_code=source.check_source(draft.cases), entry_point=entry, setup_code=reference),
        benchmark=WORLD,
        meta=(("split", split_of(draft.composition)), ("difficulty", str(len(draft.steps))),
              ("composition", draft.composition)),
    )


@functools.lru_cache(maxsize=4)
def _world(seed: int) -> tuple[Problem, ...]:
    rng = random.Random(f"{WORLD}:{seed}")
    drafts = draw_drafts(rng, WORLD_SIZE)
    taken = {"check", "candidate"}
    return tuple(build_problem(number, draft, rng, taken) for number, draft in enumerate(drafts))


def generate_world(seed: int = 0) -> dict[str, Problem]:
    """Every problem of the world for `seed`, keyed by task_id ("miniworld-py/0" ...), both splits."""
    return {problem.task_id: problem for problem in _world(seed)}
