"""The picture of every figure: KPI cards, the summary's cards, components, forecast, ranking."""

from __future__ import annotations

from whizzy.chat.charts import chart_figure
from whizzy.chat.pictures import answer_figure


def _texts(fig):
    return [a.text for a in fig.layout.annotations]


def _result(purpose, columns, rows, *, headline=None, units=None, period=None, labels=None):
    return {"purpose": purpose, "model": "m", "columns": columns, "rows": rows,
            "headline": headline, "units": units or {}, "period_label": period,
            "labels": labels or {}, "error": None}


WIN_RATE = {"status": "answered", "intent": "analytics", "columns": ["quarter_label", "win_rate"],
            "rows": [["2026-Q3", 0.357]], "chart": None}
MAIN = _result("main", ["quarter_label", "win_rate"], [["2026-Q3", 0.357]],
               headline="win_rate", units={"win_rate": "percent"}, period="Q3 2026",
               labels={"win_rate": "win rate"})
PREVIOUS = _result("previous", ["quarter_label", "win_rate"], [["2026-Q2", 0.291]],
                   headline="win_rate", units={"win_rate": "percent"}, period="Q2 2026")
SERIES = _result("series", ["quarter_label", "win_rate", "quarter"],
                 [["2026-Q3", 0.357, "2026-07-01"], ["2026-Q2", 0.291, "2026-04-01"],
                  ["2026-Q1", 0.323, "2026-01-01"]], headline="win_rate",
                 units={"win_rate": "percent"})


def test_a_single_figure_is_a_card_with_period_change_and_trend():
    fig = answer_figure(WIN_RATE, [MAIN, PREVIOUS, SERIES])
    texts = _texts(fig)
    assert texts[:3] == ["Win rate", "35.7%", "Q3 2026"]
    assert "+6.6 pts vs Q2 2026 (29.1%)" in texts  # both numbers from the queries
    (trend,) = fig.data
    assert list(trend.x) == ["2026-Q1", "2026-Q2", "2026-Q3"]  # oldest first
    assert list(trend.y) == [0.323, 0.291, 0.357]


def test_a_card_without_the_period_before_says_nothing_of_a_change():
    fig = answer_figure(WIN_RATE, [MAIN, SERIES])
    assert not any(" vs " in t for t in _texts(fig))
    empty = {**PREVIOUS, "rows": [["2026-Q2", None]]}
    assert not any(" vs " in t for t in _texts(answer_figure(WIN_RATE, [MAIN, empty])))
    failed = {**PREVIOUS, "error": "The query failed: x", "rows": []}
    assert not any(" vs " in t for t in _texts(answer_figure(WIN_RATE, [MAIN, failed])))


def test_a_text_figure_or_a_refusal_gets_no_card():
    status = _result("main", ["health_status"], [["Good"]], headline="health_status",
                     units={"health_status": "text"})
    assert answer_figure({**WIN_RATE, "columns": ["health_status"], "rows": [["Good"]]},
                         [status]) is None
    assert answer_figure({"status": "refused", "columns": [], "rows": []}, []) is None


def test_the_executive_summary_is_cards_with_caption_and_change():
    columns = ["qtd_won_revenue", "overdue_share", "key_insight"]
    main = _result("main", columns, [[1_158_300.0, 0.36, "text"]],
                   units={"qtd_won_revenue": "currency", "overdue_share": "percent",
                          "key_insight": "text"},
                   labels={"qtd_won_revenue": "won revenue, quarter to date",
                           "overdue_share": "overdue open deals, share of all open pipeline now"})
    previous = _result("previous", ["qtd_won_revenue"], [[1_252_800.0]],
                       units={"qtd_won_revenue": "currency"},
                       labels={"qtd_won_revenue": "the same days of last quarter"})
    result = {"status": "answered", "intent": "briefing", "columns": columns,
              "rows": main["rows"], "as_of_date": "2026-11-15"}
    fig = answer_figure(result, [main, previous])
    texts = _texts(fig)
    assert texts[:4] == ["Won revenue", "$1.16M", "quarter to date",
                         "-$94.5K vs the same days of last quarter ($1.25M)"]
    assert texts[4:7] == ["Overdue open deals", "36.0%", "share of all open pipeline now"]
    assert "text" not in texts
    assert sum(" vs " in t for t in texts) == 1  # no previous value, no change
    assert fig.layout.title.text == "Executive summary as of Nov 15, 2026"


