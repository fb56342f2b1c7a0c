"""Read queries for the dashboard: every SQL statement the screens run lives here.

One `DashboardQueries` object owns a small connection pool; callbacks ask it for plain
dataclasses and never see a connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from dashboard import actions
from dashboard.board_queries import (
    BoardOrder,
    CameraFrame,
    GridEvent,
    camera_frames,
    dispatch_board,
    grid_cameras,
    grid_events,
    open_detections,
)
from dashboard.changes import ChangeWatcher
from dashboard.detail_queries import AlertDetail, GridDetail, alert_detail, grid_detail
from dashboard.figures_queries import DayFigures, day_figures
from dashboard.map_queries import MapLayout, MapLayoutCache, MapState, read_state
from dashboard.shared_reads import SharedReads
from gridwatch.domain import Severity, WorkOrderState

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long an answer is shared between the browsers on the wall (well under the refresh).
SHARED_MAX_AGE_S = 1.0

OPEN_WORK_STATES_NOT_YET_RESOLVED = ("reported", "accepted", "dispatched", "in_progress")


@dataclass(frozen=True)
class AlertRow:
    """One alert as the live list shows it."""

    id: int
    type: str
    severity: Severity
    state: str
    title: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    grid_id: str
    grid_name: str
    device_id: str
    device_name: str
    snapshot_path: str | None


@dataclass(frozen=True)
class DeviceCounts:
    online: int = 0
    offline: int = 0
    unknown: int = 0  # registered but never reported a status

    @property
    def total(self) -> int:
        return self.online + self.offline + self.unknown


@dataclass(frozen=True)
class WorkOrderCounts:
    by_state: dict[WorkOrderState, int] = field(default_factory=dict)
    overdue: int = 0  # not resolved yet and past its accept or resolve deadline

    def count(self, *states: WorkOrderState) -> int:
        return sum(self.by_state.get(s, 0) for s in states)


@dataclass(frozen=True)
class MapSnapshot:
    """The map's layout (kept between refreshes) with the state read in this snapshot."""

    layout: MapLayout
    state: MapState


@dataclass(frozen=True)
class BigScreenData:
    """Everything the big screen shows, read in one consistent snapshot."""

    read_at: datetime
    map: MapSnapshot
    alerts: list[AlertRow]
    open_alerts: dict[Severity, int]
    work_orders: WorkOrderCounts
    devices: DeviceCounts
    figures: DayFigures | None = None


# Open alerts first (a burst of cleared ones must not push them off the list), then newest.
_LATEST_ALERTS_SQL = """
(SELECT a.id, a.type, a.severity, a.state, a.title, a.first_seen, a.last_seen, a.occurrences,
        a.grid_id, g.name AS grid_name, a.device_id, d.name AS device_name, a.snapshot_path
 FROM alerts a
 JOIN areas g ON g.id = a.grid_id
 JOIN devices d ON d.id = a.device_id
 WHERE a.state <> 'cleared'
 ORDER BY a.first_seen DESC, a.id DESC
 LIMIT %(limit)s)
UNION ALL
(SELECT a.id, a.type, a.severity, a.state, a.title, a.first_seen, a.last_seen, a.occurrences,
        a.grid_id, g.name AS grid_name, a.device_id, d.name AS device_name, a.snapshot_path
 FROM alerts a
 JOIN areas g ON g.id = a.grid_id
 JOIN devices d ON d.id = a.device_id
 WHERE a.state = 'cleared'
 ORDER BY a.first_seen DESC, a.id DESC
 LIMIT %(limit)s)
"""

_OPEN_ALERT_COUNTS_SQL = """
SELECT severity, count(*) AS n FROM alerts WHERE state <> 'cleared' GROUP BY severity
"""

_WORK_ORDER_COUNTS_SQL = """
SELECT state, count(*) AS n FROM work_orders GROUP BY state
"""

_OVERDUE_WORK_ORDERS_SQL = """
SELECT count(*) AS n FROM work_orders
WHERE state = ANY(%(unresolved)s)
  AND ((state = 'reported' AND accept_due < now()) OR resolve_due < now())
"""

