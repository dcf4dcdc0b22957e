"""The "How I got this" steps: one view per graph node, with its headline, body and SQL.

Pure functions over the assistant's node updates (see `whizzy.assistant.Assistant`). Bodies
are markdown: every value from the data or the LLM in them goes through `md_text` or
`md_code` (`whizzy.chat.markup`), so the only markup is the chat's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from whizzy.chat.markup import code_block_text, md_code, md_text
from whizzy.core.jsonable import jsonable

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


def as_list(value: Any) -> list[Any]:
    """A list from a list, a tuple, a single value or None."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _code(text: Any) -> str:
    return md_code(text)


def format_ms(value: Any) -> str:
    """Milliseconds for people (empty when unknown)."""
    try:
        return f"{float(value):.0f} ms"
    except (TypeError, ValueError):
        return ""


def _intent_body(update: Mapping[str, Any]) -> str:
    intent = update.get("intent")
    lines = [f"Intent: **{md_text(intent)}**" if intent else "Intent: not decided"]
    for key in ("intent_reason", "reason", "intent_detail"):
        if update.get(key):
            lines.append(md_text(update[key]))
    for key, label in (("entities", "Recognised"), ("filters", "Filters"), ("period", "Period")):
        if update.get(key):
            lines.append(f"{label}: {md_text(_compact(update[key]))}")
    return "\n\n".join(lines)


def _context_line(update: Mapping[str, Any]) -> str:
    """The words read as the question's context (they constrain nothing), when there are any.

    >>> _context_line({"query": {"context_words": ["brought", "honestly"]}})
    "Read as context, constraining nothing: 'brought', 'honestly'."
    """
    query = update.get("query") if isinstance(update.get("query"), Mapping) else {}
    words = [str(w) for w in as_list(query.get("context_words"))]
    if not words:
        return ""
    return "Read as context, constraining nothing: " + ", ".join(
        f"'{md_text(w)}'" for w in words[:12]) + "."


def _models_body(update: Mapping[str, Any]) -> str:
    body = _chosen_models(update)
    context = _context_line(update)
    return f"{body}\n\n{context}" if context else body


def _chosen_models(update: Mapping[str, Any]) -> str:
    models = [str(m) for m in as_list(update.get("models"))]
    reasons = update.get("model_reasons")
    if not models and not reasons:
        return "No model fits this question."
    lines = []
    if isinstance(reasons, Mapping):
        for m in models or list(reasons):
            why = reasons.get(m)
            lines.append(f"- {_code(m)}" + (f" — {md_text(why)}" if why else ""))
    elif isinstance(reasons, (list, tuple)) and reasons:
        for i, why in enumerate(reasons):
            if isinstance(why, Mapping):
                name = why.get("model") or why.get("name") or (models[i] if i < len(models) else "")
                text = why.get("reason") or why.get("why") or why.get("text") or ""
                score = why.get("score")
                extra = f" (score {score:.2f})" if isinstance(score, (int, float)) else ""
                lines.append(f"- {_code(str(name))}{extra}"
                             + (f" — {md_text(text)}" if text else ""))
            else:
                name = models[i] if i < len(models) else ""
                lines.append(f"- {_code(name)} — {md_text(why)}" if name
                             else f"- {md_text(why)}")
    else:
        lines = [f"- {_code(m)}" for m in models]
    return "Models chosen:\n\n" + "\n".join(lines)


def _filter_text(f: Mapping[str, Any]) -> str:
    if f.get("label"):
        return str(f["label"])
    values = ", ".join(str(v) for v in as_list(f.get("values")))
    return f"{f.get('column')} {f.get('op', 'eq')} {values}".strip()


def _plan_lines(plan: Mapping[str, Any]) -> list[str]:
    lines = []
    head = (f"**{md_text(plan.get('purpose', 'main'))}** query on "
            f"{_code(str(plan.get('model')))}")
    if plan.get("description"):
        head += f" — {md_text(plan['description'])}"
    lines.append(head)
    sels = plan.get("selections") or []
    measures = [s.get("label") or s.get("name") for s in sels if s.get("role") == "measure"]
    dims = [s.get("label") or s.get("name") for s in sels if s.get("role") == "dimension"]
    if measures:
        lines.append("  - measures: " + ", ".join(map(md_text, measures)))
    if dims or plan.get("group_by"):
        lines.append("  - by: " + ", ".join(map(md_text, as_list(dims or plan.get("group_by")))))
    if plan.get("filters"):
        lines.append("  - filters: " + "; ".join(md_text(_filter_text(f))
                                                 for f in plan["filters"]))
    if plan.get("period_label"):
        lines.append(f"  - period: {md_text(plan['period_label'])}")
    if plan.get("order_by"):
        order = ", ".join(
            f"{o.get('name')} {'desc' if o.get('desc') else 'asc'}" for o in plan["order_by"]
        )
        lines.append(f"  - order: {md_text(order)}")
    if plan.get("limit"):
        lines.append(f"  - limit: {md_text(plan['limit'])}")
    return lines


def plans_of(value: Any) -> list[Mapping[str, Any]]:
    """The query plans of a node update (dicts, whatever form they came in)."""
    value = jsonable(value)
    if isinstance(value, Mapping) and "plans" in value:
        value = value["plans"]
    return [p for p in as_list(value) if isinstance(p, Mapping)]


