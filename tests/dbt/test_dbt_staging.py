"""Staging reads whatever shape landed: extra columns, missing optional columns, Fivetran's
`_fivetran_active` / `_fivetran_deleted` flags, `is_deleted`, an empty stage picklist."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from whizzy.build import build_warehouse
from whizzy.core.errors import BuildError
from whizzy.warehouse.schema import TABLES


def landed_org(path: Path, *, drop_required: str | None = None) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema salesforce")
        opportunity_columns = (
            "id varchar, name varchar, account_id varchar, owner_id varchar, stage_name varchar, "
            "amount decimal(18,2), probability integer, close_date date, created_date timestamp, "
            "is_closed boolean, is_won boolean, is_deleted boolean, "
            "_fivetran_active boolean, _fivetran_synced timestamp, some_custom_field__c varchar"
        )  # no last_modified_date, forecast_category_name, type or lead_source
        if drop_required:
            opportunity_columns = ", ".join(
                c for c in opportunity_columns.split(", ") if not c.startswith(drop_required + " ")
            )
        con.execute(f"create table salesforce.opportunity ({opportunity_columns})")
        rows = [
            # id, stage, amount, close, created, closed, won, deleted, active
            ("006A", "Prospecting", 1000, "2026-12-01", "2026-10-01", False, False, False, True),
            ("006B", "Closed Won", 2000, "2026-10-15", "2026-09-01", True, True, False, None),
            ("006C", "Prospecting", 3000, "2026-12-01", "2026-10-01", False, False, True, True),
            ("006D", "Prospecting", 4000, "2026-12-01", "2026-10-01", False, False, False, False),
        ]
        for r in rows:
            values = dict(
                id=r[0], name=f"Deal {r[0]}", account_id="001A", owner_id="005A", stage_name=r[1],
                amount=r[2], probability=10, close_date=r[3], created_date=r[4], is_closed=r[5],
                is_won=r[6], is_deleted=r[7], _fivetran_active=r[8], _fivetran_synced=None,
                some_custom_field__c="x",
            )
            if drop_required:
                values.pop(drop_required)
            con.execute(
                f"insert into salesforce.opportunity ({', '.join(values)}) "
                f"values ({', '.join('?' for _ in values)})",
                list(values.values()),
            )
        con.execute(TABLES["opportunity_history"].ddl())
        con.execute("""insert into salesforce.opportunity_history values
            ('017A1', '006A', 'Prospecting', 1000, 10, '2026-12-01', 'Pipeline',
             '2026-10-01 09:00', '005A', false),
            ('017C1', '006C', 'Prospecting', 3000, 10, '2026-12-01', 'Pipeline',
             '2026-10-01 09:00', '005A', false),
            ('017B1', '006B', 'Prospecting', 2000, 10, '2026-10-01', 'Pipeline',
             '2026-09-01 09:00', '005A', false),
            ('017B2', '006B', 'Closed Won', 2000, 100, '2026-10-15', 'Closed',
             '2026-10-15 09:00', '005A', true)""")
        con.execute(TABLES["opportunity_stage"].ddl())  # empty: the default process stands in
        con.execute(TABLES["account"].ddl())
        con.execute("insert into salesforce.account (id, name, industry, is_deleted) "
                    "values ('001A', 'Acme', 'Banking', false)")
        con.execute("create table salesforce.user (id varchar, name varchar, "
                    "is_active boolean, _fivetran_deleted boolean, manager_id varchar)")
        con.execute("insert into salesforce.user values ('005A', 'Ann Lee', true, false, '005B'), "
                    "('005B', 'Bob Boss', false, false, null), ('005C', 'Gone', true, true, null)")
        con.execute("create table salesforce.user_role (id varchar, name varchar)")
    finally:
        con.close()


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("landed") / "warehouse.duckdb"
    landed_org(path)
    build_warehouse(path, as_of="2026-11-15", unit_tests=False)
    return path


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_deleted_and_inactive_rows_are_dropped(staged: Path) -> None:
    # 006C is_deleted, 006D _fivetran_active = false; a null flag keeps the row
    assert query(staged, "select opportunity_id from stg_sf__opportunity order by 1") == [
        ("006A",), ("006B",)
    ]
    # the deleted history row of 006B and the rows of the deleted 006C are gone
    assert query(staged, "select opportunity_history_id from stg_sf__opportunity_history "
                         "order by 1") == [("017A1",), ("017B1",)]
    # _fivetran_deleted user dropped; the deactivated manager stays (he still owns history)
    assert query(staged, "select user_id, is_active, manager_name from dim_user order by 1") == [
        ("005A", True, "Bob Boss"), ("005B", False, None)
    ]


@pytest.mark.slow
def test_missing_optional_columns_are_typed_nulls(staged: Path) -> None:
    assert query(staged, """
        select typeof(lead_source), typeof(last_modified_at), count(*)
        from stg_sf__opportunity
        where lead_source is null and last_modified_at is null and opportunity_type is null
        group by all""") == [("VARCHAR", "TIMESTAMP", 2)]
    columns = {r[0] for r in query(
        staged, "select column_name from information_schema.columns "
                "where table_name = 'stg_sf__opportunity'")}
    assert "some_custom_field__c" not in columns and "_fivetran_active" not in columns


@pytest.mark.slow
def test_empty_stage_picklist_falls_back_to_the_default_process(staged: Path) -> None:
    stages = query(staged, "select stage_name, default_probability, is_closed, is_won "
                           "from stg_sf__opportunity_stage order by sort_order")
    assert len(stages) == 10
    assert stages[0] == ("Prospecting", 10, False, False)
    assert stages[-2:] == [("Closed Won", 100, True, True), ("Closed Lost", 0, True, False)]
    assert query(staged, "select stage_sort_order from fct_opportunity "
                         "where opportunity_id = '006A'") == [(1,)]


@pytest.mark.slow
def test_a_missing_required_column_names_table_and_column(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    landed_org(path, drop_required="close_date")
    with pytest.raises(BuildError, match="has no column 'close_date'"):
        build_warehouse(path, as_of="2026-11-15", unit_tests=False)
