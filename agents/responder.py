"""Role 6 — responder: the answer people read.

One to three sentences, headline number first, formatted for people (31.3%, $1.24M,
42 days). What the answer says it covers — the period, the members, the flags, the bounds —
is read from the plans that ran (their filters' labels and `period_label`), never from the
question, so a label is always backed by the SQL. Words of the question that were not
applied are said plainly at the end. Every number comes from a query result: a failed query
is reported as failed, an empty one as empty; a question the catalog cannot answer gets a
plain "I can't" with questions it can answer, and an unclear one gets a question back.

The run's engine words the final text (`agents.engine.Engine.word`): the offline engine
keeps this answer; the LLM engine rewrites it, grounded in the same results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langgraph.runtime import Runtime

from agents import grammar
from agents.context import Context
from agents.contract import DATA_INTENTS, Query, Reason
from agents.engine import FREE_SQL_NOTE
from agents.serving import candidate_of, choose_model
from agents.state import State
from agents.text import tokens
from agents.values import PERSON_DIMENSIONS
from agents.vocabulary import Vocabulary
from whizzy.core.formatting import (
    fiscal_labels,
    format_change,
    format_count,
    format_currency,
    format_date,
    format_value,
    join_names,
)
from whizzy.core.formatting import (
    format_cell as show,
)
from whizzy.warehouse.catalog import Catalog, Measure
from whizzy.warehouse.reader import open_warehouse

#: Names and values a ranking answer spells out.
NAMED_ROWS = 5
_TIME_COLUMNS = re.compile(r"(quarter|month|period)(_label)?$")


# ----------------------------------------------------------------------------- formatting




def _label(name: str) -> str:
    return name.replace("_", " ")


def _plural(name: str) -> str:
    """The plural of a dimension's label.

    >>> _plural("industry"), _plural("owner"), _plural("lead_source"), _plural("day")
    ('industries', 'owners', 'lead sources', 'days')
    """
    word = _label(name)
    if word.endswith("y") and word[-2:-1] not in set("aeiou"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


#: The first words of a bound ("over", "more", "at least", "between"): from the grammar.
_BOUND_WORDS = {phrase[0] for phrase, _ in grammar.COMPARATORS} | {"never"}


def _as_of(as_of: str | None) -> str:
    return f"As of {format_date(as_of)}." if as_of else ""


def _row(result: dict[str, Any], row: list[Any]) -> dict[str, Any]:
    return dict(zip(result["columns"], row, strict=False))


def scope(result: dict[str, Any], exclude: set[str] | None = None) -> str:
    """What the SQL restricted the rows to, in words ("for industry Technology, won deals").

    >>> scope({"scope": [{"kind": "members", "label": "industry Technology"},
    ...                  {"kind": "flag", "label": "won deals"},
    ...                  {"kind": "number", "label": "over $250k"}]})
    ' for industry Technology, won deals, deals over $250k'
    >>> scope({"scope": [{"kind": "number", "label": "account employees more than 1000"},
    ...                  {"kind": "number", "label": "$200k or more"}]})
    ' for deals with account employees more than 1000, deals of $200k or more'
    """
    parts = []
    for item in result.get("scope") or []:
        label = item["label"]
        if exclude and any(label.startswith(e) for e in exclude):
            continue
        if item["kind"] == "flag":
            parts.append(label)
        elif item["kind"] == "number":
            parts.append(f"deals {_number_scope(label)}")
        elif item["kind"] == "group":  # a bound on each group's figure ("min 20 closed opps")
            parts.append(f"those with {label}")
        else:
            parts.append(label)
    return f" for {', '.join(parts)}" if parts else ""


def _number_scope(label: str) -> str:
    """A bound as it follows "deals": "over $250k", "of $200k or more", "with probability …".

    >>> _number_scope("not under $10k"), _number_scope("probability above 60%")
    ('not under $10k', 'with probability above 60%')
    """
    first = label.removeprefix("not ").split()[:1]
    if first and first[0] in _BOUND_WORDS:
        return label
    if first and (first[0][0].isdigit() or first[0][0] in "$€£"):
        return f"of {label}"
    return f"with {label}"


def period_phrase(label: str | None) -> str:
    """The period as the answer names it: " in Q3 2026", " over the last 4 quarters"."""
    if not label:
        return ""
    if label.startswith(("the ", "since ")):
        return f" over {label}" if label.startswith("the ") else f" {label}"
    if label.startswith(("QTD", "MTD", "YTD")):
        return f" {label}"
    if label[:1].islower():
        return f" ({label})"  # "created in Oct 2026": the period of another date
    return f" in {label}"


def _first(results: list[dict[str, Any]], purposes: set[str]) -> dict[str, Any] | None:
    return next((r for r in results if r["purpose"] in purposes), None)


# ----------------------------------------------------------------------------- answer kinds


def _single(result: dict[str, Any], compare: dict[str, Any] | None) -> str:
    row = _row(result, result["rows"][0])
    units = result["units"]
    headline = result.get("headline") or next(iter(units))
    value = row.get(headline)
    label = _label(headline)
    where = scope(result)
    period = period_phrase(result["period_label"])
    label_col = next((c for c in result["columns"] if _TIME_COLUMNS.search(c)
                      and c != headline), None)
    if label_col and row.get(label_col) and not result["period_label"]:
        period = f" in {show(row[label_col], None, label_col)}"
    if value is None:
        text = (f"{label.capitalize()}{where}{period} is not available: the data in scope "
                f"has nothing to compute it from (no closed or matching deals).")
    else:
        text = f"{label.capitalize()}{where}{period} is {show(value, units.get(headline))}."
    extras = []
    for col in result["columns"]:
        if col in {headline, label_col} or row.get(col) is None:
            continue
        unit = units.get(col)
        if unit == "text":
            if col not in {"key_insight"}:
                extras.append(f"{_label(col)}: {show(row[col], unit, col)}")
        elif unit in {"currency", "percent", "days", "count", "score", "number"}:
            extras.append(f"{_label(col)} {show(row[col], unit, col)}")
    if extras:
        joined = "; ".join(extras[:6])
        text += f" {joined[:1].upper()}{joined[1:]}."
    if row.get("key_insight"):
        text += f" {row['key_insight']}"
    if compare and compare.get("segment") and compare.get("rows") and not compare.get("error"):
        # two ranges of one number: "For deals under 100k it is 32.2%: …"
        other = _row(compare, compare["rows"][0]).get(headline)
        if other is not None and value is not None:
            text += " " + _against(result.get("segment"), compare["segment"], value, other,
                                   units.get(headline), present=True)
        elif other is None:
            text += f" For {compare['segment']} there is nothing to compare with."
    elif compare and compare.get("rows") and not compare.get("error"):
        then = _row(compare, compare["rows"][0])
        other = then.get(headline)
        if other is not None and value is not None:
            text += " " + _against(result["period_label"], compare["period_label"], value,
                                   other, units.get(headline))
            # the other figures of that period too ("won and lost counts for both")
            more = [f"{_label(c)} {show(then[c], units.get(c), c)}" for c in compare["columns"]
                    if c != headline and then.get(c) is not None and c in units and
                    units.get(c) in {"currency", "percent", "days", "count", "number"}]
            if more:
                then_label = compare["period_label"].split(" (")[0]
                lead = "for deals" if _other_date(then_label) else "in"
                text += f" Also {lead} {then_label}: {'; '.join(more[:6])}."
        elif other is None:
            text += f" In {compare['period_label']} there was nothing to compare with."
    return text


def _other_date(label: str | None) -> bool:
    """Whether a period label names another date than the figure's own ("created in …")."""
    return bool(label) and label[:1].islower() and not label.startswith(("the ", "since "))


