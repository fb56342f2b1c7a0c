"""Simulated devices on the wire: cameras publishing frames, a gateway publishing sensors.

Each camera has its own MQTT connection with a last will, so the system sees it go offline
when it dies, and it answers the commands it receives on cmd/ack.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
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
        try:
            command = json.loads(msg.payload)
        except json.JSONDecodeError:
            log.warning("%s received a command that is not JSON", self.device.id)
            return
        self.commands.append(command)
        ack = {"id": command.get("id"), "ok": True, "detail": f"{command.get('command')} done"}
        client.publish(self.topic(MessageKind.CMD_ACK), json.dumps(ack), qos=1)

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
    """One connection publishing telemetry for many sensors (a site gateway)."""

    def __init__(self, settings: Settings, devices: Iterable[SimDevice]) -> None:
        self.site = settings.site_id
        self.devices = list(devices)
        self.client = make_client(settings, client_id=f"sim-gateway-{settings.site_id}")
        connect(self.client, settings)
        self.client.loop_start()
        self._seq: dict[str, int] = {}
        for device in self.devices:
            self.client.publish(
                device_topic(self.site, device.grid_id, device.id, "status"),
                json.dumps({"online": True}),
                qos=1,
            )

    def publish(self, device: SimDevice, ts: float, values: dict[str, float]) -> None:
        seq = self._seq[device.id] = self._seq.get(device.id, 0) + 1
        payload = {"ts": round(ts, 3), "seq": seq, "values": values}
        self.client.publish(
            device_topic(self.site, device.grid_id, device.id, "telemetry"),
            json.dumps(payload),
            qos=1,
        )

    def close(self) -> None:
        for device in self.devices:
            self.client.publish(
                device_topic(self.site, device.grid_id, device.id, "status"),
                json.dumps({"online": False, "reason": "simulation stopped"}),
                qos=1,
            )
        time.sleep(0.2)
        self.client.disconnect()
        self.client.loop_stop()
