"""Typed queries, deals and gated SQL for MCP tools: the agents' own contract and executor.

`query_metrics` and `get_deals` build an `agents.contract.Query` (measures, dimensions,
conditions, period, ranking, order): the catalog picks the model (`agents.serving`), the
planner makes the plans (`agents.planner`) and the executor runs them through the SQL gate
on the read-only connection (`agents.executor`). No caller text ever becomes SQL there.
`execute_sql` runs a client's own SELECT through the same gate and connection; the server
offers it only when started with ``--allow-sql``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.contract import Condition, Intent, Order, Query, Ranking, Window
from agents.executor import execute
from agents.planner import make_plans, unapplied
from agents.serving import candidate_of, choose_model
from whizzy.core.errors import WhizzyError
from whizzy.core.jsonable import jsonable
from whizzy.warehouse.reader import Warehouse


class QueryError(WhizzyError):
    """The catalog cannot answer a typed query, or one of its queries failed."""

    hint = "list_metrics and get_dimensions say what can be asked"


class OrderBy(BaseModel):
    """dbt-mcp's ``order_by`` item: a metric (or dimension) name, descending or not."""

    model_config = ConfigDict(frozen=True)

    name: str
    descending: bool = True


class Period(BaseModel):
    """A closed date range; `time` names which date of a row it applies to (None: default)."""

    model_config = ConfigDict(frozen=True)

    start: dt.date
    end: dt.date
    time: str | None = None

    def window(self) -> Window:
        """The contract's window for this range.

        >>> Period(start="2026-07-01", end="2026-09-30").window().label
        '2026-07-01 to 2026-09-30'
        """
        if self.end < self.start:
            raise QueryError(f"The period ends ({self.end}) before it starts ({self.start}).")
        return Window(start=self.start, end=self.end, label=f"{self.start} to {self.end}",
                      time=self.time)


class DealOrder(BaseModel):
    """How deals are listed: by a number of a deal (``amount``), largest first or not."""

    model_config = ConfigDict(frozen=True)

    field: str = "amount"
    desc: bool = True


def metrics_query(metrics: list[str], group_by: list[str], where: list[Condition],
                  order_by: list[OrderBy], limit: int | None, period: Period | None) -> Query:
    """The contract's query for dbt-mcp style arguments.

    An ``order_by`` on a metric with a ``limit`` ranks (top or bottom N).

    >>> q = metrics_query(["win_rate"], ["owner"], [], [OrderBy(name="win_rate")], 3, None)
    >>> q.shape, q.ranking.limit
    ('ranking', 3)
    """
    if not metrics:
        raise QueryError("Name at least one metric.")
    ranking = None
    ranked = [o for o in order_by if o.name in metrics]
    if ranked or (limit and group_by):
        first = ranked[0] if ranked else OrderBy(name=metrics[0])
        ranking = Ranking(measure=first.name, direction="top" if first.descending else "bottom",
                          limit=limit)
    return Query(intent=Intent.ANALYTICS, measures=list(metrics), group_by=list(group_by),
                 filters=list(where), window=period.window() if period else None,
                 ranking=ranking)


def deals_query(filters: list[Condition], order: DealOrder | None, limit: int,
                period: Period | None = None) -> Query:
    """The contract's records query: the deals matching `filters`, ordered, at most `limit`.

    >>> deals_query([], None, 5).shape
    'records'
    """
    if limit < 1:
        raise QueryError("The limit must be at least 1.")
    order = order or DealOrder()
    return Query(intent=Intent.LOOKUP, records=True, filters=list(filters),
                 order=Order(field=order.field, desc=order.desc), limit=limit,
                 window=period.window() if period else None)


def run_query(query: Query, warehouse: Warehouse, *, row_limit: int) -> dict[str, Any]:
    """Choose the model, plan and run `query`; each result with its SQL, columns and rows.

    Raises:
        QueryError: no catalog model answers it, or a query failed.
    """
    chosen = choose_model(candidate_of(query, warehouse.fiscal_year_start_month),
                          warehouse.catalog)
    if chosen is None:
        raise QueryError("No model in the catalog answers that query.")
    query = query.model_copy(update={"model": chosen.model})
    outcome = make_plans(query, warehouse)
    if outcome.unanswerable or not outcome.plans:
        raise QueryError(f"The catalog cannot answer that: "
                         f"{outcome.unanswerable or 'nothing to run'}.")
    model = warehouse.catalog.model(chosen.model)
    results = []
    for plan in outcome.plans:
        result = execute(plan, warehouse, row_limit=row_limit)
        if result["error"]:
            raise QueryError(result["error"])
        results.append({k: result[k] for k in ("purpose", "description", "sql", "columns",
                                               "rows", "row_count", "truncated", "units")})
    return {"model": chosen.model, "as_of_date": warehouse.as_of.isoformat(),
            "not_applied": [n.model_dump() for n in [*query.not_applied,
                                                     *unapplied(model, query)]],
            "results": results}


def run_sql(sql: str, warehouse: Warehouse, *, row_limit: int) -> dict[str, Any]:
    """Run a client's SQL through the SQL gate on the read-only connection.

    Raises:
        UnsafeQueryError: the gate refused it (a write, a file, a table outside the catalog).
        QueryError: DuckDB could not run it.
    """
    import duckdb  # the warehouse reader already loaded it; named here for the except

    try:
        result = warehouse.query(sql, row_limit=row_limit)
    except WhizzyError:  # refused, timed out or too big: its own sentence says so
        raise
    except duckdb.Error as exc:
        raise QueryError(f"The query failed: {str(exc).splitlines()[0]}") from None
    return {"sql": result["sql"], "columns": result["columns"],
            "rows": [[jsonable(v) for v in row] for row in result["rows"]],
            "row_count": result["row_count"], "truncated": result["truncated"],
            "as_of_date": warehouse.as_of.isoformat()}


__all__ = ["Condition", "DealOrder", "OrderBy", "Period", "QueryError", "deals_query",
           "metrics_query", "run_query", "run_sql"]