def _against(label: str | None, other_label: str | None, value: Any, other: Any,
             unit: str | None, *, present: bool = False, detail: str = "") -> str:
    """The figure of the other period, and which is higher by how much (and by what share).

    >>> _against("Q3 2026", "Q2 2026", 26.8e6, 23.4e6, "currency")
    'In Q2 2026 it was $23.4M: Q3 2026 is $3.40M (14.5%) higher.'
    >>> _against("Q3 2026", "Q2 2026", 0.25, 0.3, "percent")
    'In Q2 2026 it was 30.0%: Q3 2026 is 5.0 pts lower.'
    """
    # ("created in Nov 2025": the period of another date than the figure's own)
    lead = "For" if present else "For deals" if _other_date(other_label) else "In"
    said = f"{lead} {other_label} it {'is' if present else 'was'} {show(other, unit)}{detail}"
    if value == other:
        return f"{said}, the same."
    name = (label or "this period").split(" (")[0]  # "QTD (Oct 1 – Nov 15, 2026)": "QTD"
    if _other_date(name) and not present:
        name = f"deals {name}"
    change = format_change(abs(value - other), unit).lstrip("+")
    share = ""
    if unit in {"currency", "count", "number", "days"} and other:
        share = f" ({abs((float(value) - float(other)) / float(other)) * 100:.1f}%)"
    verb = "are" if name.startswith("deals ") else "is"
    return f"{said}: {name} {verb} {change}{share} {'higher' if value > other else 'lower'}."


def _dimension_column(result: dict[str, Any]) -> str:
    units = result["units"]
    headline = result.get("headline")
    dims = [c for c in result["columns"] if units.get(c) is None and c != headline]
    return (dims or result["columns"][:1])[0]


def _members(result: dict[str, Any], query: Query) -> str:
    """"Retail vs Energy": each member's figure, and who is ahead by how much."""
    units = result["units"]
    headline = result.get("headline")
    dim = _dimension_column(result)
    unit = units.get(headline)
    rows = [_row(result, r) for r in result["rows"]]
    label = _label(headline)
    period = period_phrase(result["period_label"])
    where = scope(result, exclude={_label(query.compare_members or "")})
    asked = [str(v) for c in query.filters if c.field == query.compare_members
             for v in c.values]
    found = {str(r[dim]): r for r in rows}
    parts = [f"{name} {show(found[name].get(headline), unit)}" if name in found else
             f"{name} none" for name in asked] or [f"{show(r[dim], None, dim)} "
                                                 f"{show(r.get(headline), unit)}" for r in rows]
    text = f"{label.capitalize()}{where}{period}: {join_names(parts, 'vs')}."
    valued = [r for r in rows if isinstance(r.get(headline), int | float)]
    if len(valued) >= 2:
        ordered = sorted(valued, key=lambda r: r[headline], reverse=True)
        a, b = ordered[0], ordered[1]
        if a[headline] == b[headline]:
            text += " They are level."
        else:
            # "more", not "ahead": a higher count of lost deals or of days is no lead
            text += (f" {show(a[dim], None, dim)} has "
                     f"{format_change(a[headline] - b[headline], unit).lstrip('+')} more than "
                     f"{show(b[dim], None, dim)}.")
    # the other figures asked of each ("bookings and win rate for each")
    for other in [m for m in query.measures if m != headline and m in result["columns"]]:
        each = [f"{name} {show(found[name].get(other), units.get(other), other)}"
                for name in asked if name in found] or [
            f"{show(r[dim], None, dim)} {show(r.get(other), units.get(other), other)}"
            for r in rows]
        text += f" {_label(other).capitalize()}: {join_names(each, 'vs')}."
    missing = [name for name in asked if name not in found]
    if missing:
        text += f" {join_names(missing)} had nothing in scope."
    return text


