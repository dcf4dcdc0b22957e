"""The chat server's long-lived pieces: the graph's checkpointer and one assistant per setting.

The LangGraph checkpointer is a SQLite file beside the warehouse (`checkpoints.sqlite`), so a
thread's memory survives a server restart and a resumed Chainlit thread (same thread id)
continues where it stopped. With persistence off it is in memory. Assistants are cheap but
not free (each compiles the graph), so one is kept per (persona, engine, row limit).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from agents.values import value_index
from whizzy.assistant import Assistant
from whizzy.chat.auth import create_private
from whizzy.chat.charts import warm_up as warm_up_charts
from whizzy.chat.options import ChatOptions
from whizzy.chat.personas import SettingsSpec
from whizzy.core.errors import WhizzyError
from whizzy.warehouse.reader import open_warehouse


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

            self._assistants[spec] = Assistant(
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
        value index each take seconds the first time. Returns False (and leaves the
        explaining to the chat) when the warehouse isn't ready.
        """

        def load() -> None:
            warm_up_charts()
            value_index(open_warehouse(self.options.warehouse))

        try:
            await self.assistant(
                SettingsSpec(engine=self.options.engine, row_limit=self.options.row_limit)
            )
            await asyncio.to_thread(load)
        except WhizzyError:
            return False
        return True


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
