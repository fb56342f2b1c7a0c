"""An object falls past a facade camera, through the real broker, ingest and database: the
alert keeps a snapshot with boxes and a clip from before the release to after the landing,
each file's SHA-256 stored with it, and the clip plays in a browser.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.screenshot import CHROMEDRIVER, CHROMIUM, chromium_driver
from gridwatch import db
from gridwatch.settings import Settings
from gridwatch.site import load_site, store_site
from ingest.service import IngestService
from simulators.mqtt_devices import SimDevice
from simulators.runner import play_scene
from simulators.scenes.facade import FacadeScene
from tests.helpers import wait_for

FPS = 10.0


@pytest.fixture(scope="module")
def fall(settings: Settings, database_url: str) -> Iterator[dict[str, Any]]:
    """One object dropped from the 12th floor, played at 5× real time; the alert once its
    clip is stored, with its evidence rows and the scene's own times of the fall."""
    site = load_site(settings.site_dir).model_copy(update={"id": settings.site_id})
    with db.connection(database_url) as conn:
        store_site(conn, site)
    ingest = IngestService(settings)
    ingest.start()
    ingest.wait_connected()
    try:
        camera = [d for d in site.devices if d.kind == "facade_camera"][-1]
        device = SimDevice(camera.id, camera.grid_id, str(camera.kind), camera.config.model_dump())
        scene = FacadeScene(device.config["floor_lines"], device.config["zones"]["facade"], seed=23)
        scene.bird(1.0)
        scene.drop_object(4.0, floor=12)
        [(released, landed, _)] = scene.falls()
        before_play = time.time()  # the scene's epoch is a moment later
        play_scene(settings, device, scene, until_s=landed + 4.0, fps=FPS, speed=5.0).close()
        with db.connection(database_url) as conn:
            alert = wait_for(
                lambda: conn.execute(
                    "SELECT * FROM alerts WHERE device_id = %s AND details ? 'clip'", (device.id,)
                ).fetchone(),
                timeout_s=60,
                what="the falling-object alert with its clip",
            )
            clear = wait_for(
                lambda: conn.execute(
                    "SELECT * FROM detections WHERE device_id = %s AND cleared", (device.id,)
                ).fetchone(),
                what="the fall's end",
            )
            evidence = conn.execute(
                "SELECT * FROM evidence WHERE alert_id = %s ORDER BY id", (alert["id"],)
            ).fetchall()
        yield {
            "alert": alert,
            "evidence": evidence,
            "clear": clear,
            "released_epoch": before_play + released,
        }
    finally:
        ingest.stop()


def _file(settings: Settings, relative: str) -> Path:
    return settings.evidence_dir() / relative


def test_the_falling_object_clip_covers_the_fall_and_its_sha256_is_stored(
    fall: dict[str, Any], settings: Settings
) -> None:
    alert, rows = fall["alert"], fall["evidence"]
    clip = alert["details"]["clip"]
    data = _file(settings, clip["path"]).read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3", "a WebM file"
    assert hashlib.sha256(data).hexdigest() == clip["sha256"]

    by_kind = {row["kind"]: row for row in rows}
    assert set(by_kind) == {"snapshot", "clip"}
    assert by_kind["clip"]["sha256"] == clip["sha256"]
    assert by_kind["clip"]["path"] == clip["path"]
    snapshot = _file(settings, by_kind["snapshot"]["path"]).read_bytes()
    assert hashlib.sha256(snapshot).hexdigest() == by_kind["snapshot"]["sha256"]
    assert by_kind["snapshot"]["sha256"] == alert["snapshot_sha256"]

    # From about 2 s before the alert to about 2 s after, and the whole trajectory inside.
    first, last = by_kind["clip"]["frame_ts_first"], by_kind["clip"]["frame_ts_last"]
    onset = alert["details"]["frame_ts"]
    trajectory = alert["details"]["trajectory"]
    assert onset - 2.5 <= first <= onset - 1.9
    assert last >= onset + 1.9
    assert first <= fall["released_epoch"], "the clip starts before the object was let go"
    whole_trajectory = fall["clear"]["details"]["trajectory"]
    assert len(whole_trajectory) > len(trajectory)
    # The fall's last sighting is at the ground: the clip goes on until it has landed.
    assert first <= whole_trajectory[0][0] and last >= whole_trajectory[-1][0]
    assert by_kind["clip"]["frames"] >= (last - first) * FPS * 0.9


def test_no_half_written_evidence_is_left(fall: dict[str, Any], settings: Settings) -> None:
    folder = _file(settings, str(fall["alert"]["id"]))
    assert sorted(p.suffix for p in folder.iterdir()) == [".jpg", ".webm"]


@pytest.mark.browser
@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium, chromium-driver)",
)
def test_the_clip_plays_in_chromium(
    fall: dict[str, Any], settings: Settings, tmp_path: Path
) -> None:
    clip = _file(settings, fall["alert"]["details"]["clip"]["path"])
    page = tmp_path / "clip.html"
    page.write_text(f'<video id="clip" src="{clip.as_uri()}" muted preload="auto"></video>')
    driver = chromium_driver(800, 600)
    try:
        driver.get(page.as_uri())
        # HAVE_CURRENT_DATA (2): the browser decoded a picture, not only the header.
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script("return document.getElementById('clip').readyState") >= 2
        )
        state = driver.execute_script(
            "const v = document.getElementById('clip');"
            " return {duration: v.duration, width: v.videoWidth, error: v.error && v.error.code};"
        )
    finally:
        driver.quit()
    assert state["error"] is None
    assert state["width"] > 0
    assert state["duration"] >= 3.5, "about 2 s before to 2 s after the alert"
