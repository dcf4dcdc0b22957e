"""Chainlit's SQLAlchemy data layer on a local SQLite file (threads, steps, elements, feedback).

Chainlit ships the schema of its SQLAlchemy data layer only as PostgreSQL DDL in its docs
(docs.chainlit.io/data-layers/sqlalchemy) and no migration for SQLite, so `ensure_schema`
creates the same tables in SQLite types. Two SQLite gaps in the stock layer are closed by
`SQLiteDataLayer`: list/dict parameters (`tags`, `modes`, `props`) are stored as JSON text
(the stock layer passes them through, which SQLite rejects, silently dropping the step),
and JSON columns are decoded again when a thread is read back.

Elements (tables, charts) need a storage client to be persisted at all. `InlineStorageClient`
keeps each element's content inside its row as a `data:` URL, which the browser fetches
like any other URL, so a resumed thread shows its tables and charts with no file server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient

from whizzy.chat.auth import create_private

#: Tables of Chainlit's SQLAlchemy data layer, in SQLite types. The column lists follow
#: Chainlit 2.12's `StepDict`, `ElementDict` and `Feedback` (a test checks they still match).
SCHEMA = """
create table if not exists users (
    "id" text primary key,
    "identifier" text not null unique,
    "metadata" text not null default '{}',
    "createdAt" text
);
create table if not exists threads (
    "id" text primary key,
    "createdAt" text,
    "name" text,
    "userId" text references users("id") on delete cascade,
    "userIdentifier" text,
    "tags" text,
    "metadata" text
);
create table if not exists steps (
    "id" text primary key,
    "name" text not null,
    "type" text not null,
    "threadId" text not null references threads("id") on delete cascade,
    "parentId" text,
    "streaming" boolean not null default 0,
    "waitForAnswer" boolean,
    "isError" boolean,
    "metadata" text,
    "tags" text,
    "input" text,
    "output" text,
    "createdAt" text,
    "command" text,
    "modes" text,
    "start" text,
    "end" text,
    "generation" text,
    "showInput" text,
    "language" text,
    "indent" integer,
    "defaultOpen" boolean,
    "autoCollapse" boolean,
    "icon" text,
    "feedback" text
);
create index if not exists steps_thread on steps("threadId", "createdAt");
create table if not exists elements (
    "id" text primary key,
    "threadId" text references threads("id") on delete cascade,
    "type" text,
    "url" text,
    "chainlitKey" text,
    "name" text not null,
    "display" text,
    "objectKey" text,
    "size" text,
    "page" integer,
    "language" text,
    "forId" text,
    "mime" text,
    "props" text,
    "autoPlay" boolean,
    "playerConfig" text,
    "path" text
);
create index if not exists elements_thread on elements("threadId");
create table if not exists feedbacks (
    "id" text primary key,
    "forId" text not null,
    "threadId" text,
    "value" integer not null,
    "comment" text
);
create index if not exists feedbacks_for on feedbacks("forId");
"""


def ensure_schema(path: Path) -> Path:
    """Create the chat database and its tables if they are missing; returns `path`.

    >>> import tempfile
    >>> db = ensure_schema(Path(tempfile.mkdtemp()) / "chat.sqlite")
    >>> sorted(table_columns(db))
    ['elements', 'feedbacks', 'steps', 'threads', 'users']
    """
    create_private(path)  # threads are nobody else's to read (SQLite gives -wal/-shm the same)
    con = sqlite3.connect(path)
    try:
        con.execute("pragma journal_mode=wal")
        con.executescript(SCHEMA)
        con.commit()
    finally:
        con.close()
    return path


def table_columns(path: Path) -> dict[str, set[str]]:
    """Columns of every table in a SQLite file (for checks and tests)."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: {r[1] for r in con.execute(f'pragma table_info("{t}")')} for t in tables}
    finally:
        con.close()


def data_url(content: bytes | str, mime: str) -> str:
    """`content` as a `data:` URL.

    >>> data_url('{"a": 1}', "application/json")
    'data:application/json;base64,eyJhIjogMX0='
    """
    raw = content.encode() if isinstance(content, str) else content
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


class InlineStorageClient(BaseStorageClient):
    """Keeps element content in the element's own row, as a `data:` URL."""

    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "application/octet-stream",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
        """Return the content as a `data:` URL; there is no object to store elsewhere."""
        # An empty object key makes the data layer serve the stored URL on read.
        return {"object_key": "", "url": data_url(data, mime)}

    async def delete_file(self, object_key: str) -> bool:
        """Nothing to delete: the content lives and dies with its row."""
        return True

    async def get_read_url(self, object_key: str) -> str:
        """Not used: elements keep their URL in the row."""
        return ""

    async def close(self) -> None:
        """Nothing to close."""


#: Deleted thread ids remembered, so late writes of their sessions don't bring them back.
MAX_DELETED = 10_000

#: JSON columns the stock layer returns as text from SQLite.
_JSON_STEP_FIELDS = ("metadata", "generation", "tags", "modes")


def _encode(value: Any) -> Any:
    """SQLite takes no lists or dicts: store them as JSON text.

    >>> _encode(["a"]), _encode({"k": 1}), _encode(3)
    ('["a"]', '{"k": 1}', 3)
    """
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=str)
    return value


def _decode(value: Any) -> Any:
    """JSON text back to lists/dicts; anything else unchanged.

    >>> _decode('{"k": 1}'), _decode("plain"), _decode(None)
    ({'k': 1}, 'plain', None)
    """
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


