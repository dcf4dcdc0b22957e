"""`whizzy build` end to end: generated orgs of several shapes, the seed document's sample
queries verbatim, atomic failure, the Fivetran reference tables, docs, and the CLI."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from whizzy.build import build_warehouse, docs_path_for
from whizzy.core.errors import BuildError, ConfigError, WarehouseMissingError
from whizzy.core.settings import DBT_PROJECT_DIR
from whizzy.warehouse.connection import connect_readonly, manifest_path_for

#: A copy of tests/fixtures/fivetran_salesforce: the four objects as Fivetran lands them.
REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "fivetran_salesforce"

# The four sample queries of shared/seed/dbt-pipeline-documentation.md, verbatim.
SAMPLE_HEALTH = """SELECT 
  quarter_label,
  pipeline_health_score,
  health_status,
  risk_level,
  key_insight
FROM m_pipeline_health
ORDER BY quarter DESC
LIMIT 5;"""

SAMPLE_VELOCITY = """SELECT 
  dimension,
  avg_days_in_stage,
  bottleneck_level,
  monthly_value_impact
FROM m_deal_velocity_analysis
WHERE metric_type = 'stage_velocity'
ORDER BY avg_days_in_stage DESC;"""

SAMPLE_FORECAST = """SELECT 
  month_label,
  actual_revenue,
  combined_forecast,
  forecast_quality,
  forecast_risk
FROM m_revenue_forecasting
ORDER BY month DESC
LIMIT 12;"""

SAMPLE_DASHBOARD = """SELECT 
  qtd_won_revenue,
  current_pipeline_value,
  overall_win_rate,
  pipeline_health,
  key_insight,
  recommendation
