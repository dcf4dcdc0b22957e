"""`whizzy bench`: how generation, build, answers and the chat server scale with the org size.

For each size the benchmark generates an org, builds it, measures the DuckDB *floor* of the
build (the same compiled SQL run directly, without dbt), asks every eval question offline, and
starts the chat server and answers every question through its websocket. Each heavy phase runs
in a child process (``python -m whizzy.bench PHASE ARGS``) so its peak memory is its own.

The result is one JSON document (see `run_bench`) with, per size and phase, the machine's load
average at the start and end (other work on the machine slows every figure), the growth of
each figure between the smallest and the largest size (log-log slope) and the targets.

>>> percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50), percentile([5.0, 1.0, 3.0, 2.0, 4.0], 95)
(3.0, 5.0)
>>> round(loglog_slope(10_000, 2.0, 1_000_000, 200.0), 2)
1.0
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from whizzy.config import PROJECT_ROOT
from whizzy.errors import WhizzyError

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
    "answer_p50_ms": 50.0,
    "answer_p95_ms": 150.0,
    "server_rss_mb": 1536.0,
    "max_loglog_slope": 1.0,
}
TARGET_SIZE = 1_000_000

#: Progress callback of the parent: (phase label, done, total or None, detail).
Progress = Callable[[str, float, float | None, str], None]


class BenchError(WhizzyError):
    """A benchmark phase failed (its log is named)."""


# --------------------------------------------------------------------------- small helpers


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages (`/proc/loadavg`)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux
        return []


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0-100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


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


# --------------------------------------------------------------------------- child phases


def phase_generate(args: dict[str, Any]) -> dict[str, Any]:
    """Generate an org of `args["opportunities"]` into `args["path"]`."""
    from whizzy.data.generate import generate_org

    rss_before = _self_peak_rss_mb()
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()

    def progress(step: str, fraction: float) -> None:
        steps.append((step, round(time.perf_counter() - started, 2)))
        _emit("progress", done=fraction, total=1.0, detail=step)

    cpu0 = os.times()
    rows = generate_org(Path(args["path"]), opportunities=int(args["opportunities"]),
                        seed=SEED, as_of=AS_OF, progress=progress)
    seconds = time.perf_counter() - started
    cpu1 = os.times()
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), 2),
        "peak_rss_mb": _self_peak_rss_mb(),
        "rss_before_mb": rss_before,
        "file_mb": round(Path(args["path"]).stat().st_size / 2**20, 1),
        "rows": rows,
        "steps": steps,
    }


def phase_build(args: dict[str, Any]) -> dict[str, Any]:
    """`whizzy build` the warehouse at `args["path"]`; node timings by type."""
    from whizzy.build import build_warehouse

    try:
        from whizzy.build import _threads

        threads: int | None = _threads()
    except ImportError:  # a private helper; the figure is only informative
        threads = None

    def progress(done: int, total: int | None, node: str) -> None:
        _emit("progress", done=done, total=total, detail=node)

    started = time.perf_counter()
    result = build_warehouse(Path(args["path"]), as_of=AS_OF, progress=progress)
    seconds = time.perf_counter() - started
    by_type: dict[str, float] = {}
    for node in result.nodes:
        by_type[node.resource_type] = by_type.get(node.resource_type, 0.0) + node.seconds
    models = {n.name: round(n.seconds, 3) for n in result.nodes if n.resource_type == "model"}
    tests = sorted((n for n in result.nodes if n.resource_type == "test"),
                   key=lambda n: n.seconds, reverse=True)
    counts = result.counts
    return {
        "seconds": round(seconds, 3),
        "dbt_threads": threads,
        "node_seconds": {k: round(v, 3) for k, v in sorted(by_type.items())},
        "counts": {k: counts.get(k, 0) for k in ("model", "test", "unit_test")},
        "models": dict(sorted(models.items(), key=lambda kv: -kv[1])),
        "slowest_tests": {n.name: round(n.seconds, 3) for n in tests[:8]},
        "peak_rss_mb": _self_peak_rss_mb(),
        "manifest": str(result.manifest_path),
    }


def phase_floor(args: dict[str, Any]) -> dict[str, Any]:
    """Run the built manifest's compiled model SQL, then its data tests, in one DuckDB connection.

    `args["raw"]` is a copy of the raw org named like the built warehouse (compiled SQL names the
    catalog, which DuckDB derives from the file name).
    """
    import duckdb

    manifest = json.loads(Path(args["manifest"]).read_text())
    nodes = manifest["nodes"]
    models = {uid: n for uid, n in nodes.items()
              if n["resource_type"] == "model" and n.get("config", {}).get("materialized")
              != "ephemeral"}
    missing = [n["name"] for n in models.values() if not n.get("compiled_code")]
    if missing:
        raise BenchError(f"The built manifest holds no compiled SQL for {', '.join(missing)}.")
    graph = {uid: [d for d in n["depends_on"]["nodes"] if d in models]
             for uid, n in models.items()}
    order = list(TopologicalSorter(graph).static_order())
    tests = [n for n in nodes.values() if n["resource_type"] == "test" and n.get("compiled_code")]
    con = duckdb.connect(str(args["raw"]), config={"preserve_insertion_order": False})
    per_model: dict[str, float] = {}
    per_test: dict[str, float] = {}
    total = len(order) + len(tests)
    try:
        started = time.perf_counter()
        for i, uid in enumerate(order):
            node = models[uid]
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            t0 = time.perf_counter()
            con.execute(f"create or replace {kind} {node['relation_name']} as "
                        f"{node['compiled_code']}")
            per_model[node["name"]] = round(time.perf_counter() - t0, 3)
            _emit("progress", done=i + 1, total=total, detail=node["name"])
        models_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for i, node in enumerate(tests):
            t0 = time.perf_counter()
            con.execute(f"select count(*) from ({node['compiled_code']}) as dbt_internal_test"
                        ).fetchall()
            per_test[node["name"]] = round(time.perf_counter() - t0, 3)
            _emit("progress", done=len(order) + i + 1, total=total, detail=node["name"])
        tests_seconds = time.perf_counter() - started
    finally:
        con.close()
    return {
        "models_seconds": round(models_seconds, 3),
        "tests_seconds": round(tests_seconds, 3),
        "seconds": round(models_seconds + tests_seconds, 3),
        "counts": {"model": len(order), "test": len(tests)},
        "models": dict(sorted(per_model.items(), key=lambda kv: -kv[1])),
        "slowest_tests": dict(sorted(per_test.items(), key=lambda kv: -kv[1])[:8]),
        "peak_rss_mb": _self_peak_rss_mb(),
    }


def empty_graph_ms(nodes: int = 1, runs: int = 30) -> float:
    """Median milliseconds of one invoke of a graph of `nodes` no-op nodes in a line.

    Same state, input, output and context schemas and the same in-memory checkpointer and
    durability as `agents.assistant.Assistant`: the framework's fixed share of an answer.
    """
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph

    from agents.context import Context
    from agents.state import InputState, OutputState, State

    names = ["classify_intent", "select_models", "plan_query", "run_queries", "fuse_results",
             "write_answer"]
    builder = StateGraph(State, context_schema=Context, input_schema=InputState,
                         output_schema=OutputState)
    names = names[:nodes]
    for name in names:
        builder.add_node(name, lambda _state: {})
    for a, b in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(a, b)
    graph = builder.compile(checkpointer=InMemorySaver())
    context = Context(warehouse=Path("."))
    timings = []
    for _ in range(runs + 3):
        config = {"configurable": {"thread_id": uuid.uuid4().hex}}
        t0 = time.perf_counter()
        graph.invoke({"question": "x"}, config, context=context, durability="exit")
        timings.append((time.perf_counter() - t0) * 1000)
    return statistics.median(timings[3:])


def _bare_sql_ms(con: Any, sqls: Sequence[str], *, row_limit: int, runs: int) -> float:
    """Median milliseconds to run `sqls` one after the other on `con` (no gate, no graph)."""
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for sql in sqls:
            cursor = con.cursor()
            try:
                cursor.execute(sql).fetchmany(row_limit + 1)
            except Exception:  # noqa: BLE001 - a failing query costs what it cost
                pass
            finally:
                cursor.close()
        timings.append((time.perf_counter() - t0) * 1000)
    return statistics.median(timings)


def phase_answers(args: dict[str, Any]) -> dict[str, Any]:
    """Ask every eval question: a cold first answer, one warm-up pass, then timed passes."""
    from agents.assistant import Assistant
    from evals.loader import load_cases

    warehouse = Path(args["path"])
    repeats = max(1, int(args.get("repeats", 3)))
    cases = load_cases([CASES_DIR])
    t0 = time.perf_counter()
    assistant = Assistant(warehouse)
    assistant_start_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    assistant.ask(cases[0].question, thread_id=f"cold-{uuid.uuid4().hex}")
    cold_first_ms = (time.perf_counter() - t0) * 1000
    total = len(cases) * (repeats + 1)
    done = 0

    def one_pass(label: str) -> list[tuple[Any, float, dict]]:
        nonlocal done
        run = uuid.uuid4().hex
        out = []
        for case in cases:
            thread = f"{label}-{run}-{case.thread_key or case.id}"
            t = time.perf_counter()
            response = assistant.ask(case.question, thread_id=thread)
            out.append((case, (time.perf_counter() - t) * 1000, response))
            done += 1
            _emit("progress", done=done, total=total, detail=f"{label}: {case.id}")
        return out

    t0 = time.perf_counter()
    one_pass("warm-up")
    warm_up_seconds = time.perf_counter() - t0
    samples = [s for r in range(repeats) for s in one_pass(f"pass {r + 1}")]

    # the floor of each question: its SQL on the assistant's own connection, plus the framework
    try:
        from agents.resources import connection

        con = connection(warehouse)
    except Exception:  # noqa: BLE001 - the agents' internals moved: open our own
        import duckdb

        con = duckdb.connect(str(warehouse), read_only=True)
    graph_ms = empty_graph_ms(1)
    graph6_ms = empty_graph_ms(6)
    sql_ms: dict[str, float] = {}
    last_sql: dict[str, list[str]] = {}
    for case, _, response in samples:
        last_sql[case.id] = list(response.get("sql") or [])
    for i, case in enumerate(cases):
        sql_ms[case.id] = _bare_sql_ms(con, last_sql[case.id], row_limit=1000, runs=repeats)
        _emit("progress", done=i + 1, total=len(cases), detail=f"floor: {case.id}")

    def family_figures(rows: list[tuple[Any, float, dict]]) -> dict[str, Any]:
        ms = [m for _, m, _ in rows]
        floors = [sql_ms[c.id] + graph_ms for c, _, _ in rows]
        figures = latency_summary(ms)
        floor = latency_summary(floors)
        figures.update({
            "floor_p50_ms": floor["p50_ms"], "floor_p95_ms": floor["p95_ms"],
            "floor_max_ms": floor["max_ms"],
            "ratio_p50": round(figures["p50_ms"] / floor["p50_ms"], 2),
            "ratio_p95": round(figures["p95_ms"] / floor["p95_ms"], 2),
            "sql_queries_per_answer": round(
                statistics.fmean(len(r.get("sql") or []) for _, _, r in rows), 2),
        })
        return figures

    families: dict[str, list[tuple[Any, float, dict]]] = {}
    for sample in samples:
        families.setdefault(sample[0].family, []).append(sample)
    slowest = sorted(samples, key=lambda s: -s[1])[:8]
    return {
        "questions": len(cases),
        "timed_passes": repeats,
        "samples": len(samples),
        "assistant_start_ms": round(assistant_start_ms, 1),
        "cold_first_answer_ms": round(cold_first_ms, 1),
        "warm_up_pass_seconds": round(warm_up_seconds, 2),
        "empty_graph_ms": round(graph_ms, 3),
        "empty_graph_6_nodes_ms": round(graph6_ms, 3),
        "floor_is": "per question: the SQL it ran, on the assistant's read-only connection "
                    "(median of the timed passes' count of runs), plus one invoke of an empty "
                    "one-node graph (empty_graph_ms)",
        "all": family_figures(samples),
        "families": {f: family_figures(rows) for f, rows in sorted(families.items())},
        "answers_with_error": sorted({c.id for c, _, r in samples if r.get("error")}),
        "slowest": [{"case": c.id, "ms": round(m, 1), "sql_ms": round(sql_ms[c.id], 2)}
                    for c, m, _ in slowest],
        "peak_rss_mb": _self_peak_rss_mb(),
        "rss_measured_on": "this child process: Assistant loaded, every question answered "
                           f"{repeats + 1} times",
    }


PHASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "generate": phase_generate,
    "build": phase_build,
    "floor": phase_floor,
    "answers": phase_answers,
}


def child_main(argv: Sequence[str]) -> int:
    """Entry point of a child process: `python -m whizzy.bench PHASE JSON_ARGS`."""
    phase, raw = argv[0], argv[1]
    try:
        result = PHASES[phase](json.loads(raw))
    except Exception as exc:
        import traceback

        traceback.print_exc()
        _emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    _emit("result", result=result)
    return 0


# --------------------------------------------------------------------------- the parent


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _ask_session(url: str, asked: Sequence[str], timeout: float
                       ) -> list[tuple[str, float]]:
    """One Chainlit session (one thread): ask each question and wait for its `task_end`."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    done = asyncio.Event()
    started = asyncio.Event()

    @client.on("task_start")
    async def on_start(*_args: Any) -> None:
        started.set()

    @client.on("task_end")
    async def on_end(*_args: Any) -> None:
        if started.is_set():
            done.set()

    await client.connect(
        url, socketio_path="/ws/socket.io", transports=["websocket"],
        auth={"clientType": "webapp", "sessionId": str(uuid.uuid4()), "threadId": None,
              "userEnv": "{}", "chatProfile": None},
        wait_timeout=timeout,
    )
    out = []
    try:
        await client.emit("connection_successful")
        for question in asked:
            started.clear()
            done.clear()
            payload = {"message": {
                "id": str(uuid.uuid4()), "threadId": "", "name": "User",
                "type": "user_message", "output": question,
                "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }, "fileReferences": None}
            t0 = time.perf_counter()
            await client.emit("client_message", payload)
            await asyncio.wait_for(done.wait(), timeout)
            out.append((question, (time.perf_counter() - t0) * 1000))
    finally:
        await client.disconnect()
    return out


async def _ask_over_websocket(url: str, questions: Sequence[tuple[str, str]],
                              progress: Callable[[int, str], None], timeout: float
                              ) -> list[float]:
    """Ask each (thread key, question) through Chainlit's socket.io; milliseconds per answer.

    Questions sharing a thread key are asked in one session (one Chainlit thread), in order.
    """
    timings: list[float] = []
    sessions: dict[str, list[str]] = {}
    for key, question in questions:
        sessions.setdefault(key, []).append(question)
    for key, asked in sessions.items():
        for question, ms in await _ask_session(url, asked, timeout):
            timings.append(ms)
            progress(len(timings), f"{key}: {question[:40]}")
    return timings


def bench_server(warehouse: Path, *, log: Path, progress: Progress, label: str,
                 timeout: float = 180.0) -> dict[str, Any]:
    """Start `whizzy chat` on the warehouse, time it until `/` answers, answer every question.

    RSS is the Chainlit server process's (the child `whizzy chat` starts), read from
    /proc after every eval question was answered through the chat's websocket.
    """
    from evals.loader import load_cases

    cases = load_cases([CASES_DIR])
    questions = [(c.thread_key or c.id, c.question) for c in cases]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "WHIZZY_AUTH_USERS"}
    env["DO_NOT_TRACK"] = "1"
    load_start = loadavg()
    url = f"http://127.0.0.1:{port}"
    progress(label, 0, None, "starting the chat server")
    with open(log, "a") as err:
        err.write(f"\n==== chat server on {url}\n")
        err.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "whizzy.cli", "chat", "--warehouse", str(warehouse),
             "--port", str(port), "--no-persist"],
            cwd=PROJECT_ROOT, stdout=err, stderr=err, env=env, start_new_session=True,
        )
        try:
            startup = None
            while time.perf_counter() - started < timeout:
                if proc.poll() is not None:
                    raise BenchError(f"The chat server exited with {proc.returncode}; see {log}.")
                try:
                    with urllib.request.urlopen(url + "/", timeout=2) as response:
                        if response.status == 200:
                            startup = time.perf_counter() - started
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                    pass
                time.sleep(0.05)
            if startup is None:
                raise BenchError(f"The chat server did not answer within {timeout:.0f}s; "
                                 f"see {log}.")
            pids = _descendants(proc.pid)
            server_pid = pids[-1] if pids else proc.pid
            rss_at_start = _proc_status_mb(server_pid, "VmRSS")

            def tick(done: int, detail: str) -> None:
                progress(label, done, len(questions), detail)

            t0 = time.perf_counter()
            timings = asyncio.run(_ask_over_websocket(url, questions, tick, timeout))
            answer_seconds = time.perf_counter() - t0
            time.sleep(0.5)  # let the last messages settle
            rss = _proc_status_mb(server_pid, "VmRSS")
            hwm = _proc_status_mb(server_pid, "VmHWM")
            tree = sum(_proc_status_mb(p, "VmRSS") or 0.0 for p in [proc.pid, *pids])
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return {
        "startup_seconds": round(startup, 3),
        "rss_at_start_mb": rss_at_start,
        "rss_mb": rss,
        "peak_rss_mb": hwm,
        "process_tree_rss_mb": round(tree, 1),
        "rss_measured_on": "the Chainlit server process started by `whizzy chat --no-persist`, "
                           "after answering every eval question through its websocket",
        "questions_answered": len(timings),
        "answer_seconds": round(answer_seconds, 2),
        "latency_via_websocket": latency_summary(timings),
        "load": {"start": load_start, "end": loadavg()},
    }


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
    if server:
        out["server"] = bench_server(warehouse, log=log, progress=progress,
                                     label=f"{n}: chat server")
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
        ("answer p50 ≤ 50 ms", _get(big, ("answers", "all", "p50_ms")),
         TARGETS["answer_p50_ms"], "ms"),
        ("answer p95 ≤ 150 ms", _get(big, ("answers", "all", "p95_ms")),
         TARGETS["answer_p95_ms"], "ms"),
        ("server RSS ≤ 1.5 GB", _get(big, ("server", "rss_mb")), TARGETS["server_rss_mb"], "MB"),
    ]
    out = []
    for name, value, limit, unit in checks:
        if value is None or limit is None:
            continue
        out.append({"target": name, "size": n, "value": value, "limit": limit, "unit": unit,
                    "met": bool(value <= limit)})
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
    from whizzy import __version__

    report = progress or (lambda *_: None)
    out = Path(out).resolve() if out else default_out()
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".log")
    # absolute: dbt resolves a relative --target-path against the project folder
    base = Path(work_dir).resolve() if work_dir else PROJECT_ROOT / ".whizzy"
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=base))
    doc: dict[str, Any] = {
        "whizzy_version": __version__,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_at": None,
        "machine": machine(),
        "settings": {"sizes": list(sizes), "seed": SEED, "as_of": AS_OF,
                     "timed_passes": repeats, "cases": str(CASES_DIR.relative_to(PROJECT_ROOT)),
                     "chat_server": server, "work_dir": str(work)},
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


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