def _ranking(result: dict[str, Any], query: Query) -> str:
    units = result["units"]
    headline = result.get("headline")
    dim = _dimension_column(result)
    rows = [_row(result, r) for r in result["rows"]]
    valued = [r for r in rows if r.get(headline) is not None]
    direction = query.ranking.direction if query.ranking else None
    period = period_phrase(result["period_label"])
    where = scope(result)
    label = _label(headline)
    limit = query.ranking.limit if query.ranking else None
    if not valued:
        return (f"No {_label(dim)} has a {label}{where}{period}: there was nothing to compute "
                f"it from.")
    named = valued[: min(limit or NAMED_ROWS, NAMED_ROWS)]
    dims = [d for d in query.group_by if d in result["columns"]]
    if len(dims) > 1 and dim in dims:
        # "by stage and lead source": each row is named by all its members
        for r in rows:
            r[dim] = " · ".join(str(show(r[d], None, d)) for d in dims)
        kinds = " and ".join(_label(d) for d in dims)
        dim_label, dim_plural = kinds, f"{kinds} pairs"
    else:
        dim_label, dim_plural = _label(dim), _plural(dim)
    # a second figure asked with the first ("how many open deals, and the total $ - by
    # rep?"): beside each member's first
    second = next((m for m in query.measures[1:2] if m in units and m != headline), None)
    items = [f"{show(r[dim], None, dim)} {show(r[headline], units.get(headline))}" + (
             f" ({show(r[second], units.get(second))})" if second and r.get(second) is not None
             else "") for r in named]
    which = {"bottom": "lowest", "top": "highest"}.get(direction or "", "highest")
    first = named[0]
    singular = limit == 1 or (query.ranking is not None and limit is None and
                              len(query.group_by) == 1 and grammar.asks_one(query.question))
    if singular:
        text = (f"{show(first[dim], None, dim)} has the {which} {label}{where}{period}: "
                f"{show(first[headline], units.get(headline))}.")
        extras = [f"{_label(c)} {show(first[c], units.get(c), c)}" for c in result["columns"]
                  if c not in {dim, headline} and first.get(c) is not None
                  and units.get(c) not in {None, "text"}]
        if extras:
            text = text[:-1] + f" ({'; '.join(extras[:4])})."
        if len(valued) > 1 and limit != 1:
            runner = valued[1]
            text += (f" Next is {show(runner[dim], None, dim)} at "
                     f"{show(runner[headline], units.get(headline))}.")
        return text
    if direction:
        head = f"{'Bottom' if direction == 'bottom' else 'Top'} {len(named)} {dim_plural} " \
               f"by {label}"
    else:
        head = f"{label.capitalize()} by {dim_label}"
    text = f"{head}{where}{period}: {join_names(items)}."
    if len(valued) > len(named):
        text += f" ({len(valued)} {dim_plural} in all; the table lists them)."
    return text


def _nearest(main: dict[str, Any], nearest: dict[str, Any], query: Query) -> str:
    """Nothing passed the bar on a grouped figure: say so, and name the row closest to it."""
    bar = next((c for c in query.filters if c.kind == "number"), None)
    dim = _dimension_column(nearest)
    headline = nearest.get("headline")
    unit = nearest["units"].get(headline)
    period = period_phrase(nearest["period_label"])
    where = scope(nearest, exclude={bar.text} if bar else None)
    label = _label(headline)
    said = f" {bar.text}" if bar else ""
    text = f"No {_label(dim)} has {label}{said}{where}{period}."
    rows = [_row(nearest, r) for r in nearest["rows"]]
    rows = [r for r in rows if r.get(headline) is not None]
    if rows:
        row = rows[0]
        up = bar is None or bar.op in {"gt", "gte", "between"}
        text += (f" The {'highest' if up else 'lowest'} is {show(row[dim], None, dim)} at "
                 f"{show(row.get(headline), unit)}.")
    return text


def _trend(result: dict[str, Any]) -> str:
    units = result["units"]
    headline = result.get("headline")
    label_col = next((c for c in result["columns"] if _TIME_COLUMNS.search(c)), None) or \
        result["columns"][0]
    rows = [_row(result, r) for r in result["rows"]]
    rows = [r for r in rows if r.get(label_col) is not None]
    if not rows:
        return "The trend query returned no periods."
    rows.sort(key=lambda r: str(r[label_col]), reverse=True)
    latest = rows[0]
    unit = units.get(headline)
    label = _label(headline)
    text = (f"{label.capitalize()}{scope(result)} is {show(latest.get(headline), unit)} in "
            f"{show(latest[label_col], None, label_col)}")
    if len(rows) > 1 and latest.get(headline) is not None and rows[1].get(headline) is not None:
        text += (f", {format_change(latest[headline] - rows[1][headline], unit)} vs "
                 f"{show(rows[1][label_col], None, label_col)}")
    text += "."
    history = [f"{show(r[label_col], None, label_col)} {show(r.get(headline), unit)}"
               for r in rows[1:12]]
    if history:
        text += f" Before that: {join_names(history)}."
    valued = [r for r in rows if isinstance(r.get(headline), int | float)]
    if len(valued) >= 3:
        best = max(valued, key=lambda r: r[headline])
        worst = min(valued, key=lambda r: r[headline])
        text += (f" Highest {show(best[label_col], None, label_col)} "
                 f"({show(best[headline], unit)}), lowest "
                 f"{show(worst[label_col], None, label_col)} ({show(worst[headline], unit)}).")
    status = latest.get("health_status")
    if status:
        text += f" Current status: {status}."
    return text


