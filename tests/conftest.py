"""Shared fixtures: one generated and built demo warehouse per test session.

Tests that only read use `built_warehouse`; tests that write make their own copy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from whizzy.core.logs import install as install_log_redaction

os.environ.setdefault("DO_NOT_TRACK", "1")
# no `whizzy ask` a test runs leaves a warm worker behind; tests/cli/test_ask_worker.py
# turns it on where it is what is tested
os.environ["WHIZZY_ASK_WORKER"] = "0"
install_log_redaction()  # as every entry point does: no test log line carries a secret

#: conftest files hold fixtures, not doctests; collecting them as modules under
#: --doctest-modules would import two files called conftest.py under one name
collect_ignore_glob = ["conftest.py", "*/conftest.py", "*/*/conftest.py"]

#: The org every shared-warehouse test sees (small, deterministic).
DEMO_SEED = 7
DEMO_OPPORTUNITIES = 3000
DEMO_AS_OF = "2026-11-15"


@pytest.fixture(scope="session")
def demo_as_of() -> str:
    """The as-of date of the demo org (a test building its own copy uses it too)."""
    return DEMO_AS_OF


@pytest.fixture(scope="session")
def raw_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding only the generated raw `salesforce` tables."""
    from whizzy.data.generate import generate_org

    path = tmp_path_factory.mktemp("raw") / "warehouse.duckdb"
    generate_org(path, opportunities=DEMO_OPPORTUNITIES, seed=DEMO_SEED, as_of=DEMO_AS_OF)
    return path


@pytest.fixture(scope="session")
def built_warehouse(raw_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo org with every dbt model built (read-only for tests: copy it to write)."""
    from whizzy.build import build_warehouse

    path = tmp_path_factory.mktemp("built") / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse, path)
    # the suite always runs the dbt unit tests once (a build skips them when they passed on
    # this very project before)
    build_warehouse(path, as_of=DEMO_AS_OF, unit_tests=True)
    return path


@pytest.fixture(scope="module")
def raw(built_warehouse: Path):
    """A read-only connection to the built demo org, for SQL on the raw `salesforce` tables.

    Same configuration as the assistant's connection: DuckDB refuses a second connection to
    one file with different settings in the same process.
    """
    from whizzy.warehouse.connection import connect_readonly

    con = connect_readonly(built_warehouse)
    yield con
    con.close()


@pytest.fixture(scope="module")
def assistant(built_warehouse: Path):
    """The assistant on the built demo org."""
    from whizzy.assistant import Assistant

    return Assistant(built_warehouse)


@pytest.fixture(scope="session")
def eval_warehouse() -> Path:
    """The eval org (seed 42, 20,000 opportunities, as of 2026-11-15), built (cached on disk)."""
    from evals.warehouse import ensure_eval_warehouse

    return ensure_eval_warehouse()
