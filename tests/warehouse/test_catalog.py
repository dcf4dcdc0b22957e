import json
import os
import shutil
from pathlib import Path

import pytest

from whizzy.warehouse.catalog import Catalog, expr_columns, load_catalog

FIXTURE = Path(__file__).parent / "fixtures" / "manifest.json"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(FIXTURE)


def test_only_documented_models_are_answerable(catalog):
    assert [m.name for m in catalog.answerable] == ["m_quarterly"]
    assert set(catalog.models) == {"m_quarterly", "fct_deals", "undocumented"}


def test_meta_is_parsed_into_typed_objects(catalog):
    meta = catalog.model("m_quarterly").answerable
    assert meta.label == "Quarterly fixture"
    assert meta.time_column == "quarter" and meta.time_grain == "quarter"
    assert meta.default_sort[0].column == "quarter" and meta.default_sort[0].desc
    assert meta.dimension("quarter").column == "quarter_label"
    assert meta.measure("score").column == "score" and not meta.measure("score").is_aggregate
    assert meta.measure("rate").is_aggregate and meta.measure("rate").unit == "percent"
    assert meta.records.model == "fct_deals" and meta.records.filter == "is_open"


def test_bad_meta_is_dropped_and_reported(catalog):
    meta = catalog.model("m_quarterly").answerable
    assert meta.measure("broken") is None
    assert meta.measure("odd_unit").unit == "number"
    assert any("broken" in p and "no_such_column" in p for p in catalog.problems)
    assert any("furlongs" in p for p in catalog.problems)


def test_columns_tests_and_lineage(catalog):
    deals = catalog.model("fct_deals")
    assert deals.columns["deal_id"].tests == ("unique",)
    assert deals.columns["stage"].accepted_values == ("Open", "Won", "Lost")
    assert catalog.lineage("m_quarterly") == ["fct_deals", "salesforce.opportunity"]
    assert ("salesforce", "opportunity") in catalog.relations()
    assert catalog.unit_tests == ("unit_test.whizzy_fixture.m_quarterly.boundaries",)
    assert catalog.describe_column("m_quarterly", "score") == "Score 0-100."


def test_cache_is_per_file_version(tmp_path):
    path = tmp_path / "manifest.json"
    shutil.copyfile(FIXTURE, path)
    first = load_catalog(path)
    assert load_catalog(path) is first
    data = json.loads(path.read_text())
    del data["nodes"]["model.whizzy_fixture.undocumented"]
    path.write_text(json.dumps(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = load_catalog(path)
    assert second is not first and "undocumented" not in second.models


def test_expr_columns_refuses_queries():
    assert expr_columns("avg(case when is_won then amount end)") == {"is_won", "amount"}
    with pytest.raises(ValueError):
        expr_columns("(select max(x) from secrets)")


def test_real_manifest_from_the_build(built_warehouse):
    from whizzy.warehouse.connection import manifest_path_for

    cat = load_catalog(manifest_path_for(built_warehouse))
    names = {m.name for m in cat.answerable}
    assert {"fct_opportunity", "m_pipeline_health", "a_executive_dashboard"} <= names
    assert not cat.problems, cat.problems
    velocity = cat.model("m_deal_velocity_analysis").answerable
    assert velocity.dimension("stage").kind_value == "stage_velocity"


def test_pictures_read_their_vocabulary_from_the_meta(built_warehouse):
    """Sample sizes, the period before, captions and the months ahead are dbt YAML."""
    from whizzy.warehouse.connection import manifest_path_for

    cat = load_catalog(manifest_path_for(built_warehouse))
    for model in ("fct_opportunity", "a_win_rate_by_owner", "a_win_rate_by_industry",
                  "a_win_rate_trend_analysis"):  # every model whose win rate is ranked
        sample = cat.model(model).answerable.measure("win_rate").sample
        assert sample is not None and sample.minimum == 20, model
        assert sample.label == "closed deals"
    dashboard = cat.model("a_executive_dashboard").answerable
    assert dashboard.measure("qtd_won_revenue").previous.column == "qtd_won_revenue_prior"
    assert "overdue" in dashboard.measure("overdue_share").caption
    assert cat.model("m_revenue_forecasting").answerable.measure("combined_forecast").ahead == 6


def test_a_sample_without_a_minimum_is_dropped_and_reported():
    from whizzy.warehouse.catalog import _sample

    issues: list[str] = []
    assert _sample({"expr": "count(*)"}, "win_rate", set(), issues) is None
    assert issues == ["measure win_rate sample needs a whole-number minimum"]
    assert _sample({"column": "nope", "minimum": 5}, "win_rate", {"n"}, issues) is None
    assert _sample({"column": "n", "minimum": 5}, "win_rate", {"n"}, issues).column == "n"
