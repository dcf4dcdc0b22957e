"""The chat-server phase: start `whizzy chat`, answer every question over its websocket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whizzy.bench.common import (
    CASES_DIR,
    BenchError,
    Progress,
    _descendants,
    _proc_status_mb,
    latency_summary,
    loadavg,
)
from whizzy.core.settings import PROJECT_ROOT


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
    # imported in the phase that needs it: each child process's peak memory is its own
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
