"""Small plotly charts for the big screen: the 24-hour trend, sensor curves, a trajectory."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go

from dashboard.detail_queries import SensorSeries
from dashboard.labels import Language, alert_type_text, t

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
HOUR_MS = 3_600_000
BAR_WIDTH_MS = 0.85 * HOUR_MS
TEXT_COLOR = "#e8eef5"
MUTED_TEXT_COLOR = "#93a8bd"
GRID_COLOR = "#1f3347"
# One colour per alert type on the trend, in a fixed order so a type keeps its colour.
TYPE_COLORS = [
    "#ff2d46", "#ff6a1f", "#ffab2e", "#e8d44d", "#4fc3ff",
    "#c58cff", "#3ee0c8", "#6ff0a0", "#8f9bff", "#d0e6ff",
]  # fmt: skip


def _dark_layout(**extra: object) -> dict[str, object]:
    layout: dict[str, object] = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": TEXT_COLOR, "size": 15},
        "margin": {"l": 44, "r": 8, "t": 8, "b": 30},
        "xaxis": {"gridcolor": GRID_COLOR, "zeroline": False},
        "yaxis": {"gridcolor": GRID_COLOR, "zeroline": False, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "font": {"size": 14}},
    }
    layout.update(extra)
    return layout


def quiet_trend_figure(lang: Language) -> go.Figure:
    """No alerts in 24 hours: a calm sentence instead of empty axes."""
    hidden = {"visible": False}
    return go.Figure(
        layout=_dark_layout(
            xaxis=hidden,
            yaxis=hidden,
            annotations=[
                {
                    "text": t("no_alerts_24h", lang),
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 20, "color": MUTED_TEXT_COLOR},
                }
            ],
        )
    )


def round_step(tallest: int, lines: int = 5) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that draws at most `lines` gridlines."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if tallest <= step * lines:
                return step
        magnitude *= 10


def _local(moment: datetime) -> datetime:
    """The server's wall-clock time without a zone: plotly draws a datetime's digits as
    given, and the header's "live · 02:53" is the server's local time too."""
    return moment.astimezone().replace(tzinfo=None)


def trend_figure(
    trend: list[tuple[datetime, str, int]], lang: Language, now: datetime | None = None
) -> go.Figure:
    """Stacked bars: alerts per hour over the last 24 hours, one colour per type.

    The x axis always spans the last 24 hours (to the end of this one) and every bar is one
    hour wide, so a single busy hour stays a thin bar instead of filling the chart.
    """
    if not any(n for _, _, n in trend):
        return quiet_trend_figure(lang)
    by_type: dict[str, dict[datetime, int]] = defaultdict(dict)
    per_hour: dict[datetime, int] = defaultdict(int)
    for hour, alert_type, n in trend:
        middle = _local(hour) + HOUR / 2
        by_type[alert_type][middle] = n
        per_hour[middle] += n
    bars = [
        go.Bar(
            name=alert_type_text(alert_type, lang),
            x=list(counts),
            y=list(counts.values()),
            width=BAR_WIDTH_MS,
            marker={"color": TYPE_COLORS[i % len(TYPE_COLORS)]},
        )
        for i, (alert_type, counts) in enumerate(sorted(by_type.items()))
    ]
    # To the end of the current hour, so its bar is whole.
    end = _local(now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0) + HOUR
    tallest = max(per_hour.values())
    return go.Figure(
        data=bars,
        layout=_dark_layout(
            barmode="stack",
            # Two names a row at a fixed width: plotly's own wrapping stacked them one a row
            # with a scroll bar in the 1366x768 panel, leaving the bars a sliver.
            legend={
                "orientation": "h",
                "y": 1.02,
                "yanchor": "bottom",
                "font": {"size": 12},
                "entrywidth": 0.5,
                "entrywidthmode": "fraction",
            },
            xaxis={
                "type": "date",
                "range": [end - DAY, end],
                "tickformat": "%H:%M",
                "dtick": 6 * HOUR_MS,
                "gridcolor": GRID_COLOR,
            },
            # Whole alerts only, in round steps: at most five gridlines.
            yaxis={
                "dtick": round_step(tallest),
                "tickformat": "d",
                "rangemode": "tozero",
                "gridcolor": GRID_COLOR,
                "zeroline": False,
            },
        ),
    )


def sensor_figure(series: list[SensorSeries], moment: datetime) -> go.Figure:
    """One line per (device, metric) around the alert, with the alert's moment marked."""
    lines = [
        go.Scatter(
            name=f"{s.device_id} {s.metric}" + (f" ({s.unit})" if s.unit else ""),
            x=s.times,
            y=s.values,
            mode="lines",
        )
        for s in series
    ]
    figure = go.Figure(data=lines, layout=_dark_layout(height=260))
    figure.add_vline(x=moment, line={"color": "#ff2d46", "width": 2, "dash": "dash"})
    return figure


def trajectory_figure(trajectory: list[list[float]]) -> go.Figure:
    """The falling object's path in the camera image (x right, y down, both 0-1)."""
    xs = [p[1] for p in trajectory]
    ys = [p[2] for p in trajectory]
    path = go.Scatter(
        x=xs, y=ys, mode="lines+markers", marker={"size": 8, "color": "#ffab2e"}, name="path"
    )
    return go.Figure(
        data=[path],
        layout=_dark_layout(
            height=260,
            showlegend=False,
            xaxis={"range": [0, 1], "gridcolor": GRID_COLOR},
            yaxis={"range": [1, 0], "gridcolor": GRID_COLOR},
        ),
    )
