"""Fixtures of the reliability suite (helpers live in `reliability_support`).

The session's demo warehouse (`built_warehouse`) is never written: tests that swap, import
or hash work on their own copy in their own folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability_support import copy_warehouse  # noqa: E402


@pytest.fixture
def served(built_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the demo warehouse (and its manifest) in its own folder."""
    return copy_warehouse(built_warehouse, tmp_path / "served")
