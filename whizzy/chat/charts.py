"""Result → Plotly figure, when the result has a shape worth seeing.

One entry point, `chart_figure(columns, rows, suggestion)`. The agent decides whether a
result deserves a chart: no suggestion (`None`, as for record lists and single figures)
means no chart. Its suggestion (`{kind, x, y, ...}`) picks the kind; when the kind is missing
or unknown, or names columns the result does not have, the shape of the data decides:

- trend (a time column and numbers) → line, one line per series;
- ranking (a label column and one number) → bar;
- share (a label column and several parts, or label × part × value) → stacked bar;
- forecast (actual / forecast with lower and upper bounds) → line with the interval as a band;
- stage durations (stage and average days) → horizontal bar with the 30-day bottleneck line.

A single number, an empty result or a table of text gets no chart (`None`).

Plotly reads a few HTML tags (`<a href>`, `<b>`, `<br>`) in every label, so every string of
a finished figure (category values, series names, titles, annotations) is escaped
(`whizzy.chat.markup.plotly_plain`): a name from the data is drawn as the text it is.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from whizzy.chat.markup import plotly_plain
from whizzy.core.cells import label_of, unit_of
from whizzy.core.formatting import format_count

#: Days in stage above which a stage is a bottleneck (metrics.md).
BOTTLENECK_DAYS = 30
#: Most bars a ranking shows (the result is already sorted by the query).
MAX_BARS = 25

KINDS = ("line", "bar", "stacked_bar", "forecast", "stage_durations")
_KIND_ALIASES = {
    "line": "line", "trend": "line", "time_series": "line", "timeseries": "line",
    "area": "line",
    "bar": "bar", "ranking": "bar", "column": "bar", "rank": "bar",
    "stacked_bar": "stacked_bar", "stacked": "stacked_bar", "share": "stacked_bar",
    "stacked-bar": "stacked_bar", "composition": "stacked_bar",
    "forecast": "forecast", "band": "forecast", "interval": "forecast",
    "line_band": "forecast", "line_with_band": "forecast",
    "stage_durations": "stage_durations", "hbar": "stage_durations",
    "horizontal_bar": "stage_durations", "bottleneck": "stage_durations",
    "stage_duration": "stage_durations", "durations": "stage_durations",
}

PALETTE = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04",
           "#db2777", "#4b5563", "#65a30d")
#: The actuals of a forecast: a slate that reads on a light and on a dark page.
ACTUAL_INK = "#64748b"

_TIME_NAME = re.compile(
    r"(^|_)(quarter|month|date|week|year|day|period)(_label|_start)?$|_at$|^as_of"
)
_QUARTER_VALUE = re.compile(r"^\d{4}-Q[1-4]$")
_MONTH_VALUE = re.compile(r"^\d{4}-\d{2}$")
_ID_NAME = re.compile(r"(^|_)(id|sort_order|rank|visit_number|push_number)$")


def kind_of(name: str | None) -> str | None:
    """The chart kind a suggestion names, in this module's words.

    >>> kind_of("Ranking"), kind_of("band"), kind_of("pie"), kind_of(None)
    ('bar', 'forecast', None, None)
    """
    return _KIND_ALIASES.get((name or "").strip().lower().replace(" ", "_"))


def to_frame(columns: Sequence[str], rows: Sequence[Any]) -> pd.DataFrame:
    """Rows (lists or dicts) → a DataFrame with Decimals as floats.

    >>> to_frame(["a", "b"], [[1, decimal.Decimal("2.5")], {"a": 3, "b": None}]).to_dict("list")
    {'a': [1, 3], 'b': [2.5, nan]}
    """
    cols = list(columns)
    data = [[r.get(c) for c in cols] if isinstance(r, Mapping) else list(r) for r in rows]
    frame = pd.DataFrame(data, columns=cols)
    for c in cols:
        s = frame[c]
        if s.map(lambda v: isinstance(v, decimal.Decimal)).any():
            frame[c] = pd.to_numeric(s.map(lambda v: None if v is None else float(v)))
    return frame


def _numeric(frame: pd.DataFrame, col: str) -> bool:
    s = frame[col]
    return bool(pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def _is_time(frame: pd.DataFrame, col: str) -> bool:
    if _TIME_NAME.search(col.lower()):
        return True
    s = frame[col].dropna()
    if s.empty:
        return False
    first = s.iloc[0]
    if isinstance(first, (dt.date, dt.datetime, pd.Timestamp)):
        return True
    return isinstance(first, str) and bool(
        _QUARTER_VALUE.match(first) or _MONTH_VALUE.match(first)
    )


def _measures(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    return [
        c for c in frame.columns
        if c not in exclude and _numeric(frame, c) and not _ID_NAME.search(c.lower())
    ]


def _labels(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    return [c for c in frame.columns if c not in exclude and not _numeric(frame, c)]


def _values(s: pd.Series) -> list[Any]:
    """Plain Python values for Plotly JSON (dates as ISO text, NaN as None)."""
    out = []
    for v in s.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
            out.append(v.isoformat()[:10] if not isinstance(v, dt.datetime) else v.isoformat())
        elif isinstance(v, decimal.Decimal):
            out.append(float(v))
        else:
            out.append(v)
    return out


def _axis_format(unit: str) -> dict[str, Any]:
    if unit == "percent":
        return {"tickformat": ".0%", "hoverformat": ".1%"}
    if unit == "currency":
        return {"tickprefix": "$", "tickformat": "~s", "hoverformat": ",.0f"}
    if unit == "days":
        return {"ticksuffix": " d", "hoverformat": ".1f"}
    if unit == "count":
        return {"tickformat": ",d"}
    return {"hoverformat": ",.2f"}


def _layout(fig: go.Figure, title: str | None, *, legend: bool) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}} if title else None,
        template="plotly_white",
        # no background of its own: the chart sits on the page's, light or dark
        # (public/whizzy.css gives its text and grid the dark theme's ink)
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 10, "r": 10, "t": 48 if title else 16, "b": 10},
        height=380,
        showlegend=legend,
        legend={"orientation": "h", "y": -0.18},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"},
        colorway=list(PALETTE),
        hovermode="x unified" if legend else "closest",
    )
    return fig


def _pick(frame: pd.DataFrame, name: Any) -> str | None:
    return name if isinstance(name, str) and name in frame.columns else None


def _pick_many(frame: pd.DataFrame, names: Any) -> list[str]:
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)):
        return []
    return [n for n in names if isinstance(n, str) and n in frame.columns and _numeric(frame, n)]


def _line(frame: pd.DataFrame, spec: Mapping[str, Any], title: str | None) -> go.Figure | None:
    x = _pick(frame, spec.get("x")) or next((c for c in frame.columns if _is_time(frame, c)), None)
    if x is None:
        return None
    ys = _pick_many(frame, spec.get("y")) or _measures(frame, exclude=[x])
    if not ys:
        return None
    series = _pick(frame, spec.get("series") or spec.get("color"))
    if series is None and frame[x].duplicated().any():
        series = next((c for c in _labels(frame, exclude=[x]) if not _is_time(frame, c)), None)
    unit = unit_of(ys[0])
    ys = [y for y in ys if unit_of(y) == unit][:4]
    data = frame.sort_values(x, kind="stable")
    fig = go.Figure()
    if series:
        y = ys[0]
        for i, (name, part) in enumerate(data.groupby(series, sort=False)):
            if i >= 10:
                break
            fig.add_trace(go.Scatter(x=_values(part[x]), y=_values(part[y]), name=str(name),
                                     mode="lines+markers"))
    else:
        for y in ys:
            fig.add_trace(go.Scatter(x=_values(data[x]), y=_values(data[y]), name=label_of(y),
                                     mode="lines+markers"))
    fig.update_yaxes(**_axis_format(unit), title=label_of(ys[0]) if len(ys) == 1 else None)
    fig.update_xaxes(title=label_of(x), type="category" if not _is_date_axis(data[x]) else None)
    return _layout(fig, title, legend=len(fig.data) > 1)


def _is_date_axis(s: pd.Series) -> bool:
    first = s.dropna().iloc[0] if not s.dropna().empty else None
    return isinstance(first, (dt.date, dt.datetime, pd.Timestamp))


def _bar(frame: pd.DataFrame, spec: Mapping[str, Any], title: str | None) -> go.Figure | None:
    x = _pick(frame, spec.get("x"))
    ys = _pick_many(frame, spec.get("y"))
    if x is None or (_numeric(frame, x) and not ys):
        x = next(iter(_labels(frame)), None)
    if x is None:
        return None
    y = (ys or _measures(frame, exclude=[x]) or [None])[0]
    if y is None:
        return None
    data = frame.head(MAX_BARS)
    labels = [str(v) for v in data[x].tolist()]
    unit = unit_of(y)
    sample = _pick(frame, spec.get("sample"))
    if sample is not None and isinstance(spec.get("min_sample"), int | float):
        return _sampled_bars(data, x, y, sample, spec, title)
    horizontal = len(labels) > 8 or max((len(v) for v in labels), default=0) > 14
    bar = go.Bar(
        x=_values(data[y]) if horizontal else labels,
        y=labels if horizontal else _values(data[y]),
        orientation="h" if horizontal else "v",
        name=label_of(y),
        marker_color=PALETTE[0],
    )
    fig = go.Figure(bar)
    value_axis = fig.update_xaxes if horizontal else fig.update_yaxes
    label_axis = fig.update_yaxes if horizontal else fig.update_xaxes
    value_axis(**_axis_format(unit), title=label_of(y))
    label_axis(title=label_of(x), type="category",
               autorange="reversed" if horizontal else None)
    if horizontal:
        fig.update_layout(height=max(320, 26 * len(labels) + 90))
    return _layout(fig, title, legend=False) if not horizontal else _keep_height(fig, title)


#: How a bar of a thin sample looks: hatched and faded (on a light and a dark page).
THIN_PATTERN = "/"


def _sampled_bars(data: pd.DataFrame, x: str, y: str, sample: str, spec: Mapping[str, Any],
                  title: str | None) -> go.Figure:
    """A ranked rate as horizontal bars, each with its sample size; thin samples marked.

    A bar over fewer rows than the model's minimum (`spec["min_sample"]`, from the catalog)
    is hatched, faded and labelled "thin sample", and a note under the chart says why.
    """
    minimum = float(spec["min_sample"])
    what = str(spec.get("sample_label") or "sample")
    labels = [str(v) for v in data[x].tolist()]
    sizes = _values(data[sample])
    thin = [n is not None and n < minimum for n in sizes]
    text = [f"n = {format_count(n)}{' · thin sample' if t else ''}" if n is not None else ""
            for n, t in zip(sizes, thin, strict=True)]
    fig = go.Figure(go.Bar(
        x=_values(data[y]), y=labels, orientation="h", name=label_of(y), text=text,
        textposition="outside", cliponaxis=False,
        customdata=[[n, "yes" if t else "no"] for n, t in zip(sizes, thin, strict=True)],
        hovertemplate=f"%{{y}}: %{{x}}<br>{what}: %{{customdata[0]}}<extra></extra>",
        marker={"color": [PALETTE[0]] * len(labels),
                "opacity": [0.45 if t else 1.0 for t in thin],
                "pattern": {"shape": [THIN_PATTERN if t else "" for t in thin]}},
    ))
    fig.update_xaxes(**_axis_format(unit_of(y)), title=label_of(y))
    fig.update_yaxes(type="category", autorange="reversed", title=label_of(x))
    fig.add_annotation(
        text=f"n = {what}; hatched bars are thin samples (fewer than {minimum:g} {what})",
        x=0, y=0, xref="paper", yref="paper", yanchor="top", xanchor="left", yshift=-52,
        showarrow=False, font={"size": 11})
    fig.update_layout(height=max(320, 30 * len(labels) + 130))
    _keep_height(fig, title)
    fig.update_layout(margin={"b": 76, "r": 120})
    return fig


def _keep_height(fig: go.Figure, title: str | None) -> go.Figure:
    height = fig.layout.height
    _layout(fig, title, legend=False)
    fig.update_layout(height=height)
    return fig


def _stacked(frame: pd.DataFrame, spec: Mapping[str, Any], title: str | None) -> go.Figure | None:
    x = _pick(frame, spec.get("x"))
    if x is None:
        x = next((c for c in frame.columns if _is_time(frame, c)), None) or next(
            iter(_labels(frame)), None
        )
    if x is None:
        return None
    series = _pick(frame, spec.get("series") or spec.get("color"))
    if series is None and frame[x].duplicated().any():
        series = next(iter(_labels(frame, exclude=[x])), None)
    fig = go.Figure()
    if series:
        y = (_pick_many(frame, spec.get("y")) or _measures(frame, exclude=[x]) or [None])[0]
        if y is None:
            return None
        order = list(dict.fromkeys(str(v) for v in frame[x].tolist()))
        for name, part in frame.groupby(series, sort=False):
            fig.add_trace(go.Bar(x=[str(v) for v in part[x].tolist()], y=_values(part[y]),
                                 name=str(name)))
        unit = unit_of(y)
    else:
        ys = _pick_many(frame, spec.get("y")) or _measures(frame, exclude=[x])
        if len(ys) < 2:
            return None
        order = [str(v) for v in frame[x].tolist()]
        for y in ys:
            fig.add_trace(go.Bar(x=order, y=_values(frame[y]), name=label_of(y)))
        unit = unit_of(ys[0])
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title=label_of(x), type="category", categoryorder="array",
                     categoryarray=order)
    fig.update_yaxes(**_axis_format(unit))
    return _layout(fig, title, legend=True)


def _find(frame: pd.DataFrame, *patterns: str) -> str | None:
    for p in patterns:
        for c in frame.columns:
            if re.search(p, c.lower()) and _numeric(frame, c):
                return c
    return None


def _forecast(frame: pd.DataFrame, spec: Mapping[str, Any], title: str | None) -> go.Figure | None:
    x = _pick(frame, spec.get("x")) or next((c for c in frame.columns if _is_time(frame, c)), None)
    lower = _pick(frame, spec.get("lower")) or _find(frame, r"lower")
    upper = _pick(frame, spec.get("upper")) or _find(frame, r"upper")
    if x is None or lower is None or upper is None:
        return _line(frame, spec, title)
    ys = _pick_many(frame, spec.get("y"))
    actual = _find(frame, r"^actual") or next((y for y in ys if "actual" in y), None)
    forecast = next((y for y in ys if y not in (actual, lower, upper)), None) or _find(
        frame, r"combined_forecast", r"^forecast$", r"forecast(?!_(error|accuracy|quality|risk))"
    )
    data = frame.sort_values(x, kind="stable")
    xs = _values(data[x])
    fig = go.Figure()
    # revenue can't go below $0: the band's lower edge stops there
    floor = [None if v is None else max(0.0, float(v)) for v in _values(data[lower])]
    fig.add_trace(go.Scatter(x=xs, y=floor, mode="lines", line={"width": 0},
                             name=label_of(lower), showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=xs, y=_values(data[upper]), mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor="rgba(37, 99, 235, 0.15)",
                             name="95% interval", hoverinfo="skip"))
    if actual:
        fig.add_trace(go.Scatter(x=xs, y=_values(data[actual]), mode="lines+markers",
                                 name=label_of(actual), line={"color": ACTUAL_INK}))
    if forecast:
        fig.add_trace(go.Scatter(x=xs, y=_values(data[forecast]), mode="lines+markers",
                                 name=label_of(forecast),
                                 line={"color": PALETTE[0], "dash": "dash"}))
    fig.update_yaxes(**_axis_format("currency"))
    fig.update_xaxes(title=label_of(x), type="category" if not _is_date_axis(data[x]) else None)
    _layout(fig, title, legend=True)
    fig.update_layout(legend={"y": -0.3})  # below the month labels and the axis title
    return fig


def _stage_durations(
    frame: pd.DataFrame, spec: Mapping[str, Any], title: str | None
) -> go.Figure | None:
    named = (spec.get("x"), spec.get("y"))
    days = next((c for c in named if _numeric_name(frame, c)), None)
    days = days or _find(frame, r"^avg_days", r"days")
    stage = next((c for c in named if _pick(frame, c) and not _numeric(frame, c)), None)
    stage = stage or next(
        (c for c in ("stage_name", "stage", "dimension") if c in frame.columns), None
    ) or next(iter(_labels(frame)), None)
    if stage is None or days is None:
        return None
    data = frame
    order = next((c for c in ("stage_sort_order", "sort_order") if c in frame.columns), None)
    if order:
        data = frame.sort_values(order, kind="stable")
    data = data[data[days].notna()]
    threshold = float(spec.get("threshold") or BOTTLENECK_DAYS)
    values = _values(data[days])
    colors = [PALETTE[4] if (v or 0) > threshold else PALETTE[0] for v in values]
    labels = [str(v) for v in data[stage].tolist()]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=colors,
                           name=label_of(days)))
    fig.add_vline(x=threshold, line_dash="dash", line_color=PALETTE[4])
    fig.add_annotation(x=threshold, y=1, xref="x", yref="paper", yanchor="bottom",
                       text=f"{threshold:g}-day bottleneck line", showarrow=False,
                       font={"color": PALETTE[4], "size": 11})
    fig.update_xaxes(**_axis_format("days"), title=label_of(days))
    fig.update_yaxes(type="category", autorange="reversed", title=None)
    fig.update_layout(height=max(320, 30 * len(labels) + 100))
    _keep_height(fig, title)
    fig.update_layout(margin={"t": 60 if title else 28})
    return fig


def _numeric_name(frame: pd.DataFrame, name: Any) -> bool:
    return isinstance(name, str) and name in frame.columns and _numeric(frame, name)


_BUILDERS = {
    "line": _line,
    "bar": _bar,
    "stacked_bar": _stacked,
    "forecast": _forecast,
    "stage_durations": _stage_durations,
}


def infer_kind(frame: pd.DataFrame) -> str | None:
    """The chart kind the data's shape asks for, or `None` when no chart helps.

    >>> infer_kind(to_frame(["quarter_label", "win_rate"], [["2026-Q1", .3], ["2026-Q2", .4]]))
    'line'
    >>> infer_kind(to_frame(["owner_name", "win_rate"], [["Ann", .5], ["Bo", .4]]))
    'bar'
    >>> infer_kind(to_frame(["win_rate"], [[0.31]])) is None
    True
    """
    if len(frame) < 2:
        return None
    cols = [c.lower() for c in frame.columns]
    measures = _measures(frame)
    if not measures:
        return None
    if any("lower" in c for c in cols) and any("upper" in c for c in cols):
        return "forecast"
    if any(c in ("stage_name", "stage") for c in cols) and any("days" in m for m in measures):
        return "stage_durations"
    if any(_is_time(frame, c) for c in frame.columns):
        return "line"
    if _labels(frame):
        return "bar"
    return None


def chart_figure(
    columns: Sequence[str],
    rows: Sequence[Any],
    suggestion: Mapping[str, Any] | None = None,
    *,
    title: str | None = None,
) -> go.Figure | None:
    """The figure for a result, or `None` when there is no suggestion or nothing to draw."""
    if suggestion is None or not columns or not rows or len(rows) < 2:
        return None
    frame = to_frame(columns, rows)
    spec = dict(suggestion)
    named = spec.get("kind") or spec.get("type")
    if named in ("none", "table"):
        return None
    kind = kind_of(named) or infer_kind(frame)
    if kind is None:
        return None
    title = title or spec.get("title")
    fig = _BUILDERS[kind](frame, spec, title)
    if fig is None:  # the suggestion named columns this result lacks: let the shape decide
        inferred = infer_kind(frame)
        fig = _BUILDERS[inferred](frame, {}, title) if inferred else None
    return plain_figure(fig) if fig is not None else None


def plain_figure(fig: go.Figure) -> go.Figure:
    """`fig` with every string in its traces and layout shown literally (no HTML, no link).

    >>> fig = plain_figure(go.Figure(go.Bar(x=['<a href="https://e.x">A</a>'], y=[1])))
    >>> fig.data[0].x
    ('&lt;a href="https://e.x"&gt;A&lt;/a&gt;',)
    """
    spec = fig.to_plotly_json()
    layout = dict(spec.get("layout") or {})
    template = layout.pop("template", None)  # the chat's own theme: nothing from the data
    layout = plotly_plain(layout)
    if template is not None:
        layout["template"] = template
    return go.Figure(data=plotly_plain(list(spec.get("data") or [])), layout=layout)


def warm_up() -> None:
    """Build and serialise one figure of each kind (Plotly's first figure takes seconds)."""
    import plotly.io as pio

    quarters = ["2026-Q1", "2026-Q2", "2026-Q3"]
    samples = [
        (["quarter_label", "win_rate"], [[q, 0.3] for q in quarters], "line"),
        (["owner_name", "won_amount"], [["a", 2.0], ["b", 1.0]], "bar"),
        (["quarter_label", "won_amount", "lost_amount"], [[q, 1, 2] for q in quarters],
         "stacked_bar"),
        (["month_label", "combined_forecast", "forecast_lower", "forecast_upper"],
         [["2026-11", 2, 1, 3], ["2026-12", 2, 1, 3]], "forecast"),
        (["stage_name", "avg_days_in_stage"], [["a", 40.0], ["b", 10.0]], "stage_durations"),
    ]
    for columns, rows, kind in samples:
        fig = chart_figure(columns, rows, {"kind": kind})
        if fig is not None:
            pio.to_json(fig, validate=True)
