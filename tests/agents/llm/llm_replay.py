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

from agents.llm.reading import reading_of
from agents.reader import read
from agents.understanding import read_context
from whizzy.warehouse.reader import open_warehouse


def empty_reading(**overrides: Any) -> dict[str, Any]:
    """A `Reading` payload with every field present (the schema is strict)."""
    base = {"model": None, "measures": [], "group_by": [], "filters": [], "period": None,
            "compare_period": None, "compare_members": None, "direction": None, "limit": None,
            "trend": False, "why": False, "records": False, "order_by": None,
            "order_desc": True, "pick": None, "share_of": [],
            "reason": "replayed from the offline reading"}
    return {**base, **overrides}


def offline_query(warehouse: Any, question: str):
    """The offline reader's `Query` for a first question in a thread."""
    return read(question, read_context(warehouse, None))


def offline_reading(warehouse: Any, question: str, intent: str = "analytics"
                    ) -> dict[str, Any]:
    """What a perfect model would return for `question`: the offline engine's query."""
    query = offline_query(warehouse, question)
    if query.model is None or query.clarify or query.unanswerable:
        return empty_reading(reason="no catalog model answers this")
    reading = reading_of(query).model_dump(mode="json")
    if query.window is not None:
        reading["period"] = period_words(query.window, warehouse)
    if query.compare_window is not None:
        reading["compare_period"] = period_words(query.compare_window, warehouse)
    return {**reading, "reason": "replayed from the offline reading"}


def period_words(window: Any, warehouse: Any) -> str | None:
    """How a user (and so a model) would name the window: "last quarter", "Q3 2026", ..."""
    from agents.periods import parse_period

    if not window.text:
        return None  # a default window: the reading names none, and gets the same default
    for words in (window.text, window.kind.replace("_", " "), window.label,
                  window.label.split(" (")[0]):
        found = parse_period(words, warehouse.as_of, warehouse.fiscal_year_start_month)
        if found is not None and (found.start, found.end) == (window.start, window.end):
            return words
    return window.text


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