def _plan_body(update: Mapping[str, Any]) -> str:
    plans = plans_of(update.get("plan") if "plan" in update else update.get("plans"))
    facts = update.get("facts") if isinstance(update.get("facts"), Mapping) else {}
    if not plans:
        why = facts.get("unanswerable")
        return f"No query fits: {md_text(why)}." if why else "No query needed."
    out = []
    for p in plans:
        out += _plan_lines(p)
    return "\n".join(out)


def _queries(update: Mapping[str, Any]) -> list[QueryView]:
    results = [r for r in as_list(update.get("results") or update.get("query_results"))
               if isinstance(r, Mapping)]
    sqls = [str(s) for s in as_list(update.get("sql"))] or [
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
            bits.append(format_ms(meta["elapsed_ms"]))
        if meta.get("error"):
            bits.append("failed")
        views.append(QueryView(title=" · ".join(bits), sql=code_block_text(sql)))
    return views


def _run_body(update: Mapping[str, Any], queries: list[QueryView]) -> str:
    errors = [str(r["error"]) for r in as_list(update.get("results"))
              if isinstance(r, Mapping) and r.get("error")]
    if update.get("error"):
        errors.insert(0, str(update["error"]))
    if not queries:
        return "No SQL was run." + (f" {md_text(errors[0])}" if errors else "")
    n = len(queries)
    text = f"{n} quer{'ies' if n != 1 else 'y'} on a read-only connection."
    if errors:
        text += " Failed: " + "; ".join(map(md_text, errors))
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
        found = [r for r in as_list(update.get("results"))
                 if isinstance(r, Mapping) and r.get("purpose") == "records"]
        records = found[0] if found else None
    n = _records_count(records)
    if n:
        title = records_title(records)
        lines.append(f"Found {n:,} supporting Salesforce record{'s' if n != 1 else ''}"
                     + (f" ({md_text(title)})." if title else "."))
    elif n == 0:
        lines.append("No Salesforce records stand behind this figure.")
    others = [r for r in as_list(update.get("results"))
              if isinstance(r, Mapping) and r.get("purpose") not in (None, "records")]
    for r in others:
        lines.append(f"Added {md_text(r.get('purpose'))}: "
                     f"{md_text(r.get('description') or r.get('model'))}.")
    facts = update.get("facts") if isinstance(update.get("facts"), Mapping) else {}
    if facts.get("drivers"):
        lines.append(f"Drivers: {md_text(_compact(facts['drivers'], 300))}")
    return "\n\n".join(lines) or "Nothing to add: the figure stands on its own."


def _answer_body(update: Mapping[str, Any]) -> str:
    lines = []
    chart = update.get("chart")
    if isinstance(chart, Mapping) and chart:
        desc = chart.get("kind") or chart.get("type") or "chart"
        axes = ", ".join(f"{k}={chart[k]}" for k in ("x", "y") if chart.get(k))
        lines.append(f"Chart: {md_text(desc)}" + (f" ({md_text(axes)})" if axes else ""))
    follow = as_list(update.get("follow_ups"))
    if follow:
        lines.append("Follow-ups offered: " + "; ".join(map(md_text, follow)))
    if update.get("usage"):
        lines.append(f"LLM usage: {md_text(_compact(update['usage']))}")
    return "\n\n".join(lines) or "Answer written."


def _compact(value: Any, limit: int = 600) -> str:
    text = json.dumps(jsonable(value), default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(node: str, update: Mapping[str, Any]) -> str:
    """What a node decided, in a few words (shown in the step's title)."""
    if node == "classify_intent":
        return str(update.get("intent") or "")
    if node == "select_models":
        models = [str(m) for m in as_list(update.get("models"))]
        if not models:
            return "no model fits"
        return models[0] + (f" (+{len(models) - 1})" if len(models) > 1 else "")
    if node == "plan_query":
        plans = plans_of(update.get("plans") if "plans" in update else update.get("plan"))
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
            records = next((r for r in as_list(update.get("results"))
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
        title += f" · {format_ms(elapsed_ms)}"
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
        body = md_text(_compact(update)) if update else "Done."
    if llm := _llm_line(update):
        body = f"{body}\n\n{llm}"
    return StepView(node=node, title=title, body=body, queries=queries)


def _llm_line(update: Mapping[str, Any]) -> str:
    r"""What the LLM did in a step: calls, tokens, latency, and any fallback to offline.

    >>> print(_llm_line({"usage": [{"__new_turn__": True}, {"node": "plan_query",
    ...     "input_tokens": 900, "output_tokens": 60, "latency_ms": 410.0}],
    ...     "llm_fallbacks": [{"node": "plan_query", "kind": "schema_invalid",
    ...                        "reason": "no such measure"}]}))
    LLM: 1 call, 900 tokens in / 60 out, 410 ms
    LLM unavailable here (schema\_invalid: no such measure): the offline engine's result is used.
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
                     f"tokens in / {tokens_out} out, {format_ms(ms)}")
    for f in update.get("llm_fallbacks") or []:
        if isinstance(f, dict) and f.get("node"):
            lines.append(f"LLM unavailable here ({md_text(f.get('kind'))}: "
                         f"{md_text(f.get('reason'))}): the offline engine's result is used.")
    return "\n".join(lines)


def records_title(records: Any) -> str | None:
    """The title of the "deals behind the number" table, if there is one."""
    if isinstance(records, Mapping):
        return records.get("title") or records.get("description") or records.get("model")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        first = records[0]
        if "rows" in first:
            return first.get("title") or first.get("description") or first.get("model")
    return None
