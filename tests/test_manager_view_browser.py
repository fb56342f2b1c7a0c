"""The manager view in a real headless Chromium at phone size: log in, see your own area's
alerts and orders and nobody else's, move an order with its button through the REST API.

The app runs in a background thread on a free port with the demo site and its demo logins;
alerts and orders are placed in three grids of two communities (tests/test_manager_view.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.screenshot import CHROMEDRIVER, CHROMIUM, chromium_driver
from dispatch.api.accounts import DEMO_PASSWORD
from gridwatch import db
from gridwatch.settings import Settings
from tests.helpers import serve_dashboard
from tests.test_manager_view import PlacedWork, place_work, store_demo_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium, chromium-driver)",
    ),
]

WAIT_S = 20
PHONE = (390, 844)
LAPTOP = (1366, 768)

PAGE_JS = """
const cards = Array.from(document.querySelectorAll('#manager-orders .order-card'));
return {
    name: (document.getElementById('manager-user-name') || {}).innerText || null,
    area: (document.getElementById('manager-area') || {}).innerText || null,
    title: (document.querySelector('.manager-title h1') || {}).innerText || null,
    alerts: Array.from(document.querySelectorAll('#manager-alerts [data-alert-id]'))
        .map(el => Number(el.dataset.alertId)),
    orders: Object.fromEntries(cards.map(el => [el.dataset.orderId, {
        state: el.dataset.state,
        steps: Array.from(el.querySelectorAll('[data-order-step]')).map(b => b.dataset.orderStep),
    }])),
    notice: (document.getElementById('manager-notice') || {}).innerText || '',
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
};
"""

# Types the note and clicks the step in one go: the page may redraw between two commands.
STEP_JS = """
const [orderId, step, note] = arguments;
const card = document.querySelector(`.order-card[data-order-id='${orderId}']`);
const button = card && card.querySelector(`button[data-order-step='${step}']`);
if (!button) { return false; }
card.querySelector('.order-note').value = note;
button.click();
return true;
"""


@pytest.fixture(scope="module")
def work(database_url: str) -> PlacedWork:
    store_demo_site(database_url)
    with db.connection(database_url) as conn:
        return place_work(conn, "浏览器工作台")


@pytest.fixture(scope="module")
def base_url(settings: Settings, work: PlacedWork) -> Iterator[str]:
    with serve_dashboard(settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium_driver(*PHONE)
    yield driver
    driver.quit()


def _page(browser: WebDriver) -> dict[str, Any]:
    return browser.execute_script(PAGE_JS)  # type: ignore[no-any-return]


def _wait_page(browser: WebDriver, check: Any) -> dict[str, Any]:
    """The page's state once `check(state)` holds."""
    return WebDriverWait(browser, WAIT_S, poll_frequency=0.2).until(
        lambda d: (state := _page(d)) and check(state) and state
    )


def log_in(browser: WebDriver, base_url: str, person: str) -> dict[str, Any]:
    """Log in through the form /manager sends a stranger to; the page once it has drawn."""
    browser.get(f"{base_url}login")
    browser.delete_all_cookies()
    browser.execute_script("window.localStorage.clear();")  # language back to Chinese
    browser.get(f"{base_url}manager")
    WebDriverWait(browser, WAIT_S).until(lambda d: "/login?next=/manager" in d.current_url)
    browser.find_element(By.ID, "login").send_keys(person)
    browser.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    return _wait_page(browser, lambda s: s["name"] and s["orders"])


def test_a_stranger_opening_the_manager_view_gets_the_login_form(
    browser: WebDriver, base_url: str
) -> None:
    browser.get(f"{base_url}login")
    browser.delete_all_cookies()
    browser.get(f"{base_url}manager")
    assert browser.current_url.endswith("/login?next=/manager")
    assert browser.find_element(By.ID, "password").is_displayed()