def _total(result: dict[str, Any], detail: dict[str, Any] | None) -> str:
    """A sum over the months of a period, with the months listed."""
    row = _row(result, result["rows"][0])
    name = result["headline"]
    unit = result["units"].get(name)
    label = _label(name.removeprefix("total_"))
    text = (f"{label.capitalize()}{scope(result)} for {result['period_label']} totals "
            f"{show(row.get(name), unit)} over {format_count(row.get('months'))} months")
    if detail and detail.get("rows") and not detail.get("error"):
        col = name.removeprefix("total_")
        label_col = next((c for c in detail["columns"] if _TIME_COLUMNS.search(c)),
                         detail["columns"][0])
        rows = sorted((_row(detail, r) for r in detail["rows"]),
                      key=lambda r: str(r.get(label_col)))
        parts = []
        for r in rows:
            part = f"{show(r.get(label_col), None, label_col)} {show(r.get(col), unit)}"
            bounds = [show(r.get(b), unit) for b in ("forecast_lower", "forecast_upper")
                      if r.get(b) is not None]
            if len(bounds) == 2:
                part += f" ({bounds[0]} to {bounds[1]})"
            parts.append(part)
        text += f" ({join_names(parts)})"
    return text + "."


def _share(result: dict[str, Any], query: Query, others: Sequence[dict[str, Any]] = (),
           labels: Sequence[dict[str, Any]] = ()) -> str:
    """The share, then each other side's share against it (a period, the company, a member)."""
    row = _row(result, result["rows"][0])
    part, whole, share = row.get("part"), row.get("whole"), row.get("share")
    measure = (result.get("units") or {})
    unit = next((u for k, u in measure.items() if k not in {"part", "whole", "share"}), None)
    what = ", ".join(c.text or _label(c.field) for c in query.share_of)
    said = {c for r in labels for c in r.get("columns") or []}
    figures = [m for m in query.measures if m not in said]
    base = _label(figures[0]) if figures else "the total"
    period = period_phrase(result["period_label"])
    if share is None:
        text = f"There is no {base}{scope(result)}{period} to take a share of."
    else:
        text = (f"{format_value(share, 'percent')} of {base}{scope(result)}{period} is {what}: "
                f"{show(part, unit)} of {show(whole, unit)}.")
    for said in labels:
        if said.get("error") or not said.get("rows"):
            continue
        row = _row(said, said["rows"][0])
        shown = [f"{_label(c)}: {show(row[c], 'text', c)}" for c in said["columns"]
                 if row.get(c) is not None]
        if shown:
            text += f" {'; '.join(shown)[:1].upper()}{'; '.join(shown)[1:]}."
    for other in others:
        if other.get("error") or not other.get("rows"):
            continue
        then = _row(other, other["rows"][0])
        present = bool(other.get("segment"))
        label = other.get("segment") if present else other.get("period_label")
        if then.get("share") is None:
            text += f" For {label} there is no {base} to take a share of."
        elif share is not None:
            text += " " + _against(
                result.get("segment") if present else result.get("period_label"), label,
                share, then["share"], "percent", present=present,
                detail=f" ({show(then.get('part'), unit)} of {show(then.get('whole'), unit)})")
    return text


def _free_result(result: dict[str, Any]) -> str:
    """The answer to an LLM-written query (no catalog plan fitted): its rows, plainly.

    >>> _free_result({"description": "Deals by lead source", "columns": ["lead_source", "deals"],
    ...               "rows": [["Web", 120], ["Partner", 80]], "row_count": 2})
    'Deals by lead source (2 rows): lead source Web, deals 120; lead source Partner, deals 80. \
(No catalog model answers this directly; the LLM wrote the query shown below, checked by \
the SQL gate.)'
    """
    columns = list(result.get("columns") or [])
    rows = [_row(result, r) for r in (result.get("rows") or [])[:NAMED_ROWS]]

    def cells(row: dict[str, Any]) -> str:
        return ", ".join(f"{_label(c)} {show(row.get(c), None, c)}" for c in columns)

    what = (result.get("description") or "The query").rstrip(".")
    count = result.get("row_count", len(rows))
    if count == 1:
        text = f"{what}: {cells(rows[0])}."
    else:
        text = f"{what} ({format_count(count)} rows): {'; '.join(cells(r) for r in rows)}."
        if count > len(rows):
            text = text[:-1] + "; the table lists the rest."
    return f"{text} {FREE_SQL_NOTE}"


def _record_name(r: dict[str, Any]) -> str:
    for key in r:
        if key.endswith("_name") and key.startswith(("opportunity", "deal")):
            return str(r[key])
    return str(next(iter(r.values())))


