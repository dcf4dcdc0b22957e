"""Role 3 — planner: a question becomes typed query plans over catalog models.

The offline engine is deterministic: it reads the question (`agents.question`), takes the
best model the selector ranks that can serve it, and fills a `QueryPlan` from the model's
metadata — measures (row values or aggregate expressions), dimensions to filter and group
by, the time column the period applies to, default sort and limit. Nothing here knows a
model by name: a documented model added to dbt is planned the same way.

Defaults follow `shared/spec/metrics.md`: a rate with no period uses the "overall" window
(trailing four full quarters plus the current quarter to date); open-pipeline figures with
no period cover every close date; a per-quarter or per-month model with no period answers
for the period holding the as-of date, and a trend shows the periods up to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.periods import (
    Period,
    add_months,
    cuts_grain,
    month_start,
    overall_window,
    previous,
    quarter_start,
    widen_to_grain,
)
from agents.plan import Filter, Order, QueryPlan, Selection
from agents.question import DEFAULT_DIMENSION_WORDS, Ask, read_question
from agents.selector import ModelChoice, can_serve, has_subject, rank_models
from agents.state import State
from agents.text import has_any
from agents.values import value_index
from whizzy.warehouse.catalog import Catalog, Measure, Model, expr_columns
from whizzy.warehouse.reader import Warehouse, open_warehouse, user_text

#: Rows a ranking or list shows when the question names no number.
DEFAULT_LIST_LIMIT = 10
#: Periods a trend shows when the question names no number.
DEFAULT_TREND_PERIODS = 8
#: Columns (in order of preference) that name a record in a lookup.
RECORD_COLUMNS = ("opportunity_name", "account_name", "owner_name", "stage_name", "amount",
                  "close_date")


@dataclass
class Outcome:
    """What the planner decided: plans, or why it could not plan."""

    plans: list[QueryPlan] = field(default_factory=list)
    unanswerable: str | None = None
    suggestions: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- understanding

_DIM_WORDS: dict[int, tuple[Catalog, dict[str, tuple[str, ...]]]] = {}
_DIM_LOCK = threading.Lock()


def dimension_words(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Words that name each dimension: the catalog's synonyms plus common defaults."""
    with _DIM_LOCK:
        cached = _DIM_WORDS.get(id(catalog))
        if cached and cached[0] is catalog:
            return cached[1]
    words: dict[str, list[str]] = {k: list(v) for k, v in DEFAULT_DIMENSION_WORDS.items()}
    kind_columns = {m.answerable.kind_column for m in catalog.answerable}
    for model in catalog.answerable:
        for dim in model.answerable.dimensions:
            if dim.column in kind_columns or dim.name == "opportunity":
                continue  # a row-kind column or the deal itself: never "by <that>"
            bucket = words.setdefault(dim.name, [])
            for phrase in (dim.name.replace("_", " "), *dim.synonyms):
                p = phrase.lower()
                # a synonym that is really a value ("new business") is left to the value index
                if p not in bucket and p not in {"commit", "best case", "new business",
                                                 "existing business", "renewal", "upsell"}:
                    bucket.append(p)
    result = {k: tuple(v) for k, v in words.items()}
    with _DIM_LOCK:
        _DIM_WORDS[id(catalog)] = (catalog, result)
    return result


def previous_understanding(state: State) -> dict[str, Any] | None:
    """The reading of the thread's last analytic question, for follow-ups."""
    for turn in reversed(state.history):
        if turn.get("intent") in {"analytics", "lookup"} and turn.get("understanding"):
            return turn["understanding"]
        if turn.get("intent") in {"briefing", "help"}:
            return None
    return None


_ASKS: OrderedDict[tuple[Any, ...], Ask] = OrderedDict()
_ASK_LOCK = threading.Lock()


def understand(state: State, runtime: Runtime[Context]) -> tuple[Warehouse, Ask]:
    """Open the warehouse and read the question (with the thread's context).

    The reading is memoised per (warehouse version, question, previous reading): the
    selector and the planner of one turn share it.
    """
    warehouse = open_warehouse(runtime.context.warehouse, runtime.context.manifest)
    catalog = warehouse.catalog
    previous = previous_understanding(state)
    key = (id(warehouse), state.question, json.dumps(previous, sort_keys=True, default=str))
    with _ASK_LOCK:
        if key in _ASKS:
            _ASKS.move_to_end(key)
            return warehouse, _ASKS[key]
    ask = read_question(
        state.question,
        as_of=warehouse.as_of,
        values=value_index(warehouse),
        dimension_words=dimension_words(catalog),
        fiscal_year_start_month=warehouse.fiscal_year_start_month,
        previous=previous,
        has_subject=lambda words: has_subject(words, catalog),
    )
    with _ASK_LOCK:
        _ASKS[key] = ask
        while len(_ASKS) > 512:
            _ASKS.popitem(last=False)
    return warehouse, ask


# ----------------------------------------------------------------------------- helpers


