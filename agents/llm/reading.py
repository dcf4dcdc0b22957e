"""The LLM's reading of a question, checked against the catalog and turned into an `Ask`.

The LLM names a model, a measure, dimensions, values and a period in words; this module
checks every name against the typed catalog, resolves values through the warehouse's value
index and the period through `agents.periods`, and returns the same `Ask` the offline
reader produces plus a `ModelChoice` for the chosen model. The offline planner then builds
the `QueryPlan` — so both engines share one plan type, one builder and one executor, and
the LLM adds understanding, never SQL or figures. Any name the catalog does not know makes
the reading invalid (`LLMUnavailableError`, kind ``schema_invalid``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from agents.llm.schemas import Reading
from agents.periods import Period, parse_period
from agents.question import Ask
from agents.selector import MeasureHit, ModelChoice
from agents.values import TIME_DIMENSIONS, ValueIndex, ValueMatch
from whizzy.core.errors import LLMUnavailableError
from whizzy.warehouse.catalog import Catalog, Model


def _invalid(message: str) -> LLMUnavailableError:
    return LLMUnavailableError(f"the LLM's plan is not valid: {message}", kind="schema_invalid")


def describe_ask(ask: Ask) -> str:
    """The offline reading in one line (a hint for the planner prompt)."""
    parts = []
    if ask.model_hint or ask.measure_hint:
        parts.append(f"model={ask.model_hint} measure={ask.measure_hint}")
    if ask.group_by:
        parts.append("group_by=" + ",".join(ask.group_by))
    for match in ask.values:
        parts.append(f"{match.dimension}={'|'.join(match.values)}")
    if ask.period is not None:
        parts.append(f"period={ask.period.label}")
    if ask.direction:
        parts.append(f"direction={ask.direction}")
    if ask.limit:
        parts.append(f"limit={ask.limit}")
    for flag in ("trend", "compare", "why", "follow_up"):
        if getattr(ask, flag):
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


def _period(text: str | None, as_of: dt.date, fsm: int, what: str) -> Period | None:
    if text is None or not text.strip():
        return None
    period = parse_period(text, as_of, fsm)
    if period is None:
        raise _invalid(f"the {what} {text!r} is not a period I can read")
    return period


def apply_reading(reading: Reading, ask: Ask, catalog: Catalog, values: ValueIndex | None, *,
                  as_of: dt.date, fiscal_year_start_month: int = 1
                  ) -> tuple[Ask, ModelChoice | None]:
    """Check `reading` against the catalog and fold it into the offline `ask`.

    Returns the new `Ask` and the chosen model (None when the LLM says no model fits).

    Raises:
        LLMUnavailableError: a model, measure, dimension, value or period is unknown.
    """
    if reading.model is None:
        return ask, None
    model = catalog.models.get(reading.model)
    if model is None or model.answerable is None:
        raise _invalid(f"{reading.model!r} is not an answerable catalog model")
    meta = model.answerable
    if reading.measure is None:
        raise _invalid(f"no measure named for {model.name}")
    headline = meta.measure(reading.measure)
    if headline is None:
        raise _invalid(f"{model.name} has no measure {reading.measure!r}")
    for name in reading.group_by:
        if meta.dimension(name) is None:
            raise _invalid(f"{model.name} has no dimension {name!r}")
    matches = _values(reading, model, values)
    period = _period(reading.period, as_of, fiscal_year_start_month, "period")
    compare = _period(reading.compare_period, as_of, fiscal_year_start_month, "compare period")
    periods = [p for p in (period, compare) if p is not None]
    if reading.limit is not None and not 1 <= reading.limit <= 1000:
        raise _invalid(f"limit {reading.limit} is out of range")
    extras = [meta.measure(n) for n in reading.extra_measures]
    hits = [MeasureHit(headline, 10.0, headline.name)] + [
        MeasureHit(m, 5.0, m.name) for m in extras if m is not None and m != headline]
    choice = ModelChoice(model=model, score=100.0, reasons=[f"chosen by the LLM: {reading.reason}"],
                         measures=hits)
    new = dataclasses.replace(
        ask,
        period=period,
        periods=periods,
        values=matches,
        group_by=list(dict.fromkeys(reading.group_by)),
        limit=reading.limit,
        direction=reading.direction,
        trend=reading.trend,
        compare=reading.compare or compare is not None,
        why=reading.why,
        measure_hint=headline.name,
        model_hint=model.name,
    )
    return new, choice


def _values(reading: Reading, model: Model, index: ValueIndex | None) -> list[ValueMatch]:
    meta = model.answerable
    matches: list[ValueMatch] = []
    for flt in reading.filters:
        if meta.dimension(flt.dimension) is None:
            raise _invalid(f"{model.name} has no dimension {flt.dimension!r}")
        if flt.dimension in TIME_DIMENSIONS:
            continue  # periods are read from `period`, not from dimension values
        resolved: list[str] = []
        for raw in flt.values:
            found = resolve_value(index, flt.dimension, raw)
            if not found:
                raise _invalid(f"no {flt.dimension} called {raw!r} in the warehouse")
            resolved.extend(v for v in found if v not in resolved)
        if resolved:
            matches.append(ValueMatch(dimension=flt.dimension, values=tuple(resolved),
                                      text=", ".join(flt.values), start=0, end=0, how="exact",
                                      ambiguous=False))
    return matches


def reading_summary(reading: Reading) -> dict[str, Any]:
    """What the LLM decided, for the chat's plan step and the JSON output."""
    return reading.model_dump(mode="json")
