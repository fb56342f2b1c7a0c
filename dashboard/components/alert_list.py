"""The live alert list: newest first, one large-type row per alert."""

from __future__ import annotations

from datetime import datetime

from dash import html

from dashboard.labels import ALERT_STATE_LABELS, SEVERITY_LABELS, alert_type_label, format_age
from dashboard.queries import AlertRow


def alert_item(alert: AlertRow, now: datetime) -> html.Div:
    """One alert: severity badge, what happened, where, how long ago, its state."""
    chinese, english = alert_type_label(alert.type)
    badges = []
    if alert.occurrences > 1:
        badges.append(html.Span(f"×{alert.occurrences}", className="alert-badge repeats"))
    if alert.snapshot_path:
        badges.append(html.Span("抓拍", className="alert-badge snapshot", title="snapshot"))
    return html.Div(
        id=f"alert-{alert.id}",
        className=f"alert-item severity-{alert.severity.value} state-{alert.state}",
        title=alert.title,
        **{"data-first-seen": alert.first_seen.isoformat()},
        children=[
            html.Div(SEVERITY_LABELS[alert.severity][0], className="alert-severity"),
            html.Div(
                className="alert-body",
                children=[
                    html.Div(
                        className="alert-title",
                        children=[
                            html.Span(chinese, className="alert-type"),
                            html.Span(english, className="alert-type-en"),
                            *badges,
                        ],
                    ),
                    html.Div(f"{alert.grid_name} · {alert.device_name}", className="alert-where"),
                ],
            ),
            html.Div(
                className="alert-meta",
                children=[
                    html.Div(format_age(alert.first_seen, now), className="alert-age"),
                    html.Div(
                        ALERT_STATE_LABELS.get(alert.state, alert.state),
                        className="alert-state",
                    ),
                ],
            ),
        ],
    )


def alert_items(alerts: list[AlertRow], now: datetime) -> list[html.Div]:
    """Rows for the list, in the order given (the query returns newest first)."""
    if not alerts:
        return [html.Div("暂无告警 · no alerts", className="alert-empty")]
    return [alert_item(a, now) for a in alerts]
