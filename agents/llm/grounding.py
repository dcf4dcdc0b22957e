"""Grounding: every number an LLM writes must come from the query result.

`grounding` reads the figures, dates and periods mentioned in a piece of text and checks
each against the facts of the turn — the result values, the period and as-of date, the
question itself. A figure is grounded when it is one of the values, or that value rounded
the way people write it (``0.3125`` → ``31.3%`` / ``31%``, ``1243210`` → ``$1.24M`` /
``$1.2M`` / ``$1,243,210``, ``42.36`` → ``42.4 days``), within 5% of it; signs may differ
("down 4.2 pts" for -0.042). A date or period is grounded when it overlaps a date or period
of the facts. Small ordinals and counts are grounded when they are the number of rows or
appear in the question ("top 5"). Anything else is ungrounded, and the caller then shows
the offline answer instead.

Every figure-like token counts, however it is written: number words ("one billion
dollars"), exponents (``$1e9``), digit groups split by underscores or thin spaces,
superscripts and other scripts' digits are first rewritten as plain digits
(`agents.llm.numberforms`), and digits glued to letters (``revenue1000000000``) are figures
too. A result string that holds a figure ("Acme 2000 Inc.") is taken out of the text only
where it stands whole, never as the start of a longer number.

>>> facts = [0.3125, 1243210, 42.36, "Healthcare", dt.date(2026, 9, 30)]
>>> grounding("Win rate was 31.3% on $1.24M of bookings.", facts).ok
True
>>> r = grounding("Win rate was 31.8% in Healthcare.", facts)
>>> r.ok, r.ungrounded
(False, ['31.8%'])
>>> grounding("Deals spent 42.4 days in stage in Q3 2026.", facts).ok
True
>>> grounding("Q1 2025 was better.", facts).ungrounded
['Q1 2025']
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from agents.llm.numberforms import plain_figures

#: Largest relative gap between a written figure and its value ("$1M" for $1.24M fails).
MAX_RELATIVE_ERROR = 0.05

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = [
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")),
    ("quarter_ymq", re.compile(r"\b(?P<y>\d{4})[- ]?Q(?P<q>[1-4])\b", re.I)),
    # the year after "Q3" is never the start of a figure: "Q3 35.7%" is Q3 and 35.7%
    ("quarter_qy", re.compile(r"\bQ(?P<q>[1-4])(?:\s*(?:of\s+)?(?:FY\s?)?'?(?P<y>\d{4}|\d{2})"
                              r"(?![.,]\d|\s?%|\s?percent))?\b", re.I)),
    ("month_day", re.compile(_MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?\b",
                             re.I)),
    ("month_year", re.compile(_MONTH + r",?\s+(?P<y>\d{4})\b", re.I)),
    ("fiscal_year", re.compile(r"\bFY\s?'?(?P<y>\d{4}|\d{2})\b", re.I)),
]
_NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+−])?(?P<cur>\$|USD\s?|€|£)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?(?P<suffix>thousand|million|billion|trillion|bn|mn|tn|[kKmMbB])(?![A-Za-z]))?"
    r"(?P<ordinal>st|nd|rd|th)?"
    r"(?P<pct>\s?(?:%|percent\b|per cent\b|pct\b|pts\b|pt\b|percentage points?\b|pp\b))?"
    r"(?![A-Za-z0-9_])"
)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9,
          "bn": 1e9, "billion": 1e9, "tn": 1e12, "trillion": 1e12}
#: Digits the figure reader did not take (glued to letters: "revenue1000000000", "9x").
_STRAY = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class Grounding:
    """What the check found: the mentions it checked and those it could not ground."""

    checked: list[str] = field(default_factory=list)
    ungrounded: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every mention is grounded."""
        return not self.ungrounded

    @property
    def reason(self) -> str:
        """A sentence for logs and the answer's note.

        >>> Grounding(["7%"], ["7%"]).reason
        'the LLM wrote 7%, which is not in the query result'
        """
        if self.ok:
            return "every figure is in the query result"
        shown = ", ".join(self.ungrounded[:3])
        return f"the LLM wrote {shown}, which {'is' if len(self.ungrounded) == 1 else 'are'} " \
               "not in the query result"


# ---------------------------------------------------------------------------- spans


def _year(text: str | None, default: int | None = None) -> int | None:
    if not text:
        return default
    value = int(text)
    return value + 2000 if value < 100 else value


