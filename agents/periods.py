"""Periods people name in questions, resolved against the warehouse's as-of date.

Understands what `docs/metrics.md` lists: this/last/next quarter, ``Q3`` /
``Q3 2025`` / ``2025-Q3``, this/last/next month, QTD, MTD, YTD, "last N days/weeks/months/
quarters/years", a year, a month name, "since <date>". Quarters are calendar quarters unless
`fiscal_year_start_month` says otherwise. Every period is a closed date range
``[start, end]``.

>>> A = dt.date(2026, 11, 15)
>>> p = parse_period("win rate last quarter", A)
>>> p.start, p.end, p.label, p.grain
(datetime.date(2026, 7, 1), datetime.date(2026, 9, 30), 'Q3 2026', 'quarter')
>>> parse_period("bookings QTD", A).end
datetime.date(2026, 11, 15)
>>> parse_period("how are we doing", A) is None
True
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Literal

from agents import grammar
from whizzy.core.formatting import format_date, format_month

#: The time dimensions a model may split by, finest last.
TIME_BUCKETS = ("quarter", "month")

_SHORT = re.compile(r"\b(nxt|qtr|yr|mth|prev|lst)\b")
_SHORT_MAP = {"nxt": "next", "qtr": "quarter", "yr": "year", "mth": "month", "prev": "previous",
              "lst": "last"}


def _expand(text: str) -> str:
    """Shorthand to words, same length kept where possible ("nxt qtr")."""
    return _SHORT.sub(lambda m: _SHORT_MAP[m.group(1)], text)


def _coordinated(found: list[PeriodMatch], text: str, as_of: dt.date, fsm: int
                 ) -> list[PeriodMatch]:
    """"H1 and H2 of last fiscal year": the year named after the last part holds each part.

    >>> A = dt.date(2026, 11, 15)
    >>> [m.period.label for m in find_periods("h1 and h2 of last fiscal year", A)]
    ['H1 2025', 'H2 2025']
    >>> [m.period.label for m in find_periods("q1 vs q2 2025", A)]
    ['Q1 2025', 'Q2 2025']
    """
    out = list(found)
    for i in range(len(out) - 2, -1, -1):
        a, b = out[i], out[i + 1]
        head = text[a.start:a.end]
        gap = text[a.end:b.start].strip(" ,")
        part = _BARE_PART.match(text[b.start:b.end])
        if a.period.grain != b.period.grain or gap not in {"", "and", "vs", "versus", "or", "&",
                                                          "to", "against"} or \
                not _BARE_PART.fullmatch(head) or part is None or not part.group("tail"):
            continue
        again = find_periods(f"{head} {part.group('tail')}", as_of, fsm)
        if again and again[0].period.grain == a.period.grain:
            out[i] = PeriodMatch(again[0].period, a.start, a.end)
    return out


#: A half or quarter named without its year ("h1", "q3", "the second half"), and what follows.
_BARE_PART = re.compile(r"(?:the\s+)?(?:h[12]|q[1-4]|(?:first|second|1st|2nd)\s+half|"
                        r"(?:first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)"
                        r"(?P<tail>\s+.+)?")

Grain = Literal["day", "month", "quarter", "half", "year", "range"]

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1,
}
_MONTH_NAMES = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
#: Month words that are also ordinary words or first names: a month only with a year or a
#: preposition ("in May", "March 2026", "since jan").
_AMBIGUOUS_MONTHS = {"may", "march", "jan", "mar", "jun", "aug", "sep", "oct", "nov", "dec", "apr"}
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4, "last": 4, "final": 4}
_STEPS = {"last": -1, "previous": -1, "prior": -1, "past": -1, "next": 1, "coming": 1,
          "upcoming": 1, "following": 1}


@dataclass(frozen=True)
class Period:
    """A closed date range with a label people read ("Q3 2026", "Nov 2026", "QTD ...")."""

    start: dt.date
    end: dt.date
    label: str
    grain: Grain
    kind: str = "explicit"
    count: int = 1

    @property
    def days(self) -> int:
        """Number of days in the period.

        >>> Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31), "Q1 2026", "quarter").days
        90
        """
        return (self.end - self.start).days + 1


# ----------------------------------------------------------------------------- calendar maths


#: The bounds of the "all time" window: every row's date lies between them.
ALL_TIME_START = dt.date(1900, 1, 1)
ALL_TIME_END = dt.date(2999, 12, 31)

#: Roots of words that say a date or a span of time ("fortnightly", "midyear", "holidays"),
#: and the words that do without one.
_DATE_ROOTS = ("day", "week", "fortnight", "month", "quarter", "qtr", "year", "half", "halves")
_DATE_WORDS = frozenset({"today", "tonight", "ago", "since", "until", "till", "annual",
                         "annually", "qtd", "ytd", "mtd", "fiscal", "fy", "h1", "h2", "q1", "q2",
                         "q3", "q4", "yr", "mth", "eom", "eoq", "eoy", "eod", "yoy", "qoq",
                         "mom", "wow"})


def is_date_word(word: str) -> bool:
    """Whether `word` says a date or a span of time (what a period is read from).

    >>> [is_date_word(w) for w in ("Friday", "weeks", "sept", "fortnightly", "brought")]
    [True, True, True, True, False]
    """
    word = word.lower().strip(".,")
    return word in _DATE_WORDS or word in _MONTH_NAMES or word.rstrip("s") in WEEKDAYS or \
        any(root in word for root in _DATE_ROOTS)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months, clamped to the month's last day.

    >>> add_months(dt.date(2026, 1, 31), 1), add_months(dt.date(2026, 3, 15), -3)
    (datetime.date(2026, 2, 28), datetime.date(2025, 12, 15))
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def month_start(day: dt.date) -> dt.date:
    """First day of `day`'s month."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """Last day of `day`'s month.

    >>> month_end(dt.date(2024, 2, 10))
    datetime.date(2024, 2, 29)
    """
    return add_months(month_start(day), 1) - dt.timedelta(days=1)


def quarter_start(day: dt.date, fiscal_year_start_month: int = 1) -> dt.date:
    """First day of the (fiscal) quarter holding `day`.

    >>> quarter_start(dt.date(2026, 11, 15)), quarter_start(dt.date(2026, 11, 15), 2)
    (datetime.date(2026, 10, 1), datetime.date(2026, 11, 1))
    >>> quarter_start(dt.date(2026, 1, 15), 2)
    datetime.date(2025, 11, 1)
    """
    offset = (day.month - fiscal_year_start_month) % 3
    return add_months(month_start(day), -offset)


def quarter_end(day: dt.date, fiscal_year_start_month: int = 1) -> dt.date:
    """Last day of the (fiscal) quarter holding `day`."""
    return add_months(quarter_start(day, fiscal_year_start_month), 3) - dt.timedelta(days=1)


def fiscal_year_start(day: dt.date, fiscal_year_start_month: int = 1) -> dt.date:
    """First day of the fiscal year holding `day`.

    >>> fiscal_year_start(dt.date(2026, 11, 15)), fiscal_year_start(dt.date(2026, 1, 15), 2)
    (datetime.date(2026, 1, 1), datetime.date(2025, 2, 1))
    """
    offset = (day.month - fiscal_year_start_month) % 12
    return add_months(month_start(day), -offset)


def fiscal_year_of(day: dt.date, fiscal_year_start_month: int = 1) -> int:
    """The fiscal year number: the calendar year in which that fiscal year ends.

    >>> fiscal_year_of(dt.date(2026, 11, 15)), fiscal_year_of(dt.date(2026, 3, 1), 2)
    (2026, 2027)
    """
    return add_months(fiscal_year_start(day, fiscal_year_start_month), 11).year


def quarter_number(day: dt.date, fiscal_year_start_month: int = 1) -> int:
    """The (fiscal) quarter number 1–4 of `day`.

    >>> quarter_number(dt.date(2026, 11, 15)), quarter_number(dt.date(2026, 2, 1), 2)
    (4, 1)
    """
    return (day.month - fiscal_year_start_month) % 12 // 3 + 1


def quarter_key(day: dt.date, fiscal_year_start_month: int = 1) -> str:
    """The warehouse's quarter label ``2026-Q4`` for the quarter holding `day`.

    >>> quarter_key(dt.date(2026, 11, 15))
    '2026-Q4'
    """
    fy = fiscal_year_of(day, fiscal_year_start_month)
    return f"{fy}-Q{quarter_number(day, fiscal_year_start_month)}"


def quarter_period(
    fiscal_year: int, number: int, fiscal_year_start_month: int = 1, *, kind: str = "explicit"
) -> Period:
    """The period of quarter `number` of `fiscal_year`.

    >>> quarter_period(2025, 3).start, quarter_period(2025, 3).end
    (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30))
    """
    first_month = dt.date(fiscal_year, fiscal_year_start_month, 1)
    if fiscal_year_start_month != 1:  # the fiscal year is named after the year it ends in
        first_month = add_months(first_month, -12)
    start = add_months(first_month, 3 * (number - 1))
    return _quarter(start, fiscal_year_start_month, kind)


def _quarter(start: dt.date, fsm: int, kind: str) -> Period:
    key = quarter_key(start, fsm)
    end = quarter_end(start, fsm)
    year = key[:4] if fsm == 1 else f"FY{key[:4]}"
    return Period(start, end, f"Q{key[-1]} {year}", "quarter", kind)


def half_start(day: dt.date, fiscal_year_start_month: int = 1) -> dt.date:
    """First day of the (fiscal) half-year holding `day`.

    >>> half_start(dt.date(2026, 11, 15)), half_start(dt.date(2026, 3, 1), 2)
    (datetime.date(2026, 7, 1), datetime.date(2026, 2, 1))
    """
    offset = (day.month - fiscal_year_start_month) % 6
    return add_months(month_start(day), -offset)


def half_period(fiscal_year: int, number: int, fiscal_year_start_month: int = 1, *,
                kind: str = "explicit") -> Period:
    """Half `number` (1 or 2) of `fiscal_year`: ``H2 2025``, or ``H1 FY2027`` with a fiscal year.

    >>> p = half_period(2027, 1, 2)
    >>> p.start, p.end, p.label
    (datetime.date(2026, 2, 1), datetime.date(2026, 7, 31), 'H1 FY2027')
    """
    start = add_months(quarter_period(fiscal_year, 1, fiscal_year_start_month).start,
                       6 * (number - 1))
    end = add_months(start, 6) - dt.timedelta(days=1)
    year = str(fiscal_year) if fiscal_year_start_month == 1 else f"FY{fiscal_year}"
    return Period(start, end, f"H{number} {year}", "half", kind)


def _half_of(day: dt.date, fsm: int, kind: str) -> Period:
    start = half_start(day, fsm)
    number = 1 if start == fiscal_year_start(day, fsm) else 2
    return half_period(fiscal_year_of(day, fsm), number, fsm, kind=kind)


def _month(start: dt.date, kind: str) -> Period:
    return Period(start, month_end(start), format_month(start), "month", kind)


def _year(fiscal_year: int, fsm: int, kind: str) -> Period:
    start = quarter_period(fiscal_year, 1, fsm).start
    end = add_months(start, 12) - dt.timedelta(days=1)
    label = str(fiscal_year) if fsm == 1 else f"FY{fiscal_year}"
    return Period(start, end, label, "year", kind)


def _range_label(start: dt.date, end: dt.date) -> str:
    if start.year == end.year:
        return f"{format_date(start)[:-6]} – {format_date(end)}"
    return f"{format_date(start)} – {format_date(end)}"


def to_date(period: Period, as_of: dt.date, kind: str, name: str) -> Period:
    """`period` cut at the as-of date ("quarter to date").

    >>> p = to_date(quarter_period(2026, 4), dt.date(2026, 11, 15), "qtd", "QTD")
    >>> p.label, p.end
    ('QTD (Oct 1 – Nov 15, 2026)', datetime.date(2026, 11, 15))
    """
    end = min(period.end, as_of)
    return replace(period, end=end, kind=kind, label=f"{name} ({_range_label(period.start, end)})")


def overall_window(as_of: dt.date, fiscal_year_start_month: int = 1) -> Period:
    """The "overall" window of metrics.md: trailing four full quarters plus the current QTD.

    >>> w = overall_window(dt.date(2026, 11, 15))
    >>> w.start, w.end
    (datetime.date(2025, 10, 1), datetime.date(2026, 11, 15))
    >>> w.label
    'the last four full quarters plus QTD (Oct 1, 2025 – Nov 15, 2026)'
    """
    start = add_months(quarter_start(as_of, fiscal_year_start_month), -12)
    label = f"the last four full quarters plus QTD ({_range_label(start, as_of)})"
    return Period(start, as_of, label, "range", "overall", 5)


def shift(period: Period, steps: int, fiscal_year_start_month: int = 1, *,
          unit: str | None = None, kind: str = "explicit") -> Period:
    """The `unit` (default: the period's grain) `steps` away from `period`.

    Moving back starts from the period's first unit, forward from its last; a range with no
    grain moves by its own length.

    >>> shift(quarter_period(2026, 4), 1).label
    'Q1 2027'
    >>> shift(quarter_period(2026, 3), -1, unit="month").label
    'Jun 2026'
    >>> shift(Period(dt.date(2026, 11, 1), dt.date(2026, 11, 10), "x", "range"), -1).label
    'Oct 22 – Oct 31, 2026'
    """
    fsm = fiscal_year_start_month
    unit = unit or period.grain
    base = period.start if steps < 0 else period.end
    if unit == "quarter":
        return _quarter(add_months(quarter_start(base, fsm), 3 * steps), fsm, kind)
    if unit == "month":
        return _month(add_months(month_start(base), steps), kind)
    if unit == "year":
        return _year(fiscal_year_of(base, fsm) + steps, fsm, kind)
    length = dt.timedelta(days=period.days)
    start = period.start + steps * length
    end = start + length - dt.timedelta(days=1)
    return Period(start, end, _range_label(start, end), "range", kind)


def previous(period: Period, fiscal_year_start_month: int = 1) -> Period:
    """The period of the same length just before `period` (for "compared with ...").

    >>> previous(quarter_period(2026, 3)).label
    'Q2 2026'
    >>> previous(Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30), "Nov 2026", "month")).label
    'Oct 2026'
    """
    whole = period.count == 1 and period.kind not in {"qtd", "mtd", "ytd"}
    if whole and period.grain == "half":  # "H1 vs the half before that": the last half
        return _half_of(add_months(period.start, -6), fiscal_year_start_month, "previous")
    unit = period.grain if whole and period.grain in {"quarter", "month", "year"} else "range"
    return shift(period, -1, fiscal_year_start_month, unit=unit, kind="previous")


_GRAIN_MONTHS = {"quarter": 3, "month": 1}


def cuts_grain(time_grain: str, period: Period, fiscal_year_start_month: int = 1) -> bool:
    """True when rows of `time_grain` cannot be cut to `period` (one month of a quarter model).

    Quarters and years are fiscal (the dbt models' `quarter_start` macro), months calendar.

    >>> march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "Mar 2026", "month")
    >>> cuts_grain("quarter", march), cuts_grain("month", march), cuts_grain("day", march)
    (True, False, False)
    >>> q1_fy27 = Period(dt.date(2026, 2, 1), dt.date(2026, 4, 30), "Q1 FY2027", "quarter")
    >>> cuts_grain("quarter", q1_fy27), cuts_grain("quarter", q1_fy27, 2)
    (True, False)
    """
    months = _GRAIN_MONTHS.get(time_grain)
    if months is None or period.grain == "year" or period.kind in {
            "qtd", "mtd", "ytd", "overall", "trend", "all"}:
        return False
    first = fiscal_year_start_month if months > 1 else 1
    after = period.end + dt.timedelta(days=1)
    return not (period.start.day == 1 and (period.start.month - first) % months == 0
                and after.day == 1 and (after.month - first) % months == 0)


def widen_to_grain(time_grain: str, period: Period | None,
                   fiscal_year_start_month: int = 1) -> Period | None:
    """A period a coarser model cannot cut, widened to whole units, its label saying so.

    >>> p = widen_to_grain("quarter",
    ...                    Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), "Mar 2026", "month"))
    >>> p.start, p.end
    (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    >>> p.label
    'Q1 2026 (the quarter holding Mar 2026: this figure is by quarter)'
    >>> widen_to_grain("quarter", Period(dt.date(2026, 4, 1), dt.date(2026, 6, 30), "Q2 2026",
    ...                                  "quarter"), 2).label
    'Feb 1 – Jul 31, 2026 (the quarters holding Q2 2026: this figure is by quarter)'
    """
    fsm = fiscal_year_start_month
    if period is None or not cuts_grain(time_grain, period, fsm):
        return period
    first = shift(Period(period.start, period.start, "", "day"), 0, fsm, unit=time_grain)
    last = shift(Period(period.end, period.end, "", "day"), 0, fsm, unit=time_grain)
    if first == last:
        name, holding = first.label, f"the {time_grain} holding"
    else:
        name, holding = _range_label(first.start, last.end), f"the {time_grain}s holding"
    return Period(first.start, last.end,
                  f"{name} ({holding} {period.label}: this figure is by {time_grain})",
                  first.grain if first == last else "range", "explicit")


# ----------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class PeriodMatch:
    """A period found in a question, with the character span it came from."""

    period: Period
    start: int
    end: int


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _WORD_NUMBERS[text]


def _year_of(text: str | None, default: int) -> int:
    if not text:
        return default
    year = int(text)
    return year + 2000 if year < 100 else year


_MONTH_RE = "|".join(sorted(_MONTH_NAMES, key=len, reverse=True))
_NUM_RE = r"\d{1,3}|" + "|".join(_WORD_NUMBERS)
_PREP = r"(?:in|for|of|since|during|through|until|from|to|by|before|after|on)"

_YEAR_RE = r"(?:fy\s*)?(?P<y>\d{4}|'?\d{2}\b)"
#: "of last year", "of this fiscal year": the fiscal year a quarter is named in.
_YREL = (r"\s+of\s+(?P<yrel>this|last|next|previous|prior|the current|the last|the next|"
         r"the previous)\s+(?:fiscal\s+)?year\b")
_PATTERNS: list[tuple[str, str]] = [
    ("alltime", r"\b(?:of\s+|over\s+|in\s+)?all[\s-]?time\b|\bever\b|\blifetime\b|"
                r"\bsince\s+(?:inception|day\s+one|the\s+(?:very\s+)?(?:beginning|start)"
                r"(?!\s+of))\b|\bin\s+(?:our\s+)?history\b"),
    # "calendar Q4 2025", "Q4 2025 (calendar)": January-based quarters, whatever the fiscal year
    ("calq", r"(?:\bcalendar\s+(?:quarter\s+)?q(?P<q>[1-4])\s*(?:of\s+)?(?P<y>\d{4})\b|"
             r"\bq(?P<q2>[1-4])\s*(?P<y2>\d{4})\s+\(?calendar\b\)?)"
             # ("- the calendar quarter, not the fiscal one": said again, in other words)
             r"(?:\s*[,–—-]?\s*(?:the\s+)?calendar\s+(?:quarter|one))?(?:,?\s*not\s+(?:the\s+)?"
             r"fiscal\s+(?:one|quarter))?"),
    ("calyear", r"\bcalendar\s+(?:year\s+)?(?:of\s+)?(?P<y>\d{4})\b|"
                r"\b(?P<y2>\d{4})\s+calendar\s+year\b|\bcy\s*(?P<y3>\d{4})\b"),
    # "closing by the end of the quarter" (EOQ): the close dates of the whole quarter, as
    # three code-blind writers read it; "between now and the end" is the rest of it
    ("byend", r"\b(?:by|before|for)\s+(?:the\s+)?end\s+of\s+(?:the|this)\s+(?P<unit>quarter|"
              r"month|year|fiscal year)\b"),
    ("rest", r"\b(?:between (?P<tmr>tomorrow) and|from (?P<tmr2>tomorrow) (?:to|until|through|"
             r"till)|between (?:now|today) and|from (?:now|today) (?:to|until|through|till)|until|"
             r"till|through)\s+(?:(?:the\s+)?(?:end|last\s+day)\s+of\s+(?:the|this)\s+(?P<unit>"
             r"quarter|month|year|fiscal year)\b|(?:the\s+)?(?P<unit3>quarter|month|year)"
             r"[\s-]end\b)|"
             r"\b(?:rest|remainder) of (?:the |this )?(?P<unit2>quarter|month|"
             r"year|fiscal year)\b"),
    # "by this time last year", "last year to date", "YTD last year": the same days of the
    # unit before its to-date period
    ("lastxtd", r"\b(?:(?:by|at|as of|to|until)\s+(?:this|the same|that)|(?:the\s+)?same|this)\s+"
                r"(?:time|point|date|day|stage)\s+(?:of\s+|in\s+)?last\s+(?:fiscal\s+)?"
                r"(?P<unit>quarter|month|year)\b|\b(?:last|previous|prior)\s+(?:fiscal\s+)?"
                r"(?P<unit2>quarter|month|year)[\s-]+to[\s-]+date\b|\b(?P<unit3>q|m|y)td\s+"
                r"(?:of\s+|for\s+)?(?:last|the previous|the prior)\s+(?:fiscal\s+)?"
                r"(?:quarter|month|year)\b|\bprior\s+(?P<unit4>q|m|y)td\b"),
    ("sameyear", r"\b(?:the\s+)?same\s+(?P<unit>quarter|month|half)\s+(?:of\s+)?(?:last|"
                 r"the previous|the prior|the|a|one)\s+year(?:\s+(?:ago|earlier|before|prior))?\b"),
    # "the quarter we just closed", "the month that just ended": the last whole one
    ("justdone", r"\b(?:the\s+)?(?P<unit>quarter|qtr|month|year|fiscal year|half)\s+"
                 r"(?:that\s+|which\s+)?(?:we\s+)?(?:just\s+|recently\s+)(?:closed|ended|"
                 r"finished|completed|wrapped(?:\s+up)?)\b|\b(?:the\s+)?(?:most\s+recent|last)"
                 r"\s+(?:completed|closed|finished|full|complete)\s+(?P<unit2>quarter|qtr|month|"
                 r"year|fiscal year|half)\b|\b(?:the\s+)?(?:most\s+recent|latest)\s+(?P<unit3>"
                 r"quarter|qtr|month|year|fiscal year|half)\b"),
    # "the first month of this quarter": that whole month
    ("monthofq", r"\b(?:the\s+)?(?P<o>first|second|third|last|1st|2nd|3rd)\s+month\s+of\s+"
                 r"(?P<rel>this|the|last|next|previous|prior|the current|the last|the next|"
                 r"the previous)\s+(?:fiscal\s+)?(?:quarter|qtr)\b"),
    # "since the beginning of last quarter": from its start to the as-of date
    ("sincelast", r"\b(?:since|from)\s+the\s+(?:start|beginning)\s+of\s+(?:the\s+)?"
                  r"(?P<rel>last|previous|prior)\s+(?:fiscal\s+)?(?P<unit>quarter|month|year|half)\b"),
    # "the 12 months ending last month", "trailing twelve months", "TTM": the last N full months
    ("ttm", rf"\b(?:the\s+)?(?:(?P<n>{_NUM_RE}|twelve)\s+(?:full\s+)?months\s+(?:ending|"
            r"up\s+to|through|thru)\s+(?:the\s+end\s+of\s+)?last\s+month\b|\btrailing\s+"
            rf"(?P<n2>{_NUM_RE}|twelve)\s+(?:full\s+)?months\b|\bttm\b)"),
    ("qyrel", r"\b(?:q(?P<q>[1-4])|(?:the\s+)?(?P<o>first|second|third|fourth|1st|2nd|3rd|4th|"
              r"final|last)"
              rf"\s+quarter){_YREL}"),
    ("ago", rf"\b(?:the\s+)?(?:fiscal\s+)?(?P<unit>quarter|month|year|half)\s+before\s+last\b|"
            rf"\b(?:the\s+)?(?P<unitn>quarter|month|year|half)\s+after\s+next\b|\b(?P<n>"
            rf"{_NUM_RE})\s+(?P<unit2>quarters?|months?|years?|halves|half[- ]years?)\s+ago\b|"
            # "the same quarter two years ago": this quarter, that many years back
            rf"\bthe\s+same\s+(?:fiscal\s+)?(?P<unit3>quarter|month|half)\s+(?P<n3>{_NUM_RE}|a)\s+"
            r"years?\s+(?:ago|back|earlier|before)\b"),
    ("half", rf"\b(?:(?P<rel>this|current|last|previous|prior|next|the)\s+)?(?:(?P<h>h[12])|"
             rf"(?P<o>first|second|1st|2nd)\s+half(?:[- ]year)?)(?:\s+(?:of\s+)?(?:(?P<yrel>"
             rf"this|last|next|the current|the last|the next)\s+(?:fiscal\s+)?year|{_YEAR_RE}))?"),
    ("relhalf", r"\b(?P<rel>this|current|last|previous|prior|next|the last|the past)\s+"
                r"(?:fiscal\s+)?half(?:[- ]year)?\b"),
    # "a close date more than 6 months from today", "over 90 days out": after that day
    ("beyond", rf"\b(?:more\s+than|over|beyond|further\s+out\s+than|later\s+than)\s+"
               rf"(?P<n>{_NUM_RE})\s+(?P<unit>days?|weeks?|months?|years?)\s+(?:from\s+"
               r"(?:today|now)|out|away|ahead|in\s+the\s+future)\b"),
    ("nextn", rf"\b(?:next|coming|upcoming|following)\s+(?P<n>{_NUM_RE})\s+"
              r"(?P<unit>days?|weeks?|months?|quarters?)\b"),
    ("xtd", r"\b(?:fiscal\s+|f)?(?P<unit>q|m|y)td\b|"
            r"\b(?:(?:this|the|current)\s+)?(?:fiscal\s+|f(?=y))?(?P<unit2>quarter|month|year|y)[\s-]+to[\s-]+date\b|\b(?:since|from)\s+the\s+(?:start|beginning)\s+of\s+(?:the\s+|this\s+)?"
            r"(?:current\s+)?(?:fiscal\s+)?(?P<unit3>quarter|month|year)\b|"
            # ("fy bookings so far?": the fiscal year named bare, then "so far")
            r"(?<!this )(?<!last )(?<!next )(?<!the )(?<!current )(?<!previous )(?<!prior )"
            r"\b(?:fiscal\s+year|fy)\b(?P<unit4>)(?=(?:\s+[\w$]+){1,3}\s+so\s+far\b)"),
    # "since the 10th of last month": from that day of the month named through the as-of date
    ("sinceday", r"\b(?:since|from|starting)\s+the\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)\s+of\s+"
                 r"(?P<rel>last|this|the previous|previous|the current|the last)\s+month\b"
                 r"(?!\s+(?:to|until|through|till|and)\b)"),
    # "between the 1st and the 15th of last month": those days of that month
    ("dayrange", r"\b(?:between|from)\s+the\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)\s+(?:and|to|through|"
                 r"until|till|thru|-)\s+the\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)(?:\s+of)?\s+"
                 r"(?P<rel>last|this|the previous|previous|the current|the last)\s+month\b"),
    ("since", r"\b(?:since|from|after|between|starting)\s+(?P<rest>.+)$"),
    # "Jan 1 to Dec 31 2025": two dates joined, with no "from" before them
    ("span", rf"\b(?P<rest>(?:{_MONTH_RE})\.?\s+[0-3]?\d(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?\s+"
             rf"(?:to|through|until|till|thru|-|–)\s+(?:{_MONTH_RE})\.?\s+[0-3]?\d\b.*)$"),
    ("lastn", rf"\b(?:last|past|previous|prior|trailing|the last)\s+(?P<n>{_NUM_RE})\s+"
              r"(?:full\s+|complete\s+|whole\s+)?(?:fiscal\s+)?(?P<unit>days?|weeks?|months?|"
              r"quarters?|years?)\b"),
    # "last week (mon-sun)", "last calendar week": the whole week before this one
    ("calweek", r"\b(?:last|previous|prior)\s+(?:full|calendar|whole|complete)\s+week\b|"
                r"\b(?:the\s+)?week\s+before\s+(?P<back>last)\b"),
    ("lastweek", r"\b(?:last|past|previous|prior|trailing|this)\s+(?P<unit>week|day)\b"),
    # "this quarter or next", "last month or the one before": the two, one span
    ("ornext", r"\b(?P<rel>this|current|last|previous|prior|next)\s+(?:fiscal\s+)?"
               r"(?P<unit>quarter|month|year)\s+or\s+(?:the\s+)?(?P<rel2>next|following|"
               r"previous|prior|last|one after|one before)(?:\s+(?:one|quarter|month|year))?\b"),
    ("relative", r"\b(?P<rel>this|current|the current|present|last|previous|prior|past|next|"
                 r"coming|upcoming|following)\s+(?:(?:full|complete|whole|entire)\s+)?"
                 r"(?:fiscal\s+)?(?P<unit>quarter|month|year|q)\b"),
    # "where are we for the quarter", "closed won in the month": the current one
    ("theunit", r"\b(?:for|in|during|over|across)\s+the\s+(?P<rel>)(?:fiscal\s+)?(?P<unit>quarter|"
                r"month|year)\b(?!\s+(?:(?:right|just|immediately|directly)\s+)?(?:before|after|"
                r"prior|earlier|later|of|ending|ended|that|"
                r"we|when|in|to|just|which|with|by|where|following|previous|preceding|end)\b)"),
    ("isodate", r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
    # "since Monday", "on last Friday", "yesterday": a day near the as-of date (a bare
    # weekday is no date: "prepping for Monday's board meeting")
    ("weekday", r"(?:\b(?P<prep>on|after|before|until|till)\s+|\b(?P<rel>last|this|"
                r"past|previous)\s+)?\b(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|"
                r"sunday)\b|\b(?P<rday>yesterday|tomorrow)\b"),
    ("yq", r"\b(?:fy\s*)?(?P<y>\d{4})[\s-]?q(?P<q>[1-4])\b"),
    ("qy", r"\bq(?P<q>[1-4])\b(?:\s*(?:of\s+|fy\s*|')?\s*(?P<y>\d{4}|'\d{2}|\d{2}\b))?"),
    ("ordinal", r"\b(?:the\s+)?(?P<o>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter"
                r"(?:\s+(?:of\s+)?(?P<y>\d{4}))?\b"),
    ("isomonth", r"\b(?P<y>\d{4})-(?P<m>0[1-9]|1[0-2])\b(?!-\d)"),
    ("monthname", rf"(?:(?P<prep>\b{_PREP})\s+)?\b(?P<mon>{_MONTH_RE})\b\.?"
                  r"(?:\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b)?(?:,?\s+(?P<y>\d{4}))?"),
    ("year", r"\b(?:fy\s*)?(?P<y>20\d{2}|19\d{2})\b|\bfy\s*'?(?P<y2>\d{2})\b"
             r"(?!\s*(?:or\s+(?:more|fewer|less|above|below)|\+|plus\b))"),
]
_COMPILED = [(name, re.compile(rx)) for name, rx in _PATTERNS]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _resolve(
    name: str, m: re.Match[str], as_of: dt.date, fsm: int, after_preposition: bool = False
) -> Period | None:
    if name == "calq":
        q, year = int(m.group("q") or m.group("q2")), int(m.group("y") or m.group("y2"))
        if fsm == 1:
            return quarter_period(year, q, fsm)
        start = dt.date(year, 3 * q - 2, 1)
        end = add_months(start, 3) - dt.timedelta(days=1)
        return Period(start, end, f"calendar Q{q} {year}", "range", "calendar_quarter")
    if name == "calyear":  # "calendar year 2025": January to December, whatever the fiscal year
        year = int(m.group("y") or m.group("y2") or m.group("y3"))
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        if fsm == 1:
            return _year(year, fsm, "calendar_year")
        return Period(start, end, f"calendar year {year}", "range", "calendar_year")
    if name == "alltime":  # no date limit: the window holds every row
        return Period(ALL_TIME_START, ALL_TIME_END, "all time", "range", "all", 1)
    fy_now = fiscal_year_of(as_of, fsm)
    found = _resolve_relative(name, m, as_of, fsm, fy_now)
    if found is not None or name in {"byend", "rest", "sameyear", "ago", "half", "relhalf",
                                     "nextn", "justdone", "monthofq", "sincelast", "ttm"}:
        return found
    if name == "lastxtd":
        unit = next(m.group(g) for g in ("unit", "unit2", "unit3", "unit4") if m.group(g))[0]
        # (kind "same_point_<unit>": set against its unit to date when compared)
        return replace(before_to_date(to_date_now(unit, as_of, fsm), fsm),
                       kind=f"same_point_{unit}")
    if name == "xtd":
        return to_date_now((m.group("unit") or m.group("unit2") or m.group("unit3") or "y")[0],
                           as_of, fsm)
    if name == "beyond":
        n, unit = _number(m.group("n")), m.group("unit").rstrip("s")
        if unit in {"month", "year"}:
            edge = add_months(as_of, n * (12 if unit == "year" else 1))
        else:
            edge = as_of + dt.timedelta(days=n * (7 if unit == "week" else 1))
        start = edge + dt.timedelta(days=1)
        return Period(start, ALL_TIME_END, f"more than {n} {unit}{'s' if n > 1 else ''} out "
                      f"(after {format_date(edge)})", "range", "beyond")
    if name == "dayrange":
        first = _month_said(m, as_of)
        start, end = first.replace(day=int(m.group("d"))), first.replace(day=int(m.group("d2")))
        if start > end:
            return None
        return Period(start, end, _range_label(start, end), "range", "between")
    if name == "sinceday":
        first = _month_said(m, as_of)
        start = first.replace(day=int(m.group("d")))  # (ValueError: no such day; skipped)
        if start > as_of:
            return None
        return Period(start, as_of, f"since {start:%b} {start.day}, {start.year} "
                      f"({_range_label(start, as_of)})", "range", "since")
    if name == "calweek":  # ("the week before last": the whole week before that one)
        start = as_of - dt.timedelta(days=as_of.weekday() + (14 if m.group("back") else 7))
        end = start + dt.timedelta(days=6)
        return Period(start, end, f"the week of {_range_label(start, end)}", "range",
                      "calendar_week")
    if name in {"lastn", "lastweek"}:
        n = _number(m.group("n")) if name == "lastn" else 1
        unit = m.group("unit").rstrip("s")
        if n < 1 or n > 400:
            return None
        said = m.group(0).split()[0] if name == "lastweek" else ""
        if unit == "week" and said == "this":
            # "this week": from its Monday through the as-of date (as "since monday")
            start = as_of - dt.timedelta(days=as_of.weekday())
            return Period(start, as_of, f"this week ({_range_label(start, as_of)})", "day",
                          "this_week", (as_of - start).days + 1)
        if unit == "week" and said in {"last", "previous", "prior"}:
            # "last week": the whole week (Monday to Sunday) before this one
            start = as_of - dt.timedelta(days=as_of.weekday() + 7)
            end = start + dt.timedelta(days=6)
            return Period(start, end, f"the week of {_range_label(start, end)}", "range",
                          "calendar_week")
        if unit in {"day", "week"}:
            days = n * (7 if unit == "week" else 1)
            start = as_of - dt.timedelta(days=days - 1)
            return Period(start, as_of, f"the last {n} {unit}s ({_range_label(start, as_of)})"
                          if n > 1 else f"the last {unit} ({_range_label(start, as_of)})",
                          "day", f"last_{unit}s", days)
        if unit == "month" and _TO_TODAY.match(m.string[m.end():]) and \
                "full" not in m.group(0):
            return _trailing_months(as_of, n)  # ("the last 12 months (trailing, through today)")
        if unit == "month":
            first = add_months(month_start(as_of), -n)
            last = month_start(as_of) - dt.timedelta(days=1)
            return Period(first, last, f"the last {n} full months ({_range_label(first, last)})",
                          "month", "last_months", n)
        if unit == "quarter":
            first = add_months(quarter_start(as_of, fsm), -3 * n)
            last = quarter_start(as_of, fsm) - dt.timedelta(days=1)
            return Period(first, last,
                          f"the last {n} full quarters ({_quarter(first, fsm, '').label} – "
                          f"{_quarter(add_months(last, -2), fsm, '').label})",
                          "quarter", "last_quarters", n)
        first = quarter_period(fy_now - n, 1, fsm).start
        last = quarter_period(fy_now, 1, fsm).start - dt.timedelta(days=1)
        return Period(first, last, f"the last {n} full years ({_range_label(first, last)})",
                      "year", "last_years", n)
    if name == "ornext":
        steps = {"last": -1, "previous": -1, "prior": -1, "next": 1}
        step = steps.get(m.group("rel"), 0)
        other = step + (1 if m.group("rel2") in {"next", "following", "one after"} else -1)
        ends = []
        for k in (step, other):
            if m.group("unit") == "quarter":
                ends.append(_quarter(add_months(quarter_start(as_of, fsm), 3 * k), fsm, "q"))
            elif m.group("unit") == "month":
                ends.append(_month(add_months(month_start(as_of), k), "m"))
            else:
                ends.append(_year(fy_now + k, fsm, "y"))
        first, last = sorted(ends, key=lambda x: x.start)
        return Period(first.start, last.end, f"{first.label} – {last.label}", "range", "between")
    if name in {"relative", "theunit"}:
        rel, unit = m.group("rel") or "this", m.group("unit")
        step = {"last": -1, "previous": -1, "prior": -1, "past": -1, "next": 1, "coming": 1,
                "upcoming": 1, "following": 1}.get(rel, 0)
        kind = {-1: "last", 0: "this", 1: "next"}[step]
        if unit in {"quarter", "q"}:
            start = add_months(quarter_start(as_of, fsm), 3 * step)
            return _quarter(start, fsm, f"{kind}_quarter")
        if unit == "month":
            return _month(add_months(month_start(as_of), step), f"{kind}_month")
        return _year(fy_now + step, fsm, f"{kind}_year")
    if name == "weekday":
        if m.group("rday"):
            day = as_of + dt.timedelta(days=-1 if m.group("rday") == "yesterday" else 1)
            return Period(day, day, f"{m.group('rday')} ({format_date(day)})", "day", "date")
        if not (m.group("prep") or m.group("rel") or after_preposition):
            return None  # "Monday's board meeting": a day of the week, not a period asked
        wanted = WEEKDAYS.index(m.group("wd"))
        back = (as_of.weekday() - wanted) % 7
        if back == 0 and m.group("rel") in {"last", "past", "previous"}:
            back = 7  # "last Monday" on a Monday: a week ago
        day = as_of - dt.timedelta(days=back)
        return Period(day, day, f"{m.group('wd').title()} {format_date(day)}", "day", "date")
    if name == "isodate":
        try:
            day = dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        except ValueError:
            return None
        return Period(day, day, format_date(day), "day", "date")
    if name in {"yq", "qy", "ordinal", "qyrel"}:
        g = m.groupdict()
        number = int(g["q"]) if g.get("q") else _ORDINALS[g["o"]]
        year = _year_of((g.get("y") or "").lstrip("'"), fy_now)
        if g.get("yrel"):
            year = fy_now + _STEPS.get(g["yrel"].replace("the ", ""), 0)
        elif not g.get("y") and quarter_period(year, number, fsm).start > as_of:
            year -= 1  # "Q3" alone: the most recent one that has started (as for "H1")
        return quarter_period(year, number, fsm)
    if name == "isomonth":
        return _month(dt.date(int(m.group("y")), int(m.group("m")), 1), "month")
    if name == "monthname":
        word = m.group("mon")
        explicit = m.group("prep") or m.group("y") or (after_preposition and m.start() == 0)
        if word in _AMBIGUOUS_MONTHS and not explicit:
            return None
        month = _MONTH_NAMES[word]
        year = _year_of(m.group("y"), as_of.year)
        if m.group("d"):
            try:
                day = dt.date(year, month, int(m.group("d")))
            except ValueError:
                return None
            return Period(day, day, format_date(day), "day", "date")
        return _month(dt.date(year, month, 1), "month")
    if name == "year":
        if m.group("y") and _in_bound(m):
            return None  # "accounts with 2000+ employees", "over 2025 deals": a number
        return _year(_year_of(m.group("y") or m.group("y2"), fy_now), fsm, "year")
    return None


def _month_said(m: re.Match[str], as_of: dt.date) -> dt.date:
    """The first day of the month a day of it is said in ("the 10th of last month")."""
    back = 0 if m.group("rel") in {"this", "the current"} else -1
    return add_months(dt.date(as_of.year, as_of.month, 1), back)


#: Words around a number that make it a bound's figure, not a year.
_BOUND_BEFORE = re.compile(r"\b(?:over|under|above|below|than|least|most|exceeding|beyond|"
                           r"min|max|minimum|maximum)\s*$")
_BOUND_AFTER = re.compile(r"^\s*(?:\+|or\s+(?:more|less|fewer|above|below|higher|lower|"
                          r"bigger|smaller)|plus\b|and\s+up\b|employees|staff|people|deals|"
                          r"opportunities|opps|accounts|days)")


def _in_bound(m: re.Match[str]) -> bool:
    """Whether a four-digit number is a bound's figure ("2000 or more employees").

    >>> import re as _re
    >>> _in_bound(_re.search(r"(?P<y>2000)", "accounts with 2000 or more employees"))
    True
    >>> _in_bound(_re.search(r"(?P<y>2025)", "won in 2025 and 2026"))
    False
    """
    before, after = m.string[:m.start("y")], m.string[m.end("y"):]
    if _BOUND_AFTER.search(after):
        return True
    return bool(_BOUND_BEFORE.search(before))


def _unit_of(as_of: dt.date, unit: str, fsm: int, kind: str) -> Period:
    """The quarter, month, half or fiscal year holding `as_of`."""
    if unit in {"quarter", "q"}:
        return _quarter(quarter_start(as_of, fsm), fsm, kind)
    if unit == "month":
        return _month(month_start(as_of), kind)
    if unit.startswith("half"):
        return _half_of(as_of, fsm, kind)
    return _year(fiscal_year_of(as_of, fsm), fsm, kind)


def current(grain: str, as_of: dt.date, fiscal_year_start_month: int = 1) -> Period:
    """The whole quarter, month, half or fiscal year holding `as_of` ("this quarter").

    >>> current("quarter", dt.date(2026, 11, 15), 2).label
    'Q4 FY2027'
    >>> current("month", dt.date(2026, 11, 15)).label
    'Nov 2026'
    """
    return _unit_of(as_of, grain, fiscal_year_start_month, f"this_{grain}")


TO_DATE_KINDS = frozenset({"qtd", "mtd", "ytd"})
_TO_DATE_UNIT = {"qtd": 3, "mtd": 1, "ytd": 12}


def year_before(period: Period, fiscal_year_start_month: int = 1) -> Period:
    """The same period one year earlier: the same quarter, half, month or days.

    >>> year_before(quarter_period(2026, 3)).label
    'Q3 2025'
    >>> year_before(to_date(_year(2026, 1, "ytd"), dt.date(2026, 11, 15), "ytd", "YTD")).label
    'the same days of 2025 (Jan 1 – Nov 15, 2025)'
    """
    fsm = fiscal_year_start_month
    if period.kind in TO_DATE_KINDS:
        return same_days_before(period, 12, fsm)
    if period.grain == "half":
        return _half_of(add_months(period.start, -12), fsm, "same_last_year")
    if period.grain in {"quarter", "month", "year"} and period.count == 1:
        steps = {"quarter": -4, "month": -12, "year": -1}[period.grain]
        return shift(period, steps, fsm, kind="same_last_year")
    start, end = add_months(period.start, -12), add_months(period.end, -12)
    return Period(start, end, _range_label(start, end), "range", "same_last_year")


def same_days_before(period: Period, months: int, fiscal_year_start_month: int = 1) -> Period:
    """A to-date period's same days `months` earlier ("YTD vs the same point last year").

    >>> qtd = to_date(quarter_period(2026, 4), dt.date(2026, 11, 15), "qtd", "QTD")
    >>> same_days_before(qtd, 3).label
    'the same days of Q3 2026 (Jul 1 – Aug 15, 2026)'
    """
    fsm = fiscal_year_start_month
    start, end = add_months(period.start, -months), add_months(period.end, -months)
    unit = {3: "quarter", 1: "month"}.get(months, "year")
    whole = _unit_of(start, unit, fsm, "previous")
    return Period(start, end, f"the same days of {whole.label} ({_range_label(start, end)})",
                  "range", "previous")


def to_date_now(unit: str, as_of: dt.date, fiscal_year_start_month: int = 1) -> Period:
    """QTD, MTD or YTD (`unit` "q", "m" or "y") at the as-of date.

    >>> to_date_now("q", dt.date(2026, 11, 15)).label
    'QTD (Oct 1 – Nov 15, 2026)'
    """
    fsm = fiscal_year_start_month
    if unit == "q":
        return to_date(_quarter(quarter_start(as_of, fsm), fsm, "qtd"), as_of, "qtd", "QTD")
    if unit == "m":
        return to_date(_month(month_start(as_of), "mtd"), as_of, "mtd", "MTD")
    return to_date(_year(fiscal_year_of(as_of, fsm), fsm, "ytd"), as_of, "ytd", "YTD")


def before_to_date(period: Period, fiscal_year_start_month: int = 1) -> Period:
    """The period before a to-date one: the same days of the unit before ("QTD vs last").

    >>> qtd = to_date(quarter_period(2026, 4), dt.date(2026, 11, 15), "qtd", "QTD")
    >>> before_to_date(qtd).label
    'the same days of Q3 2026 (Jul 1 – Aug 15, 2026)'
    """
    return same_days_before(period, _TO_DATE_UNIT[period.kind], fiscal_year_start_month)


def in_year(part: Period, year: Period, fiscal_year_start_month: int = 1) -> Period:
    """A half or quarter named without a year, moved into the fiscal year named beside it.

    "last FY, H1 vs H2": the halves of that fiscal year.

    >>> in_year(half_period(2026, 1), _year(2025, 1, "last_year")).label
    'H1 2025'
    """
    fsm = fiscal_year_start_month
    years = fiscal_year_of(year.start, fsm) - fiscal_year_of(part.start, fsm)
    if part.grain == "half":
        return _half_of(add_months(part.start, 12 * years), fsm, part.kind)
    return shift(part, 4 * years, fsm, kind=part.kind)


def _shift_unit(period: Period, steps: int, fsm: int) -> Period:
    if period.grain == "half":
        start = add_months(period.start, 6 * steps)
        return _half_of(start, fsm, period.kind)
    return shift(period, steps, fsm, kind=period.kind)


#: "… (trailing, through today)", "… up to today": a span of months that ends today.
_TO_TODAY = re.compile(r"\W*(?:trailing\W*)?(?:through|thru|up\s+to|until|till|to)\s+"
                       r"(?:today|now|date)\b|\W*\(?\s*trailing\b")


def _trailing_months(as_of: dt.date, n: int) -> Period:
    """The `n` months up to and including `as_of` (the day after the date n months back)."""
    start = add_months(as_of, -n) + dt.timedelta(days=1)
    return Period(start, as_of, f"the trailing {n} months ({_range_label(start, as_of)})",
                  "day", "trailing_months", (as_of - start).days + 1)


def _resolve_relative(name: str, m: re.Match[str], as_of: dt.date, fsm: int,
                      fy_now: int) -> Period | None:
    """Periods relative to the as-of date that the other patterns do not cover.

    Halves, "the rest of the quarter", "two quarters ago", "next 3 months", "same quarter
    last year".
    """
    if name == "monthofq":
        step = _STEPS.get(m.group("rel").replace("the ", ""), 0)
        quarter = _shift_unit(_unit_of(as_of, "quarter", fsm, "quarter"), step, fsm)
        k = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2,
             "last": 2}[m.group("o")]
        return _month(add_months(quarter.start, k), "month")
    if name == "sincelast":
        unit = m.group("unit")
        start = _shift_unit(_unit_of(as_of, unit, fsm, "since"), -1, fsm).start
        return Period(start, as_of, f"since the start of last {unit} "
                      f"({_range_label(start, as_of)})", "range", "since")
    if name == "ttm":
        said = m.group("n") or m.group("n2") or "twelve"
        n = 12 if said == "twelve" else _number(said)
        if not m.group("n") and "full" not in m.group(0):
            # "TTM", "the trailing 12 months": the twelve months up to today (only "full" or
            # "ending last month" says whole months)
            return _trailing_months(as_of, n)
        first = add_months(month_start(as_of), -n)
        last = month_start(as_of) - dt.timedelta(days=1)
        return Period(first, last, f"the last {n} full months ({_range_label(first, last)})",
                      "month", "last_months", n)
    if name == "justdone":
        unit = (m.group("unit") or m.group("unit2") or m.group("unit3")).replace(
            "fiscal ", "").replace("qtr", "quarter")
        now = _unit_of(as_of, unit, fsm, f"last_{unit}")
        return _shift_unit(now, -1, fsm)
    if name == "byend":
        unit = m.group("unit").replace("fiscal ", "")
        return _unit_of(as_of, unit, fsm, f"this_{unit}")
    if name == "rest":
        unit = (m.group("unit") or m.group("unit2") or m.group("unit3")).replace("fiscal ", "")
        whole = _unit_of(as_of, unit, fsm, "rest")
        start = as_of + dt.timedelta(days=1) if m.group("tmr") or m.group("tmr2") else as_of
        return Period(start, whole.end, f"the rest of {whole.label} "
                      f"({_range_label(start, whole.end)})", "range", "rest")
    if name == "sameyear":
        unit = m.group("unit")
        now = _unit_of(as_of, unit, fsm, "same_last_year")
        if unit == "half":
            return _half_of(add_months(now.start, -12), fsm, "same_last_year")
        return shift(now, -(4 if unit == "quarter" else 12), fsm, kind="same_last_year")
    if name == "ago":
        if m.group("unitn"):  # "the quarter after next": two ahead
            unit, n = m.group("unitn"), -2
        elif m.group("unit"):
            unit, n = m.group("unit"), 2
        elif m.group("unit3"):
            unit = m.group("unit3")
            years = 1 if m.group("n3") == "a" else _number(m.group("n3"))
            n = years * {"quarter": 4, "month": 12, "half": 2}[unit]
        else:
            unit, n = m.group("unit2").rstrip("s"), _number(m.group("n"))
        unit = "half" if unit.startswith("hal") else unit
        now = _unit_of(as_of, unit, fsm, "ago")
        return _shift_unit(now, -n, fsm)
    if name == "relhalf":
        step = _STEPS.get(m.group("rel").replace("the ", ""), 0)
        return _shift_unit(_half_of(as_of, fsm, "half"), step, fsm)
    if name == "half":
        number = int(m.group("h")[1]) if m.group("h") else _ORDINALS[m.group("o")]
        year = fy_now
        rel = m.group("yrel")
        if rel:
            year += _STEPS.get(rel.replace("the ", ""), 0)
        elif m.group("y"):
            raw = m.group("y").lstrip("'")
            year = _year_of(raw, fy_now)
        elif m.group("rel") in {"last", "previous", "prior"}:
            current = _half_of(as_of, fsm, "half")
            candidate = half_period(fy_now, number, fsm)
            year = fy_now if candidate.end < current.start else fy_now - 1
        elif m.group("rel") == "next":
            year = fy_now + 1
        elif not m.group("rel"):
            # "H1" alone: the most recent one that has started
            if half_period(fy_now, number, fsm).start > as_of:
                year = fy_now - 1
        return half_period(year, number, fsm, kind="half")
    if name == "nextn":
        n = _number(m.group("n"))
        unit = m.group("unit").rstrip("s")
        if not 1 <= n <= 400:
            return None
        if unit in {"day", "week"}:
            # the N days after the as-of date (today's deals are "today", not "next")
            days = n * (7 if unit == "week" else 1)
            start, end = as_of + dt.timedelta(days=1), as_of + dt.timedelta(days=days)
            return Period(start, end, f"the next {n} {unit}s ({_range_label(start, end)})",
                          "day", f"next_{unit}s", days)
        if unit == "month":
            first = add_months(month_start(as_of), 1)
            last = add_months(first, n) - dt.timedelta(days=1)
            return Period(first, last, f"the next {n} months ({_range_label(first, last)})",
                          "month", "next_months", n)
        first = add_months(quarter_start(as_of, fsm), 3)
        last = add_months(first, 3 * n) - dt.timedelta(days=1)
        return Period(first, last, f"the next {n} quarters ({_range_label(first, last)})",
                      "quarter", "next_quarters", n)
    return None


def find_periods(
    text: str, as_of: dt.date, fiscal_year_start_month: int = 1, *, _after_preposition: bool = False
) -> list[PeriodMatch]:
    """Every period named in `text`, in order of appearance, spans not overlapping.

    >>> A = dt.date(2026, 11, 15)
    >>> [m.period.label for m in find_periods("Q3 2025 vs 2025-Q2 and last month", A)]
    ['Q3 2025', 'Q2 2025', 'Oct 2026']
    >>> [m.period.label for m in find_periods("since March 1, 2026", A)]
    ['since Mar 1, 2026 (Mar 1 – Nov 15, 2026)']
    >>> [m.period.label for m in find_periods("between 2025-01-01 and 2025-06-30", A)]
    ['Jan 1 – Jun 30, 2025']
    >>> [m.period.label for m in find_periods("from Q1 to Q2 2025", A)]
    ['Jan 1 – Jun 30, 2025']
    >>> [m.period.kind for m in find_periods("top reps of all time", A)]
    ['all']
    >>> [m.period.label for m in find_periods("won in calendar year 2025", A, 2)]
    ['calendar year 2025']
    """
    lowered = _expand(text.lower().replace("\u2019", "'"))
    found: list[PeriodMatch] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for name, rx in _COMPILED:
        if name == "span" and _after_preposition:
            continue  # (the two dates are read inside it)
        # ("… after the mid month push. how many … since 2026-09-15": each "since" tried,
        # not only the first, whose rest runs to the end)
        found_here = rx.finditer(lowered) if name != "since" else (
            m for k in re.finditer(r"\b(?:since|from|after|between|starting)\b", lowered)
            if (m := rx.match(lowered, k.start())) is not None)
        for m in found_here:
            if not free(m.start(), m.end()):
                continue
            try:  # a date past year 9999 or before year 1 ("9999-Q4") names no period
                if name in {"since", "span"}:
                    match = _since_or_range(m, as_of, fiscal_year_start_month)
                    if match is not None and (name == "since" or match.period.kind == "between"):
                        found.append(match)
                        taken.append((match.start, match.end))
                    continue
                period = _resolve(name, m, as_of, fiscal_year_start_month, _after_preposition)
            except (ValueError, OverflowError):
                continue
            if period is None:
                continue
            span = (m.start("mon") if name == "monthname" else m.start(), m.end())
            found.append(PeriodMatch(period, *span))
            taken.append(span)
    return _coordinated(_restated(_parts_of(sorted(found, key=lambda pm: pm.start), lowered),
                                  lowered), lowered, as_of, fiscal_year_start_month)


#: The start or end of a period said before it ("the first 14 days of", "the final week of").
_PART_BEFORE = re.compile(rf"\b(?:the\s+|its\s+)?(?P<edge>first|last|final|opening|closing)\s+"
                          rf"(?:(?P<n>{_NUM_RE})\s+)?(?P<unit>days?|weeks?|months?)\s+"
                          r"(?:of|in)\s+(?:the\s+)?$")


def _parts_of(found: list[PeriodMatch], text: str) -> list[PeriodMatch]:
    """A period's first or last days, weeks or months, said before it.

    "the first 14 days of this quarter", "the first two weeks of last quarter", "the final
    week of last quarter": that part of the period named (a week is 7 days; months are whole).

    >>> A = dt.date(2026, 11, 15)
    >>> [m.period.label for m in find_periods("created in the first 14 days of this quarter", A)]
    ['the first 14 days of Q4 2026 (Oct 1 – Oct 14, 2026)']
    >>> [m.period.label for m in find_periods("won in the final week of last quarter", A)]
    ['the last 7 days of Q3 2026 (Sep 24 – Sep 30, 2026)']
    >>> [m.period.label for m in find_periods("the last 2 months of last fiscal year", A, 2)]
    ['the last 2 months of FY2026 (Dec 1, 2025 – Jan 31, 2026)']
    """
    out: list[PeriodMatch] = []
    for match in found:
        part = _PART_BEFORE.search(text[:match.start])
        whole = match.period
        if part is None or whole.grain not in {"month", "quarter", "half", "year"}:
            out.append(match)
            continue
        n = _number(part.group("n")) if part.group("n") else 1
        unit = part.group("unit").rstrip("s")
        first = part.group("edge") in {"first", "opening"}
        if unit == "month":
            start = whole.start if first else add_months(whole.end.replace(day=1), 1 - n)
            end = add_months(whole.start, n) - dt.timedelta(days=1) if first else whole.end
        else:
            days = n * (7 if unit == "week" else 1)
            start = whole.start if first else whole.end - dt.timedelta(days=days - 1)
            end = whole.start + dt.timedelta(days=days - 1) if first else whole.end
        if start < whole.start or end > whole.end or start > end:
            out.append(match)
            continue
        count, noun = (n, f"{unit}s") if unit == "month" else \
            (n * (7 if unit == "week" else 1), "days")
        label = f"the {'first' if first else 'last'} {count} {noun if count > 1 else noun[:-1]}" \
                f" of {whole.label} ({_range_label(start, end)})"
        out = [m for m in out if m.end <= part.start()]  # ("the last 7 days of": a part, not
        out.append(PeriodMatch(Period(start, end, label, "range", "part"), part.start(),
                               match.end))  # the 7 days before the as-of date)
    return out


def _restated(found: list[PeriodMatch], text: str) -> list[PeriodMatch]:
    """A period in brackets with no year of its own restates the one before it.

    >>> A = dt.date(2026, 11, 15)
    >>> [m.period.label for m in find_periods("calendar year 2025 (from jan to dec)", A)]
    ['2025']
    """
    out: list[PeriodMatch] = []
    bracket: tuple[int, int] | None = None  # the brackets right after the last period kept
    for match in found:
        if bracket is not None and bracket[0] < match.start < bracket[1]:
            # inside the brackets: said again in other words, not another period
            out[-1] = PeriodMatch(out[-1].period, out[-1].start, bracket[1])
            continue
        out.append(match)
        opened = re.match(r"[\s?.,:;]*\(", text[match.end:])
        close = text.find(")", match.end)
        dashed = re.match(r"\s+[-–—]\s+|\s*,\s*(?:i\.?\s?e\.?|that is|meaning),?\s+",
                          text[match.end:])
        if dashed and not opened:
            # "calendar year 2025 - January through December, not our fiscal year - what …":
            # a clause between dashes (or to the sentence's end) said of the period
            after = match.end + dashed.end()
            stop = re.search(r"\s[-–—]\s|[?!]|$", text[after:])
            opened, close = dashed, after + stop.start()
        inner = text[match.end:close] if opened and close > 0 else ""
        restating = all(is_date_word(w) or w.isdigit() or w in _RESTATING
                        for w in re.findall(r"[a-z0-9]+", inner))
        bracket = (match.end, close) if inner and not re.search(
            r"\b(?:vs|versus|compared|against|than|and|or)\b", inner) and (
            restating or not dashed) else None
        if bracket is not None and all(is_date_word(w) or w.isdigit() or w in _RESTATING
                                       for w in re.findall(r"[a-z0-9]+", inner)):
            # "(fiscal year to the same date)", "(both months included)": only says it again
            out[-1] = PeriodMatch(match.period, match.start,
                                  close + (0 if text[close:close + 1] in {"", "?", "!", " "}
                                           else 1))
    return out


#: Words that only say a period again in brackets ("to the same date", "both included").
_RESTATING = frozenset({"to", "the", "same", "date", "dates", "as", "of", "a", "an", "both",
                        "included", "inclusive", "including", "from", "through", "full",
                        "whole", "entire", "i", "e", "ie", "so", "far", "just", "only", "all",
                        "not", "our", "calendar", "thru", "until", "its", "it's", "first",
                        "last", "final", "that", "this", "day", "days"})


def _since_or_range(m: re.Match[str], as_of: dt.date, fsm: int) -> PeriodMatch | None:
    """"since X" → [X, as-of]; "between X and Y" / "from X to Y" → [X, Y]."""
    rest = m.group("rest")
    inner = find_periods(rest, as_of, fsm, _after_preposition=True)
    if not inner or inner[0].start > 3:
        return None
    first = inner[0].period
    offset = m.start("rest")
    if len(inner) > 1:
        gap = rest[inner[0].end:inner[1].start].strip(" ,")
        gap = re.sub(r"^(and|to|through|until|till|thru) (?:the )?(?:end|close) of(?: the)?$",
                     r"\1", gap)  # ("between tomorrow and the end of next month")
        moved = set(re.findall(r"[a-z]+", m.string[:m.start()])[-3:]) & grammar.CHANGE_VERBS
        if gap in {"and", "to", "-", "–", "through", "until", "till", "thru"} and not (
                moved and gap == "to" and m.group(0).startswith("from") and
                first.grain == inner[1].period.grain):
            # ("how much did bookings grow from last FY to this FY": two periods compared)
            second = inner[1].period
            start = first.start
            while start > second.end and first.grain in {"month", "quarter", "day"}:
                start = add_months(start, -12)  # "from Q1 to Q2 2025": Q1 takes Q2's year
            first = replace(first, start=start)
            label = _range_label(first.start, second.end)
            period = Period(first.start, second.end, label, "range", "between")
            return PeriodMatch(period, m.start(), offset + inner[1].end)
    if rest[: inner[0].start].strip() or m.group(0).startswith("between"):
        return None
    if m.group(0).startswith("from") and first.grain != "day":
        return None  # "wins from last quarter": that quarter (but "from March 1": since)
    label = f"since {first.label} ({_range_label(first.start, as_of)})"
    return PeriodMatch(Period(first.start, as_of, label, "range", "since"), m.start(),
                       offset + inner[0].end)


def parse_period(text: str, as_of: dt.date, fiscal_year_start_month: int = 1) -> Period | None:
    """The first period named in `text`, or None.

    >>> A = dt.date(2026, 11, 15)
    >>> [parse_period(q, A).label for q in ["this quarter", "Q3", "2025-Q3", "q1 '26"]]
    ['Q4 2026', 'Q3 2026', 'Q3 2025', 'Q1 2026']
    >>> [parse_period(q, A).label for q in ["next month", "mtd", "ytd", "in 2025"]]
    ['Dec 2026', 'MTD (Nov 1 – Nov 15, 2026)', 'YTD (Jan 1 – Nov 15, 2026)', '2025']
    >>> p = parse_period("last 30 days", A)
    >>> p.start, p.end
    (datetime.date(2026, 10, 17), datetime.date(2026, 11, 15))
    >>> p = parse_period("over the last 2 quarters", A)
    >>> p.label
    'the last 2 full quarters (Q2 2026 – Q3 2026)'
    >>> parse_period("since 2026-01-01", A).start
    datetime.date(2026, 1, 1)
    >>> parse_period("what may happen", A) is None
    True
    >>> parse_period("forecast for December", A).label
    'Dec 2026'
    >>> parse_period("third quarter of 2025", A).label
    'Q3 2025'
    >>> parse_period("won Jan 1 to Dec 31 2025", A).label  # the first date takes the year
    'Jan 1 – Dec 31, 2025'
    """
    matches = find_periods(text, as_of, fiscal_year_start_month)
    return matches[0].period if matches else None
