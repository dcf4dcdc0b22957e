"""`whizzy up`: what `make run` does — demo org if there is no warehouse, build, then the chat."""

from __future__ import annotations

import argparse
import importlib.util

from whizzy.cli import terminal
from whizzy.cli.chat import add_host_flags, check_exposure
from whizzy.cli.common import add_warehouse_flag, settings_from
from whizzy.core.settings import setting

console = terminal.console()


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def register(sub: argparse._SubParsersAction) -> None:
    """Add `whizzy up`."""
    p = sub.add_parser(
        "up",
        help="demo data if needed, build, and start the chat (what `make run` does)",
        description=(
            "Generate the demo org when there is no warehouse yet, build the dbt models into it, "
            "and start the chat on http://HOST:PORT."
        ),
    )
    add_warehouse_flag(p)
    p.add_argument("--opportunities", type=int, default=5000, help="demo org size (default 5000)")
    p.add_argument("--seed", type=int, default=42, help="demo org seed (default 42)")
    add_host_flags(p)
    p.add_argument("--no-chat", action="store_true", help="stop after the build")
    p.add_argument("--as-of", metavar="DATE",
                   help="as-of date of the build, YYYY-MM-DD (default: today)")
    p.add_argument("--rebuild", action="store_true",
                   help="build even when nothing changed since the last good build")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run each step that exists, in order."""
    settings = settings_from(args)
    wh = settings.warehouse
    if not args.no_chat:  # before the build, not after it
        check_exposure(args.host, login=bool((setting("WHIZZY_AUTH_USERS") or "").strip()),
                       insecure_no_login=args.insecure_no_login)
    if wh.exists():
        console.print(f"[green]✓[/] warehouse found at {wh}")
    else:
        # imported when this command runs, so `whizzy --help` and the other commands start
        # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
        from whizzy.cli.data import generate_with_progress

        console.print(f"No warehouse at {wh}: generating the demo org "
                      f"({args.opportunities:,} opportunities)")
        generate_with_progress(wh, opportunities=args.opportunities, seed=args.seed, as_of=None)
    if not _has("whizzy.build"):
        console.print("[yellow]Stopping here:[/] the build step is not part of this version yet.")
        return 0
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.build import up_to_date
    from whizzy.cli.build import build_with_progress

    if not args.rebuild and up_to_date(wh, as_of=args.as_of):
        console.print("[green]✓[/] build skipped: the raw data, dbt project and as-of date are "
                      "unchanged since the last good build (--rebuild forces one)")
    else:
        build_with_progress(wh, as_of=args.as_of)
    if args.no_chat:
        return 0
    if not _has("whizzy.cli.chat"):
        console.print("[yellow]Stopping here:[/] the chat is not part of this version yet.")
        return 0
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.cli.chat import start_chat

    return start_chat(wh, host=args.host, port=args.port,
                      insecure_no_login=args.insecure_no_login)