def _lookup(result: dict[str, Any], detail: dict[str, Any] | None, query: Query) -> str:
    rows = [_row(result, r) for r in result["rows"]]
    units = result["units"]
    total_n = total_amount = None
    if detail and detail.get("rows") and not detail.get("error"):
        d = _row(detail, detail["rows"][0])
        total_n, total_amount = d.get("deal_count"), d.get("total_amount")
    period = period_phrase(result["period_label"])
    where = scope(result)
    if not rows:
        return f"No deals{where}{period} were found: the query returned no rows."
    if query.pick:
        first = rows[0]
        column = result.get("headline")
        value = first.get(column) if column else None
        ordered = f" ({_order_words(query)})" if query.order else ""
        person = next((c for c in query.filters if c.field in PERSON_DIMENSIONS and
                       c.field != query.pick and c.op == "eq" and len(c.values) == 1), None)
        if person is not None and query.pick in PERSON_DIMENSIONS and not any(
                grammar.is_superlative(w) for w in tokens(query.question or "")):
            # "who is Ethan Green's manager?": that person's, read off their deal
            return (f"{_label(query.pick).capitalize()} of {person.values[0]}: "
                    f"{show(value, units.get(column or ''), column or '')} (as on their deal "
                    f"{_record_name(first)}).")
        return (f"{_label(query.pick).capitalize()} of {_record_name(first)}{ordered}: "
                f"{show(value, units.get(column or ''), column or '')}. "
                f"The deal: {_record_line(first, units)}.")
    count = total_n if total_n is not None else len(rows)
    text = f"{format_count(count)} {'deal' if count == 1 else 'deals'}{where}{period}"
    if total_amount is not None:
        text += f", worth {format_currency(total_amount)} in total"
    text += "."
    items = [_record_line(r, units) for r in rows[:NAMED_ROWS]]
    lead = f"By {_order_words(query)}: " if query.order else "Top: " if len(rows) > 1 else \
        "It is "
    return f"{text} {lead}{'; '.join(items)}."


def _record_line(r: dict[str, Any], units: dict[str, Any]) -> str:
    """One record in words: its name, then each of its values formatted."""
    name = _record_name(r)
    bits = []
    for col, value in r.items():
        if value is None or col in {"opportunity_name"} or str(value) in name or \
                col.endswith("_id"):
            continue
        unit = units.get(col)
        if unit in {"currency", "days", "count", "percent"}:
            bits.append(f"{_label(col)} {show(value, unit)}" if unit != "currency" else
                        show(value, unit))
        elif col.endswith("_date"):
            bits.append(f"{_label(col).replace(' date', '')} {show(value)}")
        else:
            bits.append(str(value))
    return f"{name} ({', '.join(bits)})" if bits else name


def _order_words(query: Query) -> str:
    order = query.order
    if order is None:
        return ""
    if order.field == "time":
        return "soonest first" if not order.desc else "latest first"
    if order.field.startswith("time:"):  # "the oldest deals": by the date they were created
        return f"{order.field.removeprefix('time:')} date, " \
               f"{'newest' if order.desc else 'oldest'} first"
    return f"{_label(order.field)}, {'largest' if order.desc else 'smallest'} first"


def _briefing(result: dict[str, Any], as_of: str | None) -> str:
    row = _row(result, result["rows"][0])
    units = result["units"]
    captions = result.get("labels") or {}  # the catalog's caption: what, its period, scope
    parts = []
    for col in result["columns"]:
        value = row.get(col)
        if value is None or units.get(col) == "text" or col == "as_of_date":
            continue
        said = captions.get(col) or _label(col)
        parts.append(f"{said[:1].upper()}{said[1:]}: {show(value, units.get(col), col)}")
    text = f"Executive summary as of {format_date(as_of)}. " + "; ".join(parts[:12]) + "."
    for col in result["columns"]:
        if units.get(col) == "text" and row.get(col):
            text += f" {str(row[col]).rstrip('.')}."
    return text


def _why(results: list[dict[str, Any]], facts: dict[str, Any], catalog: Catalog | None,
         query: Query) -> str:
    movers = facts.get("movers") or []
    if movers:
        unit = None
        current = prior = None
        for r in results:
            unit = r["units"].get(movers[0]["headline"]) or unit
            if r.get("which") == "current":
                current = r["period_label"]
            elif r.get("which") == "prior":
                prior = r["period_label"]
        label = _label(movers[0]["headline"])
        text = f"What moved {label}{scope(results[0])} from {prior} to {current}:"
        parts = []
        for block in movers[:2]:
            groups = block["groups"][:3]
            if not groups:
                continue
            items = [f"{g['value']} {format_change(g['change'], unit)} "
                     f"(to {show(g['now'], unit)})" for g in groups]
            parts.append(f" by {_label(block['driver'])}, {join_names(items)}")
        if not parts:
            return f"I compared {label} by its groups but found none to compare."
        return text + ";".join(parts) + "."
    drivers = _first(results, {"drivers"})
    if drivers and drivers.get("rows"):
        row = _row(drivers, drivers["rows"][0])
        units = drivers["units"]
        headline = drivers.get("headline")
        text = ""
        if headline and row.get(headline) is not None:
            text = f"{_label(headline).capitalize()} is {show(row[headline], units.get(headline))}"
            label_col = next((c for c in drivers["columns"] if _TIME_COLUMNS.search(c)), None)
            if label_col and row.get(label_col):
                text += f" in {show(row[label_col], None, label_col)}"
            text += "."
        scale = None
        if catalog is not None and drivers["model"] in catalog.models:
            scale = catalog.model(drivers["model"]).answerable.points_scale
        points = {c: v for c, v in row.items() if c.endswith("_points") and v is not None}
        if points and scale:
            weakest = min(points, key=lambda c: points[c])
            component = weakest.removesuffix("_points")
            value = row.get(component)
            shown = f" ({_label(component)} {show(value, units.get(component))})" \
                if value is not None else ""
            text += (f" The weakest component is {_label(component)}: "
                     f"{format_count(points[weakest])} of {scale} points{shown}.")
        texts = [f"{_label(c)}: {row[c]}" for c in drivers["columns"]
                 if units.get(c) == "text" and row.get(c) and c != "key_insight"]
        if texts:
            text += " " + "; ".join(texts[:4]) + "."
        if row.get("key_insight"):
            text += f" {row['key_insight']}"
        return text.strip() or "The components behind the figure are in the table."
    return "I could not find what drove that figure."


# ----------------------------------------------------------------------------- chart, follow-ups


