"""Pure metric functions over execution results (pass@k now; the RL metrics join later)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from cosmocore.types import STATUSES, Status


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c passed: 1 - C(n-c, k) / C(n, k) (Chen et al. 2021).

    Computed as a running product, stable for large n.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k(per_task: Mapping[str, Sequence[bool]], ks: Iterable[int] = (1, 10, 100)) -> dict[int, float]:
    """Mean pass@k over tasks, for each k that every task has at least k samples for."""
    if not per_task:
        return {}
    fewest = min(len(v) for v in per_task.values())
    return {
        k: float(np.mean([estimate_pass_at_k(len(v), sum(v), k) for v in per_task.values()]))
        for k in ks
        if k <= fewest
    }


def status_counts(statuses: Iterable[Status]) -> dict[Status, int]:
    """Count per status, every status of the vocabulary present (zeros included), in vocabulary order."""
    counts = Counter(statuses)
    return {s: counts.get(s, 0) for s in STATUSES}
