"""The manager view's reads and buttons: a person's page lists exactly what the API lets
them see, and offers only the steps the API would take from them.

Alerts and orders are written into grids of the demo site with `tmgr-` device ids, in two
communities (c-0101: grids g-010101 and g-010102; c-0102: grid g-010201).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from flask import Flask

from dashboard.manager_queries import open_alerts, open_orders, read_manager_view
from dashboard.pages.manager import _order_title, offered_steps
from dispatch.api import mount_api
from dispatch.api.accounts import ensure_demo_logins
from dispatch.auth import User
from gridwatch import db
from gridwatch.settings import PROJECT_ROOT, Settings
from gridwatch.site import load_site, store_site

MANAGER_A = User("pm-0101", "黄振华", "property_manager", "c-0101")
MANAGER_B = User("pm-0102", "刘勇", "property_manager", "c-0102")
WORKER_A1 = User("gw-010101-1", "杨艳", "grid_worker", "g-010101")
OPERATOR = User("op-01", "何国栋", "operator")
TESTER = User("tester-01", "傅涛", "tester")
GRIDS = {"a1": "g-010101", "a2": "g-010102", "b1": "g-010201"}


@dataclass(frozen=True)
class PlacedWork:
    """One open alert and its dispatched work order in each of the three grids."""

    alerts: dict[str, int]  # grid key -> alert id
    orders: dict[str, int]  # grid key -> work order id


def store_demo_site(database_url: str) -> None:
    """The demo site in the database, with its demo logins (password gridwatch-demo)."""
    site = load_site(PROJECT_ROOT / "site" / "demo")
    with db.connection(database_url) as conn:
        store_site(conn, site)
        ensure_demo_logins(conn)
        conn.commit()


def place_work(conn: psycopg.Connection, title: str) -> PlacedWork:
    """A camera of our own in each grid, an open alert on it and a dispatched order for it."""
    prefix = f"tmgr-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    alerts, orders = {}, {}
    for i, (key, grid) in enumerate(GRIDS.items()):
        device = f"{prefix}-{key}"
        conn.execute(
            "INSERT INTO devices (id, site_id, grid_id, kind, name)"
            " VALUES (%s, 'test', %s, 'fire_lane_camera', %s)",
            (device, grid, f"消防通道 {key}"),
        )
        seen = now - timedelta(minutes=3 - i)
        alert = conn.execute(
            "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title, first_seen,"
            " last_seen) VALUES ('test', %s, %s, 'fire_lane_occupied', 'major', %s, %s, %s)"
            " RETURNING id",
            (device, grid, f"{title} {key}", seen, seen),
        ).fetchone()["id"]
        order = conn.execute(
            "INSERT INTO work_orders (alert_id, source, grid_id, type, severity, title, state,"
            " created_at, updated_at) VALUES (%s, 'alert', %s, 'fire_lane_occupied', 'major',"
            " %s, 'dispatched', %s, %s) RETURNING id",
            (alert, grid, f"{title} {key}", seen, seen),
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO work_order_events (work_order_id, time, from_state, to_state, actor,"
            " note) VALUES (%s, %s, NULL, 'dispatched', 'system', 'opened for the test')",
            (order, seen),
        )
        alerts[key], orders[key] = alert, order
    conn.commit()
    return PlacedWork(alerts, orders)


@pytest.fixture(scope="module")
def work(database_url: str) -> PlacedWork:
    store_demo_site(database_url)
    with db.connection(database_url) as conn:
        return place_work(conn, "工作台测试")


@pytest.fixture(scope="module")
def api(settings: Settings, work: PlacedWork) -> Iterator[Flask]:
    server = Flask("gridwatch-manager-test")
    context = mount_api(server, settings)
    yield server
    context.pool.close()


def _ours(ids: set[int], work: PlacedWork, kind: str) -> set[str]:
    placed = work.alerts if kind == "alerts" else work.orders
    return {key for key, placed_id in placed.items() if placed_id in ids}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (MANAGER_A, {"a1", "a2"}),
        (MANAGER_B, {"b1"}),
        (WORKER_A1, {"a1"}),
        (OPERATOR, {"a1", "a2", "b1"}),
    ],
    ids=["manager-of-c-0101", "manager-of-c-0102", "worker-of-g-010101", "operator"],
)
def test_a_person_reads_the_alerts_and_orders_of_their_own_area_only(
    conn: psycopg.Connection, work: PlacedWork, user: User, expected: set[str]
) -> None:
    alerts = open_alerts(conn, user)
    orders = open_orders(conn, user)

    assert _ours({row["id"] for row in alerts}, work, "alerts") == expected
    assert _ours({row["id"] for row in orders}, work, "orders") == expected
    order = next(row for row in orders if row["id"] in work.orders.values())
    assert order["latest_event"]["note"] == "opened for the test"


def test_the_page_lists_exactly_the_open_orders_the_api_lists(
    conn: psycopg.Connection, api: Flask, work: PlacedWork
) -> None:
    client = api.test_client()
    open_states = "reported,accepted,dispatched,in_progress,resolved,verified"
    for user in (MANAGER_A, MANAGER_B, WORKER_A1, TESTER):
        answer = client.get(
            f"/api/v1/work-orders?state={open_states}&limit=500",
            headers={"Authorization": f"Bearer demo-{user.person_id}"},
        )
        assert answer.status_code == 200, answer.json
        through_api = {order["id"] for order in answer.json["work_orders"]}
        on_page = {row["id"] for row in open_orders(conn, user, limit=500)}
        assert on_page == through_api, user.person_id


def test_an_order_assigned_to_a_worker_elsewhere_shows_on_their_page_with_its_alert(
    conn: psycopg.Connection, work: PlacedWork
) -> None:
    conn.execute(
        "UPDATE work_orders SET assignee_id = %s WHERE id = %s",
        (WORKER_A1.person_id, work.orders["b1"]),
    )
    conn.commit()
    try:
        view = read_manager_view(conn, WORKER_A1)
        assert work.orders["b1"] in {row["id"] for row in view.orders}
        assert work.alerts["b1"] in {row["id"] for row in view.alerts}
        assert view.area_names == ("和平社区第1网格", "Heping Community Grid 1")
    finally:
        conn.execute(
            "UPDATE work_orders SET assignee_id = NULL WHERE id = %s", (work.orders["b1"],)
        )
        conn.commit()


def _order(state: str, grid: str = "g-010101", community: str = "c-0101") -> dict:
    return {"state": state, "grid_id": grid, "community_id": community, "assignee_id": None}


@pytest.mark.parametrize(
    ("user", "state", "buttons"),
    [
        (MANAGER_A, "dispatched", ["accept", "start", "comment"]),
        (MANAGER_A, "reported", ["accept", "comment"]),
        (WORKER_A1, "accepted", ["start", "comment"]),
        (WORKER_A1, "in_progress", ["resolve", "comment"]),
        (WORKER_A1, "resolved", ["comment"]),
        (TESTER, "dispatched", ["comment"]),
    ],
)
def test_an_order_offers_the_steps_its_state_and_the_persons_role_allow(
    user: User, state: str, buttons: list[str]
) -> None:
    assert offered_steps(user, _order(state)) == buttons


def test_an_alert_order_is_titled_in_the_pages_language_and_a_report_keeps_its_words() -> None:
    alert_order = {"source": "alert", "type": "shed_fire", "title": "Charging shed fire"}
    assert _order_title(alert_order, "zh") == "充电棚火情"
    assert _order_title(alert_order, "en") == "Charging-shed fire"
    report = {"source": "resident", "type": "other", "title": "楼道堆放杂物"}
    assert _order_title(report, "en") == "楼道堆放杂物"
