"""Tiny models of every architecture, built once per session (see tests/tiny_models.py).

Policy tests run torch on one thread: their models are tiny, and on a shared, loaded machine
OpenMP's threads spend far longer waiting for each other than computing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tiny_models
import torch


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_models")
    return {kind: tiny_models.build(kind, root / kind) for kind in tiny_models.ARCHITECTURES}
