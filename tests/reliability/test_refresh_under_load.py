"""Refresh under load: conversations keep getting consistent answers while the warehouse is
replaced underneath them.

In process: 20 conversations (threads sharing one `Assistant`, as the chat server does)
ask questions without pause while the served file changes five times: a new raw load
(amounts doubled, models not rebuilt yet), a real `build_warehouse` (the models catch up),
and three `os.replace` swaps back and forth between the two versions. Every answer must
be whole (no error) and equal, word for word and row for row, to what that question gets
from one version served while it was being answered: never an error, never a mix, and
after each swap the new data.

The same through the chat's websocket is in `test_chat_server.py`.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from reliability_support import copy_warehouse, swap_in

from agents.contract import INTENTS
from whizzy.assistant import Assistant
from whizzy.build import build_warehouse

pytestmark = pytest.mark.load

AS_OF = "2026-11-15"  # the demo org's (tests/conftest.py)
QUESTIONS = [
    "What is our open pipeline?",
    "What is our weighted pipeline?",
    "How much did we book this year?",
    "Show me the biggest open deals",
    "What was our win rate last quarter?",
]
CONVERSATIONS = 20
#: Seconds a conversation pauses between questions (people read the answer first).
THINK = 0.4
#: Seconds between swaps at least; then until `SETTLED` answers began and ended after it.
SETTLE = 2.0
#: Answers that must start and finish on a version before the next swap (a condition, not a
#: clock: on a busy machine an answer may take longer than `SETTLE`).
SETTLED = 3


def _signature(out: dict) -> str:
    """What must match between an answer under load and the same question asked alone."""
    return json.dumps([out["answer"], out["rows"], out["sql"]], default=str)


def _expected(path: Path) -> dict[str, str]:
    assistant = Assistant(path)
    return {q: _signature(assistant.ask(q, thread_id=uuid.uuid4().hex)) for q in QUESTIONS}


def _double_raw_amounts(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("update salesforce.opportunity set amount = amount * 2")
    con.execute("checkpoint")
    con.close()


@dataclass
class Swap:
    """One change of the served file: it happened somewhere within [start, end]."""

    version: str
    start: float
    end: float


@dataclass
class Answer:
    conversation: int
    question: str
    start: float
    end: float
    out: dict | None = None
    error: str | None = None


def _possible_versions(swaps: list[Swap], start: float, end: float) -> set[str]:
    """Versions that may have been served at some moment of [start, end].

    Version k is served from the start of its swap window until the end of the next one.
    """
    versions = set()
    for k, swap in enumerate(swaps):
        until = swaps[k + 1].end if k + 1 < len(swaps) else float("inf")
        if swap.start <= end and until >= start:
            versions.add(swap.version)
    return versions


def test_twenty_conversations_while_the_warehouse_is_rebuilt_and_swapped(
        built_warehouse: Path, tmp_path: Path, capsys):
    served = copy_warehouse(built_warehouse, tmp_path / "served")
    version_a = copy_warehouse(built_warehouse, tmp_path / "a")
    # the next raw load: every amount doubled; its models are rebuilt only by the build
    staged = copy_warehouse(built_warehouse, tmp_path / "staged")
    _double_raw_amounts(staged)
    expected = {"A": _expected(version_a), "A+raw": _expected(staged)}

    assistant = Assistant(served)  # one graph, one checkpointer, many threads: like the chat
    for q in QUESTIONS:  # first-time work (catalog, value index) before the clock starts
        assistant.ask(q, thread_id="warm-up")
    answers: list[Answer] = []
    stop = threading.Event()

    def converse(n: int) -> None:
        thread_id = f"load-{n}-{uuid.uuid4().hex[:6]}"
        i = n
        while not stop.is_set():
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            record = Answer(n, question, time.monotonic(), 0.0)
            try:
                record.out = assistant.ask(question, thread_id=thread_id)
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                record.error = f"{type(exc).__name__}: {exc}"
            record.end = time.monotonic()
            answers.append(record)
            stop.wait(THINK)

    swaps = [Swap("A", float("-inf"), float("-inf"))]
    workers = [threading.Thread(target=converse, args=(n,), daemon=True)
               for n in range(CONVERSATIONS)]
    started = time.monotonic()
    for w in workers:
        w.start()
    def settle(since: float) -> None:
        """Wait until `SETTLED` answers started after `since` and finished."""
        time.sleep(SETTLE)
        deadline = time.monotonic() + 300
        while sum(1 for a in list(answers) if a.start >= since) < SETTLED:
            assert time.monotonic() < deadline, "answers stopped coming"
            time.sleep(0.1)

    try:
        settle(float("-inf"))
        t = time.monotonic()
        os.replace(staged, served)  # 1. new raw data (what `whizzy data import` does)
        swaps.append(Swap("A+raw", t, time.monotonic()))
        settle(swaps[-1].end)
        t = time.monotonic()
        build = build_warehouse(served, as_of=AS_OF, unit_tests=False)  # 2. the real build
        swaps.append(Swap("B", t, time.monotonic()))
        version_b = copy_warehouse(served, tmp_path / "b")
        for version, source in (("A", version_a), ("B", version_b), ("A", version_a)):
            settle(swaps[-1].end)
            t = time.monotonic()
            swap_in(source, served)  # 3-5. swaps back and forth
            swaps.append(Swap(version, t, time.monotonic()))
        settle(swaps[-1].end)
    finally:
        stop.set()
        for w in workers:
            w.join(120)
    elapsed = time.monotonic() - started
    expected["B"] = _expected(version_b)
    assert expected["B"]["What is our open pipeline?"] != expected["A"][
        "What is our open pipeline?"], "the two versions must differ for the test to mean much"

    failures: list[str] = []
    fresh: dict[int, int] = {}  # swap index → answers that could only see that version
    for a in answers:
        if a.error or a.out is None:
            failures.append(f"#{a.conversation} {a.question!r}: raised {a.error}")
            continue
        if a.out.get("intent") not in INTENTS or a.out.get("error"):
            failures.append(f"#{a.conversation} {a.question!r}: failed: {a.out.get('error')}")
            continue
        possible = _possible_versions(swaps, a.start, a.end)
        got = _signature(a.out)
        matching = {v for v in possible if expected[v][a.question] == got}
        if not matching:
            failures.append(f"#{a.conversation} {a.question!r}: matches none of "
                            f"{sorted(possible)}: {a.out['answer'][:100]!r}")
        if len(possible) == 1:
            k = max(i for i, s in enumerate(swaps) if s.end <= a.start)
            fresh[k] = fresh.get(k, 0) + 1
    with capsys.disabled():
        print(f"\n[refresh] {CONVERSATIONS} conversations, {len(answers)} answers in "
              f"{elapsed:.1f}s across {len(swaps) - 1} swaps (build {build.elapsed:.1f}s); "
              f"{len(failures)} failed; answers per settled version: "
              f"{[fresh.get(k, 0) for k in range(len(swaps))]}")
    assert not failures, "\n".join(failures[:30])
    assert len(answers) >= 100
    # after every swap, conversations were answered from the new file (and only from it)
    assert all(fresh.get(k, 0) >= 3 for k in range(len(swaps))), fresh
