"""Write the warehouse's raw `salesforce` tables as a Salesforce-style CSV export.

One file per object (`Opportunity.csv`, `OpportunityHistory.csv`, ...), headers in API-name
form (`StageName`, `CloseDate`), date-times as Data Loader writes them
(`2024-05-01T09:30:00.000Z`), booleans `true`/`false`. `whizzy data import` reads these
files back unchanged, so an export is also a portable backup of the raw data.

>>> api_name("stage_name"), api_name("product_2_id"), api_name("_fivetran_synced")
('StageName', 'Product2Id', '_fivetran_synced')
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from whizzy.core.errors import DataImportError
from whizzy.warehouse.connection import require
from whizzy.warehouse.schema import RAW_SCHEMA, TABLES

Progress = Callable[[str, float], None]


def api_name(column: str) -> str:
    """Salesforce API name of a snake_case column; `_fivetran_*` columns stay as they are."""
    if column.startswith("_"):
        return column
    return "".join(p[:1].upper() + p[1:] for p in column.split("_"))


def _expr(name: str, type_: str) -> str:
    col = '"' + name.replace('"', '""') + '"'
    if type_.startswith("TIMESTAMP"):
        return f"strftime({col}, '%Y-%m-%dT%H:%M:%S.%gZ')"
    if type_ == "DATE":
        return f"strftime({col}, '%Y-%m-%d')"
    if type_ == "BOOLEAN":
        return f"case when {col} then 'true' when not {col} then 'false' end"
    return col


def export_csv_dir(warehouse: Path, directory: Path, progress: Progress | None = None
                   ) -> dict[str, Path]:
    """Write one CSV per contract table found in the warehouse; return the files written.

    Files are written beside their final name and renamed into place, so a reader never
    sees half a file.
    """
    report = progress or (lambda _step, _fraction: None)
    require(Path(warehouse))
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise DataImportError(f"{directory} exists and is not a folder.")
    directory.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        raise DataImportError(f"{warehouse} is not a readable DuckDB warehouse file.") from None
    written: dict[str, Path] = {}
    try:
        present = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [RAW_SCHEMA]
        ).fetchall()}
        if not present & set(TABLES):
            raise DataImportError(f"{warehouse} holds no raw Salesforce tables to export.")
        for k, (name, table) in enumerate(TABLES.items()):
            if name not in present:
                continue
            report(f"writing {table.sf_object}.csv", k / len(TABLES))
            cols = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where schema_name = ? and table_name = ? order by column_index",
                [RAW_SCHEMA, name],
            ).fetchall()
            select = ", ".join(f'{_expr(c, t)} as "{api_name(c)}"' for c, t in cols)
            target = directory / f"{table.sf_object}.csv"
            tmp = target.with_name(target.name + ".part")
            path_sql = "'" + str(tmp).replace("'", "''") + "'"
            con.execute(
                f'copy (select {select} from {RAW_SCHEMA}."{name}") to {path_sql} '
                "(header, delimiter ',', quote '\"', escape '\"')"
            )
            tmp.replace(target)
            written[name] = target
    finally:
        con.close()
    report("done", 1.0)
    return written
