"""`whizzy` command line: one entry point, one module per command group.

Each command module in `whizzy.cli` exposes `register(subparsers)`; this file only wires them.
Errors a user can cause (`WhizzyError`) print one clear sentence and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from whizzy import __version__
from whizzy.cli.common import add_warehouse_flag
from whizzy.cli.terminal import clean
from whizzy.core.errors import WhizzyError
from whizzy.core.logs import install as install_log_redaction

#: Command modules in `whizzy.cli`, in the order `--help` lists them.
COMMAND_MODULES = ("up", "data", "build", "ask", "chat", "mcp", "eval", "feedback", "bench")

EPILOG = """\
Typical first run:
  whizzy data generate            make a demo Salesforce org (5,000 opportunities)
  whizzy build                    build the dbt models into the warehouse
  whizzy ask "how healthy is Q3?"
  whizzy chat                     open the chat on http://127.0.0.1:8000

The warehouse is .whizzy/warehouse.duckdb unless --warehouse or WHIZZY_WAREHOUSE says otherwise.
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="whizzy",
        description="Whizzy answers questions about your Salesforce pipeline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"whizzy {__version__}")
    add_warehouse_flag(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"whizzy.cli.{name}")
        except ModuleNotFoundError as exc:  # a command group not built yet is simply absent
            if exc.name != f"whizzy.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    install_log_redaction()  # this process logs without secrets, whatever a library logs
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except WhizzyError as exc:
        # the message may quote a file name or a value: no control character reaches the tty
        print(f"whizzy: {clean(exc.user_message())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("whizzy: interrupted; nothing was changed.", file=sys.stderr)
        return 130

