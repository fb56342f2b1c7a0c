"""The tester console in a real headless Chromium, against the real system: a tester picks a
facade camera, drops an object from the 12th floor, and sees the falling-object alert with
its latency. The page talks to the testers' simulator over MQTT; ingest judges the frames.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
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
