"""Numbers, dates and periods written the way people read them.

Every figure an answer shows goes through `format_value`, so a percentage is always
``31.3%``, money ``$1.24M`` or ``$842K`` and durations ``42.4 days``.

>>> format_value(0.3125, "percent"), format_value(1_240_000, "currency")
('31.3%', '$1.24M')
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal, localcontext

#: Shown for a missing value (a null from the warehouse) instead of inventing one.
MISSING = "n/a"

_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)


def _number(value: object) -> float | None:
    """A finite float, or None for anything that is not one (shown as n/a, never raised).

    >>> _number(Decimal("1.5")), _number(float("inf")), _number(Decimal("sNaN")), _number(10**400)
    (1.5, None, None, None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int | float):
        try:
            number = float(value)
        except (OverflowError, ValueError):  # beyond float range, signalling NaN
            return None
        return number if math.isfinite(number) else None
    return None


def _fixed(number: float, digits: int, *, thousands: bool = False, sign: bool = False) -> str:
    """Fixed-point text rounding halves up (0.3125 → 31.3%), unlike float formatting.

    >>> _fixed(31.25, 1), _fixed(1234.5, 0, thousands=True), _fixed(2.0, 1, sign=True)
    ('31.3', '1,235', '+2.0')
    """
    quantum = Decimal(1).scaleb(-digits)
    with localcontext() as ctx:
        ctx.prec = 400  # room for every float's integer digits (up to 309) plus the decimals
        rounded = Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP)
        if rounded == 0:
            rounded = abs(rounded)  # never '-0.0'
        spec = ("+" if sign else "") + ("," if thousands else "") + f".{digits}f"
        return format(rounded, spec)


def format_percent(value: object, *, signed: bool = False) -> str:
    """A fraction 0–1 as a percentage with one decimal.

    >>> format_percent(0.3125)
    '31.3%'
    >>> format_percent(1)
    '100.0%'
    >>> format_percent(-0.042, signed=True)
    '-4.2 pts'
    >>> format_percent(0.05, signed=True)
    '+5.0 pts'
    >>> format_percent(None)
    'n/a'
    """
    number = _number(value)
    if number is None or not math.isfinite(number * 100):  # too large to be a share
        return MISSING
    if signed:
        return f"{_fixed(number * 100, 1, sign=True)} pts"
    return f"{_fixed(number * 100, 1)}%"


def format_currency(value: object, *, signed: bool = False) -> str:
    """Money with three significant digits and a K/M/B suffix.

    >>> format_currency(1_240_000)
    '$1.24M'
    >>> format_currency(842_000)
    '$842K'
    >>> format_currency(84_250)
    '$84.3K'
    >>> format_currency(8_420)
    '$8.42K'
    >>> format_currency(950)
    '$950'
    >>> format_currency(2_500_000_000)
    '$2.50B'
    >>> format_currency(-12_500)
    '-$12.5K'
    >>> format_currency(12_500, signed=True)
    '+$12.5K'
    >>> format_currency(None)
    'n/a'
    """
    number = _number(value)
    if number is None:
        return MISSING
    sign = "-" if number < 0 else ("+" if signed and number > 0 else "")
    size = abs(number)
    if float(_fixed(size, 0)) < 1000:
        return f"{sign}${_fixed(size, 0, thousands=True)}"
    for limit, suffix in ((1e3, "K"), (1e6, "M"), (1e9, "B")):
        scaled = size / limit
        for digits in (2, 1, 0):  # three significant digits, judged after rounding
            text = _fixed(scaled, digits)
            if float(text) < 10 ** (3 - digits):
                break
        if float(text) < 1000 or suffix == "B":
            return f"{sign}${text}{suffix}"
    raise AssertionError("unreachable")


def format_days(value: object) -> str:
    """A duration in days, one decimal unless it is whole.

    >>> format_days(42.36)
    '42.4 days'
    >>> format_days(42)
    '42 days'
    >>> format_days(1)
    '1 day'
    >>> format_days(None)
    'n/a'
    """
    number = _number(value)
    if number is None:
        return MISSING
    if abs(number - round(number)) < 0.05:
        whole = int(round(number))
        return f"{whole} day" if abs(whole) == 1 else f"{whole:,} days"
    return f"{_fixed(number, 1, thousands=True)} days"


def format_count(value: object) -> str:
    """A count with thousands separators.

    >>> format_count(1234)
    '1,234'
    >>> format_count(3.0)
    '3'
    >>> format_count(None)
    'n/a'
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number:,.0f}" if abs(number - round(number)) < 1e-9 else f"{number:,.2f}"


def format_number(value: object) -> str:
    """A plain number: whole numbers as counts, others with up to two decimals.

    >>> format_number(72), format_number(3.14159), format_number(1234.5)
    ('72', '3.14', '1,234.5')
    """
    number = _number(value)
    if number is None:
        return MISSING
    if abs(number - round(number)) < 1e-9:
        return f"{number:,.0f}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def format_date(value: object) -> str:
    """A date as ``Nov 15, 2026``; timestamps lose their time.

    >>> format_date(dt.date(2026, 11, 15))
    'Nov 15, 2026'
    >>> format_date(dt.datetime(2026, 1, 2, 13, 5))
    'Jan 2, 2026'
    >>> format_date("2026-03-01")
    'Mar 1, 2026'
    >>> format_date(None)
    'n/a'
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"
    return str(value)


