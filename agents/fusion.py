"""Role 5 — fusion: the deals behind a figure, and multi-query results combined.

The deals behind a figure are listed from the records model (the model itself when it lists
records, else the one its ``records:`` names), scoped by the *same query*: every condition
and the window apply through the same catalog concepts, plus the flags the headline
measure carries (the won deals behind won revenue, the open deals behind a pipeline
figure) or the predicate the model documents for it. A condition the records model cannot
apply means no records rather than the wrong ones. For a ranking, the deals behind the
first row are listed.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.contract import Condition, Query
from agents.executor import execute
from agents.planner import condition_filter, record_model, records_plans
from agents.state import State
from whizzy.warehouse.catalog import Catalog, Model, expr_columns
from whizzy.warehouse.reader import Warehouse, open_warehouse

#: Supporting records shown under an answer.
RECORDS_LIMIT = 10


def _behind(query: Query, model: Model, catalog: Catalog, headline: str | None
            ) -> tuple[tuple[str, ...], str | None]:
    """The flags (and documented predicate) of the records behind `headline`."""
    meta = model.answerable
    measure = meta.measure(headline or "")
    flags: tuple[str, ...] = tuple(measure.scope) if measure else ()
    predicate = None
    spec = meta.records
    if spec is not None:
        wanted = spec.filter_for(headline)
        target = catalog.models.get(spec.model)
        if wanted and target is not None:
            try:
                if not expr_columns(wanted) - set(target.columns):
                    predicate = wanted
            except ValueError:
                predicate = None
    return flags, predicate


def records_behind(query: Query, warehouse: Warehouse, main: dict[str, Any]
                   ) -> dict[str, Any] | None:
    """The deals behind the main figure (or the first row of a ranking), run; or None."""
    catalog = warehouse.catalog
    model = catalog.models.get(query.model or "")
    if model is None or model.answerable is None:
        return None
    scoped = query
    title = "the deals behind the figure"
    dims = [d for d in query.group_by if d in main.get("columns", [])]
    if query.group_by or query.compare_members:
        if len(dims) != 1 or not main.get("rows"):
            return None
        value = main["rows"][0][main["columns"].index(dims[0])]
        if value is None:
            return None
        target = record_model(catalog, model)
        # the first row already meets what only its model knows (a bottleneck stage)
        scoped = query.model_copy(update={"filters": [
            *[c for c in query.filters if c.field != dims[0] and (
                c.kind == "members" or target is not None and
                condition_filter(target, c) is not None)],
            Condition(field=dims[0], op="eq", values=[value], text=str(value))],
            "group_by": []})
        title = f"the deals behind {value}"
    flags, predicate = _behind(query, model, catalog, main.get("headline"))
    plans = records_plans(scoped.model_copy(update={"order": None, "limit": RECORDS_LIMIT,
                                                    "pick": None}),
                          model, warehouse, extra_flags=flags, predicate=predicate,
                          title=title)
    if not plans:
        return None
    result = execute(plans[0], warehouse, row_limit=RECORDS_LIMIT)
    if result["error"]:
        return None
    return result


def movers(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For "why?": per driver dimension, the groups whose figure changed most.

    >>> cur = {"purpose": "drivers", "columns": ["industry", "win_rate"],
    ...        "rows": [["A", 0.5], ["B", 0.2]], "driver": "industry", "which": "current",
    ...        "headline": "win_rate"}
    >>> pri = {**cur, "rows": [["A", 0.3], ["B", 0.25]], "which": "prior"}
    >>> [(m["value"], round(m["change"], 2)) for m in movers([cur, pri])[0]["groups"]]
    [('A', 0.2), ('B', -0.05)]
    """
    by_driver: dict[str, dict[str, dict[str, Any]]] = {}
    for result in results:
        if result.get("purpose") != "drivers" or not result.get("driver") or \
                result.get("error"):
            continue
        by_driver.setdefault(result["driver"], {})[result["which"]] = result
    out = []
    for driver, pair in by_driver.items():
        if "current" not in pair or "prior" not in pair:
            continue
        headline = pair["current"]["headline"]
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
    drivers = movers(results)
    if drivers:
        facts["movers"] = drivers
    main = next((r for r in results if r["purpose"] in {"main", "trend", "records"}), None)
    update: dict[str, Any] = {}
    if main is None or main.get("error"):
        return {"facts": facts}
    query = Query.from_state(state.query)
    if main["purpose"] == "records":
        update["records"] = {"title": main["description"], "columns": main["columns"],
                             "rows": main["rows"][:50], "sql": main["sql"]}
    elif main["purpose"] == "main" and query is not None and query.model and \
            state.intent == "analytics" and not main.get("free_sql") and main["rows"]:
        try:
            warehouse = open_warehouse(runtime.context.warehouse, runtime.context.manifest)
        except Exception:  # noqa: BLE001 - records are a bonus; the figure stands alone
            warehouse = None
        result = records_behind(query, warehouse, main) if warehouse is not None else None
        if result is not None:
            update["results"] = [result]
            update["records"] = {"title": result["description"], "columns": result["columns"],
                                 "rows": result["rows"], "sql": result["sql"]}
    update["facts"] = facts
    return update
