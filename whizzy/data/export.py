r"""Write the warehouse's raw `salesforce` tables as a Salesforce-style CSV export.

One file per object (`Opportunity.csv`, `OpportunityHistory.csv`, ...), headers in API-name
form (`StageName`, `CloseDate`), date-times as Data Loader writes them
(`2024-05-01T09:30:00.000Z`), booleans `true`/`false`. `whizzy data import` reads these
files back unchanged, so an export is also a portable backup of the raw data.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula (CSV formula injection: an account named `=HYPERLINK(...)` becomes a live
link). Text cells that start so get a leading `'`, which spreadsheets show as text; a cell
that already starts with quotes before such a character gets one more, so `whizzy data
import`, which removes one, reads every value back exactly. Numbers, dates and booleans
are never changed.

>>> api_name("stage_name"), api_name("product_2_id"), api_name("_fivetran_synced")
('StageName', 'Product2Id', '_fivetran_synced')
>>> [formula_guarded(v) for v in ("=1+1", "-5 deals", "'=x", "Acme", "'quoted", "\tx")]
["'=1+1", "'-5 deals", "''=x", 'Acme', "'quoted", "'\tx"]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from whizzy.core.errors import DataImportError
from whizzy.warehouse.connection import require
from whizzy.warehouse.files import disk_full_is_typed
from whizzy.warehouse.schema import RAW_SCHEMA, TABLES

Progress = Callable[[str, float], None]

#: A text cell that needs the guard quote: any quotes, then a character a spreadsheet starts
#: a formula with (OWASP's list for CSV injection). The same regex runs in DuckDB below.
NEEDS_GUARD = "^'*[=+@\t\r-]"


def formula_guarded(value: str) -> str:
    """`value` as the export writes it: with a leading `'` when a spreadsheet would run it."""
    return "'" + value if re.match(NEEDS_GUARD, value) else value


def api_name(column: str) -> str:
    """Salesforce API name of a snake_case column; `_fivetran_*` columns stay as they are."""
    if column.startswith("_"):
        return column
    return "".join(p[:1].upper() + p[1:] for p in column.split("_"))


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _expr(name: str, type_: str) -> str:
    col = '"' + name.replace('"', '""') + '"'
    if type_.startswith("TIMESTAMP"):
        return f"strftime({col}, '%Y-%m-%dT%H:%M:%S.%gZ')"
    if type_ == "DATE":
        return f"strftime({col}, '%Y-%m-%d')"
    if type_ == "BOOLEAN":
        return f"case when {col} then 'true' when not {col} then 'false' end"
    if type_ == "VARCHAR":  # the formula guard (formula_guarded, in SQL)
        return (f"case when regexp_matches({col}, {_lit(NEEDS_GUARD)}) "
                f"then {_lit(chr(39))} || {col} else {col} end")
    return col


def _write_csv(con: duckdb.DuckDBPyConnection, select: str, path: Path) -> None:
    """Write the rows of `select` to `path` as CSV with a header row."""
    con.execute(f"copy ({select}) to {_lit(str(path))} "
                "(header, delimiter ',', quote '\"', escape '\"')")


def export_csv_dir(warehouse: Path, directory: Path, progress: Progress | None = None
                   ) -> dict[str, Path]:
    """Write one CSV per contract table found in the warehouse; return the files written.

    Files are written beside their final name and renamed into place, so a reader never
    sees half a file. Text cells a spreadsheet would run as a formula get a leading `'`
    (see the module docstring).

    Raises:
        DataImportError: `directory` is a file, or the warehouse holds no raw tables.
        DiskFullError: the disk filled up; no half-written file is left behind.
    """
    report = progress or (lambda _step, _fraction: None)
    require(Path(warehouse))
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise DataImportError(f"{directory} exists and is not a folder.")
    with disk_full_is_typed(directory, "nothing was written"):
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
            try:
                with disk_full_is_typed(directory, f"{target.name} was not written"):
                    _write_csv(con, f'select {select} from {RAW_SCHEMA}."{name}"', tmp)
                    tmp.replace(target)
            finally:
                tmp.unlink(missing_ok=True)
            written[name] = target
    finally:
        con.close()
    report("done", 1.0)
    return written