def format_month(value: dt.date) -> str:
    """A month as ``Nov 2026``.

    >>> format_month(dt.date(2026, 11, 1))
    'Nov 2026'
    """
    return f"{_MONTHS[value.month - 1]} {value.year}"


#: The fiscal year's first month of the warehouse whose answer is being written: quarter
#: labels of a fiscal year that starts in another month than January say "FY" ("Q1 FY2027"),
#: as the answer's periods do. Set around writing one answer (`fiscal_labels`).
_FISCAL_START: ContextVar[int] = ContextVar("fiscal_year_start_month", default=1)


@contextmanager
def fiscal_labels(fiscal_year_start_month: int) -> Iterator[None]:
    """Write quarter labels of that fiscal calendar while the block runs.

    >>> with fiscal_labels(2):
    ...     quarter_label("2027-Q1")
    'Q1 FY2027'
    """
    token = _FISCAL_START.set(fiscal_year_start_month)
    try:
        yield
    finally:
        _FISCAL_START.reset(token)


def quarter_label(value: object) -> str:
    """A quarter label written for people: ``2026-Q2`` (or its first day) → ``Q2 2026``.

    Labels from the warehouse are trusted as they are (their years are fiscal: "FY" is said
    when the fiscal year does not start in January); a bare date is read as a calendar quarter.

    >>> quarter_label("2026-Q2")
    'Q2 2026'
    >>> quarter_label(dt.date(2026, 10, 1))
    'Q4 2026'
    >>> quarter_label("Q3 2025")
    'Q3 2025'
    """
    if isinstance(value, str) and len(value) == 7 and value[4:6].upper() == "-Q":
        fiscal = "FY" if _FISCAL_START.get() != 1 else ""
        return f"Q{value[6]} {fiscal}{value[:4]}"
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"Q{(value.month - 1) // 3 + 1} {value.year}"
    return str(value)


def format_score(value: object) -> str:
    """A 0–100 score.

    >>> format_score(72.0), format_score(None)
    ('72/100', 'n/a')
    """
    number = _number(value)
    if number is None:
        return MISSING
    return f"{format_number(number)}/100"


def format_value(value: object, unit: str | None = None) -> str:
    """Format one warehouse value for an answer according to its catalog unit.

    >>> format_value(0.3125, "percent"), format_value(842_000, "currency")
    ('31.3%', '$842K')
    >>> format_value(42.36, "days"), format_value(1234, "count"), format_value("Good", "text")
    ('42.4 days', '1,234', 'Good')
    >>> format_value(dt.date(2026, 7, 1))
    'Jul 1, 2026'
    """
    if value is None:
        return MISSING
    match unit:
        case "percent":
            return format_percent(value)
        case "currency":
            return format_currency(value)
        case "days":
            return format_days(value)
        case "count":
            return format_count(value)
        case "score":
            return format_number(value)
    if isinstance(value, dt.date | dt.datetime):
        return format_date(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | int | float):
        return format_number(value)  # NaN, infinity, out of range: n/a, never "nan"
    return str(value)


def format_change(value: object, unit: str | None) -> str:
    """A signed change in the unit's terms (percentage points for rates).

    >>> format_change(0.021, "percent"), format_change(-150_000, "currency")
    ('+2.1 pts', '-$150K')
    >>> format_change(-3, "days"), format_change(4, "score")
    ('-3 days', '+4')
    """
    number = _number(value)
    if number is None:
        return MISSING
    if unit == "percent":
        return format_percent(number, signed=True)
    if unit == "currency":
        return format_currency(number, signed=True)
    sign = "+" if number > 0 else "-" if number < 0 else ""
    if unit == "days":
        return f"{sign}{format_days(abs(number))}"
    return f"{sign}{format_number(abs(number))}"


def join_names(items: list[str], conjunction: str = "and") -> str:
    """An English list.

    >>> join_names(["a"]), join_names(["a", "b"]), join_names(["a", "b", "c"])
    ('a', 'a and b', 'a, b and c')
    """
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def format_cell(value: object, unit: str | None = None, column: str = "") -> str:
    """A result cell for an answer, with unit- and column-aware formatting.

    >>> format_cell("2026-Q3", None, "quarter_label"), format_cell(0.25, "percent")
    ('Q3 2026', '25.0%')
    >>> format_cell("2026-07-01"), format_cell("2026-07-01", None, "close_month")
    ('Jul 1, 2026', 'Jul 2026')
    """
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-Q[1-4]", value):
            return quarter_label(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}( .*)?", value):
            if unit is None and column.endswith(("quarter",)):
                return quarter_label(dt.date.fromisoformat(value[:10]))
            if unit is None and column.endswith("month"):
                return format_month(dt.date.fromisoformat(value[:10]))
            return format_date(value)
        return value
    return format_value(value, unit)
