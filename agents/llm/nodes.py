"""The LLM side of the graph nodes, each with the offline result as its net.

The nodes in `agents/` compute their offline result first (it is cheap: tens of
milliseconds) and, when the run's engine is ``llm``, hand it to the function here, which
tries the LLM and returns either the LLM's result or the offline one with a fallback
record. Nothing here raises: every failure becomes a `fallback` entry (logged, shown in
``--json`` and noted in the answer).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.llm.engine import LLMEngine, engine_for, failure_usage, offline_is_final
from agents.llm.settings import LLMSettings, load_llm_settings
from agents.values import value_index
from whizzy.core.errors import LLMUnavailableError, WhizzyError

log = logging.getLogger("whizzy.llm")

#: How the answer words each failure kind (the full reason goes to the log and ``--json``).
FALLBACK_PHRASES = {
    "timeout": "it timed out",
    "rate_limit": "it is rate limited",
    "server_error": "its endpoint returned an error",
    "http_error": "its endpoint refused the request",
    "connection": "its endpoint could not be reached",
    "malformed": "its output was not valid JSON",
    "schema_invalid": "its output did not fit the catalog",
    "ungrounded": "its wording cited a figure that is not in the results",
    "unsafe_sql": "it wrote a query the SQL gate refused",
    "sql_error": "its query did not run",
    "refused": "it declined",
    "config": "it is not configured",
}


@dataclass
class LLMOutcome:
    """What an LLM step adds to the state: usage records and fallbacks."""

    usage: list[dict[str, Any]] = field(default_factory=list)
    fallbacks: list[dict[str, Any]] = field(default_factory=list)

    def update(self) -> dict[str, Any]:
        """The state keys this outcome sets (appended by their reducers)."""
        return {"usage": self.usage, "llm_fallbacks": self.fallbacks}


def fallback(node: str, error: BaseException, outcome: LLMOutcome) -> None:
    """Record (and log) that `node` fell back to the offline engine."""
    kind = getattr(error, "kind", None) or "error"
    reason = str(error) if isinstance(error, WhizzyError) else \
        f"{type(error).__name__}: {str(error)[:300]}"
    log.warning("LLM fallback in %s (%s): %s", node, kind, reason)
    outcome.fallbacks.append({"node": node, "kind": kind, "reason": reason})
    outcome.usage.extend(failure_usage(error))


def fallback_note(fallbacks: Sequence[dict[str, Any]], *, answered_by_llm: bool) -> str:
    """The sentence an answer carries when the LLM failed somewhere in the turn.

    >>> fallback_note([{"node": "write_answer", "kind": "timeout"}], answered_by_llm=False)
    '(The LLM was unavailable — it timed out — so the offline engine answered.)'
    >>> fallback_note([], answered_by_llm=True)
    ''
    """
    if not fallbacks:
        return ""
    phrase = FALLBACK_PHRASES.get(fallbacks[-1].get("kind", ""), "it failed")
    if answered_by_llm:
        return f"(Part of this answer comes from the offline engine: the LLM was unavailable — " \
               f"{phrase}.)"
    return f"(The LLM was unavailable — {phrase} — so the offline engine answered.)"


#: Failure kinds that mean the endpoint is unusable right now: once one happened in a turn,
#: the later nodes of that turn do not call the LLM again (no second timeout to wait for).
UNAVAILABLE_KINDS = frozenset({"timeout", "rate_limit", "server_error", "http_error",
                               "connection", "config"})


def engine_of(context: Any) -> LLMEngine | None:
    """The LLM engine of a run's `Context` (None when the run is offline).

    Raises:
        LLMUnavailableError: ``llm`` was asked for but is not configured (kind ``config``).
    """
    if getattr(context, "engine", "offline") != "llm":
        return None
    settings: LLMSettings | None = getattr(context, "llm", None)
    if settings is None:
        try:
            settings = load_llm_settings("llm", model=getattr(context, "model_name", None))
        except WhizzyError as error:
            raise LLMUnavailableError(str(error), kind="config") from None
    return engine_for(settings)


def is_down(fallbacks: Sequence[dict[str, Any]]) -> bool:
    """Whether an earlier node of the turn found the endpoint unusable.

    >>> is_down([{"node": "classify_intent", "kind": "timeout"}])
    True
    >>> is_down([{"node": "plan_query", "kind": "schema_invalid"}])
    False
    """
    return any(f.get("kind") in UNAVAILABLE_KINDS for f in fallbacks)


def turn_engine(context: Any, node: str, fallbacks: Sequence[dict[str, Any]] = ()
                ) -> tuple[LLMEngine | None, LLMOutcome]:
    """The engine a node of this turn should use, or None (offline run, or LLM down).

    A configuration problem becomes a fallback record (the node answers offline).
    """
    outcome = LLMOutcome()
    if getattr(context, "engine", "offline") != "llm" or is_down(fallbacks):
        return None, outcome
    try:
        return engine_of(context), outcome
    except Exception as error:  # noqa: BLE001 - the offline engine answers
        fallback(node, error, outcome)
        return None, outcome


def merge(*outcomes: LLMOutcome) -> LLMOutcome:
    """One outcome holding the records of several."""
    merged = LLMOutcome()
    for outcome in outcomes:
        merged.usage.extend(outcome.usage)
        merged.fallbacks.extend(outcome.fallbacks)
    return merged


def attempt(node: str, outcome: LLMOutcome, fn: Callable[[], Any]) -> Any | None:
    """Run an LLM step; on any failure record a fallback and return None."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 - the offline result stands
        fallback(node, error, outcome)
        return None


