"""Hard limits for SQL nobody wrote by hand: the query runs in a child process.

DuckDB's interrupt is checked between chunks, so a query that spends its time in one
function call (constant folding while planning, or an ``EXPLAIN``) runs on past the time
limit, and memory that strings take outside DuckDB's buffer pool is not held by
``memory_limit``. The LLM's free SQL therefore runs, and is dry-run, in a child process
(``python -m whizzy.warehouse.sandbox``) that is:

- stopped at the time limit, counted from when the query starts (a watchdog thread in the
  child answers "timeout" and ends the process, whatever DuckDB is doing); the parent's
  wall-clock kill (limit + start-up grace) and a CPU-time cap are backstops;
- capped in memory by the kernel (``RLIMIT_DATA``: an allocation past it fails, and the
  query fails with it, never the server);
- cut off when its result passes a byte limit (rows are measured as they are fetched).

The child opens the same file read-only with the usual locks (`connect_readonly`) and
checks that it reads the version the caller pinned. Requests and answers are JSON on
stdin/stdout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Held by whoever writes the child's one answer: the query's end or the watchdog.
_ANSWERING = threading.Lock()

#: Extra seconds a child gets to start (Python and DuckDB) on top of the query's limit.
START_GRACE = 5.0


class SandboxError(Exception):
    """The child could not give a result; `kind` says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        #: ``timeout``, ``memory``, ``too_big``, ``swapped`` or ``error`` (a DuckDB error).
        self.kind = kind


def value_bytes(value: Any) -> int:
    """Roughly how many bytes a result value takes (text and blobs by their length).

    >>> value_bytes("abc"), value_bytes(12.5), value_bytes(None), value_bytes([b"xy", "z"])
    (3, 8, 1, 19)
    """
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, dict):
        return 16 + sum(value_bytes(k) + value_bytes(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 16 + sum(value_bytes(v) for v in value)
    return 8


def fetch_bounded(result: Any, row_limit: int, max_bytes: int
                  ) -> tuple[list[tuple[Any, ...]], bool]:
    """At most `row_limit` + 1 rows of a DuckDB result, fetched in chunks.

    Raises:
        SandboxError: kind ``too_big`` once the rows pass `max_bytes`.
    """
    rows: list[tuple[Any, ...]] = []
    size = 0
    while len(rows) <= row_limit:
        chunk = result.fetchmany(min(100, row_limit + 1 - len(rows)))
        if not chunk:
            break
        for row in chunk:
            size += value_bytes(row)
        if size > max_bytes:
            raise SandboxError("too_big", f"the result is larger than {max_bytes:,} bytes")
        rows.extend(chunk)
    return rows, len(rows) > row_limit


def run_in_sandbox(path: os.PathLike[str] | str, sql: str, *,
                   version: Sequence[int] | None, row_limit: int, timeout: float,
                   memory_mb: int, max_bytes: int, explain: bool = False
                   ) -> tuple[list[str], list[list[Any]], bool]:
    """Run (or with `explain`, only ``EXPLAIN``) one query in a child; columns, rows, truncated.

    Rows come back JSON-friendly (`whizzy.core.jsonable`).

    Raises:
        SandboxError: the time, memory or byte limit was hit, the file was swapped, or
            DuckDB refused the query (kind ``error``, its message).
    """
    request = {"path": os.fspath(path), "sql": sql, "row_limit": row_limit,
               "max_bytes": max_bytes, "memory_mb": memory_mb, "explain": explain,
               "version": list(version) if version else None, "timeout": timeout,
               "cpu_seconds": timeout + 1}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "whizzy.warehouse.sandbox"], input=json.dumps(request),
            capture_output=True, text=True, timeout=timeout + START_GRACE, check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise SandboxError("timeout", f"the query took longer than {timeout:g} s") from None
    if len(done.stdout) > max_bytes * 4 + 65_536:
        raise SandboxError("too_big", f"the result is larger than {max_bytes:,} bytes")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        if done.returncode == -signal.SIGXCPU:  # the CPU-time backstop
            raise SandboxError("timeout", f"the query took longer than {timeout:g} s") \
                from None
        if "MemoryError" in done.stderr or "bad_alloc" in done.stderr:
            raise SandboxError("memory", f"the query needed more than {memory_mb:,} MB") \
                from None
        raise SandboxError("error", "the query stopped without an answer") from None
    if not answer.get("ok"):
        raise SandboxError(answer.get("kind", "error"), answer.get("message", "failed"))
    return answer["columns"], answer["rows"], answer["truncated"]


def _serve(request: dict[str, Any]) -> dict[str, Any]:
    """The child's side: open, check the version, run, measure."""
    import duckdb  # in the child only: the memory cap is set before DuckDB loads

    from whizzy.core.jsonable import jsonable
    from whizzy.warehouse.connection import connect_readonly

    memory_mb = int(request["memory_mb"])
    path = Path(request["path"])
    try:
        con = connect_readonly(path, memory_limit=f"{max(64, memory_mb // 2)}MB", threads=1)
    except duckdb.Error as error:
        return {"ok": False, "kind": "error", "message": str(error).splitlines()[0]}
    stat = os.stat(path)
    if request.get("version") and [stat.st_ino, stat.st_mtime_ns, stat.st_size] != \
            list(request["version"]):
        return {"ok": False, "kind": "swapped",
                "message": "the warehouse was rebuilt while answering; ask again"}
    _watch(float(request.get("timeout") or 0))
    try:
        if request.get("explain"):
            con.execute(f"EXPLAIN {request['sql']}").fetchall()
            return {"ok": True, "columns": [], "rows": [], "truncated": False}
        result = con.execute(request["sql"])
        columns = [d[0] for d in result.description or []]
        rows, truncated = fetch_bounded(result, int(request["row_limit"]),
                                        int(request["max_bytes"]))
    except SandboxError as error:
        return {"ok": False, "kind": error.kind, "message": str(error)}
    except (duckdb.OutOfMemoryException, MemoryError):
        return {"ok": False, "kind": "memory",
                "message": f"the query needed more than {memory_mb:,} MB"}
    except duckdb.Error as error:
        message = str(error).splitlines()[0]
        kind = "memory" if "Out of Memory" in message else "error"
        return {"ok": False, "kind": kind, "message": message}
    return {"ok": True, "columns": columns, "rows": jsonable(rows[:request["row_limit"]]),
            "truncated": truncated}


def _watch(seconds: float) -> None:
    """End this child `seconds` from now with a "timeout" answer, whatever the query does.

    DuckDB's interrupt is only checked between chunks, and the CPU-time cap counts start-up
    and allows a few seconds more: a query must not come back because it finished before
    either backstop (a 3-second query under a 1-second limit did).
    """
    if seconds <= 0:
        return

    def expire() -> None:
        if not _ANSWERING.acquire(blocking=False):  # the answer is being written
            return
        answer = {"ok": False, "kind": "timeout",
                  "message": f"the query took longer than {seconds:g} s"}
        os.write(1, json.dumps(answer).encode())
        os._exit(0)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def main() -> None:
    """Child entry point: cap memory and CPU, read one request, write one answer."""
    import resource

    request = json.loads(sys.stdin.read())
    cap = int(request["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    cpu = int(float(request.get("cpu_seconds") or 60)) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        answer = _serve(request)
    except MemoryError:
        answer = {"ok": False, "kind": "memory",
                  "message": f"the query needed more than {request['memory_mb']:,} MB"}
    _ANSWERING.acquire()  # not while the watchdog writes its own (it then ends the process)
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
