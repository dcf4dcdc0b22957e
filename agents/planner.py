"""Role 3 — planner: a typed `Query` becomes typed `QueryPlan`s over its catalog model.

Nothing here reads the question: the query names catalog concepts (measures, dimensions,
flags, numbers, times) and the planner maps them onto the chosen model's columns. Every
condition of the query becomes a filter, so the SQL applies exactly what the query says,
and a plan's `period_label` is set only together with the filter on that period: an answer
can only name a period its SQL filtered on.

Shapes (`Query.shape`): a figure (with the measure's companions), a breakdown or ranking
(grouped, ordered, limited), a comparison of members (grouped over the members) or of
periods (one plan per period), a trend (grouped by the model's time bucket), a share
(part and whole in one query), records (the deals themselves, and their count), drivers
("why?": the groups that moved between this period and the one before), an overview
(a member's headline measures) and the briefing (the dashboard row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.contract import Condition, NotApplied, Query, Window
from agents.periods import (
    TIME_BUCKETS,
    Period,
    add_months,
    current,
    cuts_grain,
    overall_window,
    previous,
)
from agents.plan import Filter, Order, QueryPlan, Selection
from agents.sqlbuild import within
from agents.state import State
from agents.understanding import step_update, understand
from whizzy.warehouse.catalog import Catalog, Measure, Model
from whizzy.warehouse.reader import Warehouse, user_text

#: Rows a ranking or list shows when the question names no number.
DEFAULT_LIST_LIMIT = 10
#: Periods a trend shows when the question names no number.
DEFAULT_TREND_PERIODS = 8


@dataclass
class Outcome:
    """What the planner decided: plans, or why it could not plan."""

    plans: list[QueryPlan] = field(default_factory=list)
    unanswerable: str | None = None
    suggestions: list[str] = field(default_factory=list)
    #: Conditions of the query the chosen model could not apply (said in the answer).
    not_applied: list[NotApplied] = field(default_factory=list)


# ----------------------------------------------------------------------------- mapping


def _selection(measure: Measure) -> Selection:
    return Selection(name=measure.name, column=measure.column, expr=measure.expr,
                     unit=measure.unit, label=measure.label, role="measure",
                     higher_is_better=measure.higher_is_better)


def condition_filter(model: Model, cond: Condition) -> Filter | None:
    """One query condition on `model`'s columns (None when the model lacks the concept)."""
    meta = model.answerable
    if cond.kind == "weekday":  # "lost on a Friday": the day of the week of a row's date
        column = meta.time(cond.field or None)
        if column is None or meta.time_grain in TIME_BUCKETS:
            return None  # no date, or dates that stand for a whole month or quarter
        return Filter(column=column, op="isodow_in", values=list(cond.values),
                      label=cond.text)
    if cond.kind == "flag":
        flag = meta.flag(cond.field)
        if flag is None:
            return None
        label = flag.label if cond.op == "is_true" else f"not {flag.label}"
        return Filter(column=flag.column, op=cond.op, label=label)
    if cond.op in {"is_null", "not_null"}:  # "opps with no lead source", "skip the blank
        found = meta.dimension(cond.field) or meta.number(cond.field)  # source"
        if found is None:
            return None
        dimension = found.name if meta.dimension(cond.field) is not None else None
        name = found.name.replace("_", " ")
        return Filter(column=found.column, op=cond.op, dimension=dimension,
                      label=f"deals with no {name}" if cond.op == "is_null" else
                      f"deals with a {name}")
    if cond.kind == "number":
        number = meta.number(cond.field)
        if number is None:
            return None
        return Filter(column=number.column, op=cond.op, values=list(cond.values),
                      label=cond.text or number.label)
    dim = meta.dimension(cond.field)
    if dim is None:
        return None
    return Filter(column=dim.column, op=cond.op, values=list(cond.values), dimension=dim.name,
                  label=f"{dim.name.replace('_', ' ')} {'not ' if cond.op == 'not_in' else ''}"
                        f"{_members_label(cond.values)}")


def _members_label(values: list) -> str:
    """Members as the answer names them: every one, or the first few and how many more.

    >>> _members_label(["A", "B"]), _members_label([f"D{i}" for i in range(9)])
    ('A, B', 'D0, D1, D2, D3 and 5 more')
    """
    shown = [str(v) for v in values]
    if len(shown) <= _MEMBERS_SHOWN + 1:
        return ", ".join(shown)
    return f"{', '.join(shown[:_MEMBERS_SHOWN])} and {len(shown) - _MEMBERS_SHOWN} more"


#: How many members of a long list a label names (the SQL and the table hold them all).
_MEMBERS_SHOWN = 4


def window_filter(model: Model, window: Window) -> Filter | None:
    """The window on the model's date column for the window's time (None: no such date)."""
    meta = model.answerable
    column = meta.time(window.time)
    if column is None:
        return None
    # exactly the window: a model too coarse for it was widened by the reader, label and all
    label = window.label
    if window.time and column != meta.time(None):
        # "created in Oct 2026": the period of another date than the figure's own says which
        way = "over" if label.startswith("the ") else "" if label.startswith(
            ("since ", "QTD", "MTD", "YTD")) else "in"
        label = " ".join(w for w in (window.time.replace("_", " "), way, label) if w)
    return Filter(column=column, op="between", values=[window.start, window.end],
                  dimension="period", label=label)


def _period_of(rows: list[Filter]) -> str | None:
    """The label of the period the rows are filtered on (None: no period filter)."""
    return next((f.label for f in rows if f.dimension == "period"), None)


