"""The execution feature vector of one `Feedback`: what the tagger knows about how the code ran.

Layout (`FEATURE_NAMES`, width `FEATURE_DIM` = 11), float32:

    [0]      reward                  the scalar reward (see `cosmocore.rewards`)
    [1..8]   status one-hot          in `cosmocore.types.STATUSES` order (passed ... crashed)
    [9]      pass_fraction           tests passed / tests defined, in [0, 1]
    [10]     log1p(duration_s)       wall time squashed: 0 s -> 0, 1 s -> 0.69, 10 s -> 2.40

Pure numpy (no torch), so the loop and the buffer can compute and store it cheaply. Limits: it does
not look at the program text or the failure message; that is what the code embedding is for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cosmocore.types import STATUSES, Feedback

FEATURE_NAMES: tuple[str, ...] = (
    "reward",
    *(f"status={status}" for status in STATUSES),
    "pass_fraction",
    "log1p_duration_s",
)
FEATURE_DIM = len(FEATURE_NAMES)  # 11


def execution_features(feedback: Feedback) -> np.ndarray:
    """The feature vector of one execution, shape (FEATURE_DIM,), float32 (layout in the module doc)."""
    vector = np.zeros(FEATURE_DIM, dtype=np.float32)
    vector[0] = feedback.reward
    vector[1 + STATUSES.index(feedback.status)] = 1.0
    vector[1 + len(STATUSES)] = feedback.pass_fraction
    vector[2 + len(STATUSES)] = math.log1p(max(0.0, feedback.duration_s))  # a negative clock reads as 0 s
    return vector


def feature_matrix(feedbacks: Sequence[Feedback]) -> np.ndarray:
    """The feature vectors of a batch, shape (B, FEATURE_DIM), float32 (B may be 0)."""
    if not feedbacks:
        return np.zeros((0, FEATURE_DIM), dtype=np.float32)
    return np.stack([execution_features(feedback) for feedback in feedbacks])
