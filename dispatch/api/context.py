"""What every API request needs: the connection pool, the settings, the clock, the site's
time zone, and one transaction that writes photos only if the database commit succeeds."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import psycopg
from flask import current_app, request
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import HTTPException

from dispatch.deadlines import DEFAULT_DEADLINES, DeadlineTable
from dispatch.routing import DEFAULT_ROUTING, RoutingTable
from gridwatch.settings import Settings
from gridwatch.site import DEFAULT_TIMEZONE, site_timezone

CONTEXT_KEY = "gridwatch_api"
MAX_PHOTO_BYTES = 5_000_000
_PHOTO_KINDS = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}


class ApiError(Exception):
    """A request the API refuses: HTTP status and a reason a person can act on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def photo_extension(data: bytes, what: str = "photo") -> str:
    """'jpg' or 'png' from the file's first bytes; ApiError for anything else."""
    if not data:
        raise ApiError(400, f"the {what} is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(413, f"the {what} is {len(data)} bytes; at most {MAX_PHOTO_BYTES}")
    for magic, extension in _PHOTO_KINDS.items():
        if data.startswith(magic):
            return extension
    raise ApiError(400, f"the {what} is not a JPEG or PNG (starts with 0x{data[:4].hex()})")


@dataclass
class Writes:
    """Files written during a transaction; removed again if the transaction fails."""

    photo_dir: Path
    files: list[Path] = field(default_factory=list)

    def save_photo(self, data: bytes, prefix: str) -> str:
        extension = photo_extension(data)
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        path = self.photo_dir / f"{prefix}-{hashlib.sha256(data).hexdigest()[:16]}.{extension}"
        if not path.exists():
            path.write_bytes(data)
            self.files.append(path)
        return str(path)


@dataclass
class ApiContext:
    pool: ConnectionPool
    settings: Settings
    clock: Callable[[], datetime]
    deadlines: DeadlineTable = DEFAULT_DEADLINES
    routing: RoutingTable = DEFAULT_ROUTING

    def photo_dir(self) -> Path:
        return self.settings.data_dir / "photos"

    def site_tz(self, conn: psycopg.Connection) -> tzinfo:
        """The site's time zone: duty rosters are read in it."""
        row = conn.execute(
            "SELECT timezone FROM sites WHERE id = %s", (self.settings.site_id,)
        ).fetchone()
        return site_timezone(row["timezone"] if row else DEFAULT_TIMEZONE)

    @contextmanager
    def transaction(self) -> Iterator[tuple[psycopg.Connection, Writes]]:
        """One transaction; photos saved through Writes vanish if it does not commit."""
        writes = Writes(self.photo_dir())
        try:
            with self.pool.connection() as conn, conn.transaction():
                yield conn, writes
        except BaseException:
            for path in writes.files:
                path.unlink(missing_ok=True)
            raise


def api_context() -> ApiContext:
    return current_app.extensions[CONTEXT_KEY]  # type: ignore[no-any-return]


def body_fields() -> dict[str, Any]:
    """Fields of a JSON object or a form (multipart when a photo comes along)."""
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiError(400, "the body is not a JSON object")
        return data
    return request.form.to_dict()


def text_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string, not {type(value).__name__}")
    value = (value or "").strip() or None
    if required and value is None:
        raise ApiError(400, f"{name} is required")
    if value is not None and len(value) > 2000:
        raise ApiError(400, f"{name} has {len(value)} characters; at most 2000")
    return value


# Endpoints that answer paths nothing else serves under /api/v1/ and /open311/v2/: without
# them the dashboard's catch-all page route would answer a mistyped API path with 200 HTML.
UNKNOWN_PATH_ENDPOINTS = frozenset({"api_v1.unknown_path", "open311.unknown_path"})
UNKNOWN_PATH_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def methods_served(path: str) -> list[str]:
    """The methods a real endpoint (not a catch-all) serves at `path`."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    served = []
    for method in UNKNOWN_PATH_METHODS:
        try:
            endpoint, _args = adapter.match(path, method=method)
        except HTTPException:  # not found, wrong method, or a redirect to another path
            continue
        if endpoint not in UNKNOWN_PATH_ENDPOINTS:
            served.append(method)
    return served


def unknown_path_error(listing: str) -> tuple[ApiError, list[str]]:
    """404 for a path nothing serves, 405 naming the methods for one served otherwise;
    `listing` says where the endpoints are described. Also returns the methods served."""
    served = methods_served(request.path)
    asked = f"{request.method} {request.path}"
    if served:
        return ApiError(405, f"{asked} is not served: this path takes {', '.join(served)}"), served
    return ApiError(404, f"there is no {asked}; {listing}"), served
