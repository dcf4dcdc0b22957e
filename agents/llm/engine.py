"""The LLM engine: what each graph node asks the model, behind one object.

`LLMEngine` holds the settings and one `LLMClient`; each method serves one node and
returns its result with the `CallUsage` of every call made. Every method raises
`LLMUnavailableError` on any failure, so a node can always fall back to its offline twin:

- `classify` (classify_intent): structured `IntentOutput`; the offline rules that refuse
  hostile input run first and are final.
- `read` (plan_query): structured `Reading`, checked against the catalog and folded into
  the offline `Ask` (`agents.llm.reading`); the offline planner builds the plan.
- `free_sql` (plan_query, when no model fits): `agents.llm.freesql`.
- `write` (write_answer): streamed and grounded (`agents.llm.writer`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.llm.catalog_text import render_catalog
from agents.llm.client import LLMClient
from agents.llm.freesql import FreeSql, explain_on, write_sql
from agents.llm.prompts import load_prompt, persona_text
from agents.llm.reading import apply_reading, describe_ask
from agents.llm.schemas import IntentOutput, Reading
from agents.llm.settings import LLMSettings
from agents.llm.usage import CallUsage
from agents.llm.writer import write_answer_llm
from agents.question import Ask
from agents.values import ValueIndex
from whizzy.core.errors import LLMUnavailableError
from whizzy.warehouse.catalog import Catalog

#: Offline intent reasons that are final: hostile or invalid input never reaches the LLM.
FINAL_OFFLINE_REASONS = ("SQL", "injection", "instructions", "secrets", "change or move data",
                         "longer than", "empty question")
#: Past turns shown to the LLM.
HISTORY_TURNS = 3


@dataclass
class Step:
    """What one LLM step produced, with its calls' usage."""

    value: Any
    usage: list[CallUsage] = field(default_factory=list)
    note: str = ""


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


def offline_is_final(intent: str, reason: str) -> bool:
    """Whether the offline intent must stand (hostile, empty or over-long input).

    >>> offline_is_final("out_of_scope", "looks like SQL or an injection attempt")
    True
    >>> offline_is_final("out_of_scope", "not about the sales pipeline")
    False
    """
    return intent in {"out_of_scope", "help"} and any(r in reason for r in FINAL_OFFLINE_REASONS)


class LLMEngine:
    """The LLM side of every node (see the module doc)."""

    def __init__(self, settings: LLMSettings, *, client: LLMClient | None = None) -> None:
        self.settings = settings
        self.client = client if client is not None else LLMClient(settings)

    def __repr__(self) -> str:
        return f"LLMEngine({self.client!r})"

    def classify(self, question: str, *, history: Sequence[dict[str, Any]],
                 catalog: Catalog | None, persona: str) -> Step:
        """Intent of `question` (an `IntentOutput`)."""
        messages = load_prompt("intent").messages(
            persona=persona_text(persona), topics=topics_text(catalog),
            history=history_text(history), question=question)
        out, usage = self.client.structured("classify_intent", messages, IntentOutput)
        return Step(out, [usage])

    def read(self, question: str, *, ask: Ask, catalog: Catalog, ranked: Sequence[str],
             values: ValueIndex | None, as_of: dt.date, fiscal_year_start_month: int,
             history: Sequence[dict[str, Any]], persona: str
             ) -> Step:
        """The question read into catalog terms: ``Step(value=(ask, choice, reading))``.

        `choice` is None when the LLM says no model fits (free SQL may then be tried).
        """
        messages = load_prompt("planner").messages(
            persona=persona_text(persona), as_of=as_of.isoformat(),
            catalog=render_catalog(catalog, ranked=ranked), history=history_text(history),
            question=question, offline_reading=describe_ask(ask))
        reading, usage = self.client.structured("plan_query", messages, Reading)
        try:
            new_ask, choice = apply_reading(reading, ask, catalog, values, as_of=as_of,
                                            fiscal_year_start_month=fiscal_year_start_month)
        except LLMUnavailableError as error:
            usage.ok, usage.error, usage.kind = False, str(error), error.kind
            error.usage = usage  # type: ignore[attr-defined]
            raise
        return Step((new_ask, choice, reading), [usage], reading.reason)

    def free_sql(self, question: str, *, catalog: Catalog, allowed: Collection[tuple[str, str]],
                 warehouse: Path | None = None, explain: Callable[[str], None] | None = None,
                 as_of: dt.date, row_limit: int, ranked: Sequence[str] | None = None) -> Step:
        """A gated, dry-run query for a question no catalog plan fits (a `FreeSql`)."""
        if explain is None:
            if warehouse is None:
                raise ValueError("free_sql needs a warehouse or an explain function")
            explain = explain_on(warehouse)
        result: FreeSql = write_sql(self.client, question=question, catalog=catalog,
                                    allowed=allowed, explain=explain, as_of=as_of.isoformat(),
                                    row_limit=row_limit, ranked=ranked)
        return Step(result, list(result.usage), result.explanation)

    def write(self, question: str, *, persona: str, as_of: str | None, period: str | None,
              results: Sequence[dict[str, Any]], reference: str,
              on_token: Callable[[str], None] | None = None) -> Step:
        """A streamed answer whose every figure is in the results (text)."""
        text, usage = write_answer_llm(self.client, question=question, persona=persona,
                                       as_of=as_of, period=period, results=results,
                                       reference=reference, on_token=on_token)
        return Step(text, [usage])


def failure_usage(error: BaseException) -> list[dict[str, Any]]:
    """The usage records an `LLMUnavailableError` carries (for the state), as dicts."""
    calls = getattr(error, "usage_calls", None)
    if calls:
        return [c.to_state() for c in calls]
    usage = getattr(error, "usage", None)
    return [usage.to_state()] if usage is not None else []


_ENGINES: dict[tuple[Any, ...], LLMEngine] = {}
_LOCK = threading.Lock()


def engine_for(settings: LLMSettings) -> LLMEngine:
    """One engine (and HTTP client) per distinct settings, reused across questions."""
    key = (settings.provider, settings.model, settings.base_url, settings.azure_endpoint,
           settings.azure_deployment, settings.timeout, settings.temperature, settings.retries,
           settings.backoff, settings.structured_method, settings.stream_usage,
           settings.api_key.get_secret_value() if settings.api_key else None)
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = LLMEngine(settings)
        return engine
