"""Role 4 — executor: each plan becomes SQL, passes the gate, runs read-only.

One builder (`agents.sqlbuild`) writes the SQL, the gate checks it, and it runs on a
read-only connection with a row limit. A failed query is recorded as failed, never papered
over. The one exception to the builder is the LLM engine's free SQL (a plan whose
`free_sql` holds a query written when no catalog plan fits): it passes the gate again here,
restricted to the catalog's models, before it runs.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import duckdb
from langgraph.runtime import Runtime

from agents.context import Context
from agents.plan import QueryPlan
from agents.sqlbuild import sqlbuild
from agents.state import State
from whizzy.core.errors import UnsafeQueryError
from whizzy.core.jsonable import jsonable
from whizzy.warehouse.catalog import expr_columns
from whizzy.warehouse.gate import gate
from whizzy.warehouse.reader import Warehouse, open_warehouse, pinned, user_text


def _kind(flt: Any) -> str:
    """``flag``, ``number`` or ``members``: how the answer words a filter."""
    if flt.op in {"is_true", "is_false"}:
        return "flag"
    if flt.op in {"gt", "gte", "lt", "lte", "between"}:
        return "number"
    return "members"


def execute(plan: QueryPlan, warehouse: Warehouse, *, row_limit: int) -> dict[str, Any]:
    """Run one plan; the result dict carries the SQL and either rows or an error."""
    started = time.perf_counter()
    base: dict[str, Any] = {
        "purpose": plan.purpose, "model": plan.model, "description": plan.description,
        "sql": None, "columns": [], "rows": [], "row_count": 0, "truncated": False,
        "error": None, "units": {s.name: s.unit for s in plan.selections},
        "labels": {s.name: s.label for s in plan.selections if s.label},
        "period_label": plan.period_label, "segment": plan.segment, "headline": plan.headline,
        "driver": plan.driver,
        "which": plan.which, "free_sql": bool(plan.free_sql),
        "scope": list({f.label: {"kind": _kind(f), "label": f.label} for f in plan.filters
                       if f.label and f.dimension != "period"}.values()) + [
            {"kind": "group", "label": f.label} for f in plan.having if f.label],
    }
    try:
        if plan.free_sql:
            result = _free_sql(plan, warehouse, row_limit=row_limit)
            base["sql"] = result["sql"]
            base.update(
                columns=result["columns"],
                rows=[[jsonable(v) for v in row] for row in result["rows"]],
                row_count=result["row_count"], truncated=result["truncated"],
            )
            base["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return base
        model = warehouse.catalog.model(plan.model)
        if plan.predicate:
            unknown = expr_columns(plan.predicate) - set(model.columns)
            if model.columns and unknown:
                raise UnsafeQueryError(f"records filter reads unknown columns {sorted(unknown)}")
        sql = sqlbuild(plan, schema=model.schema, table=model.alias or model.name)
        base["sql"] = sql
        result = warehouse.query(sql, row_limit=row_limit)
    except UnsafeQueryError as exc:
        base["error"] = f"The query was refused: {exc}"
    except (duckdb.Error, KeyError, ValueError) as exc:
        base["error"] = f"The query failed: {str(exc).splitlines()[0]}"
    else:
        base.update(
            sql=result["sql"], columns=result["columns"],
            rows=[[jsonable(v) for v in row] for row in result["rows"]],
            row_count=result["row_count"], truncated=result["truncated"],
        )
    base["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return base


def model_relations(catalog: Any) -> set[tuple[str, str]]:
    """What free SQL may read: the catalog's models only (not the raw source tables)."""
    return {(m.schema.lower(), (m.alias or m.name).lower()) for m in catalog.models.values()}


def _free_sql(plan: QueryPlan, warehouse: Warehouse, *, row_limit: int) -> dict[str, Any]:
    """Run an LLM-written query: gated against the catalog's models only, then as usual.

    It must take its rows from a model: ``select 1000000000 as total_revenue`` is refused.
    It runs in a child process with hard time, memory and size limits.
    """
    sql = gate(str(plan.free_sql), model_relations(warehouse.catalog), row_limit=row_limit,
               from_relation=True)
    return warehouse.query(sql, row_limit=row_limit, isolated=True)


def run_queries(state: State, runtime: Runtime[Context]) -> dict:
    """Node: run every plan of the turn on a read-only connection (one file version)."""
    with contextlib.ExitStack() as stack:
        try:
            # all queries of the turn read one warehouse version; a swap meanwhile waits
            stack.enter_context(pinned(runtime.context.warehouse))
            warehouse = open_warehouse(runtime.context.warehouse, runtime.context.manifest)
        except Exception as exc:  # noqa: BLE001 - reported in the answer
            return {"error": user_text(exc)}
        results: list[dict] = []
        for data in state.plans:
            plan = QueryPlan.from_state(data)
            if plan.purpose == "nearest" and any(r["rows"] for r in results
                                                 if r["purpose"] == "main"):
                continue  # something passed the bar: the nearest row is not needed
            results.append(execute(plan, warehouse, row_limit=runtime.context.row_limit))
    return {"results": results}
