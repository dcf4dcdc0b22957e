"""The streamed, grounded answer: the LLM words it, the facts decide what it may say.

The writer gets the query results (formatted the way answers show them) and the offline
engine's answer as a reference, and streams its text. Tokens are released to the reader a
sentence at a time, each sentence only after its numbers passed the grounding check
(`agents.llm.grounding`), so an invented figure is never shown; the first ungrounded
sentence stops the stream and the caller shows the offline answer instead.

>>> gate = SentenceGate(lambda s: "9" not in s)
>>> out = []
>>> for piece in ["Win rate ", "is 31.3%. ", "Next"]:
...     out += gate.feed(piece)
>>> out
['Win rate is 31.3%. ']
>>> gate.close()
['Next']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from agents.llm.client import LLMClient
from agents.llm.grounding import _NUMBER, Grounding, _figure, grounding, result_facts
from agents.llm.prompts import load_prompt, persona_text
from agents.llm.usage import CallUsage
from whizzy.core.errors import LLMUnavailableError
from whizzy.core.formatting import format_cell as show

#: Rows of each result shown to the writer.
FACT_ROWS = 15
#: Longest facts text (characters).
FACT_CHARS = 6_000
#: A sentence ends at . ! ? followed by whitespace, or at a newline.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class SentenceGate:
    """Buffers streamed text and releases whole sentences that pass `accept`."""

    def __init__(self, accept: Callable[[str], bool]) -> None:
        self.accept = accept
        self.buffer = ""

    def feed(self, piece: str) -> list[str]:
        """Add a piece of text; return the sentences now complete (accepted ones only).

        Raises:
            LLMUnavailableError: a complete sentence was not accepted.
        """
        self.buffer += piece
        released = []
        while (m := _SENTENCE_END.search(self.buffer)) is not None:
            sentence, self.buffer = self.buffer[: m.end()], self.buffer[m.end():]
            self._check(sentence)
            released.append(sentence)
        return released

    def close(self) -> list[str]:
        """Release what is left at the end of the stream."""
        rest, self.buffer = self.buffer, ""
        if rest.strip():
            self._check(rest)
            return [rest]
        return []

    def _check(self, sentence: str) -> None:
        if not self.accept(sentence):
            raise LLMUnavailableError(f"ungrounded sentence: {sentence.strip()[:200]}",
                                      kind="ungrounded")


def render_facts(results: Sequence[dict[str, Any]], *, rows: int = FACT_ROWS,
                 limit: int = FACT_CHARS) -> str:
    """Results as small text tables with values formatted as answers show them.

    >>> print(render_facts([{"purpose": "main", "description": "win rate by owner",
    ...     "period_label": "Q3 2026", "columns": ["owner", "win_rate"],
    ...     "rows": [["Ann", 0.4], ["Bo", 0.35]], "row_count": 2,
    ...     "units": {"win_rate": "percent"}}]))
    [main] win rate by owner (Q3 2026), 2 rows
    owner | win_rate
    Ann | 40.0%
    Bo | 35.0%
    """
    blocks = []
    for res in results:
        head = f"[{res.get('purpose', 'result')}] {res.get('description') or ''}".rstrip()
        if res.get("period_label"):
            head += f" ({res['period_label']})"
        if res.get("error"):
            blocks.append(f"{head}: query failed — {res['error']}")
            continue
        head += f", {res.get('row_count', len(res.get('rows') or []))} rows"
        units = res.get("units") or {}
        columns = list(res.get("columns") or [])
        lines = [head, " | ".join(columns)]
        for row in (res.get("rows") or [])[:rows]:
            values = row.values() if isinstance(row, dict) else row
            lines.append(" | ".join(show(v, units.get(c), c) for c, v in zip(columns, values,
                                                                            strict=False)))
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks) or "(no results)"
    return text if len(text) <= limit else text[:limit] + "\n…"


def facts_for(results: Sequence[dict[str, Any]], *, reference: str = "", as_of: str | None = None,
              period: str | None = None, extra: Iterable[object] = ()
              ) -> tuple[list[object], list[int]]:
    """Everything the answer may cite.

    That is the result cells, the reference answer's figures (which the offline engine
    computed from the same results), the period label and the as-of date.
    """
    import datetime as dt


    base, counts = result_facts(results)
    for res in results:
        base.extend(v for v in (res.get("period_label"), res.get("description")) if v)
    for m in _NUMBER.finditer(reference):
        value, _ = _figure(m)
        base.append(value if not m["pct"] else value / 100)
    base.append(reference)
    if as_of:
        try:
            base.append(dt.date.fromisoformat(as_of[:10]))
        except ValueError:
            base.append(as_of)
    if period:
        base.append(period)
    base.extend(extra)
    return base, counts


def check_answer(text: str, facts: list[object], counts: list[int], question: str) -> Grounding:
    """The grounding of a finished answer."""
    return grounding(text, facts, question=question, counts=counts)


def write_answer_llm(client: LLMClient, *, question: str, persona: str, as_of: str | None,
                     period: str | None, results: Sequence[dict[str, Any]], reference: str,
                     on_token: Callable[[str], None] | None = None,
                     node: str = "write_answer") -> tuple[str, CallUsage]:
    """Stream a grounded answer; returns its text and the call's usage.

    Raises:
        LLMUnavailableError: the call failed, or the text holds an ungrounded figure
            (kind ``ungrounded``; its reason names the figure).
    """
    facts, counts = facts_for(results, reference=reference, as_of=as_of, period=period)

    def accept(sentence: str) -> bool:
        return check_answer(sentence, facts, counts, question).ok

    gate = SentenceGate(accept)

    def released(piece: str) -> None:
        for sentence in gate.feed(piece):
            if on_token is not None:
                on_token(sentence)

    messages = load_prompt("responder").messages(
        persona=persona_text(persona), question=question, as_of=as_of or "unknown",
        period=period or "the period in the facts", facts=render_facts(results),
        reference=reference or "(none)",
    )
    try:
        text, usage = client.stream(node, messages, on_token=released)
        for sentence in gate.close():
            if on_token is not None:
                on_token(sentence)
    except LLMUnavailableError as error:
        if error.kind == "ungrounded":
            report = check_answer(str(error), facts, counts, question)
            if report.ungrounded:
                error.args = (report.reason,)
        raise
    text = text.strip()
    if not text:
        raise LLMUnavailableError("the LLM returned an empty answer", kind="malformed")
    report = check_answer(text, facts, counts, question)
    if not report.ok:  # belt and braces: the whole text, not only sentence by sentence
        raise LLMUnavailableError(report.reason, kind="ungrounded")
    return text, usage
