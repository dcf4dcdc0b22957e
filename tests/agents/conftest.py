"""Fixtures of the agents tests: the demo org's raw tables and an assistant on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from whizzy.assistant import Assistant
from whizzy.warehouse.connection import connect_readonly


@pytest.fixture(scope="module")
def raw(built_warehouse: Path):
    """A read-only connection to the built demo org (for SQL on the raw `salesforce` tables)."""
    con = connect_readonly(built_warehouse)
    yield con
    con.close()


@pytest.fixture(scope="module")
def assistant(built_warehouse: Path) -> Assistant:
    """The assistant on the built demo org."""
    return Assistant(built_warehouse)
