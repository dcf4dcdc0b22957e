"""What every `whizzy` command shares: the `--warehouse` flag and the settings it resolves."""

from __future__ import annotations

import argparse

from whizzy.core.settings import Settings, warehouse_path


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings for a command, honouring `--warehouse` given before or after the command."""
    return Settings(warehouse=warehouse_path(getattr(args, "warehouse", None)))


def add_warehouse_flag(parser: argparse.ArgumentParser) -> None:
    """Add the `--warehouse PATH` flag every command takes."""
    parser.add_argument(
        "--warehouse",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="DuckDB warehouse file (env WHIZZY_WAREHOUSE; default .whizzy/warehouse.duckdb)",
    )
