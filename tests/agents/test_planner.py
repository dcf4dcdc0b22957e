"""Selector and planner on the real catalog of the built demo org (no graph)."""

import datetime as dt

import pytest

from agents.planner import dimension_words, make_plans
from agents.question import read_question
from agents.selector import rank_models
from agents.values import value_index
from whizzy.warehouse.reader import open_warehouse


@pytest.fixture(scope="module")
def warehouse(built_warehouse):
    return open_warehouse(built_warehouse)


def plan_for(warehouse, question, intent="analytics"):
    ask = read_question(question, as_of=warehouse.as_of, values=value_index(warehouse),
                        dimension_words=dimension_words(warehouse.catalog))
    outcome, ranked = make_plans(ask, warehouse, intent)
    return ask, outcome, ranked


def test_as_of_comes_from_build_info(warehouse):
    assert warehouse.as_of == dt.date(2026, 11, 15)


@pytest.mark.parametrize(("question", "model"), [
    ("How healthy is our pipeline this quarter?", "m_pipeline_health"),
    ("What is the revenue forecast for next month?", "m_revenue_forecasting"),
    ("Which stage is our bottleneck?", "m_deal_velocity_analysis"),
    ("How many deals slipped last quarter?", "m_slippage_impact_quarter"),
    ("open pipeline by industry", "fct_opportunity"),
])
def test_selector_ranks_the_documented_model_first_few(warehouse, question, model):
    ask, outcome, ranked = plan_for(warehouse, question)
    assert model in [c.name for c in ranked[:3]]
    assert outcome.plans and outcome.plans[0].model == model


def test_plan_is_typed_and_scoped(warehouse):
    _, outcome, _ = plan_for(warehouse, "win rate for healthcare last quarter by owner")
    plan = outcome.plans[0]
    assert plan.aggregate and plan.group_by == ["owner"]
    columns = {f.column: f for f in plan.filters}
    assert columns["industry"].values == ["Healthcare"]
    assert columns["close_date"].values == [dt.date(2026, 7, 1), dt.date(2026, 9, 30)]


def test_overall_window_default_for_rates(warehouse):
    _, outcome, _ = plan_for(warehouse, "win rate")
    (period,) = [f for f in outcome.plans[0].filters if f.dimension == "period"]
    assert period.values == [dt.date(2025, 10, 1), dt.date(2026, 11, 15)]


def test_open_pipeline_has_no_period_by_default(warehouse):
    _, outcome, _ = plan_for(warehouse, "what is our open pipeline")
    assert not [f for f in outcome.plans[0].filters if f.dimension == "period"]


def test_stacked_model_gets_its_row_kind(warehouse):
    _, outcome, _ = plan_for(warehouse, "which stage is our bottleneck")
    kinds = [f for f in outcome.plans[0].filters if f.column == "metric_type"]
    assert kinds and kinds[0].values == ["stage_velocity"]


def test_unanswerable_says_why_and_suggests(warehouse):
    _, outcome, _ = plan_for(warehouse, "what is the churn rate of our mobile app")
    assert outcome.unanswerable and outcome.suggestions


def test_rank_reasons(warehouse):
    ask, _, _ = plan_for(warehouse, "pipeline health trend")
    ranked = rank_models(ask, warehouse.catalog)
    assert ranked[0].reasons
