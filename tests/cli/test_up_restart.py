"""Restarts: `whizzy up` skips a build nothing changed, `--rebuild` forces one."""

import os
import shutil

import pytest

import whizzy.build as build
from agents.values import index_path_for
from whizzy.build import parsed_manifest, partial_parse_path_for, stamp_path_for, up_to_date
from whizzy.cli import main
from whizzy.core.settings import DBT_PROJECT_DIR
from whizzy.data.generate import generate_org

AS_OF = "2026-11-15"


def _inode(path):
    return os.stat(path).st_ino


def test_up_skips_an_unchanged_build_and_rebuild_forces_it(tmp_path, capsys):
    wh = tmp_path / "warehouse.duckdb"
    # (a fixed as-of date: the default, today, changes at midnight, and with it the build's
    # inputs; a run across midnight would rebuild, rightly)
    args = ["up", "--warehouse", str(wh), "--no-chat", "--opportunities", "300", "--seed", "3",
            "--as-of", AS_OF]
    assert main(args) == 0
    first = capsys.readouterr().err  # the console writes to stderr
    assert "build skipped" not in first and "built " in first
    assert stamp_path_for(wh).is_file()
    assert index_path_for(wh).is_file()  # the build's value index, saved with it
    built = _inode(wh)

    assert main(args) == 0
    second = capsys.readouterr().err
    assert "build skipped" in second and "built " not in second
    assert _inode(wh) == built  # nothing was swapped

    assert main([*args, "--rebuild"]) == 0
    third = capsys.readouterr().err
    assert "build skipped" not in third and "built " in third
    assert _inode(wh) != built

    # new raw data (any writer replaces the file): built again
    generate_org(wh, opportunities=200, seed=4)
    assert main(args) == 0
    assert "build skipped" not in capsys.readouterr().err


def test_up_to_date_follows_as_of_project_and_manifest(built_warehouse, tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, wh)
    from whizzy.warehouse.connection import manifest_path_for

    shutil.copyfile(manifest_path_for(built_warehouse), manifest_path_for(wh))
    assert not up_to_date(wh, as_of=AS_OF)  # no record of a build of this file
    stamp = build.build_inputs(wh, as_of=build.resolve_as_of(AS_OF), fiscal_year_start_month=1,
                               project_dir=DBT_PROJECT_DIR)
    stamp_path_for(wh).write_text(__import__("json").dumps(stamp))
    assert up_to_date(wh, as_of=AS_OF, fiscal_year_start_month=1)
    assert not up_to_date(wh, as_of="2026-11-16", fiscal_year_start_month=1)
    assert not up_to_date(wh, as_of=AS_OF, fiscal_year_start_month=2)

    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    assert up_to_date(wh, as_of=AS_OF, fiscal_year_start_month=1, project_dir=project)
    sql = next(project.rglob("*.sql"))
    sql.write_text(sql.read_text() + "\n-- changed\n")
    assert not up_to_date(wh, as_of=AS_OF, fiscal_year_start_month=1, project_dir=project)

    manifest_path_for(wh).unlink()
    assert not up_to_date(wh, as_of=AS_OF, fiscal_year_start_month=1)


def test_a_new_process_parses_the_project_partially(tmp_path, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    variables = {"as_of_date": AS_OF, "fiscal_year_start_month": 1}
    logs = []
    for run in range(2):
        monkeypatch.setattr(build, "_MANIFESTS", {})  # as a new process
        work = tmp_path / f"work{run}"
        work.mkdir()
        database = tmp_path / f"warehouse.duckdb.build-{run}-0000000{run}"  # a new temp file
        parsed_manifest(project, database=database, work_dir=work, variables=variables)
        logs.append((work / "logs" / "dbt.log").read_text())
    assert partial_parse_path_for(project, database).is_file()
    assert not database.exists()  # parsing never opens the database
    assert "Unable to do partial parsing because saved manifest not found" in logs[0]
    assert "Unable to do partial parsing" not in logs[1]


@pytest.mark.parametrize("name", ["warehouse.duckdb", "warehouse.duckdb.build-12-0123abcd"])
def test_partial_parse_state_is_one_file_per_catalog_in_the_stable_target(name, tmp_path):
    assert partial_parse_path_for(tmp_path / "p", tmp_path / name) == (
        tmp_path / "p" / "target" / "warehouse.partial_parse.msgpack")
