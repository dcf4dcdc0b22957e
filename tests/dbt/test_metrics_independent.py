"""The models' figures equal figures recomputed straight from the RAW `salesforce` tables.

Every expectation here is written from docs/metrics.md with its own SQL and Python,
never from the model SQL: if a model and this file disagree, one of them misreads the spec.
Runs on the shared demo org and on a second org with another seed, size and as-of date.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from whizzy.warehouse.connection import connect_readonly

DEMO_AS_OF = "2026-11-15"  # tests/conftest.py's demo org
SECOND_AS_OF = "2026-08-20"

# Rounding of the marts: amounts to cents, rates to 6 decimals, days to 2 decimals.
MONEY = dict(abs=0.006)
RATE = dict(abs=1.5e-6)
DAYS = dict(abs=0.006)

LIVE_OPPS = "select * from salesforce.opportunity where not coalesce(is_deleted, false)"


@pytest.fixture(scope="module")
def second_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from whizzy.build import build_warehouse
    from whizzy.data.generate import generate_org

    path = tmp_path_factory.mktemp("second_org") / "warehouse.duckdb"
    generate_org(path, opportunities=2500, seed=23, as_of=SECOND_AS_OF)
    build_warehouse(path, as_of=SECOND_AS_OF, unit_tests=False)
    return path


@pytest.fixture(params=["demo", "second"])
def org(request: pytest.FixtureRequest):
    if request.param == "demo":
        path, as_of = request.getfixturevalue("built_warehouse"), DEMO_AS_OF
    else:
        path, as_of = request.getfixturevalue("second_org"), SECOND_AS_OF
    con = connect_readonly(path)
    yield con, date.fromisoformat(as_of)
    con.close()


def fetch(con, sql: str, *params) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


def quarter_of(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def month_of(d: date) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def raw_quarters(con, as_of: date) -> dict[date, dict]:
    """Per quarter of close_date: counts and amounts of the live opportunities in scope."""
    out = {}
    for q, n, won, lost, open_amount, overdue_amount, avg_amount in fetch(con, f"""
        select
            date_trunc('quarter', close_date)::date,
            count(*),
            count(*) filter (where is_won),
            count(*) filter (where is_closed and not is_won),
            coalesce(sum(amount) filter (where not is_closed), 0),
            coalesce(sum(amount) filter (where not is_closed and close_date < ?), 0),
            avg(amount)
        from ({LIVE_OPPS})
        group by 1
    """, as_of):
        win_rate = won / (won + lost) if won + lost else None
        share = float(overdue_amount) / float(open_amount) if open_amount else None
        out[q] = dict(n=n, won=won, lost=lost, win_rate=win_rate, overdue_share=share,
                      overdue_amount=float(overdue_amount),
                      avg=None if avg_amount is None else float(avg_amount))
    return out


def test_win_rate_per_quarter(org) -> None:
    con, as_of = org
    expected = raw_quarters(con, as_of)
    health = dict(fetch(con, "select quarter, win_rate from m_pipeline_health"))
    forecast = dict(fetch(con, "select quarter, win_rate from m_forecast"))
    assert set(health) == set(expected) == set(forecast)
    for q, e in expected.items():
        if e["win_rate"] is None:
            assert health[q] is None and forecast[q] is None
        else:
            assert health[q] == pytest.approx(e["win_rate"], **RATE), q
            assert forecast[q] == pytest.approx(e["win_rate"], **RATE), q


def test_overdue_share_per_quarter_and_overall(org) -> None:
    con, as_of = org
    expected = raw_quarters(con, as_of)
    got = {q: (share, amount) for q, share, amount in fetch(
        con, "select quarter, overdue_share, overdue_amount from m_pipeline_health")}
    for q, e in expected.items():
        share, amount = got[q]
        assert amount == pytest.approx(e["overdue_amount"], **MONEY)
        if e["overdue_share"] is None:
            assert share is None
        else:
            assert share == pytest.approx(e["overdue_share"], **RATE), q
    open_amount, overdue = fetch(con, f"""
        select coalesce(sum(amount) filter (where not is_closed), 0),
               coalesce(sum(amount) filter (where not is_closed and close_date < ?), 0)
        from ({LIVE_OPPS})""", as_of)[0]
    dash_share, dash_open = fetch(
        con, "select overdue_share, current_pipeline_value from a_executive_dashboard")[0]
    assert dash_open == pytest.approx(float(open_amount), **MONEY)
    if open_amount:
        assert dash_share == pytest.approx(float(overdue) / float(open_amount), **RATE)
    else:
        assert dash_share is None


def health_points(e: dict) -> tuple[int, str, str]:
    wr, share, avg, n = e["win_rate"], e["overdue_share"], e["avg"], e["n"]
    if wr is None:
        p1 = 10
    else:
        p1 = 25 if wr >= 0.30 else 20 if wr >= 0.20 else 15 if wr >= 0.10 else 10
    if share is None:
        p2 = 25
    else:
        p2 = 25 if share < 0.10 else 20 if share < 0.20 else 15 if share < 0.30 else 10
    if avg is None:
        p3 = 10
    else:
        p3 = 25 if avg >= 100_000 else 20 if avg >= 50_000 else 15 if avg >= 25_000 else 10
    p4 = 25 if n >= 100 else 20 if n >= 50 else 15 if n >= 25 else 10
    score = p1 + p2 + p3 + p4
    status = ("Excellent" if score >= 80 else "Good" if score >= 60
              else "Fair" if score >= 40 else "Poor")
    risk = ("High" if share is not None and share > 0.30
            else "Medium" if share is not None and share > 0.20 else "Low")
    return score, status, risk


def test_health_score_per_quarter(org) -> None:
    con, as_of = org
    expected = raw_quarters(con, as_of)
    got = {r[0]: r[1:] for r in fetch(con, """
        select quarter, pipeline_health_score, health_status, risk_level
        from m_pipeline_health""")}
    assert set(got) == set(expected)
    for q, e in expected.items():
        assert got[q] == health_points(e), q


def raw_history(con) -> dict[str, list[tuple]]:
    """History rows of live opportunities, per opportunity, ordered by created_date then id."""
    by_opp = defaultdict(list)
    for row in fetch(con, """
        select h.opportunity_id, h.id, h.stage_name, h.created_date, h.close_date, h.amount
        from salesforce.opportunity_history as h
        join salesforce.opportunity as o on o.id = h.opportunity_id
        where not coalesce(h.is_deleted, false) and not coalesce(o.is_deleted, false)
        order by h.opportunity_id, h.created_date, h.id
    """):
        by_opp[row[0]].append(row[1:])
    return by_opp


def test_avg_days_in_stage_per_stage(org) -> None:
    con, as_of = org
    closed_stages = {r[0] for r in fetch(
        con, "select api_name from salesforce.opportunity_stage where is_closed")}
    closed_stages = closed_stages or {"Closed Won", "Closed Lost"}
    is_open = dict(fetch(con, f"select id, not is_closed from ({LIVE_OPPS})"))
    completed: dict[str, list[int]] = defaultdict(list)
    ongoing: dict[str, list[int]] = defaultdict(list)
    for opp, history in raw_history(con).items():
        visits = []  # (stage, start date)
        for _id, stage, created, _close, _amount in history:
            if not visits or stage != visits[-1][0]:
                visits.append((stage, created.date()))
        for (stage, start), (_next_stage, next_start) in zip(visits, visits[1:], strict=False):
            if stage not in closed_stages:
                completed[stage].append((next_start - start).days)
        last_stage, last_start = visits[-1]
        if is_open[opp] and last_stage not in closed_stages:
            ongoing[last_stage].append((as_of - last_start).days)
    got = {r[0]: r[1:] for r in fetch(con, """
        select dimension, completed_visits, avg_days_in_stage, ongoing_visits,
               avg_days_in_stage_so_far
        from m_deal_velocity_analysis where metric_type = 'stage_velocity'""")}
    assert set(got) == set(completed) | set(ongoing)
    for stage, (n, avg, n_ongoing, avg_so_far) in got.items():
        days = completed.get(stage, [])
        assert n == len(days), stage
        if days:
            assert avg == pytest.approx(sum(days) / len(days), **DAYS), stage
        else:
            assert avg is None
        so_far = ongoing.get(stage, [])
        assert n_ongoing == len(so_far), stage
        if so_far:
            assert avg_so_far == pytest.approx(sum(so_far) / len(so_far), **DAYS), stage


def raw_slippage(con) -> tuple[dict, dict, dict]:
    """metrics.md slippage from the raw history, per (fiscal = calendar here) quarter.

    The deals dated in each quarter (on any history row or now), each slipped deal's amount on
    its first push out of the quarter, and the days of every push out, per deal.
    """
    in_quarter: dict[date, set] = defaultdict(set)
    for opp, close in fetch(con, f"select id, close_date from ({LIVE_OPPS})"):
        in_quarter[quarter_of(close)].add(opp)
    slipped: dict[date, dict[str, float]] = defaultdict(dict)  # deal → first push amount
    slip_days: dict[date, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for opp, history in raw_history(con).items():
        previous = None
        for _id, _stage, _created, close, amount in history:
            if close is not None:
                in_quarter[quarter_of(close)].add(opp)
            if previous is not None and close is not None and close > previous:
                old_q = quarter_of(previous)
                if quarter_of(close) > old_q:  # slips out of the old date's quarter
                    slipped[old_q].setdefault(opp, float(amount or 0))
                    slip_days[old_q][opp].append((close - previous).days)
            previous = close
    return in_quarter, slipped, slip_days


def test_deals_slipped_and_slipped_amount_per_quarter(org) -> None:
    con, _ = org
    in_quarter, slipped, by_deal = raw_slippage(con)
    slip_days = {q: [d for days in deals.values() for d in days] for q, deals in by_deal.items()}
    got = {r[0]: r[1:] for r in fetch(con, """
        select quarter, deals_slipped, slipped_amount, avg_slip_days, deals_in_quarter,
               slippage_rate
        from m_slippage_impact_quarter""")}
    assert set(got) == set(in_quarter)
    assert any(slipped.values()), "the org should have slipped deals"
    for q, (n, amount, avg_days, denominator, rate) in got.items():
        deals = slipped.get(q, {})
        assert n == len(deals), q
        assert amount == pytest.approx(sum(deals.values()), **MONEY), q
        assert denominator == len(in_quarter[q]), q
        assert rate == pytest.approx(len(deals) / len(in_quarter[q]), **RATE), q
        if slip_days.get(q):
            assert avg_days == pytest.approx(sum(slip_days[q]) / len(slip_days[q]), **DAYS)
        else:
            assert avg_days is None



def test_days_in_current_stage_per_open_deal(org) -> None:
    """fct_opportunity.days_in_current_stage: as-of date − start of the visit an open deal is in."""
    con, as_of = org
    closed_stages = {r[0] for r in fetch(
        con, "select api_name from salesforce.opportunity_stage where is_closed")}
    closed_stages = closed_stages or {"Closed Won", "Closed Lost"}
    is_open = dict(fetch(con, f"select id, not is_closed from ({LIVE_OPPS})"))
    expected: dict[str, int | None] = dict.fromkeys(is_open)
    for opp, history in raw_history(con).items():
        stage, start = None, None
        for _id, row_stage, created, _close, _amount in history:
            if row_stage != stage:
                stage, start = row_stage, created.date()
        if is_open.get(opp) and stage not in closed_stages:
            expected[opp] = (as_of - start).days
    got = dict(fetch(con, "select opportunity_id, days_in_current_stage from fct_opportunity"))
    assert got == expected
    assert any(v is not None and v >= 60 for v in got.values()), "some deals sit 60+ days"


def test_slippage_per_deal_and_quarter_by_segment(org) -> None:
    """fct_quarter_slippage grouped by the deal's country gives metrics.md slippage per country."""
    con, _ = org
    country = dict(fetch(con, f"""
        select o.id, a.billing_country from ({LIVE_OPPS}) o
        left join salesforce.account a
          on a.id = o.account_id and not coalesce(a.is_deleted, false)"""))
    in_quarter, slipped, by_deal = raw_slippage(con)
    expected = {}
    for q, deals in in_quarter.items():
        for c in {country[d] for d in deals}:
            base = [d for d in deals if country[d] == c]
            out = {d: a for d, a in slipped.get(q, {}).items() if country[d] == c}
            days = [d for opp, ds in by_deal.get(q, {}).items() if country[opp] == c
                    for d in ds]
            expected[q, c] = (len(base), len(out), sum(out.values()),
                              sum(days) / len(days) if days else None)
    got = {(r[0], r[1]): r[2:] for r in fetch(con, """
        select quarter, billing_country, count(*),
               sum(case when is_slipped then 1 else 0 end),
               coalesce(sum(slipped_amount), 0),
               sum(slip_days_out)::double / nullif(sum(pushes_out), 0)
        from fct_quarter_slippage group by 1, 2""")}
    assert set(got) == set(expected)
    for key, (n, n_slipped, amount, avg_days) in got.items():
        want = expected[key]
        assert (n, n_slipped) == want[:2], key
        assert float(amount) == pytest.approx(want[2], **MONEY), key
        if want[3] is None:
            assert avg_days is None, key
        else:
            assert avg_days == pytest.approx(want[3], **DAYS), key
    assert any(v[1] for v in got.values()), "the org should have slipped deals"


