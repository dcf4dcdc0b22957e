"""The figures a user feels: a cold `whizzy ask`, a second `make run`, and their floors.

Each is the wall time of the real command in a new process, next to its floor: what nothing
can avoid (starting Python and importing DuckDB for an answer; the CLI's own start-up for a
restart), so a figure reads as a ratio as well as in seconds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from whizzy.bench.common import AS_OF, BenchError, Progress, loadavg
from whizzy.core.settings import PROJECT_ROOT

#: The question a cold `whizzy ask` is timed on.
QUESTION = "What was our win rate last quarter?"
#: Import-time lines of `whizzy ask` kept in the result (largest cumulative first).
IMPORT_TOP = 12


#: `whizzy ask` in a cold process: no warm worker used or left behind.
NO_WORKER = {"WHIZZY_ASK_WORKER": "0"}
#: `whizzy ask` through the bench's worker (a stray one another ask starts ends soon).
WORKER = {"WHIZZY_ASK_WORKER": "1", "WHIZZY_ASK_WORKER_IDLE": "30"}


def _run(args: list[str], *, log: Path, timeout: float = 900.0,
         env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall seconds of `python ARGS` in a new process, and how it ended."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    with open(log, "a") as handle:
        handle.write(f"\n==== {' '.join(args)} ({seconds:.2f}s, exit {done.returncode})\n")
        handle.write(done.stderr[-4000:])
    if done.returncode != 0:
        raise BenchError(f"`python {' '.join(args[:4])} …` failed (exit {done.returncode}); "
                         f"see {log}.")
    return seconds, done


def import_top(stderr: str, n: int = IMPORT_TOP) -> list[dict[str, Any]]:
    r"""The `n` modules of a `python -X importtime` report that took longest, with their imports.

    >>> report = ("import time: self [us] | cumulative | imported package\n"
    ...           "import time:       100 |       2500 |   b\n"
    ...           "import time:       300 |       3000 | a\n")
    >>> import_top(report, 1)
    [{'module': 'a', 'cumulative_ms': 3.0, 'self_ms': 0.3}]
    """
    rows = []
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        rows.append({"module": parts[2].strip(), "cumulative_ms": int(parts[1]) / 1000,
                     "self_ms": int(parts[0]) / 1000})
    return sorted(rows, key=lambda r: -r["cumulative_ms"])[:n]


def _median_wall(args: list[str], runs: int, *, log: Path) -> float:
    return statistics.median(_run(args, log=log)[0] for _ in range(runs))


def _asks_through_worker(warehouse: Path, ask: list[str], runs: int, *, log: Path
                         ) -> list[float]:
    """Wall seconds of `whizzy ask` answered by a warm worker the bench starts and stops."""
    worker = subprocess.Popen([sys.executable, "-m", "whizzy.cli.worker", str(warehouse)],
                              cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, **WORKER})
    try:
        _run(["-m", "whizzy.cli.worker", "--wait", str(warehouse)], log=log, env=WORKER)
        return [_run(ask, log=log, env=WORKER)[0] for _ in range(runs)]
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def bench_feel(warehouse: Path, *, log: Path, progress: Progress, label: str,
               question: str = QUESTION, runs: int = 2) -> dict[str, Any]:
    """A cold `whizzy ask`, its imports, and a second `whizzy up` with nothing changed.

    The warehouse was built by the bench's build phase (as of `AS_OF`), so `whizzy up`
    finds nothing changed and must skip the build.
    """
    load_start = loadavg()
    step = 0

    def tick(detail: str) -> None:
        nonlocal step
        step += 1
        progress(label, step, 6, detail)

    tick("python -c 'import duckdb'")
    duckdb_floor = _median_wall(["-c", "import duckdb"], 3, log=log)
    tick("whizzy --help")
    cli_floor = _median_wall(["-m", "whizzy.cli", "--help"], 3, log=log)
    ask = ["-m", "whizzy.cli", "ask", "--warehouse", str(warehouse), "--json", question]
    tick("whizzy ask, cold process")
    asks = [_run(ask, log=log, env=NO_WORKER) for _ in range(runs)]
    walls = [seconds for seconds, _ in asks]
    answer_ms = [json.loads(done.stdout.strip().splitlines()[-1]).get("elapsed_ms")
                 for _, done in asks]
    tick("whizzy ask -X importtime")
    _, traced = _run(["-X", "importtime", *ask], log=log, env=NO_WORKER)
    tick("whizzy ask, warm worker")
    worker_walls = _asks_through_worker(warehouse, ask, runs, log=log)
    tick("whizzy up, nothing changed")
    up_seconds, up = _run(["-m", "whizzy.cli", "up", "--warehouse", str(warehouse),
                           "--no-chat", "--as-of", AS_OF], log=log)
    # every ratio is taken from the rounded figures it sits beside, so the JSON agrees
    # with itself (a floor of ~0.02 s rounded to 3 places moves the ratio by ~0.1)
    ask_seconds = round(statistics.median(walls), 3)
    duckdb_floor, cli_floor = round(duckdb_floor, 3), round(cli_floor, 3)
    up_seconds = round(up_seconds, 3)
    return {
        "question": question,
        "import_duckdb_seconds": duckdb_floor,
        "cli_help_seconds": cli_floor,
        "ask_cold_seconds": ask_seconds,
        "ask_cold_runs": [round(w, 3) for w in walls],
        "ask_vs_import_duckdb": round(ask_seconds / max(duckdb_floor, 0.001), 1),
        "ask_answer_ms": answer_ms,
        "ask_import_top": import_top(traced.stderr),
        "ask_worker_seconds": round(statistics.median(worker_walls), 3),
        "ask_worker_runs": [round(w, 3) for w in worker_walls],
        "ask_worker_is": "whizzy ask answered by the warm worker a first cold ask starts "
                         "(whizzy.cli.worker), started and warmed before timing",
        "second_up_seconds": up_seconds,
        "second_up_skipped_build": "build skipped" in up.stderr,
        "second_up_vs_cli_help": round(up_seconds / max(cli_floor, 0.001), 1),
        "floors_are": "python -c 'import duckdb' for a cold ask; `whizzy --help` for a "
                      "second `whizzy up --no-chat` (what `make run` runs before the chat)",
        "load": {"start": load_start, "end": loadavg()},
    }
