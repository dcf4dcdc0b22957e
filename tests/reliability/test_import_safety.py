"""Import safety: `whizzy data import` killed halfway changes nothing.

A sizeable Salesforce export (60,000 opportunities, about 65 MB of CSV, written by
`whizzy data export` from a generated org) is imported by the real command in a
subprocess, which is SIGKILLed (no cleanup can run) at several points: the moment its temp
file appears, and well into the load. Each time the warehouse must be byte-for-byte what it
was (SHA-256). The killed runs leave temp files behind; the next import must succeed anyway
and remove them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import sha256

from whizzy.cli import main as whizzy
from whizzy.core.settings import PROJECT_ROOT
from whizzy.data.importer import import_csv_dir
from whizzy.warehouse.connection import connect_readonly
from whizzy.warehouse.files import sweep_stale_temps, temp_path_for

AS_OF = "2026-11-15"
OPPORTUNITIES = 60_000


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Salesforce-style CSV export of a generated org, written by `whizzy data export`."""
    folder = tmp_path_factory.mktemp("export")
    org = folder / "org.duckdb"
    assert whizzy(["data", "generate", "--warehouse", str(org), "--opportunities",
                   str(OPPORTUNITIES), "--seed", "11", "--as-of", AS_OF]) == 0
    csv = folder / "csv"
    assert whizzy(["data", "export", str(csv), "--warehouse", str(org)]) == 0
    assert sum(f.stat().st_size for f in csv.iterdir()) > 30_000_000
    return csv


def _temps(warehouse: Path) -> list[Path]:
    return sorted(p for p in warehouse.parent.iterdir() if p.name != warehouse.name
                  and p.name.startswith(warehouse.name + "."))


def _import_process(csv: Path, warehouse: Path) -> subprocess.Popen:
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "whizzy.cli", "data", "import", str(csv), "--warehouse",
         str(warehouse)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _opportunities(warehouse: Path) -> int:
    con = connect_readonly(warehouse)
    try:
        return con.execute("select count(*) from salesforce.opportunity").fetchone()[0]
    finally:
        con.close()


def test_a_killed_import_leaves_the_warehouse_exactly_as_it_was(
        export: Path, raw_warehouse: Path, tmp_path: Path, capsys):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    warehouse.write_bytes(raw_warehouse.read_bytes())
    before = sha256(warehouse)
    size = warehouse.stat().st_size
    rows_before = _opportunities(warehouse)

    def temp_files() -> list[Path]:
        return [p for p in _temps(warehouse) if ".import-" in p.name]

    points = {  # the phases of an import, as seen from outside
        "temp copy made": lambda: bool(temp_files()),
        "tables being written (WAL)": lambda: any(p.name.endswith(".wal")
                                                  for p in temp_files()),
        "checkpoint into the temp file": lambda: any(
            p.is_file() and not p.name.endswith(".wal") and p.stat().st_size > size
            for p in temp_files()),
    }
    killed: list[tuple[str, int]] = []
    missed: list[str] = []
    for point, reached in points.items():
        process = _import_process(export, warehouse)
        deadline = time.monotonic() + 120
        while process.poll() is None and not reached():
            assert time.monotonic() < deadline, f"the import never reached: {point}"
            time.sleep(0.002)
        if process.poll() is not None:  # finished first (a fast machine): no kill this time
            assert process.returncode == 0, process.stderr.read().decode()[-2000:]
            missed.append(point)
            warehouse.write_bytes(raw_warehouse.read_bytes())
            continue
        temp_bytes = sum(p.stat().st_size for p in temp_files() if p.is_file())
        process.send_signal(signal.SIGKILL)  # our own child, by its id: no cleanup can run
        process.wait(30)
        assert process.returncode == -signal.SIGKILL
        killed.append((point, temp_bytes))
        assert sha256(warehouse) == before, f"the warehouse changed (killed at: {point})"
        assert _opportunities(warehouse) == rows_before
        assert temp_files(), "a killed import leaves its temp file (nothing cleaned up)"
    assert len(killed) >= 2, f"killed at {killed}, missed {missed}"
    left = _temps(warehouse)

    # the next import works, and removes what the killed ones left
    counts = import_csv_dir(export, warehouse)
    assert counts["opportunity"] == OPPORTUNITIES
    assert _opportunities(warehouse) == OPPORTUNITIES
    assert _temps(warehouse) == []
    with capsys.disabled():
        print(f"\n[import kill] {len(killed)} imports SIGKILLed mid-way "
              f"({', '.join(f'{p}: temp {b / 1e6:.1f} MB' for p, b in killed)}); "
              f"missed: {missed or 'none'}; warehouse bytes changed: 0; "
              f"{len(left)} stale temp files removed by the next import")


def test_stale_temp_files_are_swept_only_when_their_writer_is_gone(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"served")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = warehouse.with_name(f"{warehouse.name}.import-{dead.pid}-0123abcd")
    stale.write_bytes(b"garbage")
    stale_wal = stale.with_name(stale.name + ".wal")
    stale_wal.write_bytes(b"garbage")
    stale_spill = stale.with_name(stale.name + ".tmp")
    stale_spill.mkdir()
    mine = temp_path_for(warehouse, "build")  # this process: still running
    mine.write_bytes(b"in progress")
    other = warehouse.with_name(f"other.duckdb.import-{dead.pid}-0123abcd")
    other.write_bytes(b"not ours")
    removed = sweep_stale_temps(warehouse)
    assert sorted(removed) == sorted([stale, stale_wal, stale_spill])
    assert mine.exists() and other.exists() and warehouse.read_bytes() == b"served"
