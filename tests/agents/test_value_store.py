"""The value index is built once per build: saved beside the warehouse, loaded elsewhere."""

import shutil

import pytest

import agents.values as values
from agents.values import (
    ValueIndex,
    build_key,
    index_path_for,
    load_index,
    save_index,
    value_index,
)
from whizzy.warehouse.connection import manifest_path_for
from whizzy.warehouse.reader import open_warehouse


@pytest.fixture
def warehouse(built_warehouse, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, path)
    shutil.copyfile(manifest_path_for(built_warehouse), manifest_path_for(path))
    return path


def test_state_round_trip_matches_the_same_way():
    index = ValueIndex({"owner": ["Jane Doe", "Jane Roe", "John Roe"],
                        "industry": ["Healthcare", "Technology"],
                        "stage": ["Proposal/Price Quote", "Negotiation/Review"],
                        "account": ["Acme Robotics Inc.", "Acme Bank"]})
    again = ValueIndex.from_state(index.to_state())
    for question in ("jane's deals in tech", "acme in proposal stage", "helthcare deals",
                     "deals in review", "how is john doing"):
        assert again.match(question) == index.match(question)
    assert again.closest("jon roe", 2) == index.closest("jon roe", 2)


def test_a_second_process_loads_the_saved_index_without_building(warehouse, monkeypatch):
    first = value_index(open_warehouse(warehouse))
    assert index_path_for(warehouse).is_file()
    monkeypatch.setattr(values, "_CACHE", {})  # as a new process: nothing in memory

    def no_build(_warehouse):
        raise AssertionError("built again although this build's index was saved")

    monkeypatch.setattr(values, "build_value_index", no_build)
    second = value_index(open_warehouse(warehouse))
    assert second is not first and second.values == first.values
    assert second.match("healthcare deals") == first.match("healthcare deals")


def test_a_file_of_another_key_or_a_broken_file_is_ignored(warehouse, tmp_path):
    key = build_key(open_warehouse(warehouse))
    assert key
    target = tmp_path / "index.values"
    save_index(target, key, ValueIndex({"owner": ["Jane Doe"]}))
    assert load_index(target, key).values == {"owner": ["Jane Doe"]}
    assert load_index(target, "0" * 64) is None
    target.write_bytes(target.read_bytes()[:100])
    assert load_index(target, key) is None
    assert load_index(tmp_path / "missing.values", key) is None


def test_a_saved_index_loads_its_parts_lazily_and_matches_the_same_way(tmp_path):
    index = ValueIndex({"owner": ["Jane Doe", "Jane Roe", "John Roe"],
                        "industry": ["Healthcare", "Technology"],
                        "stage": ["Proposal/Price Quote", "Negotiation/Review"],
                        "account": ["Acme Robotics Inc.", "Acme Bank", "Summit Foods"]})
    target = tmp_path / "index.values"
    save_index(target, "k", index)
    again = load_index(target, "k")
    assert again._lookup._loaded == {} and again._values is None  # nothing read yet
    for question in ("jane's deals in tech", "acme in proposal stage", "helthcare deals",
                     "deals in review", "how is john doing", "summit fods pipeline"):
        assert again.match(question) == index.match(question)
    assert again.closest("jon roe", 2) == index.closest("jon roe", 2)
    assert again.values == index.values and again.dimension_of("Acme Bank") == ["account"]


def test_a_saved_index_cut_short_is_ignored(tmp_path):
    target = tmp_path / "index.values"
    save_index(target, "k", ValueIndex({"owner": ["Jane Doe", "John Roe"] * 50}))
    target.write_bytes(target.read_bytes()[:-10])
    assert load_index(target, "k") is None
