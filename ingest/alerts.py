"""The alert pipeline: detections and device events become alerts, one open per (device, type).

A detection that starts a condition raises an alert, or repeats the open one; a cleared
detection clears it. Every change is an alert_events row, is published on the alert topic
and wakes dispatch and the dashboard through NOTIFY.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
import psycopg

from detectors.base import Detection
from gridwatch import db
from gridwatch.domain import ALERT_TYPE_LABELS, DEFAULT_SEVERITY, AlertType, Severity
from gridwatch.topics import alert_topic
from ingest.clips import ClipRecorder, ClipWindow
from ingest.commands import command_for, command_targets, send_command
from ingest.devices import DeviceInfo
from ingest.evidence import ClipWriter, record_evidence, save_snapshot
from ingest.latest_frames import LatestFrames

log = logging.getLogger(__name__)


def alert_title(alert_type: str) -> str:
    return ALERT_TYPE_LABELS.get(alert_type, ("", alert_type.replace("_", " ").capitalize()))[1]


def severity_for(alert_type: str) -> Severity:
    try:
        return DEFAULT_SEVERITY[AlertType(alert_type)]
    except ValueError:
        return Severity.MINOR


_RAISE = """
INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title, first_seen, last_seen,
                    details)
VALUES (%(site)s, %(device)s, %(grid)s, %(type)s, %(severity)s, %(title)s, now(), now(),
        %(details)s)
ON CONFLICT (device_id, type) WHERE state <> 'cleared'
DO UPDATE SET last_seen = now(), occurrences = alerts.occurrences + 1,
              details = alerts.details || EXCLUDED.details
