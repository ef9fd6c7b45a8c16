"""Saving and loading the tagger and its trainer without pickling objects.

A checkpoint is a directory holding two files, each written to a temporary name and renamed into
place:

    tagger.safetensors   the module's tensors; metadata "dims" = JSON [prompt, code, feature, proj, hidden]
    tagger_trainer.pt    {"optimizer": Adam state_dict, "scale": [mean_sq, weight, batches], "steps": n,
                          "memory": [prompt, code, features, scold, arousal] tensors or None},
                         read back with torch.load(weights_only=True): tensors and plain values only

Limits: the two files are not renamed together; a caller that needs an all-or-nothing checkpoint
writes into a fresh directory and renames that.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from cosmocore.affect.arousal import ArousalScale
from cosmocore.affect.tagger import AffectiveTagger
from cosmocore.affect.training import TaggerExamples, TaggerTrainer
from cosmocore.config import AffectConfig
from cosmocore.errors import InputError

WEIGHTS_FILE = "tagger.safetensors"
TRAINER_FILE = "tagger_trainer.pt"


def save_tagger(trainer: TaggerTrainer, directory: str | os.PathLike[str]) -> Path:
    """Write the tagger's weights and its trainer's state under `directory` (created); returns it."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    tensors = {name: t.detach().cpu().contiguous() for name, t in trainer.tagger.state_dict().items()}
    _replace(target / WEIGHTS_FILE, lambda tmp: save_file(tensors, tmp, {"dims": json.dumps(trainer.tagger.dims)}))
    scale = trainer.scale
    state = {
        "optimizer": trainer.optimizer.state_dict(),
        "scale": [scale.mean_sq, scale.weight, scale.batches],
        "steps": trainer.steps,
        "memory": None if trainer.memory is None else [t.detach().cpu() for t in trainer.memory.columns()],
    }
    _replace(target / TRAINER_FILE, lambda tmp: torch.save(state, tmp))
    return target


def load_tagger(directory: str | os.PathLike[str], config: AffectConfig | None = None) -> TaggerTrainer:
    """A trainer restored from `save_tagger`'s directory (the shape comes from the file, lr from `config`)."""
    source = Path(directory)
    tagger = _load_module(source / WEIGHTS_FILE)
    trainer = TaggerTrainer(tagger, config)
    try:
        state = torch.load(source / TRAINER_FILE, weights_only=True)
    except (OSError, RuntimeError) as err:
        raise InputError(f"{source / TRAINER_FILE}: cannot read tagger trainer state: {err}") from err
    trainer.optimizer.load_state_dict(state["optimizer"])
    for group in trainer.optimizer.param_groups:
        group["lr"] = trainer.config.lr  # the config of this run decides the learning rate
    mean_sq, weight, batches = state["scale"]
    trainer.scale = ArousalScale(float(mean_sq), float(weight), int(batches))
    trainer.steps = int(state["steps"])
    memory = state.get("memory")
    trainer.memory = None if memory is None else TaggerExamples(*(t.to(_device(tagger)) for t in memory))
    return trainer


def _device(tagger: AffectiveTagger) -> torch.device:
    return next(tagger.parameters()).device


def _load_module(path: Path) -> AffectiveTagger:
    try:
        with safe_open(str(path), framework="pt") as handle:
            dims = json.loads((handle.metadata() or {})["dims"])
        tensors = load_file(str(path))
    except (OSError, KeyError, ValueError, SafetensorError) as err:  # missing file, no dims, corrupt header
        raise InputError(f"{path}: not a tagger checkpoint: {err}") from err
    tagger = AffectiveTagger(*(int(d) for d in dims))
    tagger.load_state_dict(tensors)
    return tagger


def _replace(path: Path, write: Callable[[str], object]) -> None:
    """Write through `write(tmp_path)` then rename over `path`, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    write(str(tmp))
    os.replace(tmp, path)
