"""Free-form SQL, only when no catalog plan fits: written by the LLM, trusted by nobody.

Each query the LLM writes must parse as one statement and pass the SQL gate
(`whizzy.warehouse.gate`: one SELECT over catalog models and raw Salesforce tables, no DDL/DML, no
file or network functions, LIMIT enforced), then an ``EXPLAIN`` dry run on the read-only
connection. A query that does not parse, reads an unknown table or column, or fails
``EXPLAIN`` goes back to the LLM with the error, at most `MAX_REPAIRS` times. A query that
tries to write, copy, attach or read files is refused at once — it is a sign of an
injected instruction, and no repair round is offered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from sqlglot import exp

from agents.llm.catalog_text import render_catalog
from agents.llm.client import LLMClient
from agents.llm.prompts import load_prompt
from agents.llm.schemas import SqlOutput
from agents.llm.usage import CallUsage
from whizzy.core.errors import LLMUnavailableError, UnsafeQueryError
from whizzy.warehouse.catalog import Catalog
from whizzy.warehouse.gate import DIALECT, check, gate
from whizzy.warehouse.reader import run_isolated

log = logging.getLogger("whizzy.llm")

#: Repair rounds after the first attempt.
MAX_REPAIRS = 2
#: What the prompt tells the LLM to answer when asked to break the rules.
REFUSAL_MARKER = "refused"


@dataclass
class FreeSql:
    """A gated, dry-run query and how it was obtained."""

    sql: str
    explanation: str
    attempts: int
    errors: list[str] = field(default_factory=list)
    usage: list[CallUsage] = field(default_factory=list)


def hostile(sql: str) -> str | None:
    """Why `sql` is an attempt to do more than read (None when it only reads tables).

    Unknown tables are not hostile (a repair round may fix them); writes, file or network
    functions, settings and several statements are.

    >>> hostile("select * from m_pipeline_health")
    >>> hostile("drop table fct_opportunity")
    'Only SELECT queries are allowed (got DROP).'
    >>> hostile("copy (select 1) to '/tmp/x.csv'")
    'Only SELECT queries are allowed (got COPY).'
    >>> hostile("select * from read_csv('/etc/passwd')")
    'The table function read_csv() is not allowed.'
    >>> hostile("select 1; delete from m") is not None
    True
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except sqlglot.errors.SqlglotError:
        return None  # not parseable: a repair question, not an attack
    tables: set[tuple[str, str]] = set()
    for statement in statements:
        for table in statement.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier):
                tables.add(((table.db or "main").lower(), table.name.lower()))
    try:
        check(sql, tables)
    except UnsafeQueryError as error:
        return str(error)
    return None


def _is_refusal(sql: str) -> bool:
    text = " ".join(sql.lower().split())
    return f"'{REFUSAL_MARKER}'" in text and "from" not in text


def explain_on(warehouse: Path) -> Callable[[str], None]:
    """A dry run: ``EXPLAIN`` the query read-only, under the query's hard limits.

    Planning can take as long as running (constant folding), so the dry run gets the same
    time limit and memory cap, in a child process (`run_isolated`).
    """

    def run(sql: str) -> None:
        run_isolated(warehouse, sql, row_limit=1, explain=True)

    return run


def write_sql(client: LLMClient, *, question: str, catalog: Catalog,
              allowed: Collection[tuple[str, str]], explain: Callable[[str], None],
              as_of: str, row_limit: int, ranked: Sequence[str] | None = None,
              node: str = "plan_query") -> FreeSql:
    """Ask for a query, gate it and dry-run it, repairing at most `MAX_REPAIRS` times.

    Raises:
        LLMUnavailableError: kind ``unsafe_sql`` (a write or file access was attempted),
            ``refused`` (the LLM declined) or ``sql_error`` (no valid query after the
            repairs), or any client failure.
    """
    prompt = load_prompt("sql_writer")
    messages: list[BaseMessage] = prompt.messages(
        as_of=as_of, row_limit=row_limit, question=question,
        catalog=render_catalog(catalog, ranked=ranked, columns=True),
    )
    result = FreeSql(sql="", explanation="", attempts=0)
    for attempt in range(1 + MAX_REPAIRS):
        try:
            out, usage = client.structured(node, messages, SqlOutput)
        except LLMUnavailableError as error:
            result.usage.append(getattr(error, "usage", None) or CallUsage(
                node=node, model=client.settings.model, ok=False, error=str(error)))
            _attach(error, result)
            raise
        result.usage.append(usage)
        result.attempts = attempt + 1
        sql = out.sql.strip().rstrip(";").strip()
        if _is_refusal(sql):
            raise _attach(LLMUnavailableError("the LLM declined to write a query",
                                              kind="refused"), result)
        if reason := hostile(sql):
            log.warning("free SQL refused without repair: %s", reason)
            raise _attach(LLMUnavailableError(
                f"the LLM wrote a query that the SQL gate refused: {reason}",
                kind="unsafe_sql"), result)
        try:
            gated = gate(sql, allowed, row_limit=row_limit, from_relation=True)
            explain(gated)
        except UnsafeQueryError as error:
            problem = str(error)
        except Exception as error:  # noqa: BLE001 - duckdb binder/parser errors, fed back
            problem = str(error).splitlines()[0][:400]
        else:
            result.sql, result.explanation = gated, out.explanation
            return result
        result.errors.append(problem)
        log.info("free SQL attempt %d rejected: %s", attempt + 1, problem)
        messages = [*messages, AIMessage(content=sql),
                    HumanMessage(content=prompt.render("repair", sql=sql, error=problem))]
    raise _attach(LLMUnavailableError(
        f"the LLM's query still failed after {MAX_REPAIRS} repairs: {result.errors[-1]}",
        kind="sql_error"), result)


def _attach(error: LLMUnavailableError, result: FreeSql) -> LLMUnavailableError:
    error.usage_calls = list(result.usage)  # type: ignore[attr-defined]
    return error
