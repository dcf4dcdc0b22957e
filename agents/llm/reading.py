"""The LLM's reading of a question, checked against the catalog and made a typed `Query`.

The LLM names a model, measures, dimensions, flags, numbers, values and a period in words;
this module checks every name against the typed catalog, resolves values through the
warehouse's value index and periods through `agents.periods`, and returns the same `Query`
the offline reader produces — one contract, one planner, one SQL builder — so the LLM adds
understanding, never SQL or figures. Any name the catalog does not know makes the reading
invalid (`LLMUnavailableError`, kind ``schema_invalid``) and the offline query stands.
"""

from __future__ import annotations

import datetime as dt

from agents.contract import Condition, Intent, Order, Query, Ranking, Window
from agents.grammar import parse_amount
from agents.llm.schemas import FilterOut, Reading
from agents.periods import Period, parse_period
from agents.values import ValueIndex
from whizzy.core.errors import LLMUnavailableError
from whizzy.warehouse.catalog import Catalog, Model


def _invalid(message: str) -> LLMUnavailableError:
    return LLMUnavailableError(f"the LLM's plan is not valid: {message}", kind="schema_invalid")


def describe_query(query: Query) -> str:
    """The offline reading in one line (a hint for the planner prompt).

    >>> describe_query(Query(measures=["win_rate"], group_by=["owner"], model="m"))
    'model=m measures=win_rate; group_by=owner'
    """
    parts = []
    if query.model or query.measures:
        parts.append(f"model={query.model} measures={','.join(query.measures)}")
    if query.group_by:
        parts.append("group_by=" + ",".join(query.group_by))
    for cond in query.filters:
        parts.append(f"{cond.field} {cond.op} {'|'.join(map(str, cond.values))}".strip())
    if query.window is not None:
        parts.append(f"period={query.window.label}")
    if query.ranking is not None:
        parts.append(f"direction={query.ranking.direction} limit={query.ranking.limit}")
    for flag in ("trend", "why", "records"):
        if getattr(query, flag):
            parts.append(flag)
    return "; ".join(parts) or "(nothing recognised)"


def resolve_value(index: ValueIndex | None, dimension: str, value: str) -> tuple[str, ...]:
    """Canonical warehouse values for `value` of `dimension` (empty when unknown).

    >>> idx = ValueIndex({"industry": ["Healthcare", "Retail"], "owner": ["Jane Doe"]})
    >>> resolve_value(idx, "industry", "healthcare"), resolve_value(idx, "owner", "Jane")
    (('Healthcare',), ('Jane Doe',))
    >>> resolve_value(idx, "industry", "Mining")
    ()
    """
    if index is None or dimension not in index.values:
        return (value,)
    known = index.values[dimension]
    exact = [v for v in known if v.lower() == value.strip().lower()]
    if exact:
        return (exact[0],)
    for match in index.match(value):
        if match.dimension == dimension:
            if match.ambiguous:
                raise _invalid(f"{value!r} matches several {dimension}s: "
                               f"{', '.join(match.values)}")
            return tuple(match.values)
    return ()


def _window(text: str | None, as_of: dt.date, fsm: int, what: str) -> Window | None:
    if text is None or not text.strip():
        return None
    period: Period | None = parse_period(text, as_of, fsm)
    if period is None:
        raise _invalid(f"the {what} {text!r} is not a period I can read")
    return Window(start=period.start, end=period.end, label=period.label, grain=period.grain,
                  kind=period.kind, count=period.count, text=text)


def _condition(flt: FilterOut, model: Model, index: ValueIndex | None) -> Condition:
    meta = model.answerable
    if meta.flag(flt.field) is not None:
        if flt.op not in {"is_true", "is_false"}:
            raise _invalid(f"flag {flt.field} takes is_true or is_false, not {flt.op}")
        return Condition(field=flt.field, op=flt.op, text=flt.field)
    if meta.number(flt.field) is not None or meta.measure(flt.field) is not None:
        values = [parse_amount(v.lower().replace(",", "")) for v in flt.values]
        if any(v is None for v in values) or flt.op not in {"gt", "gte", "lt", "lte",
                                                             "between"}:
            raise _invalid(f"{flt.field} needs a bound with numbers, not {flt.op} "
                           f"{flt.values}")
        return Condition(field=flt.field, op=flt.op, values=values,
                         text=f"{flt.field} {flt.op} {' and '.join(flt.values)}")
    if meta.dimension(flt.field) is None:
        raise _invalid(f"{model.name} has no dimension, flag or number {flt.field!r}")
    if flt.op not in {"eq", "in", "not_in"}:
        raise _invalid(f"dimension {flt.field} takes eq, in or not_in, not {flt.op}")
    resolved: list[str] = []
    for raw in flt.values:
        found = resolve_value(index, flt.field, raw)
        if not found:
            raise _invalid(f"no {flt.field} called {raw!r} in the warehouse")
        resolved.extend(v for v in found if v not in resolved)
    op = flt.op if flt.op == "not_in" else ("eq" if len(resolved) == 1 else "in")
    return Condition(field=flt.field, op=op, values=resolved, text=", ".join(flt.values))


