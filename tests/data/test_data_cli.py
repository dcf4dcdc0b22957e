"""`whizzy data generate|import|export` through the real CLI entry point."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from whizzy.cli import main


def count(path: Path, table: str) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f'select count(*) from salesforce."{table}"').fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("argv", [["data", "--help"], ["data", "generate", "--help"],
                                  ["data", "import", "--help"], ["data", "export", "--help"]])
def test_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--warehouse" in out
    if argv[1] == "generate":
        assert "--opportunities" in out and "--as-of" in out and "--seed" in out
    if argv[1] == "import":
        assert "Opportunity.csv" in out and "All or nothing" in out


def test_generate_export_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wh = tmp_path / "a.duckdb"
    assert main(["data", "generate", "--opportunities", "120", "--seed", "3",
                 "--as-of", "2026-11-15", "--warehouse", str(wh)]) == 0
    err = capsys.readouterr().err
    assert "whizzy build" in err and "salesforce.opportunity" in err
    assert count(wh, "opportunity") == 120
    # --warehouse before the command works too
    assert main(["--warehouse", str(wh), "data", "export", str(tmp_path / "csv")]) == 0
    assert (tmp_path / "csv" / "Opportunity.csv").is_file()
    wh2 = tmp_path / "b.duckdb"
    assert main(["data", "import", str(tmp_path / "csv"), "--warehouse", str(wh2)]) == 0
    err = capsys.readouterr().err
    assert "whizzy build" in err
    assert count(wh2, "opportunity") == 120
    assert count(wh2, "opportunity_history") == count(wh, "opportunity_history")


def test_environment_variable_picks_the_warehouse(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    wh = tmp_path / "env.duckdb"
    monkeypatch.setenv("WHIZZY_WAREHOUSE", str(wh))
    assert main(["data", "generate", "--opportunities", "30", "--as-of", "2026-01-31"]) == 0
    assert count(wh, "opportunity") == 30


def test_bad_import_is_one_clear_sentence(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    wh = tmp_path / "a.duckdb"
    assert main(["data", "generate", "--opportunities", "40", "--warehouse", str(wh)]) == 0
    before = hashlib.sha256(wh.read_bytes()).hexdigest()
    assert main(["data", "export", str(tmp_path / "csv"), "--warehouse", str(wh)]) == 0
    (tmp_path / "csv" / "Account.csv").write_text("")
    capsys.readouterr()
    assert main(["data", "import", str(tmp_path / "csv"), "--warehouse", str(wh)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("whizzy: Account.csv is empty")
    assert "Traceback" not in err
    assert hashlib.sha256(wh.read_bytes()).hexdigest() == before
    assert main(["data", "import", str(tmp_path / "missing"), "--warehouse", str(wh)]) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["data", "generate", "--opportunities", "0"], "at least 1"),
        (["data", "generate", "--opportunities", "many"], "whole number"),
        (["data", "generate", "--as-of", "15/11/2026"], "like 2026-11-15"),
        (["data", "generate", "--open-share", "2"], "between 0 and 1"),
    ],
)
def test_bad_arguments(argv: list[str], fragment: str, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--warehouse", str(tmp_path / "w.duckdb")])
    assert exit_info.value.code == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()


def test_export_without_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "export", str(tmp_path / "out"),
                 "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    assert "No warehouse" in capsys.readouterr().err


def test_paths_with_brackets_print_as_text(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    wh = tmp_path / "w[/b].duckdb"  # Rich read this as a closing tag and crashed
    csv = tmp_path / "sf[red]export"
    assert main(["data", "generate", "--opportunities", "30", "--seed", "3",
                 "--as-of", "2026-11-15", "--warehouse", str(wh)]) == 0
    assert main(["data", "export", str(csv), "--warehouse", str(wh)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "sf[red]export" in err
    assert main(["data", "import", str(csv), "--warehouse", str(wh)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"Imported {csv} into {wh}" in err
