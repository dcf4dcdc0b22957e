"""A running `whizzy chat` (login on) against what a red team did to it.

* A page on another origin (another port of this host, another site) cannot open the
  chat's socket or change anything over HTTP, even with the user's login cookie.
* Signing out revokes the login token; sign-ins are throttled; feedback can be given only
  on one's own messages; deleting a thread deletes its memory; the chat's files are private.
* The server never outlives `whizzy chat`, whatever signal stops it.

One server per module (starting it takes a while); each test uses its own sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import ChatServer, _home  # noqa: E402 - the browser tests' server helper

pytestmark = pytest.mark.slow

USERS = {"ana": "ana-pass-7Q", "bo": "bo-pass-3Z", "cy": "cy-pass-5T"}
QUESTION = "What is our open pipeline?"
FOREIGN = ("http://127.0.0.1:9912", "http://evil.example")


@dataclass
class Chat:
    server: ChatServer
    home: Path

    @property
    def url(self) -> str:
        return self.server.url

    def cookie(self, user: str) -> str:
        r = httpx.post(self.url + "/login", data={"username": user, "password": USERS[user]},
                       timeout=30)
        r.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in r.cookies.items())

    def http(self, cookie: str | None = None, origin: str | None = None) -> httpx.Client:
        headers = {"Cookie": cookie} if cookie else {}
        if origin:
            headers["Origin"] = origin
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def chat(built_warehouse, tmp_path_factory):
    home = _home(built_warehouse, tmp_path_factory.mktemp("secure-chat"))
    users = ",".join(f"{u}:{p}" for u, p in USERS.items())
    server = ChatServer(home, env={"WHIZZY_AUTH_USERS": users}).start()
    try:
        yield Chat(server, home)
    finally:
        server.stop()


class Session:
    """One socket.io session, as the browser opens it; records the messages it is sent."""

    def __init__(self, url: str, cookie: str | None, *, origin: str | None = None,
                 thread_id: str | None = None, transports: tuple[str, ...] = ("websocket",)):
        self.url, self.cookie, self.origin = url, cookie, origin
        self.thread_id, self.transports = thread_id, list(transports)
        self.sio: socketio.AsyncClient | None = None
        self.events: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self) -> Session:
        self.sio = socketio.AsyncClient(reconnection=False)
        for event in ("new_message", "task_end"):
            self.sio.on(event, lambda data, _e=event: self.events.put_nowait((_e, data)))
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if self.origin:
            headers["Origin"] = self.origin
        await self.sio.connect(
            self.url, socketio_path="/ws/socket.io", transports=self.transports,
            headers=headers, wait_timeout=30,
            auth={"sessionId": str(uuid.uuid4()), "clientType": "webapp", "userEnv": "{}",
                  "chatProfile": None, "threadId": self.thread_id})
        await self.sio.emit("connection_successful")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.sio is not None and self.sio.connected:
            await self.sio.disconnect()

    async def ask(self, question: str, timeout: float = 120) -> dict:
        """Send a question; the assistant's answer message (id, threadId, output)."""
        assert self.sio is not None
        await self.sio.emit("client_message", {
            "message": {"id": str(uuid.uuid4()), "name": "User", "type": "user_message",
                        "output": question, "createdAt": "2026-11-16T10:00:00Z"},
            "fileReferences": []})
        answer = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event, data = await asyncio.wait_for(self.events.get(),
                                                 max(deadline - loop.time(), 0.01))
            if event == "new_message" and data.get("type") == "assistant_message":
                answer = data
            elif event == "task_end" and answer is not None:
                return answer


