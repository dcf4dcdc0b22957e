"""The state of one reading of a question, and what the reader and follow-ups share.

`Context` is what a reading needs besides the question; `Parse` is its working state (the
words, which of them are used, and what was found). `window_of` and `period_of` convert
between `agents.periods.Period` and the query contract's `Window`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agents.contract import Condition, NotApplied, Query, Window
from agents.periods import Period
from agents.values import ValueIndex, ValueMatch
from agents.vocabulary import Span
from whizzy.warehouse.catalog import Catalog


@dataclass
class Context:
    """What a reading needs besides the question."""

    catalog: Catalog
    values: ValueIndex
    as_of: dt.date
    fiscal_year_start_month: int = 1
    previous: Query | None = None
    #: The warehouse file (the LLM engine dry-runs its free SQL on it).
    warehouse: Path | None = None


@dataclass
class Parse:
    """The working state of one reading."""

    question: str
    words: list[str]
    raw: list[str]
    used: set[int] = field(default_factory=set)
    windows: list[tuple[Window, int]] = field(default_factory=list)
    values: list[ValueMatch] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    hints: list[Span] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    limit: int | None = None
    not_applied: list[NotApplied] = field(default_factory=list)
    #: The question names what to measure itself (a measure, "how many", "how long").
    explicit: bool = False
    #: Where each question starts, when one message asks several ("…? Which stage …").
    breaks: set[int] = field(default_factory=set)
    #: The base asked with no figure named ("how many deals?": count), else None.
    base_only: str | None = None
    #: Every flag the question read, including those its own measure carries ("only the
    #: overdue part": overdue, which a follow-up applies to the previous figure).
    flags: list[Condition] = field(default_factory=list)
    #: Days of the week a row's date must fall on ("lost on a Friday", "on weekends"): the
    #: ISO days and the words, applied to the date the question's period is on.
    weekdays: list[tuple[tuple[int, ...], str]] = field(default_factory=list)
    #: Where a flag said as a figure starts ("won $"): a word before it does not name a
    #: kind of that figure, as one before a measure's own name would ("Clari forecast").
    flag_figures: set[int] = field(default_factory=set)
    #: Dimension words said as left out when blank ("skip the blank source"): no breakdown.
    emptied: set[tuple[int, int]] = field(default_factory=set)

    def take(self, start: int, end: int) -> None:
        """Mark the words at ``[start, end)`` as used."""
        self.used.update(range(start, end))

    def free(self, start: int, end: int) -> bool:
        """Whether none of the words at ``[start, end)`` is used yet."""
        return not any(i in self.used for i in range(start, end))

    def text(self, start: int, end: int) -> str:
        """The question's words at ``[start, end)`` as written (names keep their case)."""
        return " ".join(self.raw[start:end]) if len(self.raw) == len(self.words) else \
            " ".join(self.words[start:end])

    def lower(self, start: int, end: int) -> str:
        """The words at ``[start, end)`` in lower case (for bounds and flags)."""
        return " ".join(self.words[start:end])


def has(words: Sequence[str], *phrases: str) -> bool:
    """Whether `words` contain any of `phrases` as whole words.

    >>> has(["deals", "over", "due"], "over due", "late")
    True
    """
    joined = f" {' '.join(words)} "
    return any(f" {ph} " in joined for ph in phrases)


def describes_those(p: Parse, span: Span) -> bool:
    """A word describing the deals pointed back at ("those stuck ones"), not a thing asked.

    >>> p = Parse("q", ["total", "in", "those", "stuck", "ones"], [])
    >>> describes_those(p, type("S", (), {"start": 3, "end": 4})())
    True
    """
    words = p.words
    return span.start > 0 and words[span.start - 1] in {"those", "these", "the"} and \
        span.end < len(words) and words[span.end] in {"ones", "deals", "opps", "opportunities"}


def window_of(period: Period, text: str) -> Window:
    """The query window of `period`, as the question wrote it (`text`)."""
    return Window(start=period.start, end=period.end, label=period.label, grain=period.grain,
                  kind=period.kind, count=period.count, text=text)


def period_of(window: Window) -> Period:
    """The period a query window covers."""
    return Period(window.start, window.end, window.label, window.grain, window.kind,
                  window.count)
