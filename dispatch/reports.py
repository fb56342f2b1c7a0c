"""Reports from people (扫码报事, 网格巡查): checked, placed in a grid, opened as work orders.

`parse_report` is pure: form fields in, a `Report` or a `ReportError` with the reason out.
`file_report` writes the work order, its first event and the Open311 record, then
dispatches it by its type's route exactly as an alert's order is (dispatch.assignment), all
inside the caller's transaction, so a failure leaves nothing behind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import psycopg

from dispatch.assignment import dispatch_new_order
from dispatch.auth import User
from dispatch.deadlines import DEFAULT_DEADLINES, DeadlineTable
from dispatch.routing import DEFAULT_ROUTING, RoutingTable
from gridwatch import db
from gridwatch.domain import ALERT_TYPE_LABELS, DEFAULT_SEVERITY, AlertType, Severity
from gridwatch.site import PersonRole
from gridwatch.site.areas import Geometry
from gridwatch.site.geometry import geometry_contains

MAX_DESCRIPTION = 4000  # Open311 GeoReport v2's own limit
MAX_URL = 2000


@dataclass(frozen=True)
class Service:
    """Something a resident can report: an Open311 service."""

    code: str
    name: str
    name_en: str
    severity: Severity
    group: str


def _alert_service(alert_type: AlertType, group: str) -> Service:
    name, name_en = ALERT_TYPE_LABELS[alert_type]
    return Service(alert_type.value, name, name_en, DEFAULT_SEVERITY[alert_type], group)


# What residents and patrols report. Codes shared with alert types join the same figures.
SERVICES: tuple[Service, ...] = (
    _alert_service(AlertType.FIRE_LANE_OCCUPIED, "消防安全 fire safety"),
    _alert_service(AlertType.EBIKE_IN_ELEVATOR, "消防安全 fire safety"),
    _alert_service(AlertType.SMOKE, "消防安全 fire safety"),
    Service(
        "unsafe_charging",
        "私拉电线充电",
        "Unsafe e-bike charging",
        Severity.MAJOR,
        "消防安全 fire safety",
    ),
    _alert_service(AlertType.FALLING_OBJECT, "公共安全 public safety"),
    Service(
        "facility_damage",
        "公共设施损坏",
        "Damaged public facility",
        Severity.MINOR,
        "市容设施 facilities",
    ),
    Service(
        "sanitation", "环境卫生", "Litter and sanitation", Severity.WARNING, "市容设施 facilities"
    ),
    Service("other", "其他问题", "Something else", Severity.MINOR, "其他 other"),
)
SERVICES_BY_CODE = {s.code: s for s in SERVICES}


class ReportError(ValueError):
    """A report that cannot be filed: HTTP status and the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Report:
    service: Service
    description: str
    lat: float | None
    lon: float | None
    address: str | None
    media_url: str | None


