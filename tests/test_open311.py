"""Residents and patrols report through Open311 (and the QR form); reports join the loop."""

from __future__ import annotations

import io
import re
from pathlib import Path

import cv2
import numpy as np
import psycopg
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from gridwatch.cli import main as cli
from gridwatch.settings import PROJECT_ROOT, Settings
from tests import test_api
from tests.test_api import GRID_A1, GRID_B1, MANAGER_A, MANAGER_B, OPERATOR, WORKER_A1, as_, jpeg

# The API's fixtures, shared: the demo site, the Flask app with its clock, a test client.
demo, clock, api_settings = test_api.demo, test_api.clock, test_api.api_settings
app, client = test_api.app, test_api.client

TESTER_KEY = "demo-tester-01"


def centre(conn: psycopg.Connection, grid_id: str) -> tuple[float, float]:
    row = conn.execute(
        "SELECT center_lat, center_lon FROM areas WHERE id = %s", (grid_id,)
    ).fetchone()
    return row["center_lat"], row["center_lon"]


def report(
    client: FlaskClient, conn: psycopg.Connection, grid_id: str, key: str = TESTER_KEY, **extra
):
    lat, lon = centre(conn, grid_id)
    form = {
        "api_key": key,
        "service_code": "fire_lane_occupied",
        "description": "一辆白色面包车堵住消防通道 a white van blocks the fire lane",
        "lat": str(lat),
        "long": str(lon),
        **extra,
    }
    return client.post("/open311/v2/requests.json", data=form)


def counts(conn: psycopg.Connection, photo_dir: Path) -> tuple[int, int, int, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM work_orders) AS w,"
        " (SELECT count(*) FROM work_order_events) AS e,"
        " (SELECT count(*) FROM service_requests) AS s"
    ).fetchone()
    return row["w"], row["e"], row["s"], len(list(photo_dir.glob("*")))


def test_services_list_what_residents_can_report(client: FlaskClient) -> None:
    services = client.get("/open311/v2/services.json").json
    codes = {s["service_code"] for s in services}
    assert {"fire_lane_occupied", "ebike_in_elevator", "falling_object", "other"} <= codes
    fire_lane = next(s for s in services if s["service_code"] == "fire_lane_occupied")
    assert fire_lane["service_name"] == "消防通道占用 Fire lane blocked"
    assert fire_lane["metadata"] is False and fire_lane["type"] == "realtime"


