"""Fixtures of the reliability suite (helpers live in `reliability_support`).

The session's demo warehouse (`built_warehouse`) is never written: tests that swap, import
or hash work on their own copy in their own folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability_support import copy_warehouse  # noqa: E402


@pytest.fixture
def served(built_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the demo warehouse (and its manifest) in its own folder.

    Served as a build leaves it: with its value index saved beside it, by another process
    as `whizzy build` does, so answering writes nothing at all and this process has read
    nothing of it yet.
    """
    path = copy_warehouse(built_warehouse, tmp_path / "served")
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from whizzy.cli.build import index_values; index_values(Path(sys.argv[1]))",
                    str(path)], check=True, capture_output=True)
    return path