def kind_filters(model: Model, dimensions: list[str]) -> list[Filter]:
    """Row-kind filters of a stacked model for the dimensions used (or its default kind)."""
    meta = model.answerable
    if not meta.kind_column:
        return []
    kinds = []
    for name in dimensions:
        dim = meta.dimension(name)
        if dim is not None and dim.kind_value and dim.kind_value not in kinds:
            kinds.append(dim.kind_value)
    if not kinds and meta.default_kind:
        kinds = [meta.default_kind]
    if not kinds:
        return []
    return [Filter(column=meta.kind_column, op="eq" if len(kinds) == 1 else "in", values=kinds,
                   dimension=meta.kind_column, label="")]


def _dimensions_used(query: Query) -> list[str]:
    return list(dict.fromkeys([*query.group_by, *(c.field for c in query.filters
                                                   if c.kind == "members")]))


def unapplied(model: Model, query: Query) -> list[NotApplied]:
    """Conditions of `query` that `model` has no column for (never dropped silently)."""
    meta = model.answerable
    return [NotApplied(text=c.text or c.field, reason=f"{meta.label} has no {c.field}")
            for c in query.filters if condition_filter(model, c) is None and not (
                c.kind == "number" and meta.measure(c.field) is not None)]


def _filters(model: Model, query: Query, window: Window | None) -> tuple[list[Filter],
                                                                         list[Filter]]:
    """Row filters and grouped-figure conditions (HAVING) of the query on `model`.

    A condition the model cannot apply is left out here and reported by `unapplied`.
    """
    meta = model.answerable
    rows, having = [], []
    for cond in query.filters:
        if cond.kind == "number" and meta.measure(cond.field) is not None:
            having.append(Filter(column=cond.field, op=cond.op, values=list(cond.values),
                                 label=cond.text))
            continue
        flt = condition_filter(model, cond)
        if flt is not None and not any(  # "open deals closing …": one "open" filter
                (f.column, f.op, f.values) == (flt.column, flt.op, flt.values) for f in rows):
            rows.append(flt)
    rows += kind_filters(model, _dimensions_used(query))
    if window is not None:
        flt = window_filter(model, window)
        if flt is not None:
            rows.append(flt)
    return rows, having


def _other_side(query: Query) -> Query:
    """The query of the other side of a comparison of two ranges of one number."""
    sides = {(c.field, c.kind) for c in query.compare_filters}
    return query.model_copy(update={  # (none left out: "vs the company", everyone)
        "filters": [c for c in query.filters if (c.field, c.kind) not in sides]
        + [c for c in query.compare_filters if c.values or c.op != "not_in"],
        "compare_filters": []})


def _segment(filters: list[Condition], query: Query) -> str:
    """How one side of a comparison of two ranges or members is named: "deals at least 100k"."""
    sides = {(c.field, c.kind) for c in query.compare_filters}
    said = [str(c.values[0]) if c.op == "eq" and c.text.lower() == str(c.values[0]).lower()
            else c.text for c in filters if (c.field, c.kind) in sides]  # "Aisha Diaz" as is
    if said and all(c.kind == "members" for c in query.compare_filters):
        return " and ".join(said)
    everyone = next((c.text for c in query.compare_filters if c.op == "not_in" and
                     not c.values), None)  # ("vs the company": everyone, none left out)
    return "deals " + " and ".join(said) if said else everyone or "the rest"


def _period_window(period: Period, time: str | None = None) -> Window:
    return Window(start=period.start, end=period.end, label=period.label, grain=period.grain,
                  kind=period.kind, count=period.count, time=time)


def _current(warehouse: Warehouse, grain: str) -> Window:
    """The quarter or month holding the as-of date."""
    return _period_window(current(grain, warehouse.as_of, warehouse.fiscal_year_start_month))


def _last_periods(warehouse: Warehouse, grain: str, count: int) -> Window:
    now = _current(warehouse, grain)
    step = 3 if grain == "quarter" else 1
    first = add_months(now.start, -step * (count - 1))
    return Window(start=first, end=now.end, label=f"the last {count} {grain}s", grain="range",
                  kind="trend", count=count)


def measures_of(model: Model, query: Query) -> list[Measure]:
    """The query's measures on the model, then their declared companions."""
    meta = model.answerable
    named = [m for name in query.measures if (m := meta.measure(name)) is not None]
    shown = list(named)
    for measure in named[:1]:
        for other in measure.companions:
            m = meta.measure(other)
            if m is not None and m not in shown:
                shown.append(m)
    return shown


def _describe(measure: Measure, query: Query, window: Window | None) -> str:
    parts = [measure.label or measure.name.replace("_", " ")]
    if query.group_by:
        parts.append("by " + ", ".join(g.replace("_", " ") for g in query.group_by))
    for cond in query.filters:
        if cond.text:
            parts.append(f"({cond.text})")
    if window is not None:
        parts.append(f"({window.label})")
    return " ".join(parts)


# ----------------------------------------------------------------------------- shapes