def chart_for(result: dict[str, Any] | None, kind_hint: str, catalog: Catalog | None = None
              ) -> dict[str, Any] | None:
    """A chart suggestion {kind, x, y, ...} for a result, or None for a single figure."""
    if not result or result.get("error") or result["row_count"] < 2:
        return None
    units = result["units"]
    headline = result.get("headline")
    columns = result["columns"]
    if not headline or headline not in columns:
        return None
    x = next((c for c in columns if c != headline and units.get(c) is None), columns[0])
    chart: dict[str, Any] = {"kind": "bar", "x": x, "y": headline, "unit": units.get(headline)}
    measure = None
    if catalog is not None and result["model"] in catalog.models:
        measure = catalog.model(result["model"]).answerable.measure(headline)
    if kind_hint == "trend" or _TIME_COLUMNS.search(x):
        chart["kind"] = "line"
        if {"forecast_lower", "forecast_upper"} <= set(columns):
            chart.update(kind="line_band", lower="forecast_lower", upper="forecast_upper")
    elif measure is not None and measure.threshold is not None:
        chart.update(kind="hbar", threshold=measure.threshold)
    elif units.get(headline) == "percent" and "share" in headline:
        chart["kind"] = "stacked_bar"
    if chart["kind"] == "bar" and measure is not None and measure.sample is not None and \
            "sample_size" in columns:  # the planner's column: each bar's sample, thin marked
        chart.update(sample="sample_size", min_sample=measure.sample.minimum,
                     sample_label=measure.sample.label)
    return chart


def components_chart(result: dict[str, Any], catalog: Catalog | None) -> dict[str, Any] | None:
    """For one row of a score: its components' points, each out of the model's points_scale.

    >>> components_chart({"model": "m", "columns": ["score"], "rows": [[80]]}, None) is None
    True
    """
    if catalog is None or result.get("model") not in catalog.models or \
            not result.get("rows") or result.get("error"):
        return None
    scale = catalog.model(result["model"]).answerable.points_scale
    parts = [c for c in result["columns"] if c.endswith("_points")]
    if not scale or not parts:
        return None
    return {"kind": "components", "parts": parts, "scale": scale,
            "y": result.get("headline")}


def _explained(query: Query, catalog: Catalog) -> bool:
    """Whether "why?" after this answer finds a model that splits the figure into drivers."""
    asked = query.model_copy(update={"why": True, "trend": False, "group_by": []})
    chosen = choose_model(candidate_of(asked), catalog)
    model = catalog.models.get(chosen.model) if chosen else None
    return model is not None and bool(model.answerable.why_dimensions)


def follow_ups(intent: str, query: Query | None, catalog: Catalog | None, persona: str
               ) -> list[str]:
    """Two or three next questions that the catalog can answer."""
    out: list[str] = []
    model = query.model if query else None
    if intent == "analytics" and query is not None and model and catalog and \
            model in catalog.models:
        meta = catalog.model(model).answerable
        used = {*query.group_by, *(c.field for c in query.filters)}
        for dim in meta.why_dimensions or [d.name for d in meta.dimensions]:
            if meta.dimension(dim) and dim not in used:
                out.append(f"Break that down by {_label(dim)}")
                break
        if not query.why and query.measures and _explained(query, catalog):
            out.append("Why?")
        kind = query.window.kind if query.window else None
        out.append("And last quarter?" if kind != "last_quarter" else "And this quarter?")
    elif intent == "lookup":
        out += ["Who owns the biggest one?", "How much are they worth?"]
    elif catalog:
        for m in catalog.answerable:
            if m.answerable.example_questions:
                out.append(m.answerable.example_questions[0])
            if len(out) >= 3:
                break
    if persona == "executive" and intent != "briefing":
        out = [*out[:2], "Give me an executive summary"]
    return out[:3]


# ----------------------------------------------------------------------------- help and refusals


def help_answer(question: str, catalog: Catalog | None, reason: str) -> str:
    """Definitions from the model docs, or what the assistant can answer."""
    if catalog is None:
        return "I answer questions about your Salesforce pipeline once a warehouse is built."
    words = tokens(question)
    if reason == Reason.DEFINITION and words:
        text = define(words, catalog)
        if text:
            return text
        return ("I don't have a definition for that term. I know the figures the dbt models "
                "document: " + ", ".join(sorted(_measure_labels(catalog))[:12]) + ".")
    families = [m.answerable.example_questions[0] for m in catalog.answerable
                if m.answerable.example_questions]
    sample = "; ".join(f"“{q}”" for q in families[:6])
    labels = ", ".join(m.answerable.label.lower() for m in catalog.answerable[:8])
    return (f"I answer questions about your Salesforce pipeline from the dbt models: {labels}. "
            f"Try: {sample}. I only read data; I never change it.")


def _measure_labels(catalog: Catalog) -> set[str]:
    return {m.label for model in catalog.answerable for m in model.answerable.measures}


def define(words: list[str], catalog: Catalog) -> str | None:
    """A definition from the dbt docs (documentation only, no numbers).

    The measure's documented meaning, the model that computes it and what else it reports;
    for a flag ("bottleneck"), the yes/no column's documented rule.
    """
    vocab = Vocabulary.of(catalog)
    spans = vocab.spans(words)
    parts: list[str] = []
    for span in spans:
        if span.kind == "measure":
            found = [(model, m) for model in catalog.answerable if model.name in span.models
                     and (m := model.answerable.measure(span.name)) and m.description]
            if found:  # the general definition: the one with a default window, else the fullest
                model, measure = max(found, key=lambda p: (p[1].window is not None,
                                                           len(p[1].description)))
                return plain_definition(measure, model.name)
        for model in catalog.answerable:
            if model.name not in span.models:
                continue
            meta = model.answerable
            if span.kind == "flag" and (flag := meta.flag(span.name)):
                doc = catalog.describe_column(model.name, flag.column)
                if doc:
                    parts.append(f"{_label(flag.name).capitalize()} ({model.name}."
                                 f"{flag.column}): {doc.rstrip('.')}.")
            if parts:
                break
        if parts:
            return " ".join(parts)
    for span in spans:
        model = catalog.models.get(span.name) if span.kind == "model" else None
        if model is not None:
            measures = ", ".join(_label(m.name) for m in model.answerable.measures[:8])
            return (f"{model.answerable.label} ({model.name}): "
                    f"{model.description.rstrip('.')}. It reports {measures}.")
    return None


