"""The two locks on every agent query, and the time limit.

1. The SQL gate: its cases (the gaps an audit found, plus the usual attacks) are in
   tests/warehouse/test_gate.py; here, that every query of the warehouse goes through it.
2. The connection: read-only, external access off, no extension loading, a memory limit,
   configuration locked, so SQL that somehow got past the gate still can't read a file.
3. The time limit: a timer interrupts a query that runs too long; the user gets a plain
   sentence, the connection keeps working.
4. Swaps: a query running while the file is replaced finishes on the old file; the next
   one reads the new file; a pinned turn reads one version throughout.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from agents.plan import QueryPlan, Selection
from whizzy.assistant import Assistant
from whizzy.core.errors import QueryTimeoutError, UnsafeQueryError, WhizzyError
from whizzy.warehouse.gate import gate
from whizzy.warehouse.reader import (
    QueryTimeout,
    connection,
    open_warehouse,
    pinned,
    query_timeout,
    run_sql,
)

# --------------------------------------------------------------------------- connection


def test_the_connection_is_the_second_lock(served: Path):
    con = connection(served)
    settings = dict(con.execute(
        "select name, value from duckdb_settings() where name in ('enable_external_access', "
        "'lock_configuration', 'memory_limit', 'autoload_known_extensions', "
        "'autoinstall_known_extensions', 'python_enable_replacements')").fetchall())
    assert settings["enable_external_access"] == "false"
    assert settings["lock_configuration"] == "true"
    assert settings["autoload_known_extensions"] == "false"
    assert settings["autoinstall_known_extensions"] == "false"
    assert settings["python_enable_replacements"] == "false"
    assert settings["memory_limit"] not in ("", "-1")
    # SQL that never saw the gate still can't read files, load code or change settings
    for sql in ("select * from read_csv('/etc/passwd')", "install httpfs", "load httpfs",
                "set enable_external_access = true", "set memory_limit = '64GB'",
                "create table main.x as select 1", "attach '/tmp/x.duckdb' as x"):
        with pytest.raises(duckdb.Error):
            run_sql(served, sql, row_limit=5)
    assert not os.path.exists("/tmp/x.duckdb")


def test_warehouse_query_always_gates(served: Path):
    warehouse = open_warehouse(served)
    with pytest.raises(UnsafeQueryError):
        warehouse.query("select * from read_csv('/etc/passwd')")
    with pytest.raises(UnsafeQueryError):
        warehouse.query("select * from fct_opportunity; drop table fct_opportunity")
    out = warehouse.query("select * from fct_opportunity", row_limit=3)
    assert out["row_count"] == 3 and out["sql"].endswith("LIMIT 3")


def test_free_sql_from_the_llm_engine_passes_the_gate(served: Path):
    from agents.executor import execute

    warehouse = open_warehouse(served)
    for sql in ("drop table fct_opportunity", "select * from read_text('/etc/passwd')",
                "select * from salesforce.user",  # raw tables: not for free SQL
                # issue 17: a later CTE's name is the system view; no FROM is no answer
                "with recursive a as (select database_name, path from duckdb_databases), "
                "duckdb_databases as (select 1) select * from a",
                "select 1000000000 as total_revenue"):
        plan = QueryPlan(model="fct_opportunity", selections=[Selection(name="x")],
                         free_sql=sql)
        result = execute(plan, warehouse, row_limit=10)
        assert result["error"] and "refused" in result["error"], (sql, result["error"])
        assert not result["rows"]


# --------------------------------------------------------------------------- time limit

SLOW = "select count(*) from fct_opportunity a, fct_opportunity b, fct_opportunity c"


def test_a_slow_query_is_interrupted_at_the_time_limit(served: Path):
    started = time.perf_counter()
    with pytest.raises(QueryTimeout) as caught:
        run_sql(served, gate(SLOW, open_warehouse(served).allowed), row_limit=5, timeout=0.5)
    elapsed = time.perf_counter() - started
    assert 0.4 < elapsed < 5, elapsed  # 2.7e10 rows: minutes without the interrupt
    error = caught.value
    assert isinstance(error, QueryTimeoutError) and isinstance(error, WhizzyError)
    assert isinstance(error, duckdb.Error)  # every caller that handles failed queries copes
    assert "took longer than the 0.5-second limit" in str(error)
    assert "WHIZZY_QUERY_TIMEOUT" in error.user_message()
    # the connection is fine afterwards
    assert run_sql(served, "select count(*) from fct_opportunity", row_limit=5)[1][0][0] > 0


def test_a_fast_query_is_not_interrupted(served: Path):
    for _ in range(20):
        columns, rows, _, _ = run_sql(served, "select count(*) as n from fct_opportunity",
                                      row_limit=5, timeout=5)
        assert columns == ["n"] and rows[0][0] > 0


def test_a_timed_out_question_gets_a_plain_answer(served: Path, monkeypatch):
    import agents.executor as executor

    monkeypatch.setenv("WHIZZY_QUERY_TIMEOUT", "0.5")
    monkeypatch.setattr(executor, "sqlbuild", lambda plan, **kw: SLOW)
    assistant = Assistant(served)
    started = time.perf_counter()
    out = assistant.ask("What is our open pipeline?", thread_id=uuid.uuid4().hex)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed
    assert out["intent"] == "analytics"
    assert "took longer than the 0.5-second limit" in out["answer"], out["answer"]
    assert "Traceback" not in out["answer"] and "Interrupt" not in out["answer"]
    assert out["rows"] == [] and "limit" in (out["error"] or "")
    monkeypatch.undo()
    again = assistant.ask("What is our open pipeline?", thread_id=uuid.uuid4().hex)
    assert again["error"] is None and again["rows"], again["answer"]


@pytest.mark.parametrize(("raw", "expected"), [(None, 30.0), ("2.5", 2.5), ("", 30.0),
                                               ("soon", 30.0), ("-1", 30.0), ("0", 30.0)])
def test_the_time_limit_setting(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("WHIZZY_QUERY_TIMEOUT", raising=False)
        monkeypatch.setenv("WHIZZY_DOTENV", "/nonexistent/.env")
    else:
        monkeypatch.setenv("WHIZZY_QUERY_TIMEOUT", raw)
    assert query_timeout() == expected


# --------------------------------------------------------------------------- swaps

COUNT = "select count(*) from fct_opportunity"
BUSY = ("select count(*) from fct_opportunity a, fct_opportunity b, range(20) r "
        "where a.amount > b.amount + r.range")


def _smaller_copy(served: Path) -> tuple[Path, int]:
    """A copy of `served` with fewer opportunities, beside it (ready to be swapped in)."""
    new = served.with_name("next.duckdb")
    shutil.copyfile(served, new)
    con = duckdb.connect(str(new))
    con.execute("delete from main.fct_opportunity where amount > 50000")
    count = con.execute(COUNT).fetchone()[0]
    con.close()
    return new, count


def test_a_query_running_during_a_swap_finishes_and_the_next_reads_the_new_file(served: Path):
    before = run_sql(served, COUNT, row_limit=1)[1][0][0]
    new, after = _smaller_copy(served)
    assert after < before
    outcome: dict = {}

    def busy() -> None:
        try:
            outcome["rows"] = run_sql(served, BUSY, row_limit=1, timeout=60)[1]
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            outcome["error"] = exc

    worker = threading.Thread(target=busy)
    worker.start()
    time.sleep(0.3)  # the busy query is running on the old file
    os.replace(new, served)
    assert run_sql(served, COUNT, row_limit=1)[1][0][0] == after  # waits, then reopens
    worker.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["rows"][0][0] > 0


def test_a_pinned_turn_reads_one_version(served: Path):
    before = run_sql(served, COUNT, row_limit=1)[1][0][0]
    new, after = _smaller_copy(served)
    seen: list[int] = []
    swapped = threading.Event()

    def swap() -> None:
        os.replace(new, served)
        seen.append(run_sql(served, COUNT, row_limit=1)[1][0][0])  # waits for the pin
        swapped.set()

    with pinned(served):
        seen.append(run_sql(served, COUNT, row_limit=1)[1][0][0])
        other = threading.Thread(target=swap)
        other.start()
        time.sleep(0.3)
        assert not swapped.is_set()  # the other thread waits for this turn to end
        seen.append(run_sql(served, COUNT, row_limit=1)[1][0][0])
        assert open_warehouse(served).version is not None
    other.join(30)
    assert seen == [before, before, after]


def test_a_swap_never_waits_forever_for_a_runaway_query(served: Path, monkeypatch):
    """A query that outlives every limit is interrupted so the new file can be opened."""
    import whizzy.warehouse.reader as resources

    monkeypatch.setenv("WHIZZY_QUERY_TIMEOUT", "0.2")  # the swap waits 0.2 s + the grace
    monkeypatch.setattr(resources, "DRAIN_GRACE", 0.5)
    new, after = _smaller_copy(served)
    outcome: dict = {}

    def runaway() -> None:
        try:
            run_sql(served, SLOW, row_limit=1, timeout=600)  # its own timer: 10 minutes
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            outcome["error"] = exc

    worker = threading.Thread(target=runaway)
    worker.start()
    time.sleep(0.3)
    os.replace(new, served)
    started = time.perf_counter()
    assert run_sql(served, COUNT, row_limit=1)[1][0][0] == after
    assert time.perf_counter() - started < 10
    worker.join(30)
    assert not worker.is_alive()
    assert isinstance(outcome.get("error"), duckdb.Error)  # stopped, not left running
