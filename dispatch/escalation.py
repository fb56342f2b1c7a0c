"""Escalation (督办): a missed deadline moves a work order one level up the hierarchy.

The rule, judged with the clock as a parameter:
- the accept deadline is missed when, at that moment, nobody had taken the order yet
  (still reported or dispatched);
- the resolve deadline, and each further resolve window after it (resolve_due + k × (resolve_due
  − created_at)), is missed when, at that moment, the order was not resolved, verified or
  closed. A reopened order therefore gets the windows after its reopening, not its past ones;
- every missed deadline climbs one level, grid → community → street → district, and stops at
  the district. Each level climbed is a work_order_escalations row and an event row, and
  queues messages to that level's people (and the community's channels, and MQTT);
- an open order is overdue while the latest deadline that has passed was missed.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

import psycopg

from dispatch import notifications as notify
from dispatch.messages import LEVEL_LABELS, escalated_message
from gridwatch.domain import ESCALATION_ORDER, AreaLevel, WorkOrderState
from gridwatch.topics import alert_topic

log = logging.getLogger(__name__)

W = WorkOrderState
DONE_STATES = frozenset({W.RESOLVED, W.VERIFIED, W.CLOSED})
WAITING_STATES = frozenset({W.REPORTED, W.DISPATCHED})


@dataclass(frozen=True)
class Missed:
    kind: str  # 'accept' or 'resolve'
    deadline: datetime


@dataclass(frozen=True)
class Judgement:
    missed: list[Missed]
    overdue: bool
    next_deadline: datetime | None

    @property
    def level(self) -> AreaLevel:
        """The level the order should be at: one up per missed deadline, at most the district."""
        return ESCALATION_ORDER[min(len(self.missed), len(ESCALATION_ORDER) - 1)]


def state_at(events: Sequence[tuple[datetime, str]], t: datetime) -> WorkOrderState:
    """The state after the last event at or before `t` (events in time order)."""
    index = bisect.bisect_right([time for time, _ in events], t)
    return W(events[index - 1][1]) if index else W.REPORTED


def judge(
    created_at: datetime,
    accept_due: datetime | None,
    resolve_due: datetime | None,
    events: Sequence[tuple[datetime, str]],
    now: datetime,
) -> Judgement:
    """Which deadlines an order has missed by `now`, whether it is overdue, and what is next."""
    passed: list[tuple[datetime, str]] = []
    upcoming: list[datetime] = []
    if accept_due is not None:
        if accept_due <= now:
            passed.append((accept_due, "accept"))
        else:
            upcoming.append(accept_due)
    if resolve_due is not None:
        window = resolve_due - created_at
        if resolve_due > now:
            upcoming.append(resolve_due)
        elif window.total_seconds() <= 0:
            passed.append((resolve_due, "resolve"))
        else:
            windows_passed = int((now - resolve_due) / window)
            for k in range(windows_passed + 1):
                passed.append((resolve_due + k * window, "resolve"))
            upcoming.append(resolve_due + (windows_passed + 1) * window)
    passed.sort()
    missed: list[Missed] = []
    last_missed = False
    for deadline, kind in passed:
        state = state_at(events, deadline)
        last_missed = state in WAITING_STATES if kind == "accept" else state not in DONE_STATES
        if last_missed:
            missed.append(Missed(kind, deadline))
    open_now = state_at(events, now) not in DONE_STATES
    return Judgement(missed, open_now and last_missed, min(upcoming) if upcoming else None)


@dataclass(frozen=True)
class EscalationCounts:
    escalated: int = 0
    queued: int = 0


_CANDIDATES = """
SELECT w.*, g.parent_id AS community_id, c.parent_id AS street_id, s.parent_id AS district_id
FROM work_orders w
LEFT JOIN areas g ON g.id = w.grid_id
LEFT JOIN areas c ON c.id = g.parent_id
LEFT JOIN areas s ON s.id = c.parent_id
WHERE w.state NOT IN ('resolved', 'verified', 'closed')
  AND (w.accept_due IS NOT NULL OR w.resolve_due IS NOT NULL)
  AND (w.next_deadline_at IS NULL OR w.next_deadline_at <= %s)
