"""The parent: run each phase per size in a child process, then growth and targets."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whizzy.bench.common import (
    AS_OF,
    CASES_DIR,
    DEFAULT_SIZES,
    MARKER,
    SEED,
    TARGETS,
    BenchError,
    Progress,
    bytecode_status,
    compile_project,
    loadavg,
    loglog_slope,
)
from whizzy.bench.feel import bench_feel
from whizzy.bench.server import bench_server
from whizzy.core.settings import PROJECT_ROOT


def run_child(phase: str, args: dict[str, Any], *, log: Path, progress: Progress,
              label: str) -> dict[str, Any]:
    """Run one phase in a child process; returns its result with load and wall time added."""
    load_start = loadavg()
    started = time.perf_counter()
    result: dict[str, Any] | None = None
    error = None
    with open(log, "a") as err:
        err.write(f"\n==== {phase} {json.dumps(args)}\n")
        err.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "whizzy.bench", phase, json.dumps(args)],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=err, text=True,
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                if not line.startswith(MARKER):
                    err.write(line)
                    continue
                message = json.loads(line[len(MARKER):])
                if message["kind"] == "progress":
                    progress(label, message["done"], message["total"], str(message["detail"]))
                elif message["kind"] == "result":
                    result = message["result"]
                elif message["kind"] == "error":
                    error = message["message"]
        finally:
            if proc.poll() is None and result is None:  # interrupted: stop the child too
                proc.kill()
            proc.wait()
    if proc.returncode != 0 or result is None:
        raise BenchError(f"The {phase} phase failed ({error or f'exit {proc.returncode}'}); "
                         f"see {log}.")
    result["process_seconds"] = round(time.perf_counter() - started, 3)
    result["load"] = {"start": load_start, "end": loadavg()}
    return result


def bench_size(opportunities: int, work: Path, *, repeats: int, progress: Progress,
               log: Path, server: bool = True) -> dict[str, Any]:
    """Every phase for one org size; files live in `work` (deleted by the caller)."""
    folder = work / f"org-{opportunities}"
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / "warehouse.duckdb"
    n = f"{opportunities:,}"
    out: dict[str, Any] = {"opportunities": opportunities}
    out["generate"] = run_child("generate", {"path": str(warehouse), "opportunities":
                                             opportunities}, log=log, progress=progress,
                                label=f"{n}: generate")
    # the floor starts from the same raw org, in a file the compiled SQL's catalog names
    raw = folder / "floor" / "warehouse.duckdb"
    raw.parent.mkdir(exist_ok=True)
    shutil.copyfile(warehouse, raw)
    out["build"] = run_child("build", {"path": str(warehouse)}, log=log, progress=progress,
                             label=f"{n}: dbt build")
    out["floor"] = run_child("floor", {"raw": str(raw), "manifest": out["build"]["manifest"]},
                             log=log, progress=progress, label=f"{n}: DuckDB floor")
    shutil.rmtree(raw.parent, ignore_errors=True)
    build, floor = out["build"], out["floor"]
    out["build_vs_floor"] = {
        "ratio": round(build["seconds"] / floor["seconds"], 2),
        "ratio_models_only": round(build["seconds"] / floor["models_seconds"], 2),
        "model_node_seconds_ratio": round(
            build["node_seconds"].get("model", 0.0) / floor["models_seconds"], 2),
        "test_node_seconds_ratio": round(
            build["node_seconds"].get("test", 0.0) / floor["tests_seconds"], 2)
        if floor["tests_seconds"] else None,
        "target_seconds": round(TARGETS["build_floor_factor"] * floor["seconds"]
                                + TARGETS["build_floor_slack_seconds"], 1),
        "floor_is": "models' then data tests' compiled SQL in one DuckDB connection "
                    "(unit tests, dbt parse and the swap are not in it)",
    }
    out["answers"] = run_child("answers", {"path": str(warehouse), "repeats": repeats},
                               log=log, progress=progress, label=f"{n}: answers")
    out["feel"] = bench_feel(warehouse, log=log, progress=progress,
                             label=f"{n}: cold ask, restart")
    if server:
        out["server"] = bench_server(warehouse, log=log, progress=progress,
                                     label=f"{n}: chat server")
        out["feel"]["second_run_to_chat_seconds"] = round(
            out["feel"]["second_up_seconds"] + out["server"]["startup_seconds"], 3)
        out["feel"]["chat_startup_vs_import_duckdb"] = round(
            out["server"]["startup_seconds"] / out["feel"]["import_duckdb_seconds"], 1)
    return out


#: Figures whose growth is reported: (name, path into one size's result).
GROWTH_FIGURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("generate_seconds", ("generate", "seconds")),
    ("generate_peak_rss_mb", ("generate", "peak_rss_mb")),
    ("build_seconds", ("build", "seconds")),
    ("floor_seconds", ("floor", "seconds")),
    ("answer_p50_ms", ("answers", "all", "p50_ms")),
    ("answer_p95_ms", ("answers", "all", "p95_ms")),
    ("answer_max_ms", ("answers", "all", "max_ms")),
    ("answers_peak_rss_mb", ("answers", "peak_rss_mb")),
    ("server_startup_seconds", ("server", "startup_seconds")),
    ("server_rss_mb", ("server", "rss_mb")),
    ("ask_cold_seconds", ("feel", "ask_cold_seconds")),
    ("first_answer_ms", ("answers", "cold_first_answer_ms")),
)


def _get(data: dict[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def growth(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    """Log-log slope of each figure from the smallest to the largest size (1 = linear)."""
    out: dict[str, Any] = {}
    if len(sizes) < 2:
        return out
    ordered = sorted(sizes, key=lambda s: s["opportunities"])
    for name, path in GROWTH_FIGURES:
        points = [(s["opportunities"], _get(s, path)) for s in ordered]
        points = [(x, y) for x, y in points if isinstance(y, int | float)]
        if len(points) < 2:
            continue
        (x1, y1), (x2, y2) = points[0], points[-1]
        slope = loglog_slope(x1, y1, x2, y2)
        steps = [loglog_slope(a[0], a[1], b[0], b[1])
                 for a, b in zip(points, points[1:], strict=False)]
        out[name] = {
            "slope": None if slope is None else round(slope, 3),
            "step_slopes": [None if s is None else round(s, 3) for s in steps],
            "values": [y for _, y in points],
            "sizes": [x for x, _ in points],
        }
    return out


def targets(sizes: list[dict[str, Any]], slopes: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target checked at the largest size (the targets are set for 1,000,000)."""
    if not sizes:
        return []
    big = max(sizes, key=lambda s: s["opportunities"])
    n = big["opportunities"]
    checks: list[tuple[str, Any, float | None, str]] = [
        ("generation time ≤ 30 s", _get(big, ("generate", "seconds")),
         TARGETS["generate_seconds"], "s"),
        ("generation peak RSS ≤ 4 GB", _get(big, ("generate", "peak_rss_mb")),
         TARGETS["generate_peak_rss_mb"], "MB"),
        ("build ≤ 1.5 × floor + 10 s", _get(big, ("build", "seconds")),
         _get(big, ("build_vs_floor", "target_seconds")), "s"),
        ("answer p50 ≤ 40 ms", _get(big, ("answers", "all", "p50_ms")),
         TARGETS["answer_p50_ms"], "ms"),
        ("answer p95 ≤ 120 ms", _get(big, ("answers", "all", "p95_ms")),
         TARGETS["answer_p95_ms"], "ms"),
        ("server RSS ≤ 1.5 GB", _get(big, ("server", "rss_mb")), TARGETS["server_rss_mb"], "MB"),
        ("`whizzy ask` one question, cold process ≤ 2 s", _get(big, ("feel", "ask_cold_seconds")),
         TARGETS["ask_cold_seconds"], "s"),
        ("first answer in a fresh process ≤ 300 ms",
         _get(big, ("answers", "cold_first_answer_ms")), TARGETS["first_answer_ms"], "ms"),
        ("chat start-up ≤ 5 s", _get(big, ("server", "startup_seconds")),
         TARGETS["chat_startup_seconds"], "s"),
        ("second `make run`, nothing changed, to chat ready ≤ 8 s",
         _get(big, ("feel", "second_run_to_chat_seconds")), TARGETS["second_run_seconds"], "s"),
    ]
    out = []
    for name, value, limit, unit in checks:
        if value is None or limit is None:
            continue
        out.append({"target": name, "size": n, "value": value, "limit": limit, "unit": unit,
                    "met": bool(value <= limit)})
    ten_k = next((s for s in sizes if s["opportunities"] == 10_000), None)
    if ten_k is not None and _get(ten_k, ("build", "seconds")) is not None:
        value = _get(ten_k, ("build", "seconds"))
        out.append({"target": "build at 10,000 ≤ 12 s", "size": 10_000, "value": value,
                    "limit": TARGETS["build_10k_seconds"], "unit": "s",
                    "met": bool(value <= TARGETS["build_10k_seconds"])})
    # the target is on the overall slope (smallest → largest size); a last step steeper than
    # linear is listed too: it is where fixed costs blur least, but small sizes are noisy
    steep = {k: v["slope"] for k, v in slopes.items()
             if v["slope"] is not None and v["slope"] > TARGETS["max_loglog_slope"]}
    last_steps = {k: (v["step_slopes"] or [None])[-1] for k, v in slopes.items()}
    steep_last = {k: x for k, x in last_steps.items()
                  if x is not None and x > TARGETS["max_loglog_slope"]}
    if slopes:
        worst = max((v["slope"] for v in slopes.values() if v["slope"] is not None),
                    default=None)
        out.append({"target": "no figure grows faster than linearly (log-log slope ≤ 1)",
                    "size": n, "value": None if worst is None else round(worst, 3),
                    "limit": TARGETS["max_loglog_slope"], "unit": "", "met": not steep,
                    "steeper": steep, "steeper_last_step": steep_last})
    return out


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    from importlib import metadata

    try:
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        mem_mb = round(int(mem.split()[1]) / 1024)
    except (OSError, StopIteration, ValueError):
        mem_mb = None
    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "langgraph", "chainlit"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {"cpus": os.cpu_count(), "memory_mb": mem_mb, "platform": platform.platform(),
            "python": platform.python_version(), "packages": versions}


