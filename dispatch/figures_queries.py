"""Rows for the figures: the work orders opened in a period, their trail and the names to show."""

from __future__ import annotations

from datetime import datetime

import psycopg

from dispatch.figures import OrderRow

_ORDERS = """
SELECT w.id, w.grid_id, g.parent_id AS community_id, c.parent_id AS street_id, w.assignee_id,
       w.created_at, w.accept_due, w.resolve_due
FROM work_orders w
LEFT JOIN areas g ON g.id = w.grid_id
LEFT JOIN areas c ON c.id = g.parent_id
WHERE w.created_at >= %(start)s AND w.created_at < %(end)s
ORDER BY w.id
"""
_EVENTS = """
SELECT work_order_id, time, from_state, to_state FROM work_order_events
WHERE work_order_id = ANY(%(ids)s) AND time <= %(as_of)s
ORDER BY work_order_id, time, id
"""


def orders_in_period(
    conn: psycopg.Connection, start: datetime, end: datetime, as_of: datetime
) -> list[OrderRow]:
    """Orders opened in [start, end), with their events up to `as_of`."""
    orders = conn.execute(_ORDERS, {"start": start, "end": end}).fetchall()
    events: dict[int, list[tuple[datetime, str | None, str]]] = {}
    ids = [o["id"] for o in orders]
    for e in conn.execute(_EVENTS, {"ids": ids, "as_of": as_of}):
        events.setdefault(e["work_order_id"], []).append(
            (e["time"], e["from_state"], e["to_state"])
        )
    return [
        OrderRow(
            id=o["id"],
            grid_id=o["grid_id"],
            community_id=o["community_id"],
            street_id=o["street_id"],
            assignee_id=o["assignee_id"],
            created_at=o["created_at"],
            accept_due=o["accept_due"],
            resolve_due=o["resolve_due"],
            events=tuple(events.get(o["id"], [])),
        )
        for o in orders
    ]


def names(conn: psycopg.Connection) -> dict[str, str]:
    """Display names of every area and person, by id."""
    rows = conn.execute("SELECT id, name FROM areas UNION ALL SELECT id, name FROM people")
    return {r["id"]: r["name"] for r in rows}
