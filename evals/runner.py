"""Run eval cases: ask each question, run its gold SQL, score the answer.

Cases run in file order. Cases that share a `thread` (within one file) form one conversation
with one thread id; every other case gets a fresh thread. The assistant is anything with
`ask(question, *, thread_id) -> dict` in the shape of `whizzy.assistant.Assistant.ask`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from evals.evaluators import Score, gold_values, score_case
from evals.loader import PLACEHOLDER, VALUE_EXPECTS, EvalCase
from whizzy.warehouse.connection import connect_readonly

#: Temporary macros every gold and bind query may use (as-of and fiscal calendar maths).
GOLD_MACROS = Path(__file__).with_name("gold.sql")


class AssistantLike(Protocol):
    """What the runner needs from the assistant."""

    def ask(self, question: str, *, thread_id: str) -> dict:  # noqa: D102
        ...


@dataclass(frozen=True)
class GoldResult:
    """The gold query's result: column names and rows, or the error it raised."""

    columns: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    error: str | None = None


@dataclass(kw_only=True)
class CaseResult:
    """One case, asked and scored."""

    case: EvalCase
    thread_id: str
    response: dict | None
    gold: GoldResult | None
    scores: dict[str, Score]
    elapsed_ms: float
    exception: str | None = None

    @property
    def passed(self) -> bool:
        """Whether every score that applies passed."""
        return all(s.passed for s in self.scores.values())

    @property
    def failures(self) -> list[str]:
        """What went wrong, one line per failed score."""
        return [f"{s.name}: {s.detail}" for s in self.scores.values() if not s.passed]


@dataclass(kw_only=True)
class EvalRun:
    """All results of one eval run, with what it ran on."""

    results: list[CaseResult]
    warehouse: Path
    engine: str
    started_at: str
    duration_s: float
    warehouse_unchanged: bool
    as_of_date: str | None = None
    #: Cases not asked on this warehouse (a bind found no value), with why.
    skipped: dict[str, str] = field(default_factory=dict)


def run_gold(con, sql: str) -> GoldResult:  # noqa: ANN001 - duckdb connection
    """Run one gold query read-only; an error is kept, not raised."""
    try:
        cursor = con.execute(sql)
        columns = tuple(d[0] for d in cursor.description or ())
        return GoldResult(columns=columns, rows=tuple(tuple(r) for r in cursor.fetchall()))
    except Exception as exc:  # noqa: BLE001 - any SQL error is reported on its case
        return GoldResult(error=f"{type(exc).__name__}: {exc}".strip())


def bind_case(con, case: EvalCase) -> EvalCase:  # noqa: ANN001 - duckdb connection
    """The case with its ``{{name}}`` placeholders filled from its bind queries.

    Each bind query must return at least one row; its first value is used. In the gold SQL
    the value's single quotes are doubled (it sits inside a quoted literal there).

    Raises:
        ValueError: a bind query failed or returned no row.
    """
    if not case.bind:
        return case
    values: dict[str, str] = {}
    for name, sql in case.bind:
        try:
            row = con.execute(_fill(sql, values, sql_text=True)).fetchone()
        except Exception as exc:  # noqa: BLE001 - reported on the case
            raise ValueError(f"bind {name} failed: {type(exc).__name__}: {exc}") from None
        if row is None or row[0] is None:
            raise BindMissing(f"bind {name} returned no value on this warehouse")
        values[name] = str(row[0])
    return replace(
        case,
        question=_fill(case.question, values),
        gold_sql=_fill(case.gold_sql, values, sql_text=True) if case.gold_sql else None,
        must_contain=tuple(_fill(s, values) for s in case.must_contain),
        must_not_contain=tuple(_fill(s, values) for s in case.must_not_contain),
    )


def _fill(text: str, values: dict[str, str], *, sql_text: bool = False) -> str:
    def value(m: re.Match[str]) -> str:
        v = values.get(m.group(1), m.group(0))
        return v.replace("'", "''") if sql_text else v

    return PLACEHOLDER.sub(value, text)


