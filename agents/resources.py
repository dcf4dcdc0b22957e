"""Per-warehouse resources the nodes share: catalog, value index, as-of date, connections.

Everything here is cached per warehouse *file version* (inode, mtime, size): answering a
question reuses one read-only DuckDB connection and one parsed catalog, and a warehouse
that `whizzy build` swaps in with ``os.replace`` is picked up on the next question.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from agents.catalog import Catalog, load_catalog
from agents.gate import gate
from agents.values import TIME_DIMENSIONS, ValueIndex, cached_index
from whizzy.errors import WarehouseMissingError, WarehouseNotBuiltError
from whizzy.warehouse import connect_readonly

#: Dimensions whose distinct values are indexed only when there are at most this many.
MAX_INDEXED_VALUES = 200_000


def manifest_path_for(warehouse: Path) -> Path:
    """Where `whizzy build` stores the manifest of `warehouse` (``<stem>.manifest.json``)."""
    try:
        from whizzy.build import manifest_path_for as build_manifest_path
    except ImportError:  # the build module is optional for reading an already built warehouse
        return warehouse.with_name(warehouse.stem + ".manifest.json")
    return build_manifest_path(warehouse)


def user_text(exc: BaseException) -> str:
    """The sentence to show for an error: a WhizzyError's message with its fix, else str()."""
    message = getattr(exc, "user_message", None)
    return message() if callable(message) else str(exc)


def _version(path: Path) -> tuple[int, int, int]:
    stat = os.stat(path)
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


# ---------------------------------------------------------------------------- connections


@dataclass
class _Connection:
    version: tuple[int, int, int]
    con: duckdb.DuckDBPyConnection
    lock: threading.Lock = field(default_factory=threading.Lock)


_CONNECTIONS: dict[Path, _Connection] = {}
_CONN_LOCK = threading.Lock()


