"""Writers of one warehouse never undo each other; killed builds and full disks leave nothing.

The interleavings are forced with hooks (dbt's run replaced by a function that performs the
other writer's whole import; the import's progress callback performing a build's swap), so
the tests are deterministic: no sleeps, no timing.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from whizzy import build
from whizzy.cli import main as whizzy
from whizzy.core.errors import DiskFullError, WarehouseChangedError
from whizzy.data.export import export_csv_dir
from whizzy.data.generate import generate_org
from whizzy.data.importer import import_csv_dir
from whizzy.warehouse import files
from whizzy.warehouse.connection import manifest_path_for
from whizzy.warehouse.files import replacing, sweep_stale_temps


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def opportunities(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from salesforce.opportunity").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 37-opportunity export: the data a user imports while something else runs."""
    base = tmp_path_factory.mktemp("small")
    generate_org(base / "org.duckdb", opportunities=37, seed=5, as_of="2026-06-30")
    export_csv_dir(base / "org.duckdb", base / "csv")
    return base / "csv"


@pytest.fixture()
def served(raw_warehouse: Path, tmp_path: Path) -> Path:
    path = tmp_path / "data" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copyfile(raw_warehouse, path)
    return path


def fake_dbt(during=None, *, ok: bool = True, exception: BaseException | None = None,
             seen: list | None = None):
    """A stand-in for `build.run_dbt`: runs `during()` between the copy and the swap."""

    def run_dbt(args, *, database, project_dir, work_dir, variables, progress=None):
        if seen is not None:
            seen.append((database, work_dir))
        if during is not None:
            during()
        (work_dir / "target").mkdir(parents=True, exist_ok=True)
        (work_dir / "target" / "manifest.json").write_text("{}")
        return ok, None, exception

    return run_dbt


# --------------------------------------------------------------- lost updates (finding 4)


def test_an_import_that_succeeds_during_a_build_is_never_lost(
        served: Path, small_csv: Path, monkeypatch):
    assert opportunities(served) != 37
    imported: list[dict] = []
    monkeypatch.setattr(build, "run_dbt", fake_dbt(
        lambda: imported.append(import_csv_dir(small_csv, served))))
    with pytest.raises(WarehouseChangedError, match="replaced by another writer") as info:
        build.build_warehouse(served, as_of="2026-06-30", unit_tests=False)
    assert imported and imported[0]["opportunity"] == 37  # the import succeeded...
    assert opportunities(served) == 37  # ...and its data is still what is served
    assert "run the command again" in info.value.user_message()
    assert not manifest_path_for(served).exists()  # the dropped build wrote nothing
    assert sorted(p.name for p in served.parent.iterdir()) == ["warehouse.duckdb"]


@pytest.mark.slow
def test_an_import_during_a_real_dbt_build_is_never_lost(served: Path, small_csv: Path,
                                                         monkeypatch):
    real_run_dbt = build.run_dbt

    def import_then_dbt(args, **kwargs):
        import_csv_dir(small_csv, served)  # dbt has the copy; the user's import lands
        return real_run_dbt(args, **kwargs)

    monkeypatch.setattr(build, "run_dbt", import_then_dbt)
    with pytest.raises(WarehouseChangedError):
        build.build_warehouse(served, as_of="2026-06-30", unit_tests=False)
    assert opportunities(served) == 37
    assert sorted(p.name for p in served.parent.iterdir()) == ["warehouse.duckdb"]
    monkeypatch.undo()  # run again: the build now starts from the imported data
    build.build_warehouse(served, as_of="2026-06-30", unit_tests=False)
    con = duckdb.connect(str(served), read_only=True)
    assert con.execute("select count(*) from fct_opportunity").fetchone()[0] == 37
    con.close()


def test_the_cli_says_so_in_one_sentence(served: Path, small_csv: Path, monkeypatch, capsys):
    monkeypatch.setattr(build, "run_dbt", fake_dbt(lambda: import_csv_dir(small_csv, served)))
    assert whizzy(["build", "--warehouse", str(served), "--as-of", "2026-06-30"]) == 2
    err = capsys.readouterr().err
    assert "replaced by another writer" in err and "Traceback" not in err
    assert opportunities(served) == 37


def test_a_build_that_finishes_during_an_import_is_not_undone(served: Path, small_csv: Path):
    def build_swaps_in(step: str, _fraction: float) -> None:
        if step == "writing tables":  # the import's copy is made and checked; now a build
            with replacing(served, tag="build", copy_existing=True) as tmp:
                con = duckdb.connect(str(tmp))
                con.execute("create table main.built as select 1 as model")
                con.close()

    before = opportunities(served)
    with pytest.raises(WarehouseChangedError):
        import_csv_dir(small_csv, served, progress=build_swaps_in)
    con = duckdb.connect(str(served), read_only=True)
    assert con.execute("select model from main.built").fetchone() == (1,)
    con.close()
    assert opportunities(served) == before
    assert sorted(p.name for p in served.parent.iterdir()) == ["warehouse.duckdb"]
    # run again, the import goes through and keeps what the build made
    assert import_csv_dir(small_csv, served)["opportunity"] == 37
    con = duckdb.connect(str(served), read_only=True)
    assert con.execute("select model from main.built").fetchone() == (1,)
    con.close()


