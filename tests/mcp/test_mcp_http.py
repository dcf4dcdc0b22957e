"""`whizzy mcp --http`: streamable HTTP on loopback; with a token, no request passes without it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp_support import committed_snapshot, free_port, listing
from test_mcp_server import copy_of

from whizzy.cli import main
from whizzy.core.settings import PROJECT_ROOT
from whizzy.mcp.http import BearerToken

TOKEN = "s3cret-token-for-tests"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "1"}}}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def served(warehouse: Path, log: Path, port: int, token: str | None):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WHIZZY_")},
           "WHIZZY_ENGINE": "offline", "DO_NOT_TRACK": "1"}
    if token:
        env["WHIZZY_MCP_TOKEN"] = token
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "whizzy.cli", "mcp", "--http", "--allow-sql", "--port",
             str(port), "--warehouse", str(warehouse)], cwd=PROJECT_ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a busy 2-core CI machine
        while not listening(port):
            if proc.poll() is not None:
                pytest.fail(f"exited {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"not listening after 300 s:\n{log.read_text()}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_with_a_token_requests_without_it_are_refused(built_warehouse, tmp_path):
    warehouse = copy_of(built_warehouse, tmp_path / "w")
    with served(warehouse, tmp_path / "server.log", free_port(), TOKEN) as url:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN},
                        {"authorization": f"Basic {TOKEN}"}):
            response = httpx.post(url, json=INITIALIZE, headers={**HEADERS, **headers},
                                  timeout=60)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert httpx.get(url, headers=HEADERS, timeout=60).status_code == 401

        async def run():
            with anyio.fail_after(300):
                async with streamablehttp_client(url, headers={"authorization": f"Bearer {TOKEN}"}
                                                 ) as (read, write, _), \
                        ClientSession(read, write) as session:
                    await session.initialize()
                    seen = await listing(session)
                    answer = await session.call_tool("ask", {"question": "win rate?"})
                    return seen, answer

        seen, answer = anyio.run(run)
    assert seen["tools"] == committed_snapshot()
    assert not answer.isError and "%" in answer.structuredContent["answer"]


@pytest.mark.slow
def test_without_a_token_loopback_serves(built_warehouse, tmp_path):
    warehouse = copy_of(built_warehouse, tmp_path / "w")
    with served(warehouse, tmp_path / "server.log", free_port(), None) as url:
        response = httpx.post(url, json=INITIALIZE, headers=HEADERS, timeout=60)
    assert response.status_code == 200, response.text


def test_listening_beyond_loopback_without_a_token_is_refused(monkeypatch, capsys):
    monkeypatch.delenv("WHIZZY_MCP_TOKEN", raising=False)
    assert main(["mcp", "--http", "--host", "0.0.0.0", "--warehouse", "/nonexistent"]) == 2
    err = capsys.readouterr().err
    assert "will not listen on 0.0.0.0 without a token" in err and "WHIZZY_MCP_TOKEN" in err


def test_the_middleware_refuses_before_the_app_sees_the_request():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    sent = []

    async def send(message):
        sent.append(message)

    async def run():
        guarded = BearerToken(app, TOKEN)
        await guarded({"type": "http", "headers": []}, None, send)
        await guarded({"type": "http", "headers": [(b"authorization", f"Bearer {TOKEN}".encode())]},
                      None, send)
        await guarded({"type": "lifespan"}, None, send)

    anyio.run(run)
    assert sent[0]["status"] == 401 and seen == ["http", "lifespan"]