_DEVICE_COUNTS_SQL = """
SELECT count(*) FILTER (WHERE s.online) AS online,
       count(*) FILTER (WHERE NOT s.online) AS offline,
       count(*) FILTER (WHERE s.device_id IS NULL) AS unknown
FROM devices d
LEFT JOIN device_status s ON s.device_id = d.id
"""


def _latest_alerts(conn: psycopg.Connection, limit: int) -> list[AlertRow]:
    rows = conn.execute(_LATEST_ALERTS_SQL, {"limit": limit}).fetchall()
    # The union holds up to `limit` open and `limit` cleared ones: open first, newest first.
    rows.sort(key=lambda r: (r["state"] == "cleared", -r["first_seen"].timestamp(), -r["id"]))
    return [AlertRow(**{**r, "severity": Severity(r["severity"])}) for r in rows[:limit]]


def _open_alert_counts(conn: psycopg.Connection) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for r in conn.execute(_OPEN_ALERT_COUNTS_SQL):
        counts[Severity(r["severity"])] = r["n"]
    return counts


def _work_order_counts(conn: psycopg.Connection) -> WorkOrderCounts:
    by_state = dict.fromkeys(WorkOrderState, 0)
    for r in conn.execute(_WORK_ORDER_COUNTS_SQL):
        by_state[WorkOrderState(r["state"])] = r["n"]
    overdue = conn.execute(
        _OVERDUE_WORK_ORDERS_SQL, {"unresolved": list(OPEN_WORK_STATES_NOT_YET_RESOLVED)}
    ).fetchone()
    return WorkOrderCounts(by_state=by_state, overdue=overdue["n"] if overdue else 0)


def _device_counts(conn: psycopg.Connection) -> DeviceCounts:
    row = conn.execute(_DEVICE_COUNTS_SQL).fetchone()
    return DeviceCounts(**row) if row else DeviceCounts()


