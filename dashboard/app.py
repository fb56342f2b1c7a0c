"""The Dash application: page routing, the shared query object and the HTTP server.

`create_app(settings).server` is a plain Flask app, so an HTTP API can be mounted on the
same port later (as a blueprint) without a second server.
"""

from __future__ import annotations

import atexit
import logging

from dash import Dash, Input, Output, dcc, html

from dashboard.evidence_route import register_evidence_route
from dashboard.pages import Page, all_pages
from dashboard.queries import DashboardQueries
from dispatch.api import mount_api
from gridwatch.settings import Settings

log = logging.getLogger(__name__)


def _not_found(path: str) -> html.Div:
    return html.Div(
        className="not-found",
        children=[
            html.H1("404"),
            html.P(f"没有这个页面 no page at {path}"),
            dcc.Link("大屏 big screen", href="/"),
        ],
    )


def create_app(settings: Settings, queries: DashboardQueries | None = None) -> Dash:
    """Build the dashboard; it reads settings.database_url unless queries are passed in."""
    if queries is None:
        if not settings.database_url:
            raise ValueError(
                "the dashboard needs a database: set GRIDWATCH_DATABASE_URL "
                "(or start everything with `gridwatch up`)"
            )
        queries = DashboardQueries.connect(settings.database_url, watch_changes=True)
    pages: list[Page] = all_pages()
    by_path = {page.path: page for page in pages}

    app = Dash(
        __name__,
        title=pages[0].title,
        update_title=None,  # the tab title must not flicker on every refresh
        suppress_callback_exceptions=True,  # page components appear only after routing
    )
    app.layout = html.Div(
        id="app-root",
        children=[dcc.Location(id="url", refresh=False), html.Div(id="page")],
    )
    # Lets Dash check every page's callbacks against the components they name.
    app.validation_layout = html.Div([app.layout, *(page.layout(settings) for page in pages)])

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(pathname: str | None) -> object:
        page = by_path.get(pathname or "/")
        return page.layout(settings) if page else _not_found(pathname or "")

    for page in pages:
        page.register_callbacks(app, queries, settings)
    register_evidence_route(app.server, settings.evidence_dir())
    app.server.extensions["gridwatch_queries"] = queries
    if settings.database_url:
        # REST, Open311, login and the report forms share the dashboard's port.
        mount_api(app.server, settings)
    return app


def run_dashboard(settings: Settings) -> None:
    """Serve the dashboard on settings.dashboard_host:dashboard_port until interrupted."""
    app = create_app(settings)
    queries: DashboardQueries = app.server.extensions["gridwatch_queries"]
    atexit.register(queries.close)
    log.info("dashboard on http://%s:%d/", settings.dashboard_host, settings.dashboard_port)
    app.run(
        host=settings.dashboard_host,
        port=settings.dashboard_port,
        debug=False,
        threaded=True,
    )