def to_query(reading: Reading, offline: Query, catalog: Catalog, values: ValueIndex | None, *,
             as_of: dt.date, fiscal_year_start_month: int = 1) -> Query | None:
    """Check `reading` against the catalog and make it a `Query` (None: no model fits).

    Raises:
        LLMUnavailableError: a model, measure, dimension, value or period is unknown.
    """
    if reading.model is None:
        return None
    model = catalog.models.get(reading.model)
    if model is None or model.answerable is None or model not in catalog.answerable:
        raise _invalid(f"{reading.model!r} is not an answerable catalog model")
    meta = model.answerable
    for name in reading.measures:
        if meta.measure(name) is None:
            raise _invalid(f"{model.name} has no measure {name!r}")
    if not reading.measures and not reading.records and meta.role != "dashboard":
        raise _invalid(f"no measure named for {model.name}")
    for name in reading.group_by:
        if meta.dimension(name) is None:
            raise _invalid(f"{model.name} has no dimension {name!r}")
    if reading.limit is not None and not 1 <= reading.limit <= 1000:
        raise _invalid(f"limit {reading.limit} is out of range")
    filters = [_condition(f, model, values) for f in reading.filters]
    share = [_condition(f, model, values) for f in reading.share_of]
    window = _window(reading.period, as_of, fiscal_year_start_month, "period")
    compare = _window(reading.compare_period, as_of, fiscal_year_start_month, "compare period")
    if reading.compare_members and not any(c.field == reading.compare_members and c.op == "in"
                                           for c in filters):
        raise _invalid(f"compare_members {reading.compare_members!r} has no 'in' filter")
    order = None
    if reading.order_by:
        if meta.number(reading.order_by) is None:
            raise _invalid(f"{model.name} has no number {reading.order_by!r} to order by")
        order = Order(field=reading.order_by, desc=reading.order_desc)
    if reading.pick and meta.dimension(reading.pick) is None:
        raise _invalid(f"{model.name} has no dimension {reading.pick!r}")
    ranking = Ranking(direction=reading.direction, limit=reading.limit) \
        if reading.direction else None
    intent = Intent.BRIEFING if meta.role == "dashboard" else (
        Intent.LOOKUP if reading.records else Intent.ANALYTICS)
    return Query(
        intent=intent, measures=list(reading.measures), group_by=list(reading.group_by),
        filters=filters, window=window, compare_window=compare,
        compare_members=reading.compare_members, ranking=ranking, trend=reading.trend,
        why=reading.why, records=reading.records, order=order,
        limit=reading.limit, pick=reading.pick, share_of=share, model=model.name,
        question=offline.question, follow_up=offline.follow_up,
        not_applied=list(offline.not_applied) if _same_scope(offline, filters, window) else [],
    )


def _same_scope(offline: Query, filters: list[Condition], window: Window | None) -> bool:
    """Whether the LLM applied no more than the offline reading (its notes still hold)."""
    return {(c.field, c.op) for c in filters} <= {(c.field, c.op) for c in offline.filters} \
        and (window is None) == (offline.window is None)


def reading_of(query: Query) -> Reading:
    """The `Reading` that stands for a query (tests replay it through a stub LLM)."""
    def out(cond: Condition) -> FilterOut:
        return FilterOut(field=cond.field, op=cond.op, values=[str(v) for v in cond.values])

    return Reading(
        model=query.model, measures=list(query.measures), group_by=list(query.group_by),
        filters=[out(c) for c in query.filters],
        period=query.window.label if query.window else None,
        compare_period=query.compare_window.label if query.compare_window else None,
        compare_members=query.compare_members,
        direction=query.ranking.direction if query.ranking else None, limit=query.limit,
        trend=query.trend, why=query.why, records=query.records,
        order_by=query.order.field if query.order and query.order.field != "time" else None,
        order_desc=query.order.desc if query.order else True, pick=query.pick,
        share_of=[out(c) for c in query.share_of], reason="as the offline engine read it")
