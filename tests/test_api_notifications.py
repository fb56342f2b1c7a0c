"""What the dispatch sweep did, seen through the API: overdue orders and the delivery log.

The sweep runs with the clock as a parameter and real channels on loopback: a webhook that
takes the worker's messages, and a port nobody listens on for the manager's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
import pytest
from flask.testing import FlaskClient

from dispatch.api.accounts import issue_token
from tests import test_api
from tests.test_api import MANAGER_B, OPERATOR, TESTER, as_
from tests.test_notifications import (
    SEND,
    T0,
    TZ,
    Place,
    WebhookReceiver,
    free_port,
    make_place,
    order_of,
    raise_alert,
)

# The API's fixtures, shared: the demo site, the Flask app with its clock, a test client.
demo, clock, api_settings = test_api.demo, test_api.clock, test_api.api_settings
app, client = test_api.app, test_api.client

MIN = timedelta(minutes=1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Handled:
    """An order of a place of its own, swept until it reached the community: the worker's
    "new order" message was delivered, the manager's escalation failed twice."""

    def __init__(self, conn: psycopg.Connection, webhook: WebhookReceiver) -> None:
        down = f"json://127.0.0.1:{free_port()}/manager"
        self.place: Place = make_place(conn, {"worker": [webhook.url("worker")], "manager": [down]})
        alert_id = raise_alert(conn, self.place)
        sweep_at = [T0, T0 + 16 * MIN, T0 + 17 * MIN]  # 15 min to accept; retry after 30 s
        from dispatch.service import sweep

        for now in sweep_at:
            sweep(conn, now, TZ, SEND)
        self.order = order_of(conn, alert_id)
        self.tokens = {
            who: issue_token(conn, person, "test")
            for who, person in (
                ("worker", self.place.worker),
                ("manager", self.place.manager),
            )
        }
        conn.commit()


@pytest.fixture(scope="module")
def handled(database_url: str, demo: None) -> Iterator[Handled]:
    from gridwatch import db

    webhook = WebhookReceiver()
    try:
        with db.connection(database_url) as conn:
            yield Handled(conn, webhook)
    finally:
        webhook.close()


def test_an_order_that_missed_its_deadline_shows_overdue_and_how_far_it_climbed(
    client: FlaskClient, handled: Handled
) -> None:
    order_id = handled.order["id"]
    one = client.get(f"/api/v1/work-orders/{order_id}", headers=as_(OPERATOR)).json
    assert (one["overdue"], one["escalation_level"], one["escalated"]) == (True, "community", True)
    assert datetime.fromisoformat(one["overdue_since"]) == T0 + 15 * MIN
    assert one["escalated_at"] is not None
    overdue = client.get("/api/v1/work-orders?overdue=true&limit=500", headers=as_(OPERATOR))
    assert order_id in {o["id"] for o in overdue.json["work_orders"]}
    assert all(o["overdue"] for o in overdue.json["work_orders"])
    on_time = client.get("/api/v1/work-orders?overdue=false&limit=500", headers=as_(OPERATOR))
    assert order_id not in {o["id"] for o in on_time.json["work_orders"]}
    answer = client.get("/api/v1/work-orders?overdue=maybe", headers=as_(OPERATOR))
    assert answer.status_code == 400 and "overdue must be true or false" in answer.json["error"]


def _log(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[dict]:
    answer = client.get(f"/api/v1/notifications{query}", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json["notifications"]


def test_operators_see_every_message_of_an_order_with_each_attempt(
    client: FlaskClient, handled: Handled
) -> None:
    place = handled.place
    log = _log(client, as_(OPERATOR), f"?work_order={handled.order['id']}")
    by_recipient = {n["recipient"]: n for n in log}
    assert set(by_recipient) == {place.worker, place.manager}

    to_worker = by_recipient[place.worker]
    assert (to_worker["reason"], to_worker["status"], to_worker["attempts"]) == (
        "dispatched",
        "sent",
        1,
    )
    assert [a["status"] for a in to_worker["attempt_log"]] == ["sent"]
    assert to_worker["channel"].startswith("json://127.0.0.1:")

    to_manager = by_recipient[place.manager]
    assert (to_manager["reason"], to_manager["level"], to_manager["status"]) == (
        "escalated",
        "community",
        "pending",
    )
    attempts = to_manager["attempt_log"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "failed"), (2, "failed")]
    assert all(a["error"] for a in attempts)
    assert to_manager["last_error"] == attempts[-1]["error"]
    assert to_manager["next_attempt_at"] is not None
    assert "督办" in to_manager["title"]
    assert [n["id"] for n in log] == sorted((n["id"] for n in log), reverse=True)  # newest first

    failing = _log(client, as_(OPERATOR), "?status=pending&limit=500")
    assert to_manager["id"] in {n["id"] for n in failing}
    assert to_worker["id"] not in {n["id"] for n in failing}


def test_people_see_only_the_messages_sent_to_them(client: FlaskClient, handled: Handled) -> None:
    place, order_id = handled.place, handled.order["id"]
    worker = bearer(handled.tokens["worker"])
    mine = _log(client, worker, "?limit=500")
    assert {n["recipient"] for n in mine} == {place.worker}
    assert _log(client, worker, f"?recipient={place.worker}") == mine

    answer = client.get(f"/api/v1/notifications?recipient={place.manager}", headers=worker)
    assert answer.status_code == 403 and "only your own" in answer.json["error"]
    manager_log = _log(client, bearer(handled.tokens["manager"]), f"?work_order={order_id}")
    assert [n["recipient"] for n in manager_log] == [place.manager]
    # A manager of another community, and a tester, see none of these messages.
    assert _log(client, as_(MANAGER_B), f"?work_order={order_id}") == []
    assert _log(client, as_(TESTER), f"?work_order={order_id}") == []


def test_an_application_key_and_strangers_get_no_delivery_log(client: FlaskClient) -> None:
    assert client.get("/api/v1/notifications").status_code == 401
    from dispatch.api.context import api_context

    with client.application.app_context():
        with api_context().pool.connection() as conn:
            key = issue_token(conn, None, "some-app")
    answer = client.get("/api/v1/notifications", headers=bearer(key))
    assert answer.status_code == 403 and "application key" in answer.json["error"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("?status=lost", "unknown status lost"),
        ("?work_order=seven", "work_order must be a whole number"),
        ("?limit=0", "limit must be 1..500"),
    ],
)
def test_bad_delivery_log_filters_are_explained(
    client: FlaskClient, query: str, reason: str
) -> None:
    answer = client.get(f"/api/v1/notifications{query}", headers=as_(OPERATOR))
    assert answer.status_code == 400 and reason in answer.json["error"]
