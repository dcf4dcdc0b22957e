"""Reader, selector and planner on the real catalog of the built demo org (no graph).

Each test states a concept once — a comparison of members, a bound on a number, an outcome
qualifier, a share, a half-year, a follow-up — and checks the typed query and the plan the
SQL is built from.
"""

import datetime as dt

import pytest

from agents.contract import Intent
from agents.planner import make_plans
from agents.reader import read
from agents.reading import Context
from agents.values import value_index
from whizzy.warehouse.reader import open_warehouse


@pytest.fixture(scope="module")
def warehouse(built_warehouse):
    return open_warehouse(built_warehouse)


@pytest.fixture(scope="module")
def context(warehouse):
    return Context(catalog=warehouse.catalog, values=value_index(warehouse),
                   as_of=warehouse.as_of,
                   fiscal_year_start_month=warehouse.fiscal_year_start_month)


def plan_for(warehouse, context, question, previous=None):
    ctx = context if previous is None else Context(**{**context.__dict__, "previous": previous})
    query = read(question, ctx)
    return query, make_plans(query, warehouse)


def period_of(plan):
    (flt,) = [f for f in plan.filters if f.dimension == "period"]
    return flt.values


def test_as_of_comes_from_build_info(warehouse):
    assert warehouse.as_of == dt.date(2026, 11, 15)


@pytest.mark.parametrize(("question", "model"), [
    ("How healthy is our pipeline this quarter?", "m_pipeline_health"),
    ("What is the revenue forecast for next month?", "m_revenue_forecasting"),
    ("Which stage is our bottleneck?", "m_deal_velocity_analysis"),
    ("open pipeline by industry", "fct_opportunity"),
])
def test_the_model_that_serves_the_question_is_chosen(warehouse, context, question, model):
    query, outcome = plan_for(warehouse, context, question)
    assert query.model == model
    assert outcome.plans and outcome.plans[0].model == model


def test_plan_is_typed_and_scoped(warehouse, context):
    _, outcome = plan_for(warehouse, context, "win rate for healthcare last quarter by owner")
    plan = outcome.plans[0]
    assert plan.aggregate and plan.group_by == ["owner"]
    columns = {f.column: f for f in plan.filters}
    assert columns["industry"].values == ["Healthcare"]
    assert columns["close_date"].values == [dt.date(2026, 7, 1), dt.date(2026, 9, 30)]
    assert plan.period_label == "Q3 2026"


def test_overall_window_default_for_rates_and_none_for_open_pipeline(warehouse, context):
    _, outcome = plan_for(warehouse, context, "win rate")
    assert period_of(outcome.plans[0]) == [dt.date(2025, 10, 1), dt.date(2026, 11, 15)]
    _, outcome = plan_for(warehouse, context, "what is our open pipeline")
    assert not [f for f in outcome.plans[0].filters if f.dimension == "period"]
    assert outcome.plans[0].period_label is None


@pytest.mark.parametrize("question", [
    "Technology vs Healthcare open pipeline",
    # "or healthcare" is not a misspelt account name ("Orion Health ..."): joiners are not names
    "Which has more open pipeline, Technology or Healthcare?",
])
def test_two_members_of_one_dimension_are_compared_not_anded(warehouse, context, question):
    query, outcome = plan_for(warehouse, context, question)
    assert query.compare_members == "industry"
    assert [c.field for c in query.filters] == ["industry"]
    plan = outcome.plans[0]
    (flt,) = [f for f in plan.filters if f.column == "industry"]
    assert flt.op == "in" and set(flt.values) == {"Technology", "Healthcare"}
    assert plan.group_by == ["industry"]


def test_a_bound_on_the_amount_is_a_filter(warehouse, context):
    query, outcome = plan_for(warehouse, context, "how many open deals are above $250k")
    assert query.measures == ["open_count"]
    (flt,) = [f for f in outcome.plans[0].filters if f.column == "amount"]
    assert (flt.op, flt.values) == ("gt", [250000.0])


@pytest.mark.parametrize(("question", "measure"), [
    ("how many did we lose last quarter", "lost_count"),
    ("average size of deals we won last quarter", "avg_won_deal_size"),
    ("how much revenue did we lose last quarter", "lost_amount"),
    ("what did we win last quarter", "won_amount"),
    # the outcome word qualifies the deals of another figure, it is not a second figure
    ("total value of lost deals last quarter", "lost_amount"),
    ("avg deal size on won deals last quarter", "avg_won_deal_size"),
])
def test_an_outcome_qualifier_picks_the_measure_of_that_scope(warehouse, context, question,
                                                               measure):
    query, outcome = plan_for(warehouse, context, question)
    assert query.measures == [measure]
    assert outcome.plans[0].period_label == "Q3 2026"


def test_a_share_is_part_over_whole_in_one_query(warehouse, context):
    query, outcome = plan_for(warehouse, context, "what % of pipeline is overdue")
    assert [c.field for c in query.share_of] == ["overdue"]
    plan = outcome.plans[0]
    assert plan.share and plan.share[0].column == "is_overdue"


def test_a_half_year_filters_on_its_six_months(warehouse, context):
    _, outcome = plan_for(warehouse, context, "bookings in H2 2025")
    assert period_of(outcome.plans[0]) == [dt.date(2025, 7, 1), dt.date(2025, 12, 31)]
    assert outcome.plans[0].period_label == "H2 2025"


def test_created_in_period_counts_by_created_date(warehouse, context):
    query, outcome = plan_for(warehouse, context, "new opportunities created last month")
    assert query.measures == ["deal_count"] and query.window.time == "created"
    (flt,) = [f for f in outcome.plans[0].filters if f.dimension == "period"]
    assert flt.column == "created_date"