def gold_connection(warehouse: Path):  # noqa: ANN201 - duckdb connection
    """A read-only connection to `warehouse` with the gold macros (`evals/gold.sql`)."""
    con = connect_readonly(warehouse)
    try:
        con.execute(GOLD_MACROS.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - no build_info as a build writes it: gold using a macro fails
        pass
    return con


def thread_ids(cases: Sequence[EvalCase], run_id: str) -> list[str]:
    """The thread id each case is asked in: shared within a thread, fresh otherwise.

    >>> from evals.evaluators import _case
    >>> cs = [_case(id="a", thread="t"), _case(id="b"), _case(id="c", thread="t")]
    >>> thread_ids(cs, "r1")
    ['eval-r1-f/t', 'eval-r1-b', 'eval-r1-f/t']
    """
    return [f"eval-{run_id}-{c.thread_key or c.id}" for c in cases]


def select_cases(cases: Sequence[EvalCase], patterns: Sequence[str]) -> list[EvalCase]:
    """Cases whose id matches any glob pattern, plus the earlier turns of their threads.

    >>> from evals.evaluators import _case
    >>> cs = [_case(id="a", thread="t"), _case(id="b"), _case(id="c", thread="t")]
    >>> [c.id for c in select_cases(cs, ["c"])]
    ['a', 'c']
    """
    from fnmatch import fnmatchcase

    if not patterns:
        return list(cases)
    chosen = [c for c in cases if any(fnmatchcase(c.id, p) for p in patterns)]
    last_turn: dict[str, int] = {}
    for c in chosen:
        if c.thread_key:
            last_turn[c.thread_key] = max(last_turn.get(c.thread_key, -1), cases.index(c))
    keep = {c.id for c in chosen}
    return [
        c for i, c in enumerate(cases)
        if c.id in keep or (c.thread_key in last_turn and i <= last_turn[c.thread_key])
    ]


def file_digest(path: Path) -> str:
    """sha256 of a file (to prove the eval never wrote to the warehouse)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_assistant(warehouse: Path, engine: str) -> AssistantLike:
    """The product's assistant on `warehouse` (a fresh in-memory checkpointer per run)."""
    # imported here: `python -m evals.checkgold` checks gold SQL without loading LangGraph
    # (about 0.6 s instead of 4 s)
    from whizzy.assistant import Assistant

    return Assistant(warehouse, engine=engine)


def run_eval(
    cases: Sequence[EvalCase],
    *,
    warehouse: Path,
    assistant: AssistantLike | None = None,
    engine: str = "offline",
    on_result: Callable[[CaseResult], None] | None = None,
) -> EvalRun:
    """Ask every case, run its gold SQL on `warehouse` (read-only) and score the answers.

    Args:
        cases: The cases, in the order they are asked.
        warehouse: The built warehouse the gold SQL runs on (and the assistant, if made here).
        assistant: The assistant to ask; default `make_assistant(warehouse, engine)`.
        engine: `offline` or `llm` (used when the assistant is made here, and reported).
        on_result: Called after each case (for progress display).
    """
    started, t0 = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    before = file_digest(warehouse)
    # Gold queries run on their own read-only connection in a worker thread, so they overlap
    # with building the assistant (imports, catalog, value index) and with asking.
    with ThreadPoolExecutor(max_workers=1) as pool:
        as_of_future = pool.submit(_gold_worker, warehouse, "select as_of_date from build_info")
        skipped = pool.submit(_missing_binds, warehouse, cases).result()
        cases = [c for c in cases if c.id not in skipped]
        golds = [pool.submit(_prepare_worker, warehouse, c) for c in cases]
        pool.submit(_close_worker_connection)
        if assistant is None:
            assistant = make_assistant(warehouse, engine)
        run_id = uuid.uuid4().hex[:8]
        results: list[CaseResult] = []
        for case, thread_id, gold in zip(cases, thread_ids(cases, run_id), golds, strict=True):
            result = _ask(assistant, case, thread_id, gold)
            results.append(result)
            if on_result:
                on_result(result)
        as_of = as_of_future.result()
    return EvalRun(
        results=results,
        warehouse=warehouse,
        engine=engine,
        started_at=started,
        duration_s=time.perf_counter() - t0,
        warehouse_unchanged=file_digest(warehouse) == before,
        as_of_date=str(as_of.rows[0][0]) if as_of.rows else None,
        skipped=skipped,
    )


_worker = threading.local()


def _worker_connection(warehouse: Path):  # noqa: ANN202 - duckdb connection
    if getattr(_worker, "con", None) is None:
        _worker.con = gold_connection(warehouse)
    return _worker.con


def _gold_worker(warehouse: Path, sql: str) -> GoldResult:
    """Run a gold query on the worker thread's own connection (opened on first use)."""
    return run_gold(_worker_connection(warehouse), sql)


class BindMissing(ValueError):
    """A bind query found no value on this warehouse: the case does not apply to it."""


def _missing_binds(warehouse: Path, cases: Sequence[EvalCase]) -> dict[str, str]:
    """Cases (and every turn of their threads) whose bind finds no value on `warehouse`."""
    con = _worker_connection(warehouse)
    missing: dict[str, str] = {}
    for case in cases:
        try:
            bind_case(con, case)
        except BindMissing as exc:
            missing[case.id] = str(exc)
        except ValueError:
            pass  # a failing bind query fails its case when asked
    threads = {c.thread_key for c in cases if c.id in missing and c.thread_key}
    for case in cases:
        if case.thread_key in threads and case.id not in missing:
            missing[case.id] = "another turn of its thread does not apply"
    return missing


def _prepare_worker(warehouse: Path, case: EvalCase) -> tuple[EvalCase, GoldResult | None]:
    """Bind the case's placeholders and run its gold query (on the worker's connection)."""
    con = _worker_connection(warehouse)
    try:
        case = bind_case(con, case)
    except ValueError as exc:
        return case, GoldResult(error=str(exc))
    return case, (run_gold(con, case.gold_sql) if case.gold_sql else None)


def _close_worker_connection() -> None:
    con, _worker.con = getattr(_worker, "con", None), None
    if con is not None:
        con.close()


def _ask(assistant: AssistantLike, case: EvalCase, thread_id: str, prepared):  # noqa: ANN001, ANN202
    case, gold = prepared.result()
    t0 = time.perf_counter()
    response, exception = None, None
    try:
        response = assistant.ask(case.question, thread_id=thread_id)
        if not isinstance(response, dict):
            exception, response = f"ask() returned {type(response).__name__}, not a dict", None
    except Exception as exc:  # noqa: BLE001 - a crash fails the case, the run goes on
        exception = f"{type(exc).__name__}: {exc}"
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        if last:
            exception += f" (at {Path(last[0].filename).name}:{last[0].lineno})"
    elapsed = (time.perf_counter() - t0) * 1000
    if gold is None or case.expect not in VALUE_EXPECTS:
        values = None
    elif gold.error:
        values = []
    else:
        values = gold_values(gold.rows, case.expect)
    scores = score_case(case, response, values, exception)
    if gold is not None and gold.error:
        what = "bind" if gold.error.startswith("bind ") else "gold SQL failed"
        scores["gold"] = Score("gold", 0.0, False, f"{what}: {gold.error}")
    return CaseResult(
        case=case, thread_id=thread_id, response=response, gold=gold, scores=scores,
        elapsed_ms=elapsed, exception=exception,
    )
