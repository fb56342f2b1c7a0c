"""Smart dispatch by type: fires to the fire brigade, lifts to their maintainer, the rest to the
grid worker on duty, each with the others who must hear of it; configurable by a YAML file."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dispatch.routing import (
    DEFAULT_ROUTING,
    Route,
    RoutingFileError,
    load_routing,
)
from dispatch.service import DEFAULT_SETUP, DispatchSetup, setup_from_settings, sweep
from dispatch.workorders import transition
from gridwatch import db
from gridwatch.domain import WorkOrderState
from gridwatch.settings import PROJECT_ROOT, Settings
from gridwatch.site import load_site, store_site

TZ = ZoneInfo("Asia/Shanghai")
# A Wednesday morning long past: gw-010101-1 is on duty in g-010101 (demo roster).
WEDNESDAY_10 = datetime(2025, 1, 8, 10, 0, tzinfo=TZ)
GRID, WORKER, MANAGER = "g-010101", "gw-010101-1", "pm-0101"


@pytest.fixture(scope="module")
def demo(database_url: str) -> None:
    with db.connection(database_url) as conn:
        store_site(conn, load_site(PROJECT_ROOT / "site" / "demo"))
        conn.commit()


def raise_alert(conn: psycopg.Connection, alert_type: str, severity: str = "critical") -> int:
    """An alert of a camera of its own in grid g-010101 (no other test's alert collides)."""
    device = f"rt-{uuid.uuid4().hex[:8]}"
    conn.execute(
        "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES (%s, 's', %s,"
        " 'shed_camera', 'routing test camera')",
        (device, GRID),
    )
    row = conn.execute(
        "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title, first_seen,"
        " last_seen) VALUES ('s', %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (device, GRID, alert_type, severity, f"{alert_type} test", WEDNESDAY_10, WEDNESDAY_10),
    ).fetchone()
    conn.commit()
    return int(row["id"])


def dispatched(
    conn: psycopg.Connection, alert_type: str, setup: DispatchSetup = DEFAULT_SETUP
) -> tuple[dict, set[str], str]:
    """(order, people told, the dispatch event's note) of a new alert of that type."""
    alert_id = raise_alert(conn, alert_type)
    sweep(conn, WEDNESDAY_10, TZ, setup)
    order = conn.execute("SELECT * FROM work_orders WHERE alert_id = %s", (alert_id,)).fetchone()
    told = {
        r["recipient"]
        for r in conn.execute(
            "SELECT recipient FROM notifications WHERE work_order_id = %s", (order["id"],)
        )
    }
    note = conn.execute(
        "SELECT note FROM work_order_events WHERE work_order_id = %s AND to_state = 'dispatched'",
        (order["id"],),
    ).fetchone()["note"]
    # Closed again, so that no live dispatcher of another test escalates it later.
    transition(conn, order["id"], WorkOrderState.CLOSED, "test", WEDNESDAY_10, "routing seen")
    conn.commit()
    return order, told, note


def test_the_default_routes_send_fires_to_the_brigade_and_blocked_lanes_to_the_worker() -> None:
    table = DEFAULT_ROUTING
    assert table.for_type("shed_fire") == Route("fire_safety", ("grid_worker",))
    assert table.for_type("socket_overheat").assign == "fire_safety"
    assert table.for_type("hydrant_low_pressure").assign == "fire_safety"
    assert table.for_type("ebike_in_elevator") == Route(
        "elevator_maintenance", ("property_management",)
    )
    assert table.for_type("fire_lane_occupied") == Route("grid_worker", ("property_management",))
    assert table.for_type("falling_object").assign == "grid_worker"
    assert table.for_type("sanitation") == Route("grid_worker", ())


def test_a_charging_shed_fire_goes_to_the_fire_brigade_and_the_worker_hears_of_it(
    conn: psycopg.Connection, demo: None
) -> None:
    order, told, note = dispatched(conn, "shed_fire")
    assert (order["state"], order["assignee_id"]) == ("dispatched", "dept-fire")
    assert note == "dispatched to dept-fire, contact of fire_safety, which takes shed_fire"
    assert told == {"dept-fire", WORKER}


def test_an_ebike_in_the_lift_goes_to_its_maintainer_and_the_property_office(
    conn: psycopg.Connection, demo: None
) -> None:
    order, told, _ = dispatched(conn, "ebike_in_elevator")
    assert order["assignee_id"] == "dept-elevator"
    assert told == {"dept-elevator", "dept-property"}


def test_a_blocked_fire_lane_goes_to_the_worker_on_duty_with_the_property_office_told(
    conn: psycopg.Connection, demo: None
) -> None:
    order, told, note = dispatched(conn, "fire_lane_occupied")
    assert order["assignee_id"] == WORKER
    assert note == f"dispatched to {WORKER}, on duty in grid {GRID}"
    assert told == {WORKER, "dept-property"}


def test_a_routing_file_changes_who_takes_and_who_hears(
    conn: psycopg.Connection, demo: None, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        "by_type:\n"
        "  shed_fire: {assign: grid_worker, notify: [fire_safety, property_manager]}\n"
        "  smoke: {assign: gas_company}\n",
        encoding="utf-8",
    )
    setup = setup_from_settings(settings.model_copy(update={"routing_file": path}), None)

    order, told, _ = dispatched(conn, "shed_fire", setup)
    assert order["assignee_id"] == WORKER
    assert told == {WORKER, "dept-fire", MANAGER}

    # A department nobody belongs to: the worker on duty takes it, and the trail says why.
    order, told, note = dispatched(conn, "smoke", setup)
    assert order["assignee_id"] == WORKER
    assert note == (
        f"dispatched to {WORKER}, on duty in grid {GRID} (gas_company has no contact for this grid)"
    )
    # Types the file does not name keep their default route.
    assert dispatched(conn, "ebike_in_elevator", setup)[0]["assignee_id"] == "dept-elevator"


def test_another_districts_brigade_is_never_asked(conn: psycopg.Connection, demo: None) -> None:
    """A grid outside the demo district (with a worker of its own) has no fire brigade."""
    tag = uuid.uuid4().hex[:6]
    district, grid, worker = f"rt{tag}-d", f"rt{tag}-g", f"rt{tag}-gw"
    conn.execute(
        "INSERT INTO areas (id, level, parent_id, name) VALUES (%s, 'district', NULL, 'd'),"
        " (%s, 'grid', %s, 'g')",
        (district, grid, district),
    )
    conn.execute(
        "INSERT INTO people (id, name, role, area_id) VALUES (%s, 'w', 'grid_worker', %s)",
        (worker, grid),
    )
    for weekday in range(1, 8):
        conn.execute(
            "INSERT INTO duty_roster VALUES (%s, %s, %s, '00:00', '00:00')", (worker, grid, weekday)
        )
    conn.execute(
        "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES (%s, 's', %s,"
        " 'smoke_detector', 'smoke')",
        (f"rt{tag}-smoke", grid),
    )
    alert = conn.execute(
        "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title, first_seen,"
        " last_seen) VALUES ('s', %s, %s, 'smoke', 'critical', 'smoke', %s, %s) RETURNING id",
        (f"rt{tag}-smoke", grid, WEDNESDAY_10, WEDNESDAY_10),
    ).fetchone()
    conn.commit()
    sweep(conn, WEDNESDAY_10, TZ)
    order = conn.execute(
        "SELECT assignee_id FROM work_orders WHERE alert_id = %s", (alert["id"],)
    ).fetchone()
    assert order["assignee_id"] == worker


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("by_type: {smoke: {assign: Fire Brigade}}", "by_type.smoke.assign: Value error, 'Fire"),
        ("by_type: {smoke: {assign: property_manager}}", "property_manager cannot take"),
        ("by_type: {smoke: {notify: [grid_worker]}}", "by_type.smoke.assign: Field required"),
        ("by_type: {smoke: {assign: x, cc: [y]}}", "by_type.smoke.cc: Extra inputs"),
        ("defaults: {assign: grid_worker}", "defaults: Extra inputs"),
        ("by_type: [", "not valid YAML"),
    ],
)
def test_a_bad_routing_file_names_the_file_the_item_and_the_reason(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RoutingFileError) as caught:
        load_routing(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in str(caught.value)
