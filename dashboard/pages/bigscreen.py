"""The command-centre big screen: figures, the grid map, alerts, dispatch, events, cameras.

Designed for a 1920x1080 wall in a dark room and still whole at 1366x768. The whole screen
is drawn in one language from the translation table; switching re-renders it. Refreshes
come from two clocks: a full one every `dashboard_refresh_ms`, and a watch in the browser
(assets/screen_watch.js) that keeps one request open until an alert changes (the server
LISTENs for NOTIFY) and then refreshes the alert list and figures at once; the map and side
panels follow on the full refresh's clock. The whole map goes to a browser once;
after that only what changed on it travels, as a Patch, and a panel whose content did not
change is not sent again (dashboard/unchanged.py). The three lists travel as plain JSON and
are drawn in the browser (assets/screen_lists.js, components/screen_list.py).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from dash import (
    ClientsideFunction,
    Dash,
    Input,
    Output,
    State,
    dcc,
    html,
    no_update,
)
from flask import Response, jsonify, request

from dashboard.camera_wall import DrawnFrames, live_frames, register_camera_route, wall_tiles
from dashboard.components.alert_list import alert_rows
from dashboard.components.boards import camera_tiles, dispatch_rows
from dashboard.components.charts import trend_figure
from dashboard.components.grid_map import MAP_STYLE_ASSET, empty_map_figure, map_update
from dashboard.components.header import header
from dashboard.components.screen_list import list_panel_body
from dashboard.components.tiles import key_figures
from dashboard.labels import (
    DEFAULT_LANGUAGE,
    DEVICE_KIND_COLORS,
    NO_ALERT_FILL,
    OFFLINE_COLOR,
    SENSOR_COLOR,
    SEVERITY_COLORS,
    SEVERITY_TEXT,
    Language,
    device_kind_text,
    language_of,
    pick,
    t,
)
from dashboard.pages import Page, bigscreen_clicks
from dashboard.queries import DashboardQueries
from dashboard.unchanged import shown_part, unless_shown
from gridwatch.domain import Severity
from gridwatch.settings import Settings

log = logging.getLogger(__name__)

ALERT_LIST_LENGTH = 30
# The wall clock, the map panel's size and the "did an alert change?" long poll of
# VERSION_PATH run in assets/screen_watch.js, outside Dash's store (see there why).
VERSION_PATH = "/screen/version"
VERSION_WAIT_S = 20.0  # how long one long poll is held open when nothing changes
MAP_FALLBACK_TICKS = 5
CAMERA_WALL_SIZE = 4
MAP_LEGEND_KINDS = ("fire_lane_camera", "elevator_camera", "facade_camera", "shed_camera")
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def _legend(lang: Language) -> html.Div:
    def item(color: str, text: str, shape: str = "swatch") -> html.Span:
        return html.Span(
            [html.I(className=shape, style={"--mark": color}), text], className="legend-item"
        )

    items = [item(SEVERITY_COLORS[s], pick(SEVERITY_TEXT[s], lang)) for s in Severity]
    items.append(item(NO_ALERT_FILL, t("normal", lang)))
    items += [
        item(DEVICE_KIND_COLORS[k], device_kind_text(k, lang), "dot") for k in MAP_LEGEND_KINDS
    ]
    items.append(item(SENSOR_COLOR, t("sensors", lang), "dot"))
    items.append(item(OFFLINE_COLOR, t("offline", lang), "ring"))
    return html.Div(items, className="map-legend")


def _panel(
    title_key: str, lang: Language, body: Any, class_name: str, extra: Any = None
) -> html.Section:
    return html.Section(
        className=f"panel {class_name}",
        children=[
            html.Div([html.H2(t(title_key, lang)), extra], className="panel-title"),
            *(body if isinstance(body, list) else [body]),
        ],
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
                            list_panel_body("dispatch-board", "board-list"),
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
                                    # The close button is always in the page: a callback's
                                    # Input must exist when the page loads, or Dash refuses
                                    # the whole callback (and the grid click with it).
                                    html.Div(
                                        id="grid-detail",
                                        className="grid-detail hidden",
                                        children=[
                                            html.Button(
                                                "×",
                                                id="grid-detail-close",
                                                className="close-button grid-detail-close",
                                            ),
                                            html.Div(id="grid-detail-body"),
                                        ],
                                    ),
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
                            list_panel_body("alert-list", "alert-list"),
                            "alert-panel",
                        ),
                        _panel(
                            "grid_events",
                            lang,
                            list_panel_body("event-feed", "event-feed"),
                            "events-panel",
                            event_filters,
                        ),
                    ],
                ),
            ],
        ),
        html.Div(id="alert-detail", className="alert-detail hidden"),
        dcc.Interval(id="refresh", interval=settings.dashboard_refresh_ms),
        dcc.Store(id="map-signature"),
        dcc.Store(id="wall-grid"),  # the grid clicked on the map: the wall shows its cameras
        dcc.Store(id="trend-signature"),
        dcc.Store(id="map-size"),
        dcc.Store(id="last-read"),
        dcc.Store(id="shown-panels"),
        dcc.Store(id="shown-side"),
        dcc.Store(id="shown-events"),
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


@dataclass(frozen=True)
class ScreenUpdate:
    figure: Any
    signature: Any
    alerts: Any
    tiles: Any
    status: str
    status_class: str
    last_read: Any
    shown_panels: Any = no_update  # digests of the alert list and tiles as sent

    def as_outputs(self) -> tuple[Any, ...]:
        return (
            self.figure,
            self.signature,
            self.alerts,
            self.tiles,
            self.status,
            self.status_class,
            self.last_read,
            self.shown_panels,
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
    shown_signature: Any,
    last_read: str | None,
    map_size: Any = None,
    map_style: str = "white-bg",
    lang: Language = DEFAULT_LANGUAGE,
    draw_map: bool = True,
    shown_panels: Any = None,
) -> ScreenUpdate:
    """Read a snapshot and turn it into the screen's new content.

    When the database cannot be read, everything already on the wall stays and the header
    says since when the figures are stale. map_size is the map panel's size as the browser
    reported it; map_style the URL of the map's style. draw_map False leaves the map as it
    is (the page's first refresh, while the panel's size is not known yet). shown_panels
    holds the digests of the list and tiles the browser has; unchanged ones are not resent.
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
    figure, signature = (
        map_update(data.map, shown_signature, _panel_size(map_size), map_style)
        if draw_map
        else (no_update, no_update)
    )
    read_at = data.read_at.astimezone().strftime("%H:%M:%S")
    alerts, alerts_digest = unless_shown(
        alert_rows(data.alerts, data.read_at, lang), shown_part(shown_panels, "alerts")
    )
    tiles, tiles_digest = unless_shown(
        key_figures(data.open_alerts, data.work_orders, data.devices, data.figures, lang),
        shown_part(shown_panels, "tiles"),
    )
    return ScreenUpdate(
        figure=figure,
        signature=signature,
        alerts=alerts,
        tiles=tiles,
        status=f"{t('live', lang)} · {read_at}",
        status_class="status-ok",
        last_read=read_at,
        shown_panels={"alerts": alerts_digest, "tiles": tiles_digest},
    )