ORDER BY w.id
FOR NO KEY UPDATE OF w SKIP LOCKED
"""


def escalate_due(
    conn: psycopg.Connection, now: datetime, tz: tzinfo, site_id: str | None = None
) -> EscalationCounts:
    """Judge every open order with a deadline due by `now`; escalate, flag and notify.

    Runs inside the caller's transaction, so the escalation and its messages commit together.
    With `site_id`, each escalation is also published on the alert topic of the order.
    """
    conn.execute(
        "UPDATE work_orders SET overdue = false"
        " WHERE overdue AND state IN ('resolved', 'verified', 'closed')"
    )
    orders = conn.execute(_CANDIDATES, (now,)).fetchall()
    if not orders:
        return EscalationCounts()
    events_of: dict[int, list[tuple[datetime, str]]] = {}
    for row in conn.execute(
        "SELECT work_order_id, time, to_state FROM work_order_events"
        " WHERE work_order_id = ANY(%s) ORDER BY work_order_id, time, id",
        ([o["id"] for o in orders],),
    ):
        events_of.setdefault(row["work_order_id"], []).append((row["time"], row["to_state"]))
    escalated = queued = 0
    for order in orders:
        verdict = judge(
            order["created_at"],
            order["accept_due"],
            order["resolve_due"],
            events_of.get(order["id"], []),
            now,
        )
        current = ESCALATION_ORDER.index(AreaLevel(order["escalation_level"]))
        target = ESCALATION_ORDER.index(verdict.level)
        for index in range(current + 1, target + 1):
            queued += _climb(conn, order, index, verdict.missed[index - 1], now, tz, site_id)
            escalated += 1
        first_missed = verdict.missed[0].deadline if verdict.missed else None
        conn.execute(
            "UPDATE work_orders SET overdue = %s, next_deadline_at = %s,"
            " overdue_since = COALESCE(overdue_since, %s) WHERE id = %s",
            (verdict.overdue, verdict.next_deadline, first_missed, order["id"]),
        )
    return EscalationCounts(escalated, queued)


def _climb(
    conn: psycopg.Connection,
    order: dict,
    index: int,
    missed: Missed,
    now: datetime,
    tz: tzinfo,
    site_id: str | None,
) -> int:
    """Move the order up to ESCALATION_ORDER[index]; record it and queue the messages."""
    from_level, level = ESCALATION_ORDER[index - 1], ESCALATION_ORDER[index]
    area_id = order[f"{level.value}_id"]
    area = (
        conn.execute("SELECT name FROM areas WHERE id = %s", (area_id,)).fetchone()
        if area_id
        else None
    )
    message = escalated_message(
        order, level, area_id, area["name"] if area else None, missed.kind, missed.deadline, now, tz
    )
    people = notify.responsible_people(conn, level, area_id) if area_id else []
    queued = notify.queue_for_people(conn, message, people, now)
    queued += notify.queue_for_community(conn, message, order["community_id"], now)
    if site_id is not None:
        topic = alert_topic(site_id, order["grid_id"], order["type"])
        queued += notify.queue_on_mqtt(conn, message, topic, now)
    conn.execute(
        "INSERT INTO work_order_escalations (work_order_id, time, from_level, to_level, area_id,"
        " missed, deadline, notified) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            order["id"],
            now,
            from_level.value,
            level.value,
            area_id,
            missed.kind,
            missed.deadline,
            queued,
        ),
    )
    what = "accepted" if missed.kind == "accept" else "resolved"
    told = ", ".join(people) if people else f"nobody answers for {area_id or 'it'} at that level"
    note = (
        f"escalated to {LEVEL_LABELS[level]} {area_id or '(no such area above the grid)'}: "
        f"not {what} by {missed.deadline.astimezone(tz):%Y-%m-%d %H:%M}; told {told}"
    )
    conn.execute(
        "INSERT INTO work_order_events (work_order_id, time, from_state, to_state, actor, note)"
        " VALUES (%s, %s, %s, %s, 'system', %s)",
        (order["id"], now, order["state"], order["state"], note),
    )
    conn.execute(
        "UPDATE work_orders SET escalation_level = %s, escalated = true, escalated_at = %s,"
        " updated_at = %s WHERE id = %s",
        (level.value, now, now, order["id"]),
    )
    if not people:
        log.warning("work order %d escalated to %s %s: %s", order["id"], level, area_id, told)
    return queued