RETURNING id, (xmax = 0) AS inserted
"""

_CLEAR = """
UPDATE alerts SET state = 'cleared', cleared_at = now(), last_seen = now()
WHERE device_id = %s AND type = %s AND state <> 'cleared'
RETURNING id, grid_id, severity, title
"""


class AlertPipeline:
    """Applies detections to the alerts table; one per worker thread (it owns a connection).

    It also keeps the evidence clips of the cameras on its worker: `observe_frame` with every
    frame before the detector sees it; a clip is handed to a writer thread once its
    post-event window has closed.
    """

    def __init__(
        self,
        database_url: str,
        mqtt: paho.Client,
        evidence_root: Path,
        devices: Callable[[str], DeviceInfo | None] = lambda device_id: None,
        clip_window: ClipWindow | None = None,
    ) -> None:
        self._conn = psycopg.connect(database_url, row_factory=psycopg.rows.dict_row)
        self._mqtt = mqtt
        self._evidence_root = evidence_root
        self._devices = devices
        self.clips = ClipRecorder(clip_window)
        self.clip_writer = ClipWriter(database_url, evidence_root)
        self.latest_frames = LatestFrames(evidence_root)  # the dashboard's camera wall

    def close(self) -> None:
        """Write the clips still being collected (with the frames they have), then stop."""
        for clip in self.clips.flush():
            self.clip_writer.submit(clip)
        self.clip_writer.close()
        self._conn.close()

    def observe_frame(self, device_id: str, ts: float, jpeg: bytes) -> None:
        """Keep a camera's frame for evidence clips and the camera wall (call before the
        detector sees it)."""
        self.latest_frames.offer(device_id, jpeg)
        for clip in self.clips.observe(device_id, ts, jpeg):
            self.clip_writer.submit(clip)

    def handle(
        self, device: DeviceInfo, detection: Detection, frame: np.ndarray | None = None
    ) -> int | None:
        """Apply one detection; return the alert id it touched, if any."""
        self._record_detection(device, detection)
        if detection.cleared:
            return self._clear(device, detection)
        return self._raise(device, detection, frame)

    def _record_detection(self, device: DeviceInfo, detection: Detection) -> None:
        self._conn.execute(
            "INSERT INTO detections (time, device_id, type, confidence, track_id, boxes, cleared,"
            " details) VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s)",
            (
                detection.ts,
                device.id,
                detection.type,
                detection.confidence,
                detection.track_id,
                json.dumps([asdict(b) for b in detection.boxes]),
                detection.cleared,
                json.dumps(dict(detection.details)),
            ),
        )

    def _raise(self, device: DeviceInfo, detection: Detection, frame: np.ndarray | None) -> int:
        severity = severity_for(detection.type)
        details: dict[str, Any] = {
            **dict(detection.details),
            "frame_ts": detection.ts,
            "confidence": detection.confidence,
            "boxes": [asdict(b) for b in detection.boxes],
        }
        row = self._conn.execute(
            _RAISE,
            {
                "site": device.site_id,
                "device": device.id,
                "grid": device.grid_id,
                "type": detection.type,
                "severity": severity.value,
                "title": alert_title(detection.type),
                "details": json.dumps(details),
            },
        ).fetchone()
        assert row is not None
        alert_id, inserted = int(row["id"]), bool(row["inserted"])
        kind = "raised" if inserted else "repeated"
        self._conn.execute(
            "INSERT INTO alert_events (alert_id, kind, note) VALUES (%s, %s, %s)",
            (
                alert_id,
                kind,
                f"{detection.type} on {device.id} (confidence {detection.confidence:.2f})",
            ),
        )
        if frame is not None and detection.evidence != "none":
            evidence = save_snapshot(
                self._evidence_root,
                alert_id,
                frame,
                detection.boxes,
                detection.type,
                f"snapshot-{int(detection.ts * 1000)}",
            )
            self._conn.execute(
                "UPDATE alerts SET snapshot_path = %s, snapshot_sha256 = %s WHERE id = %s",
                (evidence.path.as_posix(), evidence.sha256, alert_id),
            )
            record_evidence(
                self._conn, alert_id, "snapshot", evidence, "image/jpeg", (detection.ts,) * 2
            )
        self._conn.execute("SELECT pg_notify(%s, %s)", (db.ALERTS_CHANNEL, f"{kind}:{alert_id}"))
        self._conn.commit()
        if detection.evidence == "clip":
            self.clips.start(alert_id, device.id, detection)
        self._publish(device, alert_id, detection.type, severity.value, kind, details)
        self._command(
            device, detection.type, cleared=False, alert_id=alert_id, details=detection.details
        )
        log.info("alert %d %s: %s on %s", alert_id, kind, detection.type, device.id)
        return alert_id

    def _clear(self, device: DeviceInfo, detection: Detection) -> int | None:
        row = self._conn.execute(_CLEAR, (device.id, detection.type)).fetchone()
        if row is None:
            self._conn.commit()
            return None
        alert_id = int(row["id"])
        if detection.evidence == "clip":
            self.clips.update(alert_id, detection)
        self._conn.execute(
            "INSERT INTO alert_events (alert_id, kind, note) VALUES (%s, 'cleared', %s)",
            (alert_id, f"condition ended on {device.id}"),
        )
        self._conn.execute("SELECT pg_notify(%s, %s)", (db.ALERTS_CHANNEL, f"cleared:{alert_id}"))
        self._conn.commit()
        self._publish(device, alert_id, detection.type, row["severity"], "cleared", {})
        self._command(device, detection.type, cleared=True, alert_id=alert_id)
        log.info("alert %d cleared: %s on %s", alert_id, detection.type, device.id)
        return alert_id

    def _publish(
        self,
        device: DeviceInfo,
        alert_id: int,
        alert_type: str,
        severity: str,
        state: str,
        details: dict[str, Any],
    ) -> None:
        payload = {
            "alert_id": alert_id,
            "type": alert_type,
            "severity": severity,
            "event": state,
            "device": device.id,
            "grid": device.grid_id,
            "ts": time.time(),
            "details": details,
        }
        self._mqtt.publish(
            alert_topic(device.site_id, device.grid_id, alert_type), json.dumps(payload), qos=1
        )

    def _command(
        self,
        device: DeviceInfo,
        alert_type: str,
        *,
        cleared: bool,
        alert_id: int,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        details = details or {}
        command = command_for(alert_type, cleared)
        if command is None:
            return
        for target, params in command_targets(device, alert_type, details, self._devices):
            send_command(self._conn, self._mqtt, target, command, params, alert_id)
