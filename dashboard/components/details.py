"""What opens on a click: an alert's evidence and work order, a grid's people and orders."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from dash import dcc, html

from dashboard.components.charts import sensor_figure, trajectory_figure
from dashboard.detail_queries import AlertDetail, EvidenceItem, GridDetail
from dashboard.evidence_route import evidence_url
from dashboard.labels import (
    ALERT_STATE_TEXT,
    SEVERITY_TEXT,
    WORK_ORDER_STATE_TEXT,
    Language,
    alert_type_text,
    format_age,
    pick,
    t,
)
from gridwatch.domain import Severity

CHART_CONFIG = {"displayModeBar": False, "responsive": True}


def clip_path(details: dict[str, Any]) -> str | None:
    """The evidence clip's path relative to the evidence root, wherever the alert keeps it.

    Accepted shapes: {"clip": "p"}, {"clip": {"path": "p"}}, {"clip_path": "p"},
    {"evidence": {"clip": "p" | {"path": "p"}}}.
    """
    for holder in (details, details.get("evidence") or {}):
        if not isinstance(holder, dict):
            continue
        clip = holder.get("clip", holder.get("clip_path"))
        if isinstance(clip, dict):
            clip = clip.get("path")
        if isinstance(clip, str) and Path(clip).suffix.lower() in {".mp4", ".webm"}:
            return clip
    return None


def _size_text(size_bytes: int) -> str:
    if size_bytes >= 1_000_000:
        return f"{size_bytes / 1_000_000:.1f} MB"
    return f"{max(1, round(size_bytes / 1000))} kB"


def _evidence_files(items: list[EvidenceItem], lang: Language) -> html.Ul:
    """Every stored file of the alert with its SHA-256: what was recorded, and proof of it."""
    rows = []
    for item in items:
        facts = [t(item.kind if item.kind in ("snapshot", "clip") else "clip", lang)]
        if item.seconds is not None and item.kind == "clip":
            facts.append(f"{item.seconds:.1f} s · {item.frames} {t('frames', lang)}")
        facts.append(_size_text(item.size_bytes))
        rows.append(
            html.Li(
                [
                    html.A(" · ".join(facts), href=evidence_url(item.path), target="_blank"),
                    html.Code(item.sha256[:16], title=item.sha256, className="sha"),
                ],
                **{"data-sha256": item.sha256},
            )
        )
    return html.Ul(rows, id="detail-evidence-files", className="evidence-files")


def _evidence(detail: AlertDetail, lang: Language) -> list[Any]:
    parts: list[Any] = []
    if detail.snapshot_path:
        parts.append(
            html.Img(
                id="detail-snapshot", src=evidence_url(detail.snapshot_path), className="detail-img"
            )
        )
    else:
        parts.append(html.Div(t("no_snapshot", lang), className="panel-empty"))
    # The newest clip in the evidence table; an alert written before the table existed
    # still names its clip in its details.
    clip = detail.clips[0].path if detail.clips else clip_path(detail.details)
    if clip:
        parts.append(
            html.Video(
                id="detail-clip",
                src=evidence_url(clip),
                controls=True,
                autoPlay=True,
                muted=True,
                loop=True,
                className="detail-video",
            )
        )
    if detail.evidence:
        parts.append(html.H3(t("evidence_files", lang)))
        parts.append(_evidence_files(detail.evidence, lang))
    return parts


def _analysis(detail: AlertDetail, lang: Language) -> list[Any]:
    parts: list[Any] = []
    trajectory = detail.details.get("trajectory")
    if isinstance(trajectory, list) and trajectory:
        floor = detail.details.get("floor")
        parts.append(
            html.H3(
                [t("trajectory", lang)]
                + (
                    [html.Span(f" · {t('floor', lang)} {floor}F", id="detail-floor")]
                    if floor
                    else []
                )
            )
        )
        parts.append(
            dcc.Graph(
                id="detail-trajectory", figure=trajectory_figure(trajectory), config=CHART_CONFIG
            )
        )
    if detail.sensors:
        parts.append(html.H3(t("sensor_curves", lang)))
        parts.append(
            dcc.Graph(
                id="detail-sensors",
                figure=sensor_figure(detail.sensors, detail.first_seen),
                config=CHART_CONFIG,
            )
        )
    parts.append(html.H3(t("order_timeline", lang)))
    if not detail.timeline:
        parts.append(html.Div(t("no_order", lang), className="panel-empty"))
    parts.append(
        html.Ol(
            id="detail-timeline",
            className="timeline",
            children=[
                html.Li(
                    [
                        html.Span(step.time.astimezone().strftime("%H:%M:%S"), className="tl-time"),
                        html.B(
                            pick(
                                WORK_ORDER_STATE_TEXT.get(step.to_state, (step.to_state,) * 2), lang
                            )
                        ),
                        html.Span(f" {step.actor}", className="tl-actor"),
                        html.Span(f" {step.note}" if step.note else "", className="tl-note"),
                    ]
                )
                for step in detail.timeline
            ],
        )
    )
    return parts


def alert_detail_panel(detail: AlertDetail, now: datetime, lang: Language) -> list[Any]:
    """The detail overlay's content: heading, evidence on the left, analysis on the right."""
    severity = Severity(detail.severity)
    state = pick(ALERT_STATE_TEXT.get(detail.state, (detail.state,) * 2), lang)
    ack = (
        html.Button(t("acknowledge", lang), id="ack-alert", className="ack-button")
        if detail.state == "active"
        else html.Button(state, id="ack-alert", className="ack-button done", disabled=True)
    )
    return [
        html.Div(
            className=f"detail-head severity-{severity.value}",
            children=[
                html.Span(pick(SEVERITY_TEXT[severity], lang), className="alert-severity"),
                html.H2(alert_type_text(detail.type, lang)),
                html.Span(
                    f"{detail.grid_name} · {detail.device_name} · "
                    f"{format_age(detail.first_seen, now, lang)} · {state}",
                    className="detail-where",
                ),
                ack,
                html.Button(t("close", lang), id="detail-close", className="close-button"),
            ],
        ),
        html.Div(
            className="detail-body",
            **{"data-alert-id": str(detail.id)},
            children=[
                html.Div(_evidence(detail, lang), className="detail-evidence"),
                html.Div(_analysis(detail, lang), className="detail-analysis"),
            ],
        ),
    ]


