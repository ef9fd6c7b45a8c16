"""Shared fixtures: the benchmark copies in ../shared/data (read by path, never copied), each loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmocore.tasks import load_problems
from cosmocore.types import Problem

REPO_ROOT = Path(__file__).resolve().parents[1]  # tests/conftest.py -> the repository root
DATA_DIR = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.skip(f"benchmark data not found at {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session")
def humaneval() -> dict[str, Problem]:
    return load_problems("humaneval")


@pytest.fixture(scope="session")
def humanevalplus_path(data_dir: Path) -> Path:
    return data_dir / "humanevalplus" / "HumanEvalPlus-v0.1.10.jsonl.gz"


@pytest.fixture(scope="session")
def humanevalplus(humanevalplus_path: Path) -> dict[str, Problem]:
    return load_problems("humanevalplus", humanevalplus_path)


@pytest.fixture(scope="session")
def mbpp(data_dir: Path) -> dict[str, Problem]:
    return load_problems("mbpp", data_dir / "mbpp" / "mbpp.jsonl")


@pytest.fixture(scope="session")
def mbpp_sanitized(data_dir: Path) -> dict[str, Problem]:
    return load_problems("mbpp-sanitized", data_dir / "mbpp" / "sanitized-mbpp.json")


@pytest.fixture(scope="session")
def bigcodebench(data_dir: Path) -> dict[str, Problem]:
    return load_problems("bigcodebench", data_dir / "bigcodebench" / "BigCodeBench-v0.1.0_hf.jsonl.gz")


@pytest.fixture(scope="session")
def sandbox():  # type: ignore[no-untyped-def]
    """One sandbox for the session's judging tests (2 workers, the default limits)."""
    from cosmocore.config import SandboxConfig
    from cosmocore.sandbox.host import Sandbox

    with Sandbox(SandboxConfig(workers=2)) as sb:
        yield sb
