"""Per-warehouse resources the nodes share: catalog, value index, as-of date, connections.

Everything here is cached per warehouse *file version* (inode, mtime, size): answering a
question reuses one read-only DuckDB connection and one parsed catalog, and a warehouse
that `whizzy build` swaps in with ``os.replace`` is picked up on the next question.

Swaps under load: every query holds a *lease* on the connection it runs on. When the file
is replaced, new queries wait until the leases on the old connection are released (queries
are short, and each is bounded by the time limit), then the old connection is closed and
the new file opened: no query ever fails or mixes versions because of a swap. A turn that
runs several queries pins one connection (`pinned`), so all its figures come from one file.

Time limit: each query runs under a timer (``WHIZZY_QUERY_TIMEOUT`` seconds, default 30)
that interrupts it (``cursor.interrupt()``); it then fails with `QueryTimeout`, whose text
tells the user what happened and what to try. A result larger than
``WHIZZY_RESULT_MAX_BYTES`` fails with `QueryTooBig`. SQL an LLM wrote runs through
`run_isolated` instead: in a child process that is killed at the time limit and capped in
memory (``WHIZZY_QUERY_MEMORY_MB``), since DuckDB's interrupt and ``memory_limit`` alone
are not hard bounds (`whizzy.warehouse.sandbox`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from whizzy.core.errors import (
    QueryLimitError,
    QueryTimeoutError,
    WarehouseMissingError,
    WarehouseNotBuiltError,
)
from whizzy.core.jsonable import jsonable
from whizzy.core.settings import setting
from whizzy.warehouse.catalog import Catalog, load_catalog
from whizzy.warehouse.connection import connect_readonly, manifest_path_for
from whizzy.warehouse.gate import gate
from whizzy.warehouse.sandbox import SandboxError, fetch_bounded, run_in_sandbox

log = logging.getLogger("whizzy.resources")

#: Seconds a warehouse query may run before it is interrupted (``WHIZZY_QUERY_TIMEOUT``).
DEFAULT_QUERY_TIMEOUT = 30.0
#: Extra seconds a swap waits, beyond the time limit, for queries on the old file.
DRAIN_GRACE = 5.0
#: Largest result, in bytes, a query may return (``WHIZZY_RESULT_MAX_BYTES``).
DEFAULT_RESULT_MAX_BYTES = 16_000_000
#: Memory cap, in MB, of the process running LLM-written SQL (``WHIZZY_QUERY_MEMORY_MB``).
DEFAULT_QUERY_MEMORY_MB = 2048


def user_text(exc: BaseException) -> str:
    """The sentence to show for an error: a WhizzyError's message with its fix, else str()."""
    message = getattr(exc, "user_message", None)
    return message() if callable(message) else str(exc)


def _version(path: Path) -> tuple[int, int, int]:
    stat = os.stat(path)
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


# ---------------------------------------------------------------------------- connections


