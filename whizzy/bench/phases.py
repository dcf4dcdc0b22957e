"""The bench phases, each run in its own child process (`python -m whizzy.bench PHASE ARGS`).

A child reports its result on stdout after `MARKER`, so its peak memory is its own.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from whizzy.bench.common import (
    AS_OF,
    CASES_DIR,
    SEED,
    BenchError,
    _emit,
    _self_peak_rss_mb,
    latency_summary,
)


def phase_generate(args: dict[str, Any]) -> dict[str, Any]:
    """Generate an org of `args["opportunities"]` into `args["path"]`."""
    # imported in the phase that needs it: each child process's peak memory is its own
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
    # imported in the phase that needs it: each child process's peak memory is its own
    from whizzy.build import build_warehouse

    try:
        # imported in the phase that needs it: each child process's peak memory is its own
        from whizzy.build import _threads

        threads: int | None = _threads()
    except ImportError:  # a private helper; the figure is only informative
        threads = None

    def progress(done: int, total: int | None, node: str) -> None:
        _emit("progress", done=done, total=total, detail=node)

    started = time.perf_counter()
    result = build_warehouse(Path(args["path"]), as_of=AS_OF, progress=progress)
    seconds = time.perf_counter() - started
    # as `whizzy build` does: the build's value index, saved beside the warehouse
    from agents.values import value_index
    from whizzy.warehouse.reader import open_warehouse

    started = time.perf_counter()
    value_index(open_warehouse(result.warehouse))
    index_seconds = time.perf_counter() - started
    by_type: dict[str, float] = {}
    for node in result.nodes:
        by_type[node.resource_type] = by_type.get(node.resource_type, 0.0) + node.seconds
    models = {n.name: round(n.seconds, 3) for n in result.nodes if n.resource_type == "model"}
    tests = sorted((n for n in result.nodes if n.resource_type == "test"),
                   key=lambda n: n.seconds, reverse=True)
    counts = result.counts
    return {
        "seconds": round(seconds + index_seconds, 3),
        "dbt_seconds": round(seconds, 3),
        "value_index_seconds": round(index_seconds, 3),
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
    durability as `whizzy.assistant.Assistant`: the framework's fixed share of an answer.
    """
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph

    # imported in the phase that needs it: each child process's peak memory is its own
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
    # imported in the phase that needs it: each child process's peak memory is its own
    from evals.loader import load_cases
    from whizzy.assistant import Assistant

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
    first_warm_ms = statistics.median(ms for case, ms, _ in samples if case is cases[0])

    # the floor of each question: its SQL on the assistant's own connection, plus the framework
    try:
        # imported in the phase that needs it: each child process's peak memory is its own
        from whizzy.warehouse.reader import connection

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
        "first_question_warm_ms": round(first_warm_ms, 1),
        "first_vs_warm": round(cold_first_ms / first_warm_ms, 1),
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
