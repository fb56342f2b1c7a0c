"""The big screen in a real headless Chromium: the map knows every grid, alerts arrive live.

The app runs in a background thread on a free port; rows are written to the shared test
database with `tbrow-` ids while the page is open.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np
import psycopg
import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.screenshot import CHROMEDRIVER, CHROMIUM, chromium_driver
from gridwatch import db
from gridwatch.settings import Settings
from ingest.latest_frames import LatestFrames
from tests.helpers import serve_dashboard

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium, chromium-driver)",
    ),
]

REFRESH_MS = 400
WAIT_S = 20  # the map draws through software WebGL; give it room on a busy machine

GRID_LOCATIONS_JS = """
const plot = document.querySelector('#grid-map .js-plotly-plot');
if (!plot || !plot.data || !plot.data.length || !plot.data[0].locations) { return null; }
return {locations: Array.from(plot.data[0].locations), z: Array.from(plot.data[0].z)};
"""

ALERT_ROWS_JS = """
return Array.from(document.querySelectorAll('#alert-list .alert-item'))
    .map(el => ({id: 'alert-' + el.dataset.alertId, firstSeen: el.dataset.firstSeen,
                 cls: el.className}));
"""


@pytest.fixture(scope="module")
def browser_site(database_url: str) -> Iterator[dict[str, Any]]:
    """Two grids of our own, with one camera each."""
    prefix = f"tbrow-{uuid.uuid4().hex[:6]}-"
    grids, cameras = [], []
    with db.connection(database_url) as conn:
        conn.execute(
            "INSERT INTO areas (id, level, name) VALUES (%s, 'community', '浏览器测试社区')",
            (f"{prefix}c",),
        )
        for i in range(2):
            grid, lon, lat = f"{prefix}g{i}", 121.40 + 0.005 * i, 31.20
            ring = [[lon, lat], [lon + 0.005, lat], [lon + 0.005, lat + 0.004], [lon, lat + 0.004]]
            ring.append(ring[0])
            conn.execute(
                "INSERT INTO areas (id, level, parent_id, name, geometry, center_lat,"
                " center_lon) VALUES (%s, 'grid', %s, %s, %s, %s, %s)",
                (
                    grid,
                    f"{prefix}c",
                    f"浏览器测试第{i + 1}网格",
                    json.dumps({"type": "Polygon", "coordinates": [ring]}),
                    lat,
                    lon,
                ),
            )
            camera = f"{grid}-cam"
            conn.execute(
                "INSERT INTO devices (id, site_id, grid_id, kind, name, lat, lon)"
                " VALUES (%s, 'test', %s, 'elevator_camera', %s, %s, %s)",
                (camera, grid, f"电梯摄像头 {i + 1}", lat + 0.002, lon + 0.002),
            )
            grids.append(grid)
            cameras.append(camera)
        conn.commit()
    yield {"grids": grids, "cameras": cameras}


@pytest.fixture(scope="module")
def dashboard_url(settings: Settings, browser_site: dict[str, Any]) -> Iterator[str]:
    with serve_dashboard(settings.model_copy(update={"dashboard_refresh_ms": REFRESH_MS})) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium_driver(1920, 1080)
    yield driver
    driver.quit()


def _insert_alert(
    database_url: str, camera: str, grid: str, alert_type: str, severity: str, first_seen: datetime
) -> int:
    with db.connection(database_url) as conn:
        row = conn.execute(
            "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title,"
            " first_seen, last_seen) VALUES ('test', %s, %s, %s, %s, 'browser test', %s, %s)"
            " RETURNING id",
            (camera, grid, alert_type, severity, first_seen, first_seen),
        ).fetchone()
        conn.commit()
    return row["id"]


def _open(browser: WebDriver, url: str) -> dict[str, list]:
    """Load the page and wait until the map trace carries its grids."""
    browser.get(url)
    return WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: d.execute_script(GRID_LOCATIONS_JS)
    )


def test_every_grid_in_the_database_is_on_the_map(
    browser: WebDriver, dashboard_url: str, database_url: str, browser_site: dict[str, Any]
) -> None:
    with psycopg.connect(database_url) as conn:
        grid_ids = {r[0] for r in conn.execute("SELECT id FROM areas WHERE level = 'grid'")}
    assert set(browser_site["grids"]) <= grid_ids

    _open(browser, dashboard_url)
    locations = WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: (
            (trace := d.execute_script(GRID_LOCATIONS_JS))
            and grid_ids <= set(trace["locations"])
            and trace["locations"]
        )
    )
    assert grid_ids <= set(locations)


def test_an_alert_raised_while_the_page_is_open_appears_without_a_reload(
    browser: WebDriver, dashboard_url: str, database_url: str, browser_site: dict[str, Any]
) -> None:
    _open(browser, dashboard_url)
    browser.execute_script("window.__sameDocument = true;")
    camera, grid = browser_site["cameras"][0], browser_site["grids"][0]

    alert_id = _insert_alert(
        database_url, camera, grid, "ebike_in_elevator", "critical", datetime.now(UTC)
    )

    item = WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: d.execute_script(
            "const el = document.querySelector(`[data-alert-id='${arguments[0]}']`);"
            " return el && {cls: el.className, text: el.innerText};",
            str(alert_id),
        )
    )
    assert "alert-item" in item["cls"] and "severity-critical" in item["cls"]
    assert "电动车进电梯" in item["text"] and "浏览器测试第1网格" in item["text"]
    assert browser.execute_script("return window.__sameDocument === true;"), "page reloaded"

    # The grid turns critical on the map in the same way, without a reload.
    def grid_rank(d: WebDriver) -> bool:
        trace = d.execute_script(GRID_LOCATIONS_JS)
        return bool(trace) and trace["z"][trace["locations"].index(grid)] == 4

    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(grid_rank)


def test_the_alert_list_shows_the_newest_first(
    browser: WebDriver, dashboard_url: str, database_url: str, browser_site: dict[str, Any]
) -> None:
    camera, grid = browser_site["cameras"][1], browser_site["grids"][1]
    now = datetime.now(UTC)
    older = _insert_alert(database_url, camera, grid, "smoke", "major", now - timedelta(minutes=2))
    newer = _insert_alert(database_url, camera, grid, "threshold", "minor", now)

    _open(browser, dashboard_url)
    rows = WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: (
            (rows := d.execute_script(ALERT_ROWS_JS))
            and {f"alert-{older}", f"alert-{newer}"} <= {r["id"] for r in rows}
            and rows
        )
    )

    ids = [r["id"] for r in rows]
    assert ids.index(f"alert-{newer}") < ids.index(f"alert-{older}")
    # Open alerts come first, newest first among them.
    open_rows = [r for r in rows if "state-cleared" not in r["cls"]]
    seen = [datetime.fromisoformat(r["firstSeen"]) for r in open_rows]
    assert seen == sorted(seen, reverse=True)


def _click_when_ready(browser: WebDriver, css: str) -> None:
    """Click the element once it exists; found and clicked in one step, because the screen
    redraws its rows every refresh and a found element may be replaced before a later click."""
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: d.execute_script(
            "const el = document.querySelector(arguments[0]);"
            " if (!el) { return false; } el.click(); return true;",
            css,
        )
    )


def _panel_titles(browser: WebDriver) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('.panel-title h2')).map(e => e.innerText);"
    )


def test_the_language_switch_changes_every_panel_title_and_is_remembered(
    browser: WebDriver, dashboard_url: str
) -> None:
    _open(browser, dashboard_url)
    assert "实时告警" in _panel_titles(browser)

    _click_when_ready(browser, "#lang-toggle")
    titles = WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: "Live alerts" in (t := _panel_titles(d)) and t
    )
    assert {"Grid map", "Dispatch board", "Grid events", "Camera wall"} <= set(titles)
    # The refreshed content follows: tile captions are English too.
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: "Overdue" in d.execute_script("return document.body.innerText;")
    )

    browser.refresh()  # the choice survives a reload (kept in the browser's storage)
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: "Live alerts" in _panel_titles(d)
    )
    _click_when_ready(browser, "#lang-toggle")
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: "实时告警" in _panel_titles(d)
    )


def _give_snapshot(
    database_url: str, settings: Settings, alert_id: int, shade: int, details: dict[str, Any]
) -> str:
    """Write a grey snapshot for the alert and store its path and details; returns the path."""
    snapshot = f"{alert_id}/snapshot-1.jpg"
    target = settings.evidence_dir() / snapshot
    target.parent.mkdir(parents=True, exist_ok=True)
    ok, jpeg = cv2.imencode(".jpg", np.full((90, 160, 3), shade, np.uint8))
    assert ok
    target.write_bytes(jpeg.tobytes())
    with db.connection(database_url) as conn:
        conn.execute(
            "UPDATE alerts SET snapshot_path = %s, details = %s WHERE id = %s",
            (snapshot, json.dumps(details), alert_id),
        )
        conn.commit()
    return snapshot


def test_clicking_an_alert_opens_its_evidence_and_work_order_and_it_can_be_acknowledged(
    browser: WebDriver,
    dashboard_url: str,
    database_url: str,
    settings: Settings,
    browser_site: dict[str, Any],
) -> None:
    camera, grid = browser_site["cameras"][0], browser_site["grids"][0]
    alert_id = _insert_alert(
        database_url, camera, grid, "falling_object", "critical", datetime.now(UTC)
    )
    details = {"trajectory": [[0.0, 0.5, 0.2], [0.2, 0.5, 0.4], [0.4, 0.51, 0.8]], "floor": 12}
    _give_snapshot(database_url, settings, alert_id, 200, details)
    with db.connection(database_url) as conn:
        order = conn.execute(
            "INSERT INTO work_orders (alert_id, source, grid_id, type, severity, title)"
            " VALUES (%s, 'alert', %s, 'falling_object', 'critical', 'browser order')"
            " RETURNING id",
            (alert_id, grid),
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO work_order_events (work_order_id, from_state, to_state, actor, note)"
            " VALUES (%s, NULL, 'reported', 'system', 'opened from the alert'),"
            " (%s, 'reported', 'dispatched', 'system', 'to the worker on duty')",
            (order, order),
        )
        conn.commit()

    _open(browser, dashboard_url)
    _click_when_ready(browser, f"[data-alert-id='{alert_id}']")

    shown = WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: d.execute_script(
            "const img = document.getElementById('detail-snapshot');"
            " const floor = document.getElementById('detail-floor');"
            " const steps = document.querySelectorAll('#detail-timeline li');"
            " return img && img.complete && img.naturalWidth > 0 && floor && {"
            "  width: img.naturalWidth, floor: floor.innerText, steps: steps.length,"
            "  open: !document.getElementById('alert-detail').classList.contains('hidden'),"
            "  trajectory: !!document.querySelector('#detail-trajectory .js-plotly-plot')};"
        )
    )
    assert shown["width"] == 160, "the snapshot file itself was served and decoded"
    assert "12" in shown["floor"] and shown["steps"] == 2
    assert shown["open"] and shown["trajectory"]

    _click_when_ready(browser, "#ack-alert")

    def acknowledged() -> bool:
        with db.connection(database_url) as conn:
            state = conn.execute("SELECT state FROM alerts WHERE id = %s", (alert_id,)).fetchone()
            events = conn.execute(
                "SELECT actor FROM alert_events WHERE alert_id = %s AND kind = 'acknowledged'",
                (alert_id,),
            ).fetchall()
        return state["state"] == "acknowledged" and len(events) == 1

    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(lambda _d: acknowledged())
    _click_when_ready(browser, "#detail-close")
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: d.execute_script(
            "return document.getElementById('alert-detail').classList.contains('hidden');"
        )
    )


def test_the_camera_wall_shows_a_cameras_live_frame_with_its_open_alert_boxed(
    browser: WebDriver,
    dashboard_url: str,
    database_url: str,
    settings: Settings,
    browser_site: dict[str, Any],
) -> None:
    camera, grid = browser_site["cameras"][1], browser_site["grids"][1]
    alert_id = _insert_alert(
        database_url, camera, grid, "ebike_in_elevator", "major", datetime.now(UTC)
    )
    boxes = [{"x": 0.2, "y": 0.2, "w": 0.5, "h": 0.5}]
    _give_snapshot(database_url, settings, alert_id, 90, {"boxes": boxes})
    # What ingest keeps of the camera's feed: its newest frame, larger than the snapshot.
    ok, live = cv2.imencode(".jpg", np.full((180, 320, 3), 200, np.uint8))
    assert ok
    LatestFrames(settings.evidence_dir()).offer(camera, live.tobytes())

    _open(browser, dashboard_url)
    shown = WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: d.execute_script(
            "const tile = document.querySelector(`#camera-wall [data-camera='${arguments[0]}']`);"
            " const img = tile && tile.querySelector('img');"
            " return img && img.complete && img.naturalWidth > 0 && {"
            "  src: img.getAttribute('src'), width: img.naturalWidth, text: tile.innerText};",
            camera,
        )
    )
    assert shown["src"].startswith(f"/camera/{camera}.jpg"), "the live frame, not the snapshot"
    assert shown["width"] == 320
    assert "电梯摄像头 2" in shown["text"] and "实时" in shown["text"]


def test_clicking_a_grid_on_the_map_turns_the_camera_wall_to_its_cameras(
    browser: WebDriver, dashboard_url: str, settings: Settings, browser_site: dict[str, Any]
) -> None:
    first, second = browser_site["cameras"]
    ok, live = cv2.imencode(".jpg", np.full((180, 320, 3), 120, np.uint8))
    assert ok
    for camera in (first, second):  # both feeds live: with no grid chosen both are on the wall
        LatestFrames(settings.evidence_dir()).offer(camera, live.tobytes())

    def wall(driver: WebDriver) -> list[str]:
        return driver.execute_script(
            "return [...document.querySelectorAll('#camera-wall [data-camera]')]"
            ".map(e => e.dataset.camera).sort();"
        )

    _open(browser, dashboard_url)
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: {first, second} <= set(wall(d))
    )
    # The event Plotly raises for a click on the first grid's polygon.
    browser.execute_script(
        "const gd = document.querySelector('#grid-map .js-plotly-plot');"
        " const trace = gd.data.findIndex(t => t.type === 'choroplethmap');"
        " const at = gd.data[trace].locations.indexOf(arguments[0]);"
        " gd.emit('plotly_click', {points: [{curveNumber: trace, pointNumber: at,"
        "  pointIndex: at, location: arguments[0], data: gd.data[trace]}]});",
        browser_site["grids"][0],
    )
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(lambda d: wall(d) == [first])
    _click_when_ready(browser, "#grid-detail-close")
    WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(lambda d: second in wall(d))
