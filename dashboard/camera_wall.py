"""The camera wall: each chosen camera's newest frame, with what it currently detects drawn.

Ingest keeps every camera's newest JPEG under the evidence folder, at most one every two
seconds (ingest/latest_frames.py: `latest/<device id>.jpg`). The wall shows that frame while
it is fresh, with the boxes of the camera's open alert drawn in; a camera whose feed has gone
quiet shows its newest alert snapshot instead, marked with its age. Detectors report an
alert's onset and end, not every frame's boxes, so "current detections" are the boxes of the
alerts still open on that camera.

Frames are drawn on request (`/camera/<device id>.jpg?v=<version>`) and kept by version, so
ten browsers on the wall cost one drawing per new frame.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from flask import Flask, Response, abort

from dashboard.board_queries import CameraFrame
from dashboard.evidence_route import evidence_url

LIVE_DIR = "latest"  # as ingest/latest_frames.py writes it, under the evidence folder
LIVE_URL = "/camera/"
# A frame older than this is no longer "live": the feed has stopped or the camera is gone.
LIVE_MAX_AGE_S = 15.0
DRAWN_KEPT = 32  # drawn frames kept (a few per camera on the wall)
BOX_BGR = (70, 45, 255)  # the screen's critical red

OpenDetections = Callable[[str], list[tuple[str, list[Any]]]]


@dataclass(frozen=True)
class LiveFrame:
    device_id: str
    version: int  # the file's mtime in ns: a new frame, a new URL
    time: datetime


@dataclass(frozen=True)
class WallTile:
    """One camera on the wall: the picture to show and its caption."""

    device_id: str
    device_name: str
    image_url: str
    live: bool
    time: datetime  # of the frame shown
    alert_type: str | None  # the camera's newest alert, if it has one


def live_frames(evidence_dir: Path) -> dict[str, LiveFrame]:
    """The cameras whose newest frame ingest has kept, by device id."""
    found: dict[str, LiveFrame] = {}
    try:
        entries = list(os.scandir(evidence_dir / LIVE_DIR))
    except FileNotFoundError:
        return found
    for entry in entries:
        if entry.name.endswith(".jpg") and not entry.name.startswith("."):
            stat = entry.stat()
            device_id = entry.name.removesuffix(".jpg")
            found[device_id] = LiveFrame(
                device_id, stat.st_mtime_ns, datetime.fromtimestamp(stat.st_mtime, UTC)
            )
    return found


def wall_tiles(
    snapshots: list[CameraFrame],
    live: dict[str, LiveFrame],
    names: dict[str, str],
    count: int,
    now: datetime,
) -> list[WallTile]:
    """Up to count cameras: those with an open alert first, then the newest alerts, then any
    camera with a live feed. Each shows its live frame while fresh, else its snapshot."""
    ordered = sorted(snapshots, key=lambda f: not f.alert_open)  # stable: newest first within
    tiles: list[WallTile] = []
    for frame in ordered[:count]:
        feed = live.get(frame.device_id)
        if feed is not None and (now - feed.time).total_seconds() <= LIVE_MAX_AGE_S:
            url, shown_time, is_live = live_url(feed), feed.time, True
        else:
            url, shown_time, is_live = evidence_url(frame.snapshot_path), frame.time, False
        tiles.append(
            WallTile(frame.device_id, frame.device_name, url, is_live, shown_time, frame.alert_type)
        )
    shown = {t.device_id for t in tiles}
    fresh = [
        f
        for f in sorted(live.values(), key=lambda f: f.device_id)
        if f.device_id not in shown and (now - f.time).total_seconds() <= LIVE_MAX_AGE_S
    ]
    for feed in fresh[: count - len(tiles)]:
        name = names.get(feed.device_id, feed.device_id)
        tiles.append(WallTile(feed.device_id, name, live_url(feed), True, feed.time, None))
    return tiles


def live_url(feed: LiveFrame) -> str:
    return f"{LIVE_URL}{feed.device_id}.jpg?v={feed.version}"


def draw_detections(jpeg: bytes, detections: list[tuple[str, list[Any]]]) -> bytes | None:
    """The frame with each detection's boxes and type drawn in; None if it is not a JPEG."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    if not detections:
        return jpeg
    height, width = image.shape[:2]
    thickness = max(2, width // 320)
    for label, boxes in detections:
        for box in boxes:
            try:
                x, y, w, h = (float(box[k]) for k in ("x", "y", "w", "h"))
            except (KeyError, TypeError, ValueError):
                continue  # a box this screen cannot read is left out, not guessed at
            x0, y0 = int(x * width), int(y * height)
            x1, y1 = int((x + w) * width), int((y + h) * height)
            cv2.rectangle(image, (x0, y0), (x1, y1), BOX_BGR, thickness)
            y_text = y0 - 6 if y0 >= 20 else y0 + 18
            cv2.putText(image, label, (x0 + 2, y_text), cv2.FONT_HERSHEY_SIMPLEX, 0.5, BOX_BGR, 1)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return encoded.tobytes() if ok else None


class DrawnFrames:
    """Frames with their detections drawn, kept by (camera, frame version)."""

    def __init__(self, evidence_dir: Path, detections: OpenDetections) -> None:
        self._dir = evidence_dir / LIVE_DIR
        self._detections = detections
        self._kept: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, device_id: str) -> bytes | None:
        path = self._dir / f"{device_id}.jpg"
        try:
            version = path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        key = (device_id, version)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        try:
            jpeg = path.read_bytes()
        except FileNotFoundError:  # replaced between stat and read: the next request has it
            return None
        drawn = draw_detections(jpeg, self._detections(device_id))
        if drawn is not None:
            with self._lock:
                self._kept[key] = drawn
                while len(self._kept) > DRAWN_KEPT:
                    self._kept.popitem(last=False)
        return drawn


def register_camera_route(server: Flask, drawn: DrawnFrames) -> None:
    """GET /camera/<device id>.jpg: the camera's newest frame with its detections drawn."""

    @server.get(LIVE_URL + "<device_id>.jpg")
    def camera_frame(device_id: str) -> Response:
        if "/" in device_id or device_id.startswith("."):
            abort(404)
        jpeg = drawn.get(device_id)
        if jpeg is None:
            abort(404)
        response = Response(jpeg, mimetype="image/jpeg")
        # The URL carries the frame's version, so a browser may keep what it fetched.
        response.headers["Cache-Control"] = "public, max-age=300"
        return response
