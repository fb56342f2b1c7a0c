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

import psycopg
import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.screenshot import CHROMEDRIVER, CHROMIUM, chromium_driver
from gridwatch import db
from gridwatch.settings import Settings
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
    .map(el => ({id: el.id, firstSeen: el.dataset.firstSeen, cls: el.className}));
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
            "const el = document.getElementById(arguments[0]);"
            " return el && {cls: el.className, text: el.innerText};",
            f"alert-{alert_id}",
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
    seen = [datetime.fromisoformat(r["firstSeen"]) for r in rows]
    assert seen == sorted(seen, reverse=True)