FROM a_executive_dashboard
WHERE dashboard_type = 'executive_dashboard';"""

MARTS = (
    "m_pipeline_health", "m_deal_velocity_analysis", "m_revenue_forecasting", "m_forecast",
    "m_slippage_impact_quarter", "m_stage_velocity_quarter",
)
ANALYTICS = (
    "a_executive_dashboard", "a_win_rate_trend_analysis", "a_slippage_pattern_analysis",
    "a_comprehensive_slippage_analysis", "a_win_rate_by_owner", "a_win_rate_by_industry",
)
FLEXIBLE_FACTS = ("fct_opportunity", "fct_stage_visit", "fct_close_date_push",
                  "fct_quarter_slippage")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(path: Path, sql: str) -> list[dict]:
    con = connect_readonly(path)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def check_sample_queries(path: Path, *, expect_open: bool) -> None:
    """The four seed queries run verbatim and return sensible rows."""
    health = rows(path, SAMPLE_HEALTH)
    assert 1 <= len(health) <= 5
    for r in health:
        assert r["quarter_label"][:2] == "20" and "-Q" in r["quarter_label"]
        assert 40 <= r["pipeline_health_score"] <= 100
        assert r["health_status"] in {"Excellent", "Good", "Fair", "Poor"}
        assert r["risk_level"] in {"High", "Medium", "Low"}
        assert r["key_insight"].endswith(".") and "weakest" in r["key_insight"] or (
            "full points" in r["key_insight"]
        )

    velocity = rows(path, SAMPLE_VELOCITY)
    assert velocity, "stage velocity rows"
    days = [r["avg_days_in_stage"] for r in velocity if r["avg_days_in_stage"] is not None]
    assert days == sorted(days, reverse=True) and all(d >= 0 for d in days)
    closed_stages = {"Closed Won", "Closed Lost"}
    assert not closed_stages & {r["dimension"] for r in velocity}
    for r in velocity:
        assert r["bottleneck_level"] in {"Critical", "High", "Moderate", "Low"}

    forecast = rows(path, SAMPLE_FORECAST)
    assert len(forecast) == 12
    labels = [r["month_label"] for r in forecast]
    assert labels == sorted(labels, reverse=True)
    # the six months after the as-of month have no actuals yet, the rest do
    assert [r["actual_revenue"] is None for r in forecast] == [True] * 6 + [False] * 6
    assert all(r["forecast_quality"] in {"High", "Medium", "Low", "Insufficient data"}
               for r in forecast)
    assert all(r["forecast_risk"] in {"High", "Medium", "Low", "Unknown"} for r in forecast)

    dashboard = rows(path, SAMPLE_DASHBOARD)
    assert len(dashboard) == 1
    d = dashboard[0]
    assert d["qtd_won_revenue"] >= 0
    assert (d["current_pipeline_value"] > 0) == expect_open
    assert d["overall_win_rate"] is None or 0 <= d["overall_win_rate"] <= 1
    assert d["key_insight"] and d["recommendation"]


def contract_tables_exist(path: Path) -> None:
    con = connect_readonly(path)
    try:
        names = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()}
    finally:
        con.close()
    assert set(MARTS + ANALYTICS + FLEXIBLE_FACTS + ("build_info",)) <= names


# --------------------------------------------------------------------- the shared demo org


def test_demo_org_builds_and_answers_the_seed_queries(built_warehouse: Path) -> None:
    contract_tables_exist(built_warehouse)
    check_sample_queries(built_warehouse, expect_open=True)
    info = rows(built_warehouse, "select * from build_info")
    assert len(info) == 1
    assert str(info[0]["as_of_date"]) == "2026-11-15"
    assert info[0]["opportunity_rows"] == 3000
    assert info[0]["fiscal_year_start_month"] == 1


def test_manifest_beside_the_warehouse_describes_every_answerable_model(
    built_warehouse: Path,
) -> None:
    manifest_path = manifest_path_for(built_warehouse)
    assert manifest_path == built_warehouse.with_name("warehouse.manifest.json")
    manifest = json.loads(manifest_path.read_text())
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name in MARTS + ANALYTICS + FLEXIBLE_FACTS:
        node = nodes[name]
        meta = node["config"]["meta"]["whizzy"]
        assert node["config"]["contract"]["enforced"], name
        assert node["description"].startswith(("One row", "Exactly one row")), name
        assert len(meta["example_questions"]) >= 3, name
        assert meta["synonyms"] and meta["measures"], name
        columns = node["columns"]
        for column in columns.values():
            assert column["description"], f"{name}.{column['name']}"
            assert column["data_type"], f"{name}.{column['name']}"
        for measure in meta["measures"]:
            assert ("column" in measure) != ("expr" in measure), f"{name}.{measure['name']}"
            if "column" in measure:
                assert measure["column"] in columns, f"{name}.{measure['name']}"
            assert measure["unit"] in {
                "currency", "percent", "days", "count", "score", "number", "text"
            }
        for dimension in meta.get("dimensions", []):
            assert dimension["column"] in columns, f"{name} dimension {dimension['name']}"
        if meta.get("time_column"):
            assert columns[meta["time_column"]]["data_type"] == "date"
    unit_tests = [u for u in manifest["unit_tests"].values()]
    assert len(unit_tests) >= 10


def test_expr_measures_run_on_their_model(built_warehouse: Path) -> None:
    manifest = json.loads(manifest_path_for(built_warehouse).read_text())
    for node in manifest["nodes"].values():
        meta = (node.get("config", {}).get("meta") or {}).get("whizzy")
        if not meta:
            continue
        exprs = [m["expr"] for m in meta["measures"] if "expr" in m]
        if exprs:
            select = ", ".join(exprs)
            assert rows(built_warehouse, f"select {select} from {node['name']}")


# ------------------------------------------------------------- orgs of several shapes


ORGS = {
    # fiscal year from February, as of mid-year
    "fiscal_feb": dict(opportunities=800, seed=11, as_of="2026-06-30", fiscal=2, open=True),
    # every deal closed: no open pipeline anywhere
    "no_open_deals": dict(opportunities=1200, seed=3, as_of="2026-11-15", open_share=0.0,
                          open=False),
    # a young org: three months of history
    "single_quarter": dict(opportunities=300, seed=5, as_of="2026-03-31", months=3, open=True),
}


@pytest.fixture(scope="module", params=sorted(ORGS))
def org(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from whizzy.data.generate import generate_org

    spec = dict(ORGS[request.param])
    expect_open = spec.pop("open")
    fiscal = spec.pop("fiscal", 1)
    path = tmp_path_factory.mktemp(request.param) / "warehouse.duckdb"
    generate_org(path, **spec)
    reader = duckdb.connect(str(path), read_only=True)  # a reader holding the old file
    try:
        result = build_warehouse(
            path, as_of=spec["as_of"], fiscal_year_start_month=fiscal, unit_tests=False
        )
        # Still open after the swap, the reader keeps answering from the file it opened.
        # (DuckDB shares one instance per path within a process, so it is closed before
        # anything here opens the new file.)
        old_view = dict(
            opportunities=reader.execute(
                "select count(*) from salesforce.opportunity").fetchone()[0],
            main_tables=[r[0] for r in reader.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main'").fetchall()],
        )
    finally:
        reader.close()
    return dict(name=request.param, path=path, result=result, spec=spec, fiscal=fiscal,
                expect_open=expect_open, old_view=old_view)


@pytest.mark.slow
def test_org_builds_with_every_test_passing(org) -> None:
    result = org["result"]
    assert all(n.passed for n in result.nodes)
    assert result.counts["model"] >= 20 and result.counts["test"] >= 50
    assert "unit_test" not in result.counts  # skipped on purpose: they do not read the org
    contract_tables_exist(org["path"])
    check_sample_queries(org["path"], expect_open=org["expect_open"])


@pytest.mark.slow
def test_readers_of_the_old_file_keep_working(org) -> None:
    assert org["old_view"]["opportunities"] > 0
    assert org["old_view"]["main_tables"] == []  # the raw file it opened, not the build


@pytest.mark.slow
def test_org_specific_expectations(org) -> None:
    path, name = org["path"], org["name"]
    info = rows(path, "select * from build_info")[0]
    assert str(info["as_of_date"]) == org["spec"]["as_of"]
    assert info["fiscal_year_start_month"] == org["fiscal"]
    if name == "fiscal_feb":
        # Feb-Apr, May-Jul, Aug-Oct, Nov-Jan; fiscal 2027 = Feb 2026 - Jan 2027
        current = rows(path, "select quarter, quarter_label from m_pipeline_health "
                             "where is_current_quarter")[0]
        assert str(current["quarter"]) == "2026-05-01" and current["quarter_label"] == "2027-Q2"
        months = {r["m"] for r in rows(path, "select distinct month(quarter) as m from m_forecast")}
        assert months <= {2, 5, 8, 11}
    if name == "no_open_deals":
        assert rows(path, "select count(*) as n from fct_opportunity where is_open")[0]["n"] == 0
        health = rows(path, "select overdue_share, overdue_points from m_pipeline_health")
        assert all(r["overdue_share"] is None and r["overdue_points"] == 25 for r in health)
        future = rows(path, "select pipeline_forecast from m_revenue_forecasting "
                            "where is_future_month")
        assert all(r["pipeline_forecast"] == 0 for r in future)
    if name == "single_quarter":
        forecast = rows(path, "select count(*) as n from m_revenue_forecasting")[0]
        assert forecast["n"] == 31


# ------------------------------------------------------------------ failures stay atomic


def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    return copy


@pytest.mark.slow
def test_a_failing_model_or_test_leaves_the_served_warehouse_unchanged(
    raw_warehouse: Path, tmp_path: Path
) -> None:
    project = project_copy(tmp_path)
    (project / "models" / "zz_broken_model.sql").write_text(
        "select no_such_column from {{ ref('fct_opportunity') }}\n"
    )
    (project / "models" / "zz_duplicate_keys.sql").write_text(
        "select 1 as key_id union all select 1 as key_id\n"
    )
    (project / "models" / "_zz__models.yml").write_text(
        "version: 2\nmodels:\n  - name: zz_duplicate_keys\n    description: test fixture\n"
        "    columns:\n      - name: key_id\n        data_tests: [unique]\n"
    )
    served = tmp_path / "served" / "warehouse.duckdb"
    served.parent.mkdir()
    shutil.copyfile(raw_warehouse, served)
    before = sha256(served)
    with pytest.raises(BuildError) as caught:
        build_warehouse(served, as_of="2026-11-15", project_dir=project, unit_tests=False)
    message = str(caught.value)
    assert "zz_broken_model" in message and "no_such_column" in message
    assert "unique_zz_duplicate_keys_key_id" in message
    assert sha256(served) == before
    assert not manifest_path_for(served).exists()
    assert sorted(p.name for p in served.parent.iterdir()) == ["warehouse.duckdb"]


def test_missing_warehouse_and_bad_arguments_are_clear(tmp_path: Path) -> None:
    with pytest.raises(WarehouseMissingError):
        build_warehouse(tmp_path / "nope.duckdb")
    existing = tmp_path / "w.duckdb"
    duckdb.connect(str(existing)).close()
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        build_warehouse(existing, as_of="15/11/2026")
    with pytest.raises(ConfigError, match="1-12"):
        build_warehouse(existing, as_of="2026-11-15", fiscal_year_start_month=0)


# --------------------------------------------------------- Fivetran-landed reference tables


def load_fivetran_reference(path: Path) -> None:
    """The four reference CSVs loaded by `whizzy data import` (the contract's columns and
    the _fivetran_* flags kept); the two contract tables they lack are created empty."""
    from whizzy.data.importer import import_csv_dir

    import_csv_dir(REFERENCE, path)


@pytest.mark.slow
def test_fivetran_reference_tables_build_with_tests_passing(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    load_fivetran_reference(path)
    result = build_warehouse(path, as_of="2026-11-15", unit_tests=False)
    assert all(n.passed for n in result.nodes)
    # every opportunity is deleted, so the facts are empty, but every model exists
    assert rows(path, "select count(*) as n from fct_opportunity")[0]["n"] == 0
    info = rows(path, "select * from build_info")[0]
    assert info["opportunity_rows"] == 10 and info["live_opportunity_rows"] == 0
    # the stage picklist was not landed: the default sales process stands in
    stages = rows(path, "select stage_name from stg_sf__opportunity_stage order by sort_order")
    assert [r["stage_name"] for r in stages][:2] == ["Prospecting", "Qualification"]
    # users and roles survive (their _fivetran_* flags are handled)
    assert rows(path, "select count(*) as n from dim_user")[0]["n"] > 0
    dashboard = rows(path, SAMPLE_DASHBOARD)
    assert len(dashboard) == 1 and dashboard[0]["current_pipeline_value"] == 0
    assert "No open or recently closed" in dashboard[0]["recommendation"]


# ------------------------------------------------------------------------ CLI and docs


@pytest.mark.slow
def test_cli_build_with_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from whizzy.cli import main
    from whizzy.data.generate import generate_org

    path = tmp_path / "warehouse.duckdb"
    generate_org(path, opportunities=200, seed=9, as_of="2026-11-15")
    status = main(["build", "--warehouse", str(path), "--as-of", "2026-11-15", "--docs"])
    assert status == 0
    # unit tests run unless they passed on this very project before (then it says so)
    assert re.search(r"passed \d+ tests \(\d+ data, (\d+ unit|unit tests skipped: they passed "
                     r"on this very dbt project before)\)", capsys.readouterr().err)
    docs = docs_path_for(path)
    assert docs.is_file() and "m_pipeline_health" in docs.read_text()
    assert json.loads(manifest_path_for(path).read_text())["metadata"]["project_name"] == "whizzy"
    assert main(["build", "--warehouse", str(tmp_path / "missing.duckdb")]) == 2


def test_build_modules_doctests() -> None:
    import doctest

    import whizzy.build
    import whizzy.cli.build

    for module in (whizzy.build, whizzy.cli.build):
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0, module.__name__
