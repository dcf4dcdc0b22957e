"""Downloads of the tables an answer shows: CSV and XLSX, capped at the row limit.

Each table the chat shows (the result, the deals behind it) comes with both files. They
hold the query's values (numbers stay numbers), under the table's column labels, at most
`row_limit` rows; the file name says what the table is and the data's as-of date.
"Download this" / "export that as CSV" about the answer on screen is answered with these
files (`export_request`); any other export (a bulk dump of a table) is the assistant's to
refuse, like every change to data.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from whizzy.chat.charts import label_of, to_frame

CSV_MIME = "text/csv"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportFile:
    """One downloadable file: its name, bytes and MIME type."""

    name: str
    content: bytes
    mime: str


def file_stem(what: str, as_of: str | None) -> str:
    """A file name (without extension) saying what the table is and as of when.

    >>> file_stem("The deals behind the figure", "2026-11-15")
    'whizzy-the-deals-behind-the-figure-as-of-2026-11-15'
    >>> file_stem("Win rate by owner / Q3?", None)
    'whizzy-win-rate-by-owner-q3'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")[:60].strip("-") or "table"
    return f"whizzy-{slug}" + (f"-as-of-{as_of}" if as_of else "")


def export_frame(columns: Sequence[str], rows: Sequence[Any], row_limit: int) -> pd.DataFrame:
    """The rows as exported: labelled columns, values as the query returned them.

    >>> export_frame(["owner_name", "win_rate"], [["Ann", 0.31], ["Bo", 0.2]], 1)
      Owner name  Win rate
    0        Ann      0.31
    """
    frame = to_frame(list(columns), list(rows)[: max(row_limit, 0)])
    frame = frame[[c for c in frame.columns if f"{c}_label" not in frame.columns]]
    return frame.rename(columns={c: label_of(c) for c in frame.columns})


def sheet_name(what: str) -> str:
    """A worksheet name Excel takes: no brackets, colons, ``*?/`` or quotes, 31 UTF-16 units.

    An emoji is two units: "📉📉 win rate …" cut at 31 characters was too long (the bench's
    hostile questions made the export raise).

    >>> sheet_name("Top reps: win rate?"), sheet_name("📉" * 20), sheet_name("''")
    ('Top reps  win rate', '📉📉📉📉📉📉📉📉📉📉📉📉📉📉📉', 'Table')
    """
    name = re.sub(r"[\[\]:*?/\\']", " ", what).strip()
    while len(name.encode("utf-16-le")) > 62:
        name = name[:-1]
    return name.strip() or "Table"


def export_files(what: str, frame: pd.DataFrame, as_of: str | None) -> list[ExportFile]:
    """The CSV and XLSX files of one table.

    >>> files = export_files("Result", pd.DataFrame({"Owner": ["Ann"]}), "2026-11-15")
    >>> [(f.name, f.content[:2]) for f in files]
    [('whizzy-result-as-of-2026-11-15.csv', b'Ow'), ('whizzy-result-as-of-2026-11-15.xlsx', b'PK')]
    """
    stem = file_stem(what, as_of)
    csv = frame.map(csv_safe).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    book = io.BytesIO()
    # a name like "=HYPERLINK(...)" stays text in the workbook, never a formula or a link
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(book, engine="xlsxwriter", engine_kwargs={"options": options}) as w:
        frame.to_excel(w, index=False, sheet_name=sheet_name(what))
    return [ExportFile(f"{stem}.csv", csv, CSV_MIME),
            ExportFile(f"{stem}.xlsx", book.getvalue(), XLSX_MIME)]


def csv_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading quote (OWASP).

    >>> csv_safe("=HYPERLINK(1)"), csv_safe("Acme"), csv_safe(-5)
    ("'=HYPERLINK(1)", 'Acme', -5)
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


_EXPORT = re.compile(
    r"^(?:please |can you |could you |pls )*(?:export|download|save|give me|send me|get me)"
    r"(?: me)? (?:this|that|it|these|those|the (?:table|result|results|answer|data above|"
    r"deals above|above)|the table above)"
    r"(?: (?:as|to|in|into) (?:an? )?(?P<format>csv|xlsx|excel|spreadsheet)(?: file)?)?"
    r"(?: please)?[.!?]*$"
)


def export_request(question: str) -> str | None:
    """The format asked for when the question asks to download the answer on screen.

    Only "this"/"that"/"the table": "export all accounts" is a bulk dump, not this.

    >>> export_request("Download this as CSV"), export_request("export that to excel")
    ('csv', 'xlsx')
    >>> export_request("Can you export the table?")
    'both'
    >>> export_request("Export all accounts to a CSV file") is None
    True
    """
    m = _EXPORT.match(" ".join(question.lower().split()))
    if not m:
        return None
    fmt = m.group("format")
    return "both" if fmt is None else ("csv" if fmt == "csv" else "xlsx")