def _number(fields: Mapping[str, str], name: str, low: float, high: float) -> float:
    raw = fields[name].strip()
    try:
        value = float(raw)
    except ValueError:
        raise ReportError(400, f"{name} {raw!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ReportError(400, f"{name} {raw} is outside {low:g}..{high:g}")
    return value


def parse_report(fields: Mapping[str, str]) -> Report:
    """Check an Open311 POST requests.json form; the first problem raises ReportError."""
    code = (fields.get("service_code") or "").strip()
    if not code:
        raise ReportError(400, "service_code is required; GET services.json lists them")
    service = SERVICES_BY_CODE.get(code)
    if service is None:
        known = ", ".join(SERVICES_BY_CODE)
        raise ReportError(400, f"service_code {code!r} is unknown; known codes: {known}")
    description = (fields.get("description") or "").strip()
    if not description:
        raise ReportError(400, "description is required: say what is wrong and where")
    if len(description) > MAX_DESCRIPTION:
        raise ReportError(
            400, f"description has {len(description)} characters; at most {MAX_DESCRIPTION}"
        )
    has_lat, has_lon = bool(fields.get("lat", "").strip()), bool(fields.get("long", "").strip())
    if has_lat != has_lon:
        raise ReportError(400, "give both lat and long, or neither and an address_string")
    lat = _number(fields, "lat", -90, 90) if has_lat else None
    lon = _number(fields, "long", -180, 180) if has_lon else None
    address = (fields.get("address_string") or "").strip() or None
    if lat is None and address is None:
        raise ReportError(400, "location missing: give lat and long, or an address_string")
    if address is not None and len(address) > 500:
        raise ReportError(400, f"address_string has {len(address)} characters; at most 500")
    media_url = (fields.get("media_url") or "").strip() or None
    if media_url is not None and (
        not media_url.startswith(("http://", "https://")) or len(media_url) > MAX_URL
    ):
        raise ReportError(400, "media_url must be an http(s) URL of at most 2000 characters")
    return Report(service, description, lat, lon, address, media_url)


def grid_at(conn: psycopg.Connection, lat: float, lon: float) -> str | None:
    """The grid whose outline contains the position, if any."""
    rows = conn.execute(
        "SELECT id, geometry FROM areas WHERE level = 'grid' AND geometry IS NOT NULL ORDER BY id"
    ).fetchall()
    for row in rows:
        if geometry_contains(Geometry.model_validate(row["geometry"]), lat, lon):
            return str(row["id"])
    return None


def locate(conn: psycopg.Connection, report: Report) -> tuple[str, float, float]:
    """(grid id, lat, lon) of a report: its position, else the building its address names."""
    if report.lat is not None and report.lon is not None:
        grid_id = grid_at(conn, report.lat, report.lon)
        if grid_id is None:
            raise ReportError(
                400, f"lat {report.lat}, long {report.lon} lies in none of this site's grids"
            )
        return grid_id, report.lat, report.lon
    assert report.address is not None
    # No geocoder: an address is understood when it names a building of the site (its id or
    # its full name, e.g. 锦华苑3号楼); the longest matching name wins.
    row = conn.execute(
        "SELECT grid_id, lat, lon FROM buildings WHERE id = %(a)s OR strpos(%(a)s, name) > 0"
        " ORDER BY length(name) DESC, id LIMIT 1",
        {"a": report.address},
    ).fetchone()
    if row is None or row["lat"] is None:
        raise ReportError(
            400,
            f"address_string {report.address!r} names no building of this site;"
            " give lat and long instead",
        )
    return str(row["grid_id"]), float(row["lat"]), float(row["lon"])


def check_reporter(reporter: User, grid_id: str) -> str:
    """The report's source ('patrol' for a grid worker, else 'resident'); ReportError if
    a grid worker reports outside their own grid."""
    if reporter.role != PersonRole.GRID_WORKER:
        return "resident"
    if reporter.area_id != grid_id:
        raise ReportError(
            403,
            f"grid worker {reporter.person_id} files patrol reports for grid {reporter.area_id};"
            f" this place is in grid {grid_id}",
        )
    return "patrol"


def file_report(
    conn: psycopg.Connection,
    report: Report,
    reporter: User,
    place: tuple[str, float, float],
    now: datetime,
    tz: tzinfo,
    photo_path: str | None = None,
    deadlines: DeadlineTable = DEFAULT_DEADLINES,
    routing: RoutingTable = DEFAULT_ROUTING,
) -> int:
    """Open the work order of a checked report and dispatch it; returns its id."""
    grid_id, lat, lon = place
    source = check_reporter(reporter, grid_id)
    service = report.service
    deadline = deadlines.for_order(service.code, service.severity.value)
    accept_within, resolve_within = deadline.accept_within, deadline.resolve_within
    title = f"{service.name}: {report.description[:60]}"
    order_id = int(
        conn.execute(
            "INSERT INTO work_orders (source, grid_id, type, severity, title, state,"
            " accept_due, resolve_due, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, 'reported', %s, %s, %s, %s) RETURNING id",
            (
                source,
                grid_id,
                service.code,
                service.severity.value,
                title,
                now + accept_within,
                now + resolve_within,
                now,
                now,
            ),
        ).fetchone()["id"]
    )
    where = f" at {report.address}" if report.address else ""
    conn.execute(
        "INSERT INTO work_order_events (work_order_id, time, from_state, to_state, actor, note,"
        " photo_path) VALUES (%s, %s, NULL, 'reported', %s, %s, %s)",
        (
            order_id,
            now,
            reporter.label,
            f"{source} report{where}: {report.description}",
            photo_path,
        ),
    )
    conn.execute(
        "INSERT INTO service_requests (work_order_id, service_code, description, lat, lon,"
        " address, media_url, photo_path, token_id, person_id, requested_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            order_id,
            service.code,
            report.description,
            lat,
            lon,
            report.address,
            report.media_url,
            photo_path,
            reporter.token_id,
            reporter.person_id,
            now,
        ),
    )
    dispatch_new_order(conn, order_id, now, tz, routing)
    # Wakes the big screen (and dispatch) as a new alert would.
    conn.execute("SELECT pg_notify(%s, %s)", (db.ALERTS_CHANNEL, f"report:{order_id}"))
    return order_id


def request_rows(
    conn: psycopg.Connection, condition: str, params: dict[str, Any], limit: int = 1000
) -> list[dict[str, Any]]:
    """Service requests joined with their work orders, under a scope condition (w, g, sr)."""
    return conn.execute(
        "SELECT sr.*, w.state, w.updated_at, w.resolve_due, w.grid_id, g.name AS grid_name,"
        " g.parent_id AS community_id, w.assignee_id"
        " FROM service_requests sr JOIN work_orders w ON w.id = sr.work_order_id"
        " JOIN areas g ON g.id = w.grid_id WHERE "
        + condition
        + " ORDER BY sr.requested_at DESC, sr.work_order_id DESC LIMIT %(limit)s",
        {**params, "limit": limit},
    ).fetchall()
