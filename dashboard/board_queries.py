"""Reads for the big screen's side panels: the dispatch board, grid events and camera wall."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

UNRESOLVED = ["reported", "accepted", "dispatched", "in_progress"]


@dataclass(frozen=True)
class BoardOrder:
    """An open work order as the dispatch board shows it."""

    id: int
    title: str
    type: str
    severity: str
    state: str
    source: str
    grid_name: str
    assignee: str | None
    created_at: datetime
    overdue: bool
    escalated: bool


@dataclass(frozen=True)
class GridEvent:
    """One line of the grid events feed: a device alert or a resident/patrol report."""

    kind: str  # 'alert', 'resident' or 'patrol'
    ref_id: int
    type: str
    title: str
    severity: str
    state: str
    time: datetime
    grid_id: str
    grid_name: str
    community_id: str | None


@dataclass(frozen=True)
class CameraFrame:
    """The newest evidence snapshot of a camera: the frame with its detection boxes drawn,
    and whether that alert is still open (its boxes are then drawn on the live frame too)."""

    device_id: str
    device_name: str
    grid_name: str
    alert_id: int
    alert_type: str
    snapshot_path: str
    time: datetime
    alert_open: bool = False


# Overdue first, then the longest waiting: what the supervisor chases next is on top.
_BOARD_SQL = """
SELECT w.id, w.title, w.type, w.severity, w.state, w.source, g.name AS grid_name,
       p.name AS assignee, w.created_at, w.escalated,
       ((w.state = 'reported' AND w.accept_due < now()) OR w.resolve_due < now()) AS overdue
FROM work_orders w
JOIN areas g ON g.id = w.grid_id
LEFT JOIN people p ON p.id = w.assignee_id
WHERE w.state = ANY(%(unresolved)s)
ORDER BY overdue DESC NULLS LAST, w.escalated DESC, w.created_at ASC, w.id
LIMIT %(limit)s
"""

_EVENTS_SQL = """
(SELECT 'alert' AS kind, a.id AS ref_id, a.type, a.title, a.severity, a.state,
        a.first_seen AS time, a.grid_id, g.name AS grid_name, g.parent_id AS community_id
 FROM alerts a JOIN areas g ON g.id = a.grid_id
 WHERE (%(grid)s::text IS NULL OR a.grid_id = %(grid)s)
   AND (%(community)s::text IS NULL OR g.parent_id = %(community)s)
 ORDER BY a.first_seen DESC LIMIT %(limit)s)
UNION ALL
(SELECT w.source AS kind, w.id AS ref_id, w.type, w.title, w.severity, w.state,
        w.created_at AS time, w.grid_id, g.name AS grid_name, g.parent_id AS community_id
 FROM work_orders w JOIN areas g ON g.id = w.grid_id
 WHERE w.source IN ('resident', 'patrol')
   AND (%(grid)s::text IS NULL OR w.grid_id = %(grid)s)
   AND (%(community)s::text IS NULL OR g.parent_id = %(community)s)
 ORDER BY w.created_at DESC LIMIT %(limit)s)
"""

# The newest snapshots, newest first; the caller keeps the first per camera. Reading a
# bounded slice of the time index stays cheap however long the history is.
_SNAPSHOTS_SQL = """
SELECT a.device_id, d.name AS device_name, g.name AS grid_name, a.id AS alert_id,
       a.type AS alert_type, a.snapshot_path, a.last_seen AS time,
       a.state <> 'cleared' AS alert_open
FROM alerts a
JOIN devices d ON d.id = a.device_id
JOIN areas g ON g.id = a.grid_id
WHERE a.snapshot_path IS NOT NULL
  AND (%(cameras)s::text[] IS NULL OR a.device_id = ANY(%(cameras)s))
ORDER BY a.first_seen DESC
LIMIT %(scan)s
"""


# Open alerts are few (one per device and type at most), whatever the history.
_OPEN_SNAPSHOTS_SQL = _SNAPSHOTS_SQL.replace(
    "WHERE a.snapshot_path IS NOT NULL",
    "WHERE a.snapshot_path IS NOT NULL AND a.state <> 'cleared'",
)


def dispatch_board(conn: psycopg.Connection, limit: int = 40) -> list[BoardOrder]:
    rows = conn.execute(_BOARD_SQL, {"unresolved": UNRESOLVED, "limit": limit}).fetchall()
    return [BoardOrder(**{**r, "overdue": bool(r["overdue"])}) for r in rows]


def grid_events(
    conn: psycopg.Connection,
    grid_id: str | None = None,
    community_id: str | None = None,
    limit: int = 30,
) -> list[GridEvent]:
    """Alerts and resident/patrol reports together, newest first, optionally in one place."""
    params: dict[str, Any] = {"grid": grid_id, "community": community_id, "limit": limit}
    rows = conn.execute(_EVENTS_SQL, params).fetchall()
    rows.sort(key=lambda r: r["time"], reverse=True)
    return [GridEvent(**r) for r in rows[:limit]]


def camera_frames(
    conn: psycopg.Connection, cameras: list[str] | None = None, count: int = 6
) -> list[CameraFrame]:
    """The newest snapshot of up to `count` cameras (the given ones, else the busiest now):
    cameras with an open alert first, however long ago it was raised, then the newest."""
    params = {"cameras": cameras or None, "scan": max(200, 20 * count)}
    frames: dict[str, CameraFrame] = {}
    for query in (_OPEN_SNAPSHOTS_SQL, _SNAPSHOTS_SQL):
        for r in conn.execute(query, params):
            if r["device_id"] not in frames:
                frames[r["device_id"]] = CameraFrame(**r)
                if len(frames) >= count:
                    return list(frames.values())
    return list(frames.values())


def grid_cameras(conn: psycopg.Connection, grid_id: str) -> list[str]:
    """The cameras of one grid, by id: what the wall shows while that grid is chosen."""
    rows = conn.execute(
        "SELECT id FROM devices WHERE grid_id = %s AND kind LIKE '%%\\_camera' ORDER BY id",
        (grid_id,),
    ).fetchall()
    return [r["id"] for r in rows]


_OPEN_BOXES_SQL = """
SELECT type, details->'boxes' AS boxes FROM alerts
WHERE device_id = %(device)s AND state <> 'cleared'
ORDER BY first_seen DESC
"""


def open_detections(conn: psycopg.Connection, device_id: str) -> list[tuple[str, list[Any]]]:
    """(alert type, boxes) of a camera's open alerts, newest first: what it sees now."""
    rows = conn.execute(_OPEN_BOXES_SQL, {"device": device_id}).fetchall()
    return [(r["type"], r["boxes"] if isinstance(r["boxes"], list) else []) for r in rows]
