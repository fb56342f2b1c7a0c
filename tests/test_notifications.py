"""Notifications reach people over real protocols on loopback, and survive a channel that is down.

A small HTTP server stands in for a webhook (apprise json://), aiosmtpd for the mail server.
The clock is a parameter: backoff is tested by moving it, not by waiting.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from aiosmtpd.controller import Controller
from psycopg.types.json import Jsonb

from dispatch.channels import AppriseSender, DeliveryError, Senders, channel_label
from dispatch.notifications import RetryPolicy, add_channel, deliver_due
from dispatch.service import DispatchSetup, sweep

TZ = ZoneInfo("Asia/Shanghai")
# Long past, so that messages queued by other tests in the same database are never due here.
T0 = datetime(2021, 3, 1, 9, 0, tzinfo=TZ)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebhookReceiver:
    """An HTTP server on loopback keeping every JSON body posted to it, by path."""

    def __init__(self, port: int = 0) -> None:
        received: list[tuple[str, dict[str, Any]]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def on(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.received if p == f"/{path}"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Mail:
    to: list[str]
    subject: str
    text: str


@dataclass
class MailReceiver:
    """An SMTP server (aiosmtpd) on loopback keeping every mail it accepts."""

    port: int = field(default_factory=free_port)
    mails: list[Mail] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        text = next(
            part.get_payload(decode=True).decode("utf-8")
            for part in parsed.walk()
            if part.get_content_type() == "text/plain"
        )
        subject = str(make_header(decode_header(parsed["Subject"])))
        self.mails.append(Mail(list(envelope.rcpt_tos), subject, text))
        return "250 OK"

    def url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}/?to={to}&from=gridwatch@example.com"

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture()
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture()
def mail() -> Iterator[MailReceiver]:
    receiver = MailReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(autouse=True)
def empty_outbox(conn: psycopg.Connection) -> None:
    """Each test starts with nothing pending in the outbox: the tests here share one clock
    (T0), so messages an earlier test left pending would be due in a later test's sweeps and
    could spend the sweep's delivery budget (5 s) before that test's own message is tried."""
    conn.execute("UPDATE notifications SET status = 'gave_up' WHERE status = 'pending'")
    conn.commit()


@dataclass(frozen=True)
class Place:
    district: str
    street: str
    community: str
    grid: str
    worker: str
    manager: str
    operator: str
    device: str


def make_place(conn: psycopg.Connection, channels: dict[str, list[str]] | None = None) -> Place:
    """A district → street → community → grid of its own, with a worker on duty all week,
    a property manager and an operator; `channels` by role ('worker', 'manager', 'operator')."""
    tag = uuid.uuid4().hex[:6]
    p = Place(*(f"n{tag}-{what}" for what in ("d", "s", "c", "g", "gw", "pm", "op", "cam")))
    chain = [(p.district, "district", None), (p.street, "street", p.district)]
    chain += [(p.community, "community", p.street), (p.grid, "grid", p.community)]
    for area_id, level, parent in chain:
        conn.execute(
            "INSERT INTO areas (id, level, parent_id, name) VALUES (%s, %s, %s, %s)",
            (area_id, level, parent, f"{level} {tag}"),
        )
    channels = channels or {}
    for person, role, area, key in (
        (p.worker, "grid_worker", p.grid, "worker"),
        (p.manager, "property_manager", p.community, "manager"),
        (p.operator, "operator", p.district, "operator"),
    ):
        conn.execute(
            "INSERT INTO people (id, name, role, area_id, channels) VALUES (%s, %s, %s, %s, %s)",
            (person, person, role, area, Jsonb(channels.get(key, []))),
        )
    conn.execute(
        "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES (%s, 's', %s,"
        " 'elevator_camera', 'cam')",
        (p.device, p.grid),
    )
    for weekday in range(1, 8):
        conn.execute(
            "INSERT INTO duty_roster VALUES (%s, %s, %s, '00:00', '00:00')",
            (p.worker, p.grid, weekday),
        )
    conn.commit()
    return p


def raise_alert(
    conn: psycopg.Connection, place: Place, alert_type: str = "ebike_in_elevator"
) -> int:
    row = conn.execute(
        "INSERT INTO alerts (site_id, device_id, grid_id, type, severity, title, first_seen,"
        " last_seen) VALUES ('s', %s, %s, %s, 'major', 'E-bike in the lift', %s, %s)"
        " RETURNING id",
        (place.device, place.grid, alert_type, T0, T0),
    ).fetchone()
    conn.commit()
    return int(row["id"])


def order_of(conn: psycopg.Connection, alert_id: int) -> dict[str, Any]:
    return conn.execute("SELECT * FROM work_orders WHERE alert_id = %s", (alert_id,)).fetchone()


def delivery_log(conn: psycopg.Connection, order_id: int) -> list[tuple[str, int, str]]:
    rows = conn.execute(
        "SELECT recipient, attempt, status FROM notification_attempts WHERE work_order_id = %s"
        " ORDER BY id",
        (order_id,),
    )
    return [(r["recipient"], r["attempt"], r["status"]) for r in rows]


SEND = DispatchSetup(senders=Senders(AppriseSender()))


def test_the_worker_gets_a_new_order_by_webhook_and_the_community_group_too(
    conn: psycopg.Connection, webhook: WebhookReceiver
) -> None:
    place = make_place(conn, {"worker": [webhook.url("worker")]})
    add_channel(conn, webhook.url("community-group"), community_id=place.community)
    conn.commit()
    alert_id = raise_alert(conn, place)

    counts = sweep(conn, T0, TZ, SEND)

    order = order_of(conn, alert_id)
    assert counts.delivery.sent == 2
    [to_worker] = webhook.on("worker")
    assert f"Work order {order['id']}" in to_worker["title"]
    assert "Accept by 2021-03-01 09:15" in to_worker["message"]
    assert len(webhook.on("community-group")) == 1
    assert sorted(delivery_log(conn, order["id"])) == [
        (f"community:{place.community}", 1, "sent"),
        (place.worker, 1, "sent"),
    ]


def test_a_webhook_that_is_down_gets_the_message_once_it_is_back(
    conn: psycopg.Connection,
) -> None:
    port = free_port()  # nothing listens there yet
    place = make_place(conn, {"worker": [f"json://127.0.0.1:{port}/worker"]})
    alert_id = raise_alert(conn, place)

    first = sweep(conn, T0, TZ, SEND)
    assert first.delivery.failed == 1
    order = order_of(conn, alert_id)
    pending = conn.execute(
        "SELECT status, attempts, next_attempt_at, last_error FROM notifications"
        " WHERE work_order_id = %s",
        (order["id"],),
    ).fetchone()
    assert pending["status"] == "pending"
    assert pending["next_attempt_at"] == T0 + timedelta(seconds=30)  # first backoff step
    assert "127.0.0.1" in pending["last_error"]

    # Ten seconds later the backoff has not run out: no new attempt.
    assert sweep(conn, T0 + timedelta(seconds=10), TZ, SEND).delivery.failed == 0
    receiver = WebhookReceiver(port)
    try:
        later = sweep(conn, T0 + timedelta(seconds=31), TZ, SEND)
        assert later.delivery.sent == 1
        sweep(conn, T0 + timedelta(minutes=5), TZ, SEND)
        assert len(receiver.on("worker")) == 1, "delivered exactly once"
    finally:
        receiver.close()
    assert delivery_log(conn, order["id"]) == [
        (place.worker, 1, "failed"),
        (place.worker, 2, "sent"),
    ]


def test_mail_reaches_the_smtp_server(conn: psycopg.Connection, mail: MailReceiver) -> None:
    place = make_place(conn, {"worker": [mail.url("worker@example.com")]})
    alert_id = raise_alert(conn, place)
    sweep(conn, T0, TZ, SEND)
    order = order_of(conn, alert_id)
    [received] = mail.mails
    assert received.to == ["worker@example.com"]
    assert f"Work order {order['id']}" in received.subject
    assert "电动车进电梯" in received.subject
    assert "Accept by 2021-03-01 09:15" in received.text


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(first_s=30, max_s=300, give_up_after_s=3600)
    delays = [(policy.next_attempt(n, T0) - T0).total_seconds() for n in range(1, 7)]
    assert delays == [30, 60, 120, 240, 300, 300]


def test_a_channel_failing_past_the_give_up_time_stays_in_the_log_as_given_up(
    conn: psycopg.Connection,
) -> None:
    place = make_place(conn, {"worker": [f"json://127.0.0.1:{free_port()}/gone"]})
    alert_id = raise_alert(conn, place)
    policy = RetryPolicy(first_s=60, max_s=60, give_up_after_s=150)
    setup = DispatchSetup(senders=Senders(AppriseSender()), retry=policy)
    for seconds in (0, 60, 120, 180, 240):
        sweep(conn, T0 + timedelta(seconds=seconds), TZ, setup)
    order = order_of(conn, alert_id)
    assert [s for _, _, s in delivery_log(conn, order["id"])] == [
        "failed",
        "failed",
        "failed",
        "gave_up",
    ]
    row = conn.execute(
        "SELECT status FROM notifications WHERE work_order_id = %s", (order["id"],)
    ).fetchone()
    assert row["status"] == "gave_up"


def test_an_address_apprise_cannot_read_is_refused_and_nothing_is_stored(
    conn: psycopg.Connection,
) -> None:
    place = make_place(conn)
    with pytest.raises(ValueError, match="'smoke-signal' is not a notification URL"):
        add_channel(conn, "smoke-signal://hill", person_id=place.worker)
    with pytest.raises(LookupError, match="is not a community"):
        add_channel(conn, "json://127.0.0.1/x", community_id=place.grid)
    conn.rollback()
    count = conn.execute(
        "SELECT count(*) AS n FROM notification_channels WHERE person_id = %s", (place.worker,)
    ).fetchone()["n"]
    assert count == 0


def test_an_unreadable_channel_from_the_site_model_is_given_up_at_once(
    conn: psycopg.Connection,
) -> None:
    place = make_place(conn, {"worker": ["smoke-signal://hill"]})
    alert_id = raise_alert(conn, place)
    counts = sweep(conn, T0, TZ, SEND)
    assert counts.delivery.gave_up == 1
    order = order_of(conn, alert_id)
    error = conn.execute(
        "SELECT error FROM notification_attempts WHERE work_order_id = %s", (order["id"],)
    ).fetchone()["error"]
    assert "apprise does not understand" in error


def test_screens_see_channels_with_their_secrets_masked() -> None:
    label = channel_label("dingtalk://929cedc68a8dd460/")
    assert label.startswith("dingtalk://")
    assert "929cedc68a8dd460" not in label


def test_the_sender_registry_refuses_mqtt_without_a_connection() -> None:
    with pytest.raises(DeliveryError, match="no MQTT connection"):
        Senders(AppriseSender()).send("mqtt:gw/v1/s/alerts/g/t", "t", "b", {})


def test_messages_wait_in_the_outbox_when_nothing_can_send(
    conn: psycopg.Connection, webhook: WebhookReceiver
) -> None:
    place = make_place(conn, {"worker": [webhook.url("worker")]})
    alert_id = raise_alert(conn, place)
    sweep(conn, T0, TZ)  # a sweep without senders queues only
    assert webhook.received == []
    deliver_due(conn, T0 + timedelta(seconds=1), Senders(AppriseSender()))
    assert len(webhook.on("worker")) == 1
    order = order_of(conn, alert_id)
    assert delivery_log(conn, order["id"]) == [(place.worker, 1, "sent")]
