"""Statistics over seeds, as pure functions: mean, std, percentile-bootstrap intervals, paired differences,
and the derived metrics of the paper (sample efficiency, cycles to zero error).

Conventions: `std` is the sample standard deviation (ddof 1; 0 for one seed); intervals are 95%
percentile-bootstrap intervals of the mean over seeds, drawn with a fixed seed so a report is
reproducible (with one seed the interval is the value itself); paired differences are per seed
(method minus baseline on the same seed), so seed-to-seed variation shared by both cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_DRAWS = 10_000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Summary:
    """A metric over seeds: mean, sample std and the 95% bootstrap interval of the mean."""

    mean: float
    std: float
    low: float
    high: float
    n: int

    def excludes_zero(self) -> bool:
        return self.n > 1 and (self.low > 0 or self.high < 0)


def bootstrap_interval(values: Sequence[float] | np.ndarray, level: float = 0.95, draws: int = BOOTSTRAP_DRAWS,
                       seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of `values`."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return float("nan"), float("nan")
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(draws, x.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    return float(np.quantile(means, tail)), float(np.quantile(means, 1.0 - tail))


def summarise(values: Sequence[float]) -> Summary:
    """Mean, std (ddof 1) and 95% bootstrap interval of per-seed values (NaNs are left out)."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return Summary(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    low, high = bootstrap_interval(x)
    return Summary(float(x.mean()), std, low, high, int(x.size))


def paired_difference(method: dict[int, float], baseline: dict[int, float]) -> Summary:
    """Per-seed `method - baseline` over the seeds both have, summarised."""
    seeds = sorted(set(method) & set(baseline))
    return summarise([method[s] - baseline[s] for s in seeds])


def steps_to_threshold(steps: Sequence[int], values: Sequence[float], threshold: float = 0.8) -> int | None:
    """The first step whose value reaches `threshold` (sample efficiency), or None if none does."""
    for step, value in zip(steps, values, strict=True):
        if value is not None and value >= threshold:
            return int(step)
    return None


def cycles_to_zero_error(errors_per_cycle: Sequence[int]) -> int | None:
    """1-based index of the first cycle with no failing task, or None if every cycle had one."""
    for cycle, errors in enumerate(errors_per_cycle, start=1):
        if errors == 0:
            return cycle
    return None


def recurrence_rate(failed_before: Sequence[bool], failed_after: Sequence[bool]) -> float:
    """Share of the items that failed before which fail again after (NaN if none failed before)."""
    pairs = [(b, a) for b, a in zip(failed_before, failed_after, strict=True) if b]
    return float(np.mean([a for _, a in pairs])) if pairs else float("nan")
