"""The offline rule: a device whose last will said "offline" and that stays away raises an alert.

A device that reconnects within `offline_alert_after_s` (a network blip, a broker restart)
raises nothing; one that stays away raises one `device_offline` alert for that absence, which
clears when the device says "online" again. The rule reads `device_status`, so it survives an
ingest restart, and an alert a person closed while the device is still away is not raised again
until the device has come back and gone away once more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import psycopg

from detectors.base import Detection
from gridwatch.domain import AlertType
from ingest.devices import DeviceInfo

OFFLINE = AlertType.DEVICE_OFFLINE.value

# Devices offline for longer than the grace with no device_offline alert raised since they
# went away.
_OVERDUE = """
SELECT s.device_id, extract(epoch FROM s.since) AS since, s.detail
FROM device_status s
WHERE NOT s.online
  AND s.since < now() - make_interval(secs => %(grace)s)
  AND NOT EXISTS (
      SELECT 1 FROM alerts a
      WHERE a.device_id = s.device_id AND a.type = %(type)s AND a.first_seen >= s.since
  )
ORDER BY s.since
"""

_OPEN = """
SELECT 1 FROM alerts WHERE device_id = %s AND type = %s AND state <> 'cleared'
"""


class Absence(NamedTuple):
    device_id: str
    since: float  # epoch seconds
    detail: str | None


def overdue_absences(conn: psycopg.Connection, grace_s: float) -> list[Absence]:
    """Devices away longer than `grace_s` whose absence has not raised an alert yet."""
    rows = conn.execute(_OVERDUE, {"grace": grace_s, "type": OFFLINE}).fetchall()
    return [Absence(r["device_id"], float(r["since"]), r["detail"]) for r in rows]


def has_open_offline_alert(conn: psycopg.Connection, device_id: str) -> bool:
    return conn.execute(_OPEN, (device_id, OFFLINE)).fetchone() is not None


class OfflineRule:
    """Raises and clears device_offline alerts through `apply` (an alert pipeline's handle)."""

    def __init__(
        self,
        apply: Callable[[DeviceInfo, Detection], object],
        devices: Callable[[str], DeviceInfo | None],
        owns: Callable[[str], bool],
        grace_s: float,
    ) -> None:
        self._apply = apply
        self._devices = devices
        self._owns = owns  # with N ingest workers, each watches the devices it owns
        self._grace_s = grace_s

    def status_stored(self, conn: psycopg.Connection, device: DeviceInfo, online: bool) -> None:
        """After a status is written: a device back online clears its offline alert."""
        if online and has_open_offline_alert(conn, device.id):
            self._apply(device, Detection(OFFLINE, time.time(), 1.0, cleared=True, evidence="none"))

    def raise_overdue(self, conn: psycopg.Connection) -> None:
        """An alert for each watched device that has stayed away past the grace."""
        for absence in overdue_absences(conn, self._grace_s):
            device = self._devices(absence.device_id)
            if device is None or not self._owns(device.id):
                continue
            details = {"offline_since": absence.since, "last_will": absence.detail}
            self._apply(device, Detection(OFFLINE, absence.since, 1.0, details=details,
                                          evidence="none"))  # fmt: skip
