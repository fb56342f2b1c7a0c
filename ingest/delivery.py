"""At-least-once delivery: a message is acknowledged to the broker only once it is handled.

"Handled" means committed (telemetry, status, events, command acks, dead letters) or, for a
frame, routed to its camera's worker or dropped by the per-camera queue. Until then the
broker keeps the message in the persistent session and sends it again if ingest dies.

Acknowledgements carry the connection they arrived on. After a reconnect the broker resends
every message it has not had a PUBACK for, with the same packet ids; an acknowledgement left
over from the old connection could by then name a different, newer message, so it is not
sent: the resent copy is written again (idempotently) and acknowledged instead.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable
from typing import NamedTuple

import paho.mqtt.client as paho

from gridwatch.topics import PREFIX, ingest_subscriptions


class AckToken(NamedTuple):  # one per message received: a tuple is the cheapest to make
    connection: int
    mid: int
    qos: int


class Acknowledger:
    """Sends PUBACKs for handled messages, skipping those of a connection that is gone."""

    def __init__(self, client: paho.Client) -> None:
        self._client = client
        self._connection = 0
        self._lock = threading.Lock()
        self.taken = 0
        self.sent = 0
        self.stale = 0

    @property
    def connection(self) -> int:
        """How many times the connection has been made or lost."""
        return self._connection

    def new_connection(self) -> None:
        """Call on every connect and disconnect: older tokens become stale."""
        with self._lock:
            self._connection += 1

    def token(self, message: paho.MQTTMessage) -> AckToken | None:
        """The acknowledgement a message needs, or None (QoS 0 needs none)."""
        if message.qos == 0:
            return None
        self.taken += 1
        return AckToken(self._connection, message.mid, message.qos)

    def ack(self, tokens: Iterable[AckToken | None]) -> tuple[int, int]:
        """Acknowledge handled messages; returns (sent, stale)."""
        sent = stale = 0
        batched: list[int] = []  # QoS 1 ids, acknowledged in one write where the client can
        with self._lock:
            current = self._connection
            for token in tokens:
                if token is None:
                    continue
                if token.connection != current:
                    stale += 1
                    continue
                if token.qos == 1:
                    batched.append(token.mid)
                else:
                    self._client.ack(token.mid, token.qos)
                sent += 1
            ack_many = getattr(self._client, "ack_many", None)
            if ack_many is not None:
                ack_many(batched)
            else:
                for mid in batched:
                    self._client.ack(mid, 1)
        self.sent += sent
        self.stale += stale
        return sent, stale

    def outstanding(self) -> int:
        """Messages received and not yet acknowledged (or given up as stale)."""
        return self.taken - self.sent - self.stale


# -- sharing a site between N ingest processes -----------------------------------------------
# Telemetry goes through an MQTT 5 shared subscription: any worker may store any reading
# (writes are idempotent and keyed by device time). Frames, status, events and command acks
# need one owner per device (detector state, order), which Mosquitto's round-robin shared
# subscriptions cannot promise: every worker subscribes to them and keeps only the devices
# whose stable hash falls on it. docs/SCALING.md explains the choice.
PER_DEVICE_KINDS = ("frame", "status", "event", "cmd/ack")


def shared_group(site: str) -> str:
    return f"$share/gridwatch-ingest-{site}/"


def subscriptions(site: str, workers: int, *, per_device_shared: bool = False) -> list[str]:
    """Topic filters one ingest worker subscribes to."""
    if workers == 1:
        return ingest_subscriptions(site)
    group = shared_group(site)
    per_device = [f"{PREFIX}/{site}/+/+/{kind}" for kind in PER_DEVICE_KINDS]
    if per_device_shared:
        per_device = [group + topic for topic in per_device]
    return [f"{group}{PREFIX}/{site}/+/+/telemetry", *per_device]


def owner(device_id: str, workers: int) -> int:
    """The worker that owns a device's frames and status: crc32, stable across processes."""
    return zlib.crc32(device_id.encode()) % workers


def client_id(site: str, workers: int, index: int) -> str:
    """A fixed id per worker, so its persistent session survives a restart."""
    base = f"gridwatch-ingest-{site}"
    return base if workers == 1 else f"{base}-{index}"
