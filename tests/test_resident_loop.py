"""A resident's report goes round the whole loop over real HTTP, on the dashboard's server:
Open311 report → the grid worker on duty → accepted, started, resolved with their token →
verified by an operator → Open311 says closed, and the trail holds every step."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import psycopg

from dispatch.api.accounts import ensure_demo_logins
from gridwatch import db
from gridwatch.settings import PROJECT_ROOT, Settings
from gridwatch.site import load_site, store_site
from tests.helpers import serve_dashboard

GRID, TESTER, OPERATOR = "g-010101", "tester-01", "op-01"


def call(
    url: str, method: str = "GET", form: dict[str, str] | None = None, token: str | None = None
) -> tuple[int, Any]:
    """(status, decoded JSON) of one HTTP request; a form is sent url-encoded."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_a_residents_report_goes_round_the_loop_to_closed_over_http(
    settings: Settings, database_url: str, conn: psycopg.Connection
) -> None:
    site = load_site(PROJECT_ROOT / "site" / "demo")
    with db.connection(database_url) as setup:
        store_site(setup, site)
        ensure_demo_logins(setup)
        setup.commit()
    grid = conn.execute(
        "SELECT center_lat, center_lon FROM areas WHERE id = %s", (GRID,)
    ).fetchone()

    with serve_dashboard(settings) as base:
        status, filed = call(
            base + "open311/v2/requests.json",
            "POST",
            {
                "api_key": f"demo-{TESTER}",
                "service_code": "fire_lane_occupied",
                "description": "一辆白色面包车堵住消防通道 a white van blocks the fire lane",
                "lat": str(grid["center_lat"]),
                "long": str(grid["center_lon"]),
            },
        )
        assert status == 201, filed
        order_id = int(filed[0]["service_request_id"])

        # Dispatched at once to whoever the roster has on duty in that grid right now.
        status, order = call(f"{base}api/v1/work-orders/{order_id}", token=f"demo-{OPERATOR}")
        assert status == 200
        worker = order["assignee_id"]
        created = conn.execute(
            "SELECT created_at FROM work_orders WHERE id = %s", (order_id,)
        ).fetchone()["created_at"]
        assert worker is not None and worker == site.on_duty(GRID, created)
        assert (order["state"], order["source"], order["grid_id"]) == (
            "dispatched",
            "resident",
            GRID,
        )

        steps = [
            ("accept", worker, "on my way"),
            ("start", worker, "at the gate"),
            ("resolve", worker, "driver found; van moved"),
            ("verify", OPERATOR, "camera shows the lane free"),
        ]
        for step, who, note in steps:
            status, after = call(
                f"{base}api/v1/work-orders/{order_id}/{step}",
                "POST",
                {"note": note},
                token=f"demo-{who}",
            )
            assert status == 200, (step, after)

        # Closing the loop is for the command centre, not for the worker who did the job.
        status, refused = call(
            f"{base}api/v1/work-orders/{order_id}/close", "POST", {}, token=f"demo-{worker}"
        )
        assert status == 403 and "may not close" in refused["error"]

        status, found = call(f"{base}open311/v2/requests/{order_id}.json?api_key=demo-{TESTER}")
        assert status == 200
        assert (found[0]["status"], found[0]["status_notes"]) == (
            "closed",
            "work order verified",
        )

    trail = conn.execute(
        "SELECT from_state, to_state, actor, note FROM work_order_events"
        " WHERE work_order_id = %s ORDER BY time, id",
        (order_id,),
    ).fetchall()
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in trail] == [
        (None, "reported", TESTER),
        ("reported", "dispatched", "system"),
        ("dispatched", "accepted", worker),
        ("accepted", "in_progress", worker),
        ("in_progress", "resolved", worker),
        ("resolved", "verified", OPERATOR),
    ]
    assert [e["note"] for e in trail[2:]] == [note for _, _, note in steps]
    assert trail[1]["note"] == f"dispatched to {worker}, on duty in grid {GRID}"
    told = {
        r["recipient"]
        for r in conn.execute(
            "SELECT recipient FROM notifications WHERE work_order_id = %s", (order_id,)
        )
    }
    assert worker in told
