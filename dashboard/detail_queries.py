"""Reads behind a click: one alert's evidence and its work order, one grid's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

SENSOR_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class TimelineStep:
    time: datetime
    from_state: str | None
    to_state: str
    actor: str
    note: str | None


@dataclass(frozen=True)
class SensorSeries:
    device_id: str
    metric: str
    unit: str | None
    times: list[datetime]
    values: list[float | None]


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence file of an alert (snapshot or clip) with the SHA-256 it was stored with."""

    kind: str  # 'snapshot' or 'clip'
    path: str  # relative to the evidence root
    sha256: str
    media_type: str
    size_bytes: int
    frames: int
    frame_ts_first: float | None
    frame_ts_last: float | None
    created_at: datetime

    @property
    def seconds(self) -> float | None:
        """How much scene time a clip covers (None for a snapshot or unknown)."""
        if self.frame_ts_first is None or self.frame_ts_last is None:
            return None
        return max(0.0, self.frame_ts_last - self.frame_ts_first)


@dataclass(frozen=True)
class AlertDetail:
    id: int
    type: str
    severity: str
    state: str
    title: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int
    grid_id: str
    grid_name: str
    device_id: str
    device_name: str
    device_kind: str
    details: dict[str, Any]
    snapshot_path: str | None
    work_order_id: int | None = None
    work_order_state: str | None = None
    assignee: str | None = None
    timeline: list[TimelineStep] = field(default_factory=list)
    sensors: list[SensorSeries] = field(default_factory=list)
    evidence: list[EvidenceItem] = field(default_factory=list)

    @property
    def clips(self) -> list[EvidenceItem]:
        """The alert's clips, newest first."""
        return [e for e in reversed(self.evidence) if e.kind == "clip"]


@dataclass(frozen=True)
class GridDetail:
    id: str
    name: str
    community_name: str | None
    open_alerts: int
    devices_online: int
    devices_total: int
    on_duty: list[str]
    open_orders: list[tuple[int, str, str, datetime]]  # id, title, state, created


_ALERT_SQL = """
SELECT a.id, a.type, a.severity, a.state, a.title, a.first_seen, a.last_seen, a.occurrences,
       a.grid_id, g.name AS grid_name, a.device_id, d.name AS device_name,
       d.kind AS device_kind, a.details, a.snapshot_path,
       w.id AS work_order_id, w.state AS work_order_state, p.name AS assignee
FROM alerts a
JOIN areas g ON g.id = a.grid_id
JOIN devices d ON d.id = a.device_id
LEFT JOIN work_orders w ON w.alert_id = a.id
LEFT JOIN people p ON p.id = w.assignee_id
WHERE a.id = %(id)s
"""

_EVIDENCE_SQL = """
SELECT kind, path, sha256, media_type, size_bytes, frames, frame_ts_first, frame_ts_last,
       created_at
FROM evidence WHERE alert_id = %(id)s ORDER BY created_at, id
"""

_TIMELINE_SQL = """
SELECT time, from_state, to_state, actor, note FROM work_order_events
WHERE work_order_id = %(order)s ORDER BY time, id
"""

# The shed's sensors: from a shed camera, the sockets and smoke detector its config lists;
# from a socket or smoke detector, its shed camera's. Always the alerting device itself.
_SHED_SENSORS_SQL = """
WITH me AS (SELECT id, kind, config FROM devices WHERE id = %(device)s),
camera AS (
    SELECT c.id, c.config FROM devices c, me
    WHERE c.id = CASE WHEN me.kind = 'shed_camera' THEN me.id ELSE me.config->>'shed_camera' END
)
SELECT jsonb_array_elements_text(coalesce(config->'sockets', '[]'::jsonb)) AS id FROM camera
UNION SELECT config->>'smoke_detector' FROM camera WHERE config ? 'smoke_detector'
UNION SELECT id FROM me
"""