def test_actual_revenue_per_month(org) -> None:
    con, as_of = org
    won = {m: float(v) for m, v in fetch(con, f"""
        select date_trunc('month', close_date)::date, sum(amount)
        from ({LIVE_OPPS}) where is_won group by 1""")}
    rows = fetch(con, "select month, actual_revenue, is_partial_month from m_revenue_forecasting "
                      "order by month")
    as_of_month = month_of(as_of)
    assert [r[0] for r in rows] == [add_months(as_of_month, k) for k in range(-24, 7)]
    for month, actual, partial in rows:
        assert partial == (month == as_of_month)
        if month > as_of_month:
            assert actual is None
        else:
            assert actual == pytest.approx(won.get(month, 0.0), **MONEY), month


def test_weighted_pipeline_per_month(org) -> None:
    con, as_of = org
    weighted = {m: float(v) for m, v in fetch(con, f"""
        select date_trunc('month', close_date)::date, sum(amount * probability / 100.0)
        from ({LIVE_OPPS}) where not is_closed group by 1""")}
    as_of_month = month_of(as_of)
    for month, pipeline in fetch(
        con, "select month, pipeline_forecast from m_revenue_forecasting order by month"
    ):
        if month < as_of_month:
            assert pipeline is None
        else:
            assert pipeline == pytest.approx(weighted.get(month, 0.0), **MONEY), month


