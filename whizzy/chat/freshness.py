"""How fresh the data is: the warehouse's as-of date and build time, or why it can't be read.

Both come from the one-row `build_info` model every build writes, read through the agents'
own warehouse cache (`whizzy.warehouse.reader.open_warehouse`, cached per file version), so the
footer describes exactly the warehouse version that answered, and a `whizzy build` that
swaps in a new file shows up on the next answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from whizzy.core.errors import WarehouseMissingError
from whizzy.warehouse.reader import open_warehouse


@dataclass(frozen=True)
class Freshness:
    """The facts a footer shows about the data behind an answer."""

    as_of_date: dt.date
    built_at: dt.datetime | None

    @property
    def built_label(self) -> str:
        """The build time for people (UTC, minutes).

        >>> Freshness(dt.date(2026, 11, 15), dt.datetime(2026, 11, 16, 9, 5, 30)).built_label
        '2026-11-16 09:05 UTC'
        >>> Freshness(dt.date(2026, 11, 15), None).built_label
        'unknown'
        """
        if self.built_at is None:
            return "unknown"
        t = self.built_at
        if t.tzinfo is not None:
            t = t.astimezone(dt.UTC).replace(tzinfo=None)
        return t.strftime("%Y-%m-%d %H:%M UTC")


def parse_built_at(value: object) -> dt.datetime | None:
    """`build_info.built_at` (a UTC timestamp, maybe as text) as a datetime.

    >>> parse_built_at("2026-11-16 09:05:30.123"), parse_built_at(None), parse_built_at("?")
    (datetime.datetime(2026, 11, 16, 9, 5, 30, 123000), None, None)
    """
    if isinstance(value, dt.datetime):
        return value
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def warehouse_freshness(path: Path) -> Freshness:
    """As-of date and build time of `path`, or a typed error saying how to fix it.

    Raises:
        WarehouseMissingError: no file at `path`, or a file DuckDB can't open.
        WarehouseNotBuiltError: the file holds no built models or has no manifest beside it.
    """
    try:
        wh = open_warehouse(path)
    except duckdb.Error as exc:
        raise WarehouseMissingError(
            f"The warehouse at {path} can't be opened ({str(exc).splitlines()[0]})."
        ) from exc
    return Freshness(as_of_date=wh.as_of, built_at=parse_built_at(wh.built_at))
