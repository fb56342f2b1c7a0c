"""Notification channels: one interface, picked by the channel's scheme.

A channel is a string. Apprise URLs (json://, jsons://, mailto://, dingtalk://, wecombot://,
feishu://, ...) go through apprise; "mqtt:<topic>" is published on GridWatch's own broker.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import apprise
import paho.mqtt.client as paho

log = logging.getLogger(__name__)

MQTT_PREFIX = "mqtt:"
# How long one MQTT publish may wait for the broker's PUBACK before it counts as failed.
MQTT_ACK_TIMEOUT_S = 5.0


class DeliveryError(Exception):
    """A message a channel did not take. `permanent`: retrying cannot help (a bad URL)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    def send(self, channel: str, title: str, body: str, payload: dict[str, Any]) -> None:
        """Deliver one message or raise DeliveryError saying why not."""


def check_channel(channel: str) -> None:
    """Raise ValueError unless `channel` is an mqtt:<topic> or a URL apprise understands."""
    if channel.startswith(MQTT_PREFIX):
        if not channel[len(MQTT_PREFIX) :] or "#" in channel or "+" in channel:
            raise ValueError(f"{channel!r}: write mqtt:<topic>, a topic without wildcards")
        return
    if apprise.Apprise.instantiate(channel) is None:
        scheme = channel.split("://", 1)[0] if "://" in channel else channel
        raise ValueError(
            f"{scheme!r} is not a notification URL apprise understands; use e.g. "
            "json://host/path, mailto://user:pass@host?to=addr, dingtalk://token/, "
            "wecombot://key, feishu://token"
        )


def channel_label(channel: str) -> str:
    """The channel with its secrets (tokens, passwords) masked, fit for a screen or a log."""
    if channel.startswith(MQTT_PREFIX):
        return channel
    plugin = apprise.Apprise.instantiate(channel)
    if plugin is None:
        return channel.split("://", 1)[0] + "://(not understood)"
    return str(plugin.url(privacy=True)).split("?", 1)[0]


class AppriseSender:
    """Sends through apprise, one URL at a time, keeping apprise's own error text."""

    def send(self, channel: str, title: str, body: str, payload: dict[str, Any]) -> None:
        plugin = apprise.Apprise.instantiate(channel)
        if plugin is None:
            raise DeliveryError(
                f"apprise does not understand {channel_label(channel)}", permanent=True
            )
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = plugin.notify(body=body, title=title)
            if not ok:
                text = captured.getvalue().strip().splitlines()
                reason = text[-1].split(" - ", 2)[-1] if text else "the service refused it"
                raise DeliveryError(reason)


@dataclass
class MqttSender:
    """Publishes the message's JSON payload on the topic of an mqtt:<topic> channel (QoS 1)."""

    client: paho.Client

    def send(self, channel: str, title: str, body: str, payload: dict[str, Any]) -> None:
        topic = channel[len(MQTT_PREFIX) :]
        info = self.client.publish(topic, json.dumps(payload, ensure_ascii=False), qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise DeliveryError(f"MQTT publish on {topic} refused: {paho.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout=MQTT_ACK_TIMEOUT_S)
        except RuntimeError as exc:  # paho raises this when the connection is gone
            raise DeliveryError(f"MQTT publish on {topic} failed: {exc}") from exc
        if not info.is_published():
            raise DeliveryError(
                f"the broker did not acknowledge {topic} within {MQTT_ACK_TIMEOUT_S} s"
            )


@dataclass
class Senders:
    """The registry: picks the sender for a channel by its scheme."""

    apprise_sender: Sender
    mqtt_sender: Sender | None = None

    def send(self, channel: str, title: str, body: str, payload: dict[str, Any]) -> None:
        if channel.startswith(MQTT_PREFIX):
            if self.mqtt_sender is None:
                raise DeliveryError("this process has no MQTT connection to publish with")
            self.mqtt_sender.send(channel, title, body, payload)
        else:
            self.apprise_sender.send(channel, title, body, payload)