def test_biggest_deals_are_records_ordered_by_amount(warehouse, context):
    query, outcome = plan_for(warehouse, context, "top 5 deals closing this quarter")
    assert query.intent == Intent.LOOKUP and query.limit == 5
    plan = outcome.plans[0]
    assert plan.purpose == "records" and plan.limit == 5
    assert plan.order_by[0].name == "amount" and plan.order_by[0].desc


def test_follow_ups_reshape_the_previous_query(warehouse, context):
    first, _ = plan_for(warehouse, context, "show me our biggest open deals")
    only, _ = plan_for(warehouse, context, "only the ones in negotiation", previous=first)
    assert only.records and {c.field for c in only.filters} == {"open", "stage"}
    owner, outcome = plan_for(warehouse, context, "who owns the biggest one?", previous=only)
    assert owner.pick == "owner" and owner.limit == 1
    assert outcome.plans[0].limit == 1
    last, _ = plan_for(warehouse, context, "how many deals did we lose last quarter?")
    before, outcome = plan_for(warehouse, context, "and the previous quarter?", previous=last)
    assert before.measures == ["lost_count"]
    assert period_of(outcome.plans[0]) == [dt.date(2026, 4, 1), dt.date(2026, 6, 30)]


def test_unknown_words_are_reported_not_dropped(warehouse, context):
    query = read("what's our ARR?", context)
    assert query.unanswerable and "ARR" in query.unanswerable
    query = read("Which marketing campaign generated the most pipeline this quarter?", context)
    assert query.unanswerable
    query = read("What's Zebulon Quartermaine's win rate?", context)
    assert query.clarify is not None


def test_a_question_back_names_the_words_its_options_replace(warehouse, context):
    from whizzy.chat.choices import choice_questions

    query = read("How is Sofia doing?", context)
    assert query.clarify is not None and query.clarify.text == "sofia"
    asked = [q for _, q in choice_questions("How is Sofia doing?", query.clarify.model_dump())]
    assert asked == [f"How is {name} doing?" for name in query.clarify.options]
    query = read("What's Zebulon Quartermaine's win rate?", context)
    assert query.clarify.text.lower() == "zebulon quartermaine"


# --------------------------------------------------------------------------- pictures' queries


def test_a_single_figure_also_runs_for_the_period_before_and_by_period(warehouse, context):
    """The KPI card's change and trend come from queries: the same plan, other periods."""
    _, outcome = plan_for(warehouse, context, "How much did we win this month?")
    main, previous, series = outcome.plans
    assert (main.purpose, previous.purpose, series.purpose) == ("main", "previous", "series")
    assert period_of(main) == [dt.date(2026, 11, 1), dt.date(2026, 11, 30)]
    assert period_of(previous) == [dt.date(2026, 10, 1), dt.date(2026, 10, 31)]
    assert previous.period_label == "Oct 2026" and previous.selections == main.selections
    assert series.group_by == ["month"] and series.headline == main.headline
    assert period_of(series) == [dt.date(2026, 4, 1), dt.date(2026, 11, 30)]  # 8 months


def test_a_row_figure_gets_its_previous_row_and_its_trend(warehouse, context):
    _, outcome = plan_for(warehouse, context, "What was the win rate in the previous quarter?")
    assert [p.purpose for p in outcome.plans] == ["main", "previous", "series"]
    main, previous, series = outcome.plans
    assert previous.period_label == "Q2 2026"
    assert period_of(series) == [dt.date(2024, 10, 1), dt.date(2026, 9, 30)]
    assert series.limit == 8 and series.model == main.model


def test_a_figure_with_no_period_has_no_previous_query(warehouse, context):
    _, outcome = plan_for(warehouse, context, "What is our weighted pipeline?")
    assert [p.purpose for p in outcome.plans] == ["main"]


def test_a_ranked_rate_carries_its_sample_size_from_the_catalog(warehouse, context):
    _, outcome = plan_for(warehouse, context, "Who are the top 5 reps by win rate?")
    sample = next(s for s in outcome.plans[0].selections if s.name == "sample_size")
    measure = warehouse.catalog.model(outcome.plans[0].model).answerable.measure("win_rate")
    assert measure.sample is not None and measure.sample.minimum == 20
    assert sample.expr == measure.sample.expr and sample.unit == "count"


def test_the_health_score_comes_with_its_four_components(warehouse, context):
    _, outcome = plan_for(warehouse, context, "How healthy is our pipeline this quarter?")
    names = [s.name for s in outcome.plans[0].selections]
    assert {"win_rate_points", "overdue_points", "deal_size_points", "volume_points"} <= set(names)


def test_the_briefing_reads_each_figure_for_the_period_before(warehouse, context):
    _, outcome = plan_for(warehouse, context, "Give me the executive summary")
    main, previous = outcome.plans
    assert previous.purpose == "previous" and previous.model == main.model
    columns = {s.name: s.column for s in previous.selections}
    assert columns["qtd_won_revenue"] == "qtd_won_revenue_prior"
    assert columns["pipeline_health"] == "pipeline_health_prior"
    labels = {s.name: s.label for s in main.selections}
    assert "all open pipeline" in labels["overdue_share"]  # each overdue figure says its scope


def test_a_forecast_reads_the_actuals_before_it_and_the_months_ahead(warehouse, context):
    _, outcome = plan_for(warehouse, context, "Forecast next quarter")
    series = next(p for p in outcome.plans if p.purpose == "series")
    assert "actual_revenue" in [s.name for s in series.selections]
    start, end = period_of(series)
    assert start <= dt.date(2025, 12, 1) and end == dt.date(2027, 5, 31)  # 6 months ahead