#: What a measure covers when the question names no period (`whizzy.warehouse.catalog.WINDOWS`,
#: in the words of docs/metrics.md).
_WINDOW_WORDS = {
    "overall": "With no period named, it covers the last four full quarters plus the current "
               "quarter to date.",
    "current": "With no period named, it covers the period holding the as-of date.",
    "trend": "With no period named, it covers the last few periods, one figure each.",
    "all": "With no period named, it covers every deal in the data.",
}


def plain_definition(measure: Measure, model: str) -> str:
    """A measure's definition in plain words: its formula, then its default window.

    >>> m = Measure(name="win_rate", description="Won ÷ (won + lost) by count over the deals "
    ...             "closed in scope; open deals never count.", window="overall")
    >>> print(plain_definition(m, "fct_opportunity"))
    Win rate = won ÷ (won + lost) by count over the deals closed in scope; open deals never \
count. With no period named, it covers the last four full quarters plus the current quarter to \
date. (Computed by the dbt model fct_opportunity.)
    """
    text = measure.description.strip().rstrip(".")
    text = text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
    out = f"{_label(measure.name).capitalize()} = {text}."
    if measure.window in _WINDOW_WORDS:
        out += " " + _WINDOW_WORDS[measure.window]
    return out + f" (Computed by the dbt model {model}.)"


def refusal(reason: str) -> str:
    """A polite refusal naming why."""
    if reason == Reason.WRITE:
        return ("I can't do that: I only read and explain your pipeline data, and never "
                "change, delete, export or send it. Ask me about the figures instead.")
    if reason in {Reason.SQL, Reason.INSTRUCTIONS}:
        return ("I can't help with that request. I answer questions about your sales "
                "pipeline, reading the data only.")
    if reason == Reason.TOO_LONG:
        return "That question is too long for me to read; please ask it in a sentence or two."
    return ("That's outside what I can help with: I answer questions about your Salesforce "
            "sales pipeline (win rates, pipeline, forecasts, slippage, deals).")


def not_applied_note(query: Query | None) -> str:
    """The sentence naming what the answer did not apply (empty when all was applied).

    >>> from agents.contract import NotApplied
    >>> not_applied_note(Query(not_applied=[NotApplied(text="ACV", reason="unknown")]))
    "I did not apply 'ACV' (unknown)."
    """
    if query is None or not query.not_applied:
        return ""
    items = [f"'{n.text}' ({n.reason})" for n in query.not_applied[:4]]
    return f"I did not apply {join_names(items)}."


# ----------------------------------------------------------------------------- the node


def compose(state: State, catalog: Catalog | None, persona: str) -> dict[str, Any]:
    """The answer, chart, follow-ups and citations for a finished turn (pure)."""
    query = Query.from_state(state.query)
    facts = state.facts or {}
    results = state.results or []
    intent = state.intent
    as_of = state.as_of_date
    chart = None
    if state.error and not results:
        text = f"I can't answer right now: {state.error}"
    elif intent == "smalltalk":
        text = ("Hello! I'm Whizzy: ask me about your sales pipeline — win rates, pipeline "
                "health, forecasts, slippage or specific deals.")
    elif intent == "out_of_scope":
        text = refusal(state.intent_reason)
        if catalog is not None and state.intent_reason == Reason.OFF_TOPIC:
            examples = [m.answerable.example_questions[0] for m in catalog.answerable
                        if m.answerable.example_questions][:2]
            if examples:
                text += " For example: " + " / ".join(examples)
    elif intent == "help":
        text = help_answer(state.question, catalog, state.intent_reason)
        if state.intent_reason == Reason.EMPTY:
            text = "Please type a question. " + help_answer("", catalog, Reason.CAPABILITIES)
    elif facts.get("clarify"):
        ask = facts["clarify"]
        text = ask["question"]
        if ask.get("options"):
            text += " " + " / ".join(ask["options"][:6])
    elif facts.get("unanswerable"):
        text = f"I can't answer that from the data I have: {facts['unanswerable']}."
        if facts.get("suggestions"):
            text += " You could ask: " + " / ".join(facts["suggestions"][:3])
    else:
        text, chart = _data_answer(results, facts, query, intent, as_of, catalog)
    if query is not None and intent in DATA_INTENTS and not facts.get("clarify"):
        note = not_applied_note(query)
        if note:
            text = f"{text.rstrip()} {note}"
    if as_of and intent in DATA_INTENTS and results and not text.endswith("."):
        text += "."
    if as_of and intent in {"analytics", "lookup"} and results:
        text += f" {_as_of(as_of)}"
    citations = [{"model": r["model"], "sql": r["sql"], "purpose": r["purpose"]}
                 for r in results if r.get("sql")]
    return {
        "answer": text.strip(),
        "chart": chart,
        "follow_ups": follow_ups(intent, query, catalog, persona),
        "citations": citations,
    }


