"""The command-centre big screen: key figures, the grid map and the live alert list.

Designed for a 1920x1080 wall in a dark room and still whole at 1366x768. One interval
drives one callback, which reads a single snapshot from the database and redraws the tiles
and the list; the map figure is only sent again when what it shows has changed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard.components.alert_list import alert_items
from dashboard.components.grid_map import MAP_STYLE_ASSET, empty_map_figure, grid_map_figure
from dashboard.components.header import header
from dashboard.components.tiles import key_figures
from dashboard.labels import NO_ALERT_FILL, SEVERITY_COLORS, SEVERITY_LABELS
from dashboard.pages import Page
from dashboard.queries import BigScreenData, DashboardQueries
from gridwatch.domain import Severity
from gridwatch.settings import Settings

log = logging.getLogger(__name__)

ALERT_LIST_LENGTH = 30

# Updates the wall clock in the browser, once a second, without a server round trip.
CLOCK_JS = """
function (_n) {
    const now = new Date();
    const pad = (v) => String(v).padStart(2, "0");
    const days = ["日", "一", "二", "三", "四", "五", "六"];
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ` +
        `星期${days[now.getDay()]}  ${pad(now.getHours())}:${pad(now.getMinutes())}:` +
        `${pad(now.getSeconds())}`;
}
"""

# Reports the map panel's pixel size when it changes, so the server can zoom the map to fit
# the grids into the panel this screen really has.
MAP_SIZE_JS = """
function (_n, known) {
    const panel = document.getElementById("grid-map");
    if (!panel || !panel.clientWidth || !panel.clientHeight) {
        return window.dash_clientside.no_update;
    }
    const size = [panel.clientWidth, panel.clientHeight];
    if (known && known[0] === size[0] && known[1] === size[1]) {
        return window.dash_clientside.no_update;
    }
    return size;
}
"""


def _legend() -> html.Div:
    swatches = [
        html.Span(
            [
                html.I(className="swatch", style={"background": SEVERITY_COLORS[s]}),
                SEVERITY_LABELS[s][0],
            ],
            className="legend-item",
        )
        for s in Severity
    ]
    swatches.append(
        html.Span(
            [html.I(className="swatch", style={"background": NO_ALERT_FILL}), "正常"],
            className="legend-item",
        )
    )
    return html.Div(swatches, className="map-legend")


def layout(settings: Settings) -> html.Div:
    return html.Div(
        className="bigscreen",
        children=[
            header(settings.site_id),
            html.Section(id="key-figures", className="key-figures"),
            html.Main(
                className="screen-main",
                children=[
                    html.Section(
                        className="panel map-panel",
                        children=[
                            html.Div(
                                [
                                    html.H2(["网格态势", html.Span("grid map", className="en")]),
                                    _legend(),
                                ],
                                className="panel-title",
                            ),
                            dcc.Graph(
                                id="grid-map",
                                className="grid-map",
                                figure=empty_map_figure(),
                                config={
                                    "displayModeBar": False,
                                    "scrollZoom": True,
                                    "responsive": True,
                                },
                            ),
                        ],
                    ),
                    html.Aside(
                        className="panel alert-panel",
                        children=[
                            html.Div(
                                html.H2(["实时告警", html.Span("live alerts", className="en")]),
                                className="panel-title",
                            ),
                            html.Div(id="alert-list", className="alert-list"),
                        ],
                    ),
                ],
            ),
            dcc.Interval(id="refresh", interval=settings.dashboard_refresh_ms),
            dcc.Interval(id="clock-tick", interval=1000),
            dcc.Store(id="map-signature"),
            dcc.Store(id="map-size"),
            dcc.Store(id="last-read"),
        ],
    )


def map_signature(data: BigScreenData, size_px: tuple[int, int] | None) -> str:
    """A digest of what the map draws; equal digests mean the figure need not be resent."""
    digest = hashlib.sha256(repr((data.grids, data.markers, size_px)).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ScreenUpdate:
    figure: Any
    signature: Any
    alerts: Any
    tiles: Any
    status: str
    status_class: str
    last_read: Any

    def as_outputs(self) -> tuple[Any, ...]:
        return (
            self.figure,
            self.signature,
            self.alerts,
            self.tiles,
            self.status,
            self.status_class,
            self.last_read,
        )


def _panel_size(measured: Any) -> tuple[int, int] | None:
    """The (width, height) the browser reported, if it is a usable pair of pixel counts."""
    if (
        isinstance(measured, list | tuple)
        and len(measured) == 2
        and all(isinstance(v, int) and v > 50 for v in measured)
    ):
        return int(measured[0]), int(measured[1])
    return None


def refresh_screen(
    queries: DashboardQueries,
    shown_signature: str | None,
    last_read: str | None,
    map_size: Any = None,
    map_style: str = "white-bg",
) -> ScreenUpdate:
    """Read a snapshot and turn it into the screen's new content.

    When the database cannot be read, everything already on the wall stays and the header
    says since when the figures are stale. map_size is the map panel's size as the browser
    reported it; map_style the URL of the map's style.
    """
    try:
        data = queries.big_screen(alert_limit=ALERT_LIST_LENGTH)
    except psycopg.Error as err:  # includes the pool's timeout when no connection comes
        log.warning("big screen refresh failed, keeping the last figures: %s", err)
        since = f"，画面停在 {last_read}" if last_read else ""
        return ScreenUpdate(
            figure=no_update,
            signature=no_update,
            alerts=no_update,
            tiles=no_update,
            status=f"数据库不可达 database unreachable{since}",
            status_class="status-error",
            last_read=no_update,
        )
    size_px = _panel_size(map_size)
    signature = map_signature(data, size_px)
    figure = (
        no_update
        if signature == shown_signature
        else grid_map_figure(data.grids, data.markers, size_px, map_style)
    )
    read_at = data.read_at.astimezone().strftime("%H:%M:%S")
    return ScreenUpdate(
        figure=figure,
        signature=signature,
        alerts=alert_items(data.alerts, data.read_at),
        tiles=key_figures(data.open_alerts, data.work_orders, data.devices),
        status=f"实时 live · {read_at}",
        status_class="status-ok",
        last_read=read_at,
    )


def register_callbacks(app: Dash, queries: DashboardQueries, settings: Settings) -> None:
    map_style = app.get_asset_url(MAP_STYLE_ASSET)

    @app.callback(
        Output("grid-map", "figure"),
        Output("map-signature", "data"),
        Output("alert-list", "children"),
        Output("key-figures", "children"),
        Output("data-status", "children"),
        Output("data-status", "className"),
        Output("last-read", "data"),
        Input("refresh", "n_intervals"),
        # A new panel size redraws at once, so the first fitted view does not wait a tick.
        Input("map-size", "data"),
        State("map-signature", "data"),
        State("last-read", "data"),
    )
    def refresh(
        _n: int | None, map_size: Any, shown_signature: str | None, last_read: str | None
    ) -> tuple[Any, ...]:
        return refresh_screen(queries, shown_signature, last_read, map_size, map_style).as_outputs()

    app.clientside_callback(
        CLOCK_JS, Output("clock", "children"), Input("clock-tick", "n_intervals")
    )
    app.clientside_callback(
        MAP_SIZE_JS,
        Output("map-size", "data"),
        Input("clock-tick", "n_intervals"),
        State("map-size", "data"),
    )


PAGE = Page(
    path="/",
    title="GridWatch 网格指挥大屏",
    layout=layout,
    register_callbacks=register_callbacks,
)