def classify(engine: LLMEngine, *, question: str, history: Sequence[dict[str, Any]],
             offline_intent: str, offline_reason: str, catalog: Any, persona: str
             ) -> tuple[str, str, LLMOutcome]:
    """classify_intent: the LLM's intent, unless the offline rules refused the input."""
    outcome = LLMOutcome()
    if offline_is_final(offline_intent, offline_reason):
        return offline_intent, offline_reason, outcome
    step = attempt("classify_intent", outcome, lambda: engine.classify(
        question, history=history, catalog=catalog, persona=persona))
    if step is None:
        return offline_intent, offline_reason, outcome
    outcome.usage.extend(u.to_state() for u in step.usage)
    if step.value.intent == offline_intent:
        # Agreement: keep the offline reason, which the responder reads ("asks what a
        # term means" gets a definition, "not about ..." gets examples).
        return offline_intent, offline_reason, outcome
    return step.value.intent, f"LLM: {step.value.reason}", outcome


def plan(engine: LLMEngine, *, question: str, history: Sequence[dict[str, Any]], ask: Any,
         warehouse: Any, intent: str, persona: str, row_limit: int
         ) -> tuple[Any, list[Any], Any, LLMOutcome]:
    """plan_query: the LLM's reading planned by the offline planner (or free SQL).

    Free SQL is written only when the LLM, having seen the catalog, finds no model whose
    measures and dimensions answer an analytics question.

    Returns ``(outcome, ranked, ask, llm)``; `outcome` is None when the offline plans
    should stand (a failure's reason is in ``llm.fallbacks``).
    """
    from agents.plan import QueryPlan
    from agents.planner import (
        Outcome,
        analytics_plans,
        briefing_plans,
        lookup_plans,
        plan_kind,
    )
    from agents.selector import rank_models

    llm = LLMOutcome()
    catalog = warehouse.catalog
    ranked = rank_models(ask, catalog, intent=intent)
    step = attempt("plan_query", llm, lambda: engine.read(
        question, ask=ask, catalog=catalog, ranked=[c.name for c in ranked],
        values=value_index(warehouse), as_of=warehouse.as_of,
        fiscal_year_start_month=warehouse.fiscal_year_start_month, history=history,
        persona=persona))
    if step is None:
        return None, ranked, ask, llm
    llm.usage.extend(u.to_state() for u in step.usage)
    new_ask, choice, reading = step.value
    if choice is None:
        if intent != "analytics":
            fallback("plan_query", LLMUnavailableError(
                f"the LLM found no model for a {intent} question ({reading.reason})",
                kind="schema_invalid"), llm)
            return None, ranked, ask, llm
        free = attempt("plan_query", llm, lambda: engine.free_sql(
            question, catalog=catalog, allowed=model_relations(catalog), warehouse=warehouse.path,
            as_of=warehouse.as_of, row_limit=row_limit, ranked=[c.name for c in ranked]))
        if free is None:
            return None, ranked, ask, llm
        llm.usage.extend(u.to_state() for u in free.usage)
        model = _first_model(free.value.sql, catalog) or (ranked[0].name if ranked else "")
        free_plan = QueryPlan(
            model=model, purpose="main", selections=[], description=free.value.explanation,
            notes={"free_sql": free.value.sql, "llm_reason": reading.reason})
        return Outcome(plans=[free_plan], notes={"model": model, "free_sql": True}), \
            ranked, new_ask, llm
    ordered = [choice, *[c for c in ranked if c.name != choice.name]]
    kind = plan_kind(new_ask, intent)
    if kind == "briefing":
        outcome = briefing_plans(new_ask, warehouse, ordered)
    elif kind == "lookup":
        outcome = lookup_plans(new_ask, warehouse, ordered)
    else:
        outcome = analytics_plans(new_ask, warehouse, [choice])
    if outcome.unanswerable:
        fallback("plan_query", LLMUnavailableError(
            f"the LLM's reading could not be planned: {outcome.unanswerable}",
            kind="schema_invalid"), llm)
        return None, ranked, ask, llm
    outcome.notes.setdefault("llm_reason", reading.reason)
    return outcome, ordered, new_ask, llm


def model_relations(catalog: Any) -> set[tuple[str, str]]:
    """What free SQL may read: the catalog's models only (not the raw source tables)."""
    return {(m.schema.lower(), (m.alias or m.name).lower()) for m in catalog.models.values()}


def _first_model(sql: str, catalog: Any) -> str | None:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    for table in tree.find_all(exp.Table):
        if table.name in catalog.models:
            return table.name
    return None


def write(engine: LLMEngine, *, question: str, persona: str, as_of: str | None,
          results: Sequence[dict[str, Any]], reference: str,
          on_token: Callable[[str], None] | None = None) -> tuple[str | None, LLMOutcome]:
    """write_answer: the LLM's grounded wording, or None (the offline answer stands)."""
    llm = LLMOutcome()
    usable = [r for r in results if not r.get("error")]
    if not usable:
        return None, llm
    main = next((r for r in usable if r.get("purpose") in {"main", "trend", "records",
                                                           "drivers"}), usable[0])
    step = attempt("write_answer", llm, lambda: engine.write(
        question, persona=persona, as_of=as_of, period=main.get("period_label"),
        results=usable, reference=reference, on_token=on_token))
    if step is None:
        return None, llm
    llm.usage.extend(u.to_state() for u in step.usage)
    return step.value, llm