def test_a_swap_during_the_copy_counts_as_a_change(served: Path, monkeypatch):
    real_copyfile = shutil.copyfile

    def copy_while_a_writer_swaps(source, destination):
        real_copyfile(source, destination)
        with replacing(served, tag="import") as other:  # lands between copy and check
            real_copyfile(source, other)

    monkeypatch.setattr(files.shutil, "copyfile", copy_while_a_writer_swaps)
    with pytest.raises(WarehouseChangedError):
        with replacing(served, tag="build", copy_existing=True):
            monkeypatch.setattr(files.shutil, "copyfile", real_copyfile)


def test_the_swap_lock_excludes_every_other_holder(tmp_path: Path):
    import fcntl

    with files._swap_lock(tmp_path):
        fd = os.open(tmp_path, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(tmp_path, os.O_RDONLY)  # released when the block ends
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_a_build_with_no_other_writer_still_swaps(served: Path, monkeypatch):
    monkeypatch.setattr(build, "run_dbt", fake_dbt())
    result = build.build_warehouse(served, as_of="2026-06-30", unit_tests=False)
    assert result.manifest_path.read_text() == "{}"


# ------------------------------------------------- killed builds' work folders (finding 9)


def _dead_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


def test_a_build_names_its_work_folder_so_a_later_writer_can_sweep_it(
        served: Path, monkeypatch):
    seen: list = []
    monkeypatch.setattr(build, "run_dbt", fake_dbt(seen=seen))
    build.build_warehouse(served, as_of="2026-06-30", unit_tests=False)
    work_dir = seen[0][1]
    assert re.fullmatch(rf"\.warehouse\.duckdb\.dbt-{os.getpid()}-[0-9a-f]{{8}}", work_dir.name)
    assert not work_dir.exists()


def test_work_folders_of_killed_builds_are_swept(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"served")
    pid = _dead_pid()
    killed = tmp_path / f".warehouse.duckdb.dbt-{pid}-0123abcd"
    (killed / "target").mkdir(parents=True)
    (killed / "target" / "manifest.json").write_text("{}")
    running = tmp_path / f".warehouse.duckdb.dbt-{os.getpid()}-0123abcd"  # this process
    running.mkdir()
    old_legacy = tmp_path / ".warehouse.duckdb.dbt-k2j_9x0a"  # tempfile.mkdtemp's naming
    old_legacy.mkdir()
    day_and_more = time.time() - files.LEGACY_WORK_DIR_AGE - 60
    os.utime(old_legacy, (day_and_more, day_and_more))
    young_legacy = tmp_path / ".warehouse.duckdb.dbt-q1w2e3r4"  # may be a running build
    young_legacy.mkdir()
    other = tmp_path / f".other.duckdb.dbt-{pid}-0123abcd"
    other.mkdir()
    removed = sweep_stale_temps(warehouse)
    assert sorted(removed) == sorted([killed, old_legacy])
    assert running.exists() and young_legacy.exists() and other.exists()
    assert warehouse.read_bytes() == b"served"


# ------------------------------------------------------------- disk full (finding 9)


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_while_copying_for_a_build_is_a_clear_error(served: Path, monkeypatch):
    monkeypatch.setattr(files.shutil, "copyfile", _enospc)
    monkeypatch.setattr(build, "run_dbt", fake_dbt())
    before = sha256(served)
    with pytest.raises(DiskFullError, match="is full") as info:
        build.build_warehouse(served, as_of="2026-06-30", unit_tests=False)
    assert "left unchanged" in info.value.user_message()
    assert sha256(served) == before
    assert sorted(p.name for p in served.parent.iterdir()) == ["warehouse.duckdb"]


def test_disk_full_inside_dbt_is_a_clear_error(served: Path, monkeypatch, capsys):
    full = RuntimeError('IO Error: Could not write file "x": No space left on device')
    monkeypatch.setattr(build, "run_dbt", fake_dbt(ok=False, exception=full))
    before = sha256(served)
    assert whizzy(["build", "--warehouse", str(served), "--as-of", "2026-06-30"]) == 2
    err = capsys.readouterr().err
    assert "is full" in err and "served warehouse was left unchanged" in err
    assert "Traceback" not in err
    assert sha256(served) == before


def test_disk_full_during_cli_import_and_export(served: Path, small_csv: Path, tmp_path: Path,
                                                monkeypatch, capsys):
    monkeypatch.setattr(files.shutil, "copyfile", _enospc)
    before = sha256(served)
    assert whizzy(["data", "import", str(small_csv), "--warehouse", str(served)]) == 2
    assert "is full" in capsys.readouterr().err
    assert sha256(served) == before
    monkeypatch.undo()

    from whizzy.data import export

    def full(_con, _select, _path):
        raise duckdb.IOException("Could not write file: No space left on device")

    monkeypatch.setattr(export, "_write_csv", full)
    assert whizzy(["data", "export", str(tmp_path / "out"), "--warehouse", str(served)]) == 2
    err = capsys.readouterr().err
    assert "is full" in err and "Traceback" not in err
