"""The LLM engine: `agents.engine.Engine` through a model, falling back to the offline result.

`LLMEngine` holds the settings and one `LLMClient`. Each protocol method gets the offline
result, tries the model, and returns a `Step` with the model's result — or the offline one
and a fallback record when anything fails (nothing here raises):

- `classify`: structured `IntentOutput`; the rules that refuse hostile, empty or over-long
  input run first and are final (the node never asks the engine then).
- `read`: structured `Reading`, checked against the catalog into the typed `Query`
  (`agents.llm.reading`); when the model finds no catalog model for an analytics question,
  a gated free-SQL query (`agents.llm.freesql`).
- `word`: the answer streamed and grounded in the results (`agents.llm.writer`).

Failure kinds that mean the endpoint is unusable (timeout, rate limit, connection...) make
the later steps of the same turn skip the model: no second timeout to wait for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.contract import Intent, Query, Reason
from agents.engine import FREE_SQL_NOTE, IntentDecision, Step
from agents.llm.catalog_text import render_catalog
from agents.llm.client import LLMClient
from agents.llm.freesql import FreeSql, explain_on, write_sql
from agents.llm.prompts import load_prompt, persona_text
from agents.llm.reading import describe_query, to_query
from agents.llm.schemas import IntentOutput, Reading
from agents.llm.settings import LLMSettings
from agents.llm.writer import write_answer_llm
from agents.reader import apply_defaults
from whizzy.core.errors import LLMUnavailableError, WhizzyError
from whizzy.warehouse.catalog import Catalog

log = logging.getLogger("whizzy.llm")

#: Past turns shown to the LLM.
HISTORY_TURNS = 3
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
#: Failure kinds that mean the endpoint is unusable right now (see the module doc).
UNAVAILABLE_KINDS = frozenset({"timeout", "rate_limit", "server_error", "http_error",
                               "connection", "config"})


@dataclass
class Outcome:
    """Usage records and fallbacks of one step, as plain dicts for the state."""

    usage: list[dict[str, Any]] = field(default_factory=list)
    fallbacks: list[dict[str, Any]] = field(default_factory=list)

    def step(self, value: Any) -> Step:
        """A `Step` carrying `value` and these records."""
        return Step(value, list(self.usage), list(self.fallbacks))


def history_text(history: Sequence[dict[str, Any]], turns: int = HISTORY_TURNS) -> str:
    r"""The last turns of a thread, short.

    >>> history_text([{"question": "win rate?", "answer": "31.3%."}])
    'Q: win rate?\nA: 31.3%.'
    >>> history_text([])
    '(none)'
    """
    lines = []
    for turn in list(history)[-turns:]:
        lines.append(f"Q: {str(turn.get('question', ''))[:300]}")
        lines.append(f"A: {str(turn.get('answer', ''))[:300]}")
    return "\n".join(lines) or "(none)"


def topics_text(catalog: Catalog | None) -> str:
    """One line per answerable model: its label and synonyms."""
    if catalog is None:
        return "(the catalog is not available)"
    lines = []
    for model in catalog.answerable[:60]:
        meta = model.answerable
        words = ", ".join(meta.synonyms[:5])
        lines.append(f"- {meta.label}" + (f" ({words})" if words else ""))
    return "\n".join(lines) or "(no answerable models)"


def failure_usage(error: BaseException) -> list[dict[str, Any]]:
    """The usage records an `LLMUnavailableError` carries (for the state), as dicts."""
    calls = getattr(error, "usage_calls", None)
    if calls:
        return [c.to_state() for c in calls]
    usage = getattr(error, "usage", None)
    return [usage.to_state()] if usage is not None else []


def fallback(node: str, error: BaseException, outcome: Outcome) -> None:
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


def is_down(fallbacks: Sequence[dict[str, Any]]) -> bool:
    """Whether an earlier step of the turn found the endpoint unusable.

    >>> is_down([{"node": "classify_intent", "kind": "timeout"}])
    True
    >>> is_down([{"node": "plan_query", "kind": "schema_invalid"}])
    False
    """
    return any(f.get("kind") in UNAVAILABLE_KINDS for f in fallbacks)


class LLMEngine:
    """`agents.engine.Engine` through an LLM, with the offline result as its net."""

    name = "llm"

    def __init__(self, settings: LLMSettings, *, client: LLMClient | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else LLMClient(settings)

    def __repr__(self) -> str:
        return f"LLMEngine({self.client!r})"

    @classmethod
    def for_settings(cls, settings: LLMSettings) -> LLMEngine:
        """One engine (and HTTP client) per distinct settings, reused across questions."""
        key = (settings.provider, settings.model, settings.base_url, settings.azure_endpoint,
               settings.azure_deployment, settings.timeout, settings.temperature,
               settings.retries, settings.backoff, settings.structured_method,
               settings.stream_usage,
               settings.api_key.get_secret_value() if settings.api_key else None)
        with _LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                engine = _ENGINES[key] = cls(settings)
            return engine

    # ------------------------------------------------------------------ the protocol

    def classify(self, question: str, *, offline: IntentDecision,
                 history: Sequence[dict[str, Any]], catalog: Any, persona: str,
                 fallbacks: Sequence[dict[str, Any]] = ()) -> Step[IntentDecision]:
        """The model's intent (its reason recorded), or the rules' when it fails."""
        outcome = Outcome()
        if is_down(fallbacks):
            return outcome.step(offline)
        try:
            messages = load_prompt("intent").messages(
                persona=persona_text(persona), topics=topics_text(catalog),
                history=history_text(history), question=question)
            out, usage = self.client.structured("classify_intent", messages, IntentOutput)
        except Exception as error:  # noqa: BLE001 - the rules' intent stands
            fallback("classify_intent", error, outcome)
            return outcome.step(offline)
        outcome.usage.append(usage.to_state())
        if out.intent == offline.intent.value:
            return outcome.step(offline)  # agreement: keep the rule's typed reason
        return outcome.step(IntentDecision(Intent(out.intent), Reason.LLM, out.reason,
                                           question=offline.question))

    def read(self, question: str, *, offline: Query, context: Any,
             history: Sequence[dict[str, Any]], persona: str, row_limit: int,
             fallbacks: Sequence[dict[str, Any]] = ()) -> Step[Query]:
        """The model's reading as a checked `Query` (or free SQL), else the offline one.

        A name nobody has, or one matching several people, is asked about: no model guesses
        past the question back.
        """
        outcome = Outcome()
        if is_down(fallbacks) or offline.clarify is not None:
            return outcome.step(offline)
        catalog = context.catalog
        try:
            messages = load_prompt("planner").messages(
                persona=persona_text(persona), as_of=context.as_of.isoformat(),
                catalog=render_catalog(catalog, ranked=[offline.model] if offline.model
                                       else None),
                history=history_text(history), question=question,
                offline_reading=describe_query(offline))
            reading, usage = self.client.structured("plan_query", messages, Reading)
            outcome.usage.append(usage.to_state())
            query = to_query(reading, offline, catalog, context.values, as_of=context.as_of,
                             fiscal_year_start_month=context.fiscal_year_start_month)
        except Exception as error:  # noqa: BLE001 - the offline query stands
            fallback("plan_query", error, outcome)
            return outcome.step(offline)
        if query is not None:
            return outcome.step(apply_defaults(query, context))
        if offline.intent != Intent.ANALYTICS:
            fallback("plan_query", LLMUnavailableError(
                f"the LLM found no model for a {offline.intent.value} question "
                f"({reading.reason})", kind="schema_invalid"), outcome)
            return outcome.step(offline)
        return self._free_sql(question, offline, context, row_limit, outcome)

    def word(self, question: str, *, reference: str, results: Sequence[dict[str, Any]],
             as_of: str | None, persona: str, on_token: Callable[[str], None] | None = None,
             fallbacks: Sequence[dict[str, Any]] = ()) -> Step[str]:
        """The streamed, grounded wording, or the offline answer with a note saying why."""
        outcome = Outcome()
        text = None
        usable = [r for r in results if not r.get("error")]
        if usable and not is_down(fallbacks):
            main = next((r for r in usable if r.get("purpose") in {"main", "trend", "records",
                                                                   "drivers"}), usable[0])
            try:
                text, usage = write_answer_llm(
                    self.client, question=question, persona=persona, as_of=as_of,
                    period=main.get("period_label"), results=usable, reference=reference,
                    on_token=on_token)
                outcome.usage.append(usage.to_state())
            except Exception as error:  # noqa: BLE001 - the offline answer stands
                fallback("write_answer", error, outcome)
                text = None
            if text:
                if main.get("truncated") and "row limit" not in text:
                    text += " (The result was cut at the row limit.)"
                if main.get("free_sql") and FREE_SQL_NOTE not in text:
                    text += f" {FREE_SQL_NOTE}"
        answer = text or reference
        note = fallback_note([*fallbacks, *outcome.fallbacks], answered_by_llm=bool(text))
        return outcome.step(f"{answer} {note}" if note else answer)

    # ------------------------------------------------------------------ free SQL

    def _free_sql(self, question: str, offline: Query, context: Any, row_limit: int,
                  outcome: Outcome) -> Step[Query]:
        """A gated, dry-run query when no catalog model fits an analytics question."""
        catalog = context.catalog
        warehouse = getattr(context, "warehouse", None)
        try:
            if warehouse is None:
                raise LLMUnavailableError("free SQL needs the warehouse file",
                                          kind="schema_invalid")
            result: FreeSql = write_sql(
                self.client, question=question, catalog=catalog,
                allowed=model_relations(catalog), explain=explain_on(warehouse),
                as_of=context.as_of.isoformat(), row_limit=row_limit,
                ranked=[offline.model] if offline.model else None)
        except Exception as error:  # noqa: BLE001 - the offline query stands
            fallback("plan_query", error, outcome)
            return outcome.step(offline)
        outcome.usage.extend(u.to_state() for u in result.usage)
        model = _first_model(result.sql, catalog) or offline.model
        return outcome.step(offline.model_copy(update={
            "free_sql": result.sql, "free_sql_explanation": result.explanation,
            "model": model, "unanswerable": None, "not_applied": []}))


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


_ENGINES: dict[tuple[Any, ...], LLMEngine] = {}
_LOCK = threading.Lock()
