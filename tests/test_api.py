"""The work-order API: people move orders through the loop, and see only their own area."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from dispatch.api import mount_api
from dispatch.api.accounts import DEMO_PASSWORD, ensure_demo_logins
from gridwatch import db
from gridwatch.settings import PROJECT_ROOT, Settings
from gridwatch.site import load_site, store_site
from tests.helpers import serve_dashboard

TZ = ZoneInfo("Asia/Shanghai")
# A Wednesday morning: gw-010101-1 is on duty in g-010101 (demo roster). Long past, so the
# orders these tests make stay out of the screens' figures of today.
WEDNESDAY_10 = datetime(2025, 1, 8, 10, 0, tzinfo=TZ)

OPERATOR, TESTER = "op-01", "tester-01"
MANAGER_A, MANAGER_B = "pm-0101", "pm-0102"  # communities c-0101 and c-0102
GRID_A1, GRID_A2, GRID_B1 = "g-010101", "g-010102", "g-010201"
WORKER_A1, WORKER_A2, WORKER_B1 = "gw-010101-1", "gw-010102-1", "gw-010201-1"


class Clock:
    """The API's clock, moved by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def demo(database_url: str) -> None:
    """The demo site in the database, with its known logins and tokens."""
    site = load_site(PROJECT_ROOT / "site" / "demo")
    with db.connection(database_url) as conn:
        store_site(conn, site)
        ensure_demo_logins(conn)
        conn.commit()


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(WEDNESDAY_10)


@pytest.fixture(scope="module")
def api_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("api-data")})


@pytest.fixture(scope="module")
def app(api_settings: Settings, demo: None, clock: Clock) -> Iterator[Flask]:
    server = Flask("gridwatch-api-test")
    context = mount_api(server, api_settings, clock)
    yield server
    context.pool.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def as_(person: str) -> dict[str, str]:
    """Headers of a request made with a person's demo token."""
    return {"Authorization": f"Bearer demo-{person}"}


def new_order(
    conn: psycopg.Connection,
    grid_id: str,
    state: str = "dispatched",
    assignee: str | None = None,
    title: str = "test order",
) -> int:
    row = conn.execute(
        "INSERT INTO work_orders (source, grid_id, type, severity, title, state, assignee_id,"
        " created_at, updated_at)"
        " VALUES ('alert', %s, 'fire_lane_occupied', 'major', %s, %s, %s, %s, %s) RETURNING id",
        (grid_id, title, state, assignee, WEDNESDAY_10, WEDNESDAY_10),
    ).fetchone()
    conn.execute(
        "INSERT INTO work_order_events (work_order_id, time, from_state, to_state, actor, note)"
        " VALUES (%s, %s, NULL, %s, 'system', 'opened for the test')",
        (row["id"], WEDNESDAY_10, state),
    )
    conn.commit()
    return int(row["id"])


