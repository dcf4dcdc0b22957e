"""`whizzy feedback export [FILE]`: rated chat answers as eval cases (stdout without FILE)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from whizzy.cli import terminal
from whizzy.cli.common import add_warehouse_flag, settings_from
from whizzy.cli.terminal import escaped
from whizzy.core.errors import ConfigError

console = terminal.console()


def register(sub: argparse._SubParsersAction) -> None:
    """Add `whizzy feedback export`."""
    p = sub.add_parser(
        "feedback",
        help="work with the thumbs up/down given in the chat",
        description="Work with the thumbs up/down given to chat answers.",
    )
    add_warehouse_flag(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    exp = actions.add_parser(
        "export",
        help="write the rated questions as eval cases (YAML)",
        description=(
            "Write every rated chat answer as an eval case in the format of evals/cases. "
            "Thumbs up pins intent, model and the figures the answer stated (gold_sql from the "
            "query that produced them); thumbs down keeps the question and forbids the rejected "
            "answer, with a comment asking for the right gold_sql. Earlier questions of a rated "
            "follow-up's thread come along as context turns."
        ),
    )
    add_warehouse_flag(exp)
    exp.add_argument("file", nargs="?", type=Path, metavar="FILE",
                     help="write here (default: stdout); the same as --out FILE")
    exp.add_argument("--out", type=Path, metavar="FILE", help="write here (default: stdout)")
    exp.add_argument(
        "--chat-db",
        type=Path,
        metavar="PATH",
        help="chat database (default: chat.sqlite beside the warehouse)",
    )
    exp.set_defaults(func=export)
    p.set_defaults(func=lambda _args: p.print_help() or 2)


def export(args: argparse.Namespace) -> int:
    """Export the rated answers."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.chat.feedback import export_cases
    from whizzy.chat.options import ChatOptions

    if args.file is not None and args.out is not None and args.file != args.out:
        raise ConfigError(f"Two files to write: {args.file} and --out {args.out}; give one.")
    out_path = args.out if args.out is not None else args.file
    chat_db = args.chat_db or ChatOptions(warehouse=settings_from(args).warehouse).chat_db
    text, count = export_cases(chat_db.expanduser().resolve())
    if out_path is None:
        sys.stdout.write(text)
    else:
        out = out_path.expanduser()
        if out.is_dir():
            raise ConfigError(f"--out {out} is a folder; name a file such as {out}/feedback.yaml.")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
        console.print(f"[green]✓[/] wrote {count} case(s) to {escaped(out)}")
    if count == 0:
        console.print("No rated answers yet: give answers a thumbs up or down in the chat.")
    return 0
