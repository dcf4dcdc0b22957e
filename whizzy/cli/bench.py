"""`whizzy bench`: time generation, build, answers and the chat server at growing org sizes.

    whizzy bench                              # 10,000, 100,000 and 1,000,000 opportunities
    whizzy bench --sizes 300,600 --passes 1   # a quick smoke run
    whizzy bench --out results.json --keep    # keep the generated warehouses too

The logic is in `whizzy.bench` (`whizzy.bench.run`); this module is the command line, the live
progress and the tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from whizzy.cli import terminal
from whizzy.core.errors import ConfigError

console = terminal.console()

DESCRIPTION = """\
For each size: generate the demo org (seed 42, as of 2026-11-15, in a child process so its peak
memory is its own), `whizzy build` it, run the same compiled SQL straight in DuckDB without dbt
(the floor), ask every eval question (evals/cases) offline — once cold, once to warm up, then
--passes timed passes — and start `whizzy chat --no-persist`, timing it until / answers, then
ask every question through its websocket and read the server's memory.

Writes one JSON file (every figure, per-model and per-question-family detail, the load average
at the start and end of each phase, the growth of each figure as a log-log slope, and the
targets) and prints a table. 1,000,000 opportunities take several minutes and about 2 GB of
disk; other work on the machine slows every figure, so compare the recorded load averages.
"""

EPILOG = """\
Targets at 1,000,000 opportunities on a 2-core machine: generation ≤ 30 s and ≤ 4 GB; build ≤
1.5 × floor + 10 s; answer p50 ≤ 40 ms and p95 ≤ 120 ms; chat server RSS ≤ 1.5 GB; no figure
growing faster than linearly (log-log slope ≤ 1 from the smallest to the largest size). What a
user feels: `whizzy ask` in a cold process ≤ 2 s; the first answer of a fresh process ≤ 300 ms;
chat start-up ≤ 5 s; a second `make run` with nothing changed ≤ 8 s to chat ready; build at
10,000 ≤ 12 s.
"""


def parse_sizes(text: str) -> list[int]:
    """Sizes such as `10000,100000,1000000` or `10k,100k,1m`.

    >>> parse_sizes("10k, 100000,1M")
    [10000, 100000, 1000000]
    >>> parse_sizes("ten")
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: --sizes takes opportunity counts separated by commas \
(like 10000,100000 or 10k,1m), not 'ten'.
    """
    sizes = []
    for part in (text or "").split(","):
        part = part.strip().lower().replace("_", "")
        factor = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1) if part else 1
        number = part[:-1] if factor > 1 else part
        if not number.isdigit() or int(number) * factor < 1:
            raise ConfigError(
                "--sizes takes opportunity counts separated by commas (like 10000,100000 or "
                f"10k,1m), not '{text}'."
            )
        sizes.append(int(number) * factor)
    return sorted(dict.fromkeys(sizes))


def register(sub: argparse._SubParsersAction) -> None:
    """Add `whizzy bench`."""
    p = sub.add_parser(
        "bench",
        help="benchmark generation, build, answers and the chat at 10k/100k/1M opportunities",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sizes", default="10000,100000,1000000", metavar="N,N,…",
                   help="org sizes in opportunities (default 10000,100000,1000000; 10k/1m ok)")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="JSON result file (default bench-results/bench-<timestamp>.json)")
    p.add_argument("--passes", type=int, default=3, metavar="N",
                   help="timed passes over the eval questions after the warm-up (default 3)")
    p.add_argument("--no-server", action="store_true",
                   help="skip the chat server start-up and memory figures")
    p.add_argument("--work-dir", type=Path, metavar="DIR",
                   help="where the generated warehouses go (default .whizzy/bench-*)")
    p.add_argument("--keep", action="store_true", help="keep the generated warehouses")
    p.set_defaults(func=run)


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value:,}{unit}"


def results_table(doc: dict[str, Any]) -> Table:
    """One column per size, one row per figure."""
    sizes = doc["sizes"]
    table = Table(title="whizzy bench", show_lines=False)
    table.add_column("figure")
    for s in sizes:
        table.add_column(f"{s['opportunities']:,}", justify="right")
    table.add_column("slope", justify="right")
    growth = doc.get("growth", {})

    def row(label: str, path: tuple[str, ...], unit: str = "", digits: int = 1,
            slope: str | None = None) -> None:
        # imported when this command runs, so `whizzy --help` and the other commands start
        # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
        from whizzy.bench.run import _get

        cells = [_fmt(_get(s, path), unit, digits) for s in sizes]
        g = growth.get(slope or "", {}).get("slope")
        table.add_row(label, *cells, "" if g is None else f"{g:.2f}")

    row("generate (s)", ("generate", "seconds"), slope="generate_seconds")
    row("generate peak RSS (MB)", ("generate", "peak_rss_mb"), digits=0,
        slope="generate_peak_rss_mb")
    row("build (s)", ("build", "seconds"), slope="build_seconds")
    row("  model node-s (summed)", ("build", "node_seconds", "model"))
    row("  data test node-s", ("build", "node_seconds", "test"))
    row("  unit test node-s", ("build", "node_seconds", "unit_test"))
    row("floor (s)", ("floor", "seconds"), slope="floor_seconds")
    row("  floor models (s)", ("floor", "models_seconds"))
    row("  floor tests (s)", ("floor", "tests_seconds"))
    row("build ÷ floor", ("build_vs_floor", "ratio"), "×", 2)
    row("build target (s)", ("build_vs_floor", "target_seconds"))
    row("answer p50 (ms)", ("answers", "all", "p50_ms"), slope="answer_p50_ms")
    row("answer p95 (ms)", ("answers", "all", "p95_ms"), slope="answer_p95_ms")
    row("answer max (ms)", ("answers", "all", "max_ms"), slope="answer_max_ms")
    row("  floor p50 (ms)", ("answers", "all", "floor_p50_ms"), digits=2)
    row("  p50 ÷ floor p50", ("answers", "all", "ratio_p50"), "×", 2)
    row("  index values (s, part of build)", ("build", "value_index_seconds"))
    row("whizzy ask, cold process (s)", ("feel", "ask_cold_seconds"), digits=2,
        slope="ask_cold_seconds")
    row("  floor: import duckdb (s)", ("feel", "import_duckdb_seconds"), digits=2)
    row("  ask ÷ import duckdb", ("feel", "ask_vs_import_duckdb"), "×", 1)
    row("whizzy ask, warm worker (s)", ("feel", "ask_worker_seconds"), digits=2)
    row("first answer, fresh process (ms)", ("answers", "cold_first_answer_ms"), digits=0,
        slope="first_answer_ms")
    row("  floor: same question warm (ms)", ("answers", "first_question_warm_ms"))
    row("  first ÷ warm", ("answers", "first_vs_warm"), "×", 1)
    row("second make run, unchanged (s)", ("feel", "second_up_seconds"), digits=2)
    row("  floor: whizzy --help (s)", ("feel", "cli_help_seconds"), digits=2)
    row("  second run ÷ --help", ("feel", "second_up_vs_cli_help"), "×", 1)
    row("  to chat ready (s)", ("feel", "second_run_to_chat_seconds"), digits=2)
    row("server start-up (s)", ("server", "startup_seconds"), slope="server_startup_seconds")
    row("  chat start-up ÷ import duckdb", ("feel", "chat_startup_vs_import_duckdb"), "×", 1)
    row("server RSS (MB)", ("server", "rss_mb"), digits=0, slope="server_rss_mb")
    row("  answers via chat p50 (ms)", ("server", "latency_via_websocket", "p50_ms"))
    loads = []
    for s in sizes:
        start = (s.get("generate", {}).get("load", {}).get("start") or ["?"])[0]
        last = s.get("server") or s.get("answers") or {}
        end = (last.get("load", {}).get("end") or ["?"])[0]
        loads.append(f"{start}→{end}")
    table.add_row("load avg (1 min) start→end", *loads, "")
    return table


def family_table(doc: dict[str, Any]) -> Table:
    """Answer latency per question family at the largest size."""
    big = max(doc["sizes"], key=lambda s: s["opportunities"])
    table = Table(title=f"answers by family at {big['opportunities']:,} opportunities")
    for name in ("family", "n", "p50 ms", "p95 ms", "max ms", "floor p50", "floor p95",
                 "p50 ÷ floor"):
        table.add_column(name, justify="left" if name == "family" else "right")
    families = big["answers"]["families"]
    for family, f in [*families.items(), ("all", big["answers"]["all"])]:
        table.add_row(family, str(f["n"]), _fmt(f["p50_ms"]), _fmt(f["p95_ms"]),
                      _fmt(f["max_ms"]), _fmt(f["floor_p50_ms"], digits=2),
                      _fmt(f["floor_p95_ms"], digits=2), _fmt(f["ratio_p50"], "×", 1))
    return table


def print_report(doc: dict[str, Any], out: Path) -> None:
    """The tables, the targets and where the JSON is."""
    out_console = Console()
    out_console.print(results_table(doc))
    out_console.print(family_table(doc))
    for t in doc["targets"]:
        mark = "[green]✓[/]" if t["met"] else "[red]✗[/]"
        value = t["value"]
        shown = f"{value:,.1f}{t['unit']}" if isinstance(value, float) else str(value)
        limit = t["limit"]
        out_console.print(f"{mark} {t['target']} at {t['size']:,}: {shown} "
                          f"(limit {limit:,.1f}{t['unit']})"
                          + (f" — steeper: {t['steeper']}" if t.get("steeper") else "")
                          + (f" (last step steeper than linear: {t['steeper_last_step']})"
                             if t.get("steeper_last_step") else ""))
    bytecode = (doc.get("settings") or {}).get("bytecode") or {}
    if bytecode and not bytecode.get("all_cached"):
        missing = ", ".join(k for k, v in bytecode.get("cached", {}).items() if not v)
        out_console.print(f"[yellow]No cached bytecode for {missing}: every cold process "
                          "compiled their sources (run `make install`, which compiles them), "
                          "so the cold figures are too high.[/]")
    if doc["sizes"] and max(s["opportunities"] for s in doc["sizes"]) != 1_000_000:
        out_console.print("[dim]The targets are set for 1,000,000 opportunities; "
                          "checked here at the largest size run.[/]")
    out_console.print(f"results: {out}")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with live progress, then print the tables."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.bench.run import run_bench

    sizes = parse_sizes(args.sizes)
    if args.passes < 1:
        raise ConfigError("--passes must be at least 1.")
    with Progress(
        TextColumn("[bold]{task.fields[phase]:<22}[/]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, done: float, total: float | None, detail: str) -> None:
            if phase not in tasks:
                for task_id in tasks.values():  # the previous phase is over
                    bar.remove_task(task_id)
                tasks.clear()
                tasks[phase] = bar.add_task(detail[:50], total=None, phase=phase)
            bar.update(tasks[phase], completed=done, total=total, description=detail[:50])

        def on_size(result: dict[str, Any]) -> None:
            b, f, a = result["build"], result["floor"], result["answers"]["all"]
            line = (f"{result['opportunities']:,}: generate {result['generate']['seconds']:.1f}s "
                    f"{result['generate']['peak_rss_mb']:,.0f} MB · build {b['seconds']:.1f}s "
                    f"vs floor {f['seconds']:.1f}s · answers p50 {a['p50_ms']:.1f} ms "
                    f"p95 {a['p95_ms']:.1f} ms")
            if "server" in result:
                line += (f" · chat up in {result['server']['startup_seconds']:.1f}s, "
                         f"{result['server']['rss_mb'] or 0:,.0f} MB")
            bar.console.print(line)

        doc, out = run_bench(sizes, out=args.out, repeats=args.passes,
                             server=not args.no_server, work_dir=args.work_dir, keep=args.keep,
                             progress=progress, on_size=on_size)
    print_report(doc, out)
    return 0
