"""Load a Salesforce CSV export (or Fivetran-style table files) into the warehouse.

One file per object, named after the object (`Opportunity.csv`) or after the table
(`opportunity.csv`, `user_role.csv`); headers are API names in any case (`StageName`,
`STAGENAME`, `stage_name`). The import is all-or-nothing: it works on a copy of the
warehouse and swaps it in only when every file loaded cleanly, so any problem leaves the
warehouse byte-for-byte as it was. One run reports every problem (the first
`MAX_PROBLEMS`, then how many more), each naming the file, the line, the column and what is
wrong; a file written with another delimiter or encoding is named as such (`sniff`).
`check_csv_dir` runs the same checks in memory and imports nothing.

Only the files themselves are read: a path is never a pattern (a folder named
`sfexport[12]` or a file named `Opportunity*.csv` reads that one file), a symbolic link
that leads out of the folder is refused, and only the contract's columns (plus Fivetran's
system columns) are loaded, so a stray column such as `password` never lands in the
warehouse. A text cell that `whizzy data export` guarded against spreadsheet formulas
(`'=...`, see `whizzy.data.export`) gets its guard quote removed.

DuckDB does the work (its CSV reader, then SQL that finds the bad lines of each check and
casts), so big files load fast; Python only looks at headers and builds SQL.

>>> snake_case("StageName"), snake_case("Product2Id"), snake_case("_fivetran_synced")
('stage_name', 'product_2_id', '_fivetran_synced')
>>> contract_name("STAGENAME", TABLES["opportunity"])
'stage_name'
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from whizzy.core.errors import DataImportError
from whizzy.data.export import NEEDS_GUARD
from whizzy.warehouse.files import glob_escape, is_disk_full, replacing
from whizzy.warehouse.schema import DEFAULT_STAGES, RAW_SCHEMA, TABLES, Table

Progress = Callable[[str, float], None]

#: Tables a usable export must contain; the others are created empty when missing.
REQUIRED_TABLES = ("opportunity", "account", "user")
#: Fivetran system columns and their types (other columns outside the contract are not loaded).
FIVETRAN_COLUMNS = {"_fivetran_synced": "TIMESTAMP", "_fivetran_deleted": "BOOLEAN",
                    "_fivetran_active": "BOOLEAN"}
#: Longest CSV row DuckDB is asked to read, in bytes.
MAX_LINE_SIZE = 10_000_000
_TOO_LONG = (f"the row is longer than {MAX_LINE_SIZE:,} bytes, the most one row may hold; "
             "shorten the long field in it (a pasted document or log?).")
#: Problems one run reports; the rest are counted ("… and 12 more problems").
MAX_PROBLEMS = 20
#: Bytes read at the start of each file to find its delimiter and encoding.
SNIFF_BYTES = 1 << 20
#: Delimiters a spreadsheet may have written instead of the comma, with their names.
_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
#: A text cell `whizzy data export` guarded against formula injection (whizzy.data.export):
#: one quote or more, then a character a spreadsheet starts a formula with (a DuckDB regex).
_GUARDED = "^'" + NEEDS_GUARD[1:]

# YYYY-MM-DD, optionally a time (T or space), optionally Z or an offset like +02:00 / -0530.
_TS_PATTERN = (
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?\s?(Z|[+-]\d{2}:?\d{2})?$"
)
# Parsing macros. DuckDB's own cast reads dates and zone-less date-times fast, but ignores a
# UTC offset; values with an offset (rare) take the slower regex path that applies it.
_MACROS = (
    f"""create or replace temp macro _ts_parts(v) as
        regexp_extract(v, '{_TS_PATTERN}', ['d', 't', 'z'])""",
    """create or replace temp macro _ts_from(p) as
        try_cast(nullif(p.d, '') || ' ' || coalesce(nullif(p.t, ''), '00:00:00') as timestamp)
        - to_minutes(case when p.z in ('', 'Z') then 0 else
            (case when left(p.z, 1) = '-' then -1 else 1 end)
            * (substr(replace(p.z, ':', ''), 2, 2)::integer * 60
               + substr(replace(p.z, ':', ''), 4, 2)::integer) end)""",
    """create or replace temp macro _ts(v) as
        case when v[-1:] = 'Z' then try_cast(v[:-1] as timestamp)
             when contains(v[11:], '+') or contains(v[11:], '-') then _ts_from(_ts_parts(v))
             else try_cast(v as timestamp) end""",
    "create or replace temp macro _date(v) as try_cast(v as date)",
    """create or replace temp macro _bool(v) as
        case lower(v) when 'true' then true when 'false' then false
                      when '1' then true when '0' then false end""",
    "create or replace temp macro _num(v) as try_cast(v as double)",
    """create or replace temp macro _bad_int(x) as
        x is null or not isfinite(x) or x <> round(x) or abs(x) >= 2147483648""",
    "create or replace temp macro _bad_dec(x) as x is null or not isfinite(x) or abs(x) >= 1e16",
)


def snake_case(name: str) -> str:
    """Fivetran's snake_case for a Salesforce API name (`Product2Id` → `product_2_id`)."""
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", "_",
               name.strip())
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return re.sub(r"[^0-9a-zA-Z_]+", "_", s).lower()


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def contract_name(header: str, table: Table) -> str:
    """The column a CSV header maps to: a contract column if it matches one, else snake_case."""
    key = _norm(header)
    for col in table.columns:
        if _norm(col.name) == key:
            return col.name
    return snake_case(header)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the export, where it is (file order, line) and what it is."""

    order: int
    line: int
    message: str


@dataclass
class _Problems:
    """The problems found in one run (each file's own, in file and line order)."""

    found: list[Problem] = field(default_factory=list)
    uncounted: int = 0  # beyond the ones listed (a check lists at most MAX_PROBLEMS rows)

    def add(self, order: int, line: int, message: str) -> None:
        self.found.append(Problem(order, line, message))

    def total(self) -> int:
        return len(self.found) + self.uncounted

    def error(self) -> DataImportError | None:
        """All the problems as one error (None when there are none).

        >>> p = _Problems(); p.add(0, 5, "a.csv, line 5: bad"); p.add(1, 2, "b.csv, line 2: bad")
        >>> print(p.error())
        2 problems in 2 files; nothing was imported (the warehouse is unchanged):
          a.csv, line 5: bad
          b.csv, line 2: bad
        """
        if not self.found:
            return None
        ordered = sorted(self.found, key=lambda p: (p.order, p.line))
        if self.total() == 1:
            return DataImportError(ordered[0].message)
        files = len({p.order for p in ordered})
        shown = ordered[:MAX_PROBLEMS]
        lines = [f"{self.total():,} problems in {files} file{'s' if files > 1 else ''}; "
                 "nothing was imported (the warehouse is unchanged):"]
        lines += [f"  {p.message}" for p in shown]
        rest = self.total() - len(shown)
        if rest:
            lines.append(f"  … and {rest:,} more problem{'s' if rest > 1 else ''}")
        return DataImportError("\n".join(lines))


@dataclass
class _Source:
    """One CSV file being imported and how its headers map onto the table."""

    table: Table
    path: Path
    headers: list[str]  # as in the file
    mapped: dict[str, str]  # contract/snake name → header
    staging: str

    def display(self) -> str:
        return self.path.name


def find_files(directory: Path) -> dict[str, Path]:
    """Map contract table names to the CSV files in `directory` that hold them.

    Accepts object names (`OpportunityHistory.csv`) and table names (`opportunity_history.csv`)
    in any case; two files for one table is an error, and so is a symbolic link that leads
    out of `directory` (`inside` checks it again when the file is read).
    """
    keys = {}
    for name, table in TABLES.items():
        keys[_norm(table.sf_object)] = name
        keys[_norm(name)] = name
    found: dict[str, Path] = {}
    for path in sorted(Path(directory).iterdir()):
        if path.suffix.lower() != ".csv" or not path.is_file():
            continue
        table = keys.get(_norm(path.stem))
        if table is None:
            continue
        inside(path)
        if table in found:
            raise DataImportError(
                f"{found[table].name} and {path.name} both hold {TABLES[table].sf_object}; "
                "keep one of them."
            )
        found[table] = path
    return found


def inside(path: Path) -> Path:
    """`path` with its links resolved, which must still be in `path`'s folder.

    Raises:
        DataImportError: `path` is a link to a file outside its folder.
    """
    folder = path.parent.resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(folder):
        raise DataImportError(
            f"{path.name} is a link to a file outside {path.parent}; only files inside the "
            "folder are imported (copy the file in instead of linking it)."
        )
    return resolved


def _required_files(directory: Path) -> dict[str, Path]:
    """The export's files by table, refusing a folder without the required ones."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataImportError(f"{directory} is not a folder of CSV files.")
    files = find_files(directory)
    missing = [TABLES[t].sf_object + ".csv" for t in REQUIRED_TABLES if t not in files]
    if missing:
        raise DataImportError(
            f"{directory} has no {', '.join(missing)} (required; Fivetran-style names such as "
            f"{TABLES[REQUIRED_TABLES[0]].name}.csv work too)."
        )
    return files


def _stage(con: duckdb.DuckDBPyConnection, files: dict[str, Path], report: Progress
           ) -> dict[str, _Source]:
    """Read and check every file into temp tables; raise once with every problem found."""
    for sql in _MACROS:
        con.execute(sql)
    problems = _Problems()
    sources: dict[str, _Source] = {}
    ordered = sorted(files, key=lambda t: t != "opportunity_stage")  # stages first
    order = {name: k for k, name in enumerate(sorted(files, key=lambda t: files[t].name))}
    for k, name in enumerate(ordered):
        report(f"reading {files[name].name}", 0.7 * k / len(files))
        src = _read(con, TABLES[name], files[name], problems, order[name])
        if src is not None:
            sources[name] = src
    report("checking values", 0.7)
    stage_file = sources.get("opportunity_stage")
    stages = _stage_names(con, stage_file)
    stage_source = ("the stages in " + files["opportunity_stage"].name
                    if stage_file is not None and "api_name" in stage_file.mapped
                    else "the default sales process")
    for name, src in sources.items():
        _validate(con, src, stages, stage_source, problems, order[name])
    error = problems.error()
    if error is not None:
        raise error
    return sources


def check_csv_dir(directory: Path, progress: Progress | None = None) -> dict[str, int]:
    """Check a CSV export as `import_csv_dir` would, without touching any warehouse.

    The files are read into an in-memory database that is thrown away.

    Returns:
        Rows each contract table would get (0 for tables that would be created empty).

    Raises:
        DataImportError: every problem found (up to `MAX_PROBLEMS`, with a count of the rest),
            each naming the file, line, column and what is wrong.
    """
    report = progress or (lambda _step, _fraction: None)
    files = _required_files(Path(directory))
    con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
    try:
        sources = _stage(con, files, report)
        counts = {name: int(con.execute(f"select count(*) from {sources[name].staging}"
                                        ).fetchone()[0]) if name in sources else 0
                  for name in TABLES}
    finally:
        con.close()
    report("done", 1.0)
    return counts


def import_csv_dir(directory: Path, warehouse: Path, progress: Progress | None = None
                   ) -> dict[str, int]:
    """Replace the warehouse's raw `salesforce` tables with the CSV files in `directory`.

    Args:
        directory: folder holding `Opportunity.csv`, `Account.csv`, `User.csv` and optionally
            `OpportunityHistory.csv`, `OpportunityStage.csv`, `UserRole.csv` (or the
            snake_case table names). Other files are ignored.
        warehouse: DuckDB file to update; created when it does not exist.
        progress: optional callable `(step_name, fraction_done)`.

    Returns:
        Rows loaded per contract table (0 for tables created empty).

    Raises:
        DataImportError: every problem found (up to `MAX_PROBLEMS`, with a count of the rest),
            each naming the file, line, column and what is wrong; the warehouse is unchanged.
    """
    report = progress or (lambda _step, _fraction: None)
    files = _required_files(Path(directory))
    warehouse = Path(warehouse)
    if warehouse.is_dir():
        raise DataImportError(f"{warehouse} is a folder; the warehouse must be a DuckDB file.")
    with replacing(warehouse, tag="import", copy_existing=True) as tmp:
        try:
            con = duckdb.connect(str(tmp), config={"preserve_insertion_order": True})
        except duckdb.Error as exc:
            if is_disk_full(exc):
                raise  # the swap turns it into a DiskFullError
            raise DataImportError(
                f"{warehouse} is not a DuckDB warehouse file; choose another --warehouse "
                "or delete it."
            ) from None
        try:
            sources = _stage(con, files, report)
            report("writing tables", 0.85)
            con.execute(f"drop schema if exists {RAW_SCHEMA} cascade")
            con.execute(f"create schema {RAW_SCHEMA}")
            counts = {}
            for name, table in TABLES.items():
                counts[name] = _load(con, table, sources.get(name))
            con.execute("checkpoint")
        finally:
            con.close()
    report("done", 1.0)
    return counts


# --------------------------------------------------------------------------------------
# Reading


def sniff(path: Path, head: bytes) -> tuple[int, str] | None:
    r"""A problem with how the file is written, as (line, message), before reading it as CSV.

    `head` is the file's first bytes. Names the encoding when it is not UTF-8 and the
    delimiter when it is not the comma.

    >>> print(sniff(Path("Account.csv"), b"Id;Name\n001;Acme\n")[1])
    Account.csv, line 1: this file is separated by ';' (semicolons), not commas; ...
    >>> print(sniff(Path("Account.csv"), b"Id,Name\n001,Caf\xe9\n")[1])
    Account.csv, line 2: the text is not valid UTF-8 (it looks Windows-1252 or Latin-1); ...
    >>> sniff(Path("Account.csv"), b'Id,Name\n001,"Acme; Inc"\n') is None
    True
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return 1, f"{path.name}, line 1: the file is UTF-16 encoded; save it as UTF-8."
    body = head.removeprefix(b"\xef\xbb\xbf")
    try:  # not final: the sample may end inside a character
        text = codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        try:
            body.decode("cp1252")
            guess = "Windows-1252 or Latin-1"
        except UnicodeDecodeError:
            guess = "Latin-1 or another 8-bit encoding"
        return line, (f"{path.name}, line {line}: the text is not valid UTF-8 (it looks "
                      f"{guess}); save the file as UTF-8.")
    header = re.sub(r'"[^"]*"', "", text.split("\n", 1)[0])  # quoted commas do not count
    if "," not in header:
        counts = {d: header.count(d) for d in _DELIMITERS}
        found = max(counts, key=lambda d: counts[d])
        if counts[found]:
            shown = "\\t" if found == "\t" else found
            return 1, (f"{path.name}, line 1: this file is separated by '{shown}' "
                       f"({_DELIMITERS[found]}), not commas; save it as comma-separated CSV "
                       "(UTF-8).")
    return None


def _read(con: duckdb.DuckDBPyConnection, table: Table, path: Path, problems: _Problems,
          order: int) -> _Source | None:
    """Read one CSV as text into a temp table, noting its structural problems with their line.

    Returns None when the file cannot be checked further (its rows did not all read).
    """
    pattern = _literal_pattern(con, inside(path), path.name)
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.removeprefix(b"\xef\xbb\xbf").strip():
        problems.add(order, 1, f"{path.name} is empty: expected a header row of column names.")
        return None
    wrong = sniff(path, head)
    if wrong is not None:
        problems.add(order, *wrong)
        return None
    staging = f"_import_{table.name}"
    rejects = f"_rejects_{table.name}"
    try:
        con.execute(
            f"create or replace temp table {staging} as select * from read_csv("
            f"{_lit(pattern)}, header = true, all_varchar = true, delim = ',', quote = '\"', "
            f"escape = '\"', encoding = 'utf-8', store_rejects = true, "
            f"rejects_table = {_lit(rejects)}, rejects_scan = {_lit(rejects + '_scan')}, "
            f"max_line_size = {MAX_LINE_SIZE})"
        )
    except duckdb.Error as exc:
        if is_disk_full(exc):
            raise  # the swap turns it into a DiskFullError
        if "maximum line size" in str(exc).lower():
            line = _long_row_line(path)
            problems.add(order, line or 0, _long_row_message(path))
            return None
        first = str(exc).strip().splitlines()[0]
        problems.add(order, 0, f"{path.name} could not be read as CSV: {first}")
        return None
    count = con.execute(f"select count(*) from {rejects}").fetchone()[0]
    if count:
        for err in con.execute(
            f"select line, line_byte_position, column_name, error_type, error_message "
            f"from {rejects} order by line limit {MAX_PROBLEMS}"
        ).fetchall():
            problems.add(order, _physical_line(path, err[1], err[0]),
                         _structural_message(path, *err))
        problems.uncounted += max(0, count - MAX_PROBLEMS)
        return None  # its other rows' line numbers are unknown until these read
    headers = [r[0] for r in con.execute(f"describe {staging}").fetchall()]
    mapped: dict[str, str] = {}
    wanted = set(table.names) | set(FIVETRAN_COLUMNS)
    for h in headers:
        name = contract_name(h, table)
        if name not in wanted:
            continue  # not in the data contract: never loaded
        if name in mapped:
            problems.add(order, 1, f"{path.name}, line 1: columns {mapped[name]!r} and {h!r} "
                                   f"are the same column ({name}); keep one of them.")
            continue
        mapped[name] = h
    for col in table.columns:
        if col.required and col.name not in mapped:
            problems.add(order, 1,
                         f"{path.name}, line 1, column {_api_name(col.name)}: missing required "
                         f"column {_api_name(col.name)} ({col.name}).")
    return _Source(table, path, headers, mapped, staging)


def _literal_pattern(con: duckdb.DuckDBPyConnection, path: Path, shown: str) -> str:
    """The DuckDB file pattern that reads exactly `path` (DuckDB expands `*`, `?`, `[...]`).

    Checked with DuckDB's own `glob()`, so a path the escaping cannot express is refused
    rather than read as a pattern.
    """
    pattern = glob_escape(str(path))
    matched = [r[0] for r in con.execute("select file from glob(?)", [pattern]).fetchall()]
    if matched != [str(path)]:
        raise DataImportError(
            f"{shown}: its path {str(path)!r} cannot be passed to the CSV reader as it is; "
            "move the files to a folder whose path has no * ? [ ] characters."
        )
    return pattern


def _long_row_line(path: Path, limit: int = MAX_LINE_SIZE) -> int | None:
    """The physical line on which the first CSV row longer than `limit` bytes starts.

    Rows end at a newline outside double quotes, so a quoted field may span lines.
    """
    line = record_line = 1
    start = offset = 0
    quoted = False
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            for match in re.finditer(rb'["\n]', chunk):
                if match.group() == b'"':
                    quoted = not quoted
                    continue
                if offset + match.start() - start > limit:
                    return record_line
                line += 1
                if not quoted:
                    start, record_line = offset + match.end(), line
            offset += len(chunk)
            if offset - start > limit:
                return record_line
    return None


def _long_row_message(path: Path) -> str:
    line = _long_row_line(path)
    where = f"{path.name}, line {line}" if line is not None else path.name
    return f"{where}: {_TOO_LONG}"


def _api_name(column: str) -> str:
    """The Salesforce API name of a contract column (`stage_name` → `StageName`)."""
    return "".join(p[:1].upper() + p[1:] for p in column.split("_"))


def _physical_line(path: Path, byte_position: int | None, fallback: int) -> int:
    if byte_position is None:
        return fallback
    with path.open("rb") as fh:
        return fh.read(byte_position).count(b"\n") + 1


def _structural_message(path: Path, line: int, byte_pos: int | None, column: str | None,
                        kind: str, message: str) -> str:
    where = f"{path.name}, line {_physical_line(path, byte_pos, line)}"
    if column:
        where += f", column {column}"
    if kind == "LINE SIZE OVER MAXIMUM":
        return f"{where}: {_TOO_LONG}"
    if kind == "INVALID ENCODING" or "unicode" in message.lower():
        return f"{where}: the text is not valid UTF-8; save the file as UTF-8."
    m = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if m:
        return (f"{where}: the row has {m.group(2)} fields but the header has {m.group(1)} "
                "(a stray comma or an unquoted value?).")
    return f"{where}: {message.strip().splitlines()[0]}"


# --------------------------------------------------------------------------------------
# Checking values


def _stage_names(con: duckdb.DuckDBPyConnection, src: _Source | None) -> list[str]:
    """Allowed stage names: the stage file's api_name values, else the default process."""
    if src is None or "api_name" not in src.mapped:
        return [s[0] for s in DEFAULT_STAGES]
    col = _q(src.mapped["api_name"])
    return [r[0] for r in con.execute(
        f"select distinct trim({col}) from {src.staging} where nullif(trim({col}), '') is not null"
    ).fetchall()]


def _value(col: str) -> str:
    return f"nullif(trim({_q(col)}), '')"


_TYPE_CHECKS = {
    "DATE": ("_date({v}) is null", "is not a date (use YYYY-MM-DD)"),
    "TIMESTAMP": ("_ts({v}) is null",
                  "is not a date-time (use YYYY-MM-DD HH:MM:SS or ISO-8601 like "
                  "2024-05-01T09:30:00Z)"),
    "BOOLEAN": ("_bool({v}) is null", "is not a boolean (use true/false or 1/0)"),
    "INTEGER": ("_bad_int(_num({v}))", "is not a whole number"),
    "DECIMAL(18,2)": ("_bad_dec(_num({v}))",
                      "is not a number (digits with an optional . and no thousands separators)"),
}


def _live_filter(src: _Source) -> str:
    """SQL predicate for rows that are not deleted (their stages must be known)."""
    parts = []
    if "is_deleted" in src.mapped:
        parts.append(f"coalesce(_bool({_value(src.mapped['is_deleted'])}), false)")
    if "_fivetran_deleted" in src.mapped:
        parts.append(f"coalesce(_bool({_value(src.mapped['_fivetran_deleted'])}), false)")
    if "_fivetran_active" in src.mapped:
        parts.append(f"not coalesce(_bool({_value(src.mapped['_fivetran_active'])}), true)")
    return "not (" + " or ".join(parts) + ")" if parts else "true"


def _validate(con: duckdb.DuckDBPyConnection, src: _Source, stages: list[str],
              stage_source: str, problems: _Problems, order: int) -> None:
    """Note every bad cell of the file (up to `MAX_PROBLEMS` per check, the rest counted)."""
    checks: list[tuple[str, str, str]] = []  # (predicate, column header, problem)
    for col in src.table.columns:
        header = src.mapped.get(col.name)
        if header is None:
            continue
        v = _value(header)
        if col.required:
            checks.append((f"{v} is null", header, "is empty (a value is required)"))
        if col.type in _TYPE_CHECKS:
            predicate, problem = _TYPE_CHECKS[col.type]
            checks.append((f"{v} is not null and ({predicate.format(v=v)})", header,
                           f"{{value}} {problem}"))
    for name, type_ in FIVETRAN_COLUMNS.items():
        header = src.mapped.get(name)
        if header is not None:
            predicate, problem = _TYPE_CHECKS[type_]
            v = _value(header)
            checks.append((f"{v} is not null and ({predicate.format(v=v)})", header,
                           f"{{value}} {problem}"))
    stage_header = src.mapped.get("stage_name")
    if src.table.name in ("opportunity", "opportunity_history") and stage_header:
        allowed = ", ".join(_lit(s) for s in stages) or "''"
        checks.append((
            f"{_value(stage_header)} is not null and trim({_q(stage_header)}) not in ({allowed}) "
            f"and {_live_filter(src)}",
            stage_header, f"stage {{value}} is not one of {stage_source}",
        ))
    if checks:
        select = ", ".join(
            f"count(*) filter (where {p}), "
            f"(list(rowid order by rowid) filter (where {p}))[1:{MAX_PROBLEMS}]"
            for p, _, _ in checks)
        found = con.execute(f"select {select} from {src.staging}").fetchone()
        for k, (_, header, problem) in enumerate(checks):
            count, rows = found[2 * k], found[2 * k + 1] or []
            problems.uncounted += max(0, count - len(rows))
            for row in rows:
                value = con.execute(f"select {_q(header)} from {src.staging} where rowid = ?",
                                    [row]).fetchone()[0]
                line = _line_of_row(con, src, row)
                problems.add(order, line, _value_message(src, line, header, problem, value))
    # duplicate ids (the cheap count first; the window query only when there are some)
    if "id" not in src.mapped:
        return
    id_col = _q(src.mapped["id"])
    total, distinct = con.execute(
        f"select count({id_col}), count(distinct trim({id_col})) from {src.staging}").fetchone()
    if total == distinct:
        return
    dups = con.execute(f"""
        select rowid, first_row, {id_col} from (
            select rowid, {id_col}, min(rowid) over (partition by trim({id_col})) as first_row,
                   row_number() over (partition by trim({id_col}) order by rowid) as k
            from {src.staging} where nullif(trim({id_col}), '') is not null)
        where k >= 2 order by rowid limit {MAX_PROBLEMS}""").fetchall()
    problems.uncounted += max(0, total - distinct - len(dups))
    for row, first_row, value in dups:
        first_line = _line_of_row(con, src, first_row)
        line = _line_of_row(con, src, row)
        problems.add(order, line, _value_message(
            src, line, src.mapped["id"], f"duplicate Id {{value}} (first on line {first_line})",
            value))


def _line_of_row(con: duckdb.DuckDBPyConnection, src: _Source, row: int) -> int:
    """Physical line of staging row `row`: header + rows before + newlines inside their fields."""
    newlines = " + ".join(
        f"coalesce(length({_q(h)}) - length(replace({_q(h)}, chr(10), '')), 0)"
        for h in src.headers
    )
    extra = con.execute(
        f"select coalesce(sum({newlines}), 0) from {src.staging} where rowid < ?", [row]
    ).fetchone()[0]
    return int(row) + 2 + int(extra)


def _value_message(src: _Source, line: int, header: str, problem: str, value: object) -> str:
    shown = repr(value if value is None else str(value)[:80])
    return (f"{src.display()}, line {line}, column {header}: "
            + problem.format(value=shown))


# --------------------------------------------------------------------------------------
# Loading


def _cast(col_type: str, v: str) -> str:
    if col_type == "DATE":
        return f"_date({v})"
    if col_type == "TIMESTAMP":
        return f"_ts({v})"
    if col_type == "BOOLEAN":
        return f"_bool({v})"
    if col_type == "INTEGER":
        return f"round(_num({v}))::integer"
    if col_type.startswith("DECIMAL"):
        return f"coalesce(try_cast({v} as {col_type}), _num({v})::{col_type})"
    return v


def _load(con: duckdb.DuckDBPyConnection, table: Table, src: _Source | None) -> int:
    """Create `salesforce.<table>` (contract columns, then Fivetran's) and fill it."""
    target = f"{RAW_SCHEMA}.{_q(table.name)}"
    if src is None:
        con.execute(table.ddl())
        return 0
    cols = [(c.name, c.type) for c in table.columns]
    cols += [(name, type_) for name, type_ in FIVETRAN_COLUMNS.items() if name in src.mapped]
    con.execute(f"create table {target} ("
                + ", ".join(f"{_q(n)} {t}" for n, t in cols) + ")")
    exprs = []
    for name, col_type in cols:
        header = src.mapped.get(name)
        if header is None:
            exprs.append(f"null::{col_type}")
        elif col_type == "VARCHAR":  # text is kept as written, less an export's formula guard
            exprs.append(f"case when regexp_matches({_q(header)}, {_lit(_GUARDED)}) "
                         f"then {_q(header)}[2:] else {_q(header)} end")
        else:
            exprs.append(_cast(col_type, _value(header)))
    con.execute(f"insert into {target} select {', '.join(exprs)} from {src.staging} "
                "order by rowid")
    con.execute(f"drop table {src.staging}")
    return int(con.execute(f"select count(*) from {target}").fetchone()[0])
