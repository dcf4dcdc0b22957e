"""`whizzy data`: Salesforce data into the warehouse (generate, import) or out of it (export)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from whizzy.cli import terminal
from whizzy.cli.common import add_warehouse_flag, settings_from
from whizzy.cli.terminal import escaped
from whizzy.core.errors import ConfigError, DataImportError
from whizzy.warehouse.schema import TABLES

console = terminal.console()

GENERATE_HELP = """\
Write a synthetic but realistic Salesforce org into the warehouse: users and a role
hierarchy, accounts across industries and countries, opportunities over the three years
before the as-of date, and their full OpportunityHistory (stage changes, close-date pushes,
amount changes). The same arguments always give the same data. Any existing raw data in
the warehouse file is replaced (the file is rewritten atomically).

examples:
  whizzy data generate
  whizzy data generate --opportunities 100000 --seed 7 --as-of 2026-11-15
"""

IMPORT_HELP = """\
Load a Salesforce CSV export into the warehouse's raw `salesforce` tables, replacing what
is there. DIR holds one file per object: Opportunity.csv, Account.csv and User.csv
(required), OpportunityHistory.csv, OpportunityStage.csv and UserRole.csv (optional; created
empty when missing). Fivetran-style table names (opportunity.csv, user_role.csv) work too.
Headers are API names in any case (StageName, STAGENAME, stage_name); dates are YYYY-MM-DD,
YYYY-MM-DD HH:MM:SS or ISO-8601 with Z or an offset (stored as UTC); booleans are
true/false or 1/0. Only the data contract's columns (and Fivetran's _fivetran_* flags) are
loaded; other columns are ignored. File and folder names are read as they are (never as
patterns), and a symbolic link that leads out of DIR is refused. A text cell starting with
' before = + - @ (as `whizzy data export` writes them) loses that one quote.

All or nothing: if any file has a problem, the warehouse is left exactly as it was. Every
problem is reported in one run (the first 20, then how many more), each naming the file,
line, column and what is wrong; a file saved with another delimiter (;) or encoding
(Windows-1252, UTF-16) is named as such. --check does the same checks and imports nothing.

examples:
  whizzy data import ~/Downloads/salesforce-export
  whizzy data import --check ~/Downloads/salesforce-export
"""

EXPORT_HELP = """\
Write the warehouse's raw `salesforce` tables to DIR as a Salesforce-style CSV export
(Opportunity.csv, OpportunityHistory.csv, Account.csv, User.csv, UserRole.csv,
OpportunityStage.csv) with API-name headers. `whizzy data import DIR` reads them back.
Text cells starting with = + - @, a tab or a carriage return get a leading ' so that a
spreadsheet shows them as text instead of running them as formulas (the import removes it).

example:
  whizzy data export ./export
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add `whizzy data generate|import|export`."""
    data = sub.add_parser(
        "data",
        help="generate a demo Salesforce org, import a CSV export, or export to CSV",
        description="Put Salesforce data into the warehouse, or take it out.",
    )
    add_warehouse_flag(data)
    actions = data.add_subparsers(dest="data_command", metavar="ACTION")
    fmt = argparse.RawDescriptionHelpFormatter

    gen = actions.add_parser("generate", help="write a synthetic Salesforce org",
                             description=GENERATE_HELP, formatter_class=fmt)
    add_warehouse_flag(gen)
    gen.add_argument("--opportunities", type=_positive_int, default=5000, metavar="N",
                     help="number of opportunities (default 5000; users and accounts scale)")
    gen.add_argument("--seed", type=int, default=42, metavar="S",
                     help="random seed (default 42)")
    gen.add_argument("--as-of", type=_iso_date, default=None, metavar="YYYY-MM-DD",
                     help="the org's 'today': nothing happens after it (default: today)")
    gen.add_argument("--months", type=_positive_int, default=36, metavar="M",
                     help="months of history before the as-of date (default 36)")
    gen.add_argument("--open-share", type=_share, default=None, metavar="F",
                     help="fraction of opportunities still open at the as-of date "
                          "(0-1; default: what the sales cycle gives, about a sixth)")
    gen.set_defaults(func=run_generate)

    imp = actions.add_parser("import", help="load a Salesforce CSV export (all or nothing)",
                             description=IMPORT_HELP, formatter_class=fmt)
    add_warehouse_flag(imp)
    imp.add_argument("dir", metavar="DIR", type=Path, help="folder holding the CSV files")
    imp.add_argument("--check", action="store_true",
                     help="only check the files and report every problem; import nothing")
    imp.set_defaults(func=run_import)

    exp = actions.add_parser("export", help="write the raw tables as Salesforce-style CSVs",
                             description=EXPORT_HELP, formatter_class=fmt)
    add_warehouse_flag(exp)
    exp.add_argument("dir", metavar="DIR", type=Path, help="folder to write (created if needed)")
    exp.set_defaults(func=run_export)

    data.set_defaults(func=lambda args: _help(data))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-11-15, got {text!r}") from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}"
                                         ) from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


@contextmanager
def _progress_bar(title: str) -> Iterator[Callable[[str, float], None]]:
    """A rich progress bar driven by `(step_name, fraction)` callbacks."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # no bar (and no stray blank lines) in logs and pipes
    ) as bar:
        task = bar.add_task(title, total=1.0)

        def update(step: str, fraction: float) -> None:
            bar.update(task, completed=fraction, description=escaped(f"{title}: {step}"))

        yield update


