"""Role 6 — responder: the answer people read.

One to three sentences, headline number first, formatted for people (31.3%, $1.24M,
42 days), with the period and the as-of date; for rankings and lists the top rows are
named with their values. Plus a chart suggestion, two or three follow-up questions and
citations (models and SQL). Every number comes from a query result: a failed query is
reported as failed, an empty one as empty, and a question the catalog cannot answer gets
a plain "I can't" with nearby questions it can answer.

With the LLM engine the offline answer is still written first: it is the reference the LLM
words from and the answer shown whenever the LLM fails or cites a figure that is not in
the results (`agents.llm.writer`); the LLM's text streams to the chat sentence by sentence
through LangGraph's custom stream (``{"token": ...}`` items).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.selector import measure_hits
from agents.state import State
from agents.text import has_any, tokens
from whizzy.core.formatting import (
    format_change,
    format_count,
    format_currency,
    format_date,
    format_value,
    join_names,
    quarter_label,
)
from whizzy.warehouse.catalog import Catalog
from whizzy.warehouse.reader import open_warehouse

#: Names and values a ranking answer spells out.
NAMED_ROWS = 5
#: Said with every answer from an LLM-written query.
FREE_SQL_NOTE = ("(No catalog model answers this directly; the LLM wrote the query shown "
                 "below, checked by the SQL gate.)")
_TIME_COLUMNS = re.compile(r"(quarter|month|period)(_label)?$")


# ----------------------------------------------------------------------------- formatting


def show(value: Any, unit: str | None = None, column: str = "") -> str:
    """A result cell for an answer, with unit- and column-aware formatting.

    >>> show("2026-Q3", None, "quarter_label"), show(0.25, "percent"), show("2026-07-01")
    ('Q3 2026', '25.0%', 'Jul 1, 2026')
    """
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-Q[1-4]", value):
            return quarter_label(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}( .*)?", value):
            if unit is None and column.endswith(("quarter",)):
                return quarter_label(dt.date.fromisoformat(value[:10]))
            return format_date(value)
        return value
    if unit is None and column in {"amount", "total_amount"}:
        unit = "currency"
    return format_value(value, unit)


def _label(name: str) -> str:
    return name.replace("_", " ")


def _as_of(as_of: str | None) -> str:
    return f"As of {format_date(as_of)}." if as_of else ""


def _row_dict(result: dict[str, Any], row: list[Any]) -> dict[str, Any]:
    return dict(zip(result["columns"], row, strict=False))


def _scope(understanding: dict[str, Any], exclude: set[str] | None = None) -> str:
    parts = []
    for value in understanding.get("values") or []:
        if exclude and value["dimension"] in exclude:
            continue
        names = list(value["values"])
        shown = join_names(names[:3], "or") + (f" and {len(names) - 3} more"
                                               if len(names) > 3 else "")
        parts.append(f"{_label(value['dimension'])} {shown}")
    return f" for {', '.join(parts)}" if parts else ""


def _period_phrase(label: str | None) -> str:
    if not label:
        return ""
    if label.startswith(("the ", "since ")):
        return f" over {label}" if label.startswith("the ") else f" {label}"
    if label.startswith(("QTD", "MTD", "YTD")):
        return f" {label}"
    return f" in {label}"


# ----------------------------------------------------------------------------- answer kinds


def _headline_result(results: list[dict[str, Any]], purpose: set[str]) -> dict[str, Any] | None:
    return next((r for r in results if r["purpose"] in purpose), None)


def _single(result: dict[str, Any], compare: dict[str, Any] | None,
            understanding: dict[str, Any]) -> str:
    row = _row_dict(result, result["rows"][0])
    units = result["units"]
    headline = result["notes"].get("headline") or next(iter(units))
    value = row.get(headline)
    label = _label(headline)
    scope = _scope(understanding)
    period = _period_phrase(result["period_label"])
    label_col = next((c for c in result["columns"] if _TIME_COLUMNS.search(c)
                      and c != headline), None)
    if label_col and row.get(label_col) and not result["period_label"]:
        period = f" in {show(row[label_col], None, label_col)}"
    if value is None:
        text = (f"{label.capitalize()}{scope}{period} is not available: the data in scope "
                f"has nothing to compute it from (no closed or matching deals).")
    else:
        text = f"{label.capitalize()}{scope}{period} is {show(value, units.get(headline))}."
    extras = []
    won, lost = row.get("won_count"), row.get("lost_count")
    if won is not None and lost is not None and "win_rate" in headline:
        extras.append(f"{format_count(won)} won of {format_count((won or 0) + (lost or 0))} "
                      f"closed deals")
    for col in result["columns"]:
        if col in {headline, "won_count", "lost_count", label_col} or row.get(col) is None:
            continue
        unit = units.get(col)
        if unit == "text" or col in {"health_status", "risk_level", "forecast_quality"}:
            if col == "key_insight":
                continue
            extras.append(f"{_label(col)}: {show(row[col], unit, col)}")
        elif unit in {"currency", "percent", "days", "count", "score", "number"}:
            extras.append(f"{_label(col)} {show(row[col], unit, col)}")
    if extras:
        text += " " + "; ".join(extras[:5]).capitalize()[:1] + "; ".join(extras[:5])[1:] + "."
    if row.get("key_insight"):
        text += f" {row['key_insight']}"
    if compare and compare.get("rows") and not compare.get("error"):
        other = _row_dict(compare, compare["rows"][0]).get(headline)
        if other is not None and value is not None:
            text += (f" In {compare['period_label']} it was {show(other, units.get(headline))} "
                     f"({format_change(value - other, units.get(headline))}).")
        elif other is None:
            text += f" In {compare['period_label']} there was nothing to compare with."
    return text


def _ranking(result: dict[str, Any], understanding: dict[str, Any]) -> str:
    units = result["units"]
    headline = result["notes"].get("headline")
    dims = [c for c in result["columns"] if c not in units or units.get(c) is None]
    dims = [c for c in dims if c != headline] or result["columns"][:1]
    dim = dims[0]
    rows = [_row_dict(result, r) for r in result["rows"]]
    rows_with_value = [r for r in rows if r.get(headline) is not None]
    direction = understanding.get("direction")
    period = _period_phrase(result["period_label"])
    scope = _scope(understanding)
    label = _label(headline)
    limit = understanding.get("limit")
    if not rows_with_value:
        return (f"No {_label(dim)} has a {label}{scope}{period}: there was nothing to compute "
                f"it from.")
    named = rows_with_value[: min(limit or NAMED_ROWS, NAMED_ROWS)]
    items = [f"{show(r[dim], None, dim)} {show(r[headline], units.get(headline))}" for r in named]
    flag = result["notes"].get("flag")
    if flag:  # "which reps need coaching?": the rows are the ones the model flags
        n = len(rows)
        who = _label(dim) + ("s are" if n != 1 else " is")
        text = (f"{n} {who} flagged '{_label(flag)}'{scope}{period}, lowest {label} first: "
                f"{join_names(items)}.")
        if n > len(named):
            text += f" The table lists all {n}."
        return text
    which = {"bottom": "lowest", "top": "highest"}.get(direction or "", "highest")
    first = named[0]
    if understanding.get("singular") or limit == 1:
        text = (f"{show(first[dim], None, dim)} has the {which} {label}{scope}{period}: "
                f"{show(first[headline], units.get(headline))}.")
        extras = [f"{_label(c)} {show(first[c], units.get(c), c)}" for c in result["columns"]
                  if c not in {dim, headline} and first.get(c) is not None
                  and units.get(c) not in {None, "text"}]
        if extras:
            text = text[:-1] + f" ({'; '.join(extras[:4])})."
        if len(rows_with_value) > 1 and limit != 1:
            runner = rows_with_value[1]
            text += (f" Next is {show(runner[dim], None, dim)} at "
                     f"{show(runner[headline], units.get(headline))}.")
        return text
    shown_n = len(named)
    head = f"{'Bottom' if direction == 'bottom' else 'Top'} {shown_n}" if direction else \
        f"{label.capitalize()} by {_label(dim)}"
    if direction:
        head += f" {_label(dim)}s by {label}"
    text = f"{head}{scope}{period}: {join_names(items)}."
    if not direction and len(rows_with_value) > shown_n:
        text += f" ({len(rows_with_value)} {_label(dim)}s in all; the table lists them.)"
    return text


def _trend(result: dict[str, Any], understanding: dict[str, Any]) -> str:
    units = result["units"]
    headline = result["notes"].get("headline")
    label_col = next((c for c in result["columns"] if _TIME_COLUMNS.search(c)), None) or \
        result["columns"][0]
    rows = [_row_dict(result, r) for r in result["rows"]]
    rows = [r for r in rows if r.get(label_col) is not None]
    if not rows:
        return "The trend query returned no periods."
    rows.sort(key=lambda r: str(r[label_col]), reverse=True)
    latest = rows[0]
    unit = units.get(headline)
    label = _label(headline)
    text = (f"{label.capitalize()}{_scope(understanding)} is "
            f"{show(latest.get(headline), unit)} in {show(latest[label_col], None, label_col)}")
    if len(rows) > 1 and latest.get(headline) is not None and rows[1].get(headline) is not None:
        change = latest[headline] - rows[1][headline]
        text += (f", {format_change(change, unit)} vs {show(rows[1][label_col], None, label_col)}"
                 )
    text += "."
    history = [f"{show(r[label_col], None, label_col)} {show(r.get(headline), unit)}"
               for r in rows[1:6]]
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


def _total(result: dict[str, Any], detail: dict[str, Any] | None,
           understanding: dict[str, Any]) -> str:
    """A sum over the months of a period, with the months listed."""
    row = _row_dict(result, result["rows"][0])
    name = result["notes"]["headline"]
    unit = result["units"].get(name)
    label = _label(result["notes"]["total_of"])
    text = (f"{label.capitalize()}{_scope(understanding)} for {result['period_label']} totals "
            f"{show(row.get(name), unit)} over {format_count(row.get('months'))} months")
    if detail and detail.get("rows") and not detail.get("error"):
        col = result["notes"]["total_of"]
        label_col = next((c for c in detail["columns"] if _TIME_COLUMNS.search(c)),
                         detail["columns"][0])
        rows = sorted((_row_dict(detail, r) for r in detail["rows"]),
                      key=lambda r: str(r.get(label_col)))
        parts = [f"{show(r.get(label_col), None, label_col)} {show(r.get(col), unit)}"
                 for r in rows]
        text += f" ({join_names(parts)})"
    return text + "."


def _rows_answer(result: dict[str, Any], understanding: dict[str, Any]) -> str:
    """Row-level model, one or more rows (no grouping): describe the first, list the rest."""
    if result["row_count"] == 1:
        return _single(result, None, understanding)
    return _trend(result, understanding)


def _free_result(result: dict[str, Any]) -> str:
    """The answer to an LLM-written query (no catalog plan fitted): its rows, plainly.

    >>> _free_result({"description": "Deals by lead source", "columns": ["lead_source", "deals"],
    ...               "rows": [["Web", 120], ["Partner", 80]], "row_count": 2})
    'Deals by lead source (2 rows): lead source Web, deals 120; lead source Partner, deals 80. \
(No catalog model answers this directly; the LLM wrote the query shown below, checked by \
the SQL gate.)'
    """
    columns = list(result.get("columns") or [])
    rows = [_row_dict(result, r) for r in (result.get("rows") or [])[:NAMED_ROWS]]

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


def _lookup(result: dict[str, Any], detail: dict[str, Any] | None,
            understanding: dict[str, Any]) -> str:
    rows = [_row_dict(result, r) for r in result["rows"]]
    total_n = total_amount = None
    if detail and detail.get("rows") and not detail.get("error"):
        d = _row_dict(detail, detail["rows"][0])
        total_n, total_amount = d.get("deal_count"), d.get("total_amount")
    what = result["description"] or "deals"
    period = _period_phrase(result["period_label"])
    scope = _scope(understanding)
    if not rows:
        return f"No {what}{scope}{period} were found: the query returned no rows."
    count = total_n if total_n is not None else len(rows)
    if count == 1 and what.startswith("deals"):
        what = "deal" + what[5:]
    text = f"{format_count(count)} {what}{scope}{period}"
    if total_amount is not None:
        text += f", worth {format_currency(total_amount)} in total"
    text += "."
    items = []
    for r in rows[:NAMED_ROWS]:
        name = r.get("opportunity_name") or r.get("opportunity_id") or r.get("account_name")
        bits = []
        if r.get("account_name") and r.get("account_name") not in str(name):
            bits.append(r["account_name"])
        if r.get("amount") is not None:
            bits.append(format_currency(r["amount"]))
        if r.get("stage_name"):
            bits.append(r["stage_name"])
        if r.get("push_count") is not None:
            bits.append(f"pushed {format_count(r['push_count'])}×")
        if r.get("days_overdue") is not None:
            bits.append(f"{format_count(r['days_overdue'])} days overdue")
        if r.get("close_date"):
            bits.append(f"closes {format_date(r['close_date'])}")
        if r.get("owner_name") and not any(v["dimension"] == "owner"
                                           for v in understanding.get("values") or []):
            bits.append(r["owner_name"])
        items.append(f"{name} ({', '.join(bits)})" if bits else str(name))
    shown = "Top" if len(rows) > 1 else "It is"
    text += f" {shown}: {'; '.join(items)}."
    return text


def _briefing(result: dict[str, Any], as_of: str | None) -> str:
    row = _row_dict(result, result["rows"][0])
    units = result["units"]
    parts = []
    for col in result["columns"]:
        value = row.get(col)
        if value is None or col in {"key_insight", "recommendation", "dashboard_type",
                                    "as_of_date"}:
            continue
        parts.append(f"{_label(col)} {show(value, units.get(col), col)}")
    text = f"Executive summary as of {format_date(as_of)}: " + "; ".join(parts[:12]) + "."
    for col in ("key_insight", "recommendation"):
        if row.get(col):
            text += f" {row[col].rstrip('.')}."
    return text


def _why(results: list[dict[str, Any]], facts: dict[str, Any],
         understanding: dict[str, Any]) -> str:
    movers = facts.get("movers") or []
    notes = facts.get("notes") or {}
    if movers:
        unit = None
        for r in results:
            unit = r["units"].get(movers[0]["headline"]) or unit
        label = _label(movers[0]["headline"])
        text = (f"What moved {label}{_scope(understanding)} from {notes.get('prior')} to "
                f"{notes.get('period')}:")
        parts = []
        for block in movers[:2]:
            groups = block["groups"][:3]
            if not groups:
                continue
            items = [f"{g['value']} {format_change(g['change'], unit)} "
                     f"(to {show(g['now'], unit)})" for g in groups]
            parts.append(f" by {_label(block['driver'])}, {join_names(items)}")
        if not parts:
            return f"I compared {label} by industry and owner but found no groups to compare."
        return text + ";".join(parts) + "."
    drivers = _headline_result(results, {"drivers"})
    if drivers and drivers.get("rows"):
        row = _row_dict(drivers, drivers["rows"][0])
        units = drivers["units"]
        headline = drivers["notes"].get("headline")
        points = {c: v for c, v in row.items() if c.endswith("_points") and v is not None}
        text = ""
        if headline and row.get(headline) is not None:
            text = f"{_label(headline).capitalize()} is {show(row[headline], units.get(headline))}"
            label_col = next((c for c in drivers["columns"] if _TIME_COLUMNS.search(c)), None)
            if label_col and row.get(label_col):
                text += f" in {show(row[label_col], None, label_col)}"
            text += "."
        if points:
            weakest = min(points, key=lambda c: points[c])
            component = weakest.removesuffix("_points")
            value = row.get(component)
            shown = f" ({_label(component)} {show(value, units.get(component))})" \
                if value is not None else ""
            text += (f" The weakest component is {_label(component)}: "
                     f"{format_count(points[weakest])} of 25 points{shown}.")
        texts = [f"{_label(c)}: {row[c]}" for c in drivers["columns"]
                 if units.get(c) == "text" and row.get(c) and c != "key_insight"]
        if texts:
            text += " " + "; ".join(texts[:4]) + "."
        if row.get("key_insight"):
            text += f" {row['key_insight']}"
        return text.strip() or "The components behind the figure are in the table."
    return "I could not find what drove that figure."


# ----------------------------------------------------------------------------- chart, follow-ups


def chart_for(result: dict[str, Any] | None, kind_hint: str) -> dict[str, Any] | None:
    """A chart suggestion {kind, x, y, ...} for a result, or None for a single figure."""
    if not result or result.get("error") or result["row_count"] < 2:
        return None
    units = result["units"]
    headline = result["notes"].get("headline")
    columns = result["columns"]
    if not headline or headline not in columns:
        return None
    x = next((c for c in columns if c != headline and units.get(c) is None), columns[0])
    chart: dict[str, Any] = {"kind": "bar", "x": x, "y": headline, "unit": units.get(headline)}
    if kind_hint == "trend" or _TIME_COLUMNS.search(x):
        chart["kind"] = "line"
        if {"forecast_lower", "forecast_upper"} <= set(columns):
            chart.update(kind="line_band", lower="forecast_lower", upper="forecast_upper")
    elif units.get(headline) == "days" and "stage" in x:
        chart.update(kind="hbar", threshold=30)
    elif units.get(headline) == "percent" and "share" in headline:
        chart["kind"] = "stacked_bar"
    return chart


def follow_ups(intent: str, understanding: dict[str, Any], catalog: Catalog | None,
               model: str | None, persona: str) -> list[str]:
    """Two or three next questions that the catalog can answer."""
    out: list[str] = []
    if intent in {"analytics"} and model and catalog and model in catalog.models:
        meta = catalog.model(model).answerable
        grouped = understanding.get("group_by") or []
        for dim in ("owner", "industry", "stage"):
            if meta and meta.dimension(dim) and dim not in grouped and not any(
                v["dimension"] == dim for v in understanding.get("values") or []
            ):
                out.append(f"Break that down by {dim}")
                break
        if not understanding.get("why"):
            out.append("Why?")
        out.append("And last quarter?" if (understanding.get("period") or {}).get(
            "kind") != "last_quarter" else "And this quarter?")
    elif intent == "lookup":
        out += ["What is our open pipeline by stage?", "Which deals were pushed the most?"]
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
    if reason == "asks what a term means" and words:
        text = define(words, catalog)
        if text:
            return text
        return ("I don't have a definition for that term. I know the metrics in the dbt "
                "models: win rate, pipeline, weighted pipeline, overdue share, pipeline "
                "health, days in stage, slippage and revenue forecasts.")
    families = []
    for model in catalog.answerable:
        if model.answerable.example_questions:
            families.append(model.answerable.example_questions[0])
    sample = "; ".join(f"“{q}”" for q in families[:6])
    return ("I answer questions about your Salesforce pipeline from the dbt models: win "
            "rates, pipeline and its health, stage velocity and bottlenecks, slippage, "
            "revenue forecasts, bookings, executive summaries and deal lookups. "
            f"Try: {sample}. I only read data; I never change it.")


_HELP_WORDS = {"what", "does", "do", "mean", "means", "meaning", "define", "definition", "counts",
               "count", "as", "how", "is", "are", "the", "a", "an", "calculated", "computed",
               "defined", "measured", "of", "by", "explain", "term", "metric", "qualifies",
               "our", "we", "you", "it", "work", "works"}


def define(words: list[str], catalog: Catalog) -> str | None:
    """A definition from the dbt docs (documentation only, no numbers).

    The measure, the yes/no columns named after the term, and the model computing it.
    """
    terms = [w for w in words if w not in _HELP_WORDS]
    if not terms:
        return None
    parts: list[str] = []
    best = None
    for model in catalog.answerable:
        for hit in measure_hits(terms, model):
            if hit.measure.description and (best is None or hit.score > best[0]):
                best = (hit.score, model, hit.measure)
    model_hits = [m for m in catalog.answerable
                  if any(has_any(terms, (syn,), fuzzy=False) for syn in m.answerable.synonyms)]
    stems = [t.rstrip("s") for t in terms if len(t) > 4]
    if best is not None:
        _, model, measure = best
        parts.append(f"{_label(measure.name).capitalize()}: {measure.description.rstrip('.')} "
                     f"(dbt model {model.name}).")
        if model not in model_hits:
            model_hits.append(model)
    for model in catalog.answerable:
        for column in model.columns.values():
            if column.description and stems and any(st in column.name for st in stems) and \
                    len(parts) < 3 and column.name.startswith(("is_", "has_")):
                parts.append(f"{_label(column.name).capitalize()} ({model.name}): "
                             f"{column.description.rstrip('.')}.")
    for model in model_hits[:1]:
        description = model.description.rstrip(".")
        measures = ", ".join(_label(m.name) for m in model.answerable.measures[:8])
        parts.append(f"{model.answerable.label} ({model.name}): {description}. "
                     f"It reports {measures}.")
    return " ".join(parts) if parts else None


def refusal(reason: str) -> str:
    """A polite refusal naming why."""
    if "change or move" in reason:
        return ("I can't do that: I only read and explain your pipeline data, and never "
                "change, delete, export or send it. Ask me about the figures instead.")
    if "SQL" in reason or "instructions" in reason:
        return ("I can't help with that request. I answer questions about your sales "
                "pipeline, reading the data only.")
    if "longer than" in reason:
        return ("That question is too long for me to read; please ask it in a sentence or "
                "two.")
    return ("That's outside what I can help with: I answer questions about your Salesforce "
            "sales pipeline (win rates, pipeline, forecasts, slippage, deals).")


# ----------------------------------------------------------------------------- the node


def compose(state: State, catalog: Catalog | None, persona: str) -> dict[str, Any]:
    """The answer, chart, follow-ups and citations for a finished turn (pure)."""
    understanding = state.understanding or {}
    facts = state.facts or {}
    results = state.results or []
    intent = state.intent
    as_of = state.as_of_date
    chart = None
    model = (facts.get("notes") or {}).get("model")
    if state.error and not results:
        text = f"I can't answer right now: {state.error}"
    elif intent == "smalltalk":
        text = ("Hello! I'm Whizzy: ask me about your sales pipeline — win rates, pipeline "
                "health, forecasts, slippage or specific deals.")
    elif intent == "out_of_scope":
        text = refusal(state.intent_reason)
        if catalog is not None and state.intent_reason.startswith("not "):
            examples = [m.answerable.example_questions[0] for m in catalog.answerable
                        if m.answerable.example_questions][:2]
            if examples:
                text += " For example: " + " / ".join(examples)
    elif intent == "help":
        text = help_answer(state.question, catalog, state.intent_reason)
        if state.intent_reason == "empty question":
            text = "Please type a question. " + help_answer("", catalog, "capabilities")
    elif facts.get("unanswerable"):
        reason = facts["unanswerable"]
        text = (f"{reason}." if reason.startswith("I couldn't find")
                else f"I can't answer that from the data I have: {reason}.")
        if facts.get("suggestions"):
            joiner = " " if facts["suggestions"][0].startswith("Did you mean") else \
                " You could ask: "
            text += joiner + " / ".join(facts["suggestions"][:3])
    else:
        failed = [r for r in results if r.get("error")]
        main = _headline_result(results, {"main", "trend", "records", "drivers"})
        if main is None or main.get("error"):
            reason = (main or (failed[0] if failed else {})).get("error") or "no query ran"
            text = (f"I couldn't get that figure: {reason}. No numbers are shown rather than "
                    "guesses.")
        elif (main.get("notes") or {}).get("free_sql"):
            text = _free_result(main)
        elif understanding.get("why") and main["purpose"] == "drivers":
            text = _why(results, facts, understanding)
        elif intent == "briefing" and main["rows"]:
            text = _briefing(main, as_of)
        elif not main["rows"]:
            what = main["description"] or "that"
            text = (f"No data matched {what}{_scope(understanding)}: the query returned no "
                    f"rows, so there is no figure to report.")
        elif main["purpose"] == "records":
            detail = _headline_result(results, {"detail"})
            text = _lookup(main, detail, understanding)
        elif main["purpose"] == "trend":
            text = _trend(main, understanding)
            chart = chart_for(main, "trend")
        elif (main.get("notes") or {}).get("total_of"):
            text = _total(main, _headline_result(results, {"detail"}), understanding)
        else:
            plan = state.plans[0] if state.plans else {}
            grouped = bool(plan.get("group_by")) or bool((plan.get("notes") or {}).get("ranking"))
            compare = _headline_result(results, {"compare"})
            if grouped:
                text = _ranking(main, understanding)
                chart = chart_for(main, "ranking")
            elif main["row_count"] == 1:
                text = _single(main, compare, understanding)
            elif understanding.get("direction") or understanding.get("group_by"):
                text = _ranking(main, understanding)
                chart = chart_for(main, "ranking")
            else:
                text = _rows_answer(main, understanding)
                chart = chart_for(main, "trend")
        if main is not None and main.get("truncated"):
            text += " (The result was cut at the row limit.)"
        if failed and main is not None and not main.get("error"):
            text += f" One supporting query failed ({failed[0]['error']})."
    if as_of and intent in {"analytics", "lookup", "briefing"} and not text.endswith("."):
        text += "."
    if as_of and intent in {"analytics", "lookup"} and results:
        text += f" {_as_of(as_of)}"
    citations = [{"model": r["model"], "sql": r["sql"], "purpose": r["purpose"]}
                 for r in results if r.get("sql")]
    return {
        "answer": text.strip(),
        "chart": chart,
        "follow_ups": follow_ups(intent, {**understanding,
                                         "why": bool(understanding.get("why"))},
                                 catalog, model, persona),
        "citations": citations,
    }


def write_answer(state: State, runtime: Runtime[Context]) -> dict:
    """Node: write the answer and remember the turn for follow-ups."""
    catalog = None
    try:
        catalog = open_warehouse(runtime.context.warehouse, runtime.context.manifest).catalog
    except Exception:  # noqa: BLE001 - the error is already in the state
        catalog = None
    try:
        update = compose(state, catalog, runtime.context.persona)
    except Exception as exc:  # noqa: BLE001 - a bug must not surface as a traceback
        update = {"answer": f"I couldn't write an answer ({type(exc).__name__}: {exc}). "
                            "The query results are attached.", "chart": None,
                  "follow_ups": [], "citations": []}
    if runtime.context.engine == "llm":
        answer, records = _llm_answer(state, runtime, update["answer"])
        update["answer"] = answer
        update.update(records)
    update["history"] = [{
        "question": state.question,
        "intent": state.intent,
        "answer": update["answer"],
        "understanding": state.understanding,
    }]
    return update


def _wordable(state: State) -> dict[str, Any] | None:
    """The main result when the LLM may word the answer (a data answer with rows)."""
    if state.intent not in {"analytics", "lookup", "briefing"} or (state.facts or {}).get(
            "unanswerable"):
        return None
    results = state.results or []
    main = _headline_result(results, {"main", "trend", "records", "drivers"})
    if main is None or main.get("error") or not main.get("rows"):
        return None
    return main


def _llm_answer(state: State, runtime: Runtime[Context], offline: str
                ) -> tuple[str, dict[str, Any]]:
    """The LLM's grounded wording (streamed), or the offline answer with a note saying why."""
    from agents.llm import nodes as llm_nodes

    fallbacks = list(state.llm_fallbacks or [])
    records: dict[str, Any] = {}
    text = None
    main = _wordable(state)
    if main is not None:
        engine, outcome = llm_nodes.turn_engine(runtime.context, "write_answer", fallbacks)
        if engine is not None:
            writer = runtime.stream_writer

            def on_token(piece: str) -> None:
                writer({"token": piece})

            text, step = llm_nodes.write(
                engine, question=state.question, persona=runtime.context.persona,
                as_of=state.as_of_date, results=state.results, reference=offline,
                on_token=on_token)
            outcome = llm_nodes.merge(outcome, step)
        fallbacks += outcome.fallbacks
        records = outcome.update()
    if text:
        if main is not None and main.get("truncated") and "row limit" not in text:
            text += " (The result was cut at the row limit.)"
        if main is not None and (main.get("notes") or {}).get("free_sql"):
            text += f" {FREE_SQL_NOTE}"
        answer = text
    else:
        answer = offline
    note = llm_nodes.fallback_note(fallbacks, answered_by_llm=bool(text))
    return (f"{answer} {note}" if note else answer), records
