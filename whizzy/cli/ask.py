"""`whizzy ask [--thread ID] [--json] [--sql] [--no-records] QUESTION ...`: one thread.

The questions are asked in order in one conversation; without `--thread` a new thread is
started, and giving the same id again continues it (the threads live in
`checkpoints.sqlite` beside the warehouse). `--json` prints one JSON object per question,
one per line (LLM tokens in/out and latency per node under ``usage``); otherwise each
answer is printed with its table formatted as in the chat and the deals behind the figure
(`--no-records` leaves them out; `--sql` adds the SQL), fitted to a terminal's width, or as
plain unwrapped lines when stdout is a pipe or a file (`whizzy.cli.answer`). Answers are
data: they are printed as plain text (never as Rich markup) with terminal control
characters removed, and the JSON lines escape them.

`--engine` picks the answering engine for the run; without it ``WHIZZY_ENGINE`` decides
(``llm`` when an API key is set, else ``offline``). See docs/llm.md.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from whizzy.cli.answer import Shown, print_plain, print_rich
from whizzy.cli.common import add_answering_flags, add_warehouse_flag, settings_from
from whizzy.cli.terminal import clean, json_line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `ask` command."""
    parser = subparsers.add_parser(
        "ask",
        help="ask questions about the pipeline (one thread)",
        description="Ask one or more questions in order, in one conversation thread.",
    )
    parser.add_argument("questions", nargs="+", metavar="QUESTION", help="question(s) to ask")
    parser.add_argument("--thread", metavar="ID", help="continue (or name) this thread")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--sql", action="store_true", help="also print the SQL that ran")
    parser.add_argument("--no-records", dest="records", action="store_false",
                        help="leave out the deals behind the figure")
    add_answering_flags(parser)
    parser.add_argument("--persona", default="sales_manager",
                        choices=("executive", "sales_manager", "account_executive", "revops"))
    add_warehouse_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Answer each question; exit 2 with a clear message when the warehouse is not ready.

    With the offline engine the questions go to this warehouse's warm worker when one is
    up and sees the same warehouse and code (`whizzy.cli.worker`); otherwise they are
    answered here, and a worker is started for the next `whizzy ask`.
    """
    from agents.llm.settings import load_llm_settings
    from whizzy.cli import worker

    settings = settings_from(args)
    # engine first: `--engine llm` with nothing configured fails here, naming the variables
    llm = load_llm_settings(args.engine, model=args.model)
    thread = args.thread or f"cli-{uuid.uuid4().hex[:12]}"
    use_worker = llm.engine == "offline" and worker.enabled()
    answers = worker.ask_worker(settings.warehouse, {
        "questions": list(args.questions), "thread": thread, "persona": args.persona,
        "row_limit": args.row_limit}) if use_worker else None
    if answers is not None:
        for result in answers:
            _show(result, thread, args)
    else:
        _answer_here(args, settings.warehouse, llm, thread)
        if use_worker:
            worker.start_worker(settings.warehouse)
    if not args.json and not args.thread:
        print(f"(thread {clean(thread)}: continue it with --thread {clean(thread)})",
              file=sys.stderr)
    return 0


def _answer_here(args: argparse.Namespace, warehouse: Any, llm: Any, thread: str) -> None:
    """Answer the questions in this process, printing each as it comes."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.assistant import Assistant, checkpoints_path, sqlite_checkpointer
    from whizzy.warehouse.reader import open_warehouse

    open_warehouse(warehouse)  # missing / unbuilt → a WhizzyError with the fix
    with sqlite_checkpointer(checkpoints_path(warehouse)) as saver:
        assistant = Assistant(warehouse, engine=llm.engine, checkpointer=saver,
                              row_limit=args.row_limit, persona=args.persona, llm=llm)
        for question in args.questions:
            _show(assistant.ask(question, thread_id=thread), thread, args)


def _show(result: dict[str, Any], thread: str, args: argparse.Namespace) -> None:
    if args.json:
        print(json_line(result), flush=True)
    else:
        _print(result, thread, Shown(sql=args.sql, records=args.records))


def _print(result: dict[str, Any], thread: str, shown: Shown | None = None) -> None:
    """Print one answer: fitted to a terminal, or as plain unwrapped lines to a pipe.

    Everything in `result` is data (warehouse values, LLM text, the question): shown as
    plain text, never read as Rich markup, with terminal control characters removed.
    """
    from rich.console import Console

    shown = shown or Shown()
    console = Console(highlight=False, emoji=False)
    if console.is_terminal:  # a tty (or FORCE_COLOR): Rich, at the terminal's width
        print_rich(result, thread, shown, console)
    else:
        print_plain(result, thread, shown, sys.stdout)
