"""The camera wall: ingest keeps each camera's newest frame, the screen shows it with what
the camera currently detects drawn, and falls back to the alert snapshot when the feed stops."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import psycopg
from flask import Flask

from dashboard.board_queries import CameraFrame
from dashboard.camera_wall import (
    DrawnFrames,
    LiveFrame,
    live_frames,
    register_camera_route,
    wall_tiles,
)
from dashboard.pages.bigscreen import refresh_side_panels
from dashboard.queries import DashboardQueries
from ingest.latest_frames import LatestFrames, latest_frame_path
from tests.test_dashboard import insert_alert, insert_site

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
BOX = {"x": 0.25, "y": 0.25, "w": 0.5, "h": 0.5}


def _jpeg(shade: int, width: int = 320, height: int = 180) -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.full((height, width, 3), shade, np.uint8))
    assert ok
    return encoded.tobytes()


def test_ingest_keeps_a_cameras_newest_frame_at_most_every_two_seconds(tmp_path: Path) -> None:
    now = [0.0]
    latest = LatestFrames(tmp_path, every_s=2.0, clock=lambda: now[0])
    first, second, third = _jpeg(10), _jpeg(20), _jpeg(30)

    assert latest.offer("cam-1", first)
    now[0] = 1.0
    assert not latest.offer("cam-1", second), "a frame within two seconds is not written"
    path = latest_frame_path(tmp_path, "cam-1")
    assert path is not None and path.read_bytes() == first
    now[0] = 2.5
    assert latest.offer("cam-1", third)
    assert path.read_bytes() == third
    assert latest.offer("cam-2", second), "each camera has its own two seconds"

    # What ingest writes is what the screen finds, by the same device ids.
    assert set(live_frames(tmp_path)) == {"cam-1", "cam-2"}
    for unsafe in ("../escape", "a/b", ".hidden"):
        assert not latest.offer(unsafe, first)
    assert not (tmp_path.parent / "escape.jpg").exists()


def test_a_live_frame_is_served_with_the_open_alerts_boxes_drawn_in(tmp_path: Path) -> None:
    LatestFrames(tmp_path).offer("cam-1", _jpeg(200))
    LatestFrames(tmp_path).offer("cam-quiet", _jpeg(200))
    open_alerts = {"cam-1": [("ebike_in_elevator", [BOX])], "cam-quiet": []}
    asked: list[str] = []

    def detections(device_id: str) -> list:
        asked.append(device_id)
        return open_alerts[device_id]

    server = Flask(__name__)
    register_camera_route(server, DrawnFrames(tmp_path, detections))
    client = server.test_client()

    response = client.get("/camera/cam-1.jpg?v=1")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    edge = image[int(0.5 * height), int(0.25 * width)]  # on the box's left side
    inside = image[int(0.5 * height), int(0.5 * width)]
    assert edge[2] > 200 and edge[1] < 120, f"the box is drawn in red, got {edge}"
    assert abs(int(inside[2]) - 200) < 15, "the picture inside the box is untouched"

    quiet = client.get("/camera/cam-quiet.jpg")
    assert quiet.status_code == 200
    assert quiet.data == latest_frame_path(tmp_path, "cam-quiet").read_bytes()

    client.get("/camera/cam-1.jpg?v=1")
    assert asked.count("cam-1") == 1, "ten browsers asking for one frame cost one drawing"
    for missing in ("/camera/nobody.jpg", "/camera/..jpg", "/camera/.hidden.jpg"):
        assert client.get(missing).status_code == 404, missing


def _snapshot(device: str, minutes_ago: int, alert_open: bool) -> CameraFrame:
    return CameraFrame(
        device_id=device,
        device_name=f"camera {device}",
        grid_name="grid",
        alert_id=1,
        alert_type="fire_lane_occupied",
        snapshot_path=f"1/{device}.jpg",
        time=NOW - timedelta(minutes=minutes_ago),
        alert_open=alert_open,
    )


def _feed(device: str, seconds_ago: float) -> LiveFrame:
    return LiveFrame(device, 7, NOW - timedelta(seconds=seconds_ago))


def test_the_wall_puts_open_alerts_first_live_while_fresh_and_fills_with_live_cameras() -> None:
    snapshots = [_snapshot("cleared", 1, False), _snapshot("open", 30, True)]
    live = {"cleared": _feed("cleared", 1), "open": _feed("open", 120), "idle": _feed("idle", 2)}

    tiles = wall_tiles(snapshots, live, {"idle": "lobby camera"}, 4, NOW)

    assert [t.device_id for t in tiles] == ["open", "cleared", "idle"]
    stale, fresh, filler = tiles
    # The open alert's camera has stopped sending: its snapshot, with the alert's own time.
    assert not stale.live and stale.image_url == "/evidence/1/open.jpg"
    assert stale.time == NOW - timedelta(minutes=30)
    assert fresh.live and fresh.image_url == "/camera/cleared.jpg?v=7"
    assert filler.live and filler.device_name == "lobby camera" and filler.alert_type is None
    assert len(wall_tiles(snapshots, live, {}, 1, NOW)) == 1


def test_a_grid_chosen_on_the_map_puts_its_own_cameras_on_the_wall(
    conn: psycopg.Connection, queries: DashboardQueries, tmp_path: Path
) -> None:
    site = insert_site(conn, f"twall-{uuid.uuid4().hex[:6]}-")
    busy, quiet = site.grids[0], site.grids[1]
    for camera in site.devices[busy]:  # the busy grid's alerts fill the wall unless chosen
        insert_alert(conn, (camera, busy), "fire_lane_occupied", "major", snapshot_path="x.jpg")
    (tmp_path / "latest").mkdir()
    for camera in [*site.devices[busy], *site.devices[quiet]]:
        (tmp_path / "latest" / f"{camera}.jpg").write_bytes(b"\xff\xd8jpeg")

    def wall(grid: str | None) -> set[str]:
        _trend, _signature, _board, tiles, _digests = refresh_side_panels(
            queries, None, "zh", None, tmp_path, grid
        )
        return {tile.to_plotly_json()["props"]["data-camera"] for tile in tiles}

    assert wall(quiet) == set(site.devices[quiet])  # live frames, no alert needed
    assert wall(busy) == set(site.devices[busy])
    assert set(site.devices[busy]) <= wall(None)  # nothing chosen: open alerts first
