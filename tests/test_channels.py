"""Operators manage people's and communities' notification channels, over the API and the CLI;
an order handed over by hand reaches the new assignee through them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from dispatch.api import mount_api
from dispatch.api.accounts import ensure_demo_logins, issue_token
from dispatch.channels import AppriseSender, Senders
from dispatch.notifications import deliver_due
from gridwatch import db
from gridwatch.cli import main as cli
from gridwatch.settings import PROJECT_ROOT, Settings
from gridwatch.site import load_site, store_site
from tests.test_notifications import WebhookReceiver

TZ = ZoneInfo("Asia/Shanghai")
# Earlier than any other test's moment, so that the outbox holds nothing else due by then.
NEW_YEAR = datetime(2020, 1, 1, 10, 0, tzinfo=TZ)
OPERATOR, MANAGER, WORKER, TESTER = "op-01", "pm-0101", "gw-010101-1", "tester-01"


@pytest.fixture(scope="module")
def app(settings: Settings, database_url: str) -> Iterator[Flask]:
    with db.connection(database_url) as conn:
        store_site(conn, load_site(PROJECT_ROOT / "site" / "demo"))
        ensure_demo_logins(conn)
        conn.commit()
    server = Flask("gridwatch-channels-test")
    context = mount_api(server, settings, lambda: NEW_YEAR)
    yield server
    context.pool.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def as_(person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer demo-{person}"}


def stored(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT count(*) AS n FROM notification_channels").fetchone()["n"])


@pytest.fixture()
def newcomer(conn: psycopg.Connection) -> Iterator[tuple[str, str]]:
    """(person id, token) of a new grid worker of g-010102 with no channels yet."""
    person = f"gw-new-{uuid.uuid4().hex[:6]}"
    conn.execute(
        "INSERT INTO people (id, name, role, area_id) VALUES (%s, '新人', 'grid_worker',"
        " 'g-010102')",
        (person,),
    )
    token = issue_token(conn, person, "phone")
    conn.commit()
    yield person, token


def test_an_order_handed_to_someone_by_hand_reaches_them_on_the_channel_an_operator_added(
    client: FlaskClient, conn: psycopg.Connection, newcomer: tuple[str, str]
) -> None:
    person, _ = newcomer
    webhook = WebhookReceiver()
    try:
        added = client.post(
            "/api/v1/channels",
            json={"url": webhook.url("newcomer"), "person_id": person, "label": "work phone"},
            headers=as_(OPERATOR),
        )
        assert added.status_code == 201, added.json
        assert added.json["person_id"] == person and added.json["label"] == "work phone"
        listed = client.get(f"/api/v1/channels?person={person}", headers=as_(OPERATOR)).json
        assert [c["id"] for c in listed["channels"]] == [added.json["id"]]

        order = conn.execute(
            "INSERT INTO work_orders (source, grid_id, type, severity, title, state,"
            " assignee_id, created_at, updated_at) VALUES ('alert', 'g-010102', 'smoke',"
            " 'critical', 'smoke in stairwell 2', 'dispatched', 'gw-010102-1', %s, %s)"
            " RETURNING id",
            (NEW_YEAR, NEW_YEAR),
        ).fetchone()["id"]
        conn.commit()
        handed = client.post(
            f"/api/v1/work-orders/{order}/dispatch",
            json={"assignee": person, "note": "closer to the stairwell"},
            headers=as_(OPERATOR),
        )
        assert handed.status_code == 200, handed.json
        assert handed.json["events"][-1]["note"] == (
            f"reassigned from gw-010102-1 to {person}: closer to the stairwell"
        )

        delivered = deliver_due(conn, NEW_YEAR, Senders(AppriseSender()))
        assert delivered.sent == 1
        [message] = webhook.on("newcomer")
        assert f"Work order {order}" in message["title"]
        assert f"Assigned to {person}." in message["message"]
    finally:
        webhook.close()


@pytest.mark.parametrize("who", [MANAGER, WORKER, TESTER])
def test_only_operators_and_admins_manage_channels(
    client: FlaskClient, conn: psycopg.Connection, who: str
) -> None:
    before = stored(conn)
    body = {"url": "json://127.0.0.1:9/x", "person_id": WORKER}
    for answer in (
        client.get("/api/v1/channels", headers=as_(who)),
        client.post("/api/v1/channels", json=body, headers=as_(who)),
        client.delete("/api/v1/channels/1", headers=as_(who)),
    ):
        assert answer.status_code == 403
        assert "only an operator or admin may manage notification channels" in answer.json["error"]
    assert stored(conn) == before
    assert client.get("/api/v1/channels").status_code == 401


def test_a_channel_no_sender_understands_or_of_nobody_is_refused_and_nothing_is_stored(
    client: FlaskClient, conn: psycopg.Connection
) -> None:
    before = stored(conn)
    cases = [
        ({"url": "telegraph://morse", "person_id": WORKER}, "'telegraph' is not a notification"),
        ({"url": "json://127.0.0.1/x", "person_id": "nobody"}, "person 'nobody' does not exist"),
        ({"url": "json://127.0.0.1/x", "community_id": WORKER}, "is not a community"),
        ({"url": "json://127.0.0.1/x"}, "exactly one person or one community"),
        ({"person_id": WORKER}, "url is required"),
    ]
    for body, reason in cases:
        answer = client.post("/api/v1/channels", json=body, headers=as_(OPERATOR))
        assert answer.status_code == 400, body
        assert reason in answer.json["error"], answer.json
    assert stored(conn) == before


def test_secrets_in_channels_are_masked_and_a_removed_channel_is_gone(
    client: FlaskClient,
) -> None:
    url = "mailto://gw:s3cret-pass@smtp.example.com?to=gw@example.com"
    added = client.post(
        "/api/v1/channels", json={"url": url, "community_id": "c-0102"}, headers=as_(OPERATOR)
    ).json
    assert "s3cret-pass" not in str(added)
    again = client.post(
        "/api/v1/channels", json={"url": url, "community_id": "c-0102"}, headers=as_(OPERATOR)
    )
    assert again.status_code == 400 and "already has the channel" in again.json["error"]
    # A person's list shows the site model's channels too, without an id.
    mine = client.get(f"/api/v1/channels?person={WORKER}", headers=as_(OPERATOR)).json
    assert [(c["id"], c["source"]) for c in mine["channels"]] == [(None, "site model")]

    removed = client.delete(f"/api/v1/channels/{added['id']}", headers=as_(OPERATOR))
    assert removed.status_code == 200 and removed.json == {"removed": added["id"]}
    gone = client.delete(f"/api/v1/channels/{added['id']}", headers=as_(OPERATOR))
    assert gone.status_code == 404
    listed = client.get("/api/v1/channels?community=c-0102", headers=as_(OPERATOR)).json
    assert added["id"] not in [c["id"] for c in listed["channels"]]


def test_the_cli_adds_lists_and_removes_channels(database_url: str, app: Flask) -> None:
    env = {"GRIDWATCH_DATABASE_URL": database_url}
    url = "wecombot://0123456789abcdef0123456789abcdef"
    added = CliRunner().invoke(
        cli, ["channels", "add", url, "--community", "c-0103", "--label", "物业群"], env=env
    )
    assert added.exit_code == 0, added.output
    channel_id = int(added.output.split()[1])
    listed = CliRunner().invoke(cli, ["channels", "list", "--community", "c-0103"], env=env)
    assert listed.exit_code == 0
    [line] = [row for row in listed.output.splitlines() if row.split()[0] == str(channel_id)]
    assert "community:c-0103" in line and "(物业群)" in line
    assert "0123456789abcdef0123456789abcdef" not in line, "the robot key is masked"

    refused = CliRunner().invoke(cli, ["channels", "add", "nope://x", "--person", WORKER], env=env)
    assert refused.exit_code != 0 and "'nope' is not a notification URL" in refused.output

    removed = CliRunner().invoke(cli, ["channels", "remove", str(channel_id)], env=env)
    assert removed.exit_code == 0 and f"channel {channel_id} removed" in removed.output
    again = CliRunner().invoke(cli, ["channels", "remove", str(channel_id)], env=env)
    assert again.exit_code != 0 and f"there is no stored channel {channel_id}" in again.output
