"""Every DuckDB function and macro through the SQL gate (issue 17, finding 2).

For each name in ``duckdb_functions()`` (scalar, aggregate, window, table, pragma, macro and
table macro), the gate gets the same call in many shapes: scalar, table, qualified, quoted,
method syntax, windowed, inside a CTE or a subquery, and hidden behind a CTE named after a
system view. An *escape* is a query the gate accepts that calls a function outside the
allowlist. Every accepted query then runs on the read-only connection, and the warehouse
file must be byte-for-byte the same afterwards.

The allowlist itself is checked against DuckDB: every name on it is a DuckDB scalar,
aggregate or window function (or one of the three value-generating table functions), none
reads the session, settings or files, and every built-in macro on it expands only to
allowed functions (``get_block_size`` is a macro over ``pragma_database_size``).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from reliability_support import sha256

from whizzy.core.errors import UnsafeQueryError
from whizzy.warehouse.functions import ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS
from whizzy.warehouse.gate import gate
from whizzy.warehouse.parsetree import parse_tree
from whizzy.warehouse.reader import open_warehouse, run_sql

#: The call shapes; {f} is the function name.
SHAPES = [
    "select {f}() from fct_opportunity",
    "select {f}(amount) from fct_opportunity",
    "select {f}(stage_name, 1) from fct_opportunity",
    "select {f}('memory_limit') from fct_opportunity",
    "select \"{f}\"(amount) from fct_opportunity",
    "select main.{f}(amount) from fct_opportunity",
    "select system.main.{f}() from fct_opportunity",
    "select stage_name.{f}() from fct_opportunity",
    "select {f}(amount) over () from fct_opportunity",
    "select * from {f}()",
    "select * from {f}('main')",
    "select * from fct_opportunity, {f}()",
    "select * from \"{f}\"()",
    "select (select {f}()) from fct_opportunity",
    "with x as (select {f}() as v) select * from fct_opportunity, x",
    "with recursive a as (select * from {f}), {f} as (select 1) select * from a",
    "with recursive {f} as (select * from {f} union all select * from {f}) select * from {f}",
    "select * from fct_opportunity where amount in (select * from {f}())",
]

#: Names no analytics query needs and the allowlist must never hold.
DANGEROUS = re.compile(
    r"setting|secret|extension|getenv|file|^read_|glob|scan|^current_(?!date$)|version|"
    r"variable|serialize|execute|sleep|^error$|write_log|duckdb_log|query|pragma|checkpoint|random|seed|"
    r"nextval|currval|setval|uuid|txid|connection|^stats$|^repeat|resize|^lpad$|^rpad$"
)


def _functions() -> dict[str, set[str]]:
    """Every DuckDB function name (lower case) with its types."""
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute("select function_name, function_type from duckdb_functions()"
                           ).fetchall()
    finally:
        con.close()
    names: dict[str, set[str]] = {}
    for name, kind in rows:
        names.setdefault(name.lower(), set()).add(kind)
    return names


def _macros() -> dict[str, list[str]]:
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute("select function_name, macro_definition from duckdb_functions() "
                           "where function_type in ('macro', 'table_macro')").fetchall()
    finally:
        con.close()
    macros: dict[str, list[str]] = {}
    for name, body in rows:
        macros.setdefault(name.lower(), []).append(body)
    return macros


def _called(node) -> set[str]:
    """Function names in a DuckDB parse tree."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _called(item)
    elif isinstance(node, dict):
        if node.get("class") in {"FUNCTION", "WINDOW"} and node.get("function_name"):
            found.add(str(node["function_name"]).lower())
        for value in node.values():
            found |= _called(value)
    return found


def test_the_allowlist_holds_only_plain_duckdb_functions():
    functions = _functions()
    unknown = sorted(n for n in ALLOWED_FUNCTIONS if n not in functions)
    assert not unknown, unknown
    dangerous = sorted(n for n in ALLOWED_FUNCTIONS if DANGEROUS.search(n))
    assert not dangerous, dangerous
    not_plain = sorted(n for n in ALLOWED_FUNCTIONS - ALLOWED_TABLE_FUNCTIONS
                       if functions[n] & {"table", "table_macro", "pragma"})
    assert not not_plain, not_plain
    assert ALLOWED_TABLE_FUNCTIONS == {"range", "generate_series", "unnest"}


def test_every_allowed_macro_expands_to_allowed_functions_only():
    macros = _macros()
    checked = 0
    for name in sorted(ALLOWED_FUNCTIONS & set(macros)):
        for body in macros[name]:
            called = _called(parse_tree(f"select {body}"))
            assert called <= ALLOWED_FUNCTIONS | {name}, (name, body, called - ALLOWED_FUNCTIONS)
            checked += 1
    assert checked >= 10


@pytest.mark.slow
def test_every_duckdb_function_and_macro_through_the_gate(served: Path, capsys):
    warehouse = open_warehouse(served)
    before = sha256(served)
    functions = _functions()
    tried = accepted = escapes = ran = 0
    escaped: list[str] = []
    for name in sorted(functions):
        quoted = name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else f'"{name}"'
        for shape in SHAPES:
            sql = shape.replace("{f}", quoted).replace('""', '"')
            tried += 1
            try:
                gated = gate(sql, warehouse.allowed, row_limit=5)
            except UnsafeQueryError:
                continue
            accepted += 1
            called = _called(parse_tree(gated))
            if not called <= ALLOWED_FUNCTIONS | ALLOWED_TABLE_FUNCTIONS:
                escapes += 1
                escaped.append(sql)
                continue
            try:
                run_sql(served, gated, row_limit=5, timeout=10)
                ran += 1
            except duckdb.Error:
                pass  # wrong arguments: DuckDB's binder refuses, which is fine
    with capsys.disabled():
        print(f"\ngate sweep: {len(functions)} DuckDB functions and macros, {tried} inputs "
              f"tried, {accepted} accepted, {ran} ran, {escapes} escapes")
    assert escapes == 0, escaped[:20]
    assert len(functions) >= 900 and tried >= len(functions) * len(SHAPES)
    assert sha256(served) == before


@pytest.mark.parametrize("sql", [
    "with recursive a as (select database_name, path from duckdb_databases), "
    "duckdb_databases as (select 1) select * from a",
    "with recursive a as (select name, value from duckdb_settings), "
    "duckdb_settings as (select 1) select * from a",
    "with recursive a as (select sql from duckdb_views), duckdb_views as (select 1) "
    "select * from a",
])
def test_the_red_teams_recursive_cte_reads_no_system_view(served: Path, sql):
    warehouse = open_warehouse(served)
    with pytest.raises(UnsafeQueryError):
        warehouse.query(sql)
