"""The gate's second check: DuckDB's own parse tree of the query that will run.

sqlglot and DuckDB can read one text differently, so the SQL the gate hands on is parsed
again by DuckDB (``json_serialize_sql``, which parses without binding or running anything)
and that tree is checked: every function is on the allowlist (`whizzy.warehouse.functions`),
every table function generates values only, and every table is an allowed relation or a
CTE that DuckDB's scoping makes visible at that point:

- a CTE's body sees the CTEs defined *before* it, never the later ones, even under
  ``WITH RECURSIVE``;
- a CTE sees itself only in the recursive branch of a ``UNION`` under ``WITH RECURSIVE``
  (DuckDB's ``RECURSIVE_CTE_NODE``): in the base case, or in a body that is not a union,
  its own name is the real table of that name;
- the query that owns the WITH sees all of its CTEs, and so do its subqueries.

>>> allowed = {("main", "fct")}
>>> _ = duckdb_check("SELECT sum(amount) FROM fct", allowed)
>>> _ = duckdb_check("WITH RECURSIVE a AS (SELECT * FROM duckdb_databases), "
...              "duckdb_databases AS (SELECT 1) SELECT * FROM a", allowed)
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
whizzy.core.errors.UnsafeQueryError: The table duckdb_databases is not a catalog model or ...
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from typing import Any

import duckdb

from whizzy.core.errors import UnsafeQueryError
from whizzy.warehouse.functions import allowed_function, allowed_table_function

_PARSER = threading.local()

#: Table references a gated query may use (the others, e.g. PIVOT or SHOW, are refused).
_TABLE_REFS = frozenset({"BASE_TABLE", "TABLE_FUNCTION", "JOIN", "SUBQUERY", "EMPTY",
                         "EXPRESSION_LIST"})
#: Query nodes a gated query may contain.
_QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE"})


def _parser() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory connection, used only to parse (no file, no extension)."""
    con = getattr(_PARSER, "con", None)
    if con is None:
        con = duckdb.connect(":memory:", config={
            "enable_external_access": False, "autoinstall_known_extensions": False,
            "autoload_known_extensions": False, "lock_configuration": True,
        })
        _PARSER.con = con
    return con


def parse_tree(sql: str) -> dict[str, Any]:
    """DuckDB's parse tree of the single SELECT statement `sql`, or raise UnsafeQueryError."""
    try:
        raw = _parser().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
    except duckdb.Error as error:
        raise UnsafeQueryError(f"DuckDB cannot read the query: {_first(error)}") from None
    tree = json.loads(raw)
    if tree.get("error"):
        raise UnsafeQueryError(f"DuckDB cannot read the query: {tree.get('error_message')}")
    statements = tree.get("statements") or []
    if len(statements) != 1:
        raise UnsafeQueryError(f"Exactly one statement is allowed; got {len(statements)}.")
    return statements[0]["node"]


def _first(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0]


