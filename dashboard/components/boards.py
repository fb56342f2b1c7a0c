"""Side panels: the dispatch board, the grid events feed and the camera wall."""

from __future__ import annotations

from datetime import datetime

from dash import html

from dashboard.board_queries import BoardOrder, CameraFrame, GridEvent
from dashboard.evidence_route import evidence_url
from dashboard.labels import (
    WORK_ORDER_STATE_TEXT,
    Language,
    alert_type_text,
    format_age,
    format_duration,
    pick,
    t,
)


def dispatch_rows(orders: list[BoardOrder], now: datetime, lang: Language) -> list[html.Div]:
    """One row per open order: overdue ones first (the query's order), who, state, waited."""
    if not orders:
        return [html.Div(t("no_orders", lang), className="panel-empty")]
    return [
        html.Div(
            className=(
                f"board-row severity-{o.severity}"
                + (" overdue" if o.overdue else "")
                + (" escalated" if o.escalated else "")
            ),
            **{"data-order-id": str(o.id)},
            children=[
                html.Span(
                    pick(WORK_ORDER_STATE_TEXT.get(o.state, (o.state,) * 2), lang),
                    className="board-state",
                ),
                html.Span(
                    [html.B(alert_type_text(o.type, lang)), f" {o.grid_name}"],
                    className="board-what",
                ),
                html.Span(o.assignee or t("unassigned", lang), className="board-who"),
                html.Span(
                    format_duration((now - o.created_at).total_seconds(), lang),
                    className="board-waited",
                    title=t("waited", lang),
                ),
            ],
        )
        for o in orders
    ]


def event_rows(events: list[GridEvent], now: datetime, lang: Language) -> list[html.Div]:
    """Alerts and resident/patrol reports, newest first, each marked with where it came from."""
    if not events:
        return [html.Div(t("no_events", lang), className="panel-empty")]
    source_key = {"alert": "device_alert", "resident": "resident", "patrol": "patrol"}
    return [
        html.Div(
            className=f"event-row source-{e.kind} severity-{e.severity}",
            **{"data-event": f"{e.kind}-{e.ref_id}"},
            children=[
                html.Span(
                    t(source_key.get(e.kind, "device_alert"), lang), className="event-source"
                ),
                html.Span(
                    [html.B(alert_type_text(e.type, lang)), f" {e.grid_name}"],
                    className="event-what",
                    title=e.title,
                ),
                html.Span(format_age(e.time, now, lang), className="event-age"),
            ],
        )
        for e in events
    ]


def camera_tiles(frames: list[CameraFrame], now: datetime, lang: Language) -> list[html.Div]:
    """The newest frame of each camera, detection boxes drawn in, with name and age."""
    if not frames:
        return [html.Div(t("no_frames", lang), className="panel-empty")]
    return [
        html.Figure(
            className="camera-tile",
            **{"data-camera": f.device_id},
            children=[
                html.Img(src=evidence_url(f.snapshot_path), alt=f.device_name),
                html.Figcaption(
                    [
                        html.Span(f.device_name, className="camera-name"),
                        html.Span(
                            f"{alert_type_text(f.alert_type, lang)}"
                            f" · {format_age(f.time, now, lang)}",
                            className="camera-age",
                        ),
                    ]
                ),
            ],
        )
        for f in frames
    ]
