"""Reads for the manager view: the caller's area and its open alerts and work orders.

The area rule is the API's own: `dispatch.api.orders.scope_condition` in SQL (the same
condition GET /api/v1/work-orders uses) and `dispatch.auth.may_see` on every row, so the
page never shows an alert or an order the API would answer 404 for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from dispatch.api.orders import list_orders, scope_condition, scope_of
from dispatch.auth import SEES_ALL, User, may_see
from gridwatch.domain import OPEN_WORK_ORDER_STATES

MAX_ROWS = 100

# Alerts carry no assignee; their work order does, so a person also sees the alerts whose
# order was handed to them, as the API lets them see that order.
_OPEN_ALERTS = """
SELECT a.id, a.type, a.severity, a.state, a.title, a.first_seen, a.last_seen,
       a.grid_id, g.name AS grid_name, g.name_en AS grid_name_en,
       g.parent_id AS community_id, d.name AS device_name,
       w.id AS work_order_id, w.state AS work_order_state, w.assignee_id
FROM alerts a
JOIN areas g ON g.id = a.grid_id
LEFT JOIN devices d ON d.id = a.device_id
LEFT JOIN work_orders w ON w.alert_id = a.id
WHERE a.state <> 'cleared' AND {scope}
ORDER BY a.first_seen DESC, a.id DESC
LIMIT %(limit)s
"""


def area_names(conn: psycopg.Connection, area_id: str | None) -> tuple[str, str] | None:
    """(Chinese, English) name of an area, English falling back to Chinese; None if unknown."""
    if area_id is None:
        return None
    row = conn.execute("SELECT name, name_en FROM areas WHERE id = %s", (area_id,)).fetchone()
    if row is None:
        return None
    return row["name"], row["name_en"] or row["name"]


def describes_everywhere(user: User) -> bool:
    """Whether the user's area is the whole site (operators, admins, testers)."""
    return user.role in SEES_ALL


def open_alerts(conn: psycopg.Connection, user: User, limit: int = MAX_ROWS) -> list[dict]:
    """Alerts not yet cleared within the user's area, newest first."""
    condition, params = scope_condition(user)
    # `condition` is fixed text chosen by role; every value travels as a parameter.
    rows = conn.execute(_OPEN_ALERTS.format(scope=condition), {**params, "limit": limit})
    return [row for row in rows.fetchall() if may_see(user, scope_of(row))]


def open_orders(conn: psycopg.Connection, user: User, limit: int = MAX_ROWS) -> list[dict]:
    """Work orders not closed within the user's area, newest first, with their latest event."""
    rows = list_orders(
        conn,
        user,
        states=sorted(state.value for state in OPEN_WORK_ORDER_STATES),
        grid_id=None,
        source=None,
        limit=limit,
        offset=0,
    )
    orders = [row for row in rows if may_see(user, scope_of(row))]
    latest = _latest_events(conn, [row["id"] for row in orders])
    return [{**row, "latest_event": latest.get(row["id"])} for row in orders]


def _latest_events(conn: psycopg.Connection, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not order_ids:
        return {}
    rows = conn.execute(
        "SELECT DISTINCT ON (e.work_order_id) e.work_order_id, e.time, e.actor,"
        " coalesce(p.name, e.actor) AS actor_name, e.note, e.to_state"
        " FROM work_order_events e LEFT JOIN people p ON p.id = e.actor"
        " WHERE e.work_order_id = ANY(%s)"
        " ORDER BY e.work_order_id, e.time DESC, e.id DESC",
        (order_ids,),
    ).fetchall()
    return {row["work_order_id"]: row for row in rows}


@dataclass(frozen=True)
class ManagerView:
    """Everything the manager view shows for one person, read in one transaction."""

    area_names: tuple[str, str] | None
    alerts: list[dict]
    orders: list[dict]


def read_manager_view(conn: psycopg.Connection, user: User) -> ManagerView:
    with conn.transaction():
        return ManagerView(
            area_names(conn, user.area_id), open_alerts(conn, user), open_orders(conn, user)
        )
