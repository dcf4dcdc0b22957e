"""Salesforce-style 18-character record ids, deterministic from a record number.

A Salesforce id is a 3-character key prefix (`006` opportunity, `001` account, `005` user,
`00E` role, `008` opportunity history, `01J` stage), a 2-character pod, a 10-character
record number, and a 3-character suffix that encodes which of the first 15 characters are
upper case (so the id survives case-insensitive tools). Real record numbers are base 62;
ours are decimal with a fixed width (still valid ids), because DuckDB turns an integer into
decimal text several times faster than into base 62, and the generator writes millions.

>>> sf_id("006", 1)
'0068V1000000001QAA'
>>> sf_id("00E", 42)
'00E8V1000000042UAA'
>>> checksum("0068V1000000001")
'QAA'
"""

from __future__ import annotations

_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
POD = "8V"
#: Record numbers are shown as 1_000_000_000 + number, always 10 digits.
_OFFSET = 1_000_000_000
MAX_RECORDS = 9 * _OFFSET


def checksum(id15: str) -> str:
    """The 3-character case-safety suffix Salesforce appends to a 15-character id."""
    out = ""
    for start in (0, 5, 10):
        chunk = id15[start : start + 5]
        out += _SUFFIX[sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")]
    return out


def sf_id(prefix: str, number: int) -> str:
    """The 18-character id of record `number` (0 ≤ number < 9e9) for a key prefix."""
    if not 0 <= number < MAX_RECORDS:
        raise ValueError(f"record number {number} out of range")
    base = f"{prefix}{POD}{_OFFSET + number}"
    return base + checksum(base)


def sql_id(prefix: str, number_sql: str) -> str:
    """A DuckDB expression giving `sf_id(prefix, <number_sql>)` for every row.

    The suffix is constant per prefix because the record digits hold no upper-case letters.

    >>> sql_id("006", "num")
    "'0068V' || (1000000000 + num)::varchar || 'QAA'"
    """
    head = f"{prefix}{POD}"
    return f"'{head}' || ({_OFFSET} + {number_sql})::varchar || '{checksum(head + '0' * 10)}'"