#: Set while a write holds the layer's lock (a step's write upserts its thread through
#: `update_thread`, in the same task: it must not wait for the lock it holds).
_WRITING: ContextVar[bool] = ContextVar("whizzy_chat_writing", default=False)


class SQLiteDataLayer(SQLAlchemyDataLayer):
    """Chainlit's SQLAlchemy data layer, adjusted for a local SQLite file."""

    def __init__(self, path: Path, *,
                 on_delete_thread: Callable[[str], Awaitable[None]] | None = None) -> None:
        ensure_schema(path)
        self.path = path
        self.on_delete_thread = on_delete_thread
        self._step_lock = asyncio.Lock()
        #: Threads deleted while this server runs (most recent last, at most MAX_DELETED).
        self._deleted: OrderedDict[str, None] = OrderedDict()
        super().__init__(
            conninfo=f"sqlite+aiosqlite:///{path}",
            storage_provider=InlineStorageClient(),
        )

    # Chainlit fires step writes as independent tasks (create, then update with the output);
    # the stock layer awaits the thread upsert first, so an update can land before its create
    # and the create then blanks the output. One FIFO lock keeps the writes in call order,
    # and a thread's deletion waits for the writes already under way (a write that started
    # before it, finishing after, would bring the thread back as a row with no owner).
    async def _write(self, thread_id: Any, write: Callable[[], Awaitable[None]]) -> None:
        """Run `write` under the layer's lock, unless `thread_id` was deleted."""
        if _WRITING.get():
            if not self.was_deleted(thread_id):
                await write()
            return
        async with self._step_lock:
            token = _WRITING.set(True)
            try:
                if not self.was_deleted(thread_id):
                    await write()
            finally:
                _WRITING.reset(token)

    async def create_step(self, step_dict):  # noqa: ANN001, D102
        await self._write(step_dict.get("threadId"),
                          lambda: SQLAlchemyDataLayer.create_step(self, step_dict))

    async def update_step(self, step_dict):  # noqa: ANN001, D102
        await self._write(step_dict.get("threadId"),
                          lambda: SQLAlchemyDataLayer.create_step(self, step_dict))

    # A deleted thread's sessions may still write to it (Chainlit saves a session's state
    # when it disconnects, and every step upserts its thread): the thread would come back
    # as a row with no owner. Writes to a thread deleted while this server runs are dropped.
    def was_deleted(self, thread_id: Any) -> bool:
        """True when `thread_id` was deleted while this server runs."""
        return isinstance(thread_id, str) and thread_id in self._deleted

    async def update_thread(self, thread_id: str, *args: Any, **kwargs: Any) -> None:
        """Create or update a thread, unless it was deleted."""
        await self._write(thread_id, lambda: SQLAlchemyDataLayer.update_thread(
            self, thread_id, *args, **kwargs))

    async def create_element(self, element: Any) -> None:
        """Store an element, unless its thread was deleted."""
        await self._write(getattr(element, "thread_id", None),
                          lambda: SQLAlchemyDataLayer.create_element(self, element))

    async def execute_sql(self, query: str, parameters: dict) -> Any:
        """Run one statement, storing list/dict parameters as JSON text."""
        return await super().execute_sql(
            query, {k: _encode(v) for k, v in (parameters or {}).items()}
        )

    async def get_all_user_threads(self, user_id=None, thread_id=None):  # noqa: ANN001, D102
        threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
        for thread in threads or []:
            thread["metadata"] = _decode(thread.get("metadata")) or {}
            thread["tags"] = _decode(thread.get("tags"))
            for step in thread.get("steps", []):
                for key in _JSON_STEP_FIELDS:
                    if key in step:
                        step[key] = _decode(step[key])
            for element in thread.get("elements") or []:
                element["props"] = _decode(element.get("props")) or {}
        return threads

    async def delete_thread(self, thread_id: str) -> None:
        """Delete the thread, and with it the assistant's memory of it (`on_delete_thread`)."""
        async with self._step_lock:  # (after the writes under way; none after it)
            self._deleted[thread_id] = None
            while len(self._deleted) > MAX_DELETED:
                self._deleted.popitem(last=False)
            token = _WRITING.set(True)
            try:
                await super().delete_thread(thread_id)
            finally:
                _WRITING.reset(token)
        if self.on_delete_thread is not None:
            await self.on_delete_thread(thread_id)

    async def thread_owner_of_step(self, step_id: str) -> str | None:
        """The user identifier of the thread a message belongs to (None: no such message)."""
        rows = await self.execute_sql(
            'select t."userIdentifier" as owner from steps s join threads t '
            'on t."id" = s."threadId" where s."id" = :step_id', {"step_id": step_id})
        return rows[0]["owner"] if isinstance(rows, list) and rows else None

    async def may_give_feedback(self, user: str | None, for_id: str | None,
                                feedback_id: str | None) -> bool:
        """True when `user` may rate message `for_id` or change/delete feedback `feedback_id`.

        Both must belong to a thread of `user`'s own; a feedback id that does not exist yet
        may be created (on one's own message).
        """
        if not user:
            return False
        if for_id is not None and await self.thread_owner_of_step(for_id) != user:
            return False
        if feedback_id is not None:
            rows = await self.execute_sql(
                'select "forId" from feedbacks where "id" = :feedback_id',
                {"feedback_id": feedback_id})
            if isinstance(rows, list) and rows:
                if await self.thread_owner_of_step(rows[0]["forId"]) != user:
                    return False
            elif for_id is None:  # deleting a feedback that is not there: nothing to allow
                return False
        return for_id is not None or feedback_id is not None