def connection(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current version of `path` (reused between questions)."""
    path = Path(os.path.abspath(path))
    try:
        version = _version(path)
    except FileNotFoundError:
        raise WarehouseMissingError(f"No warehouse at {path}.") from None
    with _CONN_LOCK:
        cached = _CONNECTIONS.get(path)
        if cached and cached.version == version:
            return cached.con
        if cached is not None:
            # DuckDB caches one database instance per path: until the old connection is
            # closed, connecting again would return the old (replaced) file's data.
            cached.con.close()
        try:
            con = connect_readonly(path)
        except duckdb.ConnectionException:
            # Another reader in this process opened the file with other settings; DuckDB then
            # refuses new settings. Share that instance read-only and switch external access
            # off on it (a one-way switch), so the gate is still backed by the engine.
            con = duckdb.connect(str(path), read_only=True)
            with contextlib.suppress(duckdb.Error):
                con.execute("set enable_external_access = false")
        _CONNECTIONS[path] = _Connection(version, con)
        return con


def run_sql(path: Path, sql: str, *, row_limit: int) -> tuple[list[str], list[tuple[Any, ...]],
                                                              bool, float]:
    """Run one (already gated) query; returns columns, rows, truncated flag, milliseconds."""
    started = time.perf_counter()
    cursor = connection(path).cursor()  # a cursor per query: safe across threads
    try:
        result = cursor.execute(sql)
        columns = [d[0] for d in result.description or []]
        rows = result.fetchmany(row_limit + 1)
    finally:
        cursor.close()
    truncated = len(rows) > row_limit
    return columns, rows[:row_limit], truncated, (time.perf_counter() - started) * 1000


# ---------------------------------------------------------------------------- the warehouse


@dataclass(frozen=True)
class Warehouse:
    """A built warehouse as the agents see it."""

    path: Path
    catalog: Catalog
    as_of: dt.date
    fiscal_year_start_month: int
    built_at: str | None
    build_info: dict[str, Any]
    allowed: frozenset[tuple[str, str]]

    def values(self) -> ValueIndex:
        """The value index of this warehouse version (built on first use)."""
        return cached_index(self.path, lambda: build_value_index(self),
                            tag=str(self.catalog.path))

    def query(self, sql: str, *, row_limit: int = 1000) -> dict[str, Any]:
        """Gate and run `sql`; the result as a JSON-friendly dict (never raises for SQL errors)."""
        gated = gate(sql, self.allowed, row_limit=row_limit)
        columns, rows, truncated, ms = run_sql(self.path, gated, row_limit=row_limit)
        return {"sql": gated, "columns": columns, "rows": [list(r) for r in rows],
                "row_count": len(rows), "truncated": truncated, "elapsed_ms": round(ms, 2)}


_WAREHOUSES: dict[tuple[Path, Path], tuple[tuple[Any, ...], Warehouse]] = {}
_WH_LOCK = threading.Lock()


def open_warehouse(path: Path, manifest: Path | None = None) -> Warehouse:
    """The built warehouse at `path`, cached per file version of warehouse and manifest.

    Raises:
        WarehouseMissingError: no file at `path`.
        WarehouseNotBuiltError: the file holds no built models (or no manifest beside it).
    """
    path = Path(os.path.abspath(path))
    manifest = Path(os.path.abspath(manifest or manifest_path_for(path)))
    try:
        warehouse_version = _version(path)
    except FileNotFoundError:
        raise WarehouseMissingError(f"No warehouse at {path}.") from None
    try:
        manifest_version = _version(manifest)
    except FileNotFoundError:
        raise WarehouseNotBuiltError(
            f"The warehouse at {path} has not been built (no {manifest.name} beside it)."
        ) from None
    key = (path, manifest)
    version = (warehouse_version, manifest_version)
    with _WH_LOCK:
        cached = _WAREHOUSES.get(key)
        if cached and cached[0] == version:
            return cached[1]
    catalog = load_catalog(manifest)
    con = connection(path)
    try:
        cursor = con.cursor()
        result = cursor.execute("select * from main.build_info limit 1")
        columns = [d[0] for d in result.description]
        row = result.fetchone()
        cursor.close()
    except duckdb.Error:
        raise WarehouseNotBuiltError(
            f"The warehouse at {path} holds no build_info: it has not been built."
        ) from None
    if row is None:
        raise WarehouseNotBuiltError(f"The warehouse at {path} has an empty build_info.")
    info = dict(zip(columns, row, strict=True))
    as_of = info.get("as_of_date")
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, dt.date):
        as_of = dt.date.fromisoformat(str(as_of)[:10])
    fsm = int(info.get("fiscal_year_start_month") or 1)
    built_at = info.get("built_at")
    warehouse = Warehouse(
        path=path,
        catalog=catalog,
        as_of=as_of,
        fiscal_year_start_month=fsm,
        built_at=str(built_at) if built_at is not None else None,
        build_info={k: _jsonable(v) for k, v in info.items()},
        allowed=frozenset(catalog.relations() | {("main", "build_info")}),
    )
    with _WH_LOCK:
        _WAREHOUSES[key] = (version, warehouse)
    return warehouse


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def build_value_index(warehouse: Warehouse) -> ValueIndex:
    """Distinct values of every text dimension the catalog declares.

    Each dimension is read from the answerable model that declares the most dimensions
    (the flexible fact model), so one scan per dimension covers every model.
    """
    sources: dict[str, tuple[str, str]] = {}
    models = sorted(warehouse.catalog.answerable,
                    key=lambda m: (-len(m.answerable.dimensions), m.name))
    for model in models:
        for dim in model.answerable.dimensions:
            if dim.name in TIME_DIMENSIONS or dim.name in sources or \
                    dim.column == model.answerable.kind_column:
                continue
            column = model.columns.get(dim.column)
            if column and column.data_type and not column.data_type.lower().startswith(
                ("varchar", "text", "string", "char")
            ):
                continue
            sources[dim.name] = (model.relation, dim.column)
    values: dict[str, list[str]] = {}
    con = connection(warehouse.path)
    for name, (relation, column) in sources.items():
        schema, table = relation.split(".", 1)
        sql = (f'select distinct cast("{column}" as varchar) from "{schema}"."{table}" '
               f'where "{column}" is not null limit {MAX_INDEXED_VALUES + 1}')
        cursor = con.cursor()
        try:
            rows = cursor.execute(sql).fetchall()
        except duckdb.Error:
            continue
        finally:
            cursor.close()
        if len(rows) <= MAX_INDEXED_VALUES:
            values[name] = [r[0] for r in rows]
    return ValueIndex(values)
