"""What every `whizzy` command shares: the `--warehouse` flag and the settings it resolves."""

from __future__ import annotations

import argparse

from whizzy.core.settings import Settings, warehouse_path


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings for a command, honouring `--warehouse` given before or after the command."""
    return Settings(warehouse=warehouse_path(getattr(args, "warehouse", None)))


def add_answering_flags(parser: argparse.ArgumentParser) -> None:
    """Add `--engine`, `--model` and `--row-limit`: how a command that answers answers."""
    parser.add_argument("--engine", choices=("offline", "llm"), default=None,
                        help="answering engine (default: WHIZZY_ENGINE, else llm when an API "
                             "key is set, else offline)")
    parser.add_argument("--model", metavar="NAME", default=None,
                        help="LLM model name (default: WHIZZY_MODEL, else gpt-4o-mini)")
    parser.add_argument("--row-limit", type=int, default=1000, metavar="N",
                        help="most rows a query returns (default 1000)")


def add_warehouse_flag(parser: argparse.ArgumentParser) -> None:
    """Add the `--warehouse PATH` flag every command takes."""
    parser.add_argument(
        "--warehouse",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="DuckDB warehouse file (env WHIZZY_WAREHOUSE; default .whizzy/warehouse.duckdb)",
    )