def test_a_property_manager_sees_their_community_and_not_another(
    browser: WebDriver, base_url: str, work: PlacedWork
) -> None:
    log_in(browser, base_url, "pm-0101")
    own = {str(work.orders["a1"]), str(work.orders["a2"])}
    page = _wait_page(browser, lambda s: own <= set(s["orders"]))

    assert page["name"] == "黄振华" and "和平社区" in page["area"]
    assert {work.alerts["a1"], work.alerts["a2"]} <= set(page["alerts"])
    assert work.alerts["b1"] not in page["alerts"]
    assert str(work.orders["b1"]) not in page["orders"]
    assert page["orders"][str(work.orders["a1"])]["steps"] == ["accept", "start", "comment"]
    assert page["scrollWidth"] <= page["innerWidth"], "the page scrolls sideways on a phone"
    # The big screen's stylesheet stops its page scrolling; this page must scroll on a phone.
    scrolled = browser.execute_script("window.scrollTo(0, 10000); return window.scrollY;")
    assert scrolled > 0, "the page does not scroll down"


def test_accepting_an_order_with_its_button_moves_it_and_records_who(
    browser: WebDriver, base_url: str, work: PlacedWork, database_url: str
) -> None:
    order = work.orders["a1"]
    log_in(browser, base_url, "pm-0101")

    assert browser.execute_script(STEP_JS, str(order), "accept", "我去现场看看")
    page = _wait_page(browser, lambda s: s["orders"].get(str(order), {}).get("state") == "accepted")

    assert page["orders"][str(order)]["steps"] == ["start", "comment"]
    assert f"#{order}" in page["notice"] and "✓" in page["notice"]
    with db.connection(database_url) as conn:
        events = conn.execute(
            "SELECT from_state, to_state, actor, note FROM work_order_events"
            " WHERE work_order_id = %s ORDER BY id",
            (order,),
        ).fetchall()
    assert events[-1] == {
        "from_state": "dispatched",
        "to_state": "accepted",
        "actor": "pm-0101",
        "note": "我去现场看看",
    }


def test_a_step_the_api_refuses_shows_its_reason_and_changes_nothing(
    browser: WebDriver, base_url: str, work: PlacedWork, database_url: str
) -> None:
    order = work.orders["a2"]
    log_in(browser, base_url, "pm-0101")
    _wait_page(browser, lambda s: str(order) in s["orders"])

    assert browser.execute_script(STEP_JS, str(order), "comment", "   ")
    page = _wait_page(browser, lambda s: "note is required" in s["notice"])

    assert page["notice"].startswith(f"#{order}:")
    with db.connection(database_url) as conn:
        count = conn.execute(
            "SELECT count(*) AS n FROM work_order_events WHERE work_order_id = %s", (order,)
        ).fetchone()["n"]
    assert count == 1


def test_a_grid_worker_sees_only_their_grid(
    browser: WebDriver, base_url: str, work: PlacedWork
) -> None:
    log_in(browser, base_url, "gw-010101-1")
    page = _wait_page(browser, lambda s: str(work.orders["a1"]) in s["orders"])

    assert page["name"] == "杨艳" and "和平社区第1网格" in page["area"]
    assert work.alerts["a1"] in page["alerts"]
    for other in ("a2", "b1"):
        assert work.alerts[other] not in page["alerts"]
        assert str(work.orders[other]) not in page["orders"]


def test_the_language_switch_and_a_laptop_screen(
    browser: WebDriver, base_url: str, work: PlacedWork
) -> None:
    log_in(browser, base_url, "pm-0102")
    browser.find_element(By.ID, "manager-lang-toggle").click()
    page = _wait_page(browser, lambda s: s["title"] == "Manager view")
    assert "Jianshe Community" in page["area"]
    assert str(work.orders["b1"]) in page["orders"]

    width, height = LAPTOP
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        tops = browser.execute_script(
            "return Array.from(document.querySelectorAll('.manager-panel'))"
            ".map(el => el.getBoundingClientRect().top);"
        )
        assert len(tops) == 2 and tops[0] == tops[1], "alerts and orders sit side by side"
        page = _page(browser)
        assert page["scrollWidth"] <= page["innerWidth"]
    finally:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": False},
        )
