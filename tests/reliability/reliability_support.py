"""Helpers of the reliability suite: warehouse copies, hashes, a file and process audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whizzy.warehouse.connection import manifest_path_for


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_warehouse(source: Path, folder: Path, name: str = "warehouse.duckdb") -> Path:
    """Copy a built warehouse and its manifest into `folder`; returns the new warehouse path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(source, target)
    shutil.copyfile(manifest_path_for(source), manifest_path_for(target))
    return target


def swap_in(source: Path, served: Path) -> None:
    """Replace the served file with a copy of `source` the way writers do (temp + rename)."""
    tmp = served.with_name(f"{served.name}.swap-{uuid.uuid4().hex[:8]}")
    shutil.copyfile(source, tmp)
    os.replace(tmp, served)


# --------------------------------------------------------------------------- file audit


_AUDIT_LOCK = threading.Lock()
_AUDIT_EVENTS: list[tuple[str, tuple]] | None = None
_AUDIT_INSTALLED = False
#: Audit events recorded (CPython's names): files opened, files moved or deleted, processes
#: started, sockets connected.
AUDITED = frozenset({
    "open", "os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "os.mkdir",
    "shutil.copyfile", "shutil.rmtree", "subprocess.Popen", "os.system", "os.exec",
    "os.posix_spawn", "os.fork", "socket.connect", "socket.bind", "socket.getaddrinfo",
    "urllib.Request",
})


def _hook(event: str, args: tuple) -> None:
    events = _AUDIT_EVENTS
    if events is not None and event in AUDITED:
        events.append((event, args))


@contextmanager
def audited() -> Iterator[list[tuple[str, tuple]]]:
    """Record the audited events raised while the block runs (in every thread).

    An audit hook can't be removed, so one hook is installed for the process and only
    records while a block is active.
    """
    global _AUDIT_EVENTS, _AUDIT_INSTALLED
    with _AUDIT_LOCK:
        if not _AUDIT_INSTALLED:
            sys.addaudithook(_hook)
            _AUDIT_INSTALLED = True
        events: list[tuple[str, tuple]] = []
        _AUDIT_EVENTS = events
    try:
        yield events
    finally:
        _AUDIT_EVENTS = None


def event_path(args: tuple) -> str | None:
    """The absolute path an ``open`` event names (None for a file descriptor)."""
    target = args[0] if args else None
    if isinstance(target, int) or target is None:
        return None
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    return os.path.realpath(os.path.abspath(os.fspath(target)))


def open_fd_targets() -> list[str]:
    """What every file descriptor of this process points at (``/proc/self/fd``).

    This sees files opened by native code too (DuckDB reads its file outside Python, so
    its opens raise no audit event).
    """
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed meanwhile, or the listing's own descriptor
            continue
    return targets


# --------------------------------------------------------------------------- chat client


def plain(markdown: str) -> str:
    """The text of a chat message: the chat escapes data and LLM words as markdown.

    >>> plain("Open pipeline is \\\\$29\\\\.4M at www\u2060\\\\.x\\\\.io")
    'Open pipeline is $29.4M at www.x.io'
    """
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


class ChatClient:
    """One websocket session of a running `whizzy chat`, spoken to like the browser does.

    Chainlit's socket.io protocol: connect to ``/ws/socket.io`` with the login cookie and a
    session id, say ``connection_successful``, send ``client_message``; the answer arrives
    as a ``new_message`` of type ``assistant_message``, then ``task_end``.
    """

    def __init__(self, url: str, cookie: str | None = None, *, thread_id: str | None = None
                 ) -> None:
        self.url = url
        self.cookie = cookie
        self.thread_id = thread_id
        self.events: Any = None
        self.sio: Any = None
        self.last_thread_id: str | None = None

    async def connect(self) -> ChatClient:
        import asyncio

        import socketio

        self.events = asyncio.Queue()
        self.sio = socketio.AsyncClient(reconnection=False)
        for event in ("new_message", "task_end"):
            self.sio.on(event, lambda data, _e=event: self.events.put_nowait((_e, data)))
        await self.sio.connect(
            self.url, socketio_path="/ws/socket.io", transports=["websocket"],
            headers={"Cookie": self.cookie} if self.cookie else {},
            auth={"sessionId": str(uuid.uuid4()), "clientType": "webapp", "userEnv": "{}",
                  "chatProfile": None, "threadId": self.thread_id},
            wait_timeout=30,
        )
        await self.sio.emit("connection_successful")
        return self

    async def ask(self, question: str, timeout: float = 120) -> str:
        """Send a question; the text of the answer message."""
        import asyncio

        while not self.events.empty():
            self.events.get_nowait()
        await self.sio.emit("client_message", {
            "message": {"id": str(uuid.uuid4()), "name": "User", "type": "user_message",
                        "output": question,
                        "createdAt": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")},
            "fileReferences": [],
        })
        answer = None
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            event, data = await asyncio.wait_for(self.events.get(), max(remaining, 0.01))
            if event == "new_message" and data.get("type") == "assistant_message":
                answer = plain(data.get("output") or "")
                self.last_thread_id = data.get("threadId") or self.last_thread_id
            elif event == "task_end" and answer is not None:
                return answer

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()


def login_cookie(url: str, user: str, password: str) -> str:
    """Log in through the chat's password form; the Cookie header to send afterwards."""
    import httpx

    response = httpx.post(url + "/login", data={"username": user, "password": password},
                          timeout=30)
    response.raise_for_status()
    return "; ".join(f"{name}={value}" for name, value in response.cookies.items())
