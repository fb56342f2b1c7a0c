"""Key-figure tiles: open alerts by severity, work orders by stage, devices online."""

from __future__ import annotations

from dash import html

from dashboard.labels import SEVERITY_LABELS
from dashboard.queries import DeviceCounts, WorkOrderCounts
from gridwatch.domain import Severity, WorkOrderState

W = WorkOrderState

# The closed loop folded into the stages an operator tracks from the wall.
WORK_ORDER_STAGES: list[tuple[str, str, str, tuple[WorkOrderState, ...]]] = [
    ("reported", "待受理", "to accept", (W.REPORTED,)),
    ("handling", "处置中", "in hand", (W.ACCEPTED, W.DISPATCHED, W.IN_PROGRESS)),
    ("checking", "待核查", "to verify", (W.RESOLVED, W.VERIFIED)),
]


def tile(
    tile_id: str,
    value: int | str,
    label: str,
    label_en: str,
    kind: str,
    note: str = "",
    out_of: int | None = None,
) -> html.Div:
    """One figure with its caption; `kind` picks the colour in the style sheet.

    `out_of` adds a smaller "/total" after the figure, so "176/180" fits a narrow tile.
    """
    figure: list[object] = [str(value)]
    if out_of is not None:
        figure.append(html.Span(f"/{out_of}", className="tile-value-total"))
    return html.Div(
        id=f"tile-{tile_id}",
        className=f"tile tile-{kind}",
        children=[
            html.Div(figure, className="tile-value"),
            html.Div(
                className="tile-label",
                children=[html.Span(label), html.Span(label_en, className="tile-label-en")],
            ),
            html.Div(note, className="tile-note") if note else None,
        ],
    )


def _group(title: str, title_en: str, tiles: list[html.Div], group_id: str) -> html.Div:
    return html.Div(
        id=f"figures-{group_id}",
        className="tile-group",
        children=[
            html.Div(
                [html.Span(title), html.Span(title_en, className="tile-label-en")],
                className="tile-group-title",
            ),
            html.Div(tiles, className="tile-row"),
        ],
    )


def key_figures(
    open_alerts: dict[Severity, int], work_orders: WorkOrderCounts, devices: DeviceCounts
) -> list[html.Div]:
    """The tile row: three groups, each a few large numbers."""
    alert_tiles = [
        tile(
            f"alerts-{severity.value}",
            open_alerts.get(severity, 0),
            *SEVERITY_LABELS[severity],
            kind=f"severity-{severity.value}" if open_alerts.get(severity, 0) else "quiet",
        )
        for severity in Severity
    ]
    order_tiles = [
        tile(f"orders-{key}", work_orders.count(*states), label, label_en, kind="orders")
        for key, label, label_en, states in WORK_ORDER_STAGES
    ]
    order_tiles.append(
        tile(
            "orders-overdue",
            work_orders.overdue,
            "逾期",
            "overdue",
            kind="overdue" if work_orders.overdue else "quiet",
        )
    )
    device_tiles = [
        tile(
            "devices-online",
            devices.online,
            "在线",
            "online",
            kind="online",
            out_of=devices.total,
        ),
        tile(
            "devices-offline",
            devices.offline,
            "离线",
            "offline",
            kind="offline" if devices.offline else "quiet",
            note=f"未上报 {devices.unknown}" if devices.unknown else "",
        ),
    ]
    return [
        _group("开放告警", "open alerts", alert_tiles, "alerts"),
        _group("工单", "work orders", order_tiles, "orders"),
        _group("设备", "devices", device_tiles, "devices"),
    ]
