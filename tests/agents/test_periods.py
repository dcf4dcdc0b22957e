import datetime as dt

import pytest

from agents.periods import (
    cuts_grain,
    find_periods,
    overall_window,
    parse_period,
    previous,
    quarter_key,
    widen_to_grain,
)

A = dt.date(2026, 11, 15)
D = dt.date

CASES = [
    ("this quarter", D(2026, 10, 1), D(2026, 12, 31)),
    ("current quarter", D(2026, 10, 1), D(2026, 12, 31)),
    ("last quarter", D(2026, 7, 1), D(2026, 9, 30)),
    ("previous quarter", D(2026, 7, 1), D(2026, 9, 30)),
    ("next quarter", D(2027, 1, 1), D(2027, 3, 31)),
    ("Q3", D(2026, 7, 1), D(2026, 9, 30)),
    ("Q3 2025", D(2025, 7, 1), D(2025, 9, 30)),
    ("2025-Q3", D(2025, 7, 1), D(2025, 9, 30)),
    ("q1'26", D(2026, 1, 1), D(2026, 3, 31)),
    ("this month", D(2026, 11, 1), D(2026, 11, 30)),
    ("last month", D(2026, 10, 1), D(2026, 10, 31)),
    ("QTD", D(2026, 10, 1), A),
    ("quarter to date", D(2026, 10, 1), A),
    ("MTD", D(2026, 11, 1), A),
    ("YTD", D(2026, 1, 1), A),
    ("last 30 days", D(2026, 10, 17), A),
    ("last 3 months", D(2026, 8, 1), D(2026, 10, 31)),
    ("last 2 quarters", D(2026, 4, 1), D(2026, 9, 30)),
    ("in 2025", D(2025, 1, 1), D(2025, 12, 31)),
    ("since 2026-03-01", D(2026, 3, 1), A),
    ("since March 2026", D(2026, 3, 1), A),
    ("revnue forcast nxt month", D(2026, 12, 1), D(2026, 12, 31)),
    ("last qtr", D(2026, 7, 1), D(2026, 9, 30)),
    ("January 2027", D(2027, 1, 1), D(2027, 1, 31)),
]


@pytest.mark.parametrize(("text", "start", "end"), CASES)
def test_periods_resolve_against_the_as_of_date(text, start, end):
    period = parse_period(text, A)
    assert period is not None, text
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["win rate", "top 5 deals", "what may happen", "Jan's deals",
                                  "how is Mark doing", "pipeline health"])
def test_no_period_where_none_is_named(text):
    assert parse_period(text, A) is None


def test_fiscal_year_starting_in_february():
    period = parse_period("this quarter", A, fiscal_year_start_month=2)
    # a fiscal quarter says so: "Q4 FY2027", never a calendar-looking "Q4 2027"
    assert (period.start, period.end, period.label) == (D(2026, 11, 1), D(2027, 1, 31),
                                                        "Q4 FY2027")
    assert quarter_key(D(2026, 2, 1), 2) == "2027-Q1"
    assert parse_period("Q1", A, fiscal_year_start_month=2).start == D(2026, 2, 1)
    assert parse_period("Q1 FY27", A, fiscal_year_start_month=2).start == D(2026, 2, 1)
    nxt = parse_period("next fiscal quarter", A, fiscal_year_start_month=2)
    assert (nxt.start, nxt.label) == (D(2027, 2, 1), "Q1 FY2028")
    half = parse_period("H1 FY2027", A, fiscal_year_start_month=2)
    assert (half.start, half.end, half.label) == (D(2026, 2, 1), D(2026, 7, 31), "H1 FY2027")


def test_overall_window_and_previous():
    window = overall_window(A)
    assert (window.start, window.end) == (D(2025, 10, 1), A)
    assert previous(parse_period("Q1 2026", A)).label == "Q4 2025"


def test_two_periods_in_order():
    labels = [m.period.label for m in find_periods("Q3 2026 vs Q2 2026", A)]
    assert labels == ["Q3 2026", "Q2 2026"]


def test_a_quarter_named_alone_is_the_most_recent_one_that_has_started():
    march = D(2026, 3, 20)  # early in FY2027 of an org whose year starts in February
    q3 = parse_period("Q3", march, fiscal_year_start_month=2)
    assert (q3.start, q3.label) == (D(2025, 8, 1), "Q3 FY2026")
    q1 = parse_period("Q1", march, fiscal_year_start_month=2)
    assert (q1.start, q1.label) == (D(2026, 2, 1), "Q1 FY2027")
    # a year named keeps its quarter, in the future or not
    assert parse_period("Q3 FY2027", march, fiscal_year_start_month=2).start == D(2026, 8, 1)


def test_a_fiscal_quarter_is_whole_for_a_model_of_fiscal_quarters():
    q1 = parse_period("this quarter", D(2026, 3, 20), fiscal_year_start_month=2)
    assert not cuts_grain("quarter", q1, 2)
    assert widen_to_grain("quarter", q1, 2) == q1
    march = parse_period("March 2026", D(2026, 3, 20), fiscal_year_start_month=2)
    wider = widen_to_grain("quarter", march, 2)
    assert (wider.start, wider.end) == (D(2026, 2, 1), D(2026, 4, 30))
    assert "the quarter holding Mar 2026" in wider.label
