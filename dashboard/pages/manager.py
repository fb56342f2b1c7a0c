"""The manager view: a property manager or grid worker sees the open alerts and work orders
of their own community or grid, and moves the orders along.

Who is asking comes from the API's login (the session cookie of POST /login); a stranger
opening /manager is sent to the login form. What the page lists is limited by the API's own
area rule (dashboard/manager_queries.py). The buttons do not write anything here: they call
the REST API from the browser with the same cookie (assets/manager.js), so the page obeys
exactly the rules every other client does and shows the API's reason when it refuses.
Made for a phone first (390 px wide) and laid out in two columns on a laptop.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import psycopg
from dash import Dash, Input, Output, State, dcc, html, no_update
from flask import Response, current_app, request
from psycopg_pool import PoolTimeout

from dashboard.labels import (
    ALERT_STATE_TEXT,
    ROLE_TEXT,
    SEVERITY_TEXT,
    WORK_ORDER_STATE_TEXT,
    Language,
    alert_type_text,
    format_age,
    language_of,
    pick,
    t,
)
from dashboard.manager_queries import ManagerView, describes_everywhere, read_manager_view
from dashboard.pages import Page
from dashboard.queries import DashboardQueries
from dispatch.api.context import api_context
from dispatch.api.orders import scope_of
from dispatch.api.workorders import STEPS
from dispatch.auth import AUTHENTICATOR_KEY, Action, User, current_user, login_required, refusal
from gridwatch.domain import WORK_ORDER_TRANSITIONS, Severity, WorkOrderState
from gridwatch.settings import Settings

log = logging.getLogger(__name__)

PATH = "/manager"
LOGIN_URL = f"/login?next={PATH}"
# A phone on a mobile network: every 5 s is fresh enough for people who handle orders in
# minutes, and after each button the page reads again at once.
REFRESH_MS = 5000
STATE_STEPS = ("accept", "start", "resolve")


def offered_steps(user: User, order: dict[str, Any]) -> list[str]:
    """The buttons an order's card shows: steps the user's role may take (dispatch.auth) that
    the loop allows from the order's state now (the API's STEPS table), then comment."""
    state = WorkOrderState(order["state"])
    scope = scope_of(order)
    steps = []
    for step in STATE_STEPS:
        action, target, from_states, _note_required = STEPS[step]
        allowed_now = target in WORK_ORDER_TRANSITIONS[state] and (
            from_states is None or state in from_states
        )
        if allowed_now and refusal(user, action, scope) is None:
            steps.append(step)
    if refusal(user, Action.COMMENT, scope) is None:
        steps.append("comment")
    return steps


def _area_text(user: User, view: ManagerView, lang: Language) -> str:
    if describes_everywhere(user):
        return t("area_everywhere", lang)
    if view.area_names is None:
        return t("area_assigned", lang)
    return pick(view.area_names, lang)


def _header(user: User, view: ManagerView, lang: Language) -> html.Header:
    role = pick(ROLE_TEXT.get(user.role, (user.role, user.role)), lang)
    return html.Header(
        className="manager-header",
        children=[
            html.Div(
                className="manager-title",
                children=[
                    html.Span("GridWatch", className="brand"),
                    html.H1(t("manager_title", lang)),
                ],
            ),
            html.Div(
                className="manager-who",
                children=[
                    html.Strong(user.name, id="manager-user-name"),
                    html.Span(role, className="manager-role"),
                    html.Span(
                        f"{t('area', lang)}: {_area_text(user, view, lang)}", id="manager-area"
                    ),
                ],
            ),
            html.Div(
                className="manager-tools",
                children=[
                    html.Button(t("language", lang), id="manager-lang-toggle", type="button"),
                    html.Form(
                        html.Button(t("log_out", lang), type="submit"),
                        action="/logout",
                        method="post",
                    ),
                ],
            ),
        ],
    )


def _severity(row: dict[str, Any], lang: Language) -> html.Span:
    return html.Span(
        pick(SEVERITY_TEXT[Severity(row["severity"])], lang),
        className=f"chip severity-{row['severity']}",
    )


def _grid_name(row: dict[str, Any], lang: Language) -> str:
    return str((row.get("grid_name_en") if lang == "en" else None) or row["grid_name"])


def _alert_item(row: dict[str, Any], now: datetime, lang: Language) -> html.Li:
    order = row["work_order_id"]
    order_line = t("no_order", lang)
    if order:
        order_state = pick(WORK_ORDER_STATE_TEXT[row["work_order_state"]], lang)
        order_line = f"{t('work_orders', lang)} #{order} · {order_state}"
    return html.Li(
        className=f"manager-alert severity-{row['severity']}",
        **{"data-alert-id": str(row["id"]), "data-grid": row["grid_id"]},
        children=[
            html.Div(
                className="row-top",
                children=[
                    _severity(row, lang),
                    html.Span(alert_type_text(row["type"], lang), className="alert-type"),
                    html.Span(format_age(row["first_seen"], now, lang), className="age"),
                ],
            ),
            html.Div(
                f"{_grid_name(row, lang)} · {row['device_name'] or ''}"
                f" · {pick(ALERT_STATE_TEXT[row['state']], lang)}",
                className="row-place",
            ),
            html.Div(order_line, className="row-order"),
        ],
    )


def _latest_line(order: dict[str, Any], now: datetime, lang: Language) -> html.Div | None:
    event = order.get("latest_event")
    if event is None:
        return None
    note = f" · {event['note']}" if event["note"] else ""
    when = format_age(event["time"], now, lang)
    return html.Div(
        f"{t('latest_event', lang)}: {event['actor_name']} · {when}{note}",
        className="order-latest",
    )


def _order_title(order: dict[str, Any], lang: Language) -> str:
    """A device alert's order is titled by its type, in the page's language; a resident's or
    a worker's report keeps the words it was filed with."""
    if order.get("source") == "alert":
        return alert_type_text(order["type"], lang)
    return str(order["title"])


