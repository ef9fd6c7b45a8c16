"""The paper's own reported numbers, as data, each with where in the paper it comes from.

Job: let a report set the paper's claims beside what a grid measured. These numbers are *reported,
not reproduced*: nothing here is ever used to compute, fill in or default a result of ours; the
report prints them only in a column labelled "paper (reported, not reproduced)".

Limits: the paper gives no seeds, intervals or baseline definitions for most claims, so a claim is
kept as the paper states it (a before/after pair, a percentage, a ratio) and matched to our runs by
the task source only. Line numbers refer to `paper/cosmocore-paper.txt` (the shared text copy, which
has no page numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER_TEXT = "paper/cosmocore-paper.txt"
PAPER_COLUMN = "paper (reported, not reproduced)"


@dataclass(frozen=True)
class PaperHallucination:
    """One row of the paper's Table 1: hallucination fraction, baseline (PPO) vs CosmoCore."""

    benchmark: str  # as the paper names it
    baseline: float | None  # None: the paper's table leaves the cell empty
    cosmocore: float | None
    improvement_pct: float | None  # as the paper reports it (a reduction, in percent)
    matches: tuple[str, ...]  # our worlds/benchmarks this row is set beside
    source: str  # where in the paper

    def text(self) -> str:
        """The paper's claim as it reads: "0.25 -> 0.13 (-48%)"."""
        before = "?" if self.baseline is None else f"{self.baseline:.2f}"
        after = "?" if self.cosmocore is None else f"{self.cosmocore:.2f}"
        change = "" if self.improvement_pct is None else f" ({_reduction(self.improvement_pct)})"
        return f"{before} -> {after}{change}"


@dataclass(frozen=True)
class PaperClaim:
    """A claim of section 7 that is not a Table 1 row."""

    key: str  # "self_correction", "buffer_bloat", "entropy_low_valence", "confidence_variance"
    what: str  # the claim in words
    claim: str  # the paper's number as it reads
    source: str
    note: str = ""  # what the paper leaves open about it


_TABLE = "section 7 'Results', Table 1"
TABLE_1: tuple[PaperHallucination, ...] = (
    PaperHallucination("HumanEval", 0.25, 0.13, 48, ("humaneval",),
                       f"{_TABLE}, line 242; also line 195 (5 seeds, fine-tuned model)"),
    PaperHallucination("BigCodeBench", 0.22, 0.13, 40, ("bigcodebench",), f"{_TABLE}, line 243; also line 195"),
    PaperHallucination("Mini-World", 0.30, 0.17, 43, ("miniworld-py", "miniworld-spark"), f"{_TABLE}, line 244"),
    PaperHallucination("Local PySpark", 0.28, 0.16, 42, ("miniworld-spark",),
                       f"{_TABLE}, line 245; also line 203 (20 PySpark tasks)"),
    PaperHallucination("Colab HumanEval (demo run, untrained model)", 1.00, 1.00, 0, ("humaneval",),
                       f"{_TABLE}, line 246; section 7 lines 207, 213, 237"),
    PaperHallucination("Colab Mini-World PySpark (demo run, untrained model)", None, 1.00, None,
                       ("miniworld-spark",), f"{_TABLE}, line 247 (one value only; line 219 gives it as CosmoCore's)"),
)

CLAIMS: tuple[PaperClaim, ...] = (
    PaperClaim("self_correction", "Mini-World self-correction, cycles to zero error (baseline -> CosmoCore)",
               "80 -> 44 cycles (-45%)", "section 7 'Results', line 199"),
    PaperClaim("buffer_bloat", "Buffer occupancy without pruning vs with it", "+25%",
               "section 7 'Results', line 197",
               note="section 8.1 (line 256) says pruning reduces bloat by 28%"),
    PaperClaim("entropy_low_valence", "Token entropy of low-valence rollouts vs the rest", "2.4x",
               "section 7 'Results', line 203 (local PySpark test)"),
    PaperClaim("confidence_variance", "Confidence variance", "-30%", "section 7 'Results', line 197",
               note="the paper does not say relative to what"),
)


def _reduction(pct: float) -> str:
    return "0%" if pct == 0 else f"-{pct:.0f}%"


def table_1_rows_for(task_source: str) -> tuple[PaperHallucination, ...]:
    """The Table 1 rows that a grid on `task_source` (a world or benchmark name) is set beside."""
    return tuple(row for row in TABLE_1 if task_source in row.matches)