def refresh_side_panels(
    queries: DashboardQueries,
    shown_trend: str | None,
    lang: Language,
    shown_side: Any = None,
    evidence_dir: Path | None = None,
    wall_grid: str | None = None,
) -> tuple[Any, Any, Any, Any, Any]:
    """The trend chart, the dispatch board and the camera wall, each only when it changed.

    evidence_dir is where ingest keeps each camera's newest frame (None: snapshots only).
    wall_grid: the grid the operator chose on the map; the wall then shows its cameras only.
    Returns (trend, its signature, board, camera wall, digests of board and wall).
    """
    try:
        figures = queries.day_figures()
        board = queries.dispatch_board()
        chosen = queries.grid_cameras(wall_grid) if wall_grid else None
        if chosen is None:
            frames = queries.camera_frames(count=CAMERA_WALL_SIZE)
        else:
            frames = queries.camera_frames(chosen, CAMERA_WALL_SIZE) if chosen else []
        live = live_frames(evidence_dir) if evidence_dir else {}
        if chosen is not None:
            live = {device: feed for device, feed in live.items() if device in chosen}
        # Names only for cameras shown for their live feed alone (the layout is cached).
        names = {d.id: d.name for d in queries.map_layout().devices} if live else {}
    except psycopg.Error as err:
        log.warning("side panels refresh failed, keeping them: %s", err)
        return no_update, no_update, no_update, no_update, no_update
    now = datetime.now(UTC)
    tiles = wall_tiles(frames, live, names, CAMERA_WALL_SIZE, now)
    # The trend's 24 hours slide with the clock: redrawn every 10 minutes even if unchanged.
    window = now.replace(minute=now.minute // 10 * 10, second=0, microsecond=0)
    trend_signature = hashlib.sha256(repr((figures.trend, lang, window)).encode()).hexdigest()
    trend = no_update if trend_signature == shown_trend else trend_figure(figures.trend, lang, now)
    rows, rows_digest = unless_shown(
        dispatch_rows(board, now, lang), shown_part(shown_side, "board")
    )
    wall, wall_digest = unless_shown(
        camera_tiles(tiles, now, lang), shown_part(shown_side, "cameras")
    )
    return trend, trend_signature, rows, wall, {"board": rows_digest, "cameras": wall_digest}


def register_callbacks(app: Dash, queries: DashboardQueries, settings: Settings) -> None:
    map_style = app.get_asset_url(MAP_STYLE_ASSET)

    @app.callback(
        Output("screen", "children"),
        Input("language", "data"),
        State("screen-language", "data"),
    )
    def render_in_language(stored: Any, shown: Any) -> Any:
        lang = language_of(stored)
        # Compared with what is shown, not with how the callback was triggered: the page
        # arrives through the router's callback, and Dash then reports this one as
        # triggered by the store, which re-rendered every panel (and sent the map) twice.
        if lang == language_of(shown):
            return no_update
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

    # Asked by assets/screen_watch.js; the version moves whenever ingest or the screen
    # announces an alert change (NOTIFY), and the page then refreshes at once. With
    # ?after=N the answer waits until the version is no longer N (or VERSION_WAIT_S).
    def screen_version() -> Response:
        seen = request.args.get("after", type=int)
        if seen is None:
            return jsonify(version=queries.change_version())
        return jsonify(version=queries.wait_for_change(seen, VERSION_WAIT_S))

    app.server.add_url_rule(VERSION_PATH, endpoint="screen_version", view_func=screen_version)

    # The whole map (polygons and every device, ~670 kB on the large site) is sent by this
    # callback alone, when the panel reports its size; the refresh below only patches a map
    # the browser has. Sent by the refresh too, the whole map went again with every refresh
    # that left before the first one had landed (Dash drops a superseded answer), up to five
    # times per page load on a busy machine.
    @app.callback(
        Output("grid-map", "figure"),
        Output("map-signature", "data"),
        Input("map-size", "data"),
        State("map-signature", "data"),
    )
    def draw_map(map_size: Any, shown: Any) -> tuple[Any, Any]:
        size = _panel_size(map_size)
        if size is None:
            return no_update, no_update
        try:
            snapshot = queries.map_snapshot()
        except psycopg.Error as err:
            log.warning("map not drawn, keeping what is shown: %s", err)
            return no_update, no_update
        return map_update(snapshot, shown, size, map_style)

    # The lists and figures, and the map's changes, come back as two answers: applying a
    # map patch keeps the browser's main thread busy for a second or more on a PC without a
    # GPU (measured at a load of 27 on 2 cores: the row's answer was in after 0.3 s, the row
    # on screen after 2-4 s), and a new alert's row waited for it in one answer.
    @app.callback(
        Output("alert-list-rows", "data"),
        Output("key-figures", "children"),
        Output("data-status", "children"),
        Output("data-status", "className"),
        Output("last-read", "data"),
        Output("shown-panels", "data"),
        Input("refresh", "n_intervals"),
        Input("seen-version", "data"),
        Input("ack-version", "data"),
        State("last-read", "data"),
        State("screen-language", "data"),
        State("shown-panels", "data"),
    )
    def refresh(
        _n: Any, _v: Any, _a: Any, last_read: str | None, lang: Any, shown_panels: Any
    ) -> tuple[Any, ...]:
        update = refresh_screen(
            queries,
            None,
            last_read,
            lang=language_of(lang),
            draw_map=False,
            shown_panels=shown_panels,
        )
        return update.as_outputs()[2:]

    # On the full refresh's clock only, not at once on an alert change: the new alert's
    # row is drawn first, and the map follows within dashboard_refresh_ms.
    @app.callback(
        Output("grid-map", "figure", allow_duplicate=True),
        Output("map-signature", "data", allow_duplicate=True),
        Input("refresh", "n_intervals"),
        State("map-signature", "data"),
        State("map-size", "data"),
        prevent_initial_call=True,
    )
    def refresh_map(_n: Any, shown: Any, map_size: Any) -> tuple[Any, Any]:
        # A map not drawn yet is draw_map's to send once the panel's size is known. From
        # here it goes only to a panel that never reports a size, or when draw_map has not
        # drawn it within MAP_FALLBACK_TICKS (it failed).
        if shown is None and _panel_size(map_size) is not None and (_n or 0) < MAP_FALLBACK_TICKS:
            return no_update, no_update
        try:
            snapshot = queries.big_screen(alert_limit=ALERT_LIST_LENGTH).map  # shared read
        except psycopg.Error as err:
            log.warning("map refresh failed, keeping what is shown: %s", err)
            return no_update, no_update
        return map_update(snapshot, shown, _panel_size(map_size), map_style)

    # Also on the clock only, like the map: a redrawn trend chart is Plotly's work too, and
    # the order for a new alert is opened by dispatch after the alert's NOTIFY anyway.
    @app.callback(
        Output("trend-chart", "figure"),
        Output("trend-signature", "data"),
        Output("dispatch-board-rows", "data"),
        Output("camera-wall", "children"),
        Output("shown-side", "data"),
        Input("refresh", "n_intervals"),
        Input("wall-grid", "data"),
        State("trend-signature", "data"),
        State("screen-language", "data"),
        State("shown-side", "data"),
    )
    def refresh_side(
        _n: Any, wall_grid: Any, shown_trend: str | None, lang: Any, shown_side: Any
    ) -> tuple[Any, ...]:
        grid = wall_grid if isinstance(wall_grid, str) else None
        return refresh_side_panels(
            queries, shown_trend, language_of(lang), shown_side, settings.evidence_dir(), grid
        )

    # The lists are drawn in the browser from their rows (assets/screen_lists.js).
    for list_id in ("alert-list", "dispatch-board", "event-feed"):
        app.clientside_callback(
            ClientsideFunction(namespace="screen_lists", function_name="draw"),
            Output(list_id, "data-rows"),
            Input(f"{list_id}-rows", "data"),
            State(list_id, "id"),
        )

    bigscreen_clicks.register_callbacks(app, queries)
    register_camera_route(app.server, DrawnFrames(settings.evidence_dir(), queries.open_detections))


PAGE = Page(
    path="/",
    title="GridWatch 网格指挥大屏",
    layout=layout,
    register_callbacks=register_callbacks,
)
