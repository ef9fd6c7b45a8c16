"""The buffer's math as pure functions: priority, queue rules, sampling weight, IS weights, beta.

Every function takes arrays (or scalars) and returns new ones; nothing here holds state, so each is
tested with hand-computed numbers (tests/unit/test_buffer_priority.py). Units: TD in reward units,
valence in [-1, 1], arousal in [0, 1], entropy normalised: mean nats per completion token / ln |V|
(|V| the vocabulary size), in [0, 1].
"""

from __future__ import annotations

import numpy as np

FloatArray = np.ndarray


def priority(td: FloatArray, valence: FloatArray, arousal: FloatArray, weight: float = 0.6,
             eps: float = 1e-4) -> FloatArray:
    """p = |TD| + weight * |v| * a + eps (the paper's formula with lambda = `weight`), float64."""
    td64 = np.asarray(td, np.float64)
    v64 = np.asarray(valence, np.float64)
    return np.abs(td64) + weight * np.abs(v64) * np.asarray(arousal, np.float64) + eps


def in_dream_queue(valence: FloatArray, arousal: FloatArray, valence_min: float = 0.5,
                   arousal_min: float = 0.7) -> np.ndarray:
    """Dream Queue membership: |v| > valence_min and a > arousal_min (both strict)."""
    return (np.abs(valence) > valence_min) & (np.asarray(arousal) > arousal_min)


def prunable(valence: FloatArray, arousal: FloatArray, entropy: FloatArray, valence_max: float = 0.2,
             arousal_max: float = 0.3, entropy_max: float = 0.3) -> np.ndarray:
    """Prune Bin rule: |v| < valence_max and a < arousal_max, unless entropy > entropy_max.

    `entropy` is normalised (nats/token / ln |V|, in [0, 1]), so `entropy_max` means the same for
    every vocabulary.
    """
    low_impact = (np.abs(valence) < valence_max) & (np.asarray(arousal) < arousal_max)
    return low_impact & ~(np.asarray(entropy) > entropy_max)


def sampling_weight(p: FloatArray, alpha: float) -> FloatArray:
    """Proportional (PER) sampling weight: p**alpha, the same rule for every item."""
    return np.power(p, alpha)


def importance_weights(probs: FloatArray, n_live: int, beta: float) -> FloatArray:
    """IS weights w_i = (N * P(i))**-beta, divided by their mean over the batch (float64).

    So every batch's mean weight is exactly 1: a prioritised batch takes a gradient step of the same
    size as a uniform one (PER's max-weight normalisation would shrink it to a fraction). beta = 0
    gives all ones (deliberately biased replay). An empty batch gives an empty array.
    """
    w = np.power(n_live * np.asarray(probs, np.float64), -beta)
    return w / w.mean() if len(w) else w


def annealed_beta(step: int, beta0: float, steps: int) -> float:
    """beta rises linearly from beta0 at step 0 to 1 at `steps`, then stays at 1; `steps` 0 keeps beta0
    (with beta0 = 0: the paper's deliberately biased replay, every weight 1)."""
    if steps == 0:
        return beta0
    return beta0 + (1.0 - beta0) * min(1.0, step / steps)


def split_mixed(n: int, dream_fraction: float, dream_size: int) -> tuple[int, int]:
    """(from the Dream Queue, uniform) counts of a mixed batch of n rows.

    round(dream_fraction * n) dream rows, but never more than there are Dream Queue members (so a
    small queue is not replayed many times over in one batch); the rest is uniform.
    """
    n_dream = min(round(dream_fraction * n), dream_size, n)
    return n_dream, n - n_dream


def mixture_probs(dream_probs: FloatArray, n: int, n_dream: int, n_live: int) -> FloatArray:
    """Per-row probability of a mixed batch: (n_dream/n) * P_dream(i) + (n_uniform/n) / N."""
    return (n_dream / n) * np.asarray(dream_probs, np.float64) + ((n - n_dream) / n) / n_live