def test_a_residents_report_becomes_a_work_order_dispatched_to_the_worker_on_duty(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    answer = report(client, conn, GRID_A1, media=(io.BytesIO(jpeg()), "van.jpg"))
    assert answer.status_code == 201, answer.json
    documented = client.get("/api/v1/openapi.json").json["paths"]["/open311/v2/requests.json"]
    assert "201" in documented["post"]["responses"]
    request_id = answer.json[0]["service_request_id"]
    order = conn.execute("SELECT * FROM work_orders WHERE id = %s", (int(request_id),)).fetchone()
    assert (order["source"], order["grid_id"], order["type"]) == (
        "resident",
        GRID_A1,
        "fire_lane_occupied",
    )
    # Wednesday 10:00 in Shanghai: the demo roster has gw-010101-1 on duty there.
    assert (order["state"], order["assignee_id"]) == ("dispatched", WORKER_A1)
    assert order["accept_due"] is not None and order["resolve_due"] > order["accept_due"]
    told = conn.execute(
        "SELECT recipient, reason FROM notifications WHERE work_order_id = %s", (order["id"],)
    ).fetchall()
    # A blocked fire lane: the worker takes it, the district's property office hears of it.
    assert {(t["recipient"], t["reason"]) for t in told} == {
        (WORKER_A1, "dispatched"),
        ("dept-property", "dispatched"),
    }

    found = client.get(f"/open311/v2/requests/{request_id}.json?api_key={TESTER_KEY}").json
    assert found[0]["status"] == "open" and found[0]["service_code"] == "fire_lane_occupied"
    assert found[0]["media_url"].endswith(f"/open311/v2/requests/{request_id}/media")
    media = client.get(f"/open311/v2/requests/{request_id}/media?api_key={TESTER_KEY}")
    assert media.data == jpeg()

    # The worker handles it through the same loop as an alert's order.
    for step in ("accept", "start", "resolve"):
        done = client.post(f"/api/v1/work-orders/{request_id}/{step}", headers=as_(WORKER_A1))
        assert done.status_code == 200, done.json
    found = client.get(f"/open311/v2/requests/{request_id}.json?api_key={TESTER_KEY}").json
    assert found[0]["status"] == "closed" and found[0]["status_notes"] == "work order resolved"


def test_an_address_naming_a_building_places_the_report_in_its_grid(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    building = conn.execute(
        "SELECT name, grid_id FROM buildings WHERE grid_id = %s ORDER BY id LIMIT 1", (GRID_B1,)
    ).fetchone()
    answer = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": TESTER_KEY,
            "service_code": "ebike_in_elevator",
            "description": "电动车推进电梯 e-bike pushed into the lift",
            "address_string": f"{building['name']} 2单元",
        },
    )
    assert answer.status_code == 201, answer.json
    grid = conn.execute(
        "SELECT grid_id FROM work_orders WHERE id = %s",
        (int(answer.json[0]["service_request_id"]),),
    ).fetchone()["grid_id"]
    assert grid == GRID_B1


def test_a_grid_worker_files_patrol_reports_for_their_own_grid_only(
    client: FlaskClient, conn: psycopg.Connection, api_settings: Settings
) -> None:
    answer = report(client, conn, GRID_A1, key=f"demo-{WORKER_A1}")
    assert answer.status_code == 201
    order = conn.execute(
        "SELECT source FROM work_orders WHERE id = %s", (int(answer.json[0]["service_request_id"]),)
    ).fetchone()
    assert order["source"] == "patrol"

    before = counts(conn, api_settings.data_dir / "photos")
    answer = report(client, conn, GRID_B1, key=f"demo-{WORKER_A1}")
    assert answer.status_code == 403
    assert answer.json == [
        {
            "code": 403,
            "description": f"grid worker {WORKER_A1} files patrol reports for grid {GRID_A1};"
            f" this place is in grid {GRID_B1}",
        }
    ]
    assert counts(conn, api_settings.data_dir / "photos") == before


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"api_key": ""}, 401, "api_key is required"),
        ({"api_key": "made-up"}, 401, "api_key is unknown or revoked"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "noise"}, 400, "service_code 'noise' is unknown"),
        ({"description": "  "}, 400, "description is required"),
        ({"long": ""}, 400, "give both lat and long"),
        ({"lat": "north"}, 400, "lat 'north' is not a number"),
        ({"lat": "95"}, 400, "lat 95 is outside -90..90"),
        ({"lat": "0", "long": "0"}, 400, "lies in none of this site's grids"),
        ({"lat": "", "long": "", "address_string": "火星1号楼"}, 400, "names no building"),
        ({"lat": "", "long": ""}, 400, "location missing"),
        ({"media_url": "ftp://x/y.jpg"}, 400, "media_url must be an http(s) URL"),
        ({"media": (io.BytesIO(b"%PDF-1.4"), "a.pdf")}, 400, "not a JPEG or PNG"),
    ],
)
def test_a_malformed_or_unauthenticated_report_is_refused_in_open311_form_and_stores_nothing(
    client: FlaskClient,
    conn: psycopg.Connection,
    api_settings: Settings,
    change: dict,
    status: int,
    reason: str,
) -> None:
    photo_dir = api_settings.data_dir / "photos"
    before = counts(conn, photo_dir)
    answer = report(client, conn, GRID_A1, **change)
    assert answer.status_code == status
    assert len(answer.json) == 1 and answer.json[0]["code"] == status
    assert reason in answer.json[0]["description"]
    assert counts(conn, photo_dir) == before


