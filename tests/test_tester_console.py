"""The tester console in a real headless Chromium, against the real system: a tester picks a
facade camera, drops an object from the 12th floor, and sees the falling-object alert with
its latency. The page talks to the testers' simulator over MQTT; ingest judges the frames.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.screenshot import CHROMEDRIVER, CHROMIUM, chromium_driver
from gridwatch import db
from gridwatch.settings import Settings
from gridwatch.site import Site, load_site, store_site
from ingest.service import IngestService
from simulators.control import SimulationControl
from tests.helpers import serve_dashboard, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium, chromium-driver)",
    ),
]

FACADE = "fc-010204-01-1"
WAIT_S = 40
PANELS = ("sent", "running", "error", "injections")


@pytest.fixture(scope="module")
def site(settings: Settings, database_url: str) -> Site:
    model = load_site(settings.site_dir).model_copy(update={"id": settings.site_id})
    with db.connection(database_url) as conn:
        store_site(conn, model)
    return model


@pytest.fixture(scope="module")
def system(site: Site, settings: Settings) -> Iterator[SimulationControl]:
    ingest = IngestService(settings)
    ingest.start()
    ingest.wait_connected()
    control = SimulationControl(settings, site, speed=4.0)
    stop = threading.Event()
    serving = threading.Thread(target=control.serve, args=(stop,), daemon=True)
    serving.start()
    yield control
    stop.set()
    serving.join(timeout=30)
    ingest.stop()


def _text(driver: WebDriver, element_id: str) -> str | None:
    return driver.execute_script(  # type: ignore[no-any-return]
        "const el = document.getElementById(arguments[0]); return el && el.innerText;",
        element_id,
    )


def _choose(driver: WebDriver, dropdown_id: str, text: str) -> None:
    """Pick an option of a dcc.Dropdown the way a person does: open, type, Enter."""
    driver.find_element(By.ID, dropdown_id).click()
    search = wait_for(
        lambda: (el := driver.switch_to.active_element).tag_name == "input" and el,
        timeout_s=10,
        what=f"{dropdown_id} to open",
    )
    search.send_keys(text)
    wait_for(
        lambda: driver.execute_script(
            "return Array.from(document.querySelectorAll('[role=option]'))"
            ".some(el => el.innerText.includes(arguments[0]));",
            text,
        ),
        timeout_s=10,
        what=f"an option with {text!r} in {dropdown_id}",
    )
    search.send_keys(Keys.ENTER)


def test_a_tester_drops_an_object_and_sees_its_alert_with_latency(
    system: SimulationControl, settings: Settings
) -> None:
    with serve_dashboard(settings) as url:
        driver = chromium_driver(1600, 1000)
        try:
            driver.get(url + "tester")
            wait_for(
                lambda: "idle" in (_text(driver, "tester-running") or ""),
                timeout_s=WAIT_S,
                what="the console to hear from the simulator",
            )
            _choose(driver, "tester-device", FACADE)
            _choose(driver, "tester-incident", "drop an object")
            floor = driver.find_element(By.ID, "tester-floor")
            floor.clear()
            floor.send_keys("12")
            driver.find_element(By.ID, "tester-inject").click()
            try:
                alert = wait_for(
                    lambda: driver.execute_script(
                        "const el = document.querySelector('.tester-injection .tester-alert');"
                        "return el && {type: el.dataset.type, text: el.innerText};"
                    ),
                    timeout_s=WAIT_S,
                    what="the falling-object alert on the console",
                )
            except AssertionError as err:
                page = {name: _text(driver, f"tester-{name}") for name in PANELS}
                raise AssertionError(f"{err}; the page shows {page}") from None
            row = driver.find_element(By.CSS_SELECTOR, ".tester-injection").text
        finally:
            driver.quit()
    assert alert["type"] == "falling_object"
    assert "高空抛物" in alert["text"] and FACADE in alert["text"]
    assert "drop_object" in row and FACADE in row
    latency_s = float(alert["text"].split(": ")[1].split(" s")[0])
    assert 0 <= latency_s < 5, "a fall takes a couple of seconds to be seen"


OFFLINE_CAMERA = "fl-010105-1"
OFFLINE_S = 6

# The WCAG contrast ratio of an element's text colour against its background colour.
CONTRAST_JS = """
const style = getComputedStyle(document.getElementById(arguments[0]));
const lum = (css) => {
  const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const [hi, lo] = [lum(style.color), lum(style.backgroundColor)].sort((a, b) => b - a);
return (hi + 0.05) / (lo + 0.05);
"""


def _click_on_map(driver: WebDriver, device_id: str) -> None:
    """Click the device's marker on the console's map, as a tester does."""
    trace, point = wait_for(
        lambda: driver.execute_script(
            "const plot = document.querySelector('#tester-map .js-plotly-plot');"
            "if (!plot || !plot.data) return null;"
            "for (let c = 0; c < plot.data.length; c++) {"
            "  const i = (plot.data[c].customdata || [])"
            "    .findIndex(v => v.endsWith('|' + arguments[0]));"
            "  if (i >= 0) return [c, i];"
            "}"
            "return null;",
            device_id,
        ),
        timeout_s=WAIT_S,
        what=f"{device_id} on the map",
    )
    traces = driver.find_elements(By.CSS_SELECTOR, "#tester-map .scatterlayer .trace")
    marker = traces[trace].find_elements(By.CSS_SELECTOR, ".point")[point]
    ActionChains(driver).move_to_element(marker).click().perform()


def _picked(driver: WebDriver, device_id: str) -> bool:
    """Whether the device is picked; if not, click its option in the open device list (the
    menu may redraw under the pointer: then the next call tries again)."""
    if device_id in (_text(driver, "tester-device") or ""):
        return True
    try:
        driver.find_element(By.XPATH, f"//*[@role='option'][contains(., '{device_id}')]").click()
    except (StaleElementReferenceException, NoSuchElementException):
        pass
    return False


def test_a_tester_clicks_a_camera_on_the_map_takes_it_offline_and_sees_it_come_back(
    system: SimulationControl, settings: Settings
) -> None:
    with serve_dashboard(settings) as url:
        driver = chromium_driver(1600, 1000)
        try:
            driver.get(url + "tester")
            wait_for(
                lambda: any(
                    w in (_text(driver, "tester-running") or "") for w in ("scene", "idle")
                ),
                timeout_s=WAIT_S,
                what="the console to hear from the simulator",
            )
            for field in ("tester-floor", "tester-offline-s"):
                contrast = driver.execute_script(CONTRAST_JS, field)
                assert contrast >= 4.5, f"the text of {field} is unreadable ({contrast:.1f}:1)"
            # Other devices stand on the same spot: the click offers all of them.
            _click_on_map(driver, OFFLINE_CAMERA)
            here = wait_for(
                lambda: "here" in (text := _text(driver, "tester-here") or "") and text,
                timeout_s=10,
                what="the devices at the clicked spot",
            )
            count = int(here.split()[1])
            assert count >= 2, here
            driver.find_element(By.ID, "tester-device").click()
            offered = wait_for(
                lambda: driver.execute_script(
                    "return Array.from(document.querySelectorAll('[role=option]'),"
                    " el => el.innerText);"
                ),
                timeout_s=10,
                what="the device list to open",
            )
            assert len(offered) == count and any(OFFLINE_CAMERA in o for o in offered), offered
            wait_for(
                lambda: _picked(driver, OFFLINE_CAMERA),
                timeout_s=10,
                what=f"{OFFLINE_CAMERA} to be picked from the devices there",
            )
            _choose(driver, "tester-incident", "take offline")
            seconds = driver.find_element(By.ID, "tester-offline-s")
            seconds.clear()
            seconds.send_keys(str(OFFLINE_S))
            driver.find_element(By.ID, "tester-inject").click()
            row = f"#tester-injections .tester-injection[data-device='{OFFLINE_CAMERA}']"

            def offline_then_back() -> str | None:
                # Read in one go: the table is redrawn every second.
                kinds, text = driver.execute_script(
                    "const row = document.querySelector(arguments[0]);"
                    "if (!row) return [[], ''];"
                    "return [Array.from(row.querySelectorAll('.tester-alert'),"
                    " el => el.dataset.type), row.innerText];",
                    row,
                )
                return text if kinds == ["status:offline", "status:online"] else None

            try:
                statuses = wait_for(
                    offline_then_back,
                    timeout_s=WAIT_S,
                    what="the camera to go offline and come back on the console",
                )
            except AssertionError as err:
                page = {name: _text(driver, f"tester-{name}") for name in PANELS}
                raise AssertionError(f"{err}; the page shows {page}") from None
        finally:
            driver.quit()
    assert "device_offline" in statuses
    back = float(statuses.split("online")[-1].split(": ")[1].split(" s")[0])
    assert OFFLINE_S - 1 <= back <= OFFLINE_S + 3, "back after the time asked for"
