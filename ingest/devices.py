"""Which devices exist: the directory ingest checks every message against."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from gridwatch import db

# An unknown device triggers a reload, but not more often than this: a flood of messages
# from a misconfigured device must not turn into a flood of queries.
RELOAD_AT_MOST_EVERY_S = 5.0


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    site_id: str
    grid_id: str
    kind: str
    name: str
    config: dict[str, Any] = field(default_factory=dict)


class DeviceDirectory:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._devices: dict[str, DeviceInfo] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        with db.connection(self._url) as conn:
            self._devices = _read_devices(conn)
        self._loaded_at = time.monotonic()

    def get(self, device_id: str) -> DeviceInfo | None:
        device = self._devices.get(device_id)
        if device is None:
            with self._lock:
                if time.monotonic() - self._loaded_at > RELOAD_AT_MOST_EVERY_S:
                    self.reload()
            device = self._devices.get(device_id)
        return device

    def __len__(self) -> int:
        return len(self._devices)


def _read_devices(conn: psycopg.Connection) -> dict[str, DeviceInfo]:
    rows = conn.execute("SELECT id, site_id, grid_id, kind, name, config FROM devices")
    return {r["id"]: DeviceInfo(**r) for r in rows}
