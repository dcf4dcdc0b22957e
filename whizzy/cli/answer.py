r"""One `whizzy ask` answer as text: for a terminal (Rich, fitted to its width) or a pipe.

Both show the question, the answer, the result as a table formatted like the chat's
(`whizzy.core.cells`: labels, ``31.2%``, ``$1,240,000``), the deals behind the figure, the
follow-ups and a footer; the SQL only when asked. A terminal gets a table whose columns fit
its width (headers wrap between words, long text wraps inside its cell); a pipe or a file
gets plain lines that are never wrapped, columns padded with spaces, so `grep` and `cut`
see whole rows.

Everything in an answer is data (warehouse values, LLM text, the question): it is printed
as plain text, never read as Rich markup, with terminal control characters removed
(`whizzy.cli.terminal`).

>>> print("\n".join(plain_table(["Owner", "Win rate"], [["Ann", "31.2%"], ["Bo", "8.0%"]])))
Owner  Win rate
-----  --------
Ann       31.2%
Bo         8.0%
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from whizzy.cli.terminal import clean, text
from whizzy.core.cells import numeric_columns, plan_units, table_text

#: Rows of the main result shown (the JSON carries up to 50; `--json` for them all).
RESULT_ROWS = 20
#: Deals behind the figure shown.
RECORD_ROWS = 10


@dataclass(frozen=True)
class Shown:
    """What to show besides the answer: the SQL (`--sql`) and the deals (`--no-records`)."""

    sql: bool = False
    records: bool = True


@dataclass(frozen=True)
class Block:
    """A titled table: labels, formatted cells, which columns are figures, rows left out."""

    title: str
    labels: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    more: int = 0


def _one_line(value: Any) -> str:
    """A cell on one line: control characters removed, line breaks and tabs as spaces."""
    return re.sub(r"\s*[\n\t\r]\s*", " ", clean(value))


def _block(title: str, columns: Sequence[str], rows: Sequence[Any], units: Mapping[str, str],
           limit: int) -> Block:
    labels, cells = table_text(columns, list(rows)[:limit], units)
    labels = [_one_line(x) for x in labels]
    cells = [[_one_line(c) for c in row] for row in cells]
    return Block(title, labels, cells, numeric_columns(cells, len(labels)),
                 max(0, len(rows) - limit))


def blocks(result: Mapping[str, Any], shown: Shown) -> list[Block]:
    """The answer's tables: its result, then (unless hidden) the deals behind the figure.

    >>> [b.title for b in blocks({"columns": ["a"], "rows": [[1]],
    ...     "records": {"title": "the deals behind the figure", "columns": ["amount"],
    ...                 "rows": [[5.0]]}}, Shown())]
    ['', 'The deals behind the figure']
    """
    out: list[Block] = []
    units = plan_units(result.get("plan"))
    if result.get("rows") and result.get("columns"):
        out.append(_block("", result["columns"], result["rows"], units, RESULT_ROWS))
    records = result.get("records")
    groups = [records] if isinstance(records, Mapping) else records if isinstance(
        records, list) else []
    for group in groups if shown.records else []:
        if not isinstance(group, Mapping) or not group.get("rows") or not group.get("columns"):
            continue
        title = clean(group.get("title") or "the deals behind the figure")
        out.append(_block(title[:1].upper() + title[1:], group["columns"], group["rows"],
                          dict(group.get("units") or {}), RECORD_ROWS))
    return out


def plain_table(labels: Sequence[str], rows: Sequence[Sequence[str]],
                numeric: Sequence[bool] | None = None) -> list[str]:
    """A table as plain lines: padded columns, figures right-aligned, never wrapped."""
    figures = list(numeric) if numeric is not None else numeric_columns(rows, len(labels))
    widths = [max([len(label)] + [len(r[k]) for r in rows]) for k, label in enumerate(labels)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if figures[k] else c.ljust(w)
                 for k, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    return [line(labels), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def column_widths(block: Block, width: int) -> list[int]:
    """Each column's width so the table fits `width` terminal columns.

    A column is as wide as its longest cell or header. When the table is too wide for the
    terminal, the widest text columns wrap first (down to 18 characters), then headers wrap
    between words, then text columns wrap further between words, and only then inside them
    (down to 4); a figure or date is never narrower than itself. Three characters separate
    columns.

    >>> b = Block("", ["Name", "Stage name", "Won amount"],
    ...           [["Kingfisher Foods Corp. - Pilot", "Negotiation/Review", "$667,500"]],
    ...           [False, False, True])
    >>> column_widths(b, 100), column_widths(b, 45), column_widths(b, 40), column_widths(b, 20)
    ([30, 18, 10], [13, 18, 8], [10, 16, 8], [4, 4, 8])
    """
    words = [max((len(w) for w in label.split()), default=1) for label in block.labels]
    heads = [len(label) for label in block.labels]
    cells = [max((len(r[k]) for r in block.rows), default=0) for k in range(len(words))]
    fixed = block.numeric
    wanted = [max(h, c) for h, c in zip(heads, cells, strict=True)]
    cell_words = [max((len(w) for r in block.rows for w in r[k].split()), default=0)
                  for k in range(len(heads))]
    floors = (  # in turn: long text wraps, headers wrap, text wraps between words, then in them
        [w if fixed[k] else max(heads[k], min(cells[k], 18)) for k, w in enumerate(wanted)],
        [max(words[k], cells[k] if fixed[k] else min(cells[k], 18)) for k in range(len(heads))],
        [cells[k] if fixed[k] else max(words[k], cell_words[k]) for k in range(len(heads))],
        [cells[k] if fixed[k] else 4 for k in range(len(heads))],
    )
    room = width - 3 * (len(wanted) - 1)
    for floor in floors:
        while sum(wanted) > room:
            give = [k for k in range(len(wanted)) if wanted[k] > max(floor[k], 1)]
            if not give:
                break
            wanted[max(give, key=lambda k: wanted[k])] -= 1
    return wanted


def _footer(result: Mapping[str, Any], thread: str) -> str:
    usage = result.get("usage") or {}
    llm = ""
    if result.get("engine") == "llm":
        llm = (f" · LLM {usage.get('calls', 0)} call(s), {usage.get('input_tokens', 0)} in / "
               f"{usage.get('output_tokens', 0)} out tokens")
    models = ", ".join(map(clean, result.get("models") or [])) or "no model"
    return (f"{clean(result.get('intent', ''))} · {models} · "
            f"{float(result.get('elapsed_ms') or 0):.0f} ms{llm} · thread {clean(thread)}")


def _more(block: Block) -> str:
    return f"… {block.more} more rows (--json shows them all)" if block.more else ""


def print_plain(result: Mapping[str, Any], thread: str, shown: Shown, out: IO[str]) -> None:
    """The answer as plain, unwrapped lines (stdout is a pipe or a file)."""
    lines = [f"Q: {_one_line(result.get('question', ''))}", clean(result.get("answer", ""))]
    for block in blocks(result, shown):
        lines.append("")
        if block.title:
            lines.append(f"{block.title}:")
        lines += plain_table(block.labels, block.rows, block.numeric)
        if block.more:
            lines.append(_more(block))
    if shown.sql:
        for sql in result.get("sql") or []:
            lines += ["", "SQL:", clean(sql)]
    if result.get("follow_ups"):
        lines += ["", "Follow-ups: " + " · ".join(map(_one_line, result["follow_ups"]))]
    lines += [_footer(result, thread), ""]
    out.write("\n".join(lines) + "\n")
    out.flush()


def print_rich(result: Mapping[str, Any], thread: str, shown: Shown, console: Any) -> None:
    """The answer on a terminal: tables fitted to its width, SQL highlighted."""
    from rich import box
    from rich.syntax import Syntax
    from rich.table import Table
    from rich.text import Text

    console.print(Text.assemble(("Q:", "bold"), " ", text(result.get("question", ""))))
    console.print(text(result.get("answer", "")))
    for block in blocks(result, shown):
        console.print()
        if block.title:
            console.print(text(block.title, "bold"))
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      header_style="bold", expand=False)
        widths = column_widths(block, console.width - 1)  # Rich keeps one column spare
        for k, label in enumerate(block.labels):
            if block.numeric[k]:  # a figure is never broken across lines (it fits its width)
                table.add_column(text(label), justify="right", width=widths[k])
            else:  # text wraps between words; a header is cut inside a word only when it must
                table.add_column(text(label), overflow="fold", width=widths[k])
        for row in block.rows:
            table.add_row(*(text(c) for c in row))
        console.print(table)
        if block.more:
            console.print(text(_more(block), "dim"))
    if shown.sql:
        for sql in result.get("sql") or []:
            console.print()
            console.print(Syntax(clean(sql), "sql", theme="ansi_dark", word_wrap=True))
    if result.get("follow_ups"):
        console.print()
        console.print(text("Follow-ups: " + " · ".join(map(_one_line, result["follow_ups"])),
                           "dim"))
    console.print(text(_footer(result, thread), "dim"))
    console.print()