def grid_detail_panel(grid: GridDetail, now: datetime, lang: Language) -> list[Any]:
    """A grid's figures, who is on duty now and its open work orders."""
    return [
        html.Div(
            className="grid-detail-head",
            children=[
                html.H3(grid.name),
                html.Span(grid.community_name or "", className="grid-community"),
            ],
        ),
        html.Div(
            className="grid-figures",
            children=[
                html.Div([html.B(grid.open_alerts), html.Span(t("open_alerts", lang))]),
                html.Div(
                    [
                        html.B(f"{grid.devices_online}/{grid.devices_total}"),
                        html.Span(t("devices_online", lang)),
                    ]
                ),
                html.Div([html.B(len(grid.open_orders)), html.Span(t("open_orders", lang))]),
            ],
        ),
        html.Div(
            [
                html.Span(f"{t('on_duty', lang)}: ", className="muted"),
                html.B(", ".join(grid.on_duty) or t("nobody_on_duty", lang), id="grid-on-duty"),
            ],
            className="grid-duty",
        ),
        html.Ul(
            className="grid-orders",
            children=[
                html.Li(
                    f"{pick(WORK_ORDER_STATE_TEXT.get(state, (state,) * 2), lang)} · {title}"
                    f" · {format_age(created, now, lang)}"
                )
                for _, title, state, created in grid.open_orders
            ],
        ),
    ]
