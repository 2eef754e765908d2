"""Shared fixtures: the real data folder that tests read instead of downloading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never download. They read the real datasets and benchmark figures from this folder,
# which sits next to the repository on the development and CI machines. Set
# HWPRUNE_TEST_DATA to point elsewhere.
DATA_ROOT = Path(
    os.environ.get("HWPRUNE_TEST_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


def require_data(relative: str) -> Path:
    """Return DATA_ROOT / relative, or skip the test when that file or folder is absent."""
    path = DATA_ROOT / relative
    if not path.exists():
        pytest.skip(f"real data not found at {path}; set HWPRUNE_TEST_DATA to the data folder")
    return path


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data folder (skips when it is absent)."""
    return require_data(".")
