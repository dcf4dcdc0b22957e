"""What the chat shows for an answer: its text, footer, follow-up actions, tables and chart.

Pure functions over the assistant's answer dict (see `whizzy.assistant.Assistant`); the steps
are in `whizzy.chat.steps`, the tables in `whizzy.chat.tables`; `app.py` turns their output
into Chainlit objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from whizzy.chat.choices import choice_questions
from whizzy.chat.export import ExportFile, export_files, export_frame
from whizzy.chat.feedback import META_KEY
from whizzy.chat.freshness import Freshness
from whizzy.chat.markup import md_text
from whizzy.chat.pictures import answer_figure
from whizzy.chat.steps import as_list, format_ms
from whizzy.chat.tables import (
    display_table,
    models_used,
    records_groups,
    records_tables,
    result_units,
    same_rows,
)
from whizzy.core.errors import WarehouseMissingError, WhizzyError
from whizzy.core.jsonable import jsonable


def footer(
    fresh: Freshness | None, result: Mapping[str, Any], *, models: Sequence[str] | None = None
) -> str:
    """The line under every answer: data freshness, models read and time taken.

    `models` are the models the queries read; without them, the ones the selector chose.

    >>> import datetime as dt
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
    models = [str(m) for m in (models or as_list(result.get("models")))]
    if models:
        parts.append("from " + ", ".join(models[:3]) + (" …" if len(models) > 3 else ""))
    if result.get("elapsed_ms") is not None:
        parts.append(format_ms(result["elapsed_ms"]))
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
    for q in as_list(result.get("follow_ups")):
        text = str(q.get("question") if isinstance(q, Mapping) else q).strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out[:limit]


def row_limit_note(results: Sequence[Mapping[str, Any]], row_limit: int) -> str:
    """Which tables the row limit cut, and where to change it (empty when none was cut).

    >>> row_limit_note([{"purpose": "main", "truncated": True, "row_count": 50},
    ...                 {"purpose": "records", "truncated": False}], 50)
    'The row limit (50 rows, in Settings) cut the table at 50 rows; raise it to see more.'
    >>> row_limit_note([{"purpose": "records", "truncated": True, "row_count": 10}], 10)
    'The row limit (10 rows, in Settings) cut the deals behind it at 10 rows; raise it to see more.'
    """
    cut = [r for r in results if r.get("truncated")]
    if not cut:
        return ""
    what = "; ".join(
        f"{'the deals behind it' if r.get('purpose') == 'records' else 'the table'} at "
        f"{int(r.get('row_count') or 0):,} rows" for r in cut)
    return f"The row limit ({row_limit:,} rows, in Settings) cut {what}; raise it to see more."


def answer_metadata(result: Mapping[str, Any]) -> dict[str, Any]:
    """What is stored with an answer so a rating can become an eval case later."""
    rows = result.get("rows") or []
    first = rows[0] if rows else []
    columns = [str(c) for c in as_list(result.get("columns"))]
    if isinstance(first, Mapping):
        first = [first.get(c) for c in columns]
    return jsonable(
        {
            "question": result.get("question"),
            "intent": result.get("intent"),
            "models": as_list(result.get("models")),
            "sql": as_list(result.get("sql")),
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
    #: CSV and XLSX of the table, and of each records table (same order as `records`).
    table_files: list[ExportFile] = field(default_factory=list)
    records_files: list[list[ExportFile]] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    #: (label, resolved question) of each option when the assistant asked back.
    choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, question) of every button under the answer: the choices, the follow-ups."""
        return [*self.choices, *((q, q) for q in self.follow_ups)]
    metadata: dict[str, Any] = field(default_factory=dict)


def answer_view(
    result: Mapping[str, Any],
    results: Sequence[Mapping[str, Any]] = (),
    fresh: Freshness | None = None,
    *,
    row_limit: int = 1000,
) -> AnswerView:
    """The answer message for an answer object and the query results behind it.

    A result of one number gets no table (the number is in the text, its card above); every
    figure gets a picture (`whizzy.chat.pictures`); supporting records come as their own
    tables.
    """
    columns = [str(c) for c in as_list(result.get("columns"))]
    rows = list(result.get("rows") or [])
    table = None
    if rows and (len(rows) > 1 or len(columns) > 1):
        table = display_table(columns, rows, units=result_units(result, results))
    behind = result.get("records")
    if table is not None and same_rows(columns, rows, behind):
        behind = None  # a deal list: the deals behind it are the table itself
    records = records_tables(behind)
    as_of = fresh.as_of_date.isoformat() if fresh else result.get("as_of_date")
    what = str(result.get("question") or "result")
    table_files = [] if table is None else export_files(
        what, export_frame(columns, rows, row_limit), as_of)
    records_files = [
        export_files(f"{what} {g.get('title') or 'deals'}",
                     export_frame(g["columns"], g["rows"], row_limit), as_of)
        for g in records_groups(behind)
    ]
    parts = (  # data and LLM words are escaped: markup is only what is written here
        md_text(answer_text(result)),
        md_text(row_limit_note(results, row_limit)),
        f"*{md_text(footer(fresh, result, models=models_used(results)))}*",
    )
    return AnswerView(
        content="\n\n".join(p for p in parts if p),
        figure=answer_figure(result, results),
        table=table,
        records=records,
        table_files=table_files,
        records_files=records_files,
        follow_ups=follow_ups(result),
        choices=choice_questions(str(result.get("question") or ""),
                                 (result.get("query") or {}).get("clarify")),
        metadata=answer_metadata(result),
    )


def problem_text(exc: WhizzyError) -> str:
    r"""A user-caused problem as the chat says it: what is wrong, then the fixing command.

    The message may quote data (a path, a name), so it is escaped; the hint is the chat's.

    >>> from whizzy.core.errors import WarehouseNotBuiltError
    >>> print(problem_text(WarehouseNotBuiltError("The warehouse at w is not built")))
    **The data isn't ready.** The warehouse at w is not built
    <BLANKLINE>
    To fix it, run `whizzy build`.
    >>> from whizzy.core.errors import ConfigError
    >>> print(problem_text(ConfigError("No [LLM](x) set up", hint="pick Offline")))
    No \[LLM\]\(x\) set up (pick Offline)
    """
    if isinstance(exc, WarehouseMissingError):
        text = f"**The data isn't ready.** {md_text(exc)}"
        return text + (f"\n\nTo fix it, {exc.hint}." if exc.hint else "")
    return md_text(exc) + (f" ({exc.hint})" if exc.hint else "")


def saved_buttons(steps: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[list[str]]]]:
    """(step id, buttons) of each saved answer whose metadata kept its buttons.

    >>> saved_buttons([{"id": "s1", "type": "assistant_message",
    ...                 "metadata": {"whizzy": {"buttons": [["Why?", "Why?"]]}}},
    ...                {"id": "s2", "type": "user_message", "metadata": {}}])
    [('s1', [['Why?', 'Why?']])]
    """
    out = []
    for step in steps:
        meta = step.get("metadata") or {}
        if isinstance(meta, str):
            meta = json.loads(meta or "{}")
        buttons = (meta.get(META_KEY) or {}).get("buttons") if isinstance(meta, Mapping) else None
        if step.get("type") == "assistant_message" and buttons:
            out.append((str(step["id"]), [[str(a), str(b)] for a, b in buttons]))
    return out
