"""The buffer's math as pure functions: priority, queue rules, sampling weight, IS weights, beta.

Every function takes arrays (or scalars) and returns new ones; nothing here holds state, so each is
tested with hand-computed numbers (tests/unit/test_buffer_priority.py). Units: TD in reward units,
valence in [-1, 1], arousal in [0, 1], entropy in nats per completion token.
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
    """Prune Bin rule: |v| < valence_max and a < arousal_max, unless entropy > entropy_max (nats/token)."""
    low_impact = (np.abs(valence) < valence_max) & (np.asarray(arousal) < arousal_max)
    return low_impact & ~(np.asarray(entropy) > entropy_max)


def sampling_weight(p: FloatArray, alpha: float, dream: np.ndarray, multiplier: float = 5.0) -> FloatArray:
    """Proportional sampling weight: p**alpha, times `multiplier` for Dream Queue members."""
    return np.power(p, alpha) * np.where(dream, multiplier, 1.0)


def importance_weights(probs: FloatArray, n_live: int, beta: float, min_prob: float) -> FloatArray:
    """PER weights w_i = (N * P(i))**-beta / max_j w_j, where the max over the buffer is at min_prob.

    `min_prob` is the smallest positive probability any live item has under the same distribution,
    so every weight is in (0, 1] and equals 1 for the least likely item (as in the PER paper).
    """
    w = np.power(n_live * np.asarray(probs, np.float64), -beta)
    return w / float(np.power(n_live * min_prob, -beta))


def annealed_beta(step: int, beta0: float, steps: int) -> float:
    """beta rises linearly from beta0 at step 0 to 1 at `steps`, then stays at 1."""
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


def mixture_min_prob(min_dream_prob: float, n: int, n_dream: int, n_live: int, dream_size: int) -> float:
    """The smallest positive per-item probability of a mixed batch over the live items.

    A live item outside the Dream Queue can only come from the uniform part; when every live item is
    in the queue (or there is no uniform part) the least likely one is the queue's least likely item.
    """
    uniform = ((n - n_dream) / n) / n_live
    if n_dream == n:
        return min_dream_prob
    return uniform + ((n_dream / n) * min_dream_prob if dream_size == n_live else 0.0)
