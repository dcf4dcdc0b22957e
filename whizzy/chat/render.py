"""What the chat shows: a step per graph node, result tables, the footer, follow-up actions.

Pure functions over the assistant's node updates and answer dict (see
`agents.assistant.Assistant`); `app.py` turns their output into Chainlit objects.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from whizzy.chat.charts import chart_figure, label_of, to_frame, unit_of
from whizzy.chat.freshness import Freshness
from whizzy.errors import WhizzyError

#: Graph nodes in the order they run, with the name of their step in the chat (Chainlit
#: shows a finished tool step as "Used <name>").
NODE_TITLES = {
    "classify_intent": "intent classifier",
    "select_models": "model selector",
    "plan_query": "query planner",
    "run_queries": "SQL executor",
    "fuse_results": "result fusion",
    "write_answer": "answer writer",
}

#: Rows a table in the chat shows (the full result can be larger; the SQL is in its step).
TABLE_ROWS = 200


@dataclass(kw_only=True)
class StepView:
    """One node's step: a title, a markdown body, and the SQL it ran (one child step each)."""

    node: str
    title: str
    body: str
    queries: list[QueryView] = field(default_factory=list)


@dataclass(kw_only=True)
class QueryView:
    """One SQL statement with its row count and time when known."""

    title: str
    sql: str


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a value (dates as ISO text, Decimals as floats, models as dicts)."""
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _code(text: str) -> str:
    return f"`{text}`"


def _ms(value: Any) -> str:
    try:
        return f"{float(value):.0f} ms"
    except (TypeError, ValueError):
        return ""


def _intent_body(update: Mapping[str, Any]) -> str:
    intent = update.get("intent")
    lines = [f"Intent: **{intent}**" if intent else "Intent: not decided"]
    for key in ("intent_reason", "reason", "intent_detail"):
        if update.get(key):
            lines.append(str(update[key]))
    for key, label in (("entities", "Recognised"), ("filters", "Filters"), ("period", "Period")):
        if update.get(key):
            lines.append(f"{label}: {_compact(update[key])}")
    return "\n\n".join(lines)


def _models_body(update: Mapping[str, Any]) -> str:
    models = [str(m) for m in _as_list(update.get("models"))]
    reasons = update.get("model_reasons")
    if not models and not reasons:
        return "No model fits this question."
    lines = []
    if isinstance(reasons, Mapping):
        for m in models or list(reasons):
            why = reasons.get(m)
            lines.append(f"- {_code(m)}" + (f" — {why}" if why else ""))
    elif isinstance(reasons, (list, tuple)) and reasons:
        for i, why in enumerate(reasons):
            if isinstance(why, Mapping):
                name = why.get("model") or why.get("name") or (models[i] if i < len(models) else "")
                text = why.get("reason") or why.get("why") or why.get("text") or ""
                score = why.get("score")
                extra = f" (score {score:.2f})" if isinstance(score, (int, float)) else ""
                lines.append(f"- {_code(str(name))}{extra}" + (f" — {text}" if text else ""))
            else:
                name = models[i] if i < len(models) else ""
                lines.append(f"- {_code(name)} — {why}" if name else f"- {why}")
    else:
        lines = [f"- {_code(m)}" for m in models]
    return "Models chosen:\n\n" + "\n".join(lines)


def _filter_text(f: Mapping[str, Any]) -> str:
    if f.get("label"):
        return str(f["label"])
    values = ", ".join(str(v) for v in _as_list(f.get("values")))
    return f"{f.get('column')} {f.get('op', 'eq')} {values}".strip()


def _plan_lines(plan: Mapping[str, Any]) -> list[str]:
    lines = []
    head = f"**{plan.get('purpose', 'main')}** query on {_code(str(plan.get('model')))}"
    if plan.get("description"):
        head += f" — {plan['description']}"
    lines.append(head)
    sels = plan.get("selections") or []
    measures = [s.get("label") or s.get("name") for s in sels if s.get("role") == "measure"]
    dims = [s.get("label") or s.get("name") for s in sels if s.get("role") == "dimension"]
    if measures:
        lines.append("  - measures: " + ", ".join(map(str, measures)))
    if dims or plan.get("group_by"):
        lines.append("  - by: " + ", ".join(map(str, dims or plan.get("group_by"))))
    if plan.get("filters"):
        lines.append("  - filters: " + "; ".join(_filter_text(f) for f in plan["filters"]))
    if plan.get("period_label"):
        lines.append(f"  - period: {plan['period_label']}")
    if plan.get("order_by"):
        order = ", ".join(
            f"{o.get('name')} {'desc' if o.get('desc') else 'asc'}" for o in plan["order_by"]
        )
        lines.append(f"  - order: {order}")
    if plan.get("limit"):
        lines.append(f"  - limit: {plan['limit']}")
    return lines


def _plans(value: Any) -> list[Mapping[str, Any]]:
    value = _plain(value)
    if isinstance(value, Mapping) and "plans" in value:
        value = value["plans"]
    return [p for p in _as_list(value) if isinstance(p, Mapping)]


def _plan_body(update: Mapping[str, Any]) -> str:
    plans = _plans(update.get("plan") if "plan" in update else update.get("plans"))
    facts = update.get("facts") if isinstance(update.get("facts"), Mapping) else {}
    if not plans:
        why = facts.get("unanswerable")
        return f"No query fits: {why}." if why else "No query needed."
    out = []
    for p in plans:
        out += _plan_lines(p)
    return "\n".join(out)


def _queries(update: Mapping[str, Any]) -> list[QueryView]:
    results = [r for r in _as_list(update.get("results") or update.get("query_results"))
               if isinstance(r, Mapping)]
    sqls = [str(s) for s in _as_list(update.get("sql"))] or [
        str(r.get("sql")) for r in results if r.get("sql")
    ]
    with_sql = [r for r in results if r.get("sql")] if not update.get("sql") else results
    views = []
    for i, sql in enumerate(sqls):
        meta = with_sql[i] if i < len(with_sql) else {}
        head = f"Query {i + 1}"
        purpose = meta.get("purpose") or meta.get("model")
        if purpose:
            head += f" · {purpose}"
        bits = [head]
        n = meta.get("row_count", meta.get("rows_returned"))
        if n is None and isinstance(meta.get("rows"), list):
            n = len(meta["rows"])
        if n is not None:
            bits.append(f"{n:,} row{'s' if n != 1 else ''}")
        if meta.get("elapsed_ms") is not None:
            bits.append(_ms(meta["elapsed_ms"]))
        if meta.get("error"):
            bits.append("failed")
        views.append(QueryView(title=" · ".join(bits), sql=sql))
    return views


def _run_body(update: Mapping[str, Any], queries: list[QueryView]) -> str:
    errors = [str(r["error"]) for r in _as_list(update.get("results"))
              if isinstance(r, Mapping) and r.get("error")]
    if update.get("error"):
        errors.insert(0, str(update["error"]))
    if not queries:
        return "No SQL was run." + (f" {errors[0]}" if errors else "")
    n = len(queries)
    text = f"{n} quer{'ies' if n != 1 else 'y'} on a read-only connection."
    if errors:
        text += " Failed: " + "; ".join(errors)
    return text


def _records_count(records: Any) -> int | None:
    if isinstance(records, Mapping):
        rows = records.get("rows")
        return len(rows) if isinstance(rows, list) else None
    if isinstance(records, list):
        if records and isinstance(records[0], Mapping) and "rows" in records[0]:
            return sum(len(r.get("rows") or []) for r in records)
        return len(records)
    return None


def _fuse_body(update: Mapping[str, Any]) -> str:
    lines = []
    records = update.get("records")
    if records is None:
        found = [r for r in _as_list(update.get("results"))
                 if isinstance(r, Mapping) and r.get("purpose") == "records"]
        records = found[0] if found else None
    n = _records_count(records)
    if n:
        title = _records_title(records)
        lines.append(f"Found {n:,} supporting Salesforce record{'s' if n != 1 else ''}"
                     + (f" ({title})." if title else "."))
    elif n == 0:
        lines.append("No Salesforce records stand behind this figure.")
    others = [r for r in _as_list(update.get("results"))
              if isinstance(r, Mapping) and r.get("purpose") not in (None, "records")]
    for r in others:
        lines.append(f"Added {r.get('purpose')}: {r.get('description') or r.get('model')}.")
    facts = update.get("facts") if isinstance(update.get("facts"), Mapping) else {}
    if facts.get("drivers"):
        lines.append(f"Drivers: {_compact(facts['drivers'], 300)}")
    return "\n\n".join(lines) or "Nothing to add: the figure stands on its own."


def _answer_body(update: Mapping[str, Any]) -> str:
    lines = []
    chart = update.get("chart")
    if isinstance(chart, Mapping) and chart:
        desc = chart.get("kind") or chart.get("type") or "chart"
        axes = ", ".join(f"{k}={chart[k]}" for k in ("x", "y") if chart.get(k))
        lines.append(f"Chart: {desc}" + (f" ({axes})" if axes else ""))
    follow = _as_list(update.get("follow_ups"))
    if follow:
        lines.append("Follow-ups offered: " + "; ".join(map(str, follow)))
    if update.get("usage"):
        lines.append(f"LLM usage: {_compact(update['usage'])}")
    return "\n\n".join(lines) or "Answer written."


def _compact(value: Any, limit: int = 600) -> str:
    text = json.dumps(_plain(value), default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(node: str, update: Mapping[str, Any]) -> str:
    """What a node decided, in a few words (shown in the step's title)."""
    if node == "classify_intent":
        return str(update.get("intent") or "")
    if node == "select_models":
        models = [str(m) for m in _as_list(update.get("models"))]
        if not models:
            return "no model fits"
        return models[0] + (f" (+{len(models) - 1})" if len(models) > 1 else "")
    if node == "plan_query":
        plans = _plans(update.get("plans") if "plans" in update else update.get("plan"))
        if not plans:
            return "no query fits"
        desc = str(plans[0].get("description") or plans[0].get("model") or "")
        desc = desc if len(desc) <= 60 else desc[:59] + "…"
        return desc + (f" (+{len(plans) - 1})" if len(plans) > 1 else "")
    if node == "run_queries":
        n = len(_queries(update))
        return f"{n} quer{'ies' if n != 1 else 'y'}" if n else "no query"
    if node == "fuse_results":
        records = update.get("records")
        if records is None:
            records = next((r for r in _as_list(update.get("results"))
                            if isinstance(r, Mapping) and r.get("purpose") == "records"), None)
        n = _records_count(records)
        return f"{n:,} record{'s' if n != 1 else ''}" if n is not None else ""
    if node == "write_answer":
        chart = update.get("chart")
        kind = chart.get("kind") if isinstance(chart, Mapping) else None
        return f"{kind} chart" if kind else "text"
    return ""


def step_view(
    node: str, update: Mapping[str, Any] | None, elapsed_ms: float | None = None
) -> StepView:
    """The step shown for one finished graph node.

    >>> v = step_view("classify_intent", {"intent": "analytics"}, 1.2)
    >>> v.title, v.body
    ('intent classifier: analytics · 1 ms', 'Intent: **analytics**')
    >>> v = step_view("run_queries", {"sql": ["select 1"], "results": [{"row_count": 1}]})
    >>> v.title, [q.title for q in v.queries], v.body
    ('SQL executor: 1 query', ['Query 1 · 1 row'], '1 query on a read-only connection.')
    """
    update = update or {}
    title = NODE_TITLES.get(node, node.replace("_", " "))
    if headline := _headline(node, update):
        title += f": {headline}"
    if elapsed_ms is not None:
        title += f" · {_ms(elapsed_ms)}"
    queries: list[QueryView] = []
    if node == "classify_intent":
        body = _intent_body(update)
    elif node == "select_models":
        body = _models_body(update)
    elif node == "plan_query":
        body = _plan_body(update)
    elif node == "run_queries":
        queries = _queries(update)
        body = _run_body(update, queries)
    elif node == "fuse_results":
        body = _fuse_body(update)
    elif node == "write_answer":
        body = _answer_body(update)
    else:
        body = _compact(update) if update else "Done."
    if llm := _llm_line(update):
        body = f"{body}\n\n{llm}"
    return StepView(node=node, title=title, body=body, queries=queries)


def _llm_line(update: Mapping[str, Any]) -> str:
    """What the LLM did in a step: calls, tokens, latency, and any fallback to offline.

    >>> print(_llm_line({"usage": [{"__new_turn__": True}, {"node": "plan_query",
    ...     "input_tokens": 900, "output_tokens": 60, "latency_ms": 410.0}],
    ...     "llm_fallbacks": [{"node": "plan_query", "kind": "schema_invalid",
    ...                        "reason": "no such measure"}]}))
    LLM: 1 call, 900 tokens in / 60 out, 410 ms
    LLM unavailable here (schema_invalid: no such measure): the offline engine's result is used.
    >>> _llm_line({"intent": "analytics"})
    ''
    """
    calls = [c for c in update.get("usage") or [] if isinstance(c, dict) and c.get("node")]
    lines = []
    if calls:
        tokens_in = sum(int(c.get("input_tokens") or 0) for c in calls)
        tokens_out = sum(int(c.get("output_tokens") or 0) for c in calls)
        ms = sum(float(c.get("latency_ms") or 0) for c in calls)
        lines.append(f"LLM: {len(calls)} call{'s' if len(calls) != 1 else ''}, {tokens_in} "
                     f"tokens in / {tokens_out} out, {_ms(ms)}")
    for f in update.get("llm_fallbacks") or []:
        if isinstance(f, dict) and f.get("node"):
            lines.append(f"LLM unavailable here ({f.get('kind')}: {f.get('reason')}): the "
                         "offline engine's result is used.")
    return "\n".join(lines)


def _units_from_plan(plan: Any) -> dict[str, str]:
    units: dict[str, str] = {}
    for p in _plans(plan):
        for s in p.get("selections") or []:
            if s.get("unit") and s.get("name"):
                units.setdefault(str(s["name"]), str(s["unit"]))
    return units


def _cell(value: Any, unit: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) else (
            value.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if unit == "currency":
        return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"
    if unit == "days":
        return round(float(value), 1)
    if unit == "count":
        return int(value) if float(value).is_integer() else round(value, 2)
    if isinstance(value, float):
        return round(value, 2)
    return value


def display_table(
    columns: Sequence[str], rows: Sequence[Any], *, units: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A result as people read it: labelled columns, 31.3%, $1,240,000, 42.4 (days).

    >>> t = display_table(["owner_name", "win_rate", "won_amount"], [["Ann", 0.3125, 1240000]])
    >>> t.columns.tolist(), t.iloc[0].tolist()
    (['Owner name', 'Win rate', 'Won amount'], ['Ann', '31.2%', '$1,240,000'])
    >>> display_table(["month_label", "month", "n"], [["2026-11", "2026-11-01", 1]]).columns
    Index(['Month', 'N'], dtype=...)
    """
    frame = to_frame(columns, list(rows)[:TABLE_ROWS])
    units = dict(units or {})
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        if f"{col}_label" in frame.columns:  # `quarter` beside `quarter_label`: show the label
            continue
        unit = units.get(col) or (unit_of(col) if _is_numberish(frame[col]) else "text")
        label = label_of(col)
        out[label if label not in out.columns else col] = [
            _cell(v, unit) for v in frame[col].tolist()
        ]
    return out


def _is_numberish(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def result_units(
    result: Mapping[str, Any], results: Sequence[Mapping[str, Any]] = ()
) -> dict[str, str]:
    """Units of the result's columns: from the query results, else from the query plan.

    >>> result_units({"plan": [{"selections": [{"name": "a", "unit": "percent"}]}]},
    ...              [{"units": {"b": "currency"}}])
    {'b': 'currency', 'a': 'percent'}
    """
    units: dict[str, str] = {}
    for r in results:
        for name, unit in (r.get("units") or {}).items():
            if unit:
                units.setdefault(str(name), str(unit))
    for name, unit in _units_from_plan(result.get("plans") or result.get("plan")).items():
        units.setdefault(name, unit)
    return units


def _records_title(records: Any) -> str | None:
    if isinstance(records, Mapping):
        return records.get("title") or records.get("description") or records.get("model")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        first = records[0]
        if "rows" in first:
            return first.get("title") or first.get("description") or first.get("model")
    return None


def records_tables(records: Any) -> list[tuple[str, pd.DataFrame]]:
    """The supporting Salesforce records as (title, table) pairs (none when there are none).

    >>> [(t, d.shape) for t, d in records_tables([{"opportunity_name": "Acme", "amount": 5.0}])]
    [('Supporting records', (1, 2))]
    """
    tables: list[tuple[str, pd.DataFrame]] = []
    if not records:
        return tables
    groups: list[Mapping[str, Any]]
    if isinstance(records, Mapping):
        groups = [records]
    elif isinstance(records, list) and isinstance(records[0], Mapping) and "rows" in records[0]:
        groups = records
    elif isinstance(records, list) and isinstance(records[0], Mapping):
        groups = [{"columns": list(records[0].keys()), "rows": records}]
    else:
        return tables
    for g in groups:
        rows = g.get("rows") or []
        cols = g.get("columns") or (list(rows[0].keys()) if rows and isinstance(rows[0], Mapping)
                                    else [])
        if not rows or not cols:
            continue
        title = str(g.get("title") or g.get("description") or "Supporting records")
        title = title[:1].upper() + title[1:]
        tables.append((title, display_table(cols, rows, units=g.get("units"))))
    return tables


def models_used(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """The models the answer's queries actually read, in query order.

    >>> models_used([{"model": "fct_opportunity"}, {"model": "m_forecast"},
    ...              {"model": "fct_opportunity"}, {"sql": "x"}])
    ['fct_opportunity', 'm_forecast']
    """
    return list(dict.fromkeys(str(r["model"]) for r in results if r.get("model")))


def records_note(tables: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """One line naming the supporting-record tables shown under the answer.

    >>> records_note([("The deals behind the figure", pd.DataFrame({"a": [1, 2]}))])
    'Supporting Salesforce records below: the deals behind the figure (2).'
    >>> records_note([])
    ''
    """
    if not tables:
        return ""
    parts = [f"{title[:1].lower() + title[1:]} ({len(frame):,})" for title, frame in tables]
    return "Supporting Salesforce records below: " + "; ".join(parts) + "."


def footer(
    fresh: Freshness | None, result: Mapping[str, Any], *, models: Sequence[str] | None = None
) -> str:
    """The line under every answer: data freshness, models read and time taken.

    `models` are the models the queries read; without them, the ones the selector chose.

    >>> f = Freshness(dt.date(2026, 11, 15), dt.datetime(2026, 11, 16, 9, 5))
    >>> footer(f, {"models": ["m_forecast"], "elapsed_ms": 12.4})
    'Data as of 2026-11-15 · warehouse built 2026-11-16 09:05 UTC · from m_forecast · 12 ms'
    >>> footer(None, {"as_of_date": "2026-11-15"})
    'Data as of 2026-11-15 · warehouse build time unknown'
    """
    parts = []
    as_of = fresh.as_of_date.isoformat() if fresh else result.get("as_of_date")
    parts.append(f"Data as of {as_of}" if as_of else "Data date unknown")
    parts.append(f"warehouse built {fresh.built_label}" if fresh and fresh.built_at
                 else "warehouse build time unknown")
    models = [str(m) for m in (models or _as_list(result.get("models")))]
    if models:
        parts.append("from " + ", ".join(models[:3]) + (" …" if len(models) > 3 else ""))
    if result.get("elapsed_ms") is not None:
        parts.append(_ms(result["elapsed_ms"]))
    return " · ".join(parts)


def answer_text(result: Mapping[str, Any]) -> str:
    """The answer the user reads (a failed run says so; it never invents one)."""
    text = str(result.get("answer") or "").strip()
    if text:
        return text
    if result.get("error"):
        return f"I couldn't answer that: {result['error']}"
    return "I couldn't produce an answer to that question."


def follow_ups(result: Mapping[str, Any], limit: int = 3) -> list[str]:
    """The follow-up questions offered as buttons (distinct, non-empty, at most `limit`).

    >>> follow_ups({"follow_ups": ["Why?", "why?", "", "By owner?", "Last quarter?", "More"]})
    ['Why?', 'By owner?', 'Last quarter?']
    """
    seen, out = set(), []
    for q in _as_list(result.get("follow_ups")):
        text = str(q.get("question") if isinstance(q, Mapping) else q).strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out[:limit]


def answer_metadata(result: Mapping[str, Any]) -> dict[str, Any]:
    """What is stored with an answer so a rating can become an eval case later."""
    rows = result.get("rows") or []
    first = rows[0] if rows else []
    columns = [str(c) for c in _as_list(result.get("columns"))]
    if isinstance(first, Mapping):
        first = [first.get(c) for c in columns]
    return _plain(
        {
            "question": result.get("question"),
            "intent": result.get("intent"),
            "models": _as_list(result.get("models")),
            "sql": _as_list(result.get("sql")),
            "columns": columns,
            "first_row": list(first),
            "answer": result.get("answer"),
            "as_of_date": result.get("as_of_date"),
            "elapsed_ms": result.get("elapsed_ms"),
            "error": result.get("error"),
        }
    )


@dataclass(kw_only=True)
class AnswerView:
    """Everything the answer message shows: text, chart, tables, follow-ups, stored metadata."""

    content: str
    figure: Any = None  # plotly Figure or None
    table: pd.DataFrame | None = None
    records: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


def answer_view(
    result: Mapping[str, Any],
    results: Sequence[Mapping[str, Any]] = (),
    fresh: Freshness | None = None,
) -> AnswerView:
    """The answer message for an answer object and the query results behind it.

    A result of one number gets no table (the number is in the text); a result with a shape
    gets a chart; supporting records come as their own tables.
    """
    columns = [str(c) for c in _as_list(result.get("columns"))]
    rows = list(result.get("rows") or [])
    table = None
    if rows and (len(rows) > 1 or len(columns) > 1):
        table = display_table(columns, rows, units=result_units(result, results))
    records = records_tables(result.get("records"))
    parts = (
        answer_text(result),
        records_note(records),
        f"*{footer(fresh, result, models=models_used(results))}*",
    )
    return AnswerView(
        content="\n\n".join(p for p in parts if p),
        figure=chart_figure(columns, rows, result.get("chart")),
        table=table,
        records=records,
        follow_ups=follow_ups(result),
        metadata=answer_metadata(result),
    )


def problem_text(exc: WhizzyError) -> str:
    """A user-caused problem as the chat says it: what is wrong, then the fixing command.

    >>> from whizzy.errors import WarehouseNotBuiltError
    >>> print(problem_text(WarehouseNotBuiltError("The warehouse at /w is not built.")))
    **The data isn't ready.** The warehouse at /w is not built.
    <BLANKLINE>
    To fix it, run `whizzy build`.
    >>> from whizzy.errors import ConfigError
    >>> problem_text(ConfigError("The LLM engine is not set up.", hint="pick Offline"))
    'The LLM engine is not set up. (pick Offline)'
    """
    from whizzy.errors import WarehouseMissingError

    if isinstance(exc, WarehouseMissingError):
        text = f"**The data isn't ready.** {exc}"
        return text + (f"\n\nTo fix it, {exc.hint}." if exc.hint else "")
    return f"{exc}" + (f" ({exc.hint})" if exc.hint else "")