class DashboardQueries:
    """The dashboard's read side: a connection pool and the queries run through it."""

    def __init__(
        self,
        pool: ConnectionPool,
        timezone: str = "Asia/Shanghai",
        watcher: ChangeWatcher | None = None,
        shared_max_age_s: float = 0.0,
    ) -> None:
        self._pool = pool
        self.timezone = timezone  # the site's: "today" and duty rosters are local time
        self._watcher = watcher
        self._layouts = MapLayoutCache()
        self._shared = SharedReads(shared_max_age_s, self.change_version)

    def change_version(self) -> int:
        """A number that grows whenever an alert changes (0 when nothing is listening)."""
        return self._watcher.version if self._watcher else 0

    def wait_for_change(self, seen: int, timeout_s: float) -> int:
        """change_version() once it differs from seen, or after timeout_s (at once when
        nothing is listening: no change would ever be heard)."""
        if self._watcher is None:
            return 0
        return self._watcher.wait_for_change(seen, timeout_s)

    @classmethod
    def connect(
        cls,
        database_url: str,
        *,
        max_connections: int = 4,
        timeout_s: float = 5.0,
        timezone: str = "Asia/Shanghai",
        watch_changes: bool = False,
    ) -> DashboardQueries:
        """Open a pool to database_url; connections are made in the background."""
        pool = ConnectionPool(
            database_url,
            min_size=1,
            max_size=max_connections,
            timeout=timeout_s,
            kwargs={"row_factory": dict_row, "autocommit": True},
            # A big screen runs for weeks: test a connection before lending it, so a
            # database restart costs one slow refresh instead of a failed one.
            check=ConnectionPool.check_connection,
            name="dashboard",
            open=False,
        )
        pool.open(wait=False)
        watcher = ChangeWatcher(database_url).start() if watch_changes else None
        # Browsers share recent answers only where a change of alert is heard at once;
        # without the listener a shared answer could hide a new alert for max_age.
        shared_s = SHARED_MAX_AGE_S if watcher else 0.0
        return cls(pool, timezone, watcher, shared_s)

    def close(self) -> None:
        if self._watcher:
            self._watcher.stop()
        self._pool.close()

    def map_layout(self) -> MapLayout:
        """Grids and device positions, read again only when the site has changed."""
        with self._pool.connection() as conn:
            return self._layouts.get(conn)

    def map_snapshot(self) -> MapSnapshot:
        with self._pool.connection() as conn:
            return MapSnapshot(self._layouts.get(conn), read_state(conn))

    def latest_alerts(self, limit: int = 30) -> list[AlertRow]:
        """Newest alerts first, whatever their state."""
        with self._pool.connection() as conn:
            return _latest_alerts(conn, limit)

    def open_alert_counts(self) -> dict[Severity, int]:
        with self._pool.connection() as conn:
            return _open_alert_counts(conn)

    def work_order_counts(self) -> WorkOrderCounts:
        with self._pool.connection() as conn:
            return _work_order_counts(conn)

    def device_counts(self) -> DeviceCounts:
        with self._pool.connection() as conn:
            return _device_counts(conn)

    def big_screen(self, alert_limit: int = 30) -> BigScreenData:
        """All big-screen figures from one read-only snapshot, so tiles, map and list agree."""
        return self._shared.get(("big_screen", alert_limit), lambda: self._big_screen(alert_limit))

    def _big_screen(self, alert_limit: int) -> BigScreenData:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            read_at = conn.execute("SELECT now() AS t").fetchone()["t"]  # type: ignore[index]
            return BigScreenData(
                read_at=read_at,
                map=MapSnapshot(self._layouts.get(conn), read_state(conn)),
                alerts=_latest_alerts(conn, alert_limit),
                open_alerts=_open_alert_counts(conn),
                work_orders=_work_order_counts(conn),
                devices=_device_counts(conn),
                figures=day_figures(conn, self.timezone),
            )

    def _read(self, key: tuple[Any, ...], read: Callable[[psycopg.Connection], T]) -> T:
        """read(conn) through the pool, shared with the other browsers (see SharedReads)."""

        def through_pool() -> T:
            with self._pool.connection() as conn:
                return read(conn)

        return self._shared.get(key, through_pool)

    def dispatch_board(self, limit: int = 40) -> list[BoardOrder]:
        return self._read(("board", limit), lambda conn: dispatch_board(conn, limit))

    def grid_events(
        self, grid_id: str | None = None, community_id: str | None = None, limit: int = 30
    ) -> list[GridEvent]:
        return self._read(
            ("events", grid_id, community_id, limit),
            lambda conn: grid_events(conn, grid_id, community_id, limit),
        )

    def camera_frames(self, cameras: list[str] | None = None, count: int = 6) -> list[CameraFrame]:
        return self._read(
            ("cameras", tuple(cameras or ()), count),
            lambda conn: camera_frames(conn, cameras, count),
        )

    def grid_cameras(self, grid_id: str) -> list[str]:
        return self._read(("grid_cameras", grid_id), lambda conn: grid_cameras(conn, grid_id))

    def open_detections(self, device_id: str) -> list[tuple[str, list[Any]]]:
        """(type, boxes) of a camera's open alerts, newest first."""
        with self._pool.connection() as conn:
            return open_detections(conn, device_id)

    def alert_detail(self, alert_id: int) -> AlertDetail | None:
        with self._pool.connection() as conn:
            return alert_detail(conn, alert_id)

    def grid_detail(self, grid_id: str) -> GridDetail | None:
        with self._pool.connection() as conn:
            return grid_detail(conn, grid_id, self.timezone)

    def day_figures(self) -> DayFigures:
        return self._read(("day_figures",), lambda conn: day_figures(conn, self.timezone))

    def acknowledge(self, alert_id: int, actor: str, note: str) -> bool:
        """Acknowledge an active alert (the screen's one write); False if it was not active."""
        with self._pool.connection() as conn:
            return actions.acknowledge_alert(conn, alert_id, actor, note)
