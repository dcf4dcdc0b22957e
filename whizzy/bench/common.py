"""What the bench phases and the parent share: sizes, targets, progress, measuring helpers.

>>> percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50), percentile([5.0, 1.0, 3.0, 2.0, 4.0], 95)
(3.0, 4.8)
>>> round(loglog_slope(10_000, 2.0, 1_000_000, 200.0), 2)
1.0
"""

from __future__ import annotations

import json
import math
import os
import resource
import statistics
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from whizzy.core.errors import WhizzyError
from whizzy.core.settings import PROJECT_ROOT
from whizzy.core.stats import percentile

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
#: The eval cases' org: their names and numbers assume this seed and as-of date.
SEED = 42
AS_OF = "2026-11-15"
CASES_DIR = PROJECT_ROOT / "evals" / "cases"
MARKER = "@@bench "

#: Targets at 1,000,000 opportunities on the reference 2-core machine.
TARGETS = {
    "generate_seconds": 30.0,
    "generate_peak_rss_mb": 4096.0,
    "build_floor_factor": 1.5,
    "build_floor_slack_seconds": 10.0,
    "answer_p50_ms": 40.0,
    "answer_p95_ms": 120.0,
    "server_rss_mb": 1536.0,
    "ask_cold_seconds": 2.0,
    "first_answer_ms": 300.0,
    "chat_startup_seconds": 5.0,
    "second_run_seconds": 8.0,
    "build_10k_seconds": 12.0,
    "max_loglog_slope": 1.0,
}

#: Progress callback of the parent: (phase label, done, total or None, detail).
Progress = Callable[[str, float, float | None, str], None]


class BenchError(WhizzyError):
    """A benchmark phase failed (its log is named)."""


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages (`/proc/loadavg`)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux
        return []


def loglog_slope(x1: float, y1: float, x2: float, y2: float) -> float | None:
    """Growth exponent between two points: 1 is linear, 0 flat; None when undefined."""
    if min(x1, y1, x2, y2) <= 0 or x1 == x2:
        return None
    return math.log(y2 / y1) / math.log(x2 / x1)


def latency_summary(ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, max and mean of latencies in milliseconds."""
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def _self_peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def _proc_status_mb(pid: int, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        for task in tasks:
            for child in (task / "children").read_text().split():
                out.append(int(child))
                out += _descendants(int(child))
    except OSError:
        pass
    return out


_EMIT_LOCK = threading.Lock()


def _emit(kind: str, **payload: Any) -> None:
    """One protocol line to the parent (dbt reports progress from several threads)."""
    line = MARKER + json.dumps({"kind": kind, **payload}, default=str) + "\n"
    with _EMIT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


#: Modules whose cached bytecode says whether an install was compiled (`bytecode_status`).
BYTECODE_PROBES = ("langgraph.graph.state", "langchain_core.runnables.base", "duckdb",
                   "whizzy.assistant", "agents.reader")
#: The project's own packages, compiled before timing as `make install` does.
PROJECT_SOURCES = ("agents", "whizzy", "evals", "graph.py")


def bytecode_status(modules: Sequence[str] = BYTECODE_PROBES) -> dict[str, Any]:
    """Whether the modules a cold `whizzy ask` imports have cached bytecode (``.pyc``).

    Without it every import compiles its source first: with ``PYTHONDONTWRITEBYTECODE`` set
    and an install that did not compile (``uv sync`` without ``--compile-bytecode``), a cold
    ask spends most of its time in `compile` (17 s instead of 2 s measured on this machine).
    """
    import importlib.util

    cached = {}
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec else None
        if not origin or not origin.endswith(".py"):
            continue
        pyc = Path(importlib.util.cache_from_source(origin))
        cached[name] = pyc.is_file() and pyc.stat().st_mtime >= Path(origin).stat().st_mtime
    return {"dont_write_bytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
            "cached": cached, "all_cached": all(cached.values())}


def compile_project() -> bool:
    """Compile the project's own sources to ``.pyc`` (what `make install` does); True if ok."""
    import compileall

    ok = True
    for name in PROJECT_SOURCES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            ok = compileall.compile_dir(path, quiet=1, workers=1) and ok
        elif path.is_file():
            ok = compileall.compile_file(path, quiet=1) and ok
    return bool(ok)
