"""The map's reads: its layout (polygons, device positions) once, its state on every refresh.

On a large site (500 grids, 5,000 devices) reading and re-shaping the polygons and device
positions cost most of a refresh, yet they change only when the site is edited. The layout
is therefore kept in memory and read again only when `map_layout_version` moves (bumped by
a trigger on areas and devices, sql/008). A refresh reads just what changes: open alerts
and which devices are offline.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dashboard.components.map_view import Bounds, grid_bounds
from gridwatch.domain import SEVERITY_RANK, Severity

# Severities from least to worst: array_position() over this list is the severity's rank,
# so SQL can take max() of it and the ranking has one source (gridwatch.domain).
SEVERITY_ORDER: list[str] = [s.value for s in sorted(SEVERITY_RANK, key=SEVERITY_RANK.get)]
_SEVERITY_BY_POSITION = {i + 1: Severity(s) for i, s in enumerate(SEVERITY_ORDER)}


@dataclass(frozen=True)
class MapGrid:
    """A grid as the map draws it: its polygon and where it belongs."""

    id: str
    name: str
    geometry: dict[str, Any] | None
    center_lat: float | None
    center_lon: float | None
    community_id: str | None = None
    community_name: str | None = None


@dataclass(frozen=True)
class MapDevice:
    """A placed device: where the map draws it and in which colour (its kind)."""

    id: str
    name: str
    grid_name: str
    kind: str
    lat: float
    lon: float


@dataclass(frozen=True)
class MapLayout:
    """What the map draws that changes only when the site is edited."""

    version: int
    grids: tuple[MapGrid, ...]
    devices: tuple[MapDevice, ...]
    # The box around every grid, worked out once per layout (walking 500 polygons on every
    # refresh cost more than all of the refresh's queries).
    bounds: Bounds | None = None


@dataclass(frozen=True)
class AlertMarker:
    """A device with open alerts, on the map above its dot."""

    device_id: str
    device_name: str
    grid_name: str
    lat: float
    lon: float
    open_alerts: int
    worst_severity: Severity
    unacknowledged: int = 0  # open alerts nobody has acknowledged yet: highlighted


@dataclass(frozen=True)
class OpenAlerts:
    """Open (not cleared) alerts of one grid or device: how many, how bad, how many new."""

    count: int
    worst: Severity
    unacknowledged: int = 0


@dataclass(frozen=True)
class MapState:
    """What the map shows that changes all the time: open alerts and offline devices."""

    grids: dict[str, OpenAlerts] = field(default_factory=dict)
    devices: dict[str, OpenAlerts] = field(default_factory=dict)
    offline: frozenset[str] = frozenset()

    def alert_markers(self, layout: MapLayout) -> list[AlertMarker]:
        """The placed devices with open alerts, in the layout's order."""
        return [
            AlertMarker(
                device_id=d.id,
                device_name=d.name,
                grid_name=d.grid_name,
                lat=d.lat,
                lon=d.lon,
                open_alerts=alerts.count,
                worst_severity=alerts.worst,
                unacknowledged=alerts.unacknowledged,
            )
            for d in layout.devices
            if (alerts := self.devices.get(d.id)) is not None
        ]

    def signatures(self) -> dict[str, str]:
        """A digest per part the map draws from (grid colours, offline dots, alert markers):
        a part whose digest did not change need not be sent again."""
        parts = {
            "grids": sorted(self.grids.items()),
            "offline": sorted(self.offline),
            "alerts": sorted(self.devices.items()),
        }
        return {
            name: hashlib.sha256(repr(part).encode()).hexdigest() for name, part in parts.items()
        }


def _digest(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


_VERSION_SQL = "SELECT version FROM map_layout_version"

_LAYOUT_GRIDS_SQL = """
SELECT g.id, g.name, g.geometry, g.center_lat, g.center_lon,
       c.id AS community_id, c.name AS community_name
FROM areas g LEFT JOIN areas c ON c.id = g.parent_id
WHERE g.level = 'grid'
ORDER BY g.id
"""

_LAYOUT_DEVICES_SQL = """
SELECT d.id, d.name, g.name AS grid_name, d.kind, d.lat, d.lon
FROM devices d JOIN areas g ON g.id = d.grid_id
WHERE d.lat IS NOT NULL AND d.lon IS NOT NULL
ORDER BY d.id
"""

# Open alerts are few whatever the history (one per device and type at most, read through
# the partial unique index alerts_one_open_per_device_type).
_OPEN_ALERTS_SQL = """
SELECT grid_id, device_id, count(*) AS n,
       count(*) FILTER (WHERE state = 'active') AS unacknowledged,
       max(array_position(%(severity_order)s::text[], severity)) AS worst_position
FROM alerts WHERE state <> 'cleared'
GROUP BY grid_id, device_id
"""

_OFFLINE_SQL = "SELECT device_id FROM device_status WHERE NOT online"


def severity_at(position: int | None) -> Severity | None:
    """The severity at a 1-based position in SEVERITY_ORDER (None for no alert)."""
    return _SEVERITY_BY_POSITION.get(position) if position is not None else None


def layout_version(conn: psycopg.Connection) -> int:
    row = conn.execute(_VERSION_SQL).fetchone()
    return int(row["version"]) if row else 0


def read_layout(conn: psycopg.Connection, version: int) -> MapLayout:
    grids = tuple(MapGrid(**r) for r in conn.execute(_LAYOUT_GRIDS_SQL))
    devices = tuple(MapDevice(**r) for r in conn.execute(_LAYOUT_DEVICES_SQL))
    return MapLayout(version, grids, devices, grid_bounds(grids))


def _merge(into: dict[str, OpenAlerts], key: str, add: OpenAlerts) -> None:
    known = into.get(key)
    if known is None:
        into[key] = add
        return
    worst = max(known.worst, add.worst, key=lambda s: SEVERITY_RANK[s])
    into[key] = OpenAlerts(
        known.count + add.count, worst, known.unacknowledged + add.unacknowledged
    )


def read_state(conn: psycopg.Connection) -> MapState:
    grids: dict[str, OpenAlerts] = {}
    devices: dict[str, OpenAlerts] = {}
    for r in conn.execute(_OPEN_ALERTS_SQL, {"severity_order": SEVERITY_ORDER}):
        worst = severity_at(r["worst_position"])
        if worst is None:
            continue
        alerts = OpenAlerts(r["n"], worst, r["unacknowledged"])
        _merge(grids, r["grid_id"], alerts)
        _merge(devices, r["device_id"], alerts)
    offline = frozenset(r["device_id"] for r in conn.execute(_OFFLINE_SQL))
    return MapState(grids=grids, devices=devices, offline=offline)


class MapLayoutCache:
    """The last layout read, kept until the database's layout version moves."""

    def __init__(self) -> None:
        self._layout: MapLayout | None = None
        self._lock = threading.Lock()

    def get(self, conn: psycopg.Connection) -> MapLayout:
        version = layout_version(conn)
        layout = self._layout
        if layout is not None and layout.version == version:
            return layout
        with self._lock:  # one reader re-reads; the others wait for its result
            if self._layout is None or self._layout.version != version:
                self._layout = read_layout(conn, version)
            return self._layout


def communities(grids: Iterable[MapGrid]) -> list[tuple[str, str]]:
    """(id, name) of the communities the grids belong to, by name."""
    found = {(g.community_id, g.community_name or g.community_id) for g in grids if g.community_id}
    return sorted(found, key=lambda c: (c[1], c[0]))
