"""The execution feature vector of one `Feedback`: what the tagger knows about how the code ran.

Layout (`FEATURE_NAMES`, width `FEATURE_DIM` = 13), float32:

    [0]      reward                  the scalar reward (see `cosmocore.rewards`)
    [1..8]   status one-hot          in `cosmocore.types.STATUSES` order (passed ... crashed)
    [9]      pass_fraction           tests passed / tests defined, in [0, 1]
    [10]     baseline                what the learner expected (`cosmocore.learn.signals`, reward units)
    [11]     peer_mean               mean reward of the other attempts at the prompt in the same step
    [12]     peers                   how many other attempts there were

Wall time is not a feature: it depends on the machine's load, so it would make two runs of the same
seed tag, dream and prune differently (a slow program shows as a `timeout` status instead).

The baseline makes surprise learnable: the arousal target is |reward - baseline| on a running scale,
and without the expectation a small MLP would have to re-derive the critic from the prompt embedding.
When the critic changes, the learner recomputes the baseline of stored items from the new V and the
stored peers (`PEER_MEAN`, `PEERS`), rewrites column `BASELINE` and re-tags them.
Pure numpy (no torch), so the loop and the buffer can compute and store it cheaply. Limits: it does
not look at the program text or the failure message; that is what the code embedding is for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cosmocore.types import STATUSES, Feedback

FEATURE_NAMES: tuple[str, ...] = (
    "reward",
    *(f"status={status}" for status in STATUSES),
    "pass_fraction",
    "baseline",
    "peer_mean",
    "peers",
)
FEATURE_DIM = len(FEATURE_NAMES)  # 13
BASELINE = FEATURE_NAMES.index("baseline")  # the column the learner rewrites when its critic changes
PEER_MEAN = FEATURE_NAMES.index("peer_mean")
PEERS = FEATURE_NAMES.index("peers")


def execution_features(feedback: Feedback, baseline: float = 0.0, peer_mean: float = 0.0,
                       peers: float = 0.0) -> np.ndarray:
    """The feature vector of one execution, shape (FEATURE_DIM,), float32 (layout in the module doc);
    `baseline` is the reward the learner expected, `peer_mean` / `peers` the other attempts at it."""
    vector = np.zeros(FEATURE_DIM, dtype=np.float32)
    vector[0] = feedback.reward
    vector[1 + STATUSES.index(feedback.status)] = 1.0
    vector[1 + len(STATUSES)] = feedback.pass_fraction
    vector[BASELINE], vector[PEER_MEAN], vector[PEERS] = baseline, peer_mean, peers
    return vector


Column = Sequence[float] | np.ndarray | None


def feature_matrix(feedbacks: Sequence[Feedback], baselines: Column = None, peer_means: Column = None,
                   peers: Column = None) -> np.ndarray:
    """The feature vectors of a batch, shape (B, FEATURE_DIM), float32 (B may be 0); the three
    expectation columns are (B,) each, None = all 0."""
    if not feedbacks:
        return np.zeros((0, FEATURE_DIM), dtype=np.float32)
    columns = [_column(x, len(feedbacks), name) for x, name in
               ((baselines, "baselines"), (peer_means, "peer_means"), (peers, "peers"))]
    return np.stack([execution_features(f, *(float(c[i]) for c in columns)) for i, f in enumerate(feedbacks)])


def _column(values: Column, n: int, name: str) -> np.ndarray:
    column = np.zeros(n) if values is None else np.asarray(values, np.float64)
    if len(column) != n:
        raise ValueError(f"{n} feedbacks but {len(column)} {name}")
    return column


def with_baselines(features: np.ndarray, baselines: np.ndarray) -> np.ndarray:
    """A copy of feature rows (B, FEATURE_DIM) with the baseline column replaced by `baselines` (B,)."""
    out = np.array(features, dtype=np.float32, copy=True)
    out[:, BASELINE] = baselines
    return out