def _print_counts(counts: dict[str, int], title: str) -> None:
    console.print(escaped(title))  # names paths, which may hold [ ] or control characters
    table = Table(show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(f"salesforce.{name}", f"{rows:,}")
    console.print(table)


def generate_with_progress(warehouse: Path, *, opportunities: int = 5000, seed: int = 42,
                           as_of: str | date | None = None, months: int = 36,
                           open_share: float | None = None) -> dict[str, int]:
    """Generate the org into `warehouse` behind a progress bar; print the row counts."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.data.generate import generate_org

    started = time.perf_counter()
    with _progress_bar("generating") as progress:
        counts = generate_org(warehouse, opportunities=opportunities, seed=seed, as_of=as_of,
                              months=months, open_share=open_share, progress=progress)
    elapsed = time.perf_counter() - started
    _print_counts(counts, f"Generated a Salesforce org in {warehouse} ({elapsed:.1f} s)")
    return counts


def run_generate(args: argparse.Namespace) -> int:
    """`whizzy data generate`."""
    warehouse = settings_from(args).warehouse
    generate_with_progress(warehouse, opportunities=args.opportunities, seed=args.seed,
                           as_of=args.as_of, months=args.months, open_share=args.open_share)
    console.print("next: [bold]whizzy build[/]")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """`whizzy data import DIR`."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.data.importer import check_csv_dir, find_files, import_csv_dir

    warehouse = settings_from(args).warehouse
    directory: Path = args.dir.expanduser()
    if not directory.is_dir():
        raise DataImportError(f"{directory} is not a folder of CSV files.")
    files = find_files(directory)
    if args.check:
        with _progress_bar("checking") as progress:
            counts = check_csv_dir(directory, progress=progress)
        _print_counts(counts, f"No problems in {directory}; importing it would load:")
        console.print("Nothing was imported: run it again without --check to import.")
        return 0
    started = time.perf_counter()
    with _progress_bar("importing") as progress:
        counts = import_csv_dir(directory, warehouse, progress=progress)
    elapsed = time.perf_counter() - started
    _print_counts(counts, f"Imported {directory} into {warehouse} ({elapsed:.1f} s)")
    for name in TABLES:
        if name not in files:
            console.print(f"  {TABLES[name].sf_object}.csv not found: "
                          f"salesforce.{name} is empty")
    console.print("The dbt models are now out of date: run [bold]whizzy build[/]")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """`whizzy data export DIR`."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.data.export import export_csv_dir

    warehouse = settings_from(args).warehouse
    if not warehouse.is_file():
        raise ConfigError(f"No warehouse at {warehouse}; nothing to export.",
                          hint="run `whizzy data generate` or `whizzy data import DIR` first")
    with _progress_bar("exporting") as progress:
        written = export_csv_dir(warehouse, args.dir.expanduser(), progress=progress)
    for path in written.values():
        console.print(f"  wrote {escaped(path)}")
    return 0