def test_reports_are_read_back_only_by_those_who_may_see_them(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    in_b = report(client, conn, GRID_B1).json[0]["service_request_id"]
    for key in (f"demo-{MANAGER_A}", f"demo-{WORKER_A1}"):
        one = client.get(f"/open311/v2/requests/{in_b}.json?api_key={key}")
        assert one.status_code == 404 and one.json[0]["code"] == 404
        assert client.get(f"/open311/v2/requests/{in_b}/media?api_key={key}").status_code == 404
        listed = client.get(f"/open311/v2/requests.json?api_key={key}").json
        assert in_b not in {r["service_request_id"] for r in listed}
    for key in (f"demo-{MANAGER_B}", f"demo-{OPERATOR}", TESTER_KEY):
        one = client.get(f"/open311/v2/requests/{in_b}.json?api_key={key}")
        assert one.status_code == 200 and one.json[0]["service_request_id"] == in_b
    assert client.get("/open311/v2/requests.json").json[0]["code"] == 401


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))


def decode_qr(png: bytes) -> str:
    picture = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture is not None, "not a decodable image"
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(picture)
    return text


def test_a_grids_qr_code_opens_its_form_and_the_form_posts_a_report(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    png = client.get(f"/report/qr/{GRID_B1}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")
    url = decode_qr(png.data)
    assert url == f"http://localhost/report/{GRID_B1}"

    form = client.get(url.removeprefix("http://localhost"))
    assert form.status_code == 200
    page = form.text
    assert 'action="/open311/v2/requests.json"' in page
    for label in ("问题类型 What is wrong", "问题描述 Describe it", "提交 Send", "建设社区第1网格"):
        assert label in page
    fields = hidden_fields(page)
    answer = client.post(
        "/open311/v2/requests.json",
        data={
            **fields,
            "service_code": "sanitation",
            "description": "垃圾桶满了 the bins are full",
            "address_string": "南门 south gate",
            "media": (io.BytesIO(jpeg()), "bins.jpg"),
        },
    )
    assert answer.status_code == 201, answer.json
    order_id = int(answer.json[0]["service_request_id"])
    row = conn.execute(
        "SELECT w.grid_id, w.source, sr.address, t.label FROM work_orders w"
        " JOIN service_requests sr ON sr.work_order_id = w.id"
        " JOIN api_tokens t ON t.id = sr.token_id WHERE w.id = %s",
        (order_id,),
    ).fetchone()
    assert (row["grid_id"], row["source"], row["address"], row["label"]) == (
        GRID_B1,
        "resident",
        "南门 south gate",
        "report-form",
    )
    # The form's key reads back what the form filed, and nothing else.
    mine = client.get(f"/open311/v2/requests.json?api_key={fields['api_key']}").json
    assert order_id in {int(r["service_request_id"]) for r in mine}
    other = report(client, conn, GRID_B1).json[0]["service_request_id"]
    assert other not in {r["service_request_id"] for r in mine}


def test_there_is_no_qr_code_for_a_grid_that_does_not_exist(client: FlaskClient) -> None:
    assert client.get("/report/qr/g-nowhere.png").status_code == 404
    assert client.get("/report/g-nowhere").status_code == 404


def test_the_cli_writes_one_printable_qr_code_per_grid(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "site",
            "qr",
            str(tmp_path),
            "--base-url",
            "https://gw.example.cn/",
            "--site-dir",
            str(PROJECT_ROOT / "site" / "demo"),
        ],
    )
    assert result.exit_code == 0, result.output
    codes = sorted(tmp_path.glob("*.png"))
    assert len(codes) == 45
    assert decode_qr(codes[0].read_bytes()) == f"https://gw.example.cn/report/{codes[0].stem}"