_SERIES_SQL = """
SELECT device_id, metric, max(unit) AS unit,
       array_agg(time ORDER BY time) AS times, array_agg(value ORDER BY time) AS values
FROM telemetry
WHERE device_id = ANY(%(devices)s) AND time BETWEEN %(start)s AND %(end)s
GROUP BY device_id, metric
ORDER BY device_id, metric
"""

_GRID_SQL = """
SELECT g.id, g.name, c.name AS community_name,
       (SELECT count(*) FROM alerts a WHERE a.grid_id = g.id AND a.state <> 'cleared')
           AS open_alerts,
       (SELECT count(*) FROM devices d JOIN device_status s ON s.device_id = d.id
         WHERE d.grid_id = g.id AND s.online) AS devices_online,
       (SELECT count(*) FROM devices d WHERE d.grid_id = g.id) AS devices_total
FROM areas g LEFT JOIN areas c ON c.id = g.parent_id
WHERE g.id = %(grid)s AND g.level = 'grid'
"""

# Who is on duty now, judged in the site's local time (rosters are written in it).
_ON_DUTY_SQL = """
WITH local AS (SELECT (now() AT TIME ZONE %(tz)s) AS t)
SELECT DISTINCT p.name FROM duty_roster r JOIN people p ON p.id = r.person_id, local
WHERE r.grid_id = %(grid)s
  AND r.weekday = extract(isodow FROM local.t)
  AND local.t::time >= r.starts_at AND local.t::time < r.ends_at
ORDER BY p.name
"""

_GRID_ORDERS_SQL = """
SELECT id, title, state, created_at FROM work_orders
WHERE grid_id = %(grid)s AND state <> 'closed'
ORDER BY created_at LIMIT 10
"""


def shed_sensor_series(
    conn: psycopg.Connection, device_id: str, moment: datetime, points_per_series: int = 600
) -> list[SensorSeries]:
    """Telemetry of the shed's sensors from ten minutes before `moment` to ten after."""
    devices = [r["id"] for r in conn.execute(_SHED_SENSORS_SQL, {"device": device_id}) if r["id"]]
    params = {"devices": devices, "start": moment - SENSOR_WINDOW, "end": moment + SENSOR_WINDOW}
    series = []
    for r in conn.execute(_SERIES_SQL, params):
        step = max(1, len(r["times"]) // points_per_series)  # a chart, not a table
        series.append(
            SensorSeries(
                r["device_id"], r["metric"], r["unit"], r["times"][::step], r["values"][::step]
            )
        )
    return series


def alert_detail(conn: psycopg.Connection, alert_id: int) -> AlertDetail | None:
    """One alert with its work order's timeline and, for a shed, the sensor curves."""
    row = conn.execute(_ALERT_SQL, {"id": alert_id}).fetchone()
    if row is None:
        return None
    timeline = []
    if row["work_order_id"] is not None:
        timeline = [
            TimelineStep(**r) for r in conn.execute(_TIMELINE_SQL, {"order": row["work_order_id"]})
        ]
    sensors = []
    if row["device_kind"] in ("shed_camera", "charging_socket", "smoke_detector"):
        sensors = shed_sensor_series(conn, row["device_id"], row["first_seen"])
    evidence = [EvidenceItem(**r) for r in conn.execute(_EVIDENCE_SQL, {"id": alert_id})]
    return AlertDetail(**row, timeline=timeline, sensors=sensors, evidence=evidence)


def grid_detail(conn: psycopg.Connection, grid_id: str, timezone: str) -> GridDetail | None:
    row = conn.execute(_GRID_SQL, {"grid": grid_id}).fetchone()
    if row is None:
        return None
    on_duty = [r["name"] for r in conn.execute(_ON_DUTY_SQL, {"grid": grid_id, "tz": timezone})]
    orders = [
        (r["id"], r["title"], r["state"], r["created_at"])
        for r in conn.execute(_GRID_ORDERS_SQL, {"grid": grid_id})
    ]
    return GridDetail(**row, on_duty=on_duty, open_orders=orders)
