"""A stub "LLM" that answers like the offline engine, for end-to-end tests of the LLM mode.

`OfflineReplay` is a callable reply for `StubLLM.queue`: it reads the request the real
`ChatOpenAI` sent, finds the question in it and answers as a perfect model would, using the
offline engine's own reading — the intent, a `Reading` naming the model, measure,
dimensions, values and period the offline planner chose, and for the streamed answer the
reference (offline) answer the writer prompt carries. Run through the LLM graph, every
figure must then equal the offline engine's (and the gold SQL's), which proves the LLM
path plans, executes and words answers correctly, not merely that it falls back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openai_stub import Reply, structured, text

from agents.planner import dimension_words, make_plans
from agents.question import read_question
from agents.selector import has_subject
from agents.values import value_index
from whizzy.warehouse.reader import open_warehouse


def empty_reading(**overrides: Any) -> dict[str, Any]:
    """A `Reading` payload with every field present (the schema is strict)."""
    base = {"model": None, "measure": None, "extra_measures": [], "group_by": [],
            "filters": [], "period": None, "compare_period": None, "direction": None,
            "limit": None, "trend": False, "compare": False, "why": False,
            "reason": "replayed from the offline reading"}
    return {**base, **overrides}


def offline_ask(warehouse: Any, question: str):
    """The offline reader's `Ask` for a first question in a thread."""
    catalog = warehouse.catalog
    return read_question(question, as_of=warehouse.as_of, values=value_index(warehouse),
                         dimension_words=dimension_words(catalog),
                         fiscal_year_start_month=warehouse.fiscal_year_start_month,
                         has_subject=lambda words: has_subject(words, catalog))


def offline_reading(warehouse: Any, question: str, intent: str) -> dict[str, Any]:
    """What a perfect model would return for `question`: the offline planner's choice."""
    ask = offline_ask(warehouse, question)
    outcome, _ = make_plans(ask, warehouse, intent)
    if not outcome.plans:
        return empty_reading(reason="no catalog model answers this")
    model = outcome.notes.get("model") or outcome.plans[0].model
    main = next((p for p in outcome.plans if p.model == model), outcome.plans[0])
    names = main.measure_names
    meta = warehouse.catalog.models[model].answerable
    measure = outcome.notes.get("measure") or (names[0] if names else meta.measures[0].name)
    extra = [n for n in names if n != measure and meta.measure(n) is not None][:2]
    periods = ask.periods or ([ask.period] if ask.period else [])
    period = period_words(periods[0], warehouse) if periods else None
    compare = period_words(periods[1], warehouse) if len(periods) > 1 else None
    return empty_reading(
        model=model, measure=measure, extra_measures=extra, group_by=list(ask.group_by),
        filters=[{"dimension": m.dimension, "values": list(m.values)} for m in ask.values],
        period=period, compare_period=compare, direction=ask.direction, limit=ask.limit,
        trend=ask.trend, compare=ask.compare, why=ask.why)


def period_words(period: Any, warehouse: Any) -> str:
    """How a user (and so a model) would name `period`: "last quarter", "Q3 2026", ..."""
    from agents.periods import parse_period

    candidates = [period.kind.replace("_", " "), period.label, period.label.split(" (")[0]]
    for words in candidates:
        if parse_period(words, warehouse.as_of, warehouse.fiscal_year_start_month) == period:
            return words
    return period.label


def schema_name(body: dict[str, Any]) -> str | None:
    """The structured-output schema a request asks for (None for a plain completion)."""
    fmt = body.get("response_format") or {}
    if fmt.get("json_schema"):
        return fmt["json_schema"].get("name")
    tools = body.get("tools") or []
    return tools[0]["function"]["name"] if tools else None


def question_of(body: dict[str, Any]) -> str:
    """The user's question in a request built from prompts/*.md."""
    user = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    found = re.findall(r"^Question: (.*)$", user, re.M)
    return found[-1].strip() if found else user.strip()


def reference_of(body: dict[str, Any]) -> str:
    """The reference (offline) answer the writer prompt carries."""
    user = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    return user.split("Reference answer (correct figures, plain wording):", 1)[1].strip()


class OfflineReplay:
    """A stub reply that answers every request the way the offline engine would.

    Args:
        warehouse: the built warehouse the assistant runs on.
        intents: the offline intent per question (from an offline `Assistant`), or None to
            compute it with a fresh offline assistant.
        word: turns the reference answer into the LLM's answer (default: unchanged).
    """

    def __init__(self, warehouse: Path, *, word: Callable[[str], str] | None = None) -> None:
        from whizzy.assistant import Assistant

        self.path = warehouse
        self.offline = Assistant(warehouse, engine="offline")
        self.word = word or (lambda reference: reference)
        self.seen: list[str] = []

    def intent(self, question: str) -> str:
        return self.offline.ask(question, thread_id=f"replay-{len(self.seen)}")["intent"]

    def __call__(self, body: dict[str, Any]) -> Reply:
        name = schema_name(body)
        if name is None:  # the streamed answer
            self.seen.append("write")
            return text(self.word(reference_of(body)))
        question = question_of(body)
        self.seen.append(name)
        if name == "IntentOutput":
            return structured({"intent": self.intent(question), "reason": "replayed"})
        if name == "Reading":
            warehouse = open_warehouse(self.path)
            return structured(offline_reading(warehouse, question, self.intent(question)))
        return Reply("raw", content=json.dumps({"sql": "select 'refused' as refused",
                                                 "explanation": "replay writes no SQL"}))