def jpeg(size: int = 32) -> bytes:
    picture = np.full((size, size, 3), 180, dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", picture)
    assert ok
    return data.tobytes()


def trail(conn: psycopg.Connection, order_id: int) -> list[tuple[Any, ...]]:
    return [
        (r["from_state"], r["to_state"], r["actor"])
        for r in conn.execute(
            "SELECT from_state, to_state, actor FROM work_order_events"
            " WHERE work_order_id = %s ORDER BY id",
            (order_id,),
        )
    ]


def test_an_order_goes_round_the_loop_with_who_when_notes_and_a_photo(
    client: FlaskClient, conn: psycopg.Connection, clock: Clock
) -> None:
    order = new_order(conn, GRID_A1, state="reported")
    clock.now = WEDNESDAY_10
    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": WORKER_A1, "note": "closest to the gate"},
        headers=as_(OPERATOR),
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == "dispatched" and answer.json["assignee_id"] == WORKER_A1

    for step, who, minutes in (("accept", WORKER_A1, 3), ("start", WORKER_A1, 5)):
        clock.now = WEDNESDAY_10 + timedelta(minutes=minutes)
        answer = client.post(f"/api/v1/work-orders/{order}/{step}", headers=as_(who))
        assert answer.status_code == 200, answer.json
    clock.now = WEDNESDAY_10 + timedelta(minutes=40)
    answer = client.post(
        f"/api/v1/work-orders/{order}/resolve",
        data={"note": "car towed away", "photo": (io.BytesIO(jpeg()), "after.jpg")},
        headers=as_(WORKER_A1),
    )
    assert answer.status_code == 200, answer.json
    resolved = answer.json["events"][-1]
    assert resolved["to_state"] == "resolved" and resolved["actor"] == WORKER_A1
    assert resolved["note"] == "car towed away" and resolved["has_photo"]
    assert datetime.fromisoformat(resolved["time"]) == WEDNESDAY_10 + timedelta(minutes=40)
    photo = client.get(
        f"/api/v1/work-orders/{order}/events/{resolved['id']}/photo", headers=as_(MANAGER_A)
    )
    assert photo.status_code == 200 and photo.data == jpeg()

    # The manager checks it, sends it back once, then it is fixed for good.
    assert client.post(f"/api/v1/work-orders/{order}/verify", headers=as_(MANAGER_A)).status_code
    answer = client.post(f"/api/v1/work-orders/{order}/reopen", headers=as_(MANAGER_A))
    assert answer.status_code == 400 and "note is required" in answer.json["error"]
    answer = client.post(
        f"/api/v1/work-orders/{order}/reopen",
        json={"note": "another car there now"},
        headers=as_(MANAGER_A),
    )
    assert answer.json["state"] == "in_progress"
    client.post(f"/api/v1/work-orders/{order}/resolve", headers=as_(WORKER_A1))
    client.post(f"/api/v1/work-orders/{order}/verify", headers=as_(MANAGER_A))
    answer = client.post(
        f"/api/v1/work-orders/{order}/comments",
        json={"note": "residents thanked"},
        headers=as_(WORKER_A1),
    )
    assert answer.status_code == 201
    answer = client.post(f"/api/v1/work-orders/{order}/close", headers=as_(OPERATOR))
    assert answer.json["state"] == "closed" and answer.json["closed_at"]

    assert trail(conn, order) == [
        (None, "reported", "system"),
        ("reported", "dispatched", OPERATOR),
        ("dispatched", "accepted", WORKER_A1),
        ("accepted", "in_progress", WORKER_A1),
        ("in_progress", "resolved", WORKER_A1),
        ("resolved", "verified", MANAGER_A),
        ("verified", "in_progress", MANAGER_A),
        ("in_progress", "resolved", WORKER_A1),
        ("resolved", "verified", MANAGER_A),
        ("verified", "verified", WORKER_A1),  # the comment: no state change
        ("verified", "closed", OPERATOR),
    ]


def test_a_step_the_loop_does_not_allow_is_refused_and_changes_nothing(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    order = new_order(conn, GRID_A1, state="dispatched", assignee=WORKER_A1)
    before = trail(conn, order)
    answer = client.post(f"/api/v1/work-orders/{order}/resolve", headers=as_(WORKER_A1))
    assert answer.status_code == 409
    assert "dispatched cannot become resolved" in answer.json["error"]
    assert "allowed next" in answer.json["error"]
    answer = client.post(
        f"/api/v1/work-orders/{order}/reopen", json={"note": "x"}, headers=as_(OPERATOR)
    )
    assert answer.status_code == 409 and "resolved or verified" in answer.json["error"]
    assert trail(conn, order) == before
    assert (
        conn.execute("SELECT state FROM work_orders WHERE id = %s", (order,)).fetchone()["state"]
        == "dispatched"
    )


def test_accepting_an_order_of_the_grid_makes_it_the_workers(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    order = new_order(conn, GRID_A1, state="reported")
    answer = client.post(f"/api/v1/work-orders/{order}/accept", headers=as_(WORKER_A1))
    assert answer.json["state"] == "accepted" and answer.json["assignee_id"] == WORKER_A1
    assert answer.json["events"][-1]["note"] == "taken over from nobody"


def test_manual_reassignment_records_who_gave_it_to_whom_within_the_managers_reach(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    order = new_order(conn, GRID_A1, state="in_progress", assignee=WORKER_A1)
    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": WORKER_A2, "note": "A1 is ill"},
        headers=as_(MANAGER_A),
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["assignee_id"] == WORKER_A2 and answer.json["state"] == "in_progress"
    assert (
        answer.json["events"][-1]["note"]
        == f"reassigned from {WORKER_A1} to {WORKER_A2}: A1 is ill"
    )
    assert answer.json["events"][-1]["actor"] == MANAGER_A
    told = conn.execute(
        "SELECT recipient FROM notifications WHERE work_order_id = %s AND reason = 'dispatched'",
        (order,),
    ).fetchall()
    assert [t["recipient"] for t in told] == [WORKER_A2]

    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": WORKER_B1},
        headers=as_(MANAGER_A),
    )
    assert answer.status_code == 403 and WORKER_B1 in answer.json["error"]
    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": "nobody-here"},
        headers=as_(OPERATOR),
    )
    assert answer.status_code == 400 and "does not exist" in answer.json["error"]
    answer = client.post(f"/api/v1/work-orders/{order}/dispatch", json={}, headers=as_(OPERATOR))
    assert answer.status_code == 400 and "assignee is required" in answer.json["error"]
    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": WORKER_A1},
        headers=as_(WORKER_A2),
    )
    assert answer.status_code == 403 and "grid_worker may not dispatch" in answer.json["error"]
    client.post(f"/api/v1/work-orders/{order}/resolve", headers=as_(WORKER_A2))
    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": WORKER_A1},
        headers=as_(OPERATOR),
    )
    assert answer.status_code == 409 and "reopen it first" in answer.json["error"]
    assert (
        conn.execute("SELECT assignee_id FROM work_orders WHERE id = %s", (order,)).fetchone()[
            "assignee_id"
        ]
        == WORKER_A2
    )


