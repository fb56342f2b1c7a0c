"""Small plotly charts for the big screen: the 24-hour trend, sensor curves, a trajectory."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import plotly.graph_objects as go

from dashboard.detail_queries import SensorSeries
from dashboard.labels import Language, alert_type_text

TEXT_COLOR = "#e8eef5"
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


def trend_figure(trend: list[tuple[datetime, str, int]], lang: Language) -> go.Figure:
    """Stacked bars: alerts per hour over the last 24 hours, one colour per type."""
    by_type: dict[str, dict[datetime, int]] = defaultdict(dict)
    for hour, alert_type, n in trend:
        by_type[alert_type][hour] = n
    bars = [
        go.Bar(
            name=alert_type_text(alert_type, lang),
            x=list(counts),
            y=list(counts.values()),
            marker={"color": TYPE_COLORS[i % len(TYPE_COLORS)]},
        )
        for i, (alert_type, counts) in enumerate(sorted(by_type.items()))
    ]
    return go.Figure(
        data=bars,
        layout=_dark_layout(barmode="stack", bargap=0.15, xaxis={"tickformat": "%H:%M"}),
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