def test_the_health_score_shows_four_components_out_of_the_scale():
    columns = ["quarter_label", "pipeline_health_score", "win_rate_points", "overdue_points",
               "deal_size_points", "volume_points"]
    result = {"status": "answered", "intent": "analytics", "columns": columns,
              "rows": [["2026-Q4", 85, 20, 20, 20, 25]],
              "chart": {"kind": "components", "scale": 25, "y": "pipeline_health_score",
                        "parts": columns[2:]}}
    fig = answer_figure(result, [])
    scale, points = fig.data
    assert list(points.x) == [20, 20, 20, 25] and list(scale.x) == [25] * 4
    assert list(points.y) == ["Win rate", "Overdue", "Deal size", "Volume"]
    assert list(points.text) == ["20 / 25", "20 / 25", "20 / 25", "25 / 25"]
    assert fig.layout.xaxis.range[0] == 0 and fig.layout.xaxis.range[1] >= 25


def test_a_forecast_draws_its_series_actuals_then_months_ahead_band_from_zero():
    columns = ["month_label", "combined_forecast", "forecast_lower", "forecast_upper",
               "actual_revenue", "month"]
    rows = [["2026-10", 1.4e6, -2.6e5, 3.1e6, 6.9e5, "2026-10-01"],
            ["2026-11", 1.4e6, -2.6e5, 3.1e6, 4.7e5, "2026-11-01"],
            ["2026-12", 2.6e6, 9.1e5, 4.3e6, None, "2026-12-01"],
            ["2027-01", 9.2e5, -7.7e5, 2.6e6, None, "2027-01-01"]]
    series = _result("series", columns, rows)
    result = {"status": "answered", "intent": "analytics", "columns": ["total"],
              "rows": [[3.3e6]], "chart": None}
    fig = answer_figure(result, [_result("main", ["total"], [[3.3e6]]), series])
    names = [t.name for t in fig.data]
    actual = fig.data[names.index("Actual revenue")]
    assert list(actual.x) == ["2026-10", "2026-11", "2026-12", "2027-01"]
    assert list(actual.y)[:2] == [6.9e5, 4.7e5] and list(actual.y)[2:] == [None, None]
    lower = fig.data[[t.fill for t in fig.data].index("tonexty") - 1]
    assert min(lower.y) == 0.0  # the band stops at $0


RANKED = (["owner_name", "win_rate", "sample_size"],
          [["Ana Ruiz", 0.58, 12], ["Bo Chen", 0.5, 40], ["Cy Diaz", 0.37, 19]])


def test_a_ranked_rate_shows_each_sample_and_marks_the_thin_ones():
    fig = chart_figure(*RANKED, {"kind": "bar", "x": "owner_name", "y": "win_rate",
                                 "sample": "sample_size", "min_sample": 20,
                                 "sample_label": "closed deals"})
    (bar,) = fig.data
    assert bar.orientation == "h"
    assert list(bar.text) == ["n = 12 · thin sample", "n = 40", "n = 19 · thin sample"]
    assert list(bar.marker.pattern.shape) == ["/", "", "/"]
    assert "fewer than 20 closed deals" in _texts(fig)[0]


def test_a_ranking_without_a_declared_sample_marks_nothing():
    fig = chart_figure(*RANKED, {"kind": "bar", "x": "owner_name", "y": "win_rate"})
    assert not fig.data[0].text and not fig.layout.annotations
