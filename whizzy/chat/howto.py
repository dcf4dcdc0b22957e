"""The one "How I got this" step under an answer: understanding, every query's SQL, timings.

The graph's nodes each finish with an update (`whizzy.chat.steps.step_view` turns one into a
title and a body); the chat shows them together in one collapsed step under the answer, so
the answer, its picture and its table come first. Every query the answer stands on is in it,
the deals-behind query included (it runs in the fusion node, not the SQL executor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from whizzy.chat.markup import code_block_text, md_text
from whizzy.chat.steps import NODE_TITLES, StepView, format_ms

#: The step's name (plain words: Chainlit asks /avatars/<name>, which refuses punctuation).
HOW_TITLE = "How I got this"

#: Nodes whose bodies say what the question was understood to ask.
_UNDERSTANDING = ("classify_intent", "select_models", "plan_query", "fuse_results")

#: What each query's purpose is called in the step.
_PURPOSES = {"main": "the figure", "records": "the deals behind it",
             "previous": "the period before (the change on the card)",
             "series": "by period (the picture's trend)",
             "labels": "the labels asked beside the share"}


def query_title(index: int, result: Mapping[str, Any]) -> str:
    """A query's heading: its number, what it is for, the model, rows and time.

    >>> query_title(2, {"purpose": "records", "model": "fct_opportunity", "row_count": 12,
    ...                 "elapsed_ms": 4.2})
    'Query 2 · the deals behind it · fct_opportunity · 12 rows · 4 ms'
    >>> query_title(1, {"purpose": "main", "row_count": 1, "truncated": True})
    'Query 1 · the figure · 1 row (cut at the row limit)'
    """
    bits = [f"Query {index}"]
    purpose = result.get("purpose")
    if purpose:
        bits.append(_PURPOSES.get(str(purpose), str(purpose)))
    if result.get("model"):
        bits.append(str(result["model"]))
    n = result.get("row_count")
    if isinstance(n, int):
        rows = f"{n:,} row{'s' if n != 1 else ''}"
        bits.append(rows + (" (cut at the row limit)" if result.get("truncated") else ""))
    if result.get("elapsed_ms") is not None:
        bits.append(format_ms(result["elapsed_ms"]))
    if result.get("error"):
        bits.append("failed")
    return " · ".join(bits)


def how_i_got_this(views: Sequence[StepView], results: Sequence[Mapping[str, Any]],
                   total_ms: float | None = None) -> str:
    r"""The body of the one step: understanding, then each query's SQL, then the timings.

    >>> views = [StepView(node="classify_intent", title="intent classifier: analytics · 2 ms",
    ...                   body="Intent: **analytics**")]
    >>> text = how_i_got_this(views, [{"purpose": "records", "sql": "select 1", "row_count": 1}],
    ...                       total_ms=9.6)
    >>> print(text)  # doctest: +NORMALIZE_WHITESPACE
    **Understanding**
    <BLANKLINE>
    *Intent classifier:* Intent: **analytics**
    <BLANKLINE>
    **Queries**
    <BLANKLINE>
    Query 1 · the deals behind it · 1 row
    <BLANKLINE>
    ```sql
    select 1
    ```
    <BLANKLINE>
    **Timings**
    <BLANKLINE>
    intent classifier 2 ms · total 10 ms
    """
    parts = ["**Understanding**"]
    for view in views:
        if view.node in _UNDERSTANDING and view.body:
            name = NODE_TITLES.get(view.node, view.node)
            parts.append(f"*{md_text(name[:1].upper() + name[1:])}:* {view.body}")
    queries = [r for r in results if r.get("sql")]
    parts.append("**Queries**")
    if not queries:
        parts.append("No SQL was run.")
    for i, r in enumerate(queries, start=1):
        parts.append(md_text(query_title(i, r)))
        parts.append(f"```sql\n{code_block_text(r['sql'])}\n```")
        if r.get("error"):
            parts.append(f"Failed: {md_text(r['error'])}")
    timings = [f"{NODE_TITLES.get(v.node, v.node)} {v.title.rsplit(' · ', 1)[-1]}"
               for v in views if v.title.endswith(" ms")]
    if total_ms is not None:
        timings.append(f"total {format_ms(total_ms)}")
    if timings:
        parts += ["**Timings**", md_text(" · ".join(timings))]
    return "\n\n".join(parts)


def deals_step_name(rows: int) -> str:
    """The name of the collapsed step holding the deals behind an answer.

    Plain words and digits only: Chainlit asks /avatars/<name> and refuses punctuation.

    >>> deals_step_name(1), deals_step_name(1250)
    ('The deal behind this answer', 'The 1250 deals behind this answer')
    """
    return "The deal behind this answer" if rows == 1 else f"The {rows} deals behind this answer"
