"""One converter from warehouse and Python values to JSON-friendly data.

Answers, checkpoints, the chat's elements, eval reports and bench results all pass their
values through `jsonable`, so a date, a Decimal or a NaN reads the same everywhere.

>>> import datetime as dt
>>> from decimal import Decimal
>>> jsonable({"d": dt.date(2026, 7, 1), "x": [Decimal("1.50"), float("nan")], 3: (True,)})
{'d': '2026-07-01', 'x': [1.5, None], '3': [True]}
>>> jsonable(dt.datetime(2026, 7, 1, 9, 30))
'2026-07-01 09:30:00'
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    """A JSON-friendly copy of `value`.

    Dates as ISO text (datetimes with a space), Decimals as floats, NaN and infinities as
    None, mappings with text keys, sequences and sets as lists, pydantic models as their
    JSON dump; anything else that is not a JSON scalar becomes its text.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return jsonable(float(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)
