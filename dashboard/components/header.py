"""The header bar: title, site, data freshness, the language switch and a wall clock."""

from __future__ import annotations

from dash import html

from dashboard.labels import Language, t


def header(site_id: str, lang: Language) -> html.Header:
    return html.Header(
        className="screen-header",
        children=[
            html.Div(
                className="header-title",
                children=[
                    html.Span("GridWatch", className="brand"),
                    html.Span(t("title", lang), className="title-zh"),
                ],
            ),
            html.Div(
                className="header-status",
                children=[
                    html.Span(f"{t('site', lang)} {site_id}", className="site-id"),
                    html.Span(t("connecting", lang), id="data-status", className="status-wait"),
                ],
            ),
            # Names the other language, in that language, so anyone can find it.
            html.Button(t("language", lang), id="lang-toggle", className="lang-toggle"),
            # Filled in by the browser every second (a client-side callback).
            html.Div("--:--:--", id="clock", className="clock"),
        ],
    )
