"""Mosquitto's default queue limits lose QoS 1 messages; deploy/mosquitto.conf's do not.

GridWatch's subscriber keeps a persistent session and goes offline (a redeploy, a crash)
while a device goes on publishing at QoS 1. The broker keeps the messages for the session,
but at most `max_queued_messages` of them (1000 by default); the rest are dropped without a
word to either side. The same deployed configuration is run twice, once with its queue-limit
lines left out, so the difference is exactly those lines.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridwatch.broker import SERVICE_USER, derive_password, write_broker_files
from gridwatch.broker.mosquitto import (
    DEPLOYED_CONFIG,
    QUEUE_LIMIT_OPTIONS,
    local_config,
    mosquitto_binary,
    start_mosquitto,
)
from gridwatch.services import free_port
from gridwatch.settings import PROJECT_ROOT
from gridwatch.site import load_site
from gridwatch.topics import MessageKind, device_topic
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")

SECRET = b"test-secret-for-the-queue-limits"
MESSAGES = 5000
SUBSCRIBER_ID = "gridwatch-ingest-queue-test"
END = b"end"


@dataclass
class Outcome:
    received: int
    dropped_logged: bool


@dataclass
class Setup:
    """The broker files both runs share, and the device that publishes."""

    auth: Path
    site_id: str
    device_id: str
    topic: str


def _client(setup: Setup, username: str, client_id: str) -> paho.Client:
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5
    )
    client.username_pw_set(username, derive_password(SECRET, setup.site_id, username))
    return client


def _connect(client: paho.Client, port: int, *, clean_start: bool = True) -> None:
    """Connect and start the network loop; the session outlives the connection by 5 minutes."""
    connack: list[paho.ReasonCode] = []
    connected = threading.Event()

    def on_connect(
        c: paho.Client, u: object, f: object, reason: paho.ReasonCode, p: object
    ) -> None:
        connack.append(reason)
        connected.set()

    client.on_connect = on_connect
    session = Properties(PacketTypes.CONNECT)
    session.SessionExpiryInterval = 300  # MQTT 5 drops the session at disconnect without it
    client.connect("127.0.0.1", port, keepalive=30, clean_start=clean_start, properties=session)
    client.loop_start()
    assert connected.wait(10) and not connack[0].is_failure, f"CONNACK: {connack}"


def _stop(client: paho.Client) -> None:
    client.disconnect()
    client.loop_stop()


def offline_subscriber_receives(setup: Setup, folder: Path, *, without: frozenset[str]) -> Outcome:
    """How many of MESSAGES a persistent subscriber gets after being offline while they came."""
    folder.mkdir()
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        local_config(
            DEPLOYED_CONFIG.read_text(encoding="utf-8"),
            port=port,
            data_dir=folder,
            password_file=setup.auth / "passwd",
            acl_file=setup.auth / "acl",
            without=without,
        ),
        encoding="utf-8",
    )
    topic = setup.topic
    broker = start_mosquitto(config, port)
    try:
        # GridWatch subscribes with a session the broker keeps, then goes away.
        subscriber = _client(setup, SERVICE_USER, SUBSCRIBER_ID)
        granted: list[list[paho.ReasonCode]] = []
        subscriber.on_subscribe = lambda c, u, mid, codes, p: granted.append(codes)
        _connect(subscriber, port)
        subscriber.subscribe(topic, qos=1)
        assert wait_for(lambda: granted, 10, "SUBACK")[0] == [1], granted
        _stop(subscriber)

        device = _client(setup, setup.device_id, setup.device_id)
        _connect(device, port)
        sent = [device.publish(topic, json.dumps({"seq": n}), qos=1) for n in range(MESSAGES)]
        for info in sent:
            info.wait_for_publish(20)
        assert all(info.is_published() for info in sent), "the broker did not take every message"

        seqs: set[int] = set()
        ended = threading.Event()

        def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
            if message.payload == END:
                ended.set()
            else:
                seqs.add(json.loads(message.payload)["seq"])

        # Back online, in the same session: the broker hands over what it kept.
        subscriber = _client(setup, SERVICE_USER, SUBSCRIBER_ID)
        subscriber.on_message = on_message
        _connect(subscriber, port, clean_start=False)
        # Once the backlog has started to flow there is room behind it for one more message;
        # it arrives after everything the broker kept for the session.
        wait_for(lambda: seqs, 10, "the first queued message")
        device.publish(topic, END, qos=1).wait_for_publish(10)
        assert ended.wait(30), f"the end marker never came ({len(seqs)} messages so far)"
        _stop(subscriber)
        _stop(device)
    finally:
        broker.stop()
    log = (folder / "mosquitto.log").read_text(encoding="utf-8", errors="replace")
    return Outcome(len(seqs), "messages are being dropped" in log)


def test_offline_subscriber_loses_messages_at_default_limits_and_none_at_deployed_ones(
    tmp_path: Path,
) -> None:
    site = load_site(PROJECT_ROOT / "site" / "demo")
    socket = next(device for device in site.devices if device.kind == "charging_socket")
    topic = device_topic(site.id, socket.grid_id, socket.id, MessageKind.TELEMETRY)
    setup = Setup(tmp_path / "auth", site.id, socket.id, topic)
    write_broker_files(site, SECRET, setup.auth)

    defaults = offline_subscriber_receives(
        setup, tmp_path / "defaults", without=QUEUE_LIMIT_OPTIONS
    )
    deployed = offline_subscriber_receives(setup, tmp_path / "deployed", without=frozenset())

    assert defaults.received < MESSAGES, (
        f"with Mosquitto's default limits the subscriber got {defaults.received} of "
        f"{MESSAGES}: no loss, where max_queued_messages 1000 should have dropped some"
    )
    assert defaults.dropped_logged, "the broker log should say it dropped messages"
    assert deployed.received == MESSAGES, (
        f"with deploy/mosquitto.conf's limits the subscriber got {deployed.received} of "
        f"{MESSAGES} (lost {MESSAGES - deployed.received}); with the defaults it got "
        f"{defaults.received} (lost {MESSAGES - defaults.received})"
    )
    assert not deployed.dropped_logged
