"""Hard limits on warehouse queries (issue 17, finding 8).

- The free-SQL dry run (``EXPLAIN``) had no timer, and planning alone can take minutes
  (constant folding): it now runs under the time limit, in a child that is killed then.
- A single function call ignores DuckDB's interrupt and its ``memory_limit``: LLM-written
  SQL runs in a child process with a kernel memory cap and a kill at the time limit.
- Results are bounded in bytes, not only in rows.

Limits are configured small so the tests stay fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agents.executor import execute
from agents.llm.freesql import explain_on
from agents.plan import QueryPlan, Selection
from whizzy.core.errors import QueryLimitError, QueryTimeoutError
from whizzy.warehouse.reader import open_warehouse, run_isolated, run_sql

#: Minutes of planning (constant folding), in little memory: O(n²) with n = 150,000.
SLOW_TO_PLAN = "select levenshtein(repeat('a', 150000), repeat('b', 150000)) as d"
#: 300 MB in one function call.
HUNGRY = "select length(repeat('x', 300000000)) as n"
#: Hours of counting (a four-way cross join): finishes under no limit on any machine.
SLOW = ("select count(*) as n from fct_opportunity a, fct_opportunity b, fct_opportunity c,"
        " fct_opportunity d")


def _free(sql: str) -> QueryPlan:
    return QueryPlan(model="fct_opportunity", selections=[Selection(name="x")], free_sql=sql)


def test_the_free_sql_dry_run_stops_at_the_time_limit(served: Path, monkeypatch):
    monkeypatch.setenv("WHIZZY_QUERY_TIMEOUT", "1")
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        explain_on(served)(SLOW_TO_PLAN)
    assert time.monotonic() - started < 30  # about 1-2 s; unbounded it plans for minutes


def test_one_hungry_function_call_meets_the_memory_cap(served: Path, monkeypatch):
    monkeypatch.setenv("WHIZZY_QUERY_MEMORY_MB", "256")
    with pytest.raises(QueryLimitError, match="256 MB"):
        run_isolated(served, HUNGRY, row_limit=5)
    started = time.monotonic()
    try:  # planning may fold the constant (and meet the same cap) or give up folding it
        explain_on(served)(HUNGRY)
    except QueryLimitError as error:
        assert "256 MB" in str(error)
    assert time.monotonic() - started < 30


def test_llm_sql_is_killed_at_the_time_limit(served: Path, monkeypatch):
    monkeypatch.setenv("WHIZZY_QUERY_TIMEOUT", "1")
    started = time.monotonic()
    result = execute(_free(SLOW), open_warehouse(served), row_limit=10)
    assert time.monotonic() - started < 30
    assert "took longer than the 1-second limit" in result["error"], result["error"]
    assert not result["rows"]


def test_the_child_stops_itself_at_the_limit_without_the_backstops(served: Path):
    """The watchdog, not the CPU cap or the parent's kill, ends a query at its limit.

    A 3-second query under a 1-second limit once came back with its rows: the CPU cap
    (limit + 2 s, start-up included) and the parent's kill (limit + 5 s) both let it finish.
    Here both backstops are far off, so only the child's own watchdog can answer in time.
    """
    request = {"path": str(served), "sql": SLOW, "row_limit": 10, "max_bytes": 10**6,
               "memory_mb": 1024, "explain": False, "version": None, "timeout": 1,
               "cpu_seconds": 3600}
    done = subprocess.run([sys.executable, "-m", "whizzy.warehouse.sandbox"],
                          input=json.dumps(request), capture_output=True, text=True,
                          timeout=60, check=False)
    answer = json.loads(done.stdout)
    assert answer == {"ok": False, "kind": "timeout",
                      "message": "the query took longer than 1 s"}, (answer, done.stderr)


def test_results_are_bounded_in_bytes(served: Path, monkeypatch):
    monkeypatch.setenv("WHIZZY_RESULT_MAX_BYTES", "100000")
    # the red team's 1,000 rows x 2 MB, scaled down: 1,000 rows x 2 KB against 100 KB
    with pytest.raises(QueryLimitError, match="100,000 bytes"):
        run_sql(served, "select repeat('x', 2000) as s from range(1000)", row_limit=1000)
    with pytest.raises(QueryLimitError, match="100,000 bytes"):
        run_isolated(served, "select repeat('x', 2000) as s from range(1000)", row_limit=1000)
    result = execute(_free("select * from fct_opportunity"), open_warehouse(served),
                     row_limit=1000)
    assert "100,000 bytes" in result["error"] and not result["rows"]
    # within the limit nothing changes
    assert run_sql(served, "select 1 as x from range(10)", row_limit=5)[1] == [(1,)] * 5


def test_llm_sql_within_the_limits_answers(served: Path):
    result = execute(_free("select count(*) as n from fct_opportunity"), open_warehouse(served),
                     row_limit=10)
    assert result["error"] is None and result["rows"][0][0] > 0, result
    assert result["free_sql"] and result["sql"].endswith("LIMIT 10")
    unique = uuid.uuid4().hex  # a string literal comes back as it went
    result = execute(_free(f"select '{unique}' as s from fct_opportunity limit 1"),
                     open_warehouse(served), row_limit=10)
    assert result["rows"] == [[unique]], result