def _is_open_measure(measure: Measure) -> bool:
    cols = expr_columns(measure.expr) if measure.expr else {measure.column or ""}
    return bool(cols & {"is_open", "is_overdue", "weighted_amount", "days_overdue"}) or any(
        w in measure.name for w in ("open", "pipeline", "overdue", "ongoing", "so_far"))


def _is_outcome_measure(measure: Measure) -> bool:
    cols = expr_columns(measure.expr) if measure.expr else set()
    return bool(cols & {"is_won", "is_lost", "is_closed", "days_to_close"})


def _period_filter(model: Model, period: Period) -> Filter | None:
    meta = model.answerable
    if not meta.time_column:
        return None
    start, end = period.start, period.end
    if meta.time_grain == "quarter":
        start = quarter_start(start) if start.day != 1 or start.month % 3 != 1 else start
        start = _grain_start(start, period, "quarter")
    elif meta.time_grain == "month":
        start = month_start(start)
    return Filter(column=meta.time_column, op="between", values=[start, end],
                  dimension="period", label=f"{meta.time_column} in {period.label}")


def _grain_start(start: dt.date, period: Period, grain: str) -> dt.date:
    # Fiscal quarters start on the fiscal quarter boundary the period itself uses.
    return period.start if period.grain == "quarter" else start


def _value_filters(model: Model, ask: Ask) -> tuple[list[Filter], list[str]]:
    filters, missing = [], []
    for match in ask.values:
        dim = model.answerable.dimension(match.dimension)
        if dim is None:
            missing.append(match.dimension)
            continue
        values = list(match.values)
        op = "eq" if len(values) == 1 else "in"
        filters.append(Filter(column=dim.column, op=op, values=values, dimension=dim.name,
                              label=f"{dim.name} = {', '.join(values)}"))
    return filters, missing


def _implicit_dimension(model: Model, ask: Ask) -> str | None:
    """The dimension a ranking on a stacked model means when it names none.

    "Stuck the longest" on stage/owner velocity rows ranks the first kind: stages.
    """
    meta = model.answerable
    if not meta.kind_column or ask.group_by or ask.direction is None:
        return None
    if any(meta.dimension(m.dimension) for m in ask.values):
        return None
    return next((d.name for d in meta.dimensions if d.kind_value), None)


def _kind_filters(model: Model, ask: Ask) -> list[Filter]:
    """Row-kind filters of a stacked model for the dimensions the question uses."""
    meta = model.answerable
    if not meta.kind_column:
        return []
    kinds = []
    for name in [*ask.group_by, *(m.dimension for m in ask.values)]:
        dim = meta.dimension(name)
        if dim is not None and dim.kind_value and dim.kind_value not in kinds:
            kinds.append(dim.kind_value)
    if not kinds and meta.default_kind:
        kinds = [meta.default_kind]
    if not kinds:
        return []
    return [Filter(column=meta.kind_column, op="eq" if len(kinds) == 1 else "in", values=kinds,
                   dimension=meta.kind_column, label=f"{meta.kind_column} = {', '.join(kinds)}")]


def _measure_selection(measure: Measure) -> Selection:
    return Selection(name=measure.name, column=measure.column, expr=measure.expr,
                     unit=measure.unit, label=measure.label, role="measure",
                     higher_is_better=measure.higher_is_better)


def _context_measures(model: Model, headline: Measure) -> list[Measure]:
    """Measures shown next to the headline so the answer can explain it."""
    meta = model.answerable
    names: list[str] = []
    if headline.unit == "percent" and "win_rate" in headline.name:
        names += ["won_count", "lost_count"]
    if "overdue_share" in headline.name:
        names += ["overdue_amount", "open_pipeline", "open_amount"]
    if headline.name in {"deals_slipped", "slippage_rate"}:
        names += ["deals_slipped", "slipped_amount", "slippage_rate", "avg_slip_days"]
    if headline.name.endswith("health_score") or headline.name == "pipeline_health_score":
        names += ["health_status", "risk_level", "key_insight"]
    if "forecast" in headline.name:
        names += ["forecast_lower", "forecast_upper", "forecast_accuracy", "forecast_quality"]
    if headline.unit == "days" and "stage" in headline.name:
        names += ["bottleneck_level", "completed_visits"]
    if headline.name in {"risk_level"}:
        names += ["overdue_share", "pipeline_health_score"]
    if headline.name in {"health_status"}:
        names += ["pipeline_health_score", "risk_level"]
    if headline.name == "forecast_lower":
        names += ["forecast_upper", "combined_forecast"]
    if headline.name == "forecast_accuracy":
        names += ["forecast_quality", "mape"]
    if headline.name in {"push_count", "push_rate"}:
        names += ["push_rate", "push_count", "deals_pushed"]
    if headline.name == "needs_coaching":
        names += ["win_rate", "team_win_rate", "won_count", "lost_count"]
    out = []
    for name in names:
        m = meta.measure(name)
        if m is not None and m.name != headline.name and m not in out:
            out.append(m)
    return out


