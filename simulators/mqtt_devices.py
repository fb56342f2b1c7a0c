"""Simulated devices on the wire: cameras publishing frames, a gateway publishing sensors.

Each camera has its own MQTT connection with a last will, so the system sees it go offline
when it dies, and it answers the commands it receives on cmd/ack.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from gridwatch.frames import encode_frame
from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from gridwatch.topics import MessageKind, device_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimDevice:
    id: str
    grid_id: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)


class DeviceConnection:
    """One device's MQTT session: last will 'offline', status 'online', answers commands."""

    def __init__(self, settings: Settings, device: SimDevice) -> None:
        self.device = device
        self.site = settings.site_id
        self.commands: list[dict[str, Any]] = []
        self._connected = threading.Event()
        self.client = make_client(settings, client_id=f"sim-{device.id}")
        self.client.will_set(
            self.topic(MessageKind.STATUS),
            json.dumps({"online": False, "reason": "connection lost"}),
            qos=1,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_command
        connect(self.client, settings)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise RuntimeError(f"simulated {device.id} could not connect to the broker")

    def topic(self, kind: MessageKind) -> str:
        return device_topic(self.site, self.device.grid_id, self.device.id, kind)

    def _on_connect(self, client: paho.Client, *_: object) -> None:
        client.subscribe(self.topic(MessageKind.CMD), qos=1)
        client.publish(self.topic(MessageKind.STATUS), json.dumps({"online": True}), qos=1)
        self._connected.set()

    def _on_command(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        command = answer_command(client, self.topic(MessageKind.CMD_ACK), msg.payload)
        if command is not None:
            self.commands.append(command)

    def publish_frame(self, jpeg: bytes, ts: float, seq: int) -> paho.MQTTMessageInfo:
        return self.client.publish(
            self.topic(MessageKind.FRAME), encode_frame(jpeg, ts, seq), qos=1
        )

    def close(self, *, graceful: bool = True) -> None:
        if graceful:
            self.client.publish(
                self.topic(MessageKind.STATUS),
                json.dumps({"online": False, "reason": "shut down"}),
                qos=1,
            ).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()


class SensorGateway:
    """One connection publishing telemetry for many sensors (a site gateway).

    It also receives its sensors' commands, acknowledges them and hands them to `on_command`
    (a socket's power cut, say), so the simulated device can obey.
    """

    def __init__(
        self,
        settings: Settings,
        devices: Iterable[SimDevice],
        on_command: Callable[[SimDevice, dict[str, Any]], None] = lambda device, command: None,
    ) -> None:
        self.site = settings.site_id
        self.devices = {device.id: device for device in devices}
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self._on_command = on_command
        self._subscribed = threading.Event()
        self.client = make_client(settings, client_id=f"sim-gateway-{settings.site_id}")
        self.client.on_message = self._command
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        connect(self.client, settings)
        self.client.subscribe(f"gw/v1/{self.site}/+/+/{MessageKind.CMD.value}", qos=1)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the simulated sensor gateway could not subscribe to commands")
        self._seq: dict[str, int] = {}
        for device in self.devices.values():
            self.client.publish(
                self._topic(device, MessageKind.STATUS), json.dumps({"online": True}), qos=1
            )

    def _topic(self, device: SimDevice, kind: MessageKind) -> str:
        return device_topic(self.site, device.grid_id, device.id, kind)

    def _command(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        device = self.devices.get(msg.topic.split("/")[4])
        if device is None:
            return  # another device's command: not ours to answer
        command = answer_command(client, self._topic(device, MessageKind.CMD_ACK), msg.payload)
        if command is not None:
            self.commands.append((device.id, command))
            self._on_command(device, command)

    def publish(self, device: SimDevice, ts: float, values: dict[str, float]) -> None:
        seq = self._seq[device.id] = self._seq.get(device.id, 0) + 1
        payload = {"ts": round(ts, 3), "seq": seq, "values": values}
        self.client.publish(self._topic(device, MessageKind.TELEMETRY), json.dumps(payload), qos=1)

    def close(self) -> None:
        for device in self.devices.values():
            self.client.publish(
                self._topic(device, MessageKind.STATUS),
                json.dumps({"online": False, "reason": "simulation stopped"}),
                qos=1,
            )
        time.sleep(0.2)
        self.client.disconnect()
        self.client.loop_stop()


def answer_command(client: paho.Client, ack_topic: str, payload: bytes) -> dict[str, Any] | None:
    """Acknowledge a command as a device does; None for a payload that is not a command."""
    try:
        command = json.loads(payload)
    except json.JSONDecodeError:
        log.warning("ignoring a command that is not JSON on %s", ack_topic)
        return None
    ack = {"id": command.get("id"), "ok": True, "detail": f"{command.get('command')} done"}
    client.publish(ack_topic, json.dumps(ack), qos=1)
    return dict(command)
