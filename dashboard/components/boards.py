"""Side panels: the dispatch board, the grid events feed (rows as JSON, drawn by
assets/screen_lists.js; see screen_list.py) and the camera wall."""

from __future__ import annotations

from datetime import datetime

from dash import html

from dashboard.board_queries import BoardOrder, GridEvent
from dashboard.camera_wall import WallTile
from dashboard.components.screen_list import ScreenList, screen_list
from dashboard.labels import (
    WORK_ORDER_STATE_TEXT,
    Language,
    alert_type_text,
    format_age,
    format_duration,
    pick,
    t,
)


def dispatch_rows(orders: list[BoardOrder], now: datetime, lang: Language) -> ScreenList:
    """One row per open order: overdue ones first (the query's order), who, state, waited."""
    rows = [
        {
            "id": o.id,
            "severity": o.severity,
            "overdue": o.overdue,
            "escalated": o.escalated,
            "state_text": pick(WORK_ORDER_STATE_TEXT.get(o.state, (o.state,) * 2), lang),
            "type_text": alert_type_text(o.type, lang),
            "grid": o.grid_name,
            "who": o.assignee or t("unassigned", lang),
            "waited": format_duration((now - o.created_at).total_seconds(), lang),
            "waited_title": t("waited", lang),
        }
        for o in orders
    ]
    return screen_list(rows, t("no_orders", lang))


SOURCE_KEYS = {"alert": "device_alert", "resident": "resident", "patrol": "patrol"}


def event_rows(events: list[GridEvent], now: datetime, lang: Language) -> ScreenList:
    """Alerts and resident/patrol reports, newest first, each marked with where it came from."""
    rows = [
        {
            "key": f"{e.kind}-{e.ref_id}",
            "kind": e.kind,
            "severity": e.severity,
            "source_text": t(SOURCE_KEYS.get(e.kind, "device_alert"), lang),
            "type_text": alert_type_text(e.type, lang),
            "grid": e.grid_name,
            "title": e.title,
            "age": format_age(e.time, now, lang),
        }
        for e in events
    ]
    return screen_list(rows, t("no_events", lang))


def camera_tiles(tiles: list[WallTile], now: datetime, lang: Language) -> list[html.Div]:
    """Each chosen camera's picture (live frame or newest snapshot) with name and age."""
    if not tiles:
        return [html.Div(t("no_frames", lang), className="panel-empty")]
    return [
        html.Figure(
            className="camera-tile" + (" live" if tile.live else ""),
            **{"data-camera": tile.device_id},
            children=[
                html.Img(src=tile.image_url, alt=tile.device_name),
                html.Figcaption(
                    [
                        html.Span(tile.device_name, className="camera-name"),
                        html.Span(_camera_note(tile, now, lang), className="camera-age"),
                    ]
                ),
            ],
        )
        for tile in tiles
    ]


def _camera_note(tile: WallTile, now: datetime, lang: Language) -> str:
    """'live · e-bike in elevator' for a live frame, 'e-bike in elevator · 5 min ago' else."""
    what = alert_type_text(tile.alert_type, lang) if tile.alert_type else ""
    if tile.live:
        return " · ".join(p for p in (t("live", lang), what) if p)
    return " · ".join(p for p in (what, format_age(tile.time, now, lang)) if p)
