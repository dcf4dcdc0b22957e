"""`whizzy build`: run `dbt build` into a new warehouse file and swap it in when all passed.

    whizzy build                          # as of today
    whizzy build --as-of 2026-11-15       # every "today" figure as of that date
    whizzy build --every 24h              # rebuild once a day (leave it running)
    whizzy build --docs                   # also write the dbt docs page beside the warehouse

A daily refresh from cron instead of `--every`:

    15 6 * * *  cd /path/to/whizzy && .venv/bin/whizzy build >> .whizzy/build.log 2>&1
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from whizzy.build import BuildResult, build_warehouse
from whizzy.cli import terminal
from whizzy.cli.common import add_warehouse_flag, settings_from
from whizzy.cli.terminal import escaped, text
from whizzy.core.errors import ConfigError, WarehouseChangedError, WhizzyError

console = terminal.console()

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in an interval such as `24h`, `90m`, `1d` or `3600` (seconds).

    >>> parse_interval("24h"), parse_interval("90m"), parse_interval("45")
    (86400.0, 5400.0, 45.0)
    >>> parse_interval("soon")
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: --every takes a number with an optional unit s, m, h or d ...
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(
            "--every takes a number with an optional unit s, m, h or d (like 24h), "
            f"not '{text}'."
        )
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add `whizzy build`."""
    p = sub.add_parser(
        "build",
        help="build the dbt models into the warehouse (atomic swap when every test passes)",
        description=(
            "Run `dbt build` (models, data tests, unit tests) on a copy of the warehouse and "
            "swap it in only when everything passed; on failure the served warehouse is "
            "unchanged and the failing model or test is named. The unit tests, which never "
            "read the warehouse's data, run only when the dbt project, dbt or DuckDB changed "
            "since they last passed (--unit-tests runs them anyway)."
        ),
        epilog="Daily refresh from cron:  15 6 * * *  cd /path/to/whizzy && .venv/bin/whizzy build",
    )
    add_warehouse_flag(p)
    p.add_argument("--as-of", metavar="DATE", help="as-of date YYYY-MM-DD (default: today)")
    p.add_argument(
        "--fiscal-year-start-month", metavar="N", type=int,
        help="first month of the fiscal year, 1-12 (default 1 or WHIZZY_FISCAL_YEAR_START_MONTH)",
    )
    p.add_argument(
        "--every", metavar="INTERVAL",
        help="keep running and rebuild at this interval, e.g. 24h (as of each run's date)",
    )
    p.add_argument("--docs", action="store_true", help="also run `dbt docs generate`")
    p.add_argument(
        "--unit-tests", action="store_true",
        help="run the dbt unit tests even when they passed on this very project before "
             "(by default they run only when the project, dbt or DuckDB changed)",
    )
    p.set_defaults(func=run)


def build_with_progress(
    warehouse: Path,
    *,
    as_of: str | None = None,
    fiscal_year_start_month: int | None = None,
    docs: bool = False,
    unit_tests: bool | None = None,
) -> BuildResult:
    """Build with a live node counter, then print a summary."""
    with Progress(
        TextColumn("[bold]dbt build[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("parsing the project…", total=None)

        def progress(done: int, total: int | None, node: str) -> None:
            bar.update(task, completed=done, total=total, description=node)

        result = build_warehouse(
            warehouse,
            as_of=as_of,
            fiscal_year_start_month=fiscal_year_start_month,
            progress=progress,
            docs=docs,
            unit_tests=unit_tests,
        )
    print_summary(result)
    index_values(result.warehouse)
    return result


def index_values(warehouse: Path) -> None:
    """Build the value index of the build just swapped in and save it beside the warehouse.

    Every process that answers then loads it in milliseconds instead of building its own.
    A build that another writer replaced meanwhile is left to the next reader to index.
    """
    # imported when a build ran, so `whizzy --help` and the other commands start without it
    from agents.values import value_index
    from whizzy.warehouse.reader import open_warehouse

    with console.status("indexing names and picklist values…"):
        value_index(open_warehouse(warehouse))


def summary_line(result: BuildResult) -> str:
    """The build in one line: models, tests, seconds, the as-of date and the warehouse.

    Plain text (no markup): the caller prints it as a Rich `Text`, so a path with ``[``
    in it shows as written.
    """
    counts = result.counts
    data, unit = counts.get("test", 0), counts.get("unit_test", 0)
    fiscal = ("" if result.fiscal_year_start_month == 1
              else f", fiscal year from month {result.fiscal_year_start_month}")
    units = ("unit tests skipped: they passed on this very dbt project before"
             if result.unit_tests_skipped else f"{unit} unit")
    return (f"built {counts.get('model', 0)} models and passed {data + unit} tests "
            f"({data} data, {units}) in {result.elapsed:.1f}s · as of "
            f"{result.as_of.isoformat()}{fiscal} · {result.warehouse}")


def print_summary(result: BuildResult) -> None:
    """One line for the build, then one per warning dbt gave (nothing else)."""
    # one line whatever the width: a terminal wraps it, a log keeps it whole
    console.print(Text.assemble(("✓", "green"), " ", text(summary_line(result))), soft_wrap=True)
    for node in result.warnings:
        message = " ".join(node.message.split())[:200]  # dbt's text may quote data values
        console.print(f"  [yellow]warning[/] {escaped(node.name)}: {escaped(message)}")
    if result.docs_path:
        console.print(f"  docs      {escaped(result.docs_path)}")


def run(args: argparse.Namespace) -> int:
    """Build once, or keep rebuilding with `--every`."""
    warehouse = settings_from(args).warehouse
    if not args.every:
        build_with_progress(
            warehouse,
            as_of=args.as_of,
            fiscal_year_start_month=args.fiscal_year_start_month,
            docs=args.docs,
            unit_tests=True if args.unit_tests else None,
        )
        return 0
    interval = parse_interval(args.every)
    if args.as_of:
        raise ConfigError("--every rebuilds as of each run's date; leave out --as-of.")
    while True:
        try:
            build_with_progress(
                warehouse, fiscal_year_start_month=args.fiscal_year_start_month, docs=args.docs,
                unit_tests=True if args.unit_tests else None,
            )
        except WarehouseChangedError as exc:  # new data landed mid-build: build it now
            console.print(f"[yellow]rebuilding now:[/] {escaped(str(exc))}")
            continue
        except WhizzyError as exc:  # keep serving the last good build; try again next time
            console.print(f"[red]build failed[/] {escaped(exc.user_message())}")
        next_run = datetime.fromtimestamp(time.time() + interval).strftime("%Y-%m-%d %H:%M")
        console.print(f"next build at {next_run} (Ctrl-C to stop)")
        time.sleep(interval)
