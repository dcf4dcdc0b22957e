"""One reading per turn: the question, with the thread's previous query, becomes a `Query`.

The offline reading (`agents.reader`) is made first; the run's engine then returns the
query to use (the LLM engine may replace it; the offline engine keeps it). `select_models`
reads once and stores the query in the state; `plan_query` takes it from there.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.context import Context
from agents.contract import DATA_INTENTS, Query
from agents.engine import Step
from agents.reader import read
from agents.reading import Context as ReadContext
from agents.state import State
from agents.values import value_index
from whizzy.warehouse.reader import Warehouse, open_warehouse


def previous_query(state: State) -> Query | None:
    """The query of the thread's last data question, for follow-ups.

    None after a briefing, a definition or small talk.
    """
    for turn in reversed(state.history):
        if turn.get("intent") in DATA_INTENTS and turn.get("query"):
            return Query.from_state(turn["query"])
        if turn.get("intent") in {"briefing", "help"}:
            return None
    return None


def read_context(warehouse: Warehouse, previous: Query | None) -> ReadContext:
    """What the reader needs from the warehouse."""
    return ReadContext(catalog=warehouse.catalog, values=value_index(warehouse),
                       as_of=warehouse.as_of,
                       fiscal_year_start_month=warehouse.fiscal_year_start_month,
                       previous=previous, warehouse=warehouse.path)


def understand(state: State, runtime: Runtime[Context]) -> tuple[Warehouse, Query,
                                                                 Step[Query] | None]:
    """The warehouse and the turn's query (read now, or as `select_models` stored it).

    The third value is the engine's step when the question was read now (its usage and
    fallbacks belong in the state), else None.
    """
    warehouse = open_warehouse(runtime.context.warehouse, runtime.context.manifest)
    if state.query:
        return warehouse, Query.from_state(state.query), None
    context = read_context(warehouse, previous_query(state))
    question = state.read_question or state.question
    offline = read(question, context)
    step = runtime.context.engine.read(
        question, offline=offline, context=context, history=state.history,
        persona=runtime.context.persona, row_limit=runtime.context.row_limit,
        fallbacks=state.llm_fallbacks)
    return warehouse, step.value, step


def step_update(step: Step[Any] | None) -> dict[str, Any]:
    """The state keys an engine step adds (usage and fallbacks, appended by reducers)."""
    if step is None:
        return {}
    return {"usage": list(step.usage), "llm_fallbacks": list(step.fallbacks)}