def test_a_failure_midway_through_filing_leaves_no_order_event_request_or_photo(
    client: FlaskClient,
    conn: psycopg.Connection,
    api_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dispatch.assignment

    def broken_dispatch(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away while dispatching")

    # The order, its first event, the request row and the photo are written by then.
    monkeypatch.setattr(dispatch.assignment, "transition", broken_dispatch)
    photo_dir = api_settings.data_dir / "photos"
    before = counts(conn, photo_dir)
    answer = report(client, conn, GRID_A1, media=(io.BytesIO(jpeg(48)), "late.jpg"))
    assert answer.status_code == 500
    assert counts(conn, photo_dir) == before


def test_requests_filter_by_open_and_closed_as_their_orders_stand(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    done, waiting = (report(client, conn, GRID_A1).json[0]["service_request_id"] for _ in "ab")
    for step in ("accept", "start", "resolve"):
        client.post(f"/api/v1/work-orders/{done}/{step}", headers=as_(WORKER_A1))

    def listed(status: str) -> set[str]:
        answer = client.get(f"/open311/v2/requests.json?api_key={TESTER_KEY}&status={status}")
        assert answer.status_code == 200, answer.json
        assert {r["status"] for r in answer.json} <= {status}
        return {r["service_request_id"] for r in answer.json}

    assert done in listed("closed") and waiting not in listed("closed")
    assert waiting in listed("open") and done not in listed("open")
    answer = client.get(f"/open311/v2/requests.json?api_key={TESTER_KEY}&status=done")
    assert answer.status_code == 400 and "neither open nor closed" in answer.json[0]["description"]


def test_the_open_filter_finds_an_old_open_report_behind_a_thousand_closed_ones(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.test_notifications import make_place

    grid = make_place(conn).grid
    start = datetime(2019, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    def insert(state: str, at: datetime) -> int:
        order = conn.execute(
            "INSERT INTO work_orders (source, grid_id, type, severity, title, state,"
            " created_at, updated_at) VALUES ('resident', %s, 'other', 'minor', 'old', %s,"
            " %s, %s) RETURNING id",
            (grid, state, at, at),
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO service_requests (work_order_id, service_code, description, lat,"
            " lon, requested_at) VALUES (%s, 'other', 'old report', 0, 0, %s)",
            (order, at),
        )
        return int(order)

    still_open = str(insert("in_progress", start))
    made = [int(still_open)]
    made += [insert("closed", start + timedelta(seconds=i + 1)) for i in range(1000)]
    conn.commit()
    try:
        answer = client.get(f"/open311/v2/requests.json?api_key={TESTER_KEY}&status=open")
        assert still_open in {r["service_request_id"] for r in answer.json}
    finally:
        conn.execute("DELETE FROM service_requests WHERE work_order_id = ANY(%s)", (made,))
        conn.execute("DELETE FROM work_orders WHERE id = ANY(%s)", (made,))
        conn.commit()


def test_a_grid_worker_logged_in_files_a_patrol_report_through_the_qr_form(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    from dispatch.api.accounts import DEMO_PASSWORD

    client.post("/login", data={"login": WORKER_A1, "password": DEMO_PASSWORD})
    fields = hidden_fields(client.get(f"/report/{GRID_A1}").text)
    answer = client.post(
        "/open311/v2/requests.json",
        data={**fields, "service_code": "facility_damage", "description": "护栏松动 loose railing"},
    )
    assert answer.status_code == 201, answer.json
    order_id = int(answer.json[0]["service_request_id"])
    row = conn.execute(
        "SELECT w.source, e.actor FROM work_orders w JOIN work_order_events e"
        " ON e.work_order_id = w.id AND e.from_state IS NULL WHERE w.id = %s",
        (order_id,),
    ).fetchone()
    assert (row["source"], row["actor"]) == ("patrol", WORKER_A1)
    client.post("/logout")
