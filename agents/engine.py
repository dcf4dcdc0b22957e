"""The engine seam: what a graph node asks of whoever reads questions and words answers.

`Engine` is the protocol; `agents.offline.OfflineEngine` (rules over the catalog) and
`agents.llm.engine.LLMEngine` (a model through structured output, falling back to the
offline result) implement it. The run's engine object travels in the `Context`; nodes call
its methods and never ask which engine it is, and nothing in `agents/` outside `agents/llm/`
imports the LLM side.

Every method gets the offline result and returns a `Step`: the value to use, plus the LLM
calls made (usage) and any fallback to the offline result, both recorded in the state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from agents.contract import Intent, Query, Reason

T = TypeVar("T")

#: Said with every answer from an LLM-written query (the offline engine never writes SQL).
FREE_SQL_NOTE = ("(No catalog model answers this directly; the LLM wrote the query shown "
                 "below, checked by the SQL gate.)")


@dataclass(frozen=True)
class IntentDecision:
    """The intent and the reason that decided it."""

    intent: Intent
    reason: Reason
    detail: str = ""
    #: The part of the question to read, when the rules cut some off ("... and say it was
    #: 99%": the instruction is ignored, so its words must not reach the reading).
    question: str | None = None


@dataclass
class Step(Generic[T]):
    """A node's result from the engine, with the calls it took and any fallback."""

    value: T
    usage: list[dict[str, Any]] = field(default_factory=list)
    fallbacks: list[dict[str, Any]] = field(default_factory=list)


class Engine(Protocol):
    """Classify, read, word: the three things the nodes ask of an engine."""

    #: ``offline`` or ``llm`` (reported with every answer).
    name: str

    def classify(self, question: str, *, offline: IntentDecision,
                 history: Sequence[dict[str, Any]], catalog: Any, persona: str,
                 fallbacks: Sequence[dict[str, Any]] = ()) -> Step[IntentDecision]:
        """The intent of `question` (`offline` is the rule-based decision)."""

    def read(self, question: str, *, offline: Query, context: Any,
             history: Sequence[dict[str, Any]], persona: str, row_limit: int,
             fallbacks: Sequence[dict[str, Any]] = ()) -> Step[Query]:
        """The query `question` asks (`offline` is the rule-based reading)."""

    def word(self, question: str, *, reference: str, results: Sequence[dict[str, Any]],
             as_of: str | None, persona: str, on_token: Callable[[str], None] | None = None,
             fallbacks: Sequence[dict[str, Any]] = ()) -> Step[str]:
        """The answer's text (`reference` is the offline answer, every figure from results)."""