def _label_column(model: Model) -> str | None:
    """A column that names a row of a row-level model (quarter label, owner name ...)."""
    meta = model.answerable
    for dim in meta.dimensions:
        if meta.time_column and dim.name in {"quarter", "month", "period"}:
            return dim.column
    for column in meta.grain:
        if column.endswith("_label") or column in {"dimension", "pattern_value"}:
            return column
    for dim in meta.dimensions:
        if dim.column != meta.kind_column:
            return dim.column
    return meta.grain[0] if meta.grain else None


# ----------------------------------------------------------------------------- analytics


def choose(ranked: list[ModelChoice], ask: Ask) -> tuple[ModelChoice, list[Measure]] | None:
    """The model to query and its measures (headline first).

    The model naming the question's figure most precisely wins (rank breaks ties); with a
    period, models that have a time column come first. A follow-up fragment that names no
    figure keeps the previous one, moving to another model with the same measure when the
    previous model cannot be split or filtered as now asked.
    """
    wanted = {*ask.group_by, *(v.dimension for v in ask.values)}

    def serves(choice: ModelChoice) -> bool:
        return can_serve(choice.model, sorted(wanted))

    def timed(choice: ModelChoice) -> int:
        return int(ask.period is None or choice.model.answerable.time_column is not None)

    def grain_match(choice: ModelChoice) -> int:
        period = ask.period
        return int(period is not None and period.count == 1 and period.kind not in
                   {"qtd", "mtd", "ytd"} and choice.model.answerable.time_grain == period.grain)

    servable = [c for c in ranked if c.measures and serves(c)]
    best = max((c.measures[0].score for c in servable), default=0.0)
    # near-equal namings: the model whose grain is the period's (a quarter's figure from
    # the per-quarter model, computed as metrics.md defines it) goes first
    servable.sort(key=lambda c: (-timed(c), -(c.measures[0].score >= best - 1.0),
                                 -grain_match(c), -c.measures[0].score, -c.score))
    for choice in servable:
        top = choice.measures[0]
        # "win rate by amount" names win_rate too: keep only the most specific per words
        measures = [top.measure] + [h.measure for h in choice.measures[1:]
                                    if h.phrase not in top.phrase][:2]
        return choice, measures
    if ask.measure_hint:
        same = [c for c in ranked if c.model.answerable.measure(ask.measure_hint) and serves(c)]
        same.sort(key=lambda c: (-timed(c), ask.period is not None and cuts_grain(
            c.model.answerable.time_grain, ask.period), c.name != ask.model_hint, -c.score))
        if same:
            return same[0], [same[0].model.answerable.measure(ask.measure_hint)]
    floor = 1.0 if ask.values else 3.0  # "how is Jane doing?": the best model for Jane
    for choice in ranked:
        meta = choice.model.answerable
        if choice.score >= floor and serves(choice):
            return choice, [meta.measures[0]]
    return None


def analytics_plans(ask: Ask, warehouse: Warehouse, ranked: list[ModelChoice]) -> Outcome:
    """Plans for a figure, ranking, trend or comparison."""
    picked = choose(ranked, ask)
    if picked is None:
        return Outcome(unanswerable=_why_not(ask, ranked))
    choice, measures = picked
    model, headline = choice.model, measures[0]
    if ask.why:
        return drivers_plans(ask, warehouse, model, headline)
    if headline.is_aggregate:
        outcome = _aggregate_plans(ask, warehouse, model, measures)
    else:
        outcome = _row_plans(ask, warehouse, model, measures)
    outcome.notes.update(model=model.name, measure=headline.name)
    return outcome


def _default_period(ask: Ask, warehouse: Warehouse, headline: Measure) -> Period | None:
    if ask.period is not None:
        return ask.period
    if _is_open_measure(headline):
        return None
    if _is_outcome_measure(headline) or headline.unit == "percent":
        return overall_window(warehouse.as_of, warehouse.fiscal_year_start_month)
    return None


