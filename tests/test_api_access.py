"""Access to the API: password guessing is throttled, and tokens can be revoked at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from dispatch.api import mount_api
from dispatch.api.accounts import ensure_demo_logins, issue_token, set_password
from dispatch.api.throttle import ThrottlePolicy
from gridwatch import db
from gridwatch.settings import PROJECT_ROOT, Settings
from gridwatch.site import load_site, store_site

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 5, 9, 0, tzinfo=TZ)
PASSWORD = "right horse battery"
OPERATOR, MANAGER = "op-01", "pm-0101"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture(scope="module")
def app(settings: Settings, database_url: str, clock: Clock) -> Iterator[Flask]:
    with db.connection(database_url) as conn:
        store_site(conn, load_site(PROJECT_ROOT / "site" / "demo"))
        ensure_demo_logins(conn)
        conn.commit()
    server = Flask("gridwatch-access-test")
    context = mount_api(server, settings, clock)
    yield server
    context.pool.close()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def worker(conn: psycopg.Connection, app: Flask) -> str:
    """A grid worker of g-010101 of this test alone, with a login and a password."""
    person = f"gw-acc-{uuid.uuid4().hex[:6]}"
    conn.execute(
        "INSERT INTO people (id, name, role, area_id) VALUES (%s, '测试', 'grid_worker',"
        " 'g-010101')",
        (person,),
    )
    set_password(conn, person, PASSWORD)
    conn.commit()
    return person


def log_in(client: FlaskClient, login: str, password: str, address: str = "127.0.0.1") -> object:
    return client.post(
        "/login",
        data={"login": login, "password": password},
        headers={"Accept": "application/json"},
        environ_base={"REMOTE_ADDR": address},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_throttle_waits_until_the_oldest_counted_failure_leaves_the_window() -> None:
    policy = ThrottlePolicy(max_failures=3, window=timedelta(minutes=5))
    minute = timedelta(minutes=1)
    failures = [T0, T0 + minute, T0 + 2 * minute]
    assert policy.retry_after(failures[:2], T0 + 2 * minute) is None
    assert policy.retry_after(failures, T0 + 3 * minute) == 2 * minute
    assert policy.retry_after(failures, T0 + 5 * minute + timedelta(seconds=1)) is None
    # Failures outside the window do not count at all.
    assert policy.retry_after([T0 - 10 * minute, *failures[1:]], T0 + 3 * minute) is None


def test_five_wrong_passwords_lock_that_login_from_that_address_for_five_minutes(
    client: FlaskClient, clock: Clock, worker: str
) -> None:
    clock.now = T0
    for attempt in range(5):
        clock.now = T0 + timedelta(seconds=10 * attempt)
        answer = log_in(client, worker, f"guess-{attempt}")
        assert answer.status_code == 401, attempt

    clock.now = T0 + timedelta(minutes=1)
    locked = log_in(client, worker, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    reason = locked.json["error"]
    assert f"too many failed logins: 5 for {worker!r} from 127.0.0.1 within 5 min" in reason
    assert "try again in 4 min" in reason
    assert locked.headers["Retry-After"] == "240"
    assert "gridwatch_session" not in locked.headers.get("Set-Cookie", "")

    # Another address is not locked out by someone else's guessing.
    elsewhere = log_in(client, worker, PASSWORD, address="10.1.2.3")
    assert elsewhere.status_code == 200 and elsewhere.json["person_id"] == worker

    # Once the first failure is five minutes old, one more try is allowed; it succeeds
    # and the count starts again.
    clock.now = T0 + timedelta(minutes=5, seconds=1)
    assert log_in(client, worker, PASSWORD).status_code == 200
    for _ in range(4):
        assert log_in(client, worker, "wrong again").status_code == 401
    assert log_in(client, worker, PASSWORD).status_code == 200


def test_the_browser_form_explains_the_lockout_too(
    client: FlaskClient, clock: Clock, worker: str
) -> None:
    clock.now = T0 + timedelta(hours=1)
    for _ in range(5):
        client.post("/login", data={"login": worker, "password": "nope"})
    page = client.post("/login", data={"login": worker, "password": PASSWORD})
    assert page.status_code == 429
    assert "too many failed logins" in page.get_data(as_text=True)


def test_a_worker_revokes_a_lost_phones_token_and_it_stops_working_at_once(
    client: FlaskClient, conn: psycopg.Connection, worker: str
) -> None:
    phone, laptop = issue_token(conn, worker, "phone"), issue_token(conn, worker, "laptop")
    conn.commit()
    mine = client.get("/api/v1/tokens", headers=bearer(laptop)).json["tokens"]
    assert sorted(t["label"] for t in mine) == ["laptop", "phone"]
    assert phone not in str(mine) and laptop not in str(mine)
    phone_id = next(t["id"] for t in mine if t["label"] == "phone")

    revoked = client.delete(f"/api/v1/tokens/{phone_id}", headers=bearer(laptop))
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    refused = client.get("/api/v1/me", headers=bearer(phone))
    assert refused.status_code == 401 and "unknown or revoked" in refused.json["error"]
    assert client.get("/api/v1/me", headers=bearer(laptop)).status_code == 200

    # The token a request comes with can revoke itself.
    assert client.delete("/api/v1/tokens/current", headers=bearer(laptop)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(laptop)).status_code == 401


def test_nobody_revokes_or_lists_another_persons_tokens_but_operators(
    client: FlaskClient, conn: psycopg.Connection, worker: str
) -> None:
    token = issue_token(conn, worker, "phone")
    conn.commit()
    token_id = conn.execute("SELECT id FROM api_tokens WHERE person_id = %s", (worker,)).fetchone()[
        "id"
    ]

    stranger = client.delete(f"/api/v1/tokens/{token_id}", headers=bearer("demo-" + MANAGER))
    assert stranger.status_code == 404
    listing = client.get(f"/api/v1/tokens?person={worker}", headers=bearer("demo-" + MANAGER))
    assert listing.status_code == 403
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    seen = client.get(f"/api/v1/tokens?person={worker}", headers=bearer("demo-" + OPERATOR))
    assert [t["id"] for t in seen.json["tokens"]] == [token_id]
    done = client.delete(f"/api/v1/tokens/{token_id}", headers=bearer("demo-" + OPERATOR))
    assert done.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert (
        client.delete("/api/v1/tokens/999999999", headers=bearer("demo-" + OPERATOR)).status_code
        == 404
    )


def test_a_session_cannot_revoke_a_token_it_does_not_have(
    client: FlaskClient, clock: Clock, worker: str
) -> None:
    clock.now = T0 + timedelta(hours=2)
    assert log_in(client, worker, PASSWORD).status_code == 200
    answer = client.delete("/api/v1/tokens/current")
    assert answer.status_code == 400 and "POST /logout ends it" in answer.json["error"]
