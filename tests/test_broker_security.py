"""Per-device passwords and ACLs from the site model, enforced by a real Mosquitto.

One broker runs deploy/mosquitto.conf (port and paths swapped for a scratch folder) with the
password and ACL files `gridwatch site mqtt-acl` writes for the demo site.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from click.testing import CliRunner

from gridwatch.broker import (
    INTEGRATOR_USER,
    SECRET_ENV,
    SERVICE_USER,
    derive_password,
    mosquitto_hash,
)
from gridwatch.broker.mosquitto import mosquitto_binary, start_site_broker
from gridwatch.cli import main
from gridwatch.settings import PROJECT_ROOT
from gridwatch.site import Site, load_site
from gridwatch.topics import MessageKind, alert_topic, device_topic
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")

DEMO_SITE = PROJECT_ROOT / "site" / "demo"
SECRET = b"test-secret-for-the-demo-site-0123456789"
# Two devices in the same grid of the demo site.
CAMERA = "fl-010101-1"
ALARM = "alarm-010101-1"
GRID = "g-010101"
NOT_AUTHORIZED = 135  # MQTT 5 reason code
BAD_CREDENTIALS = 134


@dataclass
class SecuredBroker:
    site: Site
    port: int

    def topic(self, device: str, kind: MessageKind, grid: str = GRID) -> str:
        return device_topic(self.site.id, grid, device, kind)

    def login(self, username: str) -> Client:
        client = Client(self.port, username, derive_password(SECRET, self.site.id, username))
        assert client.connected(), f"{username} was refused: {client.connack_reason}"
        return client


class Client:
    """An MQTT 5 client that records its CONNACK, SUBACKs, PUBACKs and messages."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.subacks: dict[int, list[int]] = {}
        self.pubacks: dict[int, int] = {}
        self.connack_reason: paho.ReasonCode | None = None
        self._connack = threading.Event()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=f"{username or 'anonymous'}-{uuid.uuid4().hex[:6]}",
            protocol=paho.MQTTv5,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.subacks.update(
            {mid: [code.value for code in codes]}
        )
        self.client.on_publish = lambda c, u, mid, code, p: self.pubacks.update({mid: code.value})
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._connack.wait(10), f"no CONNACK for {username}"

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: object,
        reason: paho.ReasonCode,
        properties: object,
    ) -> None:
        self.connack_reason = reason
        self._connack.set()

    def connected(self) -> bool:
        return self.connack_reason is not None and not self.connack_reason.is_failure

    def subscribe(self, *filters: str) -> list[int]:
        """Subscribe at QoS 1 and return the SUBACK's reason codes."""
        _, mid = self.client.subscribe([(f, 1) for f in filters])
        return wait_for(lambda: self.subacks.get(mid), 10, "SUBACK")

    def publish(self, topic: str, payload: bytes) -> int:
        """Publish at QoS 1 and return the PUBACK's reason code."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        wait_for(lambda: info.mid in self.pubacks, 10, f"PUBACK for {topic}")
        return self.pubacks[info.mid]

    def payloads(self) -> list[bytes]:
        return [payload for _, payload in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    site = load_site(DEMO_SITE)
    folder = tmp_path_factory.mktemp("secured-broker")
    broker = start_site_broker(site, SECRET, folder, integrator=True)
    port = broker.port
    try:
        yield SecuredBroker(site, port)
    finally:
        broker.stop()


@pytest.fixture
def gridwatch_user(secured: SecuredBroker) -> Iterator[Client]:
    """GridWatch's service user, listening to the whole site."""
    client = secured.login(SERVICE_USER)
    assert client.subscribe(f"gw/v1/{secured.site.id}/#") == [1]
    yield client
    client.close()


def test_device_with_its_own_credentials_reaches_gridwatch(
    secured: SecuredBroker, gridwatch_user: Client
) -> None:
    camera = secured.login(CAMERA)
    assert camera.publish(secured.topic(CAMERA, MessageKind.TELEMETRY), b"hello") == 0
    camera.close()
    wait_for(lambda: b"hello" in gridwatch_user.payloads(), 10, "the camera's telemetry")


def test_wrong_password_is_refused(secured: SecuredBroker) -> None:
    client = Client(secured.port, CAMERA, derive_password(b"another-secret-entirely!", "x", CAMERA))
    client.close()
    assert not client.connected()
    assert client.connack_reason in (NOT_AUTHORIZED, BAD_CREDENTIALS), client.connack_reason


def test_anonymous_client_is_refused(secured: SecuredBroker) -> None:
    client = Client(secured.port, None, None)
    client.close()
    assert not client.connected()
    assert client.connack_reason == NOT_AUTHORIZED, client.connack_reason