def _aggregate_plans(ask: Ask, warehouse: Warehouse, model: Model,
                     measures: list[Measure]) -> Outcome:
    meta = model.answerable
    headline = measures[0]
    filters, _ = _value_filters(model, ask)
    selections: list[Selection] = []
    group_by: list[str] = []
    order: list[Order] = []
    limit = ask.limit
    period = _default_period(ask, warehouse, headline)
    notes: dict[str, Any] = {}
    trend_dim = None
    if ask.trend and not ask.group_by:
        trend_dim = meta.dimension("quarter") or meta.dimension("month")
    for dim_name in ask.group_by:
        dim = meta.dimension(dim_name)
        selections.append(Selection(name=dim.name, column=dim.column, role="dimension",
                                    label=dim.label or dim.name))
        group_by.append(dim.name)
    if trend_dim is not None:
        selections.append(Selection(name=trend_dim.name, column=trend_dim.column,
                                    role="dimension", label=trend_dim.label))
        group_by.append(trend_dim.name)
        order.append(Order(name=trend_dim.name, desc=True))
        if ask.period is None or ask.period.kind == "overall":
            count = ask.limit or DEFAULT_TREND_PERIODS
            first = add_months(quarter_start(warehouse.as_of, warehouse.fiscal_year_start_month),
                               -3 * (count - 1))
            if trend_dim.name == "month":
                first = add_months(month_start(warehouse.as_of), -(count - 1))
            period = Period(first, warehouse.as_of, f"the last {count} {trend_dim.name}s",
                            "range", "trend", count)
        limit = None
    shown = [headline, *measures[1:], *_context_measures(model, headline)]
    for measure in dict.fromkeys(shown):
        selections.append(_measure_selection(measure))
    if group_by and trend_dim is None:
        desc = ask.direction != "bottom"
        if headline.higher_is_better is False and ask.direction in {"top", "bottom"} and \
                has_any(ask.words, ("best", "worst", "strongest", "weakest")):
            desc = not desc  # "best" overdue share is the lowest one
        order.append(Order(name=headline.name, desc=desc))
        if headline.unit == "percent":
            # a rate over a handful of deals says little: rank groups with data only
            notes["min_denominator"] = True
    if period is not None:
        flt = _period_filter(model, period)
        if flt is not None:
            filters.append(flt)
    main = QueryPlan(
        model=model.name, purpose="trend" if trend_dim is not None else "main", aggregate=True,
        selections=selections, filters=filters, group_by=group_by, order_by=order,
        limit=limit if group_by else None, period_label=period.label if period else None,
        description=_describe(headline, ask, period),
        notes={"headline": headline.name, "period_kind": period.kind if period else None},
    )
    plans = [main]
    compare = _compare_period(ask, warehouse, period)
    if compare is not None and trend_dim is None:
        cmp_filters = [f for f in filters if f.dimension != "period"]
        flt = _period_filter(model, compare)
        if flt is not None:
            cmp_filters.append(flt)
            plans.append(main.model_copy(update={
                "purpose": "compare", "filters": cmp_filters, "period_label": compare.label,
                "description": _describe(headline, ask, compare)}))
    return Outcome(plans=plans, notes=notes)


def _compare_period(ask: Ask, warehouse: Warehouse, period: Period | None) -> Period | None:
    if period is None or not ask.compare:
        return None
    if len(ask.periods) >= 2:
        return ask.periods[1]
    return previous(period, warehouse.fiscal_year_start_month)


