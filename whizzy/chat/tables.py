"""Result and records tables as the chat shows them: units, formatted cells, titles.

Cells are not markdown-escaped (unlike answer text, `whizzy.chat.markup`): Chainlit's
Dataframe element renders every cell and header as plain text, so a link in an account name
stays text there, and an escape would show its backslash.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from whizzy.chat.charts import label_of, to_frame, unit_of
from whizzy.core.cells import plan_units

#: Rows a table in the chat shows (the full result can be larger; the SQL is in its step).
TABLE_ROWS = 200


def _cell(value: Any, unit: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) else (
            value.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if unit == "percent":
        return f"{value * 100:.1f}%"
    if unit == "currency":
        return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"
    if unit == "days":
        return round(float(value), 1)
    if unit == "count":
        return int(value) if float(value).is_integer() else round(value, 2)
    if isinstance(value, float):
        return round(value, 2)
    return value


def display_table(
    columns: Sequence[str], rows: Sequence[Any], *, units: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A result as people read it: labelled columns, 31.3%, $1,240,000, 42.4 (days).

    >>> t = display_table(["owner_name", "win_rate", "won_amount"], [["Ann", 0.3125, 1240000]])
    >>> t.columns.tolist(), t.iloc[0].tolist()
    (['Owner name', 'Win rate', 'Won amount'], ['Ann', '31.2%', '$1,240,000'])
    >>> display_table(["month_label", "month", "n"], [["2026-11", "2026-11-01", 1]]).columns
    Index(['Month', 'N'], dtype=...)
    """
    frame = to_frame(columns, list(rows)[:TABLE_ROWS])
    units = dict(units or {})
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        if f"{col}_label" in frame.columns:  # `quarter` beside `quarter_label`: show the label
            continue
        unit = units.get(col) or (unit_of(col) if _is_numberish(frame[col]) else "text")
        label = label_of(col)
        out[label if label not in out.columns else col] = [
            _cell(v, unit) for v in frame[col].tolist()
        ]
    return out


def _is_numberish(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def result_units(
    result: Mapping[str, Any], results: Sequence[Mapping[str, Any]] = ()
) -> dict[str, str]:
    """Units of the result's columns: from the query results, else from the query plan.

    >>> result_units({"plan": [{"selections": [{"name": "a", "unit": "percent"}]}]},
    ...              [{"units": {"b": "currency"}}])
    {'b': 'currency', 'a': 'percent'}
    """
    units: dict[str, str] = {}
    for r in results:
        for name, unit in (r.get("units") or {}).items():
            if unit:
                units.setdefault(str(name), str(unit))
    for name, unit in plan_units(result.get("plans") or result.get("plan")).items():
        units.setdefault(name, unit)
    return units


def records_tables(records: Any) -> list[tuple[str, pd.DataFrame]]:
    """The supporting Salesforce records as (title, table) pairs (none when there are none).

    >>> [(t, d.shape) for t, d in records_tables([{"opportunity_name": "Acme", "amount": 5.0}])]
    [('Supporting records', (1, 2))]
    """
    tables: list[tuple[str, pd.DataFrame]] = []
    for g in records_groups(records):
        title = str(g.get("title") or g.get("description") or "Supporting records")
        title = title[:1].upper() + title[1:]
        tables.append((title, display_table(g["columns"], g["rows"], units=g.get("units"))))
    return tables


def records_groups(records: Any) -> list[Mapping[str, Any]]:
    """The supporting records as groups with `columns` and `rows` (empty ones dropped).

    >>> [g["columns"] for g in records_groups([{"name": "Acme", "amount": 5.0}])]
    [['name', 'amount']]
    """
    if not records:
        return []
    groups: list[Mapping[str, Any]]
    if isinstance(records, Mapping):
        groups = [records]
    elif isinstance(records, list) and isinstance(records[0], Mapping) and "rows" in records[0]:
        groups = records
    elif isinstance(records, list) and isinstance(records[0], Mapping):
        groups = [{"columns": list(records[0].keys()), "rows": records}]
    else:
        return []
    out = []
    for g in groups:
        rows = g.get("rows") or []
        cols = g.get("columns") or (list(rows[0].keys()) if rows and isinstance(rows[0], Mapping)
                                    else [])
        if rows and cols:
            out.append({**g, "columns": cols, "rows": rows})
    return out


def same_rows(columns: Sequence[str], rows: Sequence[Any], records: Any) -> bool:
    """Whether a records group repeats the main result (a deal list is its own deals).

    >>> same_rows(["name", "amount"], [["A", 1]], {"columns": ["name", "amount"],
    ...                                            "rows": [["A", 1]]})
    True
    >>> same_rows(["owner", "win_rate"], [["Ann", 0.3]], {"columns": ["name", "amount"],
    ...                                                  "rows": [["A", 1]]})
    False
    """
    if not isinstance(records, Mapping):
        return False
    cols = [str(c) for c in records.get("columns") or []]
    if not cols or cols != [str(c) for c in columns]:
        return False
    mine = [list(r.values()) if isinstance(r, Mapping) else list(r) for r in rows]
    theirs = [list(r.values()) if isinstance(r, Mapping) else list(r)
              for r in records.get("rows") or []]
    n = min(len(mine), len(theirs))
    return mine[:n] == theirs[:n]


def models_used(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """The models the answer's queries actually read, in query order.

    >>> models_used([{"model": "fct_opportunity"}, {"model": "m_forecast"},
    ...              {"model": "fct_opportunity"}, {"sql": "x"}])
    ['fct_opportunity', 'm_forecast']
    """
    return list(dict.fromkeys(str(r["model"]) for r in results if r.get("model")))
