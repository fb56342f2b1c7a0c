"""Read queries for the work-order API, limited to what the caller may see.

The list filter and the single-order check (dispatch.auth.may_see) state the same rules:
one in SQL for listing, one in Python for a row already fetched.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from dispatch.auth import SEES_ALL, OrderScope, User
from gridwatch.site import PersonRole

_ORDER_SELECT = """
SELECT w.id, w.alert_id, w.source, w.grid_id, g.name AS grid_name, g.parent_id AS community_id,
       w.type, w.severity, w.title, w.state, w.assignee_id, p.name AS assignee_name,
       w.escalation_level, w.escalated, w.escalated_at, w.overdue, w.overdue_since,
       w.accept_due, w.resolve_due,
       w.created_at, w.updated_at, w.closed_at
FROM work_orders w
JOIN areas g ON g.id = w.grid_id
LEFT JOIN people p ON p.id = w.assignee_id
"""

MAX_PAGE = 500


def scope_of(row: dict[str, Any]) -> OrderScope:
    return OrderScope(row["grid_id"], row["community_id"], row["assignee_id"])


def scope_condition(user: User) -> tuple[str, dict[str, Any]]:
    """The SQL condition (over w and g) that keeps the orders `user` may see."""
    params = {"me": user.person_id, "area": user.area_id}
    if user.role in SEES_ALL:
        return "TRUE", params
    if user.role == PersonRole.PROPERTY_MANAGER:
        return "(g.parent_id = %(area)s OR w.assignee_id = %(me)s)", params
    if user.role == PersonRole.GRID_WORKER:
        return "(w.grid_id = %(area)s OR w.assignee_id = %(me)s)", params
    return "w.assignee_id = %(me)s", params


def fetch_order(conn: psycopg.Connection, order_id: int) -> dict[str, Any] | None:
    return conn.execute(_ORDER_SELECT + " WHERE w.id = %s", (order_id,)).fetchone()


def list_orders(
    conn: psycopg.Connection,
    user: User,
    *,
    states: list[str],
    grid_id: str | None,
    source: str | None,
    limit: int,
    offset: int,
    overdue: bool | None = None,
) -> list[dict[str, Any]]:
    """The caller's visible orders, newest first, filtered by state, grid, source, overdue."""
    condition, params = scope_condition(user)
    where = [condition]
    if states:
        where.append("w.state = ANY(%(states)s)")
        params["states"] = states
    if grid_id:
        where.append("w.grid_id = %(grid)s")
        params["grid"] = grid_id
    if source:
        where.append("w.source = %(source)s")
        params["source"] = source
    if overdue is not None:
        where.append("w.overdue = %(overdue)s")
        params["overdue"] = overdue
    params.update(limit=limit, offset=offset)
    sql = (
        _ORDER_SELECT
        + " WHERE "
        + " AND ".join(where)
        + " ORDER BY w.created_at DESC, w.id DESC LIMIT %(limit)s OFFSET %(offset)s"
    )
    return conn.execute(sql, params).fetchall()


def fetch_events(conn: psycopg.Connection, order_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, time, from_state, to_state, actor, note, photo_path FROM work_order_events"
        " WHERE work_order_id = %s ORDER BY time, id",
        (order_id,),
    ).fetchall()


def person_area(conn: psycopg.Connection, person_id: str) -> dict[str, Any] | None:
    """A person's role, area and the community of that area (the area itself if a community)."""
    return conn.execute(
        "SELECT p.id, p.role, p.area_id, CASE WHEN a.level = 'grid' THEN a.parent_id"
        " ELSE a.id END AS community_id FROM people p LEFT JOIN areas a ON a.id = p.area_id"
        " WHERE p.id = %s",
        (person_id,),
    ).fetchone()


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def order_json(row: dict[str, Any], events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A work order as the API returns it; events (the audit trail) when given."""
    body = {key: _json_value(value) for key, value in row.items()}
    if events is not None:
        body["events"] = [
            {
                "id": e["id"],
                "time": _json_value(e["time"]),
                "from_state": e["from_state"],
                "to_state": e["to_state"],
                "actor": e["actor"],
                "note": e["note"],
                "has_photo": e["photo_path"] is not None,
            }
            for e in events
        ]
    return body
