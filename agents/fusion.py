"""Role 5 — fusion: the Salesforce records behind a figure, and multi-query results combined.

Fusion joins the aggregate with the deals behind it and combines the results of several
queries (a comparison, the movers behind a change).

The deals behind a figure come from the model the answering model names in
``records:`` (or from the one-row-per-deal model when the figure is computed over deals):
the overdue deals behind an overdue share, the open deals behind a pipeline figure, an
owner's recent losses. Their filter is the figure's own scope — same owner, industry,
period — plus the row predicate the model documents.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.executor import execute
from agents.plan import Filter, Order, QueryPlan, Selection
from agents.planner import RECORD_COLUMNS
from agents.state import State
from whizzy.warehouse.catalog import Catalog, Model, expr_columns
from whizzy.warehouse.reader import open_warehouse

#: Supporting records shown under an answer.
RECORDS_LIMIT = 10

_FLAG_ORDER = ("is_overdue", "is_open", "is_lost", "is_won", "is_closed")


def _records_model(catalog: Catalog, model: Model) -> Model | None:
    meta = model.answerable
    if meta and meta.records and meta.records.model in catalog.models:
        return catalog.model(meta.records.model)
    if meta and "opportunity_id" in meta.grain:
        return model
    return None


def records_plan(plan: QueryPlan, catalog: Catalog) -> QueryPlan | None:
    """The plan listing the deals behind `plan`'s figure, or None when there are none."""
    model = catalog.models.get(plan.model)
    if model is None or model.answerable is None:
        return None
    target = _records_model(catalog, model)
    if target is None or target.answerable is None:
        return None
    headline = model.answerable.measure(plan.notes.get("headline", ""))
    filters: list[Filter] = []
    for flt in plan.filters:
        if flt.dimension == "period":
            if target is model:
                filters.append(flt)
            elif target.answerable.time_column and flt.op == "between":
                filters.append(flt.model_copy(update={"column": target.answerable.time_column}))
            continue
        dim = target.answerable.dimension(flt.dimension or "")
        if dim is not None:
            filters.append(flt.model_copy(update={"column": dim.column}))
        elif target is not model:
            return None  # the records cannot be scoped like the figure: show none
    predicate = None
    spec = model.answerable.records
    wanted = spec.filter_for(headline.name if headline else None) if spec else None
    if spec and wanted and target.name == spec.model:
        try:
            if not (expr_columns(wanted) - set(target.columns)):
                predicate = wanted
        except ValueError:
            predicate = None
    if predicate is None and headline is not None and headline.expr:
        used = expr_columns(headline.expr)
        for flag in _FLAG_ORDER:
            if flag in used and target.has_column(flag):
                if flag == "is_won" and "is_closed" in used:
                    flag = "is_closed"
                filters.append(Filter(column=flag, op="is_true", label=flag))
                break
    columns = [c for c in RECORD_COLUMNS if target.has_column(c)]
    for extra in ("is_won", "days_overdue", "push_count"):
        if target.has_column(extra) and extra not in columns and (
            extra != "days_overdue" or any(f.column == "is_overdue" for f in filters)
            or predicate == "is_overdue"
        ) and (extra != "is_won" or any(f.column == "is_closed" for f in filters)):
            columns.append(extra)
    if not columns:
        return None
    order = [Order(name="amount", desc=True)] if "amount" in columns else []
    return QueryPlan(
        model=target.name, purpose="records", aggregate=False,
        selections=[Selection(name=c, column=c, unit="currency" if c == "amount" else None)
                    for c in columns],
        filters=filters, predicate=predicate, order_by=order, limit=RECORDS_LIMIT,
        period_label=plan.period_label, description="the deals behind the figure",
        notes={"records_for": plan.model},
    )


def top_row_scope(plan: QueryPlan, catalog: Catalog, main: dict[str, Any]
                  ) -> tuple[QueryPlan, Any] | None:
    """For a ranking ("which stage is our bottleneck?"), `plan` narrowed to its first row.

    Returns the plan with an ``eq`` filter on the first row's dimension value (and without
    the row-kind filter of a stacked model, which the records model does not have), plus that
    value; None when the ranking has no single dimension to narrow by.
    """
    model = catalog.models.get(plan.model)
    meta = model.answerable if model is not None else None
    dims = [s for s in plan.selections if s.role == "dimension"]
    if meta is None or len(dims) != 1 or not main.get("rows") or dims[0].name not in \
            main.get("columns", []):
        return None
    sel = dims[0]
    column = sel.column or sel.name
    candidates = [d for d in meta.dimensions if d.column == column or d.name == sel.name]
    kind_filters = [f for f in plan.filters if meta.kind_column and f.column == meta.kind_column]
    if len(candidates) > 1:  # a stacked model: the kind filter tells which dimension it is
        kinds = {v for f in kind_filters for v in f.values}
        candidates = [d for d in candidates if d.kind_value in kinds]
    if len(candidates) != 1:
        return None
    dim = candidates[0]
    value = main["rows"][0][main["columns"].index(sel.name)]
    if value is None:
        return None
    filters = [f for f in plan.filters if f not in kind_filters]
    filters.append(Filter(column=column, op="eq", values=[value], dimension=dim.name,
                          label=f"{dim.name} = {value}"))
    return plan.model_copy(update={"filters": filters, "group_by": []}), value


