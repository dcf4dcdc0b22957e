"""Graph state (house style 3): an input state, the full state and an output state.

Values stored in the state are plain JSON-friendly data (dicts, lists, strings), so any
checkpointer (in memory, SQLite) can persist a thread and resume it after a restart. Typed
objects (`Query`, `QueryPlan`) are rebuilt from that data where a node needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

#: How many past turns a thread keeps for follow-up questions.
HISTORY_TURNS = 20


def add_results(left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None
                ) -> list[dict[str, Any]]:
    """Append query results within a turn; ``None`` starts a new turn with an empty list.

    >>> add_results([{"a": 1}], [{"b": 2}])
    [{'a': 1}, {'b': 2}]
    >>> add_results([{"a": 1}], None)
    []
    """
    if right is None:
        return []
    return [*(left or []), *right]


#: First item of a per-turn list update that starts the turn afresh (see `add_turn_items`).
NEW_TURN: dict[str, Any] = {"__new_turn__": True}


def add_turn_items(left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None
                   ) -> list[dict[str, Any]]:
    """Append per-turn records (LLM usage, fallbacks); `NEW_TURN` first starts a new turn.

    The first node of a turn must both reset the list and add its own records, so the reset
    is a marker at the head of its update rather than ``None``.

    >>> add_turn_items([{"a": 1}], [{"b": 2}])
    [{'a': 1}, {'b': 2}]
    >>> add_turn_items([{"a": 1}], [NEW_TURN, {"c": 3}])
    [{'c': 3}]
    >>> add_turn_items([{"a": 1}], None)
    []
    """
    if right is None:
        return []
    if right and right[0] == NEW_TURN:
        return [dict(r) for r in right[1:]]
    return [*(left or []), *right]


def add_turns(left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None
              ) -> list[dict[str, Any]]:
    """Append finished turns, keeping the last `HISTORY_TURNS`.

    >>> len(add_turns([{"q": i} for i in range(20)], [{"q": 20}]))
    20
    """
    return [*(left or []), *(right or [])][-HISTORY_TURNS:]


@dataclass(kw_only=True)
class InputState:
    """What a caller sends: one question."""

    question: str = ""


@dataclass(kw_only=True)
class OutputState:
    """What a caller gets back for one question."""

    question: str = ""
    intent: str = ""
    #: The question read: the typed query contract (`agents.contract.Query`) as data.
    query: dict[str, Any] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    model_reasons: dict[str, str] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)
    results: Annotated[list[dict[str, Any]], add_results] = field(default_factory=list)
    records: dict[str, Any] | None = None
    answer: str = ""
    chart: dict[str, Any] | None = None
    follow_ups: list[str] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    as_of_date: str | None = None
    error: str | None = None
    #: What the planner and fusion established (unanswerable reasons, notes).
    facts: dict[str, Any] = field(default_factory=dict)
    #: The engine that ran the turn (``offline`` or ``llm``).
    engine: str = "offline"
    #: One record per LLM call of the turn: node, tokens in/out, latency, attempts, error.
    usage: Annotated[list[dict[str, Any]], add_turn_items] = field(default_factory=list)
    #: Where the LLM failed this turn and the offline engine answered: node, kind, reason.
    llm_fallbacks: Annotated[list[dict[str, Any]], add_turn_items] = field(default_factory=list)


@dataclass(kw_only=True)
class State(OutputState):
    """Everything the nodes share during a turn, plus the thread's memory (`history`)."""

    intent_reason: str = ""
    #: What the reader reads when the rules cut part of the question off (else the question).
    read_question: str = ""
    history: Annotated[list[dict[str, Any]], add_turns] = field(default_factory=list)
