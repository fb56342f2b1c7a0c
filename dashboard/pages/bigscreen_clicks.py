"""The big screen's on-demand parts: alert detail and acknowledgement, grid detail, events.

Kept apart from the refresh callbacks in bigscreen.py; these run when an operator clicks
or picks a filter (and the events feed also on each refresh).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import psycopg
from dash import Dash, Input, Output, State, callback_context, no_update

from dashboard.components.boards import event_rows
from dashboard.components.details import alert_detail_panel, grid_detail_panel
from dashboard.labels import language_of, t
from dashboard.map_queries import communities
from dashboard.queries import DashboardQueries
from dashboard.unchanged import unless_shown

log = logging.getLogger(__name__)

# A click on an alert row sets selected-alert from assets/screen_lists.js (the rows are
# plain DOM drawn there, not Dash components).
CLOSE_JS = """
function (clicks) {
    return clicks ? null : window.dash_clientside.no_update;
}
"""


def _grid_from_click(click: Any) -> str | None:
    """The grid id a map click landed on (a grid polygon's location), if any."""
    try:
        point = click["points"][0]
    except (KeyError, IndexError, TypeError):
        return None
    location = point.get("location")
    return location if isinstance(location, str) else None


def register_callbacks(app: Dash, queries: DashboardQueries) -> None:
    app.clientside_callback(
        CLOSE_JS,
        Output("selected-alert", "data", allow_duplicate=True),
        Input("detail-close", "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("alert-detail", "children"),
        Output("alert-detail", "className"),
        Input("selected-alert", "data"),
        Input("ack-version", "data"),
        State("screen-language", "data"),
    )
    def show_alert(alert_id: Any, _ack: Any, stored_lang: Any) -> tuple[Any, str]:
        if not isinstance(alert_id, int):
            return [], "alert-detail hidden"
        try:
            detail = queries.alert_detail(alert_id)
        except psycopg.Error as err:
            log.warning("could not read alert %s: %s", alert_id, err)
            return no_update, no_update
        if detail is None:
            return [], "alert-detail hidden"
        lang = language_of(stored_lang)
        return alert_detail_panel(detail, datetime.now(UTC), lang), "alert-detail"

    @app.callback(
        Output("ack-version", "data"),
        Input("ack-alert", "n_clicks"),
        State("selected-alert", "data"),
        State("ack-version", "data"),
        State("screen-language", "data"),
        prevent_initial_call=True,
    )
    def acknowledge(clicks: Any, alert_id: Any, version: Any, stored_lang: Any) -> Any:
        if not clicks or not isinstance(alert_id, int):
            return no_update
        note = t("acknowledged_by_screen", language_of(stored_lang))
        queries.acknowledge(alert_id, actor="big screen", note=note)
        return (version or 0) + 1

    @app.callback(
        Output("grid-detail-body", "children"),
        Output("grid-detail", "className"),
        Output("wall-grid", "data"),
        Input("grid-map", "clickData"),
        Input("grid-detail-close", "n_clicks"),
        State("screen-language", "data"),
        prevent_initial_call=True,
    )
    def show_grid(click: Any, _close: Any, stored_lang: Any) -> tuple[Any, str, Any]:
        """A clicked grid's panel; the camera wall turns to that grid's cameras until closed."""
        grid_id = _grid_from_click(click)
        if callback_context.triggered_id == "grid-detail-close" or grid_id is None:
            return [], "grid-detail hidden", None
        try:
            grid = queries.grid_detail(grid_id)
        except psycopg.Error as err:
            log.warning("could not read grid %s: %s", grid_id, err)
            return no_update, no_update, no_update
        if grid is None:
            return [], "grid-detail hidden", None
        panel = grid_detail_panel(grid, datetime.now(UTC), language_of(stored_lang))
        return panel, "grid-detail", grid_id

    @app.callback(
        Output("event-feed-rows", "data"),
        Output("community-filter", "options"),
        Output("grid-filter", "options"),
        Output("shown-events", "data"),
        Input("refresh", "n_intervals"),
        Input("seen-version", "data"),
        Input("community-filter", "value"),
        Input("grid-filter", "value"),
        State("community-filter", "options"),
        State("screen-language", "data"),
        State("shown-events", "data"),
    )
    def events(
        _n: Any, _v: Any, community: Any, grid: Any, known: Any, stored_lang: Any, shown: Any
    ) -> tuple[Any, Any, Any, Any]:
        lang = language_of(stored_lang)
        try:
            rows = queries.grid_events(grid_id=grid or None, community_id=community or None)
            need_places = not known or callback_context.triggered_id == "community-filter"
            places = queries.map_layout().grids if need_places else None
        except psycopg.Error as err:
            log.warning("grid events refresh failed, keeping them: %s", err)
            return no_update, no_update, no_update, no_update
        feed, feed_digest = unless_shown(event_rows(rows, datetime.now(UTC), lang), shown)
        if places is None:
            return feed, no_update, no_update, feed_digest
        grids = [
            {"label": g.name, "value": g.id}
            for g in places
            if not community or g.community_id == community
        ]
        options = [{"label": name, "value": cid} for cid, name in communities(places)]
        return feed, options, grids, feed_digest
