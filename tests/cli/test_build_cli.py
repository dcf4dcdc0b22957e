"""`whizzy build --every`: a build dropped because new data landed is redone at once."""

import pytest

from whizzy.cli import build as build_cli
from whizzy.cli import main
from whizzy.core.errors import WarehouseChangedError


def test_build_every_rebuilds_at_once_when_an_import_landed_mid_build(tmp_path, monkeypatch,
                                                                      capsys):
    calls = []

    class Sleeping(Exception):
        pass

    def build_with_progress(warehouse, **kwargs):
        calls.append(warehouse)
        if len(calls) == 1:
            raise WarehouseChangedError("w.duckdb was replaced by another writer")

    def sleep(_seconds):
        raise Sleeping

    monkeypatch.setattr(build_cli, "build_with_progress", build_with_progress)
    monkeypatch.setattr(build_cli.time, "sleep", sleep)
    with pytest.raises(Sleeping):
        main(["build", "--every", "24h", "--warehouse", str(tmp_path / "w.duckdb")])
    assert len(calls) == 2  # the second build ran before the loop slept
    assert "rebuilding now" in capsys.readouterr().err


def _result(tmp_path, **kwargs):
    from datetime import date

    from whizzy.build import BuildResult, NodeTiming

    nodes = [NodeTiming(name=f"model_{k}", resource_type="model", status="success", seconds=k)
             for k in range(3)]
    nodes += [NodeTiming(name="velocity_bottleneck_levels_at_boundaries",
                         resource_type="unit_test", status="pass", seconds=9.0),
              NodeTiming(name="not_null_x", resource_type="test", status="pass", seconds=0.1)]
    return BuildResult(warehouse=tmp_path / "w.duckdb", manifest_path=tmp_path / "w.json",
                       as_of=date(2026, 11, 15), fiscal_year_start_month=1, elapsed=12.34,
                       nodes=nodes, **kwargs)


def test_build_summary_is_one_line_of_models_tests_and_seconds(tmp_path, capsys):
    from whizzy.cli.build import print_summary

    print_summary(_result(tmp_path))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "built 3 models and passed 2 tests (1 data, 1 unit) in 12.3s" in lines[0]
    assert "slowest" not in err and "velocity_bottleneck" not in err


def test_build_summary_says_when_the_unit_tests_were_skipped(tmp_path, capsys):
    from whizzy.cli.build import print_summary

    result = _result(tmp_path, unit_tests_skipped=True)
    result.nodes = [n for n in result.nodes if n.resource_type != "unit_test"]
    print_summary(result)
    line = capsys.readouterr().err.strip()
    assert ("passed 1 tests (1 data, unit tests skipped: they passed on this very dbt "
            "project before)") in line


def test_make_installs_quietly_and_uv_still_shows_errors(tmp_path):
    import re
    import subprocess
    from pathlib import Path

    from whizzy.core.settings import PROJECT_ROOT

    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    sync = re.search(r"^\t@?\$\(UV\) sync.*$", makefile, flags=re.M)
    assert sync and re.search(r"\s(--quiet|-q)\b", sync.group()), "uv sync lists every package"
    uv = PROJECT_ROOT / ".uv" / "bin" / "uv"
    if not uv.exists():
        pytest.skip("no .uv/bin/uv (make install makes it)")
    project = Path(tmp_path)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["whizzy-no-such-package-anywhere==1"]\n[tool.uv]\npackage = false\n')
    done = subprocess.run([str(uv), "sync", "--quiet", "--offline", "--no-cache"],
                          cwd=project, capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(project)})
    assert done.returncode != 0
    assert "whizzy-no-such-package-anywhere" in done.stderr  # the error is still shown
