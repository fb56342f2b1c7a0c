"""MQTT clients for GridWatch's own processes, configured from the settings in one place."""

from __future__ import annotations

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridwatch.settings import Settings


def make_client(
    settings: Settings,
    client_id: str,
    *,
    clean_start: bool = True,
    client_class: type[paho.Client] = paho.Client,
) -> paho.Client:
    """A paho client (callback API v2) speaking the configured protocol version."""
    v5 = settings.mqtt_protocol == "5"
    client = client_class(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        clean_session=None if v5 else clean_start,
    )
    if settings.mqtt_username:
        client.username_pw_set(settings.mqtt_username, settings.mqtt_password)
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    return client


def connect(
    client: paho.Client,
    settings: Settings,
    *,
    clean_start: bool = True,
    session_expiry_s: int = 0,
    receive_maximum: int | None = None,
) -> None:
    """Connect (blocking for the TCP handshake); the network loop is the caller's.

    With clean_start False and a session expiry, the broker keeps the subscriptions and
    queues QoS 1 messages while the client is away (MQTT 3.1.1: until it returns).
    receive_maximum (MQTT 5) caps the unacknowledged messages the broker sends this client.
    """
    if settings.mqtt_protocol == "5":
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = session_expiry_s
        if receive_maximum is not None:
            properties.ReceiveMaximum = receive_maximum
        client.connect(
            settings.mqtt_host,
            settings.mqtt_port,
            keepalive=30,
            clean_start=clean_start,
            properties=properties,
        )
    else:
        client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=30)