def _row_plans(ask: Ask, warehouse: Warehouse, model: Model, measures: list[Measure]) -> Outcome:
    implicit = _implicit_dimension(model, ask)
    if implicit is not None:
        ask = dataclasses.replace(ask, group_by=[implicit])
    meta = model.answerable
    headline = measures[0]
    filters, _ = _value_filters(model, ask)
    filters += _kind_filters(model, ask)
    used_dims = [meta.dimension(d) for d in [*ask.group_by, *(m.dimension for m in ask.values)]]
    used_dims = [d for d in used_dims if d is not None]
    label = used_dims[0].column if used_dims else _label_column(model)
    # a dimension shows under its own name ("stage", not the stacked model's "dimension")
    label_name = used_dims[0].name if used_dims and used_dims[0].name not in model.columns \
        else label
    selections: list[Selection] = []
    columns_seen: set[str] = set()

    def add(sel: Selection) -> None:
        key = sel.column or sel.name
        if key not in columns_seen:
            columns_seen.add(key)
            selections.append(sel)

    if label:
        add(Selection(name=label_name, column=label, role="dimension", label=label_name))
    for dim_name in ask.group_by:
        dim = meta.dimension(dim_name)
        add(Selection(name=dim.column, column=dim.column, role="dimension", label=dim.name))
    for match in ask.values:
        dim = meta.dimension(match.dimension)
        if dim is not None:
            add(Selection(name=dim.column, column=dim.column, role="dimension", label=dim.name))
    for measure in dict.fromkeys([*measures, *_context_measures(model, headline)]):
        add(_measure_selection(measure))
    if meta.time_column and meta.time_column not in columns_seen:
        add(Selection(name=meta.time_column, column=meta.time_column, role="attribute"))

    order: list[Order] = []
    limit: int | None = None
    period = widen_to_grain(meta.time_grain, ask.period)
    ranking = bool(ask.group_by) or ask.direction is not None
    grain = meta.time_grain
    if meta.time_column and grain in {"quarter", "month"}:
        if period is None and not ask.trend and not ranking:
            period = _current(warehouse, grain)
        elif period is None or (ask.trend and period.count == 1 and period.grain == grain):
            count = ask.limit or meta.default_limit or DEFAULT_TREND_PERIODS
            current = _current(warehouse, grain)
            step = 3 if grain == "quarter" else 1
            first = add_months(current.start, -step * (count - 1))
            period = Period(first, current.end, f"the last {count} {grain}s", "range", "trend",
                            count)
            order.append(Order(name=meta.time_column, desc=True))
            limit = count
    if period is not None:
        flt = _period_filter(model, period)
        if flt is not None:
            filters.append(flt)
    headline_column = model.columns.get(headline.column or "")
    if headline_column is not None and (headline_column.data_type or "").lower() == "boolean":
        # "which reps need coaching": a yes/no measure is a filter; rank by the next figure
        filters.append(Filter(column=headline.column, op="is_true", label=headline.label))
        numeric = [s for s in selections if s.role == "measure" and s.unit not in {"text", None}
                   and s.name != headline.name]
        ranking = True
        if numeric:
            order = [Order(name=numeric[0].name, desc=False)]
            notes_headline = numeric[0].name
        else:
            notes_headline = headline.name
        limit = ask.limit
        plan = QueryPlan(
            model=model.name, purpose="main", aggregate=False,
            selections=[s for s in selections if s.name != headline.name], filters=filters,
            order_by=order, limit=limit, description=_describe(headline, ask, None),
            notes={"headline": notes_headline, "ranking": True, "flag": headline.name},
        )
        return Outcome(plans=[plan])
    if ranking:
        desc = ask.direction != "bottom"
        if headline.higher_is_better is False and ask.direction and has_any(
            ask.words, ("best", "worst", "strongest", "weakest", "healthiest")
        ):
            desc = not desc
        if headline.unit == "text":
            order = [Order(name=s.column, desc=s.desc) for s in meta.default_sort]
        else:
            order = [Order(name=headline.name, desc=desc)]
        limit = ask.limit
    if not order:
        order = [Order(name=s.column, desc=s.desc) for s in meta.default_sort]
    if limit is None and not ranking:
        limit = meta.default_limit or DEFAULT_LIST_LIMIT if period is None else None
    plan = QueryPlan(
        model=model.name, purpose="trend" if (ask.trend and limit and limit > 1) else "main",
        aggregate=False, selections=selections, filters=filters, order_by=order, limit=limit,
        period_label=period.label if period else None,
        description=_describe(headline, ask, period),
        notes={"headline": headline.name, "period_kind": period.kind if period else None,
               "ranking": ranking},
    )
    plans = [plan]
    if (period is not None and grain == "month" and period.days > 31 and not ask.trend
            and headline.unit in {"currency", "count"} and headline.column):
        # a quarter of a monthly model: the months add up (e.g. a quarter's forecast)
        total = QueryPlan(
            model=model.name, purpose="detail", aggregate=True,
            selections=[Selection(name=f"total_{headline.name}", expr=f'sum("{headline.column}")',
                                  unit=headline.unit, role="measure", label=headline.label),
                        Selection(name="months", expr="count(*)", unit="count", role="measure")],
            filters=filters, period_label=period.label,
            description=f"{headline.label} summed over {period.label}",
            notes={"headline": f"total_{headline.name}", "total_of": headline.name},
        )
        plans.insert(0, total.model_copy(update={"purpose": "main"}))
        plan = plan.model_copy(update={"purpose": "detail"})
        plans[1] = plan
    compare = _compare_period(ask, warehouse, period)
    if compare is not None and not ask.trend:
        cmp_filters = [f for f in filters if f.dimension != "period"]
        flt = _period_filter(model, compare)
        if flt is not None:
            plans.append(plan.model_copy(update={
                "purpose": "compare", "filters": [*cmp_filters, flt],
                "period_label": compare.label, "description": _describe(headline, ask, compare)}))
    return Outcome(plans=plans)


def _current(warehouse: Warehouse, grain: str) -> Period:
    from agents.periods import _month, _quarter  # the same constructors the parser uses

    if grain == "quarter":
        start = quarter_start(warehouse.as_of, warehouse.fiscal_year_start_month)
        return dataclasses.replace(_quarter(start, warehouse.fiscal_year_start_month, "now"))
    return _month(month_start(warehouse.as_of), "now")


def _describe(measure: Measure, ask: Ask, period: Period | None) -> str:
    parts = [measure.label or measure.name]
    if ask.group_by:
        parts.append("by " + ", ".join(ask.group_by))
    for match in ask.values:
        parts.append(f"for {match.dimension} {', '.join(match.values)}")
    if period is not None:
        parts.append(f"({period.label})")
    return " ".join(parts)


# ----------------------------------------------------------------------------- why / drivers


_WHY_WORDS = ("why", "driver", "drivers", "root cause", "reason", "cause")


def _explainer(catalog: Catalog, model: Model, headline: Measure) -> Model | None:
    """Another model of the same grain that documents itself as explaining this figure.

    It has synonyms like "why deals slip" / "slippage drivers" and the same measure.
    """
    meta = model.answerable
    for other in catalog.answerable:
        om = other.answerable
        if other.name == model.name or om.time_grain != meta.time_grain:
            continue
        if om.measure(headline.name) is None:
            continue
        text = " ".join(om.synonyms).lower()
        if any(w in text for w in _WHY_WORDS):
            return other
    return None