def _data_answer(results: list[dict[str, Any]], facts: dict[str, Any], query: Query | None,
                 intent: str, as_of: str | None, catalog: Catalog | None
                 ) -> tuple[str, dict[str, Any] | None]:
    query = query or Query()
    failed = [r for r in results if r.get("error")]
    main = _first(results, {"main", "trend", "records", "drivers"})
    chart = None
    if main is None or main.get("error"):
        reason = (main or (failed[0] if failed else {})).get("error") or "no query ran"
        return (f"I couldn't get that figure: {reason}. No numbers are shown rather than "
                "guesses."), None
    if main.get("free_sql"):
        text = _free_result(main)
    elif query.why and main["purpose"] == "drivers":
        text = _why(results, facts, catalog, query)
    elif intent == "briefing" and main["rows"]:
        text = _briefing(main, as_of)
    elif not main["rows"] and _first(results, {"nearest"}):
        text = _nearest(main, _first(results, {"nearest"}), query)
        chart = None
    elif not main["rows"]:
        text = (f"No data matched {main['description'] or 'that'}: the query returned no "
                f"rows, so there is no figure to report.")
    elif main["purpose"] == "records":
        text = _lookup(main, _first(results, {"detail"}), query)
    elif main["purpose"] == "trend":
        text = _trend(main)
        chart = chart_for(main, "trend", catalog)
    elif "months" in main["columns"] and (main.get("headline") or "").startswith("total_"):
        text = _total(main, _first(results, {"detail"}))
    elif query.share_of and main.get("headline") == "share":
        text = _share(main, query, [r for r in results if r.get("purpose") == "compare"],
                      [r for r in results if r.get("purpose") == "labels"])
    elif query.compare_members:
        text = _members(main, query)
        chart = chart_for(main, "ranking", catalog)
    elif query.group_by or query.ranking:
        text = _ranking(main, query)
        chart = chart_for(main, "ranking", catalog)
    elif main["row_count"] == 1:
        text = _single(main, _first(results, {"compare"}))
        chart = components_chart(main, catalog)
    else:
        text = _trend(main)
        chart = chart_for(main, "trend", catalog)
    if main.get("truncated"):
        text += " (The result was cut at the row limit.)"
    if failed and not main.get("error"):
        text += f" One supporting query failed ({failed[0]['error']})."
    return text, chart


def write_answer(state: State, runtime: Runtime[Context]) -> dict:
    """Node: write the answer (worded by the run's engine) and remember the turn."""
    fiscal_start = 1
    try:
        warehouse = open_warehouse(runtime.context.warehouse, runtime.context.manifest)
        catalog, fiscal_start = warehouse.catalog, warehouse.fiscal_year_start_month
    except Exception:  # noqa: BLE001 - the error is already in the state
        catalog = None
    try:
        with fiscal_labels(fiscal_start):  # "Q1 FY2027", as the periods of the answer say
            update = compose(state, catalog, runtime.context.persona)
    except Exception as exc:  # noqa: BLE001 - a bug must not surface as a traceback
        update = {"answer": f"I couldn't write an answer ({type(exc).__name__}: {exc}). "
                            "The query results are attached.", "chart": None,
                  "follow_ups": [], "citations": []}
    writer = runtime.stream_writer

    def on_token(piece: str) -> None:
        writer({"token": piece})

    # the engine words a data answer from its results; anything else it only annotates
    # (an LLM that failed earlier in the turn says so), never rewrites
    step = runtime.context.engine.word(
        state.question, reference=update["answer"],
        results=(state.results or []) if _wordable(state) else [],
        as_of=state.as_of_date, persona=runtime.context.persona, on_token=on_token,
        fallbacks=state.llm_fallbacks)
    update["answer"] = step.value
    update["usage"] = step.usage
    update["llm_fallbacks"] = step.fallbacks
    update["history"] = [{
        "question": state.question,
        "intent": state.intent,
        "answer": update["answer"],
        "query": _with_shown(state),
    }]
    return update


def _with_shown(state: State) -> dict[str, Any] | None:
    """The turn's query, with the members its ranking named (for "their" next turn)."""
    query = state.query
    if query and query.get("pick") and query.get("records"):
        # "who owns the biggest one?": the one picked ("their win rate" next turn)
        plan = next((p for p in state.plans or [] if p.get("purpose") == "records"), None)
        main = _first(state.results or [], {"records"})
        column = (plan or {}).get("headline")
        if main is None or main.get("error") or column not in (main.get("columns") or []) \
                or not main.get("rows"):
            return query
        value = main["rows"][0][main["columns"].index(column)]
        return {**query, "shown": [str(value)] if value is not None else []}
    if not query or not query.get("group_by"):
        return query
    main = _first(state.results or [], {"main"})
    dim = query["group_by"][0]
    if main is None or main.get("error") or dim not in (main.get("columns") or []):
        return query
    at = main["columns"].index(dim)
    listed = [str(r[at]) for r in main["rows"][:10] if r[at] is not None]
    query = {**query, "listed": listed, "ranked": listed, "ranked_by": dim}
    if not query.get("ranking"):
        return query
    limit = (query["ranking"] or {}).get("limit")
    if not limit and len(query["group_by"]) == 1 and grammar.asks_one(query.get("question")):
        limit = 1  # "which rep has the most?": the one named ("list their deals" next)
    if not limit:
        return query
    shown = [str(r[at]) for r in main["rows"][:limit] if r[at] is not None]
    return {**query, "shown": shown}


def _wordable(state: State) -> bool:
    """Whether the engine may word this answer (a data answer with rows)."""
    if state.intent not in DATA_INTENTS or (state.facts or {}).get("unanswerable") or \
            (state.facts or {}).get("clarify"):
        return False
    main = _first(state.results or [], {"main", "trend", "records", "drivers"})
    return main is not None and not main.get("error") and bool(main.get("rows"))