def default_out() -> Path:
    """`bench-results/bench-<UTC timestamp>.json` in the project folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return PROJECT_ROOT / "bench-results" / f"bench-{stamp}.json"


def run_bench(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    out: Path | None = None,
    repeats: int = 3,
    server: bool = True,
    work_dir: Path | None = None,
    keep: bool = False,
    progress: Progress | None = None,
    on_size: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], Path]:
    """Benchmark every size, write the JSON document to `out`; returns it and its path.

    The document is rewritten after each size, so a long run interrupted at 1,000,000 keeps
    the smaller sizes' figures.
    """
    # imported in the phase that needs it: each child process's peak memory is its own
    from whizzy import __version__

    report = progress or (lambda *_: None)
    out = Path(out).resolve() if out else default_out()
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    # absolute: dbt resolves a relative --target-path against the project folder
    base = Path(work_dir).resolve() if work_dir else PROJECT_ROOT / ".whizzy"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    # a user's processes find the project's bytecode written by `make install` (or by their
    # first run): compiled here too, so no timed process compiles the project's sources
    compiled = compile_project()
    doc: dict[str, Any] = {
        "whizzy_version": __version__,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_at": None,
        "machine": machine(),
        "settings": {"sizes": list(sizes), "seed": SEED, "as_of": AS_OF,
                     "timed_passes": repeats, "cases": str(CASES_DIR.relative_to(PROJECT_ROOT)),
                     "chat_server": server, "work_dir": str(work),
                     "project_compiled": compiled, "bytecode": bytecode_status()},
        "load": {"start": loadavg(), "end": None},
        "log": str(log),
        "sizes": [],
        "growth": {},
        "targets": [],
    }
    try:
        for size in sizes:
            result = bench_size(int(size), work, repeats=repeats, progress=report, log=log,
                                server=server)
            if not keep:
                shutil.rmtree(work / f"org-{size}", ignore_errors=True)
            doc["sizes"].append(result)
            doc["growth"] = growth(doc["sizes"])
            doc["targets"] = targets(doc["sizes"], doc["growth"])
            doc["load"]["end"] = loadavg()
            out.write_text(json.dumps(doc, indent=2, default=str))
            if on_size:
                on_size(result)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    doc["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    doc["load"]["end"] = loadavg()
    out.write_text(json.dumps(doc, indent=2, default=str))
    return doc, out