def _requests_for_every_endpoint(app: Flask, order: int, event: int) -> list[tuple[str, str, dict]]:
    """(method, path, request kwargs) for every work-order operation the OpenAPI lists."""
    bodies = {
        "dispatch": {"json": {"assignee": WORKER_A1}},
        "reopen": {"json": {"note": "again"}},
        "comments": {"json": {"note": "a look"}},
    }
    calls = []
    document = app.test_client().get("/api/v1/openapi.json").json
    for template, operations in document["paths"].items():
        if "{order_id}" not in template:
            continue
        path = template.replace("{order_id}", str(order)).replace("{event_id}", str(event))
        for method in operations:
            calls.append((method.upper(), path, bodies.get(path.rsplit("/", 1)[-1], {})))
    return calls


def _photo_event(client: FlaskClient, conn: psycopg.Connection, order: int, who: str) -> int:
    answer = client.post(
        f"/api/v1/work-orders/{order}/comments",
        data={"note": "photo", "photo": (io.BytesIO(jpeg()), "p.jpg")},
        headers=as_(who),
    )
    assert answer.status_code == 201
    return int(answer.json["events"][-1]["id"])


@pytest.mark.parametrize(
    ("who", "own_grid", "other_grid"),
    [(MANAGER_A, GRID_A1, GRID_B1), (WORKER_A1, GRID_A1, GRID_A2)],
    ids=["manager-of-another-community", "worker-of-another-grid"],
)
def test_nobody_reads_or_changes_orders_outside_their_area_through_any_endpoint(
    app: Flask,
    client: FlaskClient,
    conn: psycopg.Connection,
    who: str,
    own_grid: str,
    other_grid: str,
) -> None:
    foreign = new_order(conn, other_grid, state="in_progress", assignee=None)
    foreign_event = _photo_event(client, conn, foreign, OPERATOR)
    before = (
        trail(conn, foreign),
        conn.execute(
            "SELECT state, assignee_id FROM work_orders WHERE id = %s", (foreign,)
        ).fetchone(),
    )

    calls = _requests_for_every_endpoint(app, foreign, foreign_event)
    assert len(calls) == 10  # read, 6 steps, dispatch, comment, an event's photo
    for method, path, kwargs in calls:
        answer = client.open(path, method=method, headers=as_(who), **kwargs)
        assert answer.status_code == 404, (method, path, answer.status_code)
        assert "not among the work orders you may see" in answer.json["error"], path

    listed = client.get("/api/v1/work-orders?limit=500", headers=as_(who)).json["work_orders"]
    assert foreign not in {o["id"] for o in listed}
    assert (
        client.get(f"/api/v1/work-orders?grid={other_grid}", headers=as_(who)).json["work_orders"]
        == []
    )
    after = (
        trail(conn, foreign),
        conn.execute(
            "SELECT state, assignee_id FROM work_orders WHERE id = %s", (foreign,)
        ).fetchone(),
    )
    assert after == before

    # The same calls on an order of their own area get past the scope check.
    own = new_order(conn, own_grid, state="in_progress", assignee=None)
    own_event = _photo_event(client, conn, own, OPERATOR)
    assert own in {
        o["id"]
        for o in client.get("/api/v1/work-orders?limit=500", headers=as_(who)).json["work_orders"]
    }
    for method, path, kwargs in _requests_for_every_endpoint(app, own, own_event):
        answer = client.open(path, method=method, headers=as_(who), **kwargs)
        assert answer.status_code != 404, (method, path, answer.json)


