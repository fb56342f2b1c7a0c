"""The live alert list: open alerts first, newest first, one large-type row per alert."""

from __future__ import annotations

from datetime import datetime

from dash import html

from dashboard.evidence_route import evidence_url
from dashboard.labels import (
    ALERT_STATE_TEXT,
    SEVERITY_TEXT,
    Language,
    alert_type_text,
    format_age,
    pick,
    t,
)
from dashboard.queries import AlertRow


def alert_item(alert: AlertRow, now: datetime, lang: Language = "zh") -> html.Div:
    """One alert: severity badge, what happened, where, how long ago, its state; clickable."""
    badges = []
    if alert.occurrences > 1:
        badges.append(html.Span(f"×{alert.occurrences}", className="alert-badge repeats"))
    thumb = (
        html.Img(src=evidence_url(alert.snapshot_path), className="alert-thumb", alt="")
        if alert.snapshot_path
        else None
    )
    return html.Div(
        # A pattern id, so one client-side callback hears a click on any row.
        id={"type": "alert-item", "alert": alert.id},
        n_clicks=0,
        className=f"alert-item severity-{alert.severity.value} state-{alert.state}",
        title=alert.title,
        **{"data-alert-id": str(alert.id), "data-first-seen": alert.first_seen.isoformat()},
        children=[
            html.Div(pick(SEVERITY_TEXT[alert.severity], lang), className="alert-severity"),
            html.Div(
                className="alert-body",
                children=[
                    html.Div(
                        className="alert-title",
                        children=[
                            html.Span(alert_type_text(alert.type, lang), className="alert-type"),
                            *badges,
                        ],
                    ),
                    html.Div(f"{alert.grid_name} · {alert.device_name}", className="alert-where"),
                ],
            ),
            thumb,
            html.Div(
                className="alert-meta",
                children=[
                    html.Div(format_age(alert.first_seen, now, lang), className="alert-age"),
                    html.Div(
                        pick(ALERT_STATE_TEXT.get(alert.state, (alert.state,) * 2), lang),
                        className="alert-state",
                    ),
                ],
            ),
        ],
    )


def alert_items(alerts: list[AlertRow], now: datetime, lang: Language = "zh") -> list[html.Div]:
    """Rows for the list, in the order given (the query puts open ones first, newest first)."""
    if not alerts:
        return [html.Div(t("no_alerts", lang), className="alert-empty")]
    return [alert_item(a, now, lang) for a in alerts]
