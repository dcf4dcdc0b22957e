"""Does a gold value appear in an answer's text? One pure function: `matches`.

People write numbers in many ways; an answer is right when any of them agrees with the gold
value from the case's SQL:

- numbers within a relative `tolerance`, widened to the precision the answer shows
  ("31%" stands for anything from 30.5% to 31.5%), in percent (31.3% ↔ 0.3125; percentage
  points as pp or pts), currency
  ($1,234,567 / $1.23M / 1.2M / $842K / 3.4bn), with thousands separators and k/M/B suffixes,
  or with a unit such as days. Signs are ignored: answers say "down 2.1 points" in words.
- dates (`date`, `datetime` or an ISO string) as 2026-11-15, November 15, 2026, Nov 15 2026 or
  15 Nov 2026; months (`'2026-11'`) as 2026-11, November 2026 or Nov 2026;
- quarters (`'2026-Q2'`) as 2026-Q2, Q2 2026, Q2'26, FY26 Q2 or "second quarter of 2026";
- anything else as text, case-, accent- and whitespace-insensitively, on word boundaries.

Numbers inside dates and quarters ("2026", "Q4") never count as numbers.

>>> matches(0.3125, "Win rate was 31.3% last quarter.")
True
>>> matches(0.3125, "Win rate was 31.6% last quarter.")
False
>>> matches(1234567, "Bookings: $1.23M")
True
>>> matches("2026-Q2", "In Q2'26 the pipeline grew.")
True
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

#: Relative tolerance for numbers when a case gives none (display rounding is allowed on top).
DEFAULT_TOLERANCE = 0.001

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_RE = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
}

# (kind, pattern, field order): patterns run on casefolded, normalised text, in this order;
# each match is blanked out before the next pattern and before numbers are read.
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("date", re.compile(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])"), "ymd"),
    ("date", re.compile(_MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)"), "mdy"),
    ("date", re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_RE + r",?\s+(\d{4})(?!\d)"),
     "dmy"),
    ("quarter", re.compile(r"(?<![\w-])(\d{4})\s?[- ]?\s?q([1-4])(?!\w)"), "yq"),
    ("quarter", re.compile(r"(?<!\w)q([1-4])\s?[- ]?\s?(?:fy\s?)?'?\s?(\d{4}|\d{2})(?!\d)"), "qy"),
    ("quarter", re.compile(r"(?<!\w)fy\s?'?(\d{4}|\d{2})\s?[- ]?\s?q([1-4])(?!\w)"), "yq"),
    ("quarter", re.compile(r"(?<!\w)(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter"
                           r"(?:\s+of)?,?\s+(\d{4})(?!\d)"), "oy"),
    ("month", re.compile(_MONTH_RE + r",?\s+(\d{4})(?!\d)"), "my"),
    ("month", re.compile(r"(?<![\d-])(\d{4})-(\d{2})(?![\d-])"), "ym"),
)

_NUMBER_RE = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:"
    r"\s?(?P<word>%|pp|pts?|percentage points?|percent|pct|thousand|million|billion)(?![a-z])"
    r"|(?P<suffix>k|mm|m|bn|b)(?![a-z])"
    r")?"
)
_SCALES = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9,
}
_PERCENT_UNITS = {"%", "pp", "pt", "pts", "percent", "pct", "percentage point", "percentage points"}
_QUARTER_LABEL = re.compile(r"^(\d{4})-q([1-4])$", re.IGNORECASE)
_MONTH_LABEL = re.compile(r"^(\d{4})-(\d{2})$")
_MONTH_NAME = re.compile(_MONTH_RE + r",?\s+(\d{4})")  # a month named as text: "December 2025"
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ t][\d:.]+)?$", re.IGNORECASE)
_NUMERIC = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class _Number:
    """A number read from text: its value and half a unit of its last shown digit."""

    value: float
    halfwidth: float


def matches(gold: object, text: str, *, tolerance: float | None = None) -> bool:
    """True when the gold value appears in `text` in any of the forms people write it.

    Args:
        gold: One value from a gold query: a number, date, datetime or text (a quarter label
            like `'2026-Q2'`, a month label like `'2026-11'`, an ISO date, or plain text).
            `None` never matches: an answer cannot state a missing value.
        text: The answer text.
        tolerance: Relative tolerance for numbers (default `DEFAULT_TOLERANCE`); the
            precision the answer shows widens it.

    Returns:
        Whether the answer states the gold value.

    Examples:
        >>> matches(0.3125, "31.25%"), matches(0.3125, "31%"), matches(0.3125, "32%")
        (True, True, False)
        >>> matches(842_300, "about $842K"), matches(842_300, "about $845K")
        (True, False)
        >>> matches(1_234_567, "$1,234,567"), matches(1_234_567, "1.2 million")
        (True, True)
        >>> matches(42.4, "42 days in Needs Analysis")
        True
        >>> matches(date(2026, 11, 15), "as of November 15, 2026")
        True
        >>> matches("2026-11-15", "as of Nov 15 2026"), matches("2026-11-15", "as of Nov 16 2026")
        (True, False)
        >>> matches("2026-11", "forecast for Nov 2026")
        True
        >>> matches("December 2025", "Dec 2025 was best"), matches("December 2025", "2025-11")
        (True, False)
        >>> matches("2026-Q2", "Q2 2026"), matches("2026-Q2", "Q2'26"), matches("2026-Q2", "Q3 26")
        (True, True, False)
        >>> matches(2026, "in Q2 2026")  # numbers inside quarters and dates do not count
        False
        >>> matches("Healthcare", "HEALTHCARE leads"), matches("Health", "Healthcare leads")
        (True, False)
        >>> matches(None, "anything")
        False
    """
    if gold is None or (isinstance(gold, float) and math.isnan(gold)):
        return False
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    found = _read(_normalise(text))
    if isinstance(gold, bool):
        return _text_in(("yes", "true") if gold else ("no", "false"), found["text"])
    if isinstance(gold, (int, float, Decimal)):
        return _number_in(float(gold), found["numbers"], tol)
    if isinstance(gold, datetime):
        return gold.date() in found["date"]
    if isinstance(gold, date):
        return gold in found["date"]
    value = str(gold).strip()
    if m := _QUARTER_LABEL.match(value):
        return (int(m[1]), int(m[2])) in found["quarter"]
    if (m := _MONTH_LABEL.match(value)) and 1 <= int(m[2]) <= 12:
        return (int(m[1]), int(m[2])) in found["month"]
    month = _read(_normalise(value))["month"]
    if len(month) == 1 and _MONTH_NAME.fullmatch(_normalise(value)):  # "December 2025"
        return next(iter(month)) in found["month"]
    if m := _ISO_DATE.match(value):
        return _date(m[1], m[2], m[3]) in found["date"]
    if _NUMERIC.match(value):
        return _number_in(float(value), found["numbers"], tol)
    return _text_in((value,), found["text"])


def _normalise(text: str) -> str:
    """Casefold, strip accents, and unify quotes, dashes and spaces.

    >>> _normalise("Q2’26 — José  Núñez")
    "q2'26 - jose nunez"
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    for chars, repl in (("‘’`´", "'"), ("“”", '"'), ("‐‑‒–—−", "-"), ("\u00a0\u202f\u2009", " ")):
        text = re.sub(f"[{chars}]", repl, text)
    return re.sub(r"\s+", " ", text).casefold().strip()


