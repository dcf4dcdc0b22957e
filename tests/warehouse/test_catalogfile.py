import pickle
import shutil
from pathlib import Path

import pytest

import whizzy.warehouse.catalogfile as catalogfile
from whizzy.warehouse.catalog import Catalog, load_catalog
from whizzy.warehouse.catalogfile import catalog_key, catalog_path_for, saved_or_parsed

FIXTURE = Path(__file__).parent / "fixtures" / "manifest.json"


def _parse_counting(calls: list[int]):
    import json

    def parse(data: bytes) -> Catalog:
        calls.append(1)
        return Catalog.from_manifest(json.loads(data))
    return parse


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.manifest.json"
    shutil.copyfile(FIXTURE, path)
    return path


def test_a_fresh_process_reads_the_saved_catalog_instead_of_parsing(manifest):
    raw = manifest.read_bytes()
    calls: list[int] = []
    first = saved_or_parsed(manifest, raw, _parse_counting(calls), Catalog)
    assert calls == [1] and catalog_path_for(manifest).is_file()
    again = saved_or_parsed(manifest, raw, _parse_counting(calls), Catalog)
    assert calls == [1]  # not parsed again
    assert again == Catalog(**{**first.__dict__, "path": manifest})
    assert again.path == manifest


def test_load_catalog_saves_beside_a_warehouse_manifest_only(manifest, tmp_path):
    parsed = load_catalog(manifest)
    assert catalog_path_for(manifest).is_file()
    other = tmp_path / "manifest.json"  # dbt's target/ or a fixture: never written beside
    shutil.copyfile(FIXTURE, other)
    load_catalog(other)
    assert not catalog_path_for(other).exists()
    assert [m.name for m in parsed.answerable] == ["m_quarterly"]


def test_a_catalog_saved_for_another_manifest_is_never_used(manifest):
    raw = manifest.read_bytes()
    saved_or_parsed(manifest, raw, _parse_counting([]), Catalog)
    changed = raw.replace(b'"m_quarterly"', b'"m_renamed"')
    assert catalog_key(changed) != catalog_key(raw)
    calls: list[int] = []
    catalog = saved_or_parsed(manifest, changed, _parse_counting(calls), Catalog)
    assert calls == [1] and "m_renamed" in catalog.models and "m_quarterly" not in catalog.models


def test_other_code_makes_another_key(monkeypatch):
    key = catalog_key(b"{}")
    monkeypatch.setattr(catalogfile, "CATALOG_FORMAT", catalogfile.CATALOG_FORMAT + 1)
    assert catalog_key(b"{}") != key


class _Boom:
    def __reduce__(self):
        return (print, ("unpickled code ran",))


def test_a_saved_file_naming_anything_but_catalog_classes_is_refused(manifest, capsys):
    raw = manifest.read_bytes()
    key = catalog_key(raw)
    catalog_path_for(manifest).write_bytes(b"whizzy-catalog %s\n" % key.encode()
                                           + pickle.dumps(_Boom()))
    calls: list[int] = []
    catalog = saved_or_parsed(manifest, raw, _parse_counting(calls), Catalog)
    assert calls == [1] and "m_quarterly" in catalog.models
    assert "unpickled code ran" not in capsys.readouterr().out


def test_a_cut_short_file_is_parsed_again(manifest):
    raw = manifest.read_bytes()
    saved_or_parsed(manifest, raw, _parse_counting([]), Catalog)
    path = catalog_path_for(manifest)
    path.write_bytes(path.read_bytes()[:200])
    calls: list[int] = []
    assert "m_quarterly" in saved_or_parsed(manifest, raw, _parse_counting(calls), Catalog).models
    assert calls == [1]
