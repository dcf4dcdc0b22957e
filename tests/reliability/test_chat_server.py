"""A running `whizzy chat` with login on, spoken to over its websocket like the browser.

* Isolation: each user sees only their own threads (list, read, rename, delete, resume,
  shared link), and one user's conversation memory never reaches another's session.
* Refresh under load: logged-in sessions keep asking while the warehouse file is swapped
  between two versions; every answer shows one version's figure, and the new one after
  each swap.

One server per module (starting it takes a while); each test uses its own sessions.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import pytest
import socketio
from reliability_support import ChatClient, copy_warehouse, login_cookie, swap_in

from whizzy.assistant import Assistant

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chat"))
from test_browser import ChatServer  # noqa: E402 - the browser tests' server helper

USERS = [("ana", "ana-pass-7Q"), ("bo", "bo-pass-3Z")]
QUESTION = "What is our open pipeline?"


@dataclass
class Chat:
    server: ChatServer
    warehouse: Path
    versions: dict[str, Path]
    figures: dict[str, str]
    users: list[tuple[str, str]] = field(default_factory=lambda: list(USERS))

    @property
    def url(self) -> str:
        return self.server.url

    async def connect(self, user: str, password: str, thread_id: str | None = None
                      ) -> ChatClient:
        cookie = await asyncio.to_thread(login_cookie, self.url, user, password)
        return await ChatClient(self.url, cookie, thread_id=thread_id).connect()

    def http(self, user: str | None = None) -> httpx.Client:
        cookies = {}
        if user is not None:
            password = dict(self.users)[user]
            cookie = login_cookie(self.url, user, password)
            cookies = dict(part.split("=", 1) for part in cookie.split("; "))
        return httpx.Client(base_url=self.url, cookies=cookies, timeout=30)


def _headline(path: Path) -> str:
    """The first sentence of the answer to QUESTION on `path` ("Open pipeline is $29.4M.")."""
    answer = Assistant(path).ask(QUESTION, thread_id=uuid.uuid4().hex)["answer"]
    return answer.split(". ")[0]


@pytest.fixture(scope="module")
def chat(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("chat-home")
    warehouse = copy_warehouse(built_warehouse, home)
    version_a = copy_warehouse(built_warehouse, tmp_path_factory.mktemp("chat-a"))
    version_b = copy_warehouse(built_warehouse, tmp_path_factory.mktemp("chat-b"))
    con = duckdb.connect(str(version_b))  # a second version: every amount doubled
    con.execute("update main.fct_opportunity set amount = amount * 2")
    con.execute("checkpoint")
    con.close()
    figures = {"A": _headline(version_a), "B": _headline(version_b)}
    assert figures["A"] != figures["B"]
    users = ",".join(f"{u}:{p}" for u, p in USERS)
    server = ChatServer(home, env={"WHIZZY_AUTH_USERS": users}).start()
    try:
        yield Chat(server, warehouse, {"A": version_a, "B": version_b}, figures)
    finally:
        server.stop()


# --------------------------------------------------------------------------- isolation


def test_users_see_only_their_own_threads_and_memory(chat: Chat):
    async def conversation() -> tuple[str, str, str, str | None]:
        ana = await chat.connect("ana", "ana-pass-7Q")
        first = await ana.ask(QUESTION)
        follow = await ana.ask("and last quarter?")
        thread = ana.last_thread_id
        await ana.close()
        bo = await chat.connect("bo", "bo-pass-3Z")
        bo_follow = await bo.ask("and last quarter?")  # no context of his own
        await bo.close()
        return first, follow, bo_follow, thread

    first, follow, bo_follow, ana_thread = asyncio.run(conversation())
    assert chat.figures["A"] in first
    assert "Q3 2026" in follow and "pipeline" in follow.lower()  # ana's memory works
    # and never reaches bo: his fragment has nothing to continue
    assert "open pipeline" not in bo_follow.lower() and follow.split(". ")[0] not in bo_follow
    assert ana_thread

    # wait for the thread to be written, then look at it through the HTTP API
    with chat.http("ana") as ana, chat.http("bo") as bo, chat.http() as nobody:
        deadline = time.monotonic() + 30
        ana_ids: list[str] = []
        while ana_thread not in ana_ids and time.monotonic() < deadline:
            listed = ana.post("/project/threads",
                              json={"pagination": {"first": 50}, "filter": {}})
            assert listed.status_code == 200, listed.text
            ana_ids = [t["id"] for t in listed.json()["data"]]
            time.sleep(0.5)
        assert ana_thread in ana_ids
        assert ana.get(f"/project/thread/{ana_thread}").status_code == 200

        bo_list = bo.post("/project/threads", json={"pagination": {"first": 50}, "filter": {}})
        assert bo_list.status_code == 200
        assert ana_thread not in [t["id"] for t in bo_list.json()["data"]]
        assert QUESTION not in bo_list.text
        # filtering by another user's id still lists only one's own threads
        spoofed = bo.post("/project/threads", json={
            "pagination": {"first": 50}, "filter": {"userId": "ana", "search": "pipeline"}})
        assert ana_thread not in spoofed.text
        for response in (
            bo.get(f"/project/thread/{ana_thread}"),
            bo.put("/project/thread", json={"threadId": ana_thread, "name": "mine now"}),
            bo.request("DELETE", "/project/thread", json={"threadId": ana_thread}),
            nobody.get(f"/project/thread/{ana_thread}"),
            nobody.post("/project/threads", json={"pagination": {"first": 5}, "filter": {}}),
            nobody.get(f"/project/share/{ana_thread}"),
            bo.get(f"/project/share/{ana_thread}"),
        ):
            assert response.status_code in (401, 403, 404), (response.request.url,
                                                              response.status_code)
            assert QUESTION not in response.text
        # ana's thread is untouched
        kept = ana.get(f"/project/thread/{ana_thread}")
        assert kept.status_code == 200 and kept.json()["name"] != "mine now"

    async def resume_as_bo() -> None:
        await chat.connect("bo", "bo-pass-3Z", thread_id=ana_thread)

    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(resume_as_bo())


def test_a_socket_without_login_is_refused(chat: Chat):
    async def anonymous() -> None:
        await ChatClient(chat.url).connect()

    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(anonymous())


# --------------------------------------------------------------------------- refresh


@pytest.mark.load
def test_chat_sessions_get_consistent_answers_while_the_warehouse_is_swapped(chat: Chat,
                                                                              capsys):
    """Six logged-in sessions ask without pause while the file is swapped three times."""
    sessions = 6
    swaps: list[tuple[str, float, float]] = [("A", float("-inf"), float("-inf"))]
    results: list[tuple[float, float, str | None, str]] = []

    async def session(n: int, stop: asyncio.Event) -> None:
        user, password = chat.users[n % len(chat.users)]
        client = await chat.connect(user, password)
        try:
            while not stop.is_set():
                start = time.monotonic()
                try:
                    text, error = await client.ask(QUESTION, timeout=60), None
                except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                    text, error = "", f"{type(exc).__name__}: {exc}"
                results.append((start, time.monotonic(), error, text))
        finally:
            await client.close()

    async def run() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(session(n, stop)) for n in range(sessions)]
        await asyncio.sleep(2.0)
        for version in ("B", "A", "B"):
            t = time.monotonic()
            await asyncio.to_thread(swap_in, chat.versions[version], chat.warehouse)
            swaps.append((version, t, time.monotonic()))
            await asyncio.sleep(3.0)
        stop.set()
        await asyncio.gather(*tasks)

    started = time.monotonic()
    asyncio.run(run())
    elapsed = time.monotonic() - started
    failures = []
    settled = dict.fromkeys(range(len(swaps)), 0)
    for start, end, error, text in results:
        possible = {v for k, (v, s, _) in enumerate(swaps)
                    if s <= end and (swaps[k + 1][2] if k + 1 < len(swaps) else end) >= start}
        if error or not any(chat.figures[v] in text for v in possible):
            failures.append(f"{error or ''} expected one of "
                            f"{[chat.figures[v] for v in possible]}: {text[:120]!r}")
        if len(possible) == 1:
            settled[max(k for k, (_, _, e) in enumerate(swaps) if e <= start)] += 1
    with capsys.disabled():
        print(f"\n[chat refresh] {sessions} websocket sessions, {len(results)} answers in "
              f"{elapsed:.1f}s across {len(swaps) - 1} swaps; {len(failures)} failed; "
              f"answers per settled version: {list(settled.values())}")
    assert not failures, "\n".join(failures[:20])
    assert all(n >= 1 for n in settled.values()), settled


def test_passwords_never_reach_the_server_log(chat: Chat):
    wrong = "wrong-Pa55-0x7f3e"
    response = httpx.post(chat.url + "/login", data={"username": "ana", "password": wrong},
                          timeout=30)
    assert response.status_code in (401, 403)
    login_cookie(chat.url, "bo", "bo-pass-3Z")
    log = chat.server.log.read_text(errors="replace")
    assert log  # the server wrote its log
    for secret in (*[p for _, p in USERS], wrong):
        assert secret not in log
