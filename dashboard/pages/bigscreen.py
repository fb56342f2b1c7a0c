"""The command-centre big screen: figures, the grid map, alerts, dispatch, events, cameras.

Designed for a 1920x1080 wall in a dark room and still whole at 1366x768. The whole screen
is drawn in one language from the translation table; switching re-renders it. Refreshes
come from two clocks: a full one every `dashboard_refresh_ms`, and a cheap watch every
WATCH_MS that asks whether an alert changed (the server LISTENs for NOTIFY) and refreshes at
once when one did. The map figure is only sent again when what it shows has changed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from dash import Dash, Input, Output, State, callback_context, dcc, html, no_update

from dashboard.components.alert_list import alert_items
from dashboard.components.boards import camera_tiles, dispatch_rows
from dashboard.components.charts import trend_figure
from dashboard.components.grid_map import MAP_STYLE_ASSET, empty_map_figure, grid_map_figure
from dashboard.components.header import header
from dashboard.components.tiles import key_figures
from dashboard.labels import (
    DEFAULT_LANGUAGE,
    DEVICE_KIND_COLORS,
    NO_ALERT_FILL,
    OFFLINE_COLOR,
    SEVERITY_COLORS,
    SEVERITY_TEXT,
    Language,
    device_kind_text,
    language_of,
    pick,
    t,
)
from dashboard.pages import Page, bigscreen_clicks
from dashboard.queries import BigScreenData, DashboardQueries
from gridwatch.domain import Severity
from gridwatch.settings import Settings

log = logging.getLogger(__name__)

ALERT_LIST_LENGTH = 30
WATCH_MS = 400  # how often a browser asks "did an alert change?" (a tiny request)
CAMERA_WALL_SIZE = 4
MAP_LEGEND_KINDS = ("fire_lane_camera", "elevator_camera", "facade_camera", "shed_camera")
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}

# Updates the wall clock in the browser, once a second, without a server round trip.
CLOCK_JS = """
function (_n) {
    const now = new Date();
    const pad = (v) => String(v).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ` +
        `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
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


def _legend(lang: Language) -> html.Div:
    def item(color: str, text: str, shape: str = "swatch") -> html.Span:
        return html.Span(
            [html.I(className=shape, style={"background": color}), text], className="legend-item"
        )

    items = [item(SEVERITY_COLORS[s], pick(SEVERITY_TEXT[s], lang)) for s in Severity]
    items.append(item(NO_ALERT_FILL, t("normal", lang)))
    items += [
        item(DEVICE_KIND_COLORS[k], device_kind_text(k, lang), "dot") for k in MAP_LEGEND_KINDS
    ]
    items.append(item(OFFLINE_COLOR, t("offline", lang), "dot"))
    return html.Div(items, className="map-legend")


def _panel(
    title_key: str, lang: Language, body: Any, class_name: str, extra: Any = None
) -> html.Section:
    return html.Section(
        className=f"panel {class_name}",
        children=[html.Div([html.H2(t(title_key, lang)), extra], className="panel-title"), body],
    )


def screen(settings: Settings, lang: Language) -> list[Any]:
    """Every panel of the screen in one language, with the stores and clocks that drive it."""
    event_filters = html.Div(
        className="event-filters",
        children=[
            dcc.Dropdown(
                id="community-filter", placeholder=t("all_communities", lang), clearable=True
            ),
            dcc.Dropdown(id="grid-filter", placeholder=t("all_grids", lang), clearable=True),
        ],
    )
    return [
        header(settings.site_id, lang),
        html.Section(id="key-figures", className="key-figures"),
        html.Main(
            className="screen-main",
            children=[
                html.Div(
                    className="side-column",
                    children=[
                        _panel(
                            "trend_24h",
                            lang,
                            dcc.Graph(
                                id="trend-chart", className="trend-chart", config=GRAPH_CONFIG
                            ),
                            "trend-panel",
                        ),
                        _panel(
                            "dispatch_board",
                            lang,
                            html.Div(id="dispatch-board", className="board-list"),
                            "board-panel",
                        ),
                    ],
                ),
                html.Div(
                    className="center-column",
                    children=[
                        _panel(
                            "grid_map",
                            lang,
                            html.Div(
                                className="map-holder",
                                children=[
                                    dcc.Graph(
                                        id="grid-map",
                                        className="grid-map",
                                        figure=empty_map_figure(),
                                        config={**GRAPH_CONFIG, "scrollZoom": True},
                                    ),
                                    html.Div(id="grid-detail", className="grid-detail hidden"),
                                ],
                            ),
                            "map-panel",
                            _legend(lang),
                        ),
                        _panel(
                            "camera_wall",
                            lang,
                            html.Div(id="camera-wall", className="camera-wall"),
                            "camera-panel",
                        ),
                    ],
                ),
                html.Div(
                    className="side-column right",
                    children=[
                        _panel(
                            "live_alerts",
                            lang,
                            html.Div(id="alert-list", className="alert-list"),
                            "alert-panel",
                        ),
                        _panel(
                            "grid_events",
                            lang,
                            html.Div(id="event-feed", className="event-feed"),
                            "events-panel",
                            event_filters,
                        ),
                    ],
                ),
            ],
        ),
        html.Div(id="alert-detail", className="alert-detail hidden"),
        dcc.Interval(id="refresh", interval=settings.dashboard_refresh_ms),
        dcc.Interval(id="watch", interval=WATCH_MS),
        dcc.Interval(id="clock-tick", interval=1000),
        dcc.Store(id="map-signature"),
        dcc.Store(id="trend-signature"),
        dcc.Store(id="map-size"),
        dcc.Store(id="last-read"),
        dcc.Store(id="seen-version"),
        dcc.Store(id="selected-alert"),
        dcc.Store(id="ack-version", data=0),
        dcc.Store(id="screen-language", data=lang),
    ]


def layout(settings: Settings) -> html.Div:
    return html.Div(
        className="bigscreen-shell",
        children=[
            # Remembered in the browser, so a wall that was switched to English stays so.
            dcc.Store(id="language", storage_type="local"),
            html.Div(
                id="screen", className="bigscreen", children=screen(settings, DEFAULT_LANGUAGE)
            ),
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
    lang: Language = DEFAULT_LANGUAGE,
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
        since = f" · {t('stale_since', lang)} {last_read}" if last_read else ""
        return ScreenUpdate(
            figure=no_update,
            signature=no_update,
            alerts=no_update,
            tiles=no_update,
            status=f"{t('db_down', lang)}{since}",
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
        alerts=alert_items(data.alerts, data.read_at, lang),
        tiles=key_figures(data.open_alerts, data.work_orders, data.devices, data.figures, lang),
        status=f"{t('live', lang)} · {read_at}",
        status_class="status-ok",
        last_read=read_at,
    )


def refresh_side_panels(
    queries: DashboardQueries, shown_trend: str | None, lang: Language
) -> tuple[Any, Any, Any, Any]:
    """The trend chart (only when its data changed), the dispatch board and the camera wall."""
    try:
        figures = queries.day_figures()
        board = queries.dispatch_board()
        frames = queries.camera_frames(count=CAMERA_WALL_SIZE)
    except psycopg.Error as err:
        log.warning("side panels refresh failed, keeping them: %s", err)
        return no_update, no_update, no_update, no_update
    now = datetime.now(UTC)
    trend_signature = hashlib.sha256(repr((figures.trend, lang)).encode()).hexdigest()
    trend = no_update if trend_signature == shown_trend else trend_figure(figures.trend, lang)
    return trend, trend_signature, dispatch_rows(board, now, lang), camera_tiles(frames, now, lang)


def register_callbacks(app: Dash, queries: DashboardQueries, settings: Settings) -> None:
    map_style = app.get_asset_url(MAP_STYLE_ASSET)

    @app.callback(Output("screen", "children"), Input("language", "data"))
    def render_in_language(stored: Any) -> Any:
        lang = language_of(stored)
        if callback_context.triggered_id is None and lang == DEFAULT_LANGUAGE:
            return no_update  # the page was served in it already
        return screen(settings, lang)

    @app.callback(
        Output("language", "data"),
        Input("lang-toggle", "n_clicks"),
        State("screen-language", "data"),
        prevent_initial_call=True,
    )
    def toggle_language(clicks: int | None, shown: Any) -> Any:
        if not clicks:
            return no_update
        return "en" if language_of(shown) == "zh" else "zh"

    @app.callback(
        Output("seen-version", "data"),
        Input("watch", "n_intervals"),
        State("seen-version", "data"),
    )
    def watch(_n: int | None, seen: Any) -> Any:
        version = queries.change_version()
        return no_update if version == seen else version

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
        Input("seen-version", "data"),
        Input("ack-version", "data"),
        State("map-signature", "data"),
        State("last-read", "data"),
        State("screen-language", "data"),
    )
    def refresh(
        _n: Any,
        map_size: Any,
        _v: Any,
        _a: Any,
        shown: str | None,
        last_read: str | None,
        lang: Any,
    ) -> tuple[Any, ...]:
        update = refresh_screen(queries, shown, last_read, map_size, map_style, language_of(lang))
        return update.as_outputs()

    @app.callback(
        Output("trend-chart", "figure"),
        Output("trend-signature", "data"),
        Output("dispatch-board", "children"),
        Output("camera-wall", "children"),
        Input("refresh", "n_intervals"),
        Input("seen-version", "data"),
        State("trend-signature", "data"),
        State("screen-language", "data"),
    )
    def refresh_side(_n: Any, _v: Any, shown_trend: str | None, lang: Any) -> tuple[Any, ...]:
        return refresh_side_panels(queries, shown_trend, language_of(lang))

    bigscreen_clicks.register_callbacks(app, queries)

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
