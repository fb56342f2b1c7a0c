"""Read queries for the dashboard: every SQL statement the screens run lives here.

One `DashboardQueries` object owns a small connection pool; callbacks ask it for plain
dataclasses and never see a connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    grid_events,
)
from dashboard.changes import ChangeWatcher
from dashboard.detail_queries import AlertDetail, GridDetail, alert_detail, grid_detail
from dashboard.figures_queries import DayFigures, day_figures
from gridwatch.domain import SEVERITY_RANK, Severity, WorkOrderState

log = logging.getLogger(__name__)

# Severities from least to worst: array_position() over this list is the severity's rank,
# so SQL can take max() of it and the ranking has one source (gridwatch.domain).
SEVERITY_ORDER: list[str] = [s.value for s in sorted(SEVERITY_RANK, key=SEVERITY_RANK.get)]
_SEVERITY_BY_POSITION = {i + 1: Severity(s) for i, s in enumerate(SEVERITY_ORDER)}

OPEN_WORK_STATES_NOT_YET_RESOLVED = ("reported", "accepted", "dispatched", "in_progress")


@dataclass(frozen=True)
class GridState:
    """A grid polygon with the worst severity among its open (not cleared) alerts."""

    id: str
    name: str
    geometry: dict[str, Any] | None
    center_lat: float | None
    center_lon: float | None
    open_alerts: int
    worst_severity: Severity | None
    community_id: str | None = None
    community_name: str | None = None


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
class AlertMarker:
    """A device on the map: its kind, whether it is online, and its open alerts if any."""

    device_id: str
    device_name: str
    grid_name: str
    lat: float
    lon: float
    open_alerts: int
    worst_severity: Severity | None
    kind: str = ""
    online: bool | None = None  # None: never reported a status
    unacknowledged: int = 0  # open alerts nobody has acknowledged yet: highlighted


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
class BigScreenData:
    """Everything the big screen shows, read in one consistent snapshot."""

    read_at: datetime
    grids: list[GridState]
    markers: list[AlertMarker]
    alerts: list[AlertRow]
    open_alerts: dict[Severity, int]
    work_orders: WorkOrderCounts
    devices: DeviceCounts
    figures: DayFigures | None = None


_GRIDS_SQL = """
SELECT g.id, g.name, g.geometry, g.center_lat, g.center_lon,
       c.id AS community_id, c.name AS community_name,
       count(a.id) AS open_alerts,
       max(array_position(%(severity_order)s::text[], a.severity)) AS worst_position
FROM areas g
LEFT JOIN areas c ON c.id = g.parent_id
LEFT JOIN alerts a ON a.grid_id = g.id AND a.state <> 'cleared'
WHERE g.level = 'grid'
GROUP BY g.id, c.id
ORDER BY g.id
"""

# Every placed device, with its status and its open alerts (the partial unique index keeps
# open alerts few, so the aggregate is over a small set even with years of history).
_MARKERS_SQL = """
WITH open_alerts AS (
    SELECT device_id, count(*) AS n,
           count(*) FILTER (WHERE state = 'active') AS unacknowledged,
           max(array_position(%(severity_order)s::text[], severity)) AS worst_position
    FROM alerts WHERE state <> 'cleared' GROUP BY device_id
)
SELECT d.id AS device_id, d.name AS device_name, g.name AS grid_name, d.lat, d.lon, d.kind,
       s.online, coalesce(o.n, 0) AS open_alerts,
       coalesce(o.unacknowledged, 0) AS unacknowledged, o.worst_position
FROM devices d
JOIN areas g ON g.id = d.grid_id
LEFT JOIN device_status s ON s.device_id = d.id
LEFT JOIN open_alerts o ON o.device_id = d.id
WHERE d.lat IS NOT NULL AND d.lon IS NOT NULL
ORDER BY d.id
"""

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


def _severity_at(position: int | None) -> Severity | None:
    return _SEVERITY_BY_POSITION.get(position) if position is not None else None


def _grids(conn: psycopg.Connection) -> list[GridState]:
    rows = conn.execute(_GRIDS_SQL, {"severity_order": SEVERITY_ORDER}).fetchall()
    return [
        GridState(
            id=r["id"],
            name=r["name"],
            geometry=r["geometry"],
            center_lat=r["center_lat"],
            center_lon=r["center_lon"],
            open_alerts=r["open_alerts"],
            worst_severity=_severity_at(r["worst_position"]),
            community_id=r["community_id"],
            community_name=r["community_name"],
        )
        for r in rows
    ]


def _markers(conn: psycopg.Connection) -> list[AlertMarker]:
    rows = conn.execute(_MARKERS_SQL, {"severity_order": SEVERITY_ORDER}).fetchall()
    return [
        AlertMarker(
            device_id=r["device_id"],
            device_name=r["device_name"],
            grid_name=r["grid_name"],
            lat=r["lat"],
            lon=r["lon"],
            open_alerts=r["open_alerts"],
            worst_severity=_severity_at(r["worst_position"]),
            kind=r["kind"],
            online=r["online"],
            unacknowledged=r["unacknowledged"],
        )
        for r in rows
    ]


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
    ) -> None:
        self._pool = pool
        self.timezone = timezone  # the site's: "today" and duty rosters are local time
        self._watcher = watcher

    def change_version(self) -> int:
        """A number that grows whenever an alert changes (0 when nothing is listening)."""
        return self._watcher.version if self._watcher else 0

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
        return cls(pool, timezone, watcher)

    def close(self) -> None:
        if self._watcher:
            self._watcher.stop()
        self._pool.close()

    def grids(self) -> list[GridState]:
        with self._pool.connection() as conn:
            return _grids(conn)

    def alert_markers(self) -> list[AlertMarker]:
        with self._pool.connection() as conn:
            return _markers(conn)

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
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            read_at = conn.execute("SELECT now() AS t").fetchone()["t"]  # type: ignore[index]
            return BigScreenData(
                read_at=read_at,
                grids=_grids(conn),
                markers=_markers(conn),
                alerts=_latest_alerts(conn, alert_limit),
                open_alerts=_open_alert_counts(conn),
                work_orders=_work_order_counts(conn),
                devices=_device_counts(conn),
                figures=day_figures(conn, self.timezone),
            )

    def dispatch_board(self, limit: int = 40) -> list[BoardOrder]:
        with self._pool.connection() as conn:
            return dispatch_board(conn, limit)

    def grid_events(
        self, grid_id: str | None = None, community_id: str | None = None, limit: int = 30
    ) -> list[GridEvent]:
        with self._pool.connection() as conn:
            return grid_events(conn, grid_id, community_id, limit)

    def camera_frames(self, cameras: list[str] | None = None, count: int = 6) -> list[CameraFrame]:
        with self._pool.connection() as conn:
            return camera_frames(conn, cameras, count)

    def alert_detail(self, alert_id: int) -> AlertDetail | None:
        with self._pool.connection() as conn:
            return alert_detail(conn, alert_id)

    def grid_detail(self, grid_id: str) -> GridDetail | None:
        with self._pool.connection() as conn:
            return grid_detail(conn, grid_id, self.timezone)

    def day_figures(self) -> DayFigures:
        with self._pool.connection() as conn:
            return day_figures(conn, self.timezone)

    def acknowledge(self, alert_id: int, actor: str, note: str) -> bool:
        """Acknowledge an active alert (the screen's one write); False if it was not active."""
        with self._pool.connection() as conn:
            return actions.acknowledge_alert(conn, alert_id, actor, note)