def test_a_tester_reads_everything_but_changes_no_state(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    order = new_order(conn, GRID_B1, state="dispatched", assignee=WORKER_B1)
    assert client.get(f"/api/v1/work-orders/{order}", headers=as_(TESTER)).status_code == 200
    answer = client.post(f"/api/v1/work-orders/{order}/accept", headers=as_(TESTER))
    assert answer.status_code == 403
    assert answer.json["error"].startswith("a tester may not accept work orders")
    answer = client.post(
        f"/api/v1/work-orders/{order}/comments", json={"note": "scene 3 ok"}, headers=as_(TESTER)
    )
    assert answer.status_code == 201


def test_without_a_valid_token_or_session_the_api_answers_401(client: FlaskClient) -> None:
    answer = client.get("/api/v1/work-orders")
    assert answer.status_code == 401 and "Authorization: Bearer" in answer.json["error"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    answer = client.get("/api/v1/work-orders", headers={"Authorization": "Bearer guessed"})
    assert answer.status_code == 401 and "unknown or revoked" in answer.json["error"]
    answer = client.post("/api/v1/work-orders/1/close")
    assert answer.status_code == 401


def test_session_login_gives_a_cookie_the_api_and_pages_accept(client: FlaskClient) -> None:
    wrong = client.post("/login", data={"login": MANAGER_A, "password": "not-it"})
    assert wrong.status_code == 401 and "密码错误" in wrong.text
    answer = client.post(
        "/login", data={"login": MANAGER_A, "password": DEMO_PASSWORD, "next": "/report/x"}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/report/x"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = client.get("/api/v1/me")
    assert me.json == {
        "person_id": MANAGER_A,
        "name": "黄振华",
        "role": "property_manager",
        "area_id": "c-0101",
    }
    offsite = client.post(
        "/login", data={"login": MANAGER_A, "password": DEMO_PASSWORD, "next": "//evil.example"}
    )
    assert offsite.headers["Location"] == "/"
    client.post("/logout")
    assert client.get("/api/v1/me").status_code == 401


def test_bad_list_filters_are_explained(client: FlaskClient) -> None:
    answer = client.get("/api/v1/work-orders?state=done", headers=as_(OPERATOR))
    assert answer.status_code == 400 and "unknown state done" in answer.json["error"]
    answer = client.get("/api/v1/work-orders?limit=0", headers=as_(OPERATOR))
    assert answer.status_code == 400 and "limit must be 1..500" in answer.json["error"]


def test_the_openapi_document_lists_every_route_of_the_api(app: Flask) -> None:
    from openapi_spec_validator import validate

    document = app.test_client().get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    validate(document)  # a document OpenAPI tools can read, not just any JSON
    listed = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/v1/", "/open311/")) or rule.endpoint.endswith(
            ("openapi", "unknown_path")
        ):
            continue
        path = re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule)
        path = path.replace("{request_id}", "{service_request_id}")
        choice = re.search(r"<any\(([^)]*)\):\w+>", path)
        names = choice.group(1).split(",") if choice else [""]
        for name in names:
            concrete = path.replace(choice.group(0), name) if choice else path
            served |= {(concrete, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == listed


def test_the_api_is_served_on_the_dashboard_port(settings: Settings, demo: None) -> None:
    with serve_dashboard(settings) as url:
        with urllib.request.urlopen(url + "api/v1/openapi.json", timeout=30) as answer:
            assert json.load(answer)["info"]["title"] == "GridWatch API"
        request = urllib.request.Request(url + "api/v1/work-orders?limit=1", headers=as_(OPERATOR))
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert "work_orders" in json.load(answer)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "api/v1/work-orders", timeout=30)
        assert refused.value.code == 401
        # A mistyped API path is the API's 404, not the dashboard's page.
        request = urllib.request.Request(url + "api/v1/work-order", headers=as_(OPERATOR))
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(request, timeout=30)
        assert missing.value.code == 404
        assert "there is no GET /api/v1/work-order" in json.load(missing.value)["error"]
        with urllib.request.urlopen(url, timeout=30) as answer:  # the big screen still answers
            assert answer.status == 200


def test_photos_are_checked_before_anything_is_stored(
    client: FlaskClient, conn: psycopg.Connection, api_settings: Settings
) -> None:
    order = new_order(conn, GRID_A1, state="dispatched", assignee=WORKER_A1)
    before = trail(conn, order)
    answer = client.post(
        f"/api/v1/work-orders/{order}/comments",
        data={"note": "photo", "photo": (io.BytesIO(b"GIF89a not a jpeg"), "x.gif")},
        headers=as_(WORKER_A1),
    )
    assert answer.status_code == 400 and "not a JPEG or PNG" in answer.json["error"]
    assert trail(conn, order) == before
    photos = Path(api_settings.data_dir) / "photos"
    assert not any(p.name.startswith(f"wo{order}-") for p in photos.glob("*"))


def test_the_cli_sets_passwords_and_issues_tokens_that_the_api_accepts(
    client: FlaskClient, database_url: str
) -> None:
    from click.testing import CliRunner

    from gridwatch.cli import main as cli

    env = {"GRIDWATCH_DATABASE_URL": database_url}
    result = CliRunner().invoke(cli, ["auth", "token", MANAGER_B, "--label", "laptop"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json["person_id"] == MANAGER_B

    result = CliRunner().invoke(
        cli, ["auth", "password", WORKER_B1, "--password", "short"], env=env
    )
    assert result.exit_code != 0 and "at least 8 characters" in result.output
    result = CliRunner().invoke(
        cli, ["auth", "password", WORKER_B1, "--password", "long enough 1"], env=env
    )
    assert result.exit_code == 0, result.output
    answer = client.post(
        "/login",
        data={"login": WORKER_B1, "password": "long enough 1"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200 and answer.json["person_id"] == WORKER_B1
    result = CliRunner().invoke(cli, ["auth", "token", "nobody"], env=env)
    assert result.exit_code != 0 and "person 'nobody' does not exist" in result.output


def test_a_page_guarded_by_login_required_sends_strangers_to_the_login_form(
    api_settings: Settings, demo: None, clock: Clock
) -> None:
    from dispatch.auth import current_user, login_required

    server = Flask("gridwatch-page-test")
    context = mount_api(server, api_settings, clock)

    @server.get("/manager")
    @login_required
    def manager_page() -> str:
        user = current_user()
        assert user is not None
        return f"{user.name} · {user.area_id}"

    try:
        browser = server.test_client()
        answer = browser.get("/manager?tab=orders")
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/login?next=/manager%3Ftab%3Dorders"
        assert (
            'name="next" value="/manager?tab=orders"'
            in browser.get(answer.headers["Location"]).text
        )
        browser.post("/login", data={"login": MANAGER_A, "password": DEMO_PASSWORD})
        assert browser.get("/manager").text == "黄振华 · c-0101"
    finally:
        context.pool.close()
