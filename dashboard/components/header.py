"""The header bar: title, site, data freshness and a wall clock."""

from __future__ import annotations

from dash import html


def header(site_id: str) -> html.Header:
    return html.Header(
        className="screen-header",
        children=[
            html.Div(
                className="header-title",
                children=[
                    html.Span("GridWatch", className="brand"),
                    html.Span("网格指挥大屏", className="title-zh"),
                ],
            ),
            html.Div(
                className="header-status",
                children=[
                    html.Span(f"站点 {site_id}", className="site-id"),
                    html.Span("连接中 connecting…", id="data-status", className="status-wait"),
                ],
            ),
            # Filled in by the browser every second (a client-side callback).
            html.Div("--:--:--", id="clock", className="clock"),
        ],
    )