def make_plans(query: Query, warehouse: Warehouse) -> Outcome:
    """Plans for a finished query (pure apart from the warehouse's catalog and as-of date)."""
    catalog = warehouse.catalog
    if query.model is None or query.model not in catalog.models:
        return Outcome(unanswerable="no model in the catalog answers that",
                       suggestions=suggestions(catalog))
    model = catalog.model(query.model)
    if query.free_sql:  # the LLM engine's gated query (no catalog plan fitted)
        return Outcome(plans=[QueryPlan(model=model.name, purpose="main", selections=[],
                                        free_sql=query.free_sql,
                                        description=query.free_sql_explanation)])
    shape = query.shape
    if shape == "briefing":
        return _briefing(model)
    if shape == "records":
        return Outcome(plans=records_plans(query, model, warehouse))
    measures = measures_of(model, query)
    if not measures:
        return Outcome(unanswerable=f"{model.name} has none of the figures asked for",
                       suggestions=suggestions(catalog))
    if query.count_of or query.per:
        measures = over_members(query, model, measures)
        if not measures:
            return Outcome(unanswerable=f"{model.name} cannot count "
                           f"{(query.count_of or query.per).replace('_', ' ')}s",
                           suggestions=suggestions(catalog))
    if shape == "drivers":
        return _drivers(query, model, measures, warehouse)
    if shape == "share":
        # ("what risk level is this quarter's pipeline, and what % of it is past due?"): the
        # share is of a figure; a label asked beside it is given over the same rows
        figures = [m for m in measures if m.unit != "text"] or measures
        outcome = _share(query, model, figures[0])
        labels = [m for m in measures if m.unit == "text" and m not in figures]
        if labels:
            rows, _ = _filters(model, query.model_copy(update={"share_of": []}), query.window)
            outcome.plans.append(QueryPlan(
                model=model.name, purpose="labels", aggregate=True,
                selections=[_selection(m) for m in labels], filters=rows,
                period_label=_period_of(rows), headline=labels[0].name,
                description=", ".join(m.label for m in labels)))
        return outcome
    if query.change and query.compare_window is not None and query.group_by and \
            measures[0].is_aggregate and query.window is not None:
        return _change(query, model, measures[0])
    if measures[0].is_aggregate:
        return _aggregate(query, model, measures, warehouse)
    return _rows(query, model, measures, warehouse)


def _change(query: Query, model: Model, headline: Measure) -> Outcome:
    """Members ranked by how their figure changed from the compared period to the window.

    "which industry's won $ grew the most from Q2 to Q3": one query over both periods, the
    figure of each (every aggregate filtered to its period) and their difference.
    """
    meta = model.answerable
    now, before = query.window, query.compare_window
    column = meta.time(now.time)
    dims = [d for g in query.group_by if (d := meta.dimension(g)) is not None]
    if column is None or not dims or meta.time_grain in TIME_BUCKETS:
        return Outcome(unanswerable=f"{model.name} cannot compare two periods member by member")
    sign = "+" if headline.unit in {"currency", "count"} else ""
    current = within(headline.expr, column, now.start, now.end)
    earlier = within(headline.expr, column, before.start, before.end)
    if sign:  # a member with nothing in one period had 0 there
        current, earlier = f"coalesce({current}, 0)", f"coalesce({earlier}, 0)"
    up = query.change == "increase"
    name = f"{headline.name}_{'increase' if up else 'drop'}"
    selections = [Selection(name=d.name, column=d.column, role="dimension", label=d.name)
                  for d in dims]
    selections += [
        Selection(name=name, expr=f"({current}) - ({earlier})" if up
                  else f"({earlier}) - ({current})", unit=headline.unit, role="measure",
                  higher_is_better=True),
        Selection(name=f"{headline.name}_{_slug(now.label)}", expr=current,
                  unit=headline.unit, role="measure"),
        Selection(name=f"{headline.name}_{_slug(before.label)}", expr=earlier,
                  unit=headline.unit, role="measure")]
    rows, having = _filters(model, query, None)
    rows.append(Filter(column=column, op="between", values=[min(now.start, before.start),
                                                             max(now.end, before.end)],
                       dimension="period", label=f"from {before.label} to {now.label}"))
    limit = query.ranking.limit if query.ranking and query.ranking.limit else None
    plan = QueryPlan(
        model=model.name, purpose="main", aggregate=True, selections=selections, filters=rows,
        having=having, group_by=[d.name for d in dims], order_by=[Order(name=name, desc=True)],
        limit=limit, period_label=f"from {before.label} to {now.label}",
        description=f"{name.replace('_', ' ')} from {before.label} to {now.label}",
        headline=name)
    return Outcome(plans=[plan])


def _slug(label: str) -> str:
    """A period label as part of a column name ("Q3 2026" → "q3_2026").

    >>> _slug("Q3 2026"), _slug("Oct 2026")
    ('q3_2026', 'oct_2026')
    """
    return "_".join("".join(c for c in w if c.isalnum()) for w in label.lower().split())[:30]


def over_members(query: Query, model: Model, measures: list[Measure]) -> list[Measure]:
    """The figure over a dimension's members: how many there are, or the figure per member.

    "how many reps won a deal": the reps holding rows of the first measure's scope, each
    once; "avg bookings per rep": the measure divided by those reps. Empty when the model
    has no such dimension or the measure is not an aggregate.
    """
    meta = model.answerable
    dim = meta.dimension(query.count_of or query.per or "")
    first = measures[0]
    if dim is None or not first.is_aggregate:
        return []
    flags = [f.column for name in first.scope if (f := meta.flag(name)) is not None]
    member = f'"{dim.column}"'
    if flags:
        member = f"case when {' and '.join(f'{chr(34)}{c}{chr(34)}' for c in flags)} " \
                 f"then {member} end"
    # the answer names a figure by its name: "number of owners with won deals"
    holding = f"_with_{'_'.join(first.scope)}_deals" if first.scope else ""
    if query.count_of:
        plural = f"{dim.name[:-1]}ies" if dim.name.endswith("y") else f"{dim.name}s"
        return [Measure(name=f"number_of_{plural}{holding}", unit="count", base="count",
                        expr=f"count(distinct {member})", window=first.window)]
    return [Measure(name=f"{first.name}_per_{dim.name}{holding}",
                    expr=f"({first.expr}) / nullif(count(distinct {member}), 0)",
                    unit="number" if first.unit == "count" else first.unit,
                    base=None, scope=first.scope, window=first.window)]


