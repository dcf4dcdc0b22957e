"""The eval warehouse cache: reused while its inputs are unchanged, rebuilt when they change."""

import shutil

import duckdb

from evals import warehouse as ew
from whizzy.warehouse.connection import manifest_path_for


def fake_steps(monkeypatch, calls):
    def generate_org(path, *, opportunities, seed, as_of):
        calls.append(("generate", seed))
        con = duckdb.connect(str(path))
        con.execute("create or replace table marker as select 'raw' as kind")
        con.close()

    def build_warehouse(path, *, as_of, project_dir, fiscal_year_start_month=None):
        calls.append(("build", as_of))
        con = duckdb.connect(str(path))
        con.execute("create or replace table build_info as select date '2026-11-15' as as_of_date")
        con.close()
        manifest_path_for(path).write_text("{}")

    monkeypatch.setattr(ew, "generate_org", generate_org)
    monkeypatch.setattr(ew, "build_warehouse", build_warehouse)


def test_cache_is_reused_and_rebuilt_when_inputs_change(tmp_path, monkeypatch):
    calls = []
    fake_steps(monkeypatch, calls)
    project = tmp_path / "dbt_project"
    shutil.copytree(ew.DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    home = tmp_path / "eval"

    built = ew.ensure_eval_warehouse(home, project_dir=project)
    assert calls == [("generate", 42), ("build", "2026-11-15")]
    assert built == home / "warehouse.duckdb" and manifest_path_for(built).is_file()
    assert not list((home / "staging").iterdir())  # nothing left behind

    ew.ensure_eval_warehouse(home, project_dir=project)
    assert len(calls) == 2  # reused

    (project / "models" / "extra_note.sql").write_text("select 1 as x\n")
    ew.ensure_eval_warehouse(home, project_dir=project)
    assert calls[2:] == [("build", "2026-11-15")]  # dbt changed: build again, raw reused

    ew.ensure_eval_warehouse(home, project_dir=project, rebuild=True)
    assert calls[3:] == [("generate", 42), ("build", "2026-11-15")]


def test_fingerprints_change_with_their_inputs(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.sql").write_text("select 1")
    first = ew.built_fingerprint(project_dir=project)
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")  # build output does not count
    assert ew.built_fingerprint(project_dir=project) == first
    (project / "a.sql").write_text("select 2")
    assert ew.built_fingerprint(project_dir=project) != first
    assert ew.raw_fingerprint(ew.EvalOrg(seed=1)) != ew.raw_fingerprint()