def _wait_for_thread(client: httpx.Client, thread_id: str, step_id: str | None = None) -> None:
    """Wait until the thread (and that message in it) is written to chat.sqlite."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = client.get(f"/project/thread/{thread_id}")
        if r.status_code == 200 and (step_id is None or step_id in r.text):
            return
        time.sleep(0.3)
    raise AssertionError(f"thread {thread_id} was not stored")


# --------------------------------------------------------------------------- origins


def test_a_page_on_another_origin_cannot_open_the_socket(chat: Chat):
    cookie = chat.cookie("ana")

    async def connect(origin: str | None, transports: tuple[str, ...]) -> None:
        async with Session(chat.url, cookie, origin=origin, transports=transports):
            pass

    for origin in FOREIGN:
        for transports in (("websocket",), ("polling",)):
            # refused during the handshake (aiohttp may report the 403 as a closed connection)
            with pytest.raises((socketio.exceptions.ConnectionError, RuntimeError)):
                asyncio.run(connect(origin, transports))
    asyncio.run(connect(chat.url, ("websocket",)))  # the chat's own page still can
    asyncio.run(connect(None, ("polling",)))  # and so can a client that sends no Origin


def test_a_page_on_another_origin_cannot_change_anything_over_http(chat: Chat):
    cookie = chat.cookie("ana")
    for origin in FOREIGN:
        with chat.http(cookie, origin) as foreign:
            for method, path, body in (
                ("POST", "/project/threads", {"pagination": {"first": 5}, "filter": {}}),
                ("PUT", "/project/thread", {"threadId": "x", "name": "mine now"}),
                ("DELETE", "/project/thread", {"threadId": "x"}),
                ("PUT", "/feedback", {"feedback": {"forId": "x", "value": 1}, "sessionId": "s"}),
                ("POST", "/logout", None),
            ):
                r = foreign.request(method, path, json=body)
                assert r.status_code == 403, (origin, method, path, r.status_code)
    with chat.http(cookie, chat.url) as own:
        assert own.post("/project/threads", json={"pagination": {"first": 5},
                                                  "filter": {}}).status_code == 200


# --------------------------------------------------------------------------- logins


def test_signing_out_revokes_the_token(chat: Chat):
    cookie = chat.cookie("ana")
    with chat.http(cookie) as client:
        assert client.get("/user").status_code == 200
        assert client.post("/logout").status_code == 200
    with chat.http(cookie) as stolen:  # the same token, replayed after the sign-out
        assert stolen.get("/user").status_code == 401
        assert stolen.post("/project/threads", json={"pagination": {"first": 5},
                                                     "filter": {}}).status_code == 401

    async def connect() -> None:
        async with Session(chat.url, cookie):
            pass

    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(connect())
    with chat.http(chat.cookie("ana")) as again:  # a new sign-in works, even in the same second
        assert again.get("/user").status_code == 200
    assert chat.cookie("ana") != chat.cookie("ana")  # each sign-in is a token of its own


def test_sign_ins_are_throttled(chat: Chat):
    with chat.http() as client:
        codes = [client.post("/login", data={"username": "cy", "password": f"guess-{i}"}
                             ).status_code for i in range(12)]
        assert set(codes[:10]) == {401} and codes[10:] == [429, 429]
        right = client.post("/login", data={"username": "cy", "password": USERS["cy"]})
        assert right.status_code == 429  # not even the right password, for a while
    chat.cookie("bo")  # others sign in as before


# --------------------------------------------------------------------------- data


def test_feedback_only_on_ones_own_messages(chat: Chat):
    ana_cookie = chat.cookie("ana")

    async def ask() -> dict:
        async with Session(chat.url, ana_cookie) as session:
            return await session.ask(QUESTION)

    answer = asyncio.run(ask())
    with chat.http(ana_cookie) as ana, chat.http(chat.cookie("bo")) as bo:
        _wait_for_thread(ana, answer["threadId"], answer["id"])
        rating = {"feedback": {"forId": answer["id"], "value": 0, "comment": "bo was here"},
                  "sessionId": "s"}
        assert bo.put("/feedback", json=rating).status_code == 403
        mine = ana.put("/feedback", json={**rating, "feedback": {"forId": answer["id"],
                                                                 "value": 1}})
        assert mine.status_code == 200
        feedback_id = mine.json()["feedbackId"]
        # bo can neither overwrite ana's feedback by its id nor delete it
        stolen = {"feedback": {"forId": answer["id"], "id": feedback_id, "value": 0},
                  "sessionId": "s"}
        assert bo.put("/feedback", json=stolen).status_code == 403
        assert bo.request("DELETE", "/feedback", json={"feedbackId": feedback_id}
                          ).status_code == 403
        kept = ana.get(f"/project/thread/{answer['threadId']}").json()
        rated = [s for s in kept["steps"] if s["id"] == answer["id"]][0]
        assert rated["feedback"]["value"] == 1 and "bo was here" not in str(kept)


def test_deleting_a_thread_deletes_its_memory(chat: Chat):
    cookie = chat.cookie("ana")

    async def ask(thread_id: str | None, question: str) -> dict:
        async with Session(chat.url, cookie, thread_id=thread_id) as session:
            return await session.ask(question)

    first = asyncio.run(ask(None, QUESTION))
    thread_id = first["threadId"]
    checkpoints = chat.home / "checkpoints.sqlite"

    def remembered() -> int:
        con = sqlite3.connect(f"file:{checkpoints}?mode=ro", uri=True)
        try:
            return con.execute("select count(*) from checkpoints where thread_id = ?",
                               (thread_id,)).fetchone()[0]
        finally:
            con.close()

    assert remembered() > 0
    with chat.http(cookie) as ana:
        _wait_for_thread(ana, thread_id, first["id"])
        assert ana.request("DELETE", "/project/thread", json={"threadId": thread_id}
                           ).status_code == 200
    assert remembered() == 0
    # a new session with the old id starts afresh: the follow-up has nothing to continue
    follow = asyncio.run(ask(thread_id, "and last quarter?"))["output"]
    assert "open pipeline" not in follow.lower()


def test_the_chats_files_are_private(chat: Chat):
    for name in ("chat.sqlite", "checkpoints.sqlite"):
        path = chat.home / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (name, oct(path.stat().st_mode))
    # SQLite's journals come and go; the login secret is not written when the environment
    # holds CHAINLIT_AUTH_SECRET (an earlier test in the same run may have left it there)
    for path in [*chat.home.glob("*.sqlite-*"), chat.home / "chainlit-auth-secret"]:
        with contextlib.suppress(FileNotFoundError):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path.name,
                                                               oct(path.stat().st_mode))


# --------------------------------------------------------------------------- process


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_server_does_not_outlive_whizzy_chat(tmp_path, sig):
    home = tmp_path / "home"
    home.mkdir()
    server = ChatServer(home, args=("--no-persist",)).start()
    children = []
    try:
        assert server.proc is not None
        children = _children(server.proc.pid)
        assert children, "no server process under whizzy chat"
        os.kill(server.proc.pid, sig)  # whizzy chat alone, not its process group
        server.proc.wait(timeout=60)
        deadline = time.monotonic() + 60
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(c) for c in children), "the chat server was left running"
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url + "/health", timeout=5)
    finally:
        for pid in children:  # only the processes this test started
            with contextlib.suppress(ProcessLookupError):
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
        server.stop()
        with contextlib.suppress(subprocess.TimeoutExpired, AttributeError):
            server.proc.wait(timeout=10)
