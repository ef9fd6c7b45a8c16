"""Telling a model directory from a hub id, and refusing a missing one before anything heavy is imported.

A hub id is `name` or `owner/name`; anything absolute, relative (`./`, `../`), home-based (`~`) or
deeper than one slash is meant as a local path and must be a checkpoint directory (with config.json).
Limits: whether a hub id exists is only known when transformers tries to fetch it (network needed).
"""

from __future__ import annotations

import os
from pathlib import Path

from cosmocore.errors import InputError


def looks_like_path(name: str) -> bool:
    """A hub id is `name` or `owner/name`; anything else (absolute, ./, ~, deeper) is meant as a path."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or (os.sep != "/" and os.sep in name)


def check_source(name: str) -> None:
    if not name:
        raise InputError("no model given (a checkpoint directory or a hub id)")
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"model {name!r} is a file; give its checkpoint directory")
    if path.is_dir() and not (path / "config.json").is_file():
        raise InputError(f"model directory {name!r} has no config.json (not a Hugging Face checkpoint)")
    if not path.exists() and looks_like_path(name):
        raise InputError(f"model directory not found: {name}")