def _quarter_span(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    return start, _month_end(dt.date(year, 3 * quarter, 1))


def _month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _mention_span(kind: str, m: re.Match[str]) -> tuple[dt.date, dt.date] | int | None:
    """The date range a date mention covers; an int (quarter number) when it has no year."""
    groups = m.groupdict()
    try:
        if kind == "iso":
            day = dt.date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
            return day, day
        if kind in ("quarter_ymq", "quarter_qy"):
            year = _year(groups.get("y"))
            if year is None:
                return int(groups["q"])
            return _quarter_span(year, int(groups["q"]))
        if kind == "month_day":
            month = _MONTHS[groups["month"].lower().rstrip(".")]
            year = _year(groups.get("y"))
            if year is None:
                return -month  # a month without a year: matched by month number
            day = dt.date(year, month, int(groups["d"]))
            return day, day
        if kind == "month_year":
            month = _MONTHS[groups["month"].lower().rstrip(".")]
            start = dt.date(int(groups["y"]), month, 1)
            return start, _month_end(start)
        if kind == "fiscal_year":
            year = _year(groups["y"])
            return dt.date(year - 1, 1, 1), dt.date(year, 12, 31)  # fiscal years may start early
    except (ValueError, KeyError):
        return None
    return None


def fact_spans(facts: Iterable[object]) -> list[tuple[dt.date, dt.date]]:
    """Date ranges named by the facts: dates themselves, and periods written in strings.

    >>> fact_spans([dt.date(2026, 11, 15), "2026-Q3", 5])
    [(datetime.date(2026, 11, 15), datetime.date(2026, 11, 15)), \
(datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))]
    """
    spans: list[tuple[dt.date, dt.date]] = []
    for fact in facts:
        if isinstance(fact, dt.datetime):
            spans.append((fact.date(), fact.date()))
        elif isinstance(fact, dt.date):
            spans.append((fact, fact))
        elif isinstance(fact, str):
            for kind, pattern in _DATE_PATTERNS:
                for m in pattern.finditer(fact):
                    span = _mention_span(kind, m)
                    if isinstance(span, tuple):
                        spans.append(span)
    return spans


def _date_grounded(span: tuple[dt.date, dt.date] | int, allowed: list[tuple[dt.date, dt.date]],
                   strings: list[str], mention: str) -> bool:
    if isinstance(span, int):
        if span > 0:  # "Q3" with no year
            return any(_overlaps(_quarter_span(lo.year, span), (lo, hi)) for lo, hi in allowed) \
                or any(re.search(rf"\bQ{span}\b", s, re.I) for s in strings)
        month = -span  # "Nov 15" with no year
        return any(lo.month <= month <= hi.month or hi.year > lo.year for lo, hi in allowed)
    if any(_overlaps(span, other) for other in allowed):
        return True
    return any(mention.lower() in s.lower() for s in strings)


def _overlaps(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


# ---------------------------------------------------------------------------- numbers


def _numbers(facts: Iterable[object]) -> list[float]:
    found = []
    for fact in facts:
        if isinstance(fact, bool) or fact is None:
            continue
        if isinstance(fact, int | float | Decimal):
            value = float(fact)
            if not math.isnan(value) and not math.isinf(value):
                found.append(value)
    return found


def _figure(m: re.Match[str]) -> tuple[float, float]:
    """The value a number mention stands for, and half its last shown digit."""
    digits = m["num"].replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    scale = _SCALE.get((m["suffix"] or "").lower(), 1.0)
    value = float(digits) * scale
    half = 0.5 * (10 ** -decimals) * scale
    return value, half


def _close(value: float, half: float, fact: float, *, fine: bool = False) -> bool:
    """`value` (shown to ±`half`) is `fact` rounded; coarse roundings must stay within 5%.

    `fine` marks a percentage shown with a decimal (the offline format), which is a
    rounding whatever its relative gap (``0.1%`` for 0.0005).
    """
    gap = abs(abs(value) - abs(fact))
    if gap > half + 1e-9 * max(1.0, abs(fact)):
        return False
    return fine or gap <= MAX_RELATIVE_ERROR * abs(fact) + 1e-12


def _number_grounded(m: re.Match[str], numbers: list[float], counts: set[int]) -> bool:
    value, half = _figure(m)
    if m["ordinal"]:  # "2nd": a rank within the rows shown
        return value.is_integer() and 1 <= value <= max(counts, default=0)
    percent = bool(m["pct"])
    candidates = [(value, half, False)]
    if percent:
        candidates.append((value / 100, half / 100, "." in m["num"]))
    for v, h, fine in candidates:
        if any(_close(v, h, fact, fine=fine) for fact in numbers):
            return True
    if not m["cur"] and not percent and value.is_integer() and int(value) in counts:
        return True
    return False


# ---------------------------------------------------------------------------- the check


def grounding(text: str, facts: Iterable[object], *, question: str = "",
              counts: Iterable[int] = ()) -> Grounding:
    """Check every figure and date in `text` against `facts` (pure; see the module doc).

    Args:
        text: what the LLM wrote.
        facts: values of the turn — result cells (numbers, strings, dates), the period's
            start/end and label, the as-of date.
        question: the user's question (numbers in it, such as "top 5", are grounded).
        counts: small integers that may be written as such (row counts).

    >>> grounding("The top 3 reps are Ann (40%) and Bo (35%).", [0.4, 0.35, "Ann", "Bo"],
    ...           counts=[3]).ok
    True
    >>> grounding("Acme 2000 Inc. has $84.3K open.", ["Acme 2000 Inc.", 84250]).ok
    True
    >>> grounding("Pipeline is $1M.", [1243210]).ungrounded
    ['$1M']
    >>> grounding("Win rate fell 4.2 pts.", [-0.042]).ok
    True
    >>> grounding("As of Nov 15, 2026.", [dt.date(2026, 11, 15)]).ok
    True
    >>> grounding("Before that: Q3 2026 35.7%, Q2 2026 29.1%.", [0.357, 0.291, "2026",
    ...           "2026-Q3", "2026-Q2"]).ok
    True
    >>> grounding("In Q3 35.7% closed.", [0.357, "2026-Q3"]).checked
    ['Q3', '35.7%']
    >>> grounding("Revenue was one billion dollars ($1e9).", [1243210]).ungrounded
    ['1 billion', '$1 billion']
    """
    facts = list(facts)
    text = plain_figures(text)
    strings = [plain_figures(f) for f in facts if isinstance(f, str) and f.strip()]
    numbers = _numbers(facts)
    allowed_counts = set(int(c) for c in counts)
    for q in _NUMBER.finditer(plain_figures(question or "")):
        value, _ = _figure(q)
        if value.is_integer():
            allowed_counts.add(int(value))
        numbers.append(value)
    spans = fact_spans(facts)

    result = Grounding()
    masked = text
    # Names and labels from the result may contain digits ("Acme 2000 Inc."): take them out.
    for name in sorted(strings, key=len, reverse=True):
        # names only: a bare year or number ("2026") is a fact checked below, not a name
        if any(ch.isdigit() for ch in name) and len(name) >= 3 and re.search(r"[A-Za-z]", name):
            # whole only: "Stage 1" must not hide the "1" of "Stage 1000000"
            masked = re.sub(rf"(?<![\w.,$]){re.escape(name)}(?![\w%]|[.,]\d)",
                            lambda mm: " " * len(mm.group()), masked, flags=re.I)
    # "72/100" writes a 0–100 score: the denominator is a format, not a figure.
    masked = re.sub(r"(?<=\d)\s?/\s?100\b", lambda mm: " " * len(mm.group()), masked)
    # Dates and periods next, so their digits are not read as figures.
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(masked):
            span = _mention_span(kind, m)
            if span is None:
                continue
            mention = text[m.start():m.end()]
            result.checked.append(mention)
            if not _date_grounded(span, spans, strings, mention):
                result.ungrounded.append(mention)
            masked = masked[:m.start()] + " " * (m.end() - m.start()) + masked[m.end():]
    years = {y for lo, hi in spans for y in range(lo.year, hi.year + 1)}
    for m in _NUMBER.finditer(masked):
        mention = text[m.start():m.end()].strip()
        result.checked.append(mention)
        value, _ = _figure(m)
        is_year = (value.is_integer() and 1900 <= value <= 2100 and not m["cur"]
                   and not m["pct"] and not m["suffix"] and "," not in m["num"])
        if is_year and int(value) in years:
            continue
        if not _number_grounded(m, numbers, allowed_counts):
            result.ungrounded.append(mention)
    rest = _NUMBER.sub(lambda mm: " " * len(mm.group()), masked)
    for m in _STRAY.finditer(rest):
        result.checked.append(m.group())
        if not _stray_grounded(m.group(), numbers, allowed_counts):
            result.ungrounded.append(m.group())
    return result


def _stray_grounded(digits: str, numbers: list[float], counts: set[int]) -> bool:
    """A bare number glued to letters: a value of the facts, or a count.

    >>> _stray_grounded("1000000000", [1243210.0], {3}), _stray_grounded("3", [], {3})
    (False, True)
    """
    value = float(digits)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    half = 0.5 * 10 ** -decimals
    if value.is_integer() and int(value) in counts:
        return True
    return any(_close(value, half, fact) for fact in numbers)


def result_facts(results: Iterable[dict[str, object]], *, extra: Iterable[object] = ()
                 ) -> tuple[list[object], list[int]]:
    """Flatten query results (``{"rows": [...], ...}`` dicts) into facts and row counts.

    >>> result_facts([{"rows": [["Ann", 0.4], ["Bo", 0.35]], "row_count": 2}],
    ...              extra=["Q3 2026"])
    (['Ann', 0.4, 'Bo', 0.35, 'Q3 2026'], [2])
    """
    facts: list[object] = []
    counts: list[int] = []
    for res in results:
        rows = res.get("rows") or []
        for row in rows:  # type: ignore[union-attr]
            values = row.values() if isinstance(row, dict) else row
            facts.extend(values)  # type: ignore[arg-type]
        counts.append(len(rows))  # type: ignore[arg-type]
    facts.extend(extra)
    return facts, counts
