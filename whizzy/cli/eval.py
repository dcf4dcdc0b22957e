"""`whizzy eval`: run the eval cases against the assistant and report how often it is right."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from whizzy.cli import terminal
from whizzy.cli.common import add_warehouse_flag
from whizzy.core.errors import ConfigError

console = terminal.console()

#: Default pass threshold per engine: offline answers are deterministic and must all be right;
#: an LLM engine may word an answer so the matcher misses it now and then.
DEFAULT_MIN_PASS = {"offline": 1.0, "llm": 0.9}


def register(sub: argparse._SubParsersAction) -> None:
    """Add `whizzy eval`."""
    p = sub.add_parser(
        "eval",
        help="score the assistant on the eval cases (evals/cases/*.yaml)",
        description=(
            "Ask every eval case, compare each answer with its gold SQL on the raw Salesforce "
            "tables, and report pass rate (overall and per family), intent accuracy, "
            "model-selection hit rate, answer and refusal correctness, latency and LLM usage. "
            "Without --warehouse it builds (or reuses) its own warehouse under .whizzy/eval: the "
            "generated org with seed 42, 20,000 opportunities, as of 2026-11-15 — the org the "
            "cases are written for. Exits 1 when the pass rate is below --min-pass."
        ),
    )
    add_warehouse_flag(p)
    for action in p._actions:  # same flag, but here the default is the eval org, not the env
        if "--warehouse" in action.option_strings:
            action.help = "run on this built warehouse instead of the eval org (.whizzy/eval)"
    p.add_argument("--cases", nargs="+", action="extend", type=Path, metavar="PATH",
                   help="case files or folders (default evals/cases)")
    p.add_argument("--only", nargs="+", action="extend", metavar="ID",
                   help="run only cases whose id matches these globs (plus earlier thread turns)")
    p.add_argument("--engine", choices=("offline", "llm"), default="offline",
                   help="answering engine (default offline); llm reads OPENAI_API_KEY, "
                        "OPENAI_BASE_URL, WHIZZY_MODEL, ... (docs/llm.md) and reports tokens "
                        "and latency per case")
    p.add_argument("--via", choices=("graph", "mcp"), default="graph",
                   help="ask through the assistant directly (graph, the default) or through "
                        "the MCP server's ask tool in an in-process client session (mcp)")
    p.add_argument("--report", type=Path, default=Path("eval-report"), metavar="DIR",
                   help="folder for report.json and report.html (default ./eval-report)")
    p.add_argument("--min-pass", type=float, default=None, metavar="RATE",
                   help="pass-rate threshold 0–1 (default 1.0 offline, 0.9 llm)")
    p.add_argument("--org", metavar="SPEC", default=None,
                   help="run on another generated org instead of the default one, e.g. "
                        "seed=7,opportunities=8000,as_of=2026-03-20,fiscal=2 (built once and "
                        "cached under .whizzy/eval/)")
    p.add_argument("--rebuild", action="store_true",
                   help="regenerate and rebuild the eval warehouse even if it is current")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the cases, get the warehouse, ask, score and report."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from evals import CASES_DIR
    from evals.loader import load_cases
    from evals.report import print_report, summarise, write_html, write_json
    from evals.runner import run_eval, select_cases
    from evals.warehouse import EVAL_ORG, EvalOrg, ensure_eval_warehouse
    from whizzy.core.settings import warehouse_path
    from whizzy.warehouse.connection import require

    if args.engine == "llm":  # fail now, naming the variables, not after building the org
        # imported when this command runs, so `whizzy --help` and the other commands start
        # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
        from agents.llm.settings import load_llm_settings

        load_llm_settings("llm")
    min_pass = DEFAULT_MIN_PASS[args.engine] if args.min_pass is None else args.min_pass
    if not 0 <= min_pass <= 1:
        raise ConfigError(f"--min-pass must be between 0 and 1 (got {min_pass}).")
    cases = select_cases(load_cases(args.cases or [CASES_DIR]), args.only or [])
    if not cases:
        raise ConfigError(f"No case id matches {' '.join(args.only)}.")
    try:
        org = EvalOrg.parse(args.org) if args.org else EVAL_ORG
    except ValueError as exc:
        raise ConfigError(f"--org: {exc}.") from None
    if getattr(args, "warehouse", None):
        if args.org:
            raise ConfigError("Give --warehouse or --org, not both.")
        warehouse = require(warehouse_path(args.warehouse))
    else:
        with console.status("Preparing the eval warehouse…"):
            warehouse = ensure_eval_warehouse(org=org, rebuild=args.rebuild, say=console.print)

    with Progress(TextColumn("[bold]Asking[/]"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as progress:
        task = progress.add_task("", total=len(cases))

        def advance(result) -> None:  # noqa: ANN001
            progress.update(task, advance=1, description=result.case.id)

        eval_run = run_eval(cases, warehouse=warehouse, engine=args.engine, on_result=advance,
                            assistant=_mcp_assistant(warehouse, args.engine)
                            if args.via == "mcp" else None)
    summary = summarise(eval_run)
    if args.via == "mcp":
        console.print("Asked through the MCP server's ask tool.")
    print_report(eval_run, summary, Console())
    json_path = write_json(eval_run, args.report / "report.json", summary)
    html_path = write_html(eval_run, args.report / "report.html", summary)
    console.print(f"Reports: {json_path} and {html_path}")
    if not summary["warehouse_unchanged"]:
        console.print("[red]The warehouse file changed during the eval; nothing may write it.[/]")
        return 1
    if (summary["pass_rate"] or 0) < min_pass:
        console.print(f"[red]Pass rate {summary['pass_rate']:.1%} is below {min_pass:.1%}.[/]")
        return 1
    console.print(f"[green]Pass rate {summary['pass_rate']:.1%} (threshold {min_pass:.1%}).[/]")
    return 0


def _mcp_assistant(warehouse: Path, engine: str):  # noqa: ANN202 - whizzy.mcp.client.McpAssistant
    """The MCP server on `warehouse`, asked through its `ask` tool in-process."""
    # imported only for --via mcp: the MCP SDK is not needed otherwise
    from whizzy.mcp.client import McpAssistant
    from whizzy.mcp.server import ServerOptions, build_server

    return McpAssistant(build_server(ServerOptions(warehouse=warehouse, engine=engine)))
