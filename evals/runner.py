"""Run eval cases: ask each question, run its gold SQL, score the answer.

Cases run in file order. Cases that share a `thread` (within one file) form one conversation
with one thread id; every other case gets a fresh thread. The assistant is anything with
`ask(question, *, thread_id) -> dict` in the shape of `agents.assistant.Assistant.ask`.
"""

from __future__ import annotations

import hashlib
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from evals.evaluators import Score, gold_values, score_case
from evals.loader import EvalCase
from whizzy.warehouse import connect_readonly


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


def run_gold(con, sql: str) -> GoldResult:  # noqa: ANN001 - duckdb connection
    """Run one gold query read-only; an error is kept, not raised."""
    try:
        cursor = con.execute(sql)
        columns = tuple(d[0] for d in cursor.description or ())
        return GoldResult(columns=columns, rows=tuple(tuple(r) for r in cursor.fetchall()))
    except Exception as exc:  # noqa: BLE001 - any SQL error is reported on its case
        return GoldResult(error=f"{type(exc).__name__}: {exc}".strip())


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
    from agents.assistant import Assistant

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
        golds = [pool.submit(_gold_worker, warehouse, c.gold_sql) if c.gold_sql else None
                 for c in cases]
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
    )


_worker = threading.local()


def _gold_worker(warehouse: Path, sql: str) -> GoldResult:
    """Run a gold query on the worker thread's own connection (opened on first use)."""
    if getattr(_worker, "con", None) is None:
        _worker.con = connect_readonly(warehouse)
    return run_gold(_worker.con, sql)


def _close_worker_connection() -> None:
    con, _worker.con = getattr(_worker, "con", None), None
    if con is not None:
        con.close()


def _ask(assistant: AssistantLike, case: EvalCase, thread_id: str, gold_future):  # noqa: ANN001, ANN202
    gold = gold_future.result() if gold_future is not None else None
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
    if gold is None:
        values = None
    elif gold.error:
        values = []
    else:
        values = gold_values(gold.rows, case.expect)
    scores = score_case(case, response, values, exception)
    if gold is not None and gold.error:
        scores["gold"] = Score("gold", 0.0, False, f"gold SQL failed: {gold.error}")
    return CaseResult(
        case=case, thread_id=thread_id, response=response, gold=gold, scores=scores,
        elapsed_ms=elapsed, exception=exception,
    )