def drivers_plans(ask: Ask, warehouse: Warehouse, model: Model, headline: Measure) -> Outcome:
    """"Why?": what moved the figure — components of a row, or the groups that changed most."""
    meta = model.answerable
    outcome = Outcome(notes={"model": model.name, "measure": headline.name, "why": True})
    if not headline.is_aggregate:
        explainer = _explainer(warehouse.catalog, model, headline)
        if explainer is not None:
            model, meta = explainer, explainer.answerable
            headline = meta.measure(headline.name)
            outcome.notes["explained_by"] = model.name
        # A row model: show every component of the row for the period; the responder names
        # the weakest (for a health score) or the documented insight.
        components = [m for m in meta.measures if m.name != headline.name]
        period = ask.period or (_current(warehouse, meta.time_grain)
                                if meta.time_grain in {"quarter", "month"} else None)
        filters, _ = _value_filters(model, ask)
        if period is not None and (flt := _period_filter(model, period)) is not None:
            filters.append(flt)
        filters += _kind_filters(model, ask)
        label = _label_column(model)
        selections = ([Selection(name=label, column=label, role="dimension")] if label else [])
        selections += [_measure_selection(m) for m in [headline, *components]
                       if m.column != label]
        outcome.plans.append(QueryPlan(
            model=model.name, purpose="drivers", aggregate=False, selections=selections,
            filters=filters, order_by=[Order(name=s.column, desc=s.desc)
                                       for s in meta.default_sort],
            limit=1 if period else 1, period_label=period.label if period else None,
            description=f"components of {headline.label}",
            notes={"headline": headline.name},
        ))
        return outcome
    period = _default_period(ask, warehouse, headline) or overall_window(
        warehouse.as_of, warehouse.fiscal_year_start_month)
    prior = previous(period, warehouse.fiscal_year_start_month)
    filters, _ = _value_filters(model, ask)
    used = {m.dimension for m in ask.values}
    for dim_name in ("industry", "owner", "stage", "lead_source", "type"):
        dim = meta.dimension(dim_name)
        if dim is None or dim_name in used:
            continue
        selections = [Selection(name=dim.name, column=dim.column, role="dimension"),
                      _measure_selection(headline)]
        for extra in _context_measures(model, headline):
            selections.append(_measure_selection(extra))
        for which, span in (("current", period), ("prior", prior)):
            flt = _period_filter(model, span)
            outcome.plans.append(QueryPlan(
                model=model.name, purpose="drivers", aggregate=True, selections=selections,
                filters=[*filters, *([flt] if flt else [])], group_by=[dim.name],
                order_by=[Order(name=headline.name, desc=True)], period_label=span.label,
                description=f"{headline.label} by {dim.name} ({span.label})",
                notes={"headline": headline.name, "driver": dim.name, "which": which},
            ))
        if len(outcome.plans) >= 4:
            break
    outcome.notes["period"] = period.label
    outcome.notes["prior"] = prior.label
    return outcome


# ----------------------------------------------------------------------------- lookups


_FLAGS = {"open": "is_open", "overdue": "is_overdue", "won": "is_won", "lost": "is_lost",
          "closed": "is_closed", "past due": "is_overdue", "late": "is_overdue",
          "stale": "is_overdue", "winning": "is_won", "losing": "is_lost", "losses": "is_lost",
          "wins": "is_won", "active": "is_open", "pipeline": "is_open", "closing": "is_open",
          "still open": "is_open"}


