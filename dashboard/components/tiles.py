"""Key-figure tiles: open alerts, today's alerts by type, work orders, speed, devices."""

from __future__ import annotations

from dash import html

from dashboard.figures_queries import DayFigures
from dashboard.labels import SEVERITY_TEXT, Language, alert_type_text, format_duration, pick, t
from dashboard.queries import DeviceCounts, WorkOrderCounts
from gridwatch.domain import Severity, WorkOrderState

W = WorkOrderState
TODAY_TYPES_SHOWN = 3  # the busiest types today; the rest are summed as "+n"


def tile(
    tile_id: str,
    value: int | str,
    label: str,
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
            html.Div(label, className="tile-label"),
            html.Div(note, className="tile-note") if note else None,
        ],
    )


def _group(title: str, tiles: list[html.Div], group_id: str) -> html.Div:
    return html.Div(
        id=f"figures-{group_id}",
        className="tile-group",
        children=[
            html.Div(title, className="tile-group-title"),
            html.Div(tiles, className="tile-row"),
        ],
    )


def _today_tiles(figures: DayFigures, lang: Language) -> list[html.Div]:
    """Today's total, then the busiest types; the quieter ones are summed in a note."""
    busiest = sorted(figures.today_by_type.items(), key=lambda kv: (-kv[1], kv[0]))
    shown, rest = busiest[:TODAY_TYPES_SHOWN], busiest[TODAY_TYPES_SHOWN:]
    others = sum(n for _, n in rest)
    total = sum(figures.today_by_type.values())
    # The group is titled "today's alerts" already; the first tile is their total.
    tiles = [tile("today-total", total, t("today_total", lang), kind="today-total")]
    for i, (alert_type, n) in enumerate(shown):
        last = i == len(shown) - 1
        note = f"+{others}" if last and others else ""
        tiles.append(
            tile(f"today-{alert_type}", n, alert_type_text(alert_type, lang), "today", note)
        )
    return tiles


def _speed(seconds: float | None, lang: Language) -> str:
    return "—" if seconds is None else format_duration(seconds, lang)


def key_figures(
    open_alerts: dict[Severity, int],
    work_orders: WorkOrderCounts,
    devices: DeviceCounts,
    figures: DayFigures | None = None,
    lang: Language = "zh",
) -> list[html.Div]:
    """The tile row: four groups, each a few large numbers."""
    figures = figures or DayFigures()
    alert_tiles = [
        tile(
            f"alerts-{severity.value}",
            open_alerts.get(severity, 0),
            pick(SEVERITY_TEXT[severity], lang),
            kind=f"severity-{severity.value}" if open_alerts.get(severity, 0) else "quiet",
        )
        for severity in Severity
    ]
    rate = figures.closure_rate
    order_tiles = [
        tile("orders-reported", work_orders.count(W.REPORTED), t("to_accept", lang), "orders"),
        tile(
            "orders-handling",
            work_orders.count(W.ACCEPTED, W.DISPATCHED, W.IN_PROGRESS),
            t("in_hand", lang),
            "orders",
        ),
        tile(
            "orders-overdue",
            work_orders.overdue,
            t("overdue", lang),
            kind="overdue" if work_orders.overdue else "quiet",
        ),
        tile(
            "orders-closure",
            "—" if rate is None else f"{rate:.0%}",
            t("closure_rate", lang),
            kind="orders",
            note=f"{figures.orders_done_today}/{figures.orders_today}",
        ),
        tile(
            "orders-accept",
            _speed(figures.median_accept_s, lang),
            t("median_accept", lang),
            "speed",
        ),
        tile(
            "orders-resolve",
            _speed(figures.median_resolve_s, lang),
            t("median_resolve", lang),
            "speed",
        ),
    ]
    device_tiles = [
        tile("devices-online", devices.online, t("online", lang), "online", out_of=devices.total),
        tile(
            "devices-offline",
            devices.offline,
            t("offline", lang),
            kind="offline" if devices.offline else "quiet",
            note=f"{t('not_reported', lang)} {devices.unknown}" if devices.unknown else "",
        ),
    ]
    return [
        _group(t("open_alerts", lang), alert_tiles, "alerts"),
        _group(t("today_alerts", lang), _today_tiles(figures, lang), "today"),
        _group(t("work_orders", lang), order_tiles, "orders"),
        _group(t("devices", lang), device_tiles, "devices"),
    ]