def movers(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For "why?": per driver dimension, the groups whose figure changed most.

    >>> cur = {"purpose": "drivers", "columns": ["industry", "win_rate"],
    ...        "rows": [["A", 0.5], ["B", 0.2]], "notes": {"driver": "industry",
    ...        "which": "current", "headline": "win_rate"}}
    >>> pri = {**cur, "rows": [["A", 0.3], ["B", 0.25]], "notes": {**cur["notes"],
    ...        "which": "prior"}}
    >>> [(m["value"], round(m["change"], 2)) for m in movers([cur, pri])[0]["groups"]]
    [('A', 0.2), ('B', -0.05)]
    """
    by_driver: dict[str, dict[str, dict[str, Any]]] = {}
    for result in results:
        notes = result.get("notes") or {}
        if result.get("purpose") != "drivers" or "driver" not in notes or result.get("error"):
            continue
        by_driver.setdefault(notes["driver"], {})[notes["which"]] = result
    out = []
    for driver, pair in by_driver.items():
        if "current" not in pair or "prior" not in pair:
            continue
        headline = pair["current"]["notes"]["headline"]
        cols = pair["current"]["columns"]
        if headline not in cols:
            continue
        vi, hi = 0, cols.index(headline)
        prior = {row[vi]: row[hi] for row in pair["prior"]["rows"]}
        groups = []
        for row in pair["current"]["rows"]:
            now, before = row[hi], prior.get(row[vi])
            if now is None or before is None:
                continue
            groups.append({"value": row[vi], "now": now, "before": before,
                           "change": now - before})
        groups.sort(key=lambda g: -abs(g["change"]))
        out.append({"driver": driver, "headline": headline, "groups": groups[:5]})
    return out


def fuse_results(state: State, runtime: Runtime[Context]) -> dict:
    """Node: add the supporting records and combine multi-query results into facts."""
    facts = dict(state.facts)
    results = state.results
    main = next((r for r in results if r["purpose"] in {"main", "trend", "records"}), None)
    update: dict[str, Any] = {}
    if main is None or main.get("error"):
        return {"facts": facts}
    if main["purpose"] == "records":
        update["records"] = {"title": main["description"], "columns": main["columns"],
                             "rows": main["rows"][:50], "sql": main["sql"]}
    elif main["purpose"] == "main" and state.intent == "analytics" and state.plans:
        plan = QueryPlan.from_state(state.plans[0])
        single = not plan.group_by and main["row_count"] <= 1 and not plan.notes.get("free_sql")
        ranked = (not single and main["row_count"] >= 1 and not plan.notes.get("free_sql")
                  and bool(plan.order_by) and state.understanding.get("singular"))
        if single or ranked:
            try:
                warehouse = open_warehouse(runtime.context.warehouse, runtime.context.manifest)
            except Exception:  # noqa: BLE001 - records are a bonus; the figure stands alone
                warehouse = None
            rplan = None
            if warehouse is not None and single:
                rplan = records_plan(plan, warehouse.catalog)
            elif warehouse is not None:
                scoped = top_row_scope(plan, warehouse.catalog, main)
                if scoped is not None:
                    rplan = records_plan(scoped[0], warehouse.catalog)
                    if rplan is not None:
                        rplan = rplan.model_copy(update={
                            "description": f"the deals behind {scoped[1]}"})
            if rplan is not None:
                result = execute(rplan, warehouse, row_limit=RECORDS_LIMIT)
                update["results"] = [result]
                if not result["error"]:
                    update["records"] = {"title": rplan.description,
                                         "columns": result["columns"],
                                         "rows": result["rows"], "sql": result["sql"]}
    drivers = movers(results)
    if drivers:
        facts["movers"] = drivers
    update["facts"] = facts
    return update
