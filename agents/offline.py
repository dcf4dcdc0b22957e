"""The offline engine: the rule-based intent and reading are final; the answer is as written.

No LLM code runs and nothing goes over the network. Deterministic: the same question on the
same warehouse gets the same query and the same words.

>>> from agents.contract import Intent, Query, Reason
>>> from agents.engine import IntentDecision
>>> engine = OfflineEngine()
>>> engine.classify("hi", offline=IntentDecision(Intent.SMALLTALK, Reason.GREETING),
...                 history=[], catalog=None, persona="revops").value.intent
<Intent.SMALLTALK: 'smalltalk'>
>>> engine.word("q", reference="It is 3.", results=[], as_of=None, persona="revops").value
'It is 3.'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agents.contract import Query
from agents.engine import IntentDecision, Step


class OfflineEngine:
    """`agents.engine.Engine` with the offline results as they are."""

    name = "offline"

    def classify(self, question: str, *, offline: IntentDecision,
                 history: Sequence[dict[str, Any]], catalog: Any, persona: str,
                 fallbacks: Sequence[dict[str, Any]] = ()) -> Step[IntentDecision]:
        """The rule-based intent."""
        return Step(offline)

    def read(self, question: str, *, offline: Query, context: Any,
             history: Sequence[dict[str, Any]], persona: str, row_limit: int,
             fallbacks: Sequence[dict[str, Any]] = ()) -> Step[Query]:
        """The rule-based reading."""
        return Step(offline)

    def word(self, question: str, *, reference: str, results: Sequence[dict[str, Any]],
             as_of: str | None, persona: str, on_token: Callable[[str], None] | None = None,
             fallbacks: Sequence[dict[str, Any]] = ()) -> Step[str]:
        """The answer as the responder wrote it."""
        return Step(reference)
