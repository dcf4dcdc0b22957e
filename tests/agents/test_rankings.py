"""Rankings ("which stage is our bottleneck?") list every row and show the deals behind the
first one; follow-ups can move the period relative to the previous turn.

Expectations are SQL on the raw `salesforce` tables, never the models' own output.
"""

from __future__ import annotations

import uuid

import pytest

LIVE_OPEN = "not o.is_deleted and not o.is_closed"




def test_bottleneck_ranks_the_bottleneck_stages_and_lists_the_deals_in_the_first(assistant, raw
                                                                               ) -> None:
    out = assistant.ask("which stage is our bottleneck?", thread_id=uuid.uuid4().hex)
    assert out["error"] is None
    stages = [r[0] for r in out["rows"]]
    days = [r[out["columns"].index("avg_days_in_stage")] for r in out["rows"]]
    assert stages and all(d > 30 for d in days), "a bottleneck averages over 30 days"
    assert days == sorted(days, reverse=True)
    top = stages[0]
    assert top in out["answer"]
    records = out["records"]
    assert records and records["title"] == f"the deals behind {top}"
    cols = records["columns"]
    assert {r[cols.index("stage_name")] for r in records["rows"]} == {top}
    expected = [float(a) for (a,) in raw.execute(
        f"select o.amount from salesforce.opportunity o where {LIVE_OPEN} "
        f"and o.stage_name = ? order by o.amount desc nulls last limit 10", [top]).fetchall()]
    assert [float(r[cols.index("amount")]) for r in records["rows"]] == expected


def test_best_rep_is_a_ranking_with_the_reps_closed_deals_in_the_window(assistant, raw) -> None:
    out = assistant.ask("who is our best rep?", thread_id=uuid.uuid4().hex)
    assert out["error"] is None and out["rows"], out["answer"]
    assert "win_rate" in out["columns"]
    top = out["rows"][0][0]
    rates = [r[out["columns"].index("win_rate")] for r in out["rows"]]
    assert rates == sorted(rates, reverse=True)
    expected_rate = raw.execute(
        "select count(*) filter (where o.is_won)::double / count(*) from salesforce.opportunity o "
        "join salesforce.user u on u.id = o.owner_id where not o.is_deleted and o.is_closed "
        "and o.close_date between date '2025-10-01' and date '2026-11-15' and u.name = ?",
        [top]).fetchone()[0]
    assert rates[0] == pytest.approx(expected_rate, abs=1e-6)
    records = out["records"]
    cols = records["columns"]
    assert {r[cols.index("owner_name")] for r in records["rows"]} == {top}
    expected = [float(a) for (a,) in raw.execute(
        "select o.amount from salesforce.opportunity o join salesforce.user u "
        "on u.id = o.owner_id where not o.is_deleted and o.is_closed and u.name = ? "
        "and o.close_date between date '2025-10-01' and date '2026-11-15' "
        "order by o.amount desc nulls last limit 10", [top]).fetchall()]
    assert [float(r[cols.index("amount")]) for r in records["rows"]] == expected


@pytest.mark.parametrize(("follow_up", "start", "end"), [
    ("and the quarter before?", "2026-01-01", "2026-03-31"),
    ("the quarter after?", "2026-07-01", "2026-09-30"),
    ("and the month before?", "2026-03-01", "2026-03-31"),
])
def test_a_follow_up_moves_the_period_relative_to_the_last_turn(assistant, raw, follow_up,
                                                                start, end) -> None:
    thread = uuid.uuid4().hex
    first = assistant.ask("What was our win rate in Q2 2026?", thread_id=thread)
    assert first["error"] is None
    out = assistant.ask(follow_up, thread_id=thread)
    expected = raw.execute(
        "select count(*) filter (where is_won)::double / count(*) from salesforce.opportunity "
        f"where not is_deleted and is_closed and close_date between date '{start}' "
        f"and date '{end}'").fetchone()[0]
    assert out["rows"][0][out["columns"].index("win_rate")] == pytest.approx(expected, abs=1e-6)


def test_a_quarter_only_figure_asked_for_a_month_says_which_quarter_it_is(assistant) -> None:
    out = assistant.ask("pipeline health in March 2026", thread_id=uuid.uuid4().hex)
    assert out["error"] is None
    assert "Q1 2026" in out["answer"] and "by quarter" in out["answer"]
    assert "pipeline health score in Mar 2026" not in out["answer"].lower()


@pytest.mark.parametrize(("question", "where"), [
    ("what is our weighted pipeline this quarter?", "not o.is_closed"),
    ("how much revenue did we close last quarter?", "o.is_won"),
])
def test_the_deals_behind_a_figure_are_the_ones_it_counts(assistant, raw, question, where
                                                          ) -> None:
    out = assistant.ask(question, thread_id=uuid.uuid4().hex)
    records = out["records"]
    assert records and records["rows"], out["answer"]
    quarter = ("date '2026-10-01'", "date '2026-12-31'") if "this" in question else \
        ("date '2026-07-01'", "date '2026-09-30'")
    expected = [float(a) for (a,) in raw.execute(
        f"select o.amount from salesforce.opportunity o where not o.is_deleted and {where} "
        f"and o.close_date between {quarter[0]} and {quarter[1]} "
        f"order by o.amount desc nulls last limit 10").fetchall()]
    cols = records["columns"]
    assert [float(r[cols.index("amount")]) for r in records["rows"]] == expected