def lookup_plans(ask: Ask, warehouse: Warehouse, ranked: list[ModelChoice]) -> Outcome:
    """Plans that list specific records ("open deals for Acme", "most pushed deals")."""
    catalog = warehouse.catalog
    record_models = [c for c in ranked if any(g.endswith("_id") for g in c.model.answerable.grain)
                     and c.model.answerable.grain]
    if not record_models:
        return Outcome(unanswerable="no model in the catalog lists individual deals")
    choice = record_models[0]
    pushes = has_any(ask.words, ("pushed", "push", "slipped", "slip", "slipping", "slippage"))
    # "most pushed deals" is a ranking of deals, answered from the one-row-per-deal model
    per_deal = [c for c in record_models
                if any(g == "opportunity_id" for g in c.model.answerable.grain)]
    if pushes and ask.period is None and per_deal:
        choice = per_deal[0]
    if not pushes and per_deal:
        choice = per_deal[0]
    model = choice.model
    meta = model.answerable
    words = list(ask.words)
    if ask.follow_up and not has_any(words, tuple(_FLAGS), fuzzy=False):
        words += ask.inherited.get("words") or []  # "what about Amara?" after "her overdue deals"
    ask = dataclasses.replace(ask, words=words)
    filters, missing = _value_filters(model, ask)
    if missing:
        return Outcome(unanswerable=f"{model.name} cannot filter by {', '.join(missing)}")
    columns = [c for c in RECORD_COLUMNS if model.has_column(c)]
    for extra in ("opportunity_id", "old_close_date", "new_close_date", "slip_days"):
        if model.has_column(extra) and "opportunity_name" not in columns and extra not in columns:
            columns.append(extra)
    order: list[Order] = []
    present = set(ask.words) | {" ".join(p) for p in zip(ask.words, ask.words[1:], strict=False)}
    for word, flag in _FLAGS.items():
        if word in present and model.has_column(flag):
            if not any(f.column == flag for f in filters):
                filters.append(Filter(column=flag, op="is_true", label=word))
    if pushes and model.has_column("push_count"):
        filters.append(Filter(column="push_count", op="gt", values=[0], label="pushed"))
        columns.append("push_count")
        order.append(Order(name="push_count", desc=True))
    if pushes and model.has_column("is_out_of_quarter") and ask.period is not None:
        filters.append(Filter(column="is_out_of_quarter", op="is_true", label="out of quarter"))
    if any(f.column == "is_overdue" for f in filters) and model.has_column("days_overdue"):
        columns.append("days_overdue")
        if has_any(ask.words, ("oldest", "longest", "most overdue", "latest"), fuzzy=False):
            order.append(Order(name="days_overdue", desc=True))
    period_column = meta.time_column
    if pushes and model.has_column("old_close_date"):
        period_column = "old_close_date"
    if ask.period is not None and period_column:
        filters.append(Filter(column=period_column, op="between",
                              values=[ask.period.start, ask.period.end], dimension="period",
                              label=f"{period_column} in {ask.period.label}"))
    amount = "amount" if model.has_column("amount") else None
    if has_any(ask.words, ("smallest",), fuzzy=False) and amount:
        order.append(Order(name=amount, desc=False))
    elif has_any(ask.words, ("soonest", "next", "upcoming", "closing soon"), fuzzy=False) and \
            meta.time_column and ask.period is None:
        order.append(Order(name=meta.time_column, desc=False))
    elif amount:
        order.append(Order(name=amount, desc=True))
    selections = [Selection(name=c, column=c, role="attribute",
                            unit="currency" if c == "amount" else None)
                  for c in dict.fromkeys(columns)]
    plan = QueryPlan(
        model=model.name, purpose="records", aggregate=False, selections=selections,
        filters=filters, order_by=order, limit=ask.limit or DEFAULT_LIST_LIMIT,
        period_label=ask.period.label if ask.period else None,
        description=" ".join(["deals", *(f.label for f in filters
                                          if f.label and f.dimension is None)]),
        notes={"lookup": True},
    )
    count_plan = QueryPlan(
        model=model.name, purpose="detail", aggregate=True,
        selections=[Selection(name="deal_count", expr="count(*)", unit="count", role="measure"),
                    *([Selection(name="total_amount", expr=f"sum({amount})", unit="currency",
                                 role="measure")] if amount else [])],
        filters=filters, description="how many deals match",
    )
    _ = catalog
    return Outcome(plans=[plan, count_plan], notes={"model": model.name, "lookup": True})


# ----------------------------------------------------------------------------- briefing

_BRIEFING_WORDS = ("executive", "dashboard", "summary", "briefing", "overview", "kpi")


def briefing_plans(ask: Ask, warehouse: Warehouse, ranked: list[ModelChoice]) -> Outcome:
    """One row of headline KPIs from the model that documents itself as the dashboard."""
    def dashboard_score(choice: ModelChoice) -> float:
        meta = choice.model.answerable
        text = " ".join([choice.name, meta.label, meta.family, *meta.synonyms]).lower()
        return sum(w in text for w in _BRIEFING_WORDS) + (meta.time_column is None) * 0.5

    candidates = sorted(ranked, key=lambda c: (-dashboard_score(c), -c.score))
    if not candidates or dashboard_score(candidates[0]) < 1:
        return Outcome(unanswerable="no model in the catalog documents itself as a dashboard")
    model = candidates[0].model
    measures = list(model.answerable.measures)
    plan = QueryPlan(
        model=model.name, purpose="main", aggregate=False,
        selections=[_measure_selection(m) for m in measures], limit=1,
        description=model.answerable.label, notes={"briefing": True},
    )
    return Outcome(plans=[plan], notes={"model": model.name, "briefing": True})


# ----------------------------------------------------------------------------- the node


def _why_not(ask: Ask, ranked: list[ModelChoice]) -> str:
    wanted = {*ask.group_by, *(v.dimension for v in ask.values)}
    if ranked and ranked[0].measures and wanted:
        return (f"{ranked[0].name} has the figure but cannot be split or filtered by "
                f"{', '.join(sorted(wanted))}")
    return "no model in the catalog has a figure matching the question"


def suggestions(catalog: Catalog, ranked: list[ModelChoice] | None = None, n: int = 3
                ) -> list[str]:
    """Nearby questions the catalog documents as answerable."""
    models = [c.model for c in ranked] if ranked else catalog.answerable
    out: list[str] = []
    for model in models:
        for question in model.answerable.example_questions[:1]:
            if question not in out:
                out.append(question)
        if len(out) >= n:
            break
    return out


def plan_kind(ask: Ask, intent: str) -> str:
    """Which planner serves a question: ``briefing``, ``lookup`` or ``analytics``.

    "Which deals were pushed the most?" is a ranking of records, so it is a lookup.
    """
    if intent == "briefing":
        return "briefing"
    deals_ranking = has_any(ask.words, ("deal", "opportunity"), fuzzy=False) and has_any(
        ask.words, ("pushed", "slipped", "pushes"), fuzzy=False) and has_any(
        ask.words, ("most", "which", "top", "biggest"), fuzzy=False) and not ask.group_by
    return "lookup" if intent == "lookup" or deals_ranking else "analytics"