def _aggregate(query: Query, model: Model, measures: list[Measure], warehouse: Warehouse
               ) -> Outcome:
    meta = model.answerable
    headline = measures[0]
    window = query.window
    selections: list[Selection] = []
    group_by: list[str] = []
    order: list[Order] = []
    limit: int | None = None
    purpose = "main"
    groups = list(query.group_by)
    if query.compare_members and query.compare_members not in groups:
        groups.append(query.compare_members)
    basis = window.time if window is not None else query.time  # the date the buckets are of
    if query.trend and not groups:
        buckets = [d for b in TIME_BUCKETS if (d := meta.dimension_on(b, basis)) is not None]
        # "over the past 6 months": by month; a quarter bucket would cut the window's ends
        bucket = next((b for b in buckets if b.name == query.trend_grain), None) or next(
            (b for b in buckets if window is not None and b.name == window.grain),
            None) or next((b for b in buckets if window is None or not cuts_grain(
                          b.name, Period(window.start, window.end, window.label, window.grain,
                                         window.kind, window.count),
                          warehouse.fiscal_year_start_month)), buckets[0] if buckets else None)
        if bucket is not None:
            count = query.limit or DEFAULT_TREND_PERIODS
            if window is None or window.count <= 1 and window.grain == bucket.name:
                # one quarter named for a trend: the quarters up to it; a year or a range
                # named is the span the trend covers, as asked
                window = _last_periods(warehouse, bucket.name, count)
            groups.append(bucket.name)
            order.append(Order(name=bucket.name, desc=True))
            purpose = "trend"
    for name in groups:
        dim = meta.dimension_on(name, basis)
        if dim is None:
            continue
        selections.append(Selection(name=dim.name, column=dim.column, role="dimension",
                                    label=dim.label or dim.name))
        group_by.append(dim.name)
    for measure in measures:
        selections.append(_selection(measure))
    if group_by and purpose != "trend":
        direction = query.ranking.direction if query.ranking else "top"
        order.append(Order(name=headline.name, desc=direction == "top"))
        limit = query.ranking.limit if query.ranking else None
    rows, having = _filters(model, query, window)
    if group_by and purpose != "trend" and query.ranking is not None and \
            query.ranking.direction == "bottom" and headline.scope and not having:
        # "which stage has the fewest open deals": among the members that have such deals
        # (a stage with none, Closed Won, is no member of the open deals)
        having = [Filter(column=headline.name, op="gt", values=[0],
                         label=f"{' '.join(headline.scope)} deals")]
    for flt in having:  # "min 20 closed opps": the figure bounded is shown beside each row
        bounded = meta.measure(flt.column)
        if bounded is not None and all(s.name != bounded.name for s in selections):
            selections.append(_selection(bounded))
    main = QueryPlan(
        model=model.name, purpose=purpose, aggregate=True, selections=selections,
        filters=rows, having=having, group_by=group_by, order_by=order, limit=limit,
        period_label=_period_of(rows),
        description=_describe(headline, query, window), headline=headline.name
    )
    plans = [main]
    if having and group_by and purpose != "trend":
        up = having[0].op in {"gt", "gte", "between"}
        plans.append(main.model_copy(update={
            "purpose": "nearest", "having": [], "limit": 5,
            "order_by": [Order(name=having[0].column, desc=up)]}))
    if query.compare_window is not None and purpose != "trend":
        rows2, having2 = _filters(model, query, query.compare_window)
        plans.append(main.model_copy(update={
            "purpose": "compare", "filters": rows2, "having": having2,
            "period_label": _period_of(rows2) or query.compare_window.label,
            "description": _describe(headline, query, query.compare_window)}))
    elif query.compare_filters and purpose != "trend":
        plans[0] = main = main.model_copy(update={"segment": _segment(query.filters, query)})
        other = _other_side(query)
        rows2, having2 = _filters(model, other, window)
        plans.append(main.model_copy(update={
            "purpose": "compare", "filters": rows2, "having": having2,
            "segment": _segment(other.filters, query),
            "description": _describe(headline, other, window)}))
    elif purpose == "main" and not group_by and not having:
        plans += _figure_context(main, query, model, headline, window, warehouse)
    if group_by and purpose == "main" and headline.sample is not None:
        # a ranked rate: each bar says how many rows it is computed over
        sample = headline.sample
        main.selections.append(Selection(
            name="sample_size", expr=sample.expr, column=sample.column, unit="count",
            role="attribute", label=sample.label))
    return Outcome(plans=plans)


