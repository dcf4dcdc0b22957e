"""A warehouse swapped for a new build: the value index, catalog and answers follow it."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from agents.values import index_path_for, value_index
from whizzy.assistant import Assistant
from whizzy.build import build_warehouse
from whizzy.data.generate import generate_org
from whizzy.warehouse.connection import manifest_path_for
from whizzy.warehouse.reader import open_warehouse

AS_OF = "2026-11-15"
PROJECT = os.path.join(os.path.dirname(__file__), "..", "..", "dbt_project")


def _build(folder, *, seed, project):
    folder.mkdir()
    path = folder / "warehouse.duckdb"
    generate_org(path, opportunities=300, seed=seed, as_of=AS_OF)
    build_warehouse(path, as_of=AS_OF, project_dir=project, unit_tests=False)
    return path


def _project_b(tmp_path):
    """The dbt project with one model description changed (a different catalog)."""
    project = tmp_path / "project_b"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    yml = project / "models" / "_whizzy__models.yml"
    text = yml.read_text()
    assert "Exactly one row:" in text
    yml.write_text(text.replace("Exactly one row:", "Exactly one row (build B):", 1))
    return project


def _only_in(first, second):
    return sorted(set(first) - set(second))[0]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("swap")
    a = _build(tmp / "a", seed=99, project=PROJECT)
    b = _build(tmp / "b", seed=5, project=_project_b(tmp))
    return a, b


def _answer_sql(answer):
    return " ".join(answer["sql"] if isinstance(answer["sql"], list) else [answer["sql"]])


def test_value_index_catalog_and_answers_follow_a_swap(two_builds, tmp_path):
    build_a, build_b = two_builds
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(build_a, path)
    shutil.copyfile(manifest_path_for(build_a), manifest_path_for(path))

    owners_a = value_index(open_warehouse(path)).values["owner"]
    assert index_path_for(path).is_file()  # saved for the other processes of this build
    owners_b = value_index(open_warehouse(build_b)).values["owner"]
    only_a, only_b = _only_in(owners_a, owners_b), _only_in(owners_b, owners_a)
    assistant = Assistant(path)  # long-lived, as in the chat
    before = assistant.ask(f"how many open deals does {only_a} have?", thread_id="t")
    assert only_a in _answer_sql(before)
    assert "build B" not in open_warehouse(path).catalog.model("build_info").description
    saved_a = index_path_for(path).read_bytes()

    # the swap a build does: a new file moved over the served one, then its manifest
    staged = path.with_name("warehouse.duckdb.staged")
    shutil.copyfile(build_b, staged)
    os.replace(staged, path)
    shutil.copyfile(manifest_path_for(build_b), staged)
    os.replace(staged, manifest_path_for(path))

    swapped = open_warehouse(path)
    assert "build B" in swapped.catalog.model("build_info").description
    owners = value_index(swapped).values["owner"]
    assert only_b in owners and only_a not in owners
    assert index_path_for(path).read_bytes() != saved_a  # the saved index is B's now

    after = assistant.ask(f"how many open deals does {only_b} have?", thread_id="t2")
    assert only_b in _answer_sql(after)
    gone = assistant.ask(f"how many open deals does {only_a} have?", thread_id="t3")
    assert only_a not in _answer_sql(gone)

    # a fresh process loads B's saved index, never A's
    out = subprocess.run(
        [sys.executable, "-m", "whizzy.cli", "ask", "--warehouse", str(path), "--json",
         f"how many open deals does {only_b} have?"],
        capture_output=True, text=True, check=True, timeout=600)
    assert only_b in _answer_sql(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_saved_index_of_another_build_is_never_used(two_builds, tmp_path):
    build_a, build_b = two_builds
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(build_b, path)
    shutil.copyfile(manifest_path_for(build_b), manifest_path_for(path))
    value_index(open_warehouse(build_a))  # A's index saved beside A
    shutil.copyfile(index_path_for(build_a), index_path_for(path))  # left over beside B
    owners = value_index(open_warehouse(path)).values["owner"]
    assert owners == value_index(open_warehouse(build_b)).values["owner"]


def test_the_ask_worker_follows_a_swap(two_builds, tmp_path, monkeypatch):
    from whizzy.cli import ask as ask_cli
    from whizzy.cli import main, worker

    build_a, build_b = two_builds
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(build_a, path)
    shutil.copyfile(manifest_path_for(build_a), manifest_path_for(path))
    owners_a = value_index(open_warehouse(build_a)).values["owner"]
    owners_b = value_index(open_warehouse(build_b)).values["owner"]
    only_a, only_b = _only_in(owners_a, owners_b), _only_in(owners_b, owners_a)
    monkeypatch.setenv("WHIZZY_ASK_WORKER", "1")
    monkeypatch.setattr(ask_cli, "_answer_here", lambda *a: pytest.fail("not the worker"))
    proc = worker.start_worker(path)
    try:
        assert worker.wait_for_worker(path)

        def ask(question):
            out = tmp_path / "out.json"
            with open(out, "w") as handle, pytest.MonkeyPatch.context() as m:
                m.setattr(sys, "stdout", handle)
                assert main(["ask", "--warehouse", str(path), "--json", question]) == 0
            return json.loads(out.read_text().strip().splitlines()[-1])

        assert only_a in _answer_sql(ask(f"how many open deals does {only_a} have?"))
        staged = path.with_name("warehouse.duckdb.staged")
        shutil.copyfile(build_b, staged)
        os.replace(staged, path)
        shutil.copyfile(manifest_path_for(build_b), staged)
        os.replace(staged, manifest_path_for(path))
        # the same worker process answers from build B: its values, catalog and data
        after = ask(f"how many open deals does {only_b} have?")
        assert only_b in _answer_sql(after)
        assert only_a not in _answer_sql(ask(f"how many open deals does {only_a} have?"))
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=60)
