"""dbt unit tests run when their outcome could differ: the project, dbt or DuckDB changed."""

import shutil
from pathlib import Path
from types import SimpleNamespace

from whizzy.build import build_warehouse, unit_tests_key, unit_tests_stamp_for
from whizzy.data.generate import generate_org

AS_OF = "2026-11-15"
PROJECT = Path(__file__).parents[2] / "dbt_project"


def _units(result):
    return result.counts.get("unit_test", 0), result.unit_tests_skipped


def test_unit_tests_run_again_only_when_the_project_changed(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    path = tmp_path / "warehouse.duckdb"
    generate_org(path, opportunities=300, seed=3, as_of=AS_OF)

    first = build_warehouse(path, as_of=AS_OF, project_dir=project)
    assert first.counts["unit_test"] >= 10 and not first.unit_tests_skipped
    assert unit_tests_stamp_for(project).is_file()
    # the same project, another as-of date: ours all set their own vars, so not run again
    again = build_warehouse(path, as_of="2026-11-16", project_dir=project)
    assert _units(again) == (0, True)
    assert again.counts["test"] == first.counts["test"]  # data tests always run
    forced = build_warehouse(path, as_of=AS_OF, project_dir=project, unit_tests=True)
    assert _units(forced) == (first.counts["unit_test"], False)
    off = build_warehouse(path, as_of=AS_OF, project_dir=project, unit_tests=False)
    assert _units(off) == (0, False)

    yml = project / "models" / "_whizzy__models.yml"
    yml.write_text(yml.read_text().replace("Exactly one row:", "Exactly one row (B):", 1))
    changed = build_warehouse(path, as_of=AS_OF, project_dir=project)
    assert _units(changed) == (first.counts["unit_test"], False)


def _manifest(*overrides):
    return SimpleNamespace(unit_tests={
        f"unit_test.p.m.t{i}": SimpleNamespace(overrides=SimpleNamespace(vars=v))
        for i, v in enumerate(overrides)})


def test_the_builds_vars_count_only_for_a_unit_test_that_does_not_set_them():
    both = {"as_of_date": "2026-11-15", "fiscal_year_start_month": 1}
    later = {"as_of_date": "2026-11-16", "fiscal_year_start_month": 1}
    all_set = _manifest(dict(both), dict(both))
    assert unit_tests_key(PROJECT, both, all_set) == unit_tests_key(PROJECT, later, all_set)
    one_unset = _manifest(dict(both), {"fiscal_year_start_month": 2})
    assert unit_tests_key(PROJECT, both, one_unset) != unit_tests_key(PROJECT, later, one_unset)
    no_overrides = SimpleNamespace(unit_tests={"u": SimpleNamespace(overrides=None)})
    assert unit_tests_key(PROJECT, both, no_overrides) != unit_tests_key(
        PROJECT, later, no_overrides)
