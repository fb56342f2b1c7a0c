"""Work orders: opened for alerts, moved through the loop, reassigned and commented on.

The clock is a parameter everywhere (`now`), so deadlines can be tested without waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import psycopg

from dispatch.deadlines import DEFAULT_BY_SEVERITY, DEFAULT_DEADLINES, DeadlineTable
from gridwatch.domain import InvalidTransition, Severity, WorkOrderState, check_transition
from gridwatch.site import on_duty

# (accept within, resolve within) by severity; types may have their own: dispatch.deadlines.
DEADLINES: dict[Severity, tuple[timedelta, timedelta]] = {
    s: (d.accept_within, d.resolve_within) for s, d in DEFAULT_BY_SEVERITY.items()
}

# Alert types whose work order may close by itself when the alert clears before anyone
# accepted it: the problem went away (the car left the fire lane).
AUTO_CLOSE_ON_CLEAR = frozenset({"fire_lane_occupied"})


def on_duty_worker(conn: psycopg.Connection, grid_id: str, now: datetime, tz: tzinfo) -> str | None:
    """The grid worker on duty at `now` in the site's time zone (rules: gridwatch.site)."""
    rows = conn.execute(
        "SELECT person_id, grid_id, weekday, starts_at, ends_at FROM duty_roster"
        " WHERE grid_id = %s",
        (grid_id,),
    ).fetchall()
    return on_duty(rows, grid_id, now, tz)


def open_for_alert(
    conn: psycopg.Connection,
    alert_id: int,
    now: datetime,
    deadlines: DeadlineTable = DEFAULT_DEADLINES,
) -> int | None:
    """Open the work order of an alert as `reported`; None if it already has one.

    Who takes it is decided next, by dispatch.assignment.dispatch_new_order.
    """
    alert = conn.execute(
        "SELECT id, grid_id, type, severity, title, device_id FROM alerts WHERE id = %s",
        (alert_id,),
    ).fetchone()
    if alert is None:
        raise LookupError(f"alert {alert_id} does not exist")
    deadline = deadlines.for_order(alert["type"], alert["severity"])
    accept_within, resolve_within = deadline.accept_within, deadline.resolve_within
    row = conn.execute(
        "INSERT INTO work_orders (alert_id, source, grid_id, type, severity, title, state,"
        " accept_due, resolve_due, created_at, updated_at)"
        " VALUES (%s, 'alert', %s, %s, %s, %s, 'reported', %s, %s, %s, %s)"
        " ON CONFLICT (alert_id) DO NOTHING RETURNING id",
        (
            alert_id,
            alert["grid_id"],
            alert["type"],
            alert["severity"],
            alert["title"],
            now + accept_within,
            now + resolve_within,
            now,
            now,
        ),
    ).fetchone()
    if row is None:
        return None
    order_id = int(row["id"])
    _event(
        conn,
        order_id,
        None,
        WorkOrderState.REPORTED,
        "system",
        now,
        f"opened for alert {alert_id} ({alert['type']} on {alert['device_id']})",
    )
    return order_id


