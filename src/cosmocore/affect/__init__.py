"""The affective tagger: execution features, scold labels, the valence/arousal MLP and its training.

    features.py    Feedback -> execution feature vector (numpy, no torch)
    scold.py       valence targets: the status table, or a human-labelled jsonl file
    arousal.py     arousal targets: |TD| / running scale, clipped to [0, 1] (pure)
    tagger.py      the MLP (input -> [512] -> 128 -> 2), parameter count, `tag` -> AffectTag
    training.py    the tagger loss (pure) and `TaggerTrainer` (its own Adam optimizer)
    checkpoint.py  save / load without pickled objects

The names below are imported lazily, so `import cosmocore.affect.features` does not load torch.
The exact definitions are in docs/learner.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FEATURE_DIM": "features",
    "FEATURE_NAMES": "features",
    "execution_features": "features",
    "feature_matrix": "features",
    "PEER_MEAN": "features",
    "PEERS": "features",
    "with_baselines": "features",
    "STATUS_SCOLD": "scold",
    "ScoldLabels": "scold",
    "load_scold_file": "scold",
    "scold_labels": "scold",
    "status_scold": "scold",
    "ArousalScale": "arousal",
    "arousal_targets": "arousal",
    "AffectiveTagger": "tagger",
    "overhead_ratio": "tagger",
    "tag": "tagger",
    "tagger_param_count": "tagger",
    "TaggerStepStats": "training",
    "TaggerTrainer": "training",
    "tagger_loss": "training",
    "load_tagger": "checkpoint",
    "save_tagger": "checkpoint",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cosmocore.affect' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cosmocore.affect.{_EXPORTS[name]}"), name)