def _order_card(user: User, order: dict[str, Any], now: datetime, lang: Language) -> html.Article:
    order_id, state = order["id"], order["state"]
    buttons = []
    for step in offered_steps(user, order):
        label = t(f"step_{step}", lang)
        buttons.append(
            html.Button(
                label,
                type="button",
                className=f"step-button step-{step}",
                **{
                    "data-order-id": str(order_id),
                    "data-order-step": step,
                    "data-done": f"#{order_id} {label} ✓",
                },
            )
        )
    overdue = html.Span(t("overdue", lang), className="chip overdue") if order["overdue"] else None
    return html.Article(
        className="order-card" + (" is-overdue" if order["overdue"] else ""),
        **{"data-order-id": str(order_id), "data-state": state, "data-grid": order["grid_id"]},
        children=[
            html.Div(
                className="row-top",
                children=[
                    html.Span(f"#{order_id}", className="order-id"),
                    _severity(order, lang),
                    html.Span(
                        pick(WORK_ORDER_STATE_TEXT[state], lang),
                        className=f"order-state state-{state}",
                    ),
                    overdue,
                ],
            ),
            html.Div(_order_title(order, lang), className="order-title"),
            html.Div(
                f"{alert_type_text(order['type'], lang)} · {_grid_name(order, lang)}"
                f" · {format_age(order['created_at'], now, lang)}",
                className="row-place",
            ),
            html.Div(
                f"{t('assignee', lang)}: {order['assignee_name'] or t('unassigned', lang)}",
                className="order-assignee",
            ),
            _latest_line(order, now, lang),
            html.Textarea(
                className="order-note",
                rows=2,
                placeholder=t("note_placeholder", lang),
                **{"aria-label": t("note_placeholder", lang)},
            ),
            html.Div(buttons, className="order-steps"),
        ],
    )


