"""The dispatch process: wakes on new or cleared alerts (LISTEN/NOTIFY) and sweeps regularly.

A sweep opens work orders for new alerts (and tells the worker), closes early-cleared ones,
escalates orders that missed a deadline, and delivers the notifications that are due.
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import psycopg

from dispatch import notifications as notify
from dispatch.assignment import departments_without_contacts, dispatch_new_order
from dispatch.channels import AppriseSender, MqttSender, Senders
from dispatch.deadlines import DEFAULT_DEADLINES, DeadlineTable, load_deadlines
from dispatch.escalation import escalate_due
from dispatch.routing import DEFAULT_ROUTING, RoutingTable, load_routing
from dispatch.workorders import close_if_alert_cleared_early, open_for_alert
from gridwatch import db
from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from gridwatch.site import DEFAULT_TIMEZONE, site_timezone

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 2.0

# NO KEY UPDATE, not UPDATE: ingest's foreign-key inserts (device_commands) hold key-share
# locks on fresh alerts, and SKIP LOCKED would otherwise pass them over until the next sweep.
# Every alert gets an order, even one that cleared before dispatch saw it: the event happened
# and belongs in the loop's record; the next step decides whether it may close by itself.
_UNDISPATCHED = """
SELECT a.id FROM alerts a
WHERE NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.alert_id = a.id)
ORDER BY a.id
FOR NO KEY UPDATE OF a SKIP LOCKED
"""
_CLEARED_OPEN = """
SELECT a.id FROM alerts a JOIN work_orders w ON w.alert_id = a.id
WHERE a.state = 'cleared' AND w.state IN ('reported', 'dispatched')
ORDER BY a.id
FOR NO KEY UPDATE OF w SKIP LOCKED
"""


@dataclass(frozen=True)
class DispatchSetup:
    """What a sweep works with besides the database and the clock."""

    deadlines: DeadlineTable = DEFAULT_DEADLINES
    # None: messages are queued but not delivered (a sweep with nowhere to send from)
    senders: Senders | None = None
    retry: notify.RetryPolicy = notify.DEFAULT_RETRY
    # With a site id, escalations are also published on the order's alert topic.
    site_id: str | None = None
    routing: RoutingTable = DEFAULT_ROUTING


@dataclass
class SweepCounts:
    opened: int = 0
    closed: int = 0
    escalated: int = 0
    queued: int = 0
    delivery: notify.DeliveryCounts = field(default_factory=notify.DeliveryCounts)

    def __bool__(self) -> bool:
        d = self.delivery
        return bool(self.opened or self.closed or self.escalated or d.sent or d.failed)


DEFAULT_SETUP = DispatchSetup()


def site_timezone_of(conn: psycopg.Connection, site_id: str) -> tzinfo:
    row = conn.execute("SELECT timezone FROM sites WHERE id = %s", (site_id,)).fetchone()
    conn.commit()
    return site_timezone(row["timezone"] if row else DEFAULT_TIMEZONE)


def sweep(
    conn: psycopg.Connection, now: datetime, tz: tzinfo, setup: DispatchSetup = DEFAULT_SETUP
) -> SweepCounts:
    """One pass of the loop at `now`; the clock is a parameter so tests can move it."""
    counts = SweepCounts()
    with conn.transaction():
        for row in conn.execute(_UNDISPATCHED).fetchall():
            order_id = open_for_alert(conn, int(row["id"]), now, setup.deadlines)
            if order_id is not None:
                counts.opened += 1
                counts.queued += dispatch_new_order(conn, order_id, now, tz, setup.routing)
        for row in conn.execute(_CLEARED_OPEN).fetchall():
            if close_if_alert_cleared_early(conn, int(row["id"]), now):
                counts.closed += 1
        escalation = escalate_due(conn, now, tz, setup.site_id)
        counts.escalated, counts.queued = escalation.escalated, counts.queued + escalation.queued
    if setup.senders is not None:
        counts.delivery = notify.deliver_due(conn, now, setup.senders, setup.retry)
    return counts


def setup_from_settings(settings: Settings, senders: Senders | None) -> DispatchSetup:
    retry = notify.RetryPolicy(
        settings.notify_retry_first_s, settings.notify_retry_max_s, settings.notify_give_up_s
    )
    return DispatchSetup(
        load_deadlines(settings.deadlines_file),
        senders,
        retry,
        settings.site_id,
        load_routing(settings.routing_file),
    )


def run_dispatch(
    settings: Settings,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Dispatch until stopped; `clock` gives aware datetimes (tests pass their own)."""
    assert settings.database_url
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Read the deadlines first: a bad file stops the process before it touches anything.
    mqtt = make_client(settings, client_id=f"gridwatch-dispatch-{uuid.uuid4().hex[:8]}")
    setup = setup_from_settings(settings, Senders(AppriseSender(), MqttSender(mqtt)))
    try:
        connect(mqtt, settings)
    except OSError as exc:
        # Dispatch does not need the broker to run; MQTT messages wait in the outbox.
        log.warning("MQTT broker not reachable (%s); dispatch keeps trying to connect", exc)
        mqtt.connect_async(settings.mqtt_host, settings.mqtt_port, keepalive=30)
    mqtt.loop_start()
    listener = psycopg.connect(settings.database_url, autocommit=True)
    listener.execute(f"LISTEN {db.ALERTS_CHANNEL}")
    work = db.connect(settings.database_url)
    tz = site_timezone_of(work, settings.site_id)
    missing = departments_without_contacts(work, setup.routing)
    work.commit()
    if missing:
        log.warning(
            "no department contact for %s: their orders go to the grid worker on duty",
            ", ".join(missing),
        )
    log.info("dispatch running")
    try:
        while not stop.is_set():
            counts = sweep(work, clock(), tz, setup)
            if counts:
                log.info("dispatch: %s", counts)
            # Wake at the next notification or after the sweep interval, whichever is first.
            for _ in listener.notifies(timeout=SWEEP_EVERY_S, stop_after=1):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        work.close()
        mqtt.loop_stop()
        mqtt.disconnect()