class _Checker:
    """Walks one parse tree with the CTE names visible at each point."""

    def __init__(self, allowed: Collection[tuple[str, str]], default_schema: str) -> None:
        self.allowed = {(s.lower(), t.lower()) for s, t in allowed}
        self.default_schema = default_schema.lower()

    def visit(self, node: Any, visible: frozenset[str]) -> None:
        if isinstance(node, list):
            for item in node:
                self.visit(item, visible)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if node.get("class") in {"FUNCTION", "WINDOW"} or kind in {"FUNCTION", "WINDOW"}:
            self._function(node)
        if kind == "BASE_TABLE":
            self._table(node, visible)
        elif kind == "TABLE_FUNCTION":
            self._table_function(node)
        elif "class" not in node and isinstance(kind, str) and (
                (kind.endswith("_NODE") and kind not in _QUERY_NODES)
                or ("sample" in node and not kind.endswith("_NODE") and kind not in _TABLE_REFS)):
            raise UnsafeQueryError(f"The query holds a {kind.lower()}, which is not allowed.")
        inner = visible
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict) and cte_map.get("map"):
            inner = self._ctes(cte_map["map"], visible)
        for key, value in node.items():
            if key == "cte_map":
                continue
            if key == "function" and kind == "TABLE_FUNCTION":
                self.visit((value or {}).get("arguments"), inner)  # checked by name above
            elif key == "right" and kind == "RECURSIVE_CTE_NODE":
                # only the recursive branch sees the CTE being defined
                self.visit(value, inner | {str(node.get("cte_name", "")).lower()})
            else:
                self.visit(value, inner)

    def _ctes(self, entries: list[dict[str, Any]], visible: frozenset[str]) -> frozenset[str]:
        seen = visible
        for entry in entries:
            body = entry.get("value") or {}
            self.visit(body, seen)  # earlier CTEs only; itself only via RECURSIVE_CTE_NODE
            seen = seen | {str(entry.get("key", "")).lower()}
        return seen

    def _function(self, node: dict[str, Any]) -> None:
        name = str(node.get("function_name") or "")
        if not name:
            return
        if node.get("schema") or node.get("catalog"):
            raise UnsafeQueryError(f"Qualified function names ({name}) are not allowed.")
        if not allowed_function(name):
            raise UnsafeQueryError(f"The function {name.lower()}() is not allowed.")

    def _table_function(self, node: dict[str, Any]) -> None:
        function = node.get("function") or {}
        name = str(function.get("function_name") or "")
        if function.get("schema") or function.get("catalog") or not allowed_table_function(name):
            raise UnsafeQueryError(f"The table function {name.lower()}() is not allowed.")

    def _table(self, node: dict[str, Any], visible: frozenset[str]) -> None:
        name = str(node.get("table_name") or "").lower()
        schema = str(node.get("schema_name") or "").lower()
        if node.get("catalog_name"):
            raise UnsafeQueryError(f"Database-qualified tables ({name}) are not allowed.")
        if node.get("at_clause"):
            raise UnsafeQueryError("Time-travel reads (AT ...) are not allowed.")
        if not schema and name in visible:
            return
        if (schema or self.default_schema, name) not in self.allowed:
            shown = f"{schema}.{name}" if schema else name
            raise UnsafeQueryError(
                f"The table {shown} is not a catalog model or raw Salesforce table.")


def duckdb_check(sql: str, allowed: Collection[tuple[str, str]], *,
                 default_schema: str = "main") -> dict[str, Any]:
    """Check DuckDB's parse of `sql` (see the module); return the tree or raise."""
    tree = parse_tree(sql)
    _Checker(allowed, default_schema).visit(tree, frozenset())
    return tree


def reads_a_relation(tree: dict[str, Any], allowed: Collection[tuple[str, str]], *,
                     default_schema: str = "main") -> bool:
    """Whether every row of the query comes FROM an allowed relation (directly or via CTEs).

    A scalar subquery does not count: ``SELECT 1e9 AS revenue, (SELECT 1 FROM fct)`` makes
    its figure up. Every branch of a set operation must read one.

    >>> allowed = {("main", "fct")}
    >>> reads_a_relation(parse_tree("SELECT 1000000000 AS total_revenue"), allowed)
    False
    >>> reads_a_relation(parse_tree("WITH x AS (SELECT * FROM fct) SELECT * FROM x"), allowed)
    True
    """
    allowed_lower = {(s.lower(), t.lower()) for s, t in allowed}
    return _reads(tree, allowed_lower, default_schema.lower(), {})


def _reads(node: Any, allowed: set[tuple[str, str]], default_schema: str,
           ctes: dict[str, Any]) -> bool:
    if not isinstance(node, dict):
        return False
    kind = node.get("type")
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict) and cte_map.get("map"):
        ctes = dict(ctes)
        for entry in cte_map["map"]:
            ctes[str(entry.get("key", "")).lower()] = (entry.get("value") or {}).get("query_node")
    if kind == "SELECT_NODE":
        return _reads(node.get("from_table"), allowed, default_schema, ctes)
    if kind == "SET_OPERATION_NODE":
        children = node.get("children") or [node.get("left"), node.get("right")]
        return all(_reads(c, allowed, default_schema, ctes) for c in children if c)
    if kind == "RECURSIVE_CTE_NODE":
        return _reads(node.get("left"), allowed, default_schema, ctes)
    if kind == "JOIN":
        return any(_reads(node.get(side), allowed, default_schema, ctes)
                   for side in ("left", "right"))
    if kind == "SUBQUERY":
        return _reads((node.get("subquery") or {}).get("node"), allowed, default_schema, ctes)
    if kind == "BASE_TABLE":
        name = str(node.get("table_name") or "").lower()
        schema = str(node.get("schema_name") or "").lower()
        if not schema and name in ctes:
            body, rest = ctes[name], {k: v for k, v in ctes.items() if k != name}
            return _reads(body, allowed, default_schema, rest)
        return (schema or default_schema, name) in allowed
    return False
