"""The SQL gate every query passes before it reaches the warehouse.

A query is allowed only if it parses as exactly one read-only query (``SELECT``, CTEs and
set operations allowed) that reads catalog models and the raw ``salesforce`` tables only,
calls only allowed functions (`whizzy.warehouse.functions`), and returns at most the row
limit (a LIMIT is added or lowered). Anything else raises `UnsafeQueryError` with the
reason. The check runs twice: on sqlglot's tree of the text, then on DuckDB's own parse of
the SQL the gate hands on (`whizzy.warehouse.parsetree`), so the two parsers can't read one
text two ways. The connection it then runs on is read-only with external access switched
off, so the gate is the first of two locks, not the only one.

>>> allowed = {("main", "fct_opportunity"), ("salesforce", "opportunity")}
>>> print(gate("select count(*) from fct_opportunity", allowed, row_limit=100, pretty=False))
SELECT COUNT(*) FROM fct_opportunity LIMIT 100
>>> gate("drop table fct_opportunity", allowed)
Traceback (most recent call last):
...
whizzy.core.errors.UnsafeQueryError: Only SELECT queries are allowed (got DROP).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

import sqlglot
from sqlglot import exp

from whizzy.core.errors import UnsafeQueryError
from whizzy.warehouse.functions import allowed_table_function
from whizzy.warehouse.parsetree import duckdb_check, reads_a_relation

DIALECT = "duckdb"
# sqlglot logs a warning when it falls back to a raw Command (LOAD, CALL, ...); the gate
# refuses those statements with its own message, so the warning is noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

#: Statement and clause types that change data, schema, settings or the session.
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "TruncateTable",
        "Command", "Copy", "Attach", "Detach", "Pragma", "Set", "SetItem", "Use", "Transaction",
        "Commit", "Rollback", "Into", "LoadData", "Export", "Install", "Describe", "Summarize",
        "Show", "Grant", "Revoke", "Analyze", "Cache", "Uncache", "Refresh",
    )
    if hasattr(exp, name)
)

#: Functions that read files or the network, or expose the environment.
FORBIDDEN_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "parquet_metadata",
    "parquet_schema", "read_json", "read_json_auto", "read_json_objects", "read_ndjson",
    "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob", "read_xlsx", "glob",
    "sniff_csv", "st_read", "iceberg_scan", "delta_scan", "postgres_scan", "postgres_query",
    "sqlite_scan", "mysql_scan", "query", "query_table", "getenv", "read_file", "http_get",
    "load_extension", "install_extension", "duckdb_settings", "duckdb_extensions",
    "duckdb_secrets", "which_secret", "current_setting", "pg_read_file", "system",
    # sequences and the random seed are session state, not data
    "nextval", "currval", "setseed",
    # run or serialise SQL (json_serialize_plan with optimize := true evaluates it)
    "json_serialize_plan", "json_serialize_sql", "json_deserialize_sql",
    "json_execute_serialized_sql",
})


def _function_name(node: exp.Func) -> str:
    """The lower-case name DuckDB resolves, quoted or not (``"getenv"('HOME')`` is getenv)."""
    if isinstance(node, exp.Anonymous):
        this = node.this
        return (this.name if isinstance(this, exp.Identifier) else str(this)).lower()
    return node.sql_name().lower()


def _with_of(query: exp.Expression) -> exp.With | None:
    """The WITH clause a query owns (sqlglot names the argument ``with_`` or ``with``)."""
    for key in ("with_", "with"):
        value = query.args.get(key)
        if isinstance(value, exp.With):
            return value
    return None


def _in_recursive_branch(node: exp.Expression, cte: exp.CTE) -> bool:
    """Whether `node` sits in the recursive branch of `cte`'s ``UNION`` body.

    Under ``WITH RECURSIVE`` DuckDB lets a CTE read itself only there: in the base case (the
    left side), or in a body that is not a ``UNION``, its name is the real table.
    """
    body = cte.this
    if not isinstance(body, exp.Union):
        return False
    branch = body.expression
    current: exp.Expression | None = node
    while current is not None and current is not body:
        if current is branch:
            return True
        current = current.parent
    return False


def _is_cte_reference(node: exp.Table, name: str) -> bool:
    """Whether the unqualified table `name` read by `node` is a CTE visible at that point.

    DuckDB resolves a name to a CTE only inside the query that defines it: an outer query
    can't see a subquery's CTEs, and a CTE's own body sees only the CTEs defined before it,
    even under ``WITH RECURSIVE``; it sees itself only in the recursive branch of a
    ``UNION`` under ``WITH RECURSIVE``. Anything else is a real table, so
    ``with secrets as (select * from secrets) ...`` reads the table ``secrets``, and so does
    ``with recursive a as (select * from secrets), secrets as (select 1) ...``.
    """
    child: exp.Expression = node
    parent = node.parent
    owner_done: exp.Expression | None = None
    while parent is not None:
        if isinstance(parent, exp.With) and isinstance(child, exp.CTE):
            ctes = list(parent.expressions)
            position = next(i for i, cte in enumerate(ctes) if cte is child)
            if any(cte.alias_or_name.lower() == name for cte in ctes[:position]):
                return True
            if (parent.args.get("recursive") and child.alias_or_name.lower() == name
                    and _in_recursive_branch(node, child)):
                return True
            owner_done = parent.parent  # the query owning this WITH was just checked
        elif isinstance(parent, exp.Query) and parent is not owner_done:
            with_ = _with_of(parent)
            if with_ is not None and any(cte.alias_or_name.lower() == name
                                         for cte in with_.expressions):
                return True
        child, parent = parent, parent.parent
    return False


def _refuse(reason: str) -> UnsafeQueryError:
    return UnsafeQueryError(reason)


def check(sql: str, allowed: Collection[tuple[str, str]], *, default_schema: str = "main"
          ) -> exp.Query:
    """Parse `sql` and check it; return the query expression or raise `UnsafeQueryError`."""
    if not sql or not sql.strip():
        raise _refuse("The query is empty.")
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except sqlglot.errors.SqlglotError as error:
        raise _refuse(f"The query does not parse: {str(error).splitlines()[0]}") from None
    if len(statements) != 1:
        raise _refuse(f"Exactly one statement is allowed; got {len(statements)}.")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise _refuse(f"Only SELECT queries are allowed (got {kind}).")

    allowed_lower = {(s.lower(), t.lower()) for s, t in allowed}
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise _refuse(f"The query contains a forbidden {node.key.upper()} clause.")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name in FORBIDDEN_FUNCTIONS or name.startswith(("read_", "duckdb_", "pragma_")):
                raise _refuse(f"The function {name}() is not allowed.")
        if isinstance(node, exp.Table):
            _check_table(node, allowed_lower, default_schema)
    return tree


def _check_table(node: exp.Table, allowed: set[tuple[str, str]], default_schema: str
                 ) -> None:
    target = node.this
    if isinstance(target, exp.Func):  # a table function: FROM read_csv(...), range(10)
        name = _function_name(target)
        if allowed_table_function(name):
            return
        raise _refuse(f"The table function {name}() is not allowed.")
    if not isinstance(target, exp.Identifier):
        raise _refuse("Only named tables may be read.")
    name = node.name.lower()
    if node.args.get("catalog") is not None:
        raise _refuse(f"Database-qualified tables ({node.sql()}) are not allowed.")
    schema = (node.db or "").lower()
    if not schema and _is_cte_reference(node, name):
        return
    if (schema or default_schema, name) not in allowed:
        shown = f"{schema}.{name}" if schema else name
        raise _refuse(f"The table {shown} is not a catalog model or raw Salesforce table.")


def enforce_limit(tree: exp.Query, row_limit: int, *, copy: bool = True) -> exp.Query:
    """Add a LIMIT, or lower one that is larger than `row_limit` (or not a plain number).

    With `copy=False` a LIMIT added goes into `tree` itself (the gate's own parse).

    >>> print(enforce_limit(sqlglot.parse_one("select 1 limit 5000"), 100).sql())
    SELECT 1 LIMIT 100
    >>> print(enforce_limit(sqlglot.parse_one("select 1 limit 5"), 100).sql())
    SELECT 1 LIMIT 5
    >>> percent = sqlglot.parse_one("select 1 limit 5 percent", read="duckdb")
    >>> print(enforce_limit(percent, 100).sql())  # a share of the rows has no bound
    SELECT 1 LIMIT 100
    """
    limit = tree.args.get("limit")
    current = None
    if isinstance(limit, exp.Limit):
        value = limit.args.get("expression") or limit.this
        options = limit.args.get("limit_options")
        percent = bool(options and options.args.get("percent"))  # LIMIT 50%: no row bound
        if isinstance(value, exp.Literal) and value.is_int and not percent:
            current = int(value.this)
    if current is None or current < 0 or current > row_limit:
        tree = tree.limit(row_limit, copy=copy)
    return tree


def gate(sql: str, allowed: Collection[tuple[str, str]], *, row_limit: int = 1000,
         default_schema: str = "main", pretty: bool = True, from_relation: bool = False
         ) -> str:
    """Check `sql` and return it with the row limit enforced, or raise `UnsafeQueryError`.

    With `from_relation`, the query must also take its rows FROM an allowed relation
    (directly or through CTEs and subqueries in FROM): ``select 1000000000 as revenue``
    reads nothing, so it is no answer.

    >>> allowed = {("main", "m"), ("salesforce", "opportunity")}
    >>> gate("select * from read_csv('/etc/passwd')", allowed)
    Traceback (most recent call last):
    ...
    whizzy.core.errors.UnsafeQueryError: The table function read_csv() is not allowed.
    >>> gate("select 1; delete from m", allowed)
    Traceback (most recent call last):
    ...
    whizzy.core.errors.UnsafeQueryError: Exactly one statement is allowed; got 2.
    >>> gate("select * from secrets", allowed)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    whizzy.core.errors.UnsafeQueryError: The table secrets is not a catalog model or raw ...
    >>> print(gate("with x as (select * from salesforce.opportunity) select * from x limit 3",
    ...            allowed, pretty=False))
    WITH x AS (SELECT * FROM salesforce.opportunity) SELECT * FROM x LIMIT 3
    >>> gate("select current_setting('memory_limit') from m", allowed)
    Traceback (most recent call last):
    ...
    whizzy.core.errors.UnsafeQueryError: The function current_setting() is not allowed.
    >>> gate("select 1000000000 as total_revenue", allowed, from_relation=True)
    Traceback (most recent call last):
    ...
    whizzy.core.errors.UnsafeQueryError: The query reads no catalog model: its figures would ...
    """
    if row_limit < 1:
        raise ValueError("row_limit must be at least 1")
    tree = check(sql, allowed, default_schema=default_schema)
    # the tree is this call's own parse, used once: neither step copies it (the copies were
    # about a third of the gate's time)
    out = enforce_limit(tree, row_limit, copy=False).sql(dialect=DIALECT, pretty=pretty,
                                                          copy=False)
    parsed = duckdb_check(out, allowed, default_schema=default_schema)  # what will run
    if from_relation and not reads_a_relation(parsed, allowed, default_schema=default_schema):
        raise _refuse("The query reads no catalog model: its figures would not come from the "
                      "data.")
    return out