def transition(
    conn: psycopg.Connection,
    order_id: int,
    target: WorkOrderState,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> None:
    """Move a work order to `target`, refusing moves the loop does not allow."""
    row = conn.execute(
        "SELECT state FROM work_orders WHERE id = %s FOR UPDATE", (order_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"work order {order_id} does not exist")
    current = WorkOrderState(row["state"])
    check_transition(current, target)
    conn.execute(
        "UPDATE work_orders SET state = %s, updated_at = %s,"
        " closed_at = CASE WHEN %s = 'closed' THEN %s ELSE closed_at END WHERE id = %s",
        (target.value, now, target.value, now, order_id),
    )
    _event(conn, order_id, current, target, actor, now, note)


def close_if_alert_cleared_early(conn: psycopg.Connection, alert_id: int, now: datetime) -> bool:
    """Close the order of a cleared alert nobody accepted yet, where the type allows it."""
    row = conn.execute(
        "SELECT w.id, w.state, w.type FROM work_orders w JOIN alerts a ON a.id = w.alert_id"
        " WHERE w.alert_id = %s AND a.state = 'cleared'",
        (alert_id,),
    ).fetchone()
    if row is None or row["type"] not in AUTO_CLOSE_ON_CLEAR:
        return False
    if row["state"] not in (WorkOrderState.REPORTED, WorkOrderState.DISPATCHED):
        return False
    transition(
        conn,
        int(row["id"]),
        WorkOrderState.CLOSED,
        "system",
        now,
        "alert cleared before anyone accepted the order; closed automatically",
    )
    return True


def _event(
    conn: psycopg.Connection,
    order_id: int,
    from_state: WorkOrderState | None,
    to_state: WorkOrderState,
    actor: str,
    now: datetime,
    note: str | None,
) -> None:
    conn.execute(
        "INSERT INTO work_order_events (work_order_id, time, from_state, to_state, actor, note)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (order_id, now, from_state.value if from_state else None, to_state.value, actor, note),
    )


# States in which a work order may be handed to someone else by hand: once resolved, the
# work is done; reopen it first.
REASSIGNABLE = frozenset(
    {
        WorkOrderState.REPORTED,
        WorkOrderState.ACCEPTED,
        WorkOrderState.DISPATCHED,
        WorkOrderState.IN_PROGRESS,
    }
)


def reassign(
    conn: psycopg.Connection,
    order_id: int,
    assignee_id: str,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> None:
    """Dispatch a work order to a person by hand, or reassign it to another one.

    A reported or accepted order becomes dispatched; a dispatched or in-progress one keeps
    its state and changes hands. Either way one event row records who gave it to whom.
    """
    row = conn.execute(
        "SELECT state, assignee_id FROM work_orders WHERE id = %s FOR UPDATE", (order_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"work order {order_id} does not exist")
    if conn.execute("SELECT 1 FROM people WHERE id = %s", (assignee_id,)).fetchone() is None:
        raise LookupError(f"person {assignee_id!r} does not exist")
    current = WorkOrderState(row["state"])
    if current is WorkOrderState.CLOSED:
        raise InvalidTransition(f"work order {order_id} is closed; nobody can be given it now")
    if current not in REASSIGNABLE:
        raise InvalidTransition(
            f"a work order that is {current} cannot be reassigned; reopen it first"
        )
    if row["assignee_id"] == assignee_id:
        raise InvalidTransition(f"work order {order_id} is already assigned to {assignee_id}")
    previous = row["assignee_id"] or "nobody"
    text = f"reassigned from {previous} to {assignee_id}" + (f": {note}" if note else "")
    conn.execute(
        "UPDATE work_orders SET assignee_id = %s, updated_at = %s WHERE id = %s",
        (assignee_id, now, order_id),
    )
    if current in (WorkOrderState.REPORTED, WorkOrderState.ACCEPTED):
        transition(conn, order_id, WorkOrderState.DISPATCHED, actor, now, text)
    else:
        _event(conn, order_id, current, current, actor, now, text)


def comment(
    conn: psycopg.Connection,
    order_id: int,
    actor: str,
    now: datetime,
    note: str,
    photo_path: str | None = None,
) -> None:
    """Add a note (and optional photo) to a work order's trail without changing its state."""
    row = conn.execute(
        "SELECT state FROM work_orders WHERE id = %s FOR UPDATE", (order_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"work order {order_id} does not exist")
    state = WorkOrderState(row["state"])
    _event(conn, order_id, state, state, actor, now, note)
    if photo_path:
        attach_photo(conn, order_id, photo_path)


def attach_photo(conn: psycopg.Connection, order_id: int, photo_path: str) -> None:
    """Attach a photo to the order's latest event row (the one just written, under its lock)."""
    conn.execute(
        "UPDATE work_order_events SET photo_path = %s WHERE id = (SELECT max(id)"
        " FROM work_order_events WHERE work_order_id = %s)",
        (photo_path, order_id),
    )
