"""Mistakes people make with the API get an answer they can act on, in the API's own format."""

from __future__ import annotations

import psycopg
from flask.testing import FlaskClient

from tests import test_api
from tests.test_api import GRID_A1, OPERATOR, WORKER_A1, as_, new_order

# The API's fixtures, shared: the demo site, the Flask app with its clock, a test client.
demo, clock, api_settings = test_api.demo, test_api.clock, test_api.api_settings
app, client = test_api.app, test_api.client


def test_a_mistyped_api_path_answers_json_404_not_a_page(client: FlaskClient) -> None:
    answer = client.get("/api/v1/orders", headers=as_(OPERATOR))
    assert answer.status_code == 404 and answer.mimetype == "application/json"
    assert "GET /api/v1/orders" in answer.json["error"]
    assert "/api/v1/openapi.json" in answer.json["error"]
    answer = client.post("/api/v1/work-orders/1/finish", headers=as_(OPERATOR))
    assert answer.status_code == 404 and "POST /api/v1/work-orders/1/finish" in answer.json["error"]


def test_a_step_called_with_the_wrong_method_names_the_right_one(client: FlaskClient) -> None:
    answer = client.get("/api/v1/work-orders/1/accept", headers=as_(OPERATOR))
    assert answer.status_code == 405 and answer.mimetype == "application/json"
    assert "takes POST" in answer.json["error"]
    assert answer.headers["Allow"] == "POST"


def test_a_mistyped_open311_path_answers_in_open311_form(client: FlaskClient) -> None:
    answer = client.get("/open311/v2/services.xml")
    assert answer.status_code == 404
    [error] = answer.json
    assert error["code"] == 404 and "services.json" in error["description"]


def test_an_open311_report_sent_as_json_is_told_to_send_a_form(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    before = conn.execute("SELECT count(*) AS n FROM work_orders").fetchone()["n"]
    answer = client.post(
        "/open311/v2/requests.json",
        json={"api_key": "demo-tester-01", "service_code": "other", "description": "x"},
    )
    assert answer.status_code == 415
    [error] = answer.json
    assert "form" in error["description"] and "multipart/form-data" in error["description"]
    assert conn.execute("SELECT count(*) AS n FROM work_orders").fetchone()["n"] == before


def test_reasons_in_chinese_read_as_chinese_in_the_raw_answer(client: FlaskClient) -> None:
    answer = client.post(
        "/login",
        data={"login": "nobody-at-all", "password": "wrong-password"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 401
    assert "账号或密码错误".encode() in answer.data


def test_a_closed_order_is_not_reassigned_and_the_reason_does_not_suggest_reopening(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    order = new_order(conn, GRID_A1, state="closed", assignee=WORKER_A1)
    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": "gw-010102-1"},
        headers=as_(OPERATOR),
    )
    assert answer.status_code == 409
    assert "closed" in answer.json["error"] and "reopen" not in answer.json["error"]


def test_an_unknown_source_filter_is_explained(client: FlaskClient) -> None:
    answer = client.get("/api/v1/work-orders?source=sensor", headers=as_(OPERATOR))
    assert answer.status_code == 400
    assert "unknown source sensor" in answer.json["error"]
    assert "alert, patrol, resident" in answer.json["error"]


def test_an_order_is_not_handed_to_someone_who_may_not_work_on_it(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    order = new_order(conn, GRID_A1, state="dispatched", assignee=WORKER_A1)
    answer = client.post(
        f"/api/v1/work-orders/{order}/dispatch",
        json={"assignee": "tester-01"},
        headers=as_(OPERATOR),
    )
    assert answer.status_code == 400
    assert "tester-01 is a tester" in answer.json["error"]
    assert "may not accept" in answer.json["error"]
    assignee = conn.execute("SELECT assignee_id FROM work_orders WHERE id = %s", (order,))
    assert assignee.fetchone()["assignee_id"] == WORKER_A1
