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