def _read(text: str) -> dict:
    """Dates, months, quarters and numbers in normalised text (dates blanked before numbers).

    >>> r = _read("q4 2026: $1.2m, 31% as of 2026-11-15")
    >>> sorted(r["quarter"]), sorted(r["date"]), [n.value for n in r["numbers"]][:3]
    ([(2026, 4)], [datetime.date(2026, 11, 15)], [1200000.0, 0.31, 31.0])
    """
    found: dict = {"date": set(), "month": set(), "quarter": set(), "text": text}
    masked = text
    for kind, pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(masked):
            value = _parse(kind, order, m.groups())
            if value is not None:
                found[kind].add(value)
        masked = pattern.sub(lambda m: " " * len(m[0]), masked)
    found["numbers"] = [n for m in _NUMBER_RE.finditer(masked) for n in _numbers(m)]
    return found


def _parse(kind: str, order: str, groups: tuple[str, ...]):  # noqa: ANN202 - date | tuple | None
    fields = dict(zip(order, groups, strict=True))
    year = int(fields["y"]) if "y" in fields else None
    if year is not None and year < 100:
        year += 2000
    if kind == "quarter":
        quarter = _ORDINALS[fields["o"]] if "o" in fields else int(fields["q"])
        return year, quarter
    month = fields["m"]
    month = _MONTHS[month.rstrip(".")] if month.isalpha() else int(month)
    if kind == "month":
        return (year, month) if 1 <= month <= 12 else None
    return _date(year, month, fields["d"])


def _date(year: object, month: object, day: object) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _numbers(m: re.Match[str]) -> list[_Number]:
    """The values a number token may stand for (a percent stands for n/100 and for n).

    >>> [(n.value, n.halfwidth) for n in _numbers(_NUMBER_RE.search("31.3%"))]
    [(0.313, 0.0005), (31.3, 0.05)]
    >>> [(n.value, n.halfwidth) for n in _numbers(_NUMBER_RE.search("1.2m"))]
    [(1200000.0, 50000.0)]
    """
    digits = m["num"].replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value, halfwidth = float(digits), 0.5 * 10.0**-decimals
    unit = m["word"] or m["suffix"]
    if unit in _PERCENT_UNITS:
        return [_Number(value / 100, halfwidth / 100), _Number(value, halfwidth)]
    scale = _SCALES.get(unit or "", 1.0)
    return [_Number(value * scale, halfwidth * scale)]


def _number_in(gold: float, numbers: list[_Number], tolerance: float) -> bool:
    target = abs(gold)
    for n in numbers:
        allowed = max(tolerance * target, n.halfwidth) + 1e-9 * max(1.0, target)
        if abs(n.value - target) <= allowed:
            return True
    return False


def _text_in(options: tuple[str, ...], text: str) -> bool:
    for option in options:
        needle = _normalise(option)
        if not needle:
            continue
        left = r"(?<!\w)" if needle[0].isalnum() else ""
        right = r"(?!\w)" if needle[-1].isalnum() else ""
        if re.search(left + re.escape(needle) + right, text):
            return True
    return False