class QueryTimeout(QueryTimeoutError, duckdb.Error):
    """A query interrupted at the time limit; its text is meant for the user.

    It is a `duckdb.Error` too, so every caller that handles a failed query handles it.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the query took longer than the {seconds:g}-second limit and was stopped; "
            "try a shorter period or fewer breakdowns"
        )
        self.seconds = seconds


class QueryTooBig(QueryLimitError, duckdb.Error):
    """A query that passed its memory or result-size limit; its text is meant for the user."""


def _number_setting(name: str, default: float, *, upper: float) -> float:
    """A positive number from setting `name`, else `default` (a typo is logged, not fatal).

    >>> _number_setting("WHIZZY_SURELY_UNSET_NUMBER", 7.0, upper=10)
    7.0
    """
    raw = setting(name)
    if raw is None or not str(raw).strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= upper:
        log.warning("%s=%r is not a usable number; using %g", name, raw, default)
        return default
    return value


def result_max_bytes() -> int:
    """The largest result a query may return, in bytes: ``WHIZZY_RESULT_MAX_BYTES``."""
    return int(_number_setting("WHIZZY_RESULT_MAX_BYTES", DEFAULT_RESULT_MAX_BYTES,
                               upper=2**40))


def query_memory_mb() -> int:
    """The memory cap of a child running LLM-written SQL, in MB: ``WHIZZY_QUERY_MEMORY_MB``."""
    return int(_number_setting("WHIZZY_QUERY_MEMORY_MB", DEFAULT_QUERY_MEMORY_MB,
                               upper=2**20))


def query_timeout() -> float:
    """The per-query time limit in seconds: ``WHIZZY_QUERY_TIMEOUT``, else 30.

    An unreadable value is reported in the log and the default is used: a typo in a
    setting must not stop every answer.
    """
    raw = setting("WHIZZY_QUERY_TIMEOUT")
    if raw is None or not str(raw).strip():
        return DEFAULT_QUERY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        log.warning("WHIZZY_QUERY_TIMEOUT=%r is not a number of seconds; using %gs",
                    raw, DEFAULT_QUERY_TIMEOUT)
        return DEFAULT_QUERY_TIMEOUT
    return value


@dataclass(eq=False)
class _Connection:
    """One read-only connection to one version of a warehouse file."""

    version: tuple[int, int, int]
    con: duckdb.DuckDBPyConnection
    active: int = 0  # leases held: running queries and pinned turns
    cursors: set[Any] = field(default_factory=set)  # cursors open under a lease


_CONNECTIONS: dict[Path, _Connection] = {}
#: Guards `_CONNECTIONS` and the lease counts; waited on while a replaced file drains.
_CONN_LOCK = threading.Condition()
#: Per thread: the connection each path is pinned to (see `pinned`).
_PINS = threading.local()


def _abspath(path: Path | str) -> Path:
    return Path(os.path.abspath(path))


def _pinned(path: Path) -> _Connection | None:
    pins: dict[Path, _Connection] | None = getattr(_PINS, "entries", None)
    return pins.get(path) if pins else None


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return connect_readonly(path)
    except duckdb.ConnectionException:
        # Another reader in this process opened the file with other settings; DuckDB then
        # refuses new settings. Share that instance read-only and switch external access
        # off on it (a one-way switch), so the gate is still backed by the engine.
        con = duckdb.connect(str(path), read_only=True)
        with contextlib.suppress(duckdb.Error):
            con.execute("set enable_external_access = false")
        return con


def _current(path: Path) -> _Connection:
    """The connection to the file now at `path` (call with `_CONN_LOCK` held).

    DuckDB keeps one database instance per path until its last connection closes, so a
    replaced file can only be opened once the old connection is closed, and closing it
    while a cursor runs fails: wait for the old connection's leases to be released first.
    """
    deadline: float | None = None
    while True:
        try:
            version = _version(path)
        except FileNotFoundError:
            raise WarehouseMissingError(f"No warehouse at {path}.") from None
        entry = _CONNECTIONS.get(path)
        if entry is not None and entry.version == version:
            return entry
        if entry is not None:
            if deadline is None:
                deadline = time.monotonic() + query_timeout() + DRAIN_GRACE
            remaining = deadline - time.monotonic()
            if entry.active and remaining > 0:
                _CONN_LOCK.wait(min(remaining, 0.5))  # released by the last lease
                continue
            if remaining <= 0:  # stuck past every time limit: stop what still runs
                for cur in list(entry.cursors):
                    with contextlib.suppress(Exception):
                        cur.interrupt()
            try:
                entry.con.close()
            except duckdb.Error:  # a cursor is still busy (interrupted, or outside a lease)
                if remaining > -DRAIN_GRACE:
                    _CONN_LOCK.wait(0.05)
                    continue
                log.error("could not close the connection to the replaced %s", path)
            del _CONNECTIONS[path]
        con = _open(path)
        try:
            unchanged = _version(path) == version
        except FileNotFoundError:
            unchanged = False
        if not unchanged:  # replaced again while opening: which file did we get? retry
            con.close()
            continue
        entry = _Connection(version, con)
        _CONNECTIONS[path] = entry
        return entry


@contextlib.contextmanager
def _lease(path: Path | str) -> Iterator[_Connection]:
    """Hold the current connection of `path` (or this thread's pinned one) for a while."""
    path = _abspath(path)
    pinned_entry = _pinned(path)
    if pinned_entry is not None:
        yield pinned_entry
        return
    with _CONN_LOCK:
        entry = _current(path)
        entry.active += 1
    try:
        yield entry
    finally:
        with _CONN_LOCK:
            entry.active -= 1
            _CONN_LOCK.notify_all()


@contextlib.contextmanager
def pinned(path: Path | str) -> Iterator[None]:
    """Inside the block, every query this thread runs on `path` reads the same file version.

    A swap that lands meanwhile waits for the block to end (it is bounded: each query has
    the time limit). Nested blocks reuse the outer pin.
    """
    path = _abspath(path)
    if _pinned(path) is not None:
        yield
        return
    with _lease(path) as entry:
        pins = _PINS.__dict__.setdefault("entries", {})
        pins[path] = entry
        try:
            yield
        finally:
            pins.pop(path, None)


@contextlib.contextmanager
def cursor(path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the current version of `path`, leased for the block (thread-safe)."""
    with _lease(path) as entry:
        cur = entry.con.cursor()
        entry.cursors.add(cur)
        try:
            yield cur
        finally:
            entry.cursors.discard(cur)
            with contextlib.suppress(duckdb.Error):
                cur.close()


def connection(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current version of `path` (reused between questions).

    Prefer `cursor` or `run_sql`: a cursor taken from this connection outside a lease is
    not counted, so a swap may close the connection under it.
    """
    path = _abspath(path)
    pinned_entry = _pinned(path)
    if pinned_entry is not None:
        return pinned_entry.con
    with _CONN_LOCK:
        return _current(path).con


def run_sql(path: Path, sql: str, *, row_limit: int, timeout: float | None = None
            ) -> tuple[list[str], list[tuple[Any, ...]], bool, float]:
    """Run one (already gated) query; returns columns, rows, truncated flag, milliseconds.

    Raises:
        QueryTimeout: the query ran longer than `timeout` seconds (default: the
            ``WHIZZY_QUERY_TIMEOUT`` setting) and was interrupted.
        duckdb.Error: the query failed.
    """
    limit = query_timeout() if timeout is None else float(timeout)
    started = time.perf_counter()
    with cursor(path) as cur:  # a cursor per query: safe across threads
        fired = threading.Event()

        def interrupt() -> None:
            fired.set()
            with contextlib.suppress(Exception):
                cur.interrupt()

        timer = threading.Timer(limit, interrupt)
        timer.daemon = True
        timer.start()
        try:
            result = cur.execute(sql)
            columns = [d[0] for d in result.description or []]
            rows, truncated = fetch_bounded(result, row_limit, result_max_bytes())
        except SandboxError as error:  # the result passed the byte limit
            raise QueryTooBig(f"{error}; it was stopped") from None
        except duckdb.Error:
            if fired.is_set():
                raise QueryTimeout(limit) from None
            raise
        finally:
            timer.cancel()
    return columns, rows[:row_limit], truncated, (time.perf_counter() - started) * 1000


def run_isolated(path: Path, sql: str, *, row_limit: int, timeout: float | None = None,
                 explain: bool = False) -> tuple[list[str], list[list[Any]], bool, float]:
    """Like `run_sql`, with hard limits: in a child process (see `whizzy.warehouse.sandbox`).

    The child reads the file version this thread holds (a swap waits for it, as for any
    query). With `explain`, the query is only planned (``EXPLAIN``), under the same limits.

    Raises:
        QueryTimeout: the child ran past the time limit and was killed.
        QueryTooBig: it passed the memory cap or the result-size limit.
        duckdb.Error: DuckDB refused the query (the message is DuckDB's).
    """
    limit = query_timeout() if timeout is None else float(timeout)
    started = time.perf_counter()
    with _lease(path) as entry:
        try:
            columns, rows, truncated = run_in_sandbox(
                _abspath(path), sql, version=entry.version, row_limit=row_limit, timeout=limit,
                memory_mb=query_memory_mb(), max_bytes=result_max_bytes(), explain=explain)
        except SandboxError as error:
            if error.kind == "timeout":
                raise QueryTimeout(limit) from None
            if error.kind in {"memory", "too_big"}:
                raise QueryTooBig(f"{error}; it was stopped") from None
            raise duckdb.Error(str(error)) from None
    return columns, rows, truncated, (time.perf_counter() - started) * 1000


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
    #: (inode, mtime, size) of the file version these facts were read from.
    version: tuple[int, int, int] | None = None

    def query(self, sql: str, *, row_limit: int = 1000, isolated: bool = False
              ) -> dict[str, Any]:
        """Gate and run `sql`; the result as a JSON-friendly dict.

        With `isolated` (SQL an LLM wrote), it runs under hard limits (`run_isolated`).
        """
        gated = gate(sql, self.allowed, row_limit=row_limit)
        run = run_isolated if isolated else run_sql
        columns, rows, truncated, ms = run(self.path, gated, row_limit=row_limit)
        return {"sql": gated, "columns": columns, "rows": [list(r) for r in rows],
                "row_count": len(rows), "truncated": truncated, "elapsed_ms": round(ms, 2)}


_WAREHOUSES: dict[tuple[Path, Path], tuple[tuple[Any, ...], Warehouse]] = {}
_CATALOGS: dict[Path, tuple[tuple[int, int, int], Catalog]] = {}
_WH_LOCK = threading.Lock()
_FLIGHTS: dict[tuple[Any, ...], threading.Lock] = {}


@contextlib.contextmanager
def single_flight(key: tuple[Any, ...]) -> Iterator[None]:
    """One thread at a time does the work named by `key`; the others wait, then reuse it.

    After a swap every conversation needs the new version's catalog and value index at
    once: without this, each builds its own copy and they all crawl. A thread holding a
    pinned connection never waits here (it could be what a waiting swap waits for).
    """
    if getattr(_PINS, "entries", None):
        yield
        return
    with _WH_LOCK:
        lock = _FLIGHTS.setdefault(key, threading.Lock())
    with lock:
        yield


def _catalog(manifest: Path, version: tuple[int, int, int]) -> Catalog:
    """The parsed manifest, once per manifest file version (a warehouse swap keeps it)."""
    with _WH_LOCK:
        cached = _CATALOGS.get(manifest)
        if cached and cached[0] == version:
            return cached[1]
    with single_flight(("catalog", manifest)):
        with _WH_LOCK:
            cached = _CATALOGS.get(manifest)
            if cached and cached[0] == version:
                return cached[1]
        catalog = load_catalog(manifest)
        with _WH_LOCK:
            _CATALOGS[manifest] = (version, catalog)
        return catalog


def open_warehouse(path: Path, manifest: Path | None = None) -> Warehouse:
    """The built warehouse at `path`, cached per file version of warehouse and manifest.

    The version is the one of the connection the build facts were read from, so the
    catalog, as-of date and data of one `Warehouse` always belong together.

    Raises:
        WarehouseMissingError: no file at `path`.
        WarehouseNotBuiltError: the file holds no built models (or no manifest beside it).
    """
    path = _abspath(path)
    manifest = _abspath(manifest or manifest_path_for(path))
    if not os.path.exists(path):
        raise WarehouseMissingError(f"No warehouse at {path}.")
    try:
        manifest_version = _version(manifest)
    except FileNotFoundError:
        raise WarehouseNotBuiltError(
            f"The warehouse at {path} has not been built (no {manifest.name} beside it)."
        ) from None
    key = (path, manifest)
    with _lease(path) as entry:
        version = (entry.version, manifest_version)
        with _WH_LOCK:
            cached = _WAREHOUSES.get(key)
            if cached and cached[0] == version:
                return cached[1]
        with single_flight(("warehouse", *key)):
            with _WH_LOCK:  # another thread may have opened this version meanwhile
                cached = _WAREHOUSES.get(key)
                if cached and cached[0] == version:
                    return cached[1]
            cur = entry.con.cursor()
            try:
                result = cur.execute("select * from main.build_info limit 1")
                columns = [d[0] for d in result.description]
                row = result.fetchone()
            except duckdb.Error:
                raise WarehouseNotBuiltError(
                    f"The warehouse at {path} holds no build_info: it has not been built."
                ) from None
            finally:
                with contextlib.suppress(duckdb.Error):
                    cur.close()
            if row is None:
                raise WarehouseNotBuiltError(f"The warehouse at {path} has an empty build_info.")
            warehouse = _make_warehouse(path, _catalog(manifest, manifest_version),
                                        dict(zip(columns, row, strict=True)), entry.version)
            with _WH_LOCK:
                _WAREHOUSES[key] = (version, warehouse)
            return warehouse


def _make_warehouse(path: Path, catalog: Catalog, info: dict[str, Any],
                    version: tuple[int, int, int]) -> Warehouse:
    as_of = info.get("as_of_date")
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    if not isinstance(as_of, dt.date):
        as_of = dt.date.fromisoformat(str(as_of)[:10])
    fsm = int(info.get("fiscal_year_start_month") or 1)
    built_at = info.get("built_at")
    return Warehouse(
        path=path,
        catalog=catalog,
        as_of=as_of,
        fiscal_year_start_month=fsm,
        built_at=str(built_at) if built_at is not None else None,
        build_info={k: jsonable(v) for k, v in info.items()},
        allowed=frozenset(catalog.relations() | {("main", "build_info")}),
        version=version,
    )

