"""The dispatch process: wakes on new or cleared alerts (LISTEN/NOTIFY) and sweeps regularly."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

import psycopg

from dispatch.workorders import close_if_alert_cleared_early, open_for_alert
from gridwatch import db
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


def site_timezone_of(conn: psycopg.Connection, site_id: str) -> tzinfo:
    row = conn.execute("SELECT timezone FROM sites WHERE id = %s", (site_id,)).fetchone()
    conn.commit()
    return site_timezone(row["timezone"] if row else DEFAULT_TIMEZONE)


def sweep(conn: psycopg.Connection, now: datetime, tz: tzinfo) -> tuple[int, int]:
    """Open orders for alerts that have none; close early-cleared ones. Returns the counts."""
    opened = closed = 0
    with conn.transaction():
        for row in conn.execute(_UNDISPATCHED).fetchall():
            if open_for_alert(conn, int(row["id"]), now, tz) is not None:
                opened += 1
        for row in conn.execute(_CLEARED_OPEN).fetchall():
            if close_if_alert_cleared_early(conn, int(row["id"]), now):
                closed += 1
    return opened, closed


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
    listener = psycopg.connect(settings.database_url, autocommit=True)
    listener.execute(f"LISTEN {db.ALERTS_CHANNEL}")
    work = db.connect(settings.database_url)
    tz = site_timezone_of(work, settings.site_id)
    log.info("dispatch running")
    try:
        while not stop.is_set():
            opened, closed = sweep(work, clock(), tz)
            if opened or closed:
                log.info("dispatch: %d work order(s) opened, %d closed early", opened, closed)
            # Wake at the next notification or after the sweep interval, whichever is first.
            for _ in listener.notifies(timeout=SWEEP_EVERY_S, stop_after=1):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        work.close()
