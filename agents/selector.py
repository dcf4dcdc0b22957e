"""Role 2 — selector: read the question into a query and rank the models that serve it.

The reading is the engine's (`agents.understanding`); which models serve it, and why, is
`agents.serving`: the model that can apply every part of the query wins, from the models'
``config.meta.whizzy`` blocks alone, so a documented model added to dbt competes on equal
terms.
"""

from __future__ import annotations

from langgraph.runtime import Runtime

from agents.context import Context
from agents.serving import candidate_of, rank_models
from agents.state import State
from agents.understanding import step_update, understand
from whizzy.warehouse.reader import user_text

#: How many ranked models are reported as "selected".
SELECTED = 3


def select_models(state: State, runtime: Runtime[Context]) -> dict:
    """Node: read the question into a query (the engine) and rank the models that serve it."""
    try:
        warehouse, query, step = understand(state, runtime)
    except Exception as exc:  # noqa: BLE001 - the answer reports it
        return {"error": user_text(exc)}
    ranked = rank_models(candidate_of(query, warehouse.fiscal_year_start_month),
                         warehouse.catalog) if query.model else []
    chosen = ([query.model] if query.model else []) + [c.model for c in ranked
                                                       if c.model != query.model]
    reasons = {c.model: "; ".join(c.reasons) or "serves the question" for c in ranked}
    return {
        # the reading says whether it is a figure, records or the briefing
        "intent": query.intent.value,
        "models": chosen[:SELECTED],
        "model_reasons": {m: reasons.get(m, "serves the question") for m in chosen[:SELECTED]},
        "query": query.to_state(),
        **step_update(step),
    }
