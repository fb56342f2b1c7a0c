"""Giving a new work order to someone: by its route (dispatch.routing), then telling them.

`dispatch_new_order` is the one step every new order goes through, whether an alert or a
report opened it: it finds the people the route names, gives the order to the first taker
(the department's contact or the grid worker on duty), moves it to `dispatched` with an
event row saying why, and queues the messages. `tell_assignee` is the message part alone,
also used after a reassignment by hand. Both run inside the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, tzinfo

import psycopg

from dispatch import notifications
from dispatch.messages import dispatched_message
from dispatch.routing import DEFAULT_ROUTING, GRID_WORKER, PROPERTY_MANAGER, RoutingTable
from dispatch.workorders import on_duty_worker, transition
from gridwatch.domain import WorkOrderState

log = logging.getLogger(__name__)

_ORDER_WITH_COMMUNITY = """
SELECT w.*, g.parent_id AS community_id FROM work_orders w
LEFT JOIN areas g ON g.id = w.grid_id WHERE w.id = %s
"""
# A department's contacts who answer for the order's grid: department people whose area is
# the grid or one of its ancestors, the nearest first (a community's own fire warden before
# the district's brigade). Another district's brigade is never asked.
_DEPARTMENT_CONTACTS = """
WITH RECURSIVE chain (id, parent_id, depth) AS (
    SELECT id, parent_id, 0 FROM areas WHERE id = %(grid)s
    UNION ALL
    SELECT a.id, a.parent_id, c.depth + 1 FROM areas a JOIN chain c ON a.id = c.parent_id
    WHERE c.depth < 8
)
SELECT p.id, c.depth FROM people p JOIN chain c ON c.id = p.area_id
WHERE p.role = 'department' AND p.department = %(department)s
ORDER BY c.depth, p.id
"""


def department_contacts(conn: psycopg.Connection, department: str, grid_id: str) -> list[str]:
    """The contacts of `department` nearest to the grid (all at the nearest level)."""
    rows = conn.execute(
        _DEPARTMENT_CONTACTS, {"grid": grid_id, "department": department}
    ).fetchall()
    nearest = [r for r in rows if r["depth"] == rows[0]["depth"]] if rows else []
    return [r["id"] for r in nearest]


def departments_without_contacts(conn: psycopg.Connection, routing: RoutingTable) -> list[str]:
    """Departments the routing table names that nobody in the database belongs to."""
    rows = conn.execute(
        "SELECT DISTINCT department FROM people WHERE role = 'department'"
    ).fetchall()
    return sorted(routing.departments() - {r["department"] for r in rows})


def _community_managers(conn: psycopg.Connection, community_id: str | None) -> list[str]:
    if community_id is None:
        return []
    rows = conn.execute(
        "SELECT id FROM people WHERE role = 'property_manager' AND area_id = %s ORDER BY id",
        (community_id,),
    ).fetchall()
    return [r["id"] for r in rows]


def _people_for(
    conn: psycopg.Connection,
    target: str,
    order: dict,
    now: datetime,
    tz: tzinfo,
) -> list[str]:
    if target == GRID_WORKER:
        worker = on_duty_worker(conn, order["grid_id"], now, tz)
        return [worker] if worker else []
    if target == PROPERTY_MANAGER:
        return _community_managers(conn, order["community_id"])
    return department_contacts(conn, target, order["grid_id"])


def dispatch_new_order(
    conn: psycopg.Connection,
    order_id: int,
    now: datetime,
    tz: tzinfo,
    routing: RoutingTable = DEFAULT_ROUTING,
) -> int:
    """Dispatch a just-opened (reported) order by its type's route; returns messages queued.

    A department with no contact for this grid hands the order to the grid worker on duty
    (the event note says so); with nobody on duty either, the order waits as `reported` and
    escalation takes it from there.
    """
    order = conn.execute(_ORDER_WITH_COMMUNITY, (order_id,)).fetchone()
    if order is None:
        raise LookupError(f"work order {order_id} does not exist")
    route = routing.for_type(order["type"])
    takers = _people_for(conn, route.assign, order, now, tz)
    grid_id = order["grid_id"]
    if takers:
        assignee = takers[0]
        why = (
            f"on duty in grid {grid_id}"
            if route.assign == GRID_WORKER
            else f"contact of {route.assign}, which takes {order['type']}"
        )
    else:
        assignee = on_duty_worker(conn, grid_id, now, tz) if route.assign != GRID_WORKER else None
        why = f"on duty in grid {grid_id} ({route.assign} has no contact for this grid)"
    if assignee is None:
        log.warning("nobody to take work order %d in %s; it waits", order_id, grid_id)
    else:
        conn.execute("UPDATE work_orders SET assignee_id = %s WHERE id = %s", (assignee, order_id))
        transition(
            conn,
            order_id,
            WorkOrderState.DISPATCHED,
            "system",
            now,
            f"dispatched to {assignee}, {why}",
        )
    also = [p for target in route.notify for p in _people_for(conn, target, order, now, tz)]
    return tell_assignee(conn, order_id, now, tz, also=also)


def tell_assignee(
    conn: psycopg.Connection,
    order_id: int,
    now: datetime,
    tz: tzinfo,
    also: Sequence[str] = (),
) -> int:
    """Queue the "new work order" message to its assignee, to the people in `also` and to
    its community's channels; returns how many messages were queued."""
    order = conn.execute(_ORDER_WITH_COMMUNITY, (order_id,)).fetchone()
    if order is None or order["state"] == WorkOrderState.CLOSED:
        return 0
    message = dispatched_message(order, tz)
    people = list(dict.fromkeys([*([order["assignee_id"]] if order["assignee_id"] else []), *also]))
    return notifications.queue_for_people(
        conn, message, people, now
    ) + notifications.queue_for_community(conn, message, order["community_id"], now)
