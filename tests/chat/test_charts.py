"""Chart building: each result shape gets the chart the issue names, or none."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import plotly.io as pio
import pytest

from whizzy.chat.charts import BOTTLENECK_DAYS, chart_figure, infer_kind

TREND = (
    ["quarter_label", "win_rate"],
    [["2026-Q1", 0.28], ["2025-Q4", 0.31], ["2026-Q2", 0.25], ["2026-Q3", 0.3]],
)
RANKING = (
    ["owner_name", "win_rate", "won_count"],
    [["Ana Ruiz", 0.52, 13], ["Bo Chen", 0.47, 9], ["Cy Diaz", 0.41, 7]],
)
SHARE_LONG = (
    ["quarter_label", "outcome", "deal_count"],
    [["2026-Q2", "won", 40], ["2026-Q2", "lost", 60], ["2026-Q3", "won", 35],
     ["2026-Q3", "lost", 50]],
)
FORECAST = (
    ["month_label", "actual_revenue", "combined_forecast", "forecast_lower", "forecast_upper"],
    [["2026-10", 900_000, 880_000, 700_000, 1_060_000],
     ["2026-11", None, 910_000, 720_000, 1_100_000],
     ["2026-12", None, 950_000, 740_000, 1_160_000]],
)
STAGES = (
    ["stage_name", "stage_sort_order", "avg_days_in_stage"],
    [["Negotiation/Review", 8, 12.5], ["Prospecting", 1, 21.0],
     ["Needs Analysis", 3, decimal.Decimal("44.2")], ["Qualification", 2, 35.1]],
)


def _types(fig):
    return [t.type for t in fig.data]


def test_trend_is_a_line_in_time_order():
    fig = chart_figure(*TREND, {"kind": "line", "x": "quarter_label", "y": "win_rate"})
    assert _types(fig) == ["scatter"]
    assert "lines" in fig.data[0].mode
    assert list(fig.data[0].x) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert list(fig.data[0].y) == [0.31, 0.28, 0.25, 0.3]
    assert fig.layout.yaxis.tickformat == ".0%"


def test_trend_with_a_series_column_draws_one_line_each():
    cols = ["quarter_label", "industry", "win_rate"]
    rows = [["2026-Q1", "Banking", 0.3], ["2026-Q2", "Banking", 0.35],
            ["2026-Q1", "Retail", 0.2], ["2026-Q2", "Retail", 0.22]]
    fig = chart_figure(cols, rows, {"kind": "trend"})
    assert _types(fig) == ["scatter", "scatter"]
    assert sorted(t.name for t in fig.data) == ["Banking", "Retail"]


def test_ranking_is_a_bar_keeping_the_query_order():
    fig = chart_figure(*RANKING, {"kind": "bar", "x": "owner_name", "y": "win_rate"})
    assert _types(fig) == ["bar"]
    assert list(fig.data[0].x) == ["Ana Ruiz", "Bo Chen", "Cy Diaz"]
    assert list(fig.data[0].y) == [0.52, 0.47, 0.41]


def test_long_rankings_turn_horizontal_and_are_capped():
    rows = [[f"Owner number {i}", 1000 * (40 - i)] for i in range(40)]
    fig = chart_figure(["owner_name", "won_amount"], rows, {"kind": "ranking"})
    assert fig.data[0].orientation == "h"
    assert len(fig.data[0].y) == 25
    assert fig.layout.xaxis.tickprefix == "$"


def test_share_is_a_stacked_bar_long_or_wide():
    fig = chart_figure(*SHARE_LONG, {"kind": "share"})
    assert _types(fig) == ["bar", "bar"]
    assert fig.layout.barmode == "stack"
    wide = chart_figure(["industry", "won_amount", "lost_amount"],
                        [["Banking", 10, 5], ["Retail", 7, 9]], {"kind": "stacked_bar"})
    assert _types(wide) == ["bar", "bar"] and wide.layout.barmode == "stack"


def test_forecast_draws_the_interval_as_a_band():
    fig = chart_figure(*FORECAST, {"kind": "forecast", "x": "month_label"})
    fills = [t.fill for t in fig.data]
    assert "tonexty" in fills
    band = fig.data[fills.index("tonexty")]
    assert list(band.y) == [1_060_000, 1_100_000, 1_160_000]
    lower = fig.data[fills.index("tonexty") - 1]
    assert list(lower.y) == [700_000, 720_000, 740_000]
    names = [t.name for t in fig.data]
    assert "Actual revenue" in names and "Combined forecast" in names
    dashed = next(t for t in fig.data if t.name == "Combined forecast")
    assert dashed.line.dash == "dash"


def test_stage_durations_are_horizontal_with_the_bottleneck_line():
    fig = chart_figure(*STAGES, {"kind": "stage_durations"})
    bar = fig.data[0]
    assert bar.type == "bar" and bar.orientation == "h"
    assert list(bar.y) == ["Prospecting", "Qualification", "Needs Analysis",
                           "Negotiation/Review"]  # stage order, not row order
    assert list(bar.x) == [21.0, 35.1, 44.2, 12.5]
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and lines[0].x0 == lines[0].x1 == BOTTLENECK_DAYS
    colors = list(bar.marker.color)
    assert colors[1] != colors[0] and colors[2] == colors[1]  # over 30 days stand out


@pytest.mark.parametrize(
    ("columns", "rows", "kind"),
    [(*TREND, "line"), (*RANKING, "bar"), (*FORECAST, "forecast"), (*STAGES, "stage_durations")],
)
def test_the_shape_decides_when_the_suggestion_names_no_kind(columns, rows, kind):
    from whizzy.chat.charts import to_frame

    assert infer_kind(to_frame(columns, rows)) == kind
    assert chart_figure(columns, rows, {}) is not None
    assert chart_figure(columns, rows, {"kind": "sparkline"}) is not None


def test_no_suggestion_means_no_chart():
    """The agent leaves record lists and single figures without a chart."""
    assert chart_figure(*RANKING, None) is None


def test_a_suggestion_naming_missing_columns_falls_back_to_the_shape():
    fig = chart_figure(*RANKING, {"kind": "line", "x": "nope", "y": "nada"})
    assert _types(fig) == ["bar"]


@pytest.mark.parametrize(
    ("columns", "rows"),
    [
        (["win_rate"], [[0.31]]),  # a single number
        (["owner_name", "email"], [["Ana", "a@x"], ["Bo", "b@x"]]),  # text only
        (["owner_name", "win_rate"], []),  # empty
        ([], []),
    ],
)
def test_no_chart_when_there_is_nothing_to_see(columns, rows):
    assert chart_figure(columns, rows, {}) is None


def test_explicit_no_chart_suggestion_is_respected():
    assert chart_figure(*RANKING, {"kind": "none"}) is None


def test_figures_serialise_as_plain_json_for_the_browser():
    rows = [[dt.date(2026, 7, 1), decimal.Decimal("0.3")], [dt.date(2026, 10, 1), 0.35]]
    fig = chart_figure(["quarter", "win_rate"], rows, {"kind": "line"})
    data = json.loads(pio.to_json(fig, validate=True))
    assert data["data"][0]["x"] == ["2026-07-01", "2026-10-01"]
    assert data["data"][0]["y"] == [0.3, 0.35]  # plain lists, not base64 typed arrays


@pytest.mark.parametrize(
    ("suggestion", "check"),
    [
        ({"kind": "bar", "x": "owner_name", "y": "win_rate", "unit": "percent"},
         lambda f: f.data[0].type == "bar"),
        ({"kind": "line", "x": "quarter_label", "y": "win_rate"},
         lambda f: f.data[0].type == "scatter"),
        ({"kind": "line_band", "x": "month_label", "y": "combined_forecast",
          "lower": "forecast_lower", "upper": "forecast_upper"},
         lambda f: "tonexty" in [t.fill for t in f.data]),
        ({"kind": "hbar", "x": "stage_name", "y": "avg_days_in_stage", "threshold": 30},
         lambda f: f.data[0].orientation == "h" and len(f.layout.shapes) == 1),
    ],
)
def test_the_suggestions_the_agents_make(suggestion, check):
    data = {"bar": RANKING, "line": TREND, "line_band": FORECAST, "hbar": STAGES}
    assert check(chart_figure(*data[suggestion["kind"]], suggestion))


def test_the_forecast_band_stops_at_zero_dollars():
    columns, rows = FORECAST
    low = [[m, a, f, lower - 1_000_000, upper] for m, a, f, lower, upper in rows]
    fig = chart_figure(columns, low, {"kind": "forecast", "x": "month_label"})
    fills = [t.fill for t in fig.data]
    lower = fig.data[fills.index("tonexty") - 1]
    assert list(lower.y) == [0.0, 0.0, 0.0]


def test_charts_have_no_background_of_their_own():
    for columns, rows, spec in ((*FORECAST, {"kind": "forecast", "x": "month_label"}),
                                (*STAGES, {"kind": "hbar"})):
        fig = chart_figure(columns, rows, spec)
        assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"
        assert fig.layout.plot_bgcolor == "rgba(0,0,0,0)"