def make_plans(ask: Ask, warehouse: Warehouse, intent: str) -> tuple[Outcome,
                                                                    list[ModelChoice]]:
    """Plans for a question of `intent` (pure apart from the warehouse's catalog)."""
    ranked = rank_models(ask, warehouse.catalog, intent=intent)
    if ask.unknown_names:
        name = ask.unknown_names[0]
        near = value_index(warehouse).closest(name, 3)
        return Outcome(
            unanswerable=f"I couldn't find '{name}' among the owners, accounts or other names "
            "in the warehouse",
            suggestions=[f"Did you mean {value} ({dim})?" for dim, value in near],
            notes={"unknown": name},
        ), ranked
    ambiguous = [m for m in ask.values if m.ambiguous]
    if ambiguous:
        m = ambiguous[0]
        return Outcome(unanswerable=f"'{m.text}' matches several {m.dimension}s: "
                       f"{', '.join(m.values)}", notes={"ambiguous": m.dimension},
                       suggestions=[ask.question.replace(m.text, v, 1)
                                    if m.text in ask.question else f"{ask.question} ({v})"
                                    for v in m.values[:3]]), ranked
    kind = plan_kind(ask, intent)
    if kind == "briefing":
        outcome = briefing_plans(ask, warehouse, ranked)
    elif kind == "lookup":
        outcome = lookup_plans(ask, warehouse, ranked)
    else:
        outcome = analytics_plans(ask, warehouse, ranked)
    if outcome.unanswerable and not outcome.suggestions:
        outcome.suggestions = suggestions(warehouse.catalog, [c for c in ranked if c.score > 0])
    return outcome, ranked


def plan_query(state: State, runtime: Runtime[Context]) -> dict:
    """Node: turn the question into typed query plans (or say why it cannot).

    The offline plans are made first; with the LLM engine the model's reading then
    replaces them when it checks out against the catalog (`agents.llm.nodes.plan`), and
    the offline plans stand on any failure.
    """
    try:
        warehouse, ask = understand(state, runtime)
    except Exception as exc:  # noqa: BLE001 - the answer reports it
        return {"plans": [], "error": user_text(exc)}
    try:
        outcome, ranked = make_plans(ask, warehouse, state.intent)
    except Exception as exc:  # noqa: BLE001 - a planner bug is reported, never raised
        return {"plans": [], "error": f"I could not plan a query ({type(exc).__name__}: {exc})."}
    llm_update: dict[str, Any] = {}
    planner = "offline"
    if runtime.context.engine == "llm":
        outcome, ranked, ask, llm_update, planner = _llm_plans(
            state, runtime, warehouse, ask, outcome, ranked)
    understanding = ask.to_state()
    understanding["measure_hint"] = outcome.notes.get("measure")
    understanding["model_hint"] = outcome.notes.get("model")
    facts: dict[str, Any] = {"notes": outcome.notes, "planner": planner}
    if outcome.unanswerable:
        facts.update(unanswerable=outcome.unanswerable, suggestions=outcome.suggestions)
    update: dict[str, Any] = {
        "plans": [p.to_state() for p in outcome.plans],
        "understanding": understanding,
        "facts": facts,
        **llm_update,
    }
    used = list(dict.fromkeys(p.model for p in outcome.plans))
    if used:
        reasons = dict(state.model_reasons)
        choice_by_name = {c.name: c for c in ranked}
        for name in used:
            if name not in reasons:
                c = choice_by_name.get(name)
                reasons[name] = "; ".join(c.reasons) if c and c.reasons else "used by the plan"
        update["models"] = list(dict.fromkeys([*used, *state.models]))
        update["model_reasons"] = reasons
    return update


def _llm_plans(state: State, runtime: Runtime[Context], warehouse: Warehouse, ask: Ask,
               outcome: Outcome, ranked: list[ModelChoice]
               ) -> tuple[Outcome, list[ModelChoice], Ask, dict[str, Any], str]:
    """The LLM's plans for the question, or the offline ones (with the reason recorded)."""
    from agents.llm import nodes as llm_nodes

    if state.intent not in {"analytics", "lookup", "briefing"}:
        return outcome, ranked, ask, {}, "offline"
    if ask.unknown_names or any(m.ambiguous for m in ask.values):
        # A name the warehouse does not know, or one matching several people: the offline
        # answer asks the user to clarify; no model should guess past it.
        return outcome, ranked, ask, {}, "offline"
    engine, ready = llm_nodes.turn_engine(runtime.context, "plan_query", state.llm_fallbacks)
    if engine is None:
        return outcome, ranked, ask, ready.update(), "offline"
    planned, llm_ranked, llm_ask, step = llm_nodes.plan(
        engine, question=state.question, history=state.history, ask=ask, warehouse=warehouse,
        intent=state.intent, persona=runtime.context.persona,
        row_limit=runtime.context.row_limit)
    records = llm_nodes.merge(ready, step).update()
    if planned is None:
        return outcome, ranked, ask, records, "offline"
    return planned, llm_ranked, llm_ask, records, "llm"