def test_device_cannot_publish_as_another_device_or_in_another_grid(
    secured: SecuredBroker, gridwatch_user: Client
) -> None:
    camera = secured.login(CAMERA)
    forged = [
        (secured.topic(ALARM, MessageKind.TELEMETRY), b"forged: the alarm's telemetry"),
        (secured.topic(ALARM, MessageKind.STATUS), b"forged: the alarm's status"),
        (secured.topic(CAMERA, MessageKind.FRAME, grid="g-010102"), b"forged: another grid"),
        (alert_topic(secured.site.id, GRID, "fire_lane_occupied"), b"forged: an alert"),
        (secured.topic(ALARM, MessageKind.CMD), b"forged: a command"),
    ]
    for topic, payload in forged:
        # MQTT 5 tells the publisher; an MQTT 3.1.1 device is dropped on silently.
        assert camera.publish(topic, payload) == NOT_AUTHORIZED, topic
    assert camera.publish(secured.topic(CAMERA, MessageKind.TELEMETRY), b"genuine") == 0
    camera.close()

    # Messages from one publisher arrive in order: once `genuine` is here, the rest would be.
    wait_for(lambda: b"genuine" in gridwatch_user.payloads(), 10, "the camera's own telemetry")
    assert [p for p in gridwatch_user.payloads() if p.startswith(b"forged")] == []


def test_device_cannot_read_another_devices_commands(
    secured: SecuredBroker, gridwatch_user: Client
) -> None:
    camera = secured.login(CAMERA)
    # Mosquitto 2.0 grants these subscriptions and filters each message against the ACL
    # on delivery instead, so what counts is what arrives.
    camera.subscribe(secured.topic(ALARM, MessageKind.CMD), f"gw/v1/{secured.site.id}/#")
    alarm = secured.login(ALARM)
    alarm.publish(secured.topic(ALARM, MessageKind.TELEMETRY), b"the alarm's telemetry")
    alarm.close()
    assert gridwatch_user.publish(secured.topic(ALARM, MessageKind.CMD), b"for the alarm") == 0
    camera.subscribe(secured.topic(CAMERA, MessageKind.CMD))
    assert gridwatch_user.publish(secured.topic(CAMERA, MessageKind.CMD), b"for the camera") == 0

    wait_for(lambda: b"for the camera" in camera.payloads(), 10, "the camera's own command")
    camera.close()
    assert {topic for topic, _ in camera.messages} == {secured.topic(CAMERA, MessageKind.CMD)}


def test_integrator_reads_alerts_and_nothing_else(
    secured: SecuredBroker, gridwatch_user: Client
) -> None:
    integrator = secured.login(INTEGRATOR_USER)
    integrator.subscribe(f"gw/v1/{secured.site.id}/#")
    camera = secured.login(CAMERA)
    camera.publish(secured.topic(CAMERA, MessageKind.TELEMETRY), b"telemetry")
    camera.close()
    alert = alert_topic(secured.site.id, GRID, "fire_lane_occupied")
    assert integrator.publish(alert, b"forged alert") == NOT_AUTHORIZED
    assert gridwatch_user.publish(alert, b"alert") == 0

    wait_for(lambda: b"alert" in integrator.payloads(), 10, "the alert")
    integrator.close()
    assert integrator.messages == [(alert, b"alert")]


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="no mosquitto_passwd")
def test_password_hash_is_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    password_file = tmp_path / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(password_file), "someone", "s3cret pass"],
        check=True,
        capture_output=True,
    )
    user, entry = password_file.read_text(encoding="utf-8").strip().split(":", 1)
    _, kind, rounds, salt, _ = entry.split("$")
    assert (user, kind) == ("someone", "7")
    assert mosquitto_hash("s3cret pass", base64.b64decode(salt), int(rounds)) == entry


def test_cli_writes_the_same_files_every_time_and_prints_passwords_only_on_request(
    tmp_path: Path,
) -> None:
    site = load_site(DEMO_SITE)
    runner = CliRunner()
    refused = runner.invoke(
        main,
        ["site", "mqtt-acl", str(DEMO_SITE), "--out", str(tmp_path / "a")],
        env={SECRET_ENV: ""},
    )
    assert refused.exit_code != 0
    assert SECRET_ENV in refused.output and "--secret-file" in refused.output

    env = {SECRET_ENV: SECRET.decode()}
    first = runner.invoke(
        main, ["site", "mqtt-acl", str(DEMO_SITE), "--out", str(tmp_path / "a")], env=env
    )
    assert first.exit_code == 0, first.output
    assert first.stdout == ""
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET.decode() + "\n", encoding="utf-8")
    second = runner.invoke(
        main,
        ["site", "mqtt-acl", str(DEMO_SITE), "--out", str(tmp_path / "b")]
        + ["--secret-file", str(secret_file), "--print-passwords"],
        env={SECRET_ENV: ""},
    )
    assert second.exit_code == 0, second.output
    for name in ("passwd", "acl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "passwd").stat().st_mode & 0o077 == 0

    printed = dict(line.split("\t") for line in second.stdout.splitlines())
    assert set(printed) == {SERVICE_USER} | {device.id for device in site.devices}
    assert printed[CAMERA] == derive_password(SECRET, site.id, CAMERA)
    assert printed[CAMERA] not in (tmp_path / "a" / "passwd").read_text(encoding="utf-8")
