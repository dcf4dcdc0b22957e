"""`langgraph dev` serves graph.py:graph from langgraph.json, offline, with the CLI's answers.

The server runs on a free loopback port with the warehouse from ``WHIZZY_WAREHOUSE`` (the
context needs no warehouse); two turns of one thread are asked through `langgraph_sdk` and
compared with `whizzy ask --json` asking the same two questions in one thread. Every Python
process of the server records its DNS look-ups and connections (an audit hook loaded from
``sitecustomize``): none may leave the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from mcp_support import free_port
from test_mcp_server import copy_of

from whizzy.core.settings import PROJECT_ROOT

QUESTIONS = ["what is our win rate this quarter?", "and by owner?"]
#: Loaded by every Python process started with it on PYTHONPATH: records network events.
AUDIT = '''
import os, sys
_log = os.environ["WHIZZY_TEST_NET_LOG"]
def _hook(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        target = args[1] if event == "socket.connect" else args[0]
        with open(_log, "a") as f:
            f.write(f"{event} {target!r}\\n")
sys.addaudithook(_hook)
with open(_log, "a") as f:
    f.write(f"started {os.getpid()}\\n")
'''
LOCAL = ("'127.0.0.1'", "'localhost'", "'::1'", "b'127.0.0.1'", "b'localhost'")


def up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ok", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def nonlocal_events(log: Path) -> list[str]:
    """Network events whose target is not this machine (a Unix socket path is local)."""
    lines = log.read_text().splitlines() if log.exists() else []
    out = []
    for line in lines:
        event, _, target = line.partition(" ")
        local = (target.startswith(("'/", "b'/", "''", "b'\\x00", *(f"({h}" for h in LOCAL)))
                 or target in LOCAL or target == "None")
        if event == "started" or local:
            continue
        out.append(line)
    return out


@pytest.mark.slow
def test_langgraph_dev_answers_two_turns_like_the_cli(built_warehouse, tmp_path):
    from langgraph_sdk import get_sync_client

    warehouse = copy_of(built_warehouse, tmp_path / "w")
    hooks, work = tmp_path / "hooks", tmp_path / "work"
    hooks.mkdir()
    work.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT)
    net_log = tmp_path / "net.log"
    env = {**{k: v for k, v in os.environ.items()
              if not k.startswith(("WHIZZY_", "LANGSMITH_", "LANGCHAIN_", "OPENAI_"))},
           "WHIZZY_WAREHOUSE": str(warehouse), "WHIZZY_ENGINE": "offline",
           "DO_NOT_TRACK": "1", "LANGGRAPH_CLI_NO_ANALYTICS": "1",
           "PYTHONPATH": str(hooks), "WHIZZY_TEST_NET_LOG": str(net_log)}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "langgraph.log"
    langgraph = Path(sys.executable).with_name("langgraph")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(langgraph), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
             "--port", str(port), "--config", str(PROJECT_ROOT / "langgraph.json")],
            # graph paths are relative to the working folder (its .langgraph_api is git-ignored)
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a busy 2-core CI machine
        while not up(url):
            if proc.poll() is not None:
                pytest.fail(f"langgraph dev exited {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"langgraph dev not up after 300 s:\n{log.read_text()}")
            time.sleep(1)
        client = get_sync_client(url=url, timeout=300)
        thread = client.threads.create()
        served = [client.runs.wait(thread["thread_id"], "whizzy", input={"question": q})
                  for q in QUESTIONS]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    cli_env = {k: v for k, v in env.items() if k not in {"PYTHONPATH", "WHIZZY_TEST_NET_LOG"}}
    done = subprocess.run([sys.executable, "-m", "whizzy.cli", "ask", "--json", *QUESTIONS],
                          cwd=work, env=cli_env, capture_output=True, text=True, timeout=600,
                          check=True)
    cli = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(served) == len(cli) == 2
    for got, want in zip(served, cli, strict=True):
        assert got["answer"] == want["answer"]
        assert got["intent"] == want["intent"]
        assert got["as_of_date"] == want["as_of_date"]
    assert "owner" in served[1]["answer"].lower()  # the second turn continued the thread
    assert "started" in net_log.read_text()  # the hook ran in the server's processes
    assert nonlocal_events(net_log) == [], log.read_text()[-2000:]
