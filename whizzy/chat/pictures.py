"""The picture of an answer: a chart of its result, or a card for a figure that stands alone.

One entry point, `answer_figure(result, results)`, over the answer object and the query
results behind it (`agents.executor` dicts, each with its `purpose`):

- a **single figure** is a KPI card: the figure, its period, its change against the period
  before (the planner's ``previous`` query) and a small trend (its ``series`` query); with no
  value for the period before, the card has no change and says nothing about one;
- the **executive summary** is a row of such cards, one per figure, each captioned with its
  period and scope (the catalog's ``caption``), the change from the ``previous`` query;
- a **score** (the health score) shows its components, each out of the model's points scale;
- a **forecast** draws its ``series`` query: the actuals, then the months ahead, the band
  stopping at $0;
- anything else is `whizzy.chat.charts.chart_figure` of the main result.

Every number drawn comes from a query result; nothing is computed here but its layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from whizzy.chat.charts import (
    ACTUAL_INK,
    PALETTE,
    _is_time,
    chart_figure,
    plain_figure,
    to_frame,
)
from whizzy.core.cells import label_of
from whizzy.core.formatting import format_change, format_date, format_value

#: Cards a row of the executive summary holds.
CARDS_PER_ROW = 3


def _first(results: Sequence[Mapping[str, Any]], *purposes: str) -> Mapping[str, Any] | None:
    return next((r for r in results if r.get("purpose") in purposes and not r.get("error")
                 and r.get("rows")), None)


def _row(result: Mapping[str, Any], index: int = 0) -> dict[str, Any]:
    row = result["rows"][index]
    if isinstance(row, Mapping):
        return dict(row)
    return dict(zip(result["columns"], row, strict=False))


def change_text(now: Any, before: Any, unit: str | None, period: str | None) -> str | None:
    """The change of a figure against the period before, in the unit's terms (None: no value).

    >>> change_text(0.31, 0.29, "percent", "Q3 2026")
    '+2.0 pts vs Q3 2026 (29.0%)'
    >>> change_text(1_200_000, None, "currency", "Q3 2026") is None
    True
    """
    if now is None or before is None:
        return None
    text = f"{format_change(float(now) - float(before), unit)} vs {period or 'the period before'}"
    return f"{text} ({format_value(before, unit)})"


def _card(fig: go.Figure, *, x: tuple[float, float], y: tuple[float, float], title: str,
          value: Any, unit: str | None, period: str | None, change: str | None,
          trend: tuple[list[Any], list[Any]] | None = None, axis: int = 1) -> None:
    """One card drawn into `fig`: the figure, what and when it is, its change and trend."""
    middle = (x[0] + x[1]) / 2
    height = y[1] - y[0]
    fig.add_annotation(text=title, x=middle, y=y[1], xref="paper", yref="paper",
                       xanchor="center", yanchor="top", showarrow=False,
                       font={"size": 13}, name="kpi-title")
    fig.add_annotation(text=format_value(value, unit), x=middle, y=y[1] - 0.22 * height,
                       xref="paper", yref="paper", xanchor="center", yanchor="top",
                       showarrow=False, font={"size": 30}, name="kpi-value")
    if period:
        fig.add_annotation(text=period, x=middle, y=y[1] - 0.55 * height, xref="paper",
                           yref="paper", xanchor="center", yanchor="top", showarrow=False,
                           font={"size": 12}, name="kpi-period")
    if change:
        fig.add_annotation(text=change, x=middle, y=y[1] - 0.68 * height, xref="paper",
                           yref="paper", xanchor="center", yanchor="top", showarrow=False,
                           font={"size": 11, "color": ACTUAL_INK}, name="kpi-change")
    if trend and len(trend[0]) > 1:
        suffix = "" if axis == 1 else str(axis)
        fig.add_trace(go.Scatter(x=trend[0], y=trend[1], mode="lines+markers",
                                 line={"color": PALETTE[0], "width": 2}, marker={"size": 4},
                                 name="trend", showlegend=False, xaxis=f"x{suffix}",
                                 yaxis=f"y{suffix}", hovertemplate="%{x}: %{y}<extra></extra>"))
        fig.update_layout({
            f"xaxis{suffix}": {"domain": [x[0] + 0.02, x[1] - 0.02], "visible": False,
                               "type": "category", "anchor": f"y{suffix}"},
            f"yaxis{suffix}": {"domain": [y[0], y[0] + 0.22 * height], "visible": False,
                               "anchor": f"x{suffix}"},
        })


def _frame_layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 10, "r": 10, "t": 16, "b": 10}, height=height, showlegend=False,
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
        xaxis={"visible": False}, yaxis={"visible": False},
    )
    return fig


def _series(result: Mapping[str, Any] | None, value: str) -> tuple[list[Any], list[Any]] | None:
    """(periods, values) of a by-period result, oldest first."""
    if result is None or value not in result["columns"]:
        return None
    frame = to_frame(result["columns"], result["rows"])
    times = [c for c in frame.columns if c != value and _is_time(frame, c)]
    # a period's name ('2026-Q3') rather than its first day
    x = next((c for c in times if c.endswith("_label")), None) or next(iter(times), None)
    if x is None:
        return None
    frame = frame.sort_values(x, kind="stable")
    return [str(v) for v in frame[x].tolist()], [
        None if v != v else v for v in frame[value].tolist()]  # NaN → None


def kpi_figure(result: Mapping[str, Any], results: Sequence[Mapping[str, Any]]
               ) -> go.Figure | None:
    """The KPI card of a one-row answer with a numeric headline (None: not one)."""
    main = _first(results, "main")
    if main is None or len(main["rows"]) != 1:
        return None
    headline = main.get("headline")
    unit = (main.get("units") or {}).get(headline)
    if not headline or unit in (None, "text") or headline not in main["columns"]:
        return None
    value = _row(main).get(headline)
    if value is None:
        return None
    period = main.get("period_label")
    if not period:
        label_col = next((c for c in main["columns"] if c.endswith("_label")), None)
        period = str(_row(main)[label_col]) if label_col else None
    previous = _first(results, "previous")
    before = _row(previous).get(headline) if previous and len(previous["rows"]) == 1 else None
    change = change_text(value, before, unit, previous.get("period_label") if previous
                         else None)
    fig = go.Figure()
    title = (main.get("labels") or {}).get(headline) or label_of(headline)
    _card(fig, x=(0, 1), y=(0, 1), title=title[:1].upper() + title[1:], value=value,
          unit=unit, period=period, change=change,
          trend=_series(_first(results, "series"), headline))
    return plain_figure(_frame_layout(fig, 260))


def summary_figure(result: Mapping[str, Any], results: Sequence[Mapping[str, Any]]
                   ) -> go.Figure | None:
    """The executive summary as cards: each figure, its caption, its change where known."""
    main = _first(results, "main")
    if main is None:
        return None
    row = _row(main)
    units = main.get("units") or {}
    labels = main.get("labels") or {}
    previous = _first(results, "previous")
    before_row = _row(previous) if previous else {}
    before_labels = (previous or {}).get("labels") or {}
    figures = [c for c in main["columns"] if units.get(c) not in (None, "text")
               and row.get(c) is not None]
    if not figures:
        return None
    rows = -(-len(figures) // CARDS_PER_ROW)
    as_of = f"as of {format_date(result['as_of_date'])}" if result.get("as_of_date") else None
    fig = go.Figure()
    for i, column in enumerate(figures):
        r, c = divmod(i, CARDS_PER_ROW)
        x = (c / CARDS_PER_ROW, (c + 1) / CARDS_PER_ROW)
        y = (1 - (r + 1) / rows + 0.02, 1 - r / rows - 0.02)
        # "overdue open deals, share of all open pipeline now": what, then its period and scope
        what, _, scope = (labels.get(column) or label_of(column)).partition(", ")
        change = change_text(row[column], before_row.get(column), units.get(column),
                             before_labels.get(column))
        _card(fig, x=x, y=y, title=what[:1].upper() + what[1:], value=row[column],
              unit=units.get(column), period=scope or None, change=change, axis=i + 1)
    if as_of:
        fig.update_layout(title={"text": f"Executive summary {as_of}", "x": 0.01,
                                 "font": {"size": 15}})
    _frame_layout(fig, 150 * rows + 60)
    fig.update_layout(margin={"t": 48})
    return plain_figure(fig)


def components_figure(result: Mapping[str, Any], spec: Mapping[str, Any]) -> go.Figure | None:
    """A score's components as bars, each out of the points scale the catalog gives."""
    columns = list(result.get("columns") or [])
    rows = result.get("rows") or []
    parts = [p for p in spec.get("parts") or [] if p in columns]
    scale = spec.get("scale")
    if not rows or not parts or not scale:
        return None
    row = dict(zip(columns, rows[0], strict=False)) if not isinstance(rows[0], Mapping) \
        else dict(rows[0])
    names = [label_of(p).removesuffix(" points") for p in parts]
    values = [row.get(p) for p in parts]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[scale] * len(parts), y=names, orientation="h", name="out of",
                         marker={"color": "rgba(100, 116, 139, 0.18)"}, hoverinfo="skip",
                         showlegend=False))
    fig.add_trace(go.Bar(x=values, y=names, orientation="h", name="points",
                         marker={"color": [PALETTE[2] if (v or 0) >= scale else PALETTE[0]
                                           for v in values]},
                         text=[f"{format_value(v, 'score')} / {scale}" for v in values],
                         textposition="outside", cliponaxis=False, showlegend=False))
    headline = spec.get("y")
    title = None
    if headline and row.get(headline) is not None:
        title = f"{label_of(headline)} {format_value(row[headline], 'score')}: " \
                f"{len(parts)} components, each out of {scale} points"
    fig.update_layout(barmode="overlay", bargap=0.35)
    fig.update_xaxes(range=[0, scale * 1.18], title="points", tickvals=list(
        range(0, int(scale) + 1, 5)))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}} if title else None,
        template="plotly_white", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 10, "r": 10, "t": 48 if title else 16, "b": 10}, height=300,
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
    )
    return plain_figure(fig)