def _ahead_series(plan: QueryPlan, query: Query, model: Model, headline: Measure,
                  window: Window | None, warehouse: Warehouse) -> QueryPlan:
    """A forecast's rows from a year before the as-of period through those ahead of it.

    With the measure's companions (its actuals and interval), covering the asked window too.
    """
    meta = model.answerable
    step = 3 if meta.time_grain == "quarter" else 1
    now = _current(warehouse, meta.time_grain)
    start = add_months(now.start, -step * (12 // step - 1))
    end = add_months(now.start, step * (int(headline.ahead or 0) + 1)) - dt.timedelta(days=1)
    if window is not None:
        start, end = min(start, window.start), max(end, window.end)
    span = Window(start=start, end=end, label=f"{start:%b %Y} – {end:%b %Y}", grain="range",
                  kind="trend", count=2)
    rows, _ = _filters(model, query, span)
    return plan.model_copy(update={
        "purpose": "series", "filters": rows, "limit": None,
        "order_by": [Order(name=meta.time_column, desc=False)],
        "period_label": _period_of(rows), "description": _describe(headline, query, span)})


#: Periods the small trend of a single figure shows (its own period the last).
FIGURE_TREND_PERIODS = 8


def _figure_context(plan: QueryPlan, query: Query, model: Model, headline: Measure,
                    window: Window | None, warehouse: Warehouse) -> list[QueryPlan]:
    """The same figure for the period before and by period up to its own (a KPI card's).

    Only for one period of a quarter or month that the model can filter on: the `previous`
    plan is `plan` over the period before (`periods.previous`), the `series` plan the figure
    per quarter or month over the last `FIGURE_TREND_PERIODS` ending with the figure's own.
    """
    meta = model.answerable
    if window is None or headline.unit == "text" or window.count != 1 or \
            window.grain not in TIME_BUCKETS or _period_of(plan.filters) is None:
        return []
    fsm = warehouse.fiscal_year_start_month
    before = _period_window(previous(Period(window.start, window.end, window.label,
                                            window.grain, window.kind, window.count), fsm),
                            window.time)
    rows, having = _filters(model, query, before)
    out = [plan.model_copy(update={
        "purpose": "previous", "filters": rows, "having": having,
        "period_label": _period_of(rows), "limit": plan.limit,
        "description": _describe(headline, query, before)})]
    step = 3 if window.grain == "quarter" else 1
    span = Window(start=add_months(window.start, -step * (FIGURE_TREND_PERIODS - 1)),
                  end=window.end, label=f"the {FIGURE_TREND_PERIODS} {window.grain}s to "
                  f"{window.label}", grain="range", kind="trend",
                  count=FIGURE_TREND_PERIODS, time=window.time)
    rows, _ = _filters(model, query, span)
    if plan.aggregate:
        bucket = meta.dimension_on(window.grain, window.time or None)
        if bucket is None or window.time and bucket == meta.dimension(window.grain):
            return out  # (no buckets of that date)
        selections = [Selection(name=bucket.name, column=bucket.column, role="dimension",
                                label=bucket.label or bucket.name), _selection(headline)]
        out.append(plan.model_copy(update={
            "purpose": "series", "selections": selections, "filters": rows,
            "group_by": [bucket.name], "order_by": [Order(name=bucket.name, desc=True)],
            "limit": None, "period_label": _period_of(rows),
            "description": _describe(headline, query, span)}))
    elif meta.time_column and meta.time_grain == window.grain:
        out.append(plan.model_copy(update={
            "purpose": "series", "filters": rows,
            "order_by": [Order(name=meta.time_column, desc=True)],
            "limit": FIGURE_TREND_PERIODS, "period_label": _period_of(rows),
            "description": _describe(headline, query, span)}))
    return out


def _label_column(model: Model) -> str | None:
    """The column that names a row of a row-level model (a quarter label, an owner name)."""
    meta = model.answerable
    for bucket in TIME_BUCKETS:
        dim = meta.dimension(bucket)
        if dim is not None and meta.time_column:
            return dim.column
    for column in meta.grain:
        if column.endswith("_label"):
            return column
    for dim in meta.dimensions:
        if dim.column != meta.kind_column:
            return dim.column
    return meta.grain[0] if meta.grain else None


def _rows(query: Query, model: Model, measures: list[Measure], warehouse: Warehouse
          ) -> Outcome:
    """A row-level model (each row already holds the figure): filter and order its rows."""
    meta = model.answerable
    headline = measures[0]
    dims = [meta.dimension(d) for d in _dimensions_used(query)]
    dims = [d for d in dims if d is not None]
    if query.compare_members and meta.dimension(query.compare_members):
        dims.insert(0, meta.dimension(query.compare_members))
    label = dims[0].column if dims else _label_column(model)
    # a dimension shows under its own name ("stage", not a stacked model's "dimension"),
    # unless that name is another column of the model ("quarter" is the date column)
    label_name = dims[0].name if dims and dims[0].name not in model.columns else label
    selections: list[Selection] = []
    seen: set[str] = set()

    def add(sel: Selection) -> None:
        key = sel.column or sel.name
        if key not in seen and sel.name not in {s.name for s in selections}:
            seen.add(key)
            selections.append(sel)

    if label:
        add(Selection(name=label_name, column=label, role="dimension", label=label_name))
    for dim in dims[1:]:
        add(Selection(name=dim.name, column=dim.column, role="dimension", label=dim.name))
    for measure in measures:
        add(_selection(measure))
    if meta.time_column and meta.time_column not in seen:
        add(Selection(name=meta.time_column, column=meta.time_column, role="attribute"))
    window = query.window
    ranking = bool(query.group_by) or query.ranking is not None or bool(query.compare_members)
    grain = meta.time_grain
    order: list[Order] = []
    limit: int | None = None
    purpose = "main"
    if meta.time_column and grain in TIME_BUCKETS:
        if window is None and not query.trend and not ranking:
            window = _current(warehouse, grain)
        elif window is None or query.trend and window.count <= 1 and window.grain == grain:
            count = query.limit or meta.default_limit or DEFAULT_TREND_PERIODS
            window = _last_periods(warehouse, grain, count)
            order.append(Order(name=meta.time_column, desc=True))
            limit = count
            purpose = "trend"
        elif window.count > 1 or window.grain == "range":
            order.append(Order(name=meta.time_column, desc=True))
            purpose = "trend" if query.trend else "main"
    rows, having = _filters(model, query, window)
    # one row per member: a bound on a figure ("min 10 closed deals") is one on its column
    having = [flt.model_copy(update={"column": m.column}) for flt in having
              if (m := meta.measure(flt.column)) is not None and m.column]
    flag_measure = model.columns.get(headline.column or "")
    if flag_measure is not None and (flag_measure.data_type or "").lower() == "boolean":
        # "which reps need coaching": a yes/no figure is a filter; the next figure ranks
        rows.append(Filter(column=headline.column, op="is_true", label=headline.label))
        numeric = [s for s in selections if s.role == "measure" and s.unit not in {"text", None}
                   and s.name != headline.name]
        ranked_by = numeric[0].name if numeric else headline.name
        return Outcome(plans=[QueryPlan(
            model=model.name, purpose="main", aggregate=False,
            selections=[s for s in selections if s.name != headline.name], filters=rows,
            order_by=[Order(name=ranked_by, desc=False)], limit=query.limit,
            period_label=_period_of(rows), description=f"{headline.label} (flagged)",
            headline=ranked_by)])
    if ranking:
        direction = query.ranking.direction if query.ranking else "top"
        if headline.unit == "text":
            order = [Order(name=s.column, desc=s.desc) for s in meta.default_sort]
        else:
            order = [Order(name=headline.name, desc=direction == "top")]
        limit = query.ranking.limit if query.ranking else None
    if not order:
        order = [Order(name=s.column, desc=s.desc) for s in meta.default_sort]
    if limit is None and not ranking and window is None:
        limit = meta.default_limit or DEFAULT_LIST_LIMIT
    period_label = _period_of(rows)
    plan = QueryPlan(
        model=model.name, purpose=purpose, aggregate=False, selections=selections,
        filters=rows, having=having, order_by=order, limit=limit, period_label=period_label,
        description=_describe(headline, query, window), headline=headline.name)
    plans = [plan]
    if window is not None and grain == "month" and window.days > 31 and not query.trend and \
            headline.unit in {"currency", "count"} and headline.column:
        # a quarter (or "the next 3 months") of a monthly model: the months add up
        total = QueryPlan(
            model=model.name, purpose="main", aggregate=True,
            selections=[Selection(name=f"total_{headline.name}", expr=f'sum("{headline.column}")',
                                  unit=headline.unit, role="measure", label=headline.label),
                        Selection(name="months", expr="count(*)", unit="count", role="measure")],
            filters=rows, period_label=period_label, headline=f"total_{headline.name}",
            description=f"{headline.label} summed over {window.label}")
        plans = [total, plan.model_copy(update={"purpose": "detail"})]
    if query.compare_window is not None and not query.trend:
        rows2, _ = _filters(model, query, query.compare_window)
        plans.append(plan.model_copy(update={
            "purpose": "compare", "filters": rows2,
            "period_label": _period_of(rows2) or query.compare_window.label,
            "description": _describe(headline, query, query.compare_window)}))
    elif len(plans) == 1 and purpose == "main" and not ranking and window is not None and \
            window.grain == grain:
        plans += _figure_context(plan, query, model, headline, window, warehouse)
    if headline.ahead and not ranking and meta.time_column and grain in TIME_BUCKETS:
        # a forecast: its picture holds the actuals before it and the periods ahead
        plans = [p for p in plans if p.purpose != "series"]
        plans.append(_ahead_series(plan, query, model, headline, window, warehouse))
    if ranking and headline.sample is not None and headline.sample.column:
        plan.selections.append(Selection(
            name="sample_size", column=headline.sample.column, unit="count",
            role="attribute", label=headline.sample.label))
    return Outcome(plans=plans)


def _share(query: Query, model: Model, headline: Measure) -> Outcome:
    """The share, and on each side of a comparison its own share (never one share of both).

    Two periods ("… last quarter vs the quarter before"), a member against the rest or the
    company, or members compared ("Manufacturing vs Retail"): one plan per side.
    """
    part = [f for c in query.share_of if (f := condition_filter(model, c)) is not None]
    described = ", ".join(c.text or c.field for c in query.share_of)

    def side(q: Query, window: Window | None, purpose: str, segment: str | None = None
             ) -> QueryPlan:
        rows, _ = _filters(model, q.model_copy(update={"share_of": []}), window)
        return QueryPlan(
            model=model.name, purpose=purpose, aggregate=True,
            selections=[_selection(headline)], filters=rows, share=part,
            period_label=_period_of(rows), segment=segment,
            description=f"share of {headline.label} that is {described}", headline="share")

    if query.compare_window is not None:
        return Outcome(plans=[side(query, query.window, "main"),
                              side(query, query.compare_window, "compare")])
    if query.compare_filters:
        other = _other_side(query)
        return Outcome(plans=[side(query, query.window, "main", _segment(query.filters, query)),
                              side(other, query.window, "compare",
                                   _segment(other.filters, query))])
    members = next((c for c in query.filters if query.compare_members and c.kind == "members"
                    and c.field == query.compare_members and c.op == "in"), None)
    if members is not None and len(members.values) > 1:
        plans = []
        for i, value in enumerate(members.values):
            one = Condition(field=members.field, op="eq", values=[value], text=str(value))
            q = query.model_copy(update={
                "filters": [one if c is members else c for c in query.filters],
                "compare_members": None})
            plans.append(side(q, query.window, "compare" if i else "main", str(value)))
        return Outcome(plans=plans)
    return Outcome(plans=[side(query, query.window, "main")])


def _briefing(model: Model) -> Outcome:
    measures = list(model.answerable.measures)
    # each figure stands alone on the summary: its label says its period and scope
    plans = [QueryPlan(
        model=model.name, purpose="main", aggregate=False,
        selections=[_selection(m).model_copy(update={"label": m.caption or m.label})
                    for m in measures], limit=1,
        description=model.answerable.label, headline=measures[0].name if measures else None)]
    before = [Selection(name=m.name, column=m.previous.column, unit=m.unit,
                        label=m.previous.label, role="measure")
              for m in measures if m.previous is not None]
    if before:  # each headline figure's value for the period before, where the model has it
        plans.append(plans[0].model_copy(update={
            "purpose": "previous", "selections": before,
            "description": f"{model.answerable.label}: the period before"}))
    return Outcome(plans=plans)


# ----------------------------------------------------------------------------- records


def record_model(catalog: Catalog, model: Model) -> Model | None:
    """The model listing the records behind `model`'s rows (itself when it lists records)."""
    meta = model.answerable
    if meta.record_columns:
        return model
    if meta.records and meta.records.model in catalog.models:
        target = catalog.model(meta.records.model)
        if target.answerable and target.answerable.record_columns:
            return target
    return None


def records_plans(query: Query, model: Model, warehouse: Warehouse, *,
                  limit: int | None = None, extra_flags: tuple[str, ...] = (),
                  predicate: str | None = None, title: str | None = None) -> list[QueryPlan]:
    """The records the query asks for (or those behind a figure), and how many there are.

    Every condition of the query applies on the records model through the same concepts;
    one it cannot apply means no records are shown rather than the wrong ones.
    """
    target = record_model(warehouse.catalog, model)
    if target is None:
        return []
    meta = target.answerable
    filters: list[Filter] = []
    for cond in query.filters:
        if cond.kind == "number" and model.answerable.measure(cond.field) is not None:
            continue  # a bound on a grouped figure: not a condition on one record
        flt = condition_filter(target, cond)
        if flt is None:
            return []
        filters.append(flt)
    for flag in extra_flags:
        f = meta.flag(flag)
        if f is not None and not any(x.column == f.column for x in filters):
            filters.append(Filter(column=f.column, op="is_true", label=flag))
    if query.window is not None:
        flt = window_filter(target, query.window)
        if flt is None:
            return []
        filters.append(flt)
    columns = list(meta.record_columns)
    pick_column = None
    if query.pick:
        dim = meta.dimension(query.pick)
        number = meta.number(query.pick)  # (or a number of the record: its push count)
        pick_column = dim.column if dim else number.column if number else None
        if pick_column and pick_column not in columns:
            columns.insert(1, pick_column)
    order: list[Order] = []
    if query.order is not None:
        if query.order.field == "time":
            column = meta.time(query.window.time if query.window else None)
        elif query.order.field.startswith("time:"):  # "the oldest deals": by created date
            column = meta.time(query.order.field.removeprefix("time:"))
        else:
            number = meta.number(query.order.field)
            column = number.column if number else None
        if column:
            if column not in columns:
                columns.append(column)
            order.append(Order(name=column, desc=query.order.desc))
            moment = next((t.moment for t in meta.times if query.order.field == f"time:{t.name}"
                           and t.moment), None)
            if moment:  # ("the most recently created": the latest within the day, too)
                order.append(Order(name=moment, desc=query.order.desc))
            number = meta.number(query.order.field)
            if number is not None and number.unit == "count" and query.order.desc:
                # "the deals pushed the most": deals pushed at least once
                filters.append(Filter(column=column, op="gt", values=[0],
                                      label=f"{number.label} over 0"))
    if not order:
        order = [Order(name=k.column, desc=k.desc) for k in meta.record_order]
    for key in dict.fromkeys([*columns[:1], *meta.grain]):
        # ties (equal amounts, pushes, or no days yet) are listed the same way every time
        if all(o.name != key for o in order):
            order.append(Order(name=key, desc=False))
    for flt in filters:  # the figure a numeric condition is on, shown beside each record
        if flt.op in {"gt", "gte", "lt", "lte", "between"} and flt.column not in columns:
            columns.append(flt.column)
    units = {n.column: n.unit for n in meta.numbers}
    selections = [Selection(name=c, column=c, unit=units.get(c), role="attribute")
                  for c in dict.fromkeys(columns)]
    how_many = query.limit if query.limit is not None else (limit or DEFAULT_LIST_LIMIT)
    described = [c.text for c in query.filters if c.text]
    plan = QueryPlan(
        model=target.name, purpose="records", aggregate=False, selections=selections,
        filters=filters, predicate=predicate, order_by=order, limit=how_many,
        period_label=query.window.label if query.window is not None else None,
        description=title or " ".join(["deals", *described]),
        headline=pick_column)
    count_selections = [Selection(name="deal_count", expr="count(*)", unit="count",
                                  role="measure")]
    amount = next((n for n in meta.numbers if n.unit == "currency"), None)
    if amount is not None:
        count_selections.append(Selection(name="total_amount", expr=f'sum("{amount.column}")',
                                          unit="currency", role="measure"))
    count = QueryPlan(model=target.name, purpose="detail", aggregate=True,
                      selections=count_selections, filters=filters, predicate=predicate,
                      period_label=plan.period_label, description="how many deals match")
    return [plan, count]


# ----------------------------------------------------------------------------- why


def _drivers(query: Query, model: Model, measures: list[Measure], warehouse: Warehouse
             ) -> Outcome:
    """"Why?": the components of a row figure, or the groups that moved against last period."""
    meta = model.answerable
    headline = measures[0]
    if not headline.is_aggregate:
        explainer = _explainer(warehouse.catalog, model, headline)
        if explainer is not None:
            model, meta = explainer, explainer.answerable
            headline = meta.measure(headline.name)
        window = query.window or (_current(warehouse, meta.time_grain)
                                  if meta.time_grain in TIME_BUCKETS else None)
        rows, _ = _filters(model, query, window)
        label = _label_column(model)
        selections = [Selection(name=label, column=label, role="dimension")] if label else []
        selections += [_selection(m) for m in meta.measures if m.column != label]
        return Outcome(plans=[QueryPlan(
            model=model.name, purpose="drivers", aggregate=False, selections=selections,
            filters=rows, order_by=[Order(name=s.column, desc=s.desc) for s in meta.default_sort],
            limit=1, period_label=_period_of(rows),
            description=f"components of {headline.label}", headline=headline.name)])
    fsm = warehouse.fiscal_year_start_month
    window = query.window or _period_window(overall_window(warehouse.as_of, fsm))
    prior = _period_window(previous(Period(window.start, window.end, window.label,
                                           window.grain, window.kind, window.count), fsm),
                           window.time)
    used = {c.field for c in query.filters}
    outcome = Outcome()
    for name in meta.why_dimensions:
        dim = meta.dimension(name)
        if dim is None or name in used:
            continue
        selections = [Selection(name=dim.name, column=dim.column, role="dimension"),
                      _selection(headline)]
        for which, span in (("current", window), ("prior", prior)):
            rows, _ = _filters(model, query, span)
            outcome.plans.append(QueryPlan(
                model=model.name, purpose="drivers", aggregate=True, selections=selections,
                filters=rows, group_by=[dim.name],
                order_by=[Order(name=headline.name, desc=True)], period_label=span.label,
                description=f"{headline.label} by {dim.name} ({span.label})",
                headline=headline.name, driver=dim.name, which=which))
        if len(outcome.plans) >= 4:
            break
    if not outcome.plans:
        return _aggregate(query.model_copy(update={"why": False}), model, measures, warehouse)
    return outcome


def _explainer(catalog: Catalog, model: Model, headline: Measure) -> Model | None:
    """Another model of the same grain and measure that explains it.

    It has text measures naming drivers (a slippage model's primary driver).
    """
    meta = model.answerable
    for other in catalog.answerable:
        om = other.answerable
        if other.name == model.name or om.time_grain != meta.time_grain:
            continue
        if om.measure(headline.name) is None:
            continue
        if any(m.unit == "text" and "driver" in m.name for m in om.measures):
            return other
    return None


# ----------------------------------------------------------------------------- the node


def suggestions(catalog: Catalog, n: int = 3) -> list[str]:
    """Questions the catalog documents as answerable (one per model)."""
    out: list[str] = []
    for model in catalog.answerable:
        for question in model.answerable.example_questions[:1]:
            if question not in out:
                out.append(question)
        if len(out) >= n:
            break
    return out


def plan_query(state: State, runtime: Runtime[Context]) -> dict:
    """Node: turn the query into typed plans (or say why it cannot be answered)."""
    try:
        warehouse, query, step = understand(state, runtime)
    except Exception as exc:  # noqa: BLE001 - the answer reports it
        return {"plans": [], "error": user_text(exc)}
    facts: dict[str, Any] = {}
    plans: list[QueryPlan] = []
    if query.clarify is not None:
        facts["clarify"] = query.clarify.model_dump()
    elif query.unanswerable:
        facts["unanswerable"] = query.unanswerable
        facts["suggestions"] = suggestions(warehouse.catalog)
    else:
        try:
            outcome = make_plans(query, warehouse)
        except Exception as exc:  # noqa: BLE001 - a planner bug is reported, never raised
            return {"plans": [], "error": f"I could not plan a query ({type(exc).__name__}: "
                                          f"{exc})."}
        plans = outcome.plans
        model = warehouse.catalog.models.get(query.model or "")
        missing = unapplied(model, query) if model is not None and plans and \
            query.shape != "records" else []
        if missing:
            query = query.model_copy(update={"not_applied": [*query.not_applied, *missing]})
        if outcome.unanswerable:
            facts.update(unanswerable=outcome.unanswerable, suggestions=outcome.suggestions)
        elif not plans:
            facts.update(unanswerable="no model in the catalog can list those records",
                         suggestions=suggestions(warehouse.catalog))
    update: dict[str, Any] = {"plans": [p.to_state() for p in plans], "query": query.to_state(),
                              "facts": facts, **step_update(step)}
    used = list(dict.fromkeys(p.model for p in plans))
    if used:
        update["models"] = list(dict.fromkeys([*used, *state.models]))
        reasons = dict(state.model_reasons)
        for name in used:
            reasons.setdefault(name, "used by the plan")
        update["model_reasons"] = reasons
    return update