def test_overall_window_win_rates_and_qtd_revenue(org) -> None:
    con, as_of = org
    start = add_months(quarter_of(as_of), -12)
    won, closed, qtd = fetch(con, f"""
        select count(*) filter (where is_won and close_date between ? and ?),
               count(*) filter (where is_closed and close_date between ? and ?),
               coalesce(sum(amount) filter (where is_won and close_date between ? and ?), 0)
        from ({LIVE_OPPS})""", start, as_of, start, as_of, quarter_of(as_of), as_of)[0]
    dash_rate, dash_qtd = fetch(
        con, "select overall_win_rate, qtd_won_revenue from a_executive_dashboard")[0]
    assert dash_rate == pytest.approx(won / closed, **RATE)
    assert dash_qtd == pytest.approx(float(qtd), **MONEY)
    by_owner = {o: (w, c) for o, w, c in fetch(con, f"""
        select owner_id, count(*) filter (where is_won), count(*)
        from ({LIVE_OPPS})
        where is_closed and close_date between ? and ?
        group by owner_id""", start, as_of)}
    got = {o: (w, lost, rate) for o, w, lost, rate in fetch(
        con, "select owner_id, won_count, lost_count, win_rate from a_win_rate_by_owner")}
    assert set(got) == set(by_owner)
    for owner, (w, c) in by_owner.items():
        assert got[owner][:2] == (w, c - w)
        assert got[owner][2] == pytest.approx(w / c, **RATE)
