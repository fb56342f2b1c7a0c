"""The QR report form in a real headless Chromium: a resident always learns what happened.

The API runs on a free port in a background thread; the phone-sized browser fills the form
and presses Send, once with the server there and once after it has gone away.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import BaseWSGIServer, make_server

from dashboard.screenshot import CHROMEDRIVER, CHROMIUM, chromium_driver
from tests import test_api
from tests.test_api import GRID_A2

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium, chromium-driver)",
    ),
]

# The API's fixtures, shared: the demo site, the Flask app with its clock.
demo, clock, api_settings, app = test_api.demo, test_api.clock, test_api.api_settings, test_api.app
WAIT_S = 20


@pytest.fixture()
def server(app: Flask) -> Iterator[BaseWSGIServer]:
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, name="api", daemon=True)
    thread.start()
    yield served
    served.shutdown()
    thread.join(timeout=10)


@pytest.fixture()
def phone() -> Iterator[WebDriver]:
    driver = chromium_driver(390, 844)
    yield driver
    driver.quit()


def reports_in(conn: psycopg.Connection, grid_id: str) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM work_orders WHERE grid_id = %s AND source = 'resident'",
        (grid_id,),
    ).fetchone()
    conn.commit()
    return int(row["n"])


def result_text(phone: WebDriver) -> str:
    """The form's answer line, once it says more than "Sending"."""

    def settled(driver: WebDriver) -> str | None:
        text = driver.find_element(By.ID, "result").text
        return text if text and "Sending" not in text else None

    return str(WebDriverWait(phone, WAIT_S, poll_frequency=0.1).until(settled))


def test_a_double_tap_on_send_files_one_report_and_says_its_number(
    server: BaseWSGIServer, phone: WebDriver, conn: psycopg.Connection
) -> None:
    before = reports_in(conn, GRID_A2)
    phone.get(f"http://127.0.0.1:{server.server_port}/report/{GRID_A2}")
    phone.find_element(By.ID, "description").send_keys("路灯不亮 the street light is out")
    # Two submits before the first answer comes back, as an impatient thumb would.
    phone.execute_script(
        "const f = document.getElementById('report'); f.requestSubmit(); f.requestSubmit();"
    )
    text = result_text(phone)
    assert text.startswith("已提交") and "Sent, number" in text
    assert reports_in(conn, GRID_A2) == before + 1
    assert phone.find_element(By.ID, "description").get_attribute("value") == ""
    assert phone.find_element(By.CSS_SELECTOR, "button[type=submit]").is_enabled()


def test_when_the_server_cannot_be_reached_the_form_says_so_instead_of_sending_forever(
    server: BaseWSGIServer, phone: WebDriver
) -> None:
    phone.get(f"http://127.0.0.1:{server.server_port}/report/{GRID_A2}")
    phone.find_element(By.ID, "description").send_keys("井盖丢了 a manhole cover is missing")
    # The phone loses its network. (Stopping the server is not enough: a kept-alive
    # connection's handler thread may still answer the post.)
    phone.execute_cdp_cmd("Network.enable", {})
    phone.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    phone.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    text = result_text(phone)
    assert text.startswith("未能提交 Not sent") and "try again" in text
    # What was written is kept for the next try.
    assert phone.find_element(By.ID, "description").get_attribute("value").startswith("井盖")
    assert phone.find_element(By.CSS_SELECTOR, "button[type=submit]").is_enabled()
