"""The closed loop's first steps: every alert opens a work order for the worker on duty."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dispatch.service import sweep
from dispatch.workorders import close_if_alert_cleared_early, on_duty_worker, transition
from gridwatch.domain import InvalidTransition, WorkOrderState

TZ = ZoneInfo("Asia/Shanghai")
GRID = "tdsp-g1"
DAY_WORKER, NIGHT_WORKER = "tdsp-day", "tdsp-night"
# A Wednesday.
WEDNESDAY = datetime(2026, 11, 25, tzinfo=TZ)


@pytest.fixture(autouse=True)
def grid_with_two_shifts(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO areas (id, level, name) VALUES (%s, 'grid', 'Dispatch grid')"
        " ON CONFLICT DO NOTHING",
        (GRID,),
    )
    conn.execute(
        "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES"
        " ('tdsp-cam', 's', %s, 'fire_lane_camera', 'cam') ON CONFLICT DO NOTHING",
        (GRID,),
    )
    for person in (DAY_WORKER, NIGHT_WORKER):
        conn.execute(
            "INSERT INTO people (id, name, role, area_id) VALUES (%s, %s, 'grid_worker',"
            " %s) ON CONFLICT DO NOTHING",
            (person, person, GRID),
        )
    conn.execute("DELETE FROM duty_roster WHERE grid_id = %s", (GRID,))
    for weekday in range(1, 8):
        conn.execute(
            "INSERT INTO duty_roster VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
            (
                DAY_WORKER,
                GRID,
                weekday,
                time(8),
                time(20),
                NIGHT_WORKER,
                GRID,
                weekday,
                time(20),
                time(8),
            ),
        )
    conn.commit()


def _alert(conn: psycopg.Connection, alert_type: str = "fire_lane_occupied") -> int:
    conn.execute("UPDATE alerts SET state = 'cleared' WHERE device_id = 'tdsp-cam'")
    row = conn.execute(
        "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title, first_seen,"
        " last_seen) VALUES ('s', 'tdsp-cam', %s, %s, 'major', 'test', now(), now())"
        " RETURNING id",
        (GRID, alert_type),
    ).fetchone()
    conn.commit()
    return int(row["id"])


def _order(conn: psycopg.Connection, alert_id: int) -> dict:
    return conn.execute("SELECT * FROM work_orders WHERE alert_id = %s", (alert_id,)).fetchone()


def _events(conn: psycopg.Connection, order_id: int) -> list[tuple[str | None, str]]:
    rows = conn.execute(
        "SELECT from_state, to_state FROM work_order_events WHERE work_order_id = %s ORDER BY id",
        (order_id,),
    )
    return [(r["from_state"], r["to_state"]) for r in rows]


@pytest.mark.parametrize(
    ("hour", "worker"),
    [
        (9, DAY_WORKER),
        (19, DAY_WORKER),
        (20, NIGHT_WORKER),
        (23, NIGHT_WORKER),
        (2, NIGHT_WORKER),
        (7, NIGHT_WORKER),
    ],
)
def test_the_worker_on_duty_at_that_hour_is_chosen(
    conn: psycopg.Connection, hour: int, worker: str
) -> None:
    assert on_duty_worker(conn, GRID, WEDNESDAY.replace(hour=hour), TZ) == worker


def test_a_new_alert_opens_a_work_order_dispatched_to_the_night_worker(
    conn: psycopg.Connection,
) -> None:
    alert_id = _alert(conn)
    now = WEDNESDAY.replace(hour=2, minute=30)
    sweep(conn, now, TZ)
    order = _order(conn, alert_id)
    assert order["assignee_id"] == NIGHT_WORKER
    assert order["state"] == "dispatched"
    assert order["accept_due"] == now + timedelta(minutes=15)  # major: accept within 15 min
    assert _events(conn, order["id"]) == [(None, "reported"), ("reported", "dispatched")]


def test_sweeping_twice_opens_one_order_per_alert(conn: psycopg.Connection) -> None:
    alert_id = _alert(conn)
    sweep(conn, WEDNESDAY.replace(hour=10), TZ)
    sweep(conn, WEDNESDAY.replace(hour=10, minute=1), TZ)
    count = conn.execute(
        "SELECT count(*) AS n FROM work_orders WHERE alert_id = %s", (alert_id,)
    ).fetchone()["n"]
    assert count == 1


def test_the_loop_refuses_to_resolve_an_order_nobody_started(conn: psycopg.Connection) -> None:
    alert_id = _alert(conn)
    sweep(conn, WEDNESDAY.replace(hour=10), TZ)
    order = _order(conn, alert_id)
    with pytest.raises(InvalidTransition, match="dispatched cannot become resolved"):
        transition(conn, order["id"], WorkOrderState.RESOLVED, DAY_WORKER, WEDNESDAY)
    conn.rollback()


def test_a_fire_lane_alert_that_clears_before_acceptance_closes_its_order(
    conn: psycopg.Connection,
) -> None:
    alert_id = _alert(conn)
    sweep(conn, WEDNESDAY.replace(hour=10), TZ)
    conn.execute("UPDATE alerts SET state = 'cleared' WHERE id = %s", (alert_id,))
    conn.commit()
    sweep(conn, WEDNESDAY.replace(hour=10, minute=3), TZ)
    order = _order(conn, alert_id)
    assert order["state"] == "closed"
    assert _events(conn, order["id"])[-1] == ("dispatched", "closed")


def test_an_accepted_order_stays_open_when_its_alert_clears(conn: psycopg.Connection) -> None:
    alert_id = _alert(conn)
    sweep(conn, WEDNESDAY.replace(hour=10), TZ)
    order = _order(conn, alert_id)
    transition(conn, order["id"], WorkOrderState.ACCEPTED, DAY_WORKER, WEDNESDAY.replace(hour=10))
    conn.execute("UPDATE alerts SET state = 'cleared' WHERE id = %s", (alert_id,))
    conn.commit()
    assert not close_if_alert_cleared_early(conn, alert_id, WEDNESDAY.replace(hour=11))
    assert _order(conn, alert_id)["state"] == "accepted"


def test_duty_is_judged_in_the_sites_local_time_whatever_the_clock_zone(
    conn: psycopg.Connection,
) -> None:
    # 18:30 UTC on Tuesday is 02:30 on Wednesday in Shanghai: the night shift.
    alert_id = _alert(conn)
    sweep(conn, datetime(2026, 11, 24, 18, 30, tzinfo=UTC), TZ)
    assert _order(conn, alert_id)["assignee_id"] == NIGHT_WORKER


def test_an_alert_that_cleared_before_dispatch_saw_it_still_gets_a_closed_order(
    conn: psycopg.Connection,
) -> None:
    alert_id = _alert(conn)
    conn.execute("UPDATE alerts SET state = 'cleared' WHERE id = %s", (alert_id,))
    conn.commit()
    sweep(conn, WEDNESDAY.replace(hour=10), TZ)
    order = _order(conn, alert_id)
    assert order["assignee_id"] == DAY_WORKER
    assert _events(conn, order["id"]) == [
        (None, "reported"),
        ("reported", "dispatched"),
        ("dispatched", "closed"),
    ]
