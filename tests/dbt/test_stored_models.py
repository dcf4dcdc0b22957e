"""Every model the agents answer from is stored as a table, so no question recomputes it.

A view is computed again on every read: the executive dashboard as a view cost the briefing
about 30 ms per question at 1M opportunities, for one row fixed by the build's as-of date.
"""

from __future__ import annotations

from pathlib import Path

from whizzy.warehouse.catalog import load_catalog
from whizzy.warehouse.connection import connect_readonly, manifest_path_for


def test_every_answerable_model_is_a_stored_table(built_warehouse: Path) -> None:
    catalog = load_catalog(manifest_path_for(built_warehouse))
    con = connect_readonly(built_warehouse)  # the configuration every reader opens it with
    try:
        kinds = dict(con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'main'").fetchall())
    finally:
        con.close()
    answerable = {m.alias or m.name for m in catalog.answerable}
    assert "a_executive_dashboard" in answerable
    assert {name: kinds.get(name) for name in answerable} == {
        name: "BASE TABLE" for name in answerable}