def manager_screen(user: User, view: ManagerView, now: datetime, lang: Language) -> list[Any]:
    """The page for one person in one language: who and where, then alerts and orders."""
    alerts = [_alert_item(row, now, lang) for row in view.alerts]
    orders = [_order_card(user, row, now, lang) for row in view.orders]
    return [
        _header(user, view, lang),
        html.Main(
            className="manager-main",
            children=[
                html.Section(
                    className="manager-panel",
                    children=[
                        html.H2(f"{t('my_alerts', lang)} ({len(alerts)})"),
                        html.Ul(alerts, id="manager-alerts", className="manager-alerts")
                        if alerts
                        else html.P(t("no_alerts", lang), className="empty"),
                    ],
                ),
                html.Section(
                    className="manager-panel",
                    children=[
                        html.H2(f"{t('my_orders', lang)} ({len(orders)})"),
                        html.Div(orders, id="manager-orders", className="manager-orders")
                        if orders
                        else html.P(t("no_orders", lang), className="empty"),
                    ],
                ),
            ],
        ),
    ]


def layout(settings: Settings) -> html.Div:
    """The frame; who is asking is known only inside a request, so the callback fills it."""
    return html.Div(
        className="manager-page",
        children=[
            dcc.Store(id="manager-language", storage_type="local"),
            dcc.Store(id="manager-signature"),
            dcc.Location(id="manager-redirect", refresh=True),
            dcc.Interval(id="manager-interval", interval=REFRESH_MS),
            # Clicked by assets/manager.js after the API accepted a step: read again now.
            html.Button(id="manager-reload", className="manager-reload", hidden=True),
            html.Div(id="manager-content", className="manager-content"),
            html.Div(id="manager-status", className="manager-status"),
            # Written by assets/manager.js: what the API answered to the last button.
            html.Div(id="manager-notice", className="manager-notice", role="status"),
        ],
    )


def _send_strangers_to_login() -> Response | None:
    """Before Dash serves /manager: the login form for anyone not logged in."""
    if request.path != PATH or AUTHENTICATOR_KEY not in current_app.extensions:
        return None
    return login_required(lambda: None)()  # type: ignore[no-any-return]


def register_callbacks(app: Dash, _queries: DashboardQueries, _settings: Settings) -> None:
    app.server.before_request(_send_strangers_to_login)

    @app.callback(
        Output("manager-content", "children"),
        Output("manager-signature", "data"),
        Output("manager-redirect", "href"),
        Output("manager-status", "children"),
        Input("manager-interval", "n_intervals"),
        Input("manager-reload", "n_clicks"),
        Input("manager-language", "data"),
        State("manager-signature", "data"),
    )
    def refresh(_tick: Any, _reload: Any, stored_language: Any, shown: Any) -> tuple[Any, ...]:
        lang = language_of(stored_language)
        if AUTHENTICATOR_KEY not in current_app.extensions:
            return html.P(t("needs_api", lang), className="empty"), None, no_update, ""
        now = datetime.now(UTC)
        try:
            user = current_user()  # the session is looked up in the database too
            if user is None:
                ended = html.P(html.A(t("session_ended", lang), href=LOGIN_URL), className="empty")
                return ended, None, LOGIN_URL, ""
            with api_context().pool.connection() as conn:
                view = read_manager_view(conn, user)
        except (psycopg.OperationalError, PoolTimeout) as err:
            log.warning("manager view: database unreachable: %s", err)
            return no_update, no_update, no_update, t("db_down", lang)
        status = f"{t('live', lang)} · {now.astimezone():%H:%M:%S}"
        # Ages read in whole minutes, so the minute belongs in what decides a redraw; a
        # redraw also empties the note fields, which is why an unchanged page is not resent.
        signature = hashlib.sha256(
            repr((user, view, lang, now.replace(second=0, microsecond=0))).encode()
        ).hexdigest()
        if signature == shown:
            return no_update, no_update, no_update, status
        return manager_screen(user, view, now, lang), signature, no_update, status

    @app.callback(
        Output("manager-language", "data"),
        Input("manager-lang-toggle", "n_clicks"),
        State("manager-language", "data"),
        prevent_initial_call=True,
    )
    def toggle_language(clicks: int | None, stored: Any) -> Any:
        if not clicks:
            return no_update
        return "en" if language_of(stored) == "zh" else "zh"


PAGE = Page(
    path=PATH,
    title="GridWatch 社区工作台",
    layout=layout,
    register_callbacks=register_callbacks,
)
