"""The chat server's long-lived pieces: the graph's checkpointer and one assistant per setting.

The LangGraph checkpointer is a SQLite file beside the warehouse (`checkpoints.sqlite`), so a
thread's memory survives a server restart and a resumed Chainlit thread (same thread id)
continues where it stopped. With persistence off it is in memory. Assistants are cheap but
not free (each compiles the graph), so one is kept per (persona, engine, row limit).
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from whizzy.chat.auth import create_private
from whizzy.chat.options import ChatOptions
from whizzy.chat.personas import SettingsSpec
from whizzy.core.errors import WhizzyError

#: Imported on first use (in the background warm-up): LangGraph and the agents took about
#: 0.5 s of the server's start-up on a quiet machine, before it could serve its page.
_AGENTS = "whizzy.assistant"


def warm_up_charts() -> None:
    """Import what draws and shows an answer (pandas, Plotly), then draw one of each chart.

    Imported here, in the background warm-up, not when the server starts: about 0.6 s.
    """
    from whizzy.chat import render  # noqa: F401 - loaded now, not on the first answer
    from whizzy.chat.charts import warm_up

    warm_up()


def _assistant_type() -> Any:
    """`whizzy.assistant.Assistant`, imported on first use."""
    return importlib.import_module(_AGENTS).Assistant


def _load_value_index(warehouse: Any) -> None:
    """Open the warehouse and load its value index (the first answer needs both)."""
    from agents.values import value_index
    from whizzy.warehouse.reader import open_warehouse

    value_index(open_warehouse(warehouse))


#: The question the warm-up answers (a figure, its SQL, the reply and a chart's data).
WARM_QUESTION = "What was our win rate last quarter?"


class AssistantLike(Protocol):
    """The part of `whizzy.assistant.Assistant` the chat uses."""

    graph: Any  # the compiled graph (its async `aget_state` reads the last answer)

    @staticmethod
    def to_json(state: dict[str, Any], *, elapsed_ms: float) -> dict[str, Any]:
        """The `--json` answer object from a final state."""
        ...

    def astream(self, question: str, *, thread_id: str, tokens: bool = False
                ) -> AsyncIterator[tuple[str, Any]]:
        """Yield (node name, update) as each graph node finishes (and answer tokens)."""
        ...


class ChatRuntime:
    """Checkpointer and assistants shared by every chat session of one server."""

    def __init__(self, options: ChatOptions) -> None:
        self.options = options
        self.checkpointer: Any = None
        self._conn: Any = None
        self._assistants: dict[SettingsSpec, AssistantLike] = {}
        self._lock = asyncio.Lock()
        self._warming: asyncio.Task[bool] | None = None
        #: How long the last warm-up took (None until one finished).
        self.warm_seconds: float | None = None

    async def start(self) -> None:
        """Open the checkpointer (call once the server's event loop runs)."""
        async with self._lock:
            if self.checkpointer is not None:
                return
            if self.options.persist:
                import aiosqlite
                from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

                create_private(self.options.checkpoints_db)  # memory is nobody else's to read
                self._conn = await aiosqlite.connect(str(self.options.checkpoints_db))
                saver = AsyncSqliteSaver(self._conn)
                await saver.setup()
                self.checkpointer = saver
            else:
                from langgraph.checkpoint.memory import InMemorySaver

                self.checkpointer = InMemorySaver()

    async def close(self) -> None:
        """Close the checkpointer's connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        self.checkpointer = None
        self._assistants.clear()

    async def forget(self, thread_id: str) -> None:
        """Delete a thread's memory (its checkpoints), as when the thread is deleted.

        A new session that reuses the id then starts with no memory of the old one.
        """
        await self.start()
        await self.checkpointer.adelete_thread(str(thread_id))

    async def assistant(self, spec: SettingsSpec) -> AssistantLike:
        """The assistant for these settings (created on first use)."""
        await self.start()
        if spec not in self._assistants:
            self._assistants[spec] = _assistant_type()(
                self.options.warehouse,
                engine=spec.engine,
                checkpointer=self.checkpointer,
                row_limit=spec.row_limit,
                persona=spec.persona,
            )
        return self._assistants[spec]

    async def warm_up(self) -> bool:
        """Do the slow first-time work now, so the first question is as fast as the rest.

        Plotly's first figure, the agents' imports and compiled graph, the catalog and the
        value index each take seconds the first time; then, with the offline engine, one
        question (`WARM_QUESTION`) is answered in a private thread of memory, so the first
        user's answer runs on warm code, connections and index parts (at 1M opportunities
        a fresh process's first answer took ~4× a warm one). Returns False (and leaves the
        explaining to the chat) when the warehouse isn't ready.
        """

        def load() -> None:
            warm_up_charts()
            _load_value_index(self.options.warehouse)

        def answer_one() -> None:
            # its own in-memory memory: nothing is written to the chat's checkpoints
            _assistant_type()(self.options.warehouse, engine="offline",
                              row_limit=self.options.row_limit).ask(WARM_QUESTION,
                                                                    thread_id="whizzy-warm-up")

        started = time.perf_counter()
        try:
            # imported in a thread: the event loop keeps serving pages meanwhile
            await asyncio.to_thread(_assistant_type)
            await self.assistant(
                SettingsSpec(engine=self.options.engine, row_limit=self.options.row_limit)
            )
            await asyncio.to_thread(load)
        except WhizzyError:
            return False
        if self.options.engine == "offline":  # an LLM engine would send a request: not warmed
            await asyncio.to_thread(answer_one)
        self.warm_seconds = time.perf_counter() - started
        return True

    def start_warm_up(self) -> asyncio.Task[bool]:
        """Warm up in the background (call from the server's event loop); returns the task.

        The server answers its page while this runs: awaiting it at start-up kept the chat
        from listening for the ~1 s (several under load) it takes. A question asked before
        it ends is answered all the same, only as slowly as a cold one.
        """
        if self._warming is None:
            self._warming = asyncio.create_task(self.warm_up())
        return self._warming


async def stream_answer(
    assistant: Any, question: str, *, thread_id: str
) -> AsyncIterator[tuple[str, dict[str, Any], float]]:
    """`(node, update, ms)` as each graph node finishes, then `("answer", <object>, total ms)`.

    `ms` is the time the graph spent on that node (not the time the chat spends showing it).
    With the LLM engine, pieces of the answer arrive while write_answer runs as
    `("token", {"text": piece}, 0.0)` (their time counts towards write_answer). The answer
    object is the one `whizzy ask --json` prints, read from the thread's checkpoint after
    the last node (asynchronously: the chat's checkpointer is async).
    """
    try:
        stream = assistant.astream(question, thread_id=thread_id, tokens=True).__aiter__()
    except TypeError:  # an assistant without token streaming
        stream = assistant.astream(question, thread_id=thread_id).__aiter__()
    total = 0.0
    pending = 0.0
    while True:
        started = time.perf_counter()
        try:
            node, update = await stream.__anext__()
        except StopAsyncIteration:
            break
        spent = (time.perf_counter() - started) * 1000
        total += spent
        if node == "token":
            pending += spent
            yield node, update, 0.0
            continue
        yield node, update, spent + pending
        pending = 0.0
    started = time.perf_counter()
    snapshot = await assistant.graph.aget_state({"configurable": {"thread_id": str(thread_id)}})
    total += (time.perf_counter() - started) * 1000
    llm = getattr(getattr(assistant, "context", None), "llm", None)
    to_json = type(assistant).to_json
    answer = to_json(snapshot.values, elapsed_ms=total, llm=llm) if llm is not None else \
        to_json(snapshot.values, elapsed_ms=total)
    yield "answer", answer, total


def exit_with_parent(parent_pid: int | None) -> None:
    """Make this server stop when `whizzy chat` (the process `parent_pid`) dies.

    `whizzy chat` passes a stop signal on, but it cannot when it is killed outright
    (SIGKILL, a crash, a closed session). On Linux the kernel then sends this process
    SIGTERM (`PR_SET_PDEATHSIG`); a parent that died before that was set is caught by
    comparing the parent's id. Elsewhere, or without a parent, this does nothing.
    """
    import os
    import signal
    import sys

    if not parent_pid or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent is already gone
        os.kill(os.getpid(), signal.SIGTERM)
