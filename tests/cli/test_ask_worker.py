"""`whizzy ask` and its warm worker: used when up and current, never stale, else in-process."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from agents.values import index_path_for
from whizzy.cli import ask as ask_cli
from whizzy.cli import main, worker
from whizzy.warehouse.connection import manifest_path_for

QUESTION = "what is our win rate this quarter?"


def _copy(built, folder):
    folder.mkdir(exist_ok=True)
    path = folder / "warehouse.duckdb"
    for src, dst in ((built, path), (manifest_path_for(built), manifest_path_for(path)),
                     (index_path_for(built), index_path_for(path))):
        if src.exists():
            shutil.copyfile(src, dst)
    return path


def _ask(capsys, path, *args):
    assert main(["ask", "--warehouse", str(path), "--json", *args, QUESTION]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _same(answer):
    return {k: v for k, v in answer.items() if k != "elapsed_ms"}


@pytest.fixture
def on(monkeypatch):
    monkeypatch.setenv("WHIZZY_ASK_WORKER", "1")


@pytest.fixture
def served(built_warehouse, tmp_path, on):
    """A copy of the demo warehouse with a real worker process serving it."""
    path = _copy(built_warehouse, tmp_path / "wh")
    proc = worker.start_worker(path)
    assert proc is not None
    try:
        assert worker.wait_for_worker(path), "the worker never listened"
        yield path, proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _no_in_process(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("answered in-process: the worker was not used")

    monkeypatch.setattr(ask_cli, "_answer_here", refuse)


def test_without_a_worker_ask_answers_in_process_and_starts_one(
        built_warehouse, tmp_path, on, monkeypatch, capsys):
    path = _copy(built_warehouse, tmp_path / "wh")
    started = []
    monkeypatch.setattr(worker, "start_worker", lambda wh: started.append(wh))
    answer = _ask(capsys, path)
    assert answer["status"] == "answered" and "win rate" in answer["answer"].lower()
    assert started == [path]  # for the next `whizzy ask`


def test_with_the_worker_off_nothing_is_started(built_warehouse, tmp_path, monkeypatch,
                                                capsys):
    monkeypatch.setenv("WHIZZY_ASK_WORKER", "0")
    path = _copy(built_warehouse, tmp_path / "wh")
    monkeypatch.setattr(worker, "start_worker", lambda wh: pytest.fail("started a worker"))
    assert _ask(capsys, path)["status"] == "answered"


def test_the_workers_answer_equals_the_in_process_answer(served, monkeypatch, capsys):
    path, _ = served
    monkeypatch.setenv("WHIZZY_ASK_WORKER", "0")
    here = _ask(capsys, path)
    monkeypatch.setenv("WHIZZY_ASK_WORKER", "1")
    _no_in_process(monkeypatch)
    there = _ask(capsys, path)
    assert _same(there) == _same(here)
    # a thread continues in the worker as it would here
    follow = _ask(capsys, path, "--thread", "t-worker")
    assert _same(follow) == _same(here)


def test_a_worker_never_answers_for_another_warehouse_version(served, monkeypatch):
    path, proc = served
    request = {"questions": [QUESTION], "thread": "t", "persona": "sales_manager",
               "row_limit": 1000}
    assert worker.ask_worker(path, request) is not None
    seen = worker.identity(path)
    # the client saw another file version than the worker sees now (a swap in between)
    monkeypatch.setattr(worker, "identity", lambda wh: [*seen[:-1], seen[-1] + 1])
    assert worker.ask_worker(path, request) is None
    assert proc.poll() is None  # still serving the file it sees


def test_a_worker_running_other_code_is_never_used_and_stops(served, monkeypatch, capsys):
    path, proc = served
    monkeypatch.setattr(worker, "code_stamp", lambda: "other code")
    started = []
    monkeypatch.setattr(worker, "start_worker", lambda wh: started.append(wh))
    assert _ask(capsys, path)["status"] == "answered"  # in-process
    assert started == [path]
    assert proc.wait(timeout=60) == 0  # the old worker stopped


def test_an_ask_through_the_worker_imports_no_langgraph(served):
    path, _ = served
    probe = ("import json, sys\nfrom whizzy.cli import main\ncode = main(sys.argv[1:])\n"
             "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
             "{'langgraph', 'langchain_core', 'sqlglot'})\n"
             "print(json.dumps({'code': code, 'heavy': heavy}))\n")
    out = subprocess.run([sys.executable, "-c", probe, "ask", "--warehouse", str(path),
                          "--json", QUESTION], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "WHIZZY_ASK_WORKER": "1"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[0])["status"] == "answered"
    assert json.loads(lines[-1]) == {"code": 0, "heavy": []}


def test_a_socket_folder_others_may_enter_is_never_used(tmp_path, monkeypatch):
    monkeypatch.setattr(worker.tempfile, "gettempdir", lambda: str(tmp_path))
    wh = tmp_path / "warehouse.duckdb"
    path = worker.socket_path(wh)
    path.parent.mkdir(mode=0o755)
    path.parent.chmod(0o755)
    path.write_text("")  # whoever made the folder could have put anything here
    request = {"questions": [QUESTION], "thread": "t", "persona": "sales_manager",
               "row_limit": 1000}
    assert worker.ask_worker(wh, request) is None
    assert worker.Worker(wh).lock() is False
    path.parent.chmod(0o700)
    mine = worker.Worker(wh)
    assert mine.lock() is True
    mine.close()
    assert not pathlib.Path(f"{path}.lock").exists()
