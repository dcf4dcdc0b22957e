"""Result tables as people read them: column labels, units and formatted cells.

The chat's tables (`whizzy.chat.tables`) and the terminal's (`whizzy ask`) show a result the
same way: a column name becomes a label (``win_rate`` → ``Win rate``), a `quarter` beside
its `quarter_label` is dropped, and each cell is written for its unit (``31.2%``,
``$1,240,000``, ``42.4``, ``2026-07-08``). The unit comes from the query plan when the
catalog gave one, else from the column's name.

>>> labels, rows = table_text(["owner_name", "win_rate", "won_amount"], [["Ann", 0.3125, 1.24e6]])
>>> labels, rows
(['Owner name', 'Win rate', 'Won amount'], [['Ann', '31.2%', '$1,240,000']])
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: Shown for a missing cell (an empty string reads as "nothing here" in a table).
EMPTY = ""


def unit_of(column: str) -> str:
    """Guess a column's unit from its name: percent, currency, days, count or number.

    >>> [unit_of(c) for c in ("win_rate", "open_amount", "avg_days_in_stage", "won_count")]
    ['percent', 'currency', 'days', 'count']
    >>> unit_of("pipeline_health_score")
    'number'
    """
    c = column.lower()
    if re.search(r"rate|share|accuracy|percent|pct|mape|coverage_ratio", c):
        return "percent"
    if re.search(r"days", c):
        return "days"
    if re.search(r"score|points", c):
        return "number"
    if re.search(r"amount|revenue|pipeline|value|forecast|deal_size|bookings|impact|"
                 r"lower|upper|sales_velocity", c):
        return "currency"
    if re.search(r"count|deals|visits|number_of|pushes|opportunities", c):
        return "count"
    return "number"


def label_of(column: str) -> str:
    """A column name for people.

    >>> label_of("avg_days_in_stage"), label_of("quarter_label"), label_of("win_rate")
    ('Avg days in stage', 'Quarter', 'Win rate')
    """
    words = re.sub(r"_label$", "", column).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def plan_units(plan: Any) -> dict[str, str]:
    """The units the query plan gave its selected columns (a plan or a list of plans).

    >>> plan_units([{"selections": [{"name": "win_rate", "unit": "percent"},
    ...                             {"name": "owner", "unit": None}]}])
    {'win_rate': 'percent'}
    """
    plans = plan if isinstance(plan, list) else [plan] if isinstance(plan, Mapping) else []
    units: dict[str, str] = {}
    for p in plans:
        if not isinstance(p, Mapping):
            continue
        for s in p.get("selections") or []:
            if isinstance(s, Mapping) and s.get("unit") and s.get("name"):
                units.setdefault(str(s["name"]), str(s["unit"]))
    return units


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def cell_text(value: Any, unit: str | None) -> str:
    """One cell as the chat's tables show it.

    >>> cell_text(0.3125, "percent"), cell_text(-1500, "currency"), cell_text(42.36, "days")
    ('31.2%', '-$1,500', '42.4')
    >>> cell_text(12.0, "count"), cell_text(2.345, "number"), cell_text(None, "percent")
    ('12', '2.35', '')
    >>> cell_text(dt.date(2026, 7, 8), None), cell_text(dt.datetime(2026, 7, 8, 9, 5), None)
    ('2026-07-08', '2026-07-08 09:05')
    >>> cell_text(True, None), cell_text(float("nan"), "currency")
    ('True', '')
    """
    if value is None:
        return EMPTY
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not _is_number(value):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return EMPTY
    if unit == "percent":
        return f"{number * 100:.1f}%"
    if unit == "currency":
        return f"-${-number:,.0f}" if number < 0 else f"${number:,.0f}"
    if unit == "days":
        return _short(round(number, 1))
    if unit == "count":
        return f"{int(number):,}" if number.is_integer() else _short(round(number, 2))
    if isinstance(value, float | decimal.Decimal):
        return _short(round(number, 2))
    return str(value)


def _short(number: float) -> str:
    """A rounded float without a trailing ``.0``: ``75``, ``42.4``."""
    return str(int(number)) if number.is_integer() else str(number)


def table_text(
    columns: Sequence[str], rows: Sequence[Any], units: Mapping[str, str] | None = None
) -> tuple[list[str], list[list[str]]]:
    """A result as labelled columns and formatted cells (rows may be lists or dicts).

    A column `x` that has an `x_label` beside it is left out: the label says it for people.

    >>> table_text(["quarter_label", "score", "quarter"], [["2026-Q3", 75, "2026-07-01"]])
    (['Quarter', 'Score'], [['2026-Q3', '75']])
    """
    names = list(columns)
    data = [[r.get(c) for c in names] if isinstance(r, Mapping) else list(r) for r in rows]
    keep = [k for k, c in enumerate(names) if f"{c}_label" not in names]
    given = dict(units or {})
    labels: list[str] = []
    for k in keep:
        label = label_of(names[k])
        labels.append(label if label not in labels else names[k])
    column_units = []
    for k in keep:
        numeric = any(_is_number(r[k]) for r in data if k < len(r))
        column_units.append(given.get(names[k]) or (unit_of(names[k]) if numeric else "text"))
    cells = [[cell_text(r[k] if k < len(r) else None, u) for k, u in zip(keep, column_units,
                                                                          strict=True)]
             for r in data]
    return labels, cells


def numeric_columns(rows: Sequence[Sequence[str]], width: int) -> list[bool]:
    """Which formatted columns hold figures or dates (right-aligned, never broken).

    >>> numeric_columns([["Ann", "31.2%", "$1,240,000", "", "2026-07-08"],
    ...                  ["Bo", "n", "-$5", "", "2026-07-09 10:30"]], 5)
    [False, False, True, False, True]
    """
    figure = re.compile(r"-?\$?-?[\d,]+(\.\d+)?%?|\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?")
    out = []
    for k in range(width):
        filled = [r[k] for r in rows if k < len(r) and r[k] != EMPTY]
        out.append(bool(filled) and all(figure.fullmatch(c) for c in filled))
    return out