def forecast_figure(results: Sequence[Mapping[str, Any]]) -> go.Figure | None:
    """A forecast's ``series`` query: actuals, then the months ahead with their band."""
    series = _first(results, "series")
    if series is None:
        return None
    cols = [c.lower() for c in series["columns"]]
    if not (any("lower" in c for c in cols) and any("upper" in c for c in cols)):
        return None
    x = next((c for c in series["columns"] if c.endswith("_label")), None)
    return chart_figure(series["columns"], series["rows"], {"kind": "forecast", "x": x},
                        title="Actuals and forecast")


def answer_figure(result: Mapping[str, Any], results: Sequence[Mapping[str, Any]] = ()
                  ) -> go.Figure | None:
    """The picture of an answer, or None when it has nothing to draw (see the module)."""
    if result.get("status") not in (None, "answered") or result.get("error"):
        return None
    spec = result.get("chart") or None
    if result.get("intent") == "briefing":
        return summary_figure(result, results)
    forecast = forecast_figure(results)
    if forecast is not None:
        return forecast
    if isinstance(spec, Mapping) and spec.get("kind") == "components":
        return components_figure(result, spec)
    columns = list(result.get("columns") or [])
    rows = list(result.get("rows") or [])
    if len(rows) == 1:
        return kpi_figure(result, results)
    return chart_figure(columns, rows, spec)
