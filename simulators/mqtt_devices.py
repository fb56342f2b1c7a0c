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
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from gridwatch.broker import SECRET_ENV
from gridwatch.frames import encode_frame
from gridwatch.mqtt import connect, make_client
from gridwatch.settings import Settings
from gridwatch.topics import MessageKind, device_topic
from simulators.credentials import device_login

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimDevice:
    id: str
    grid_id: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)


class DeviceConnection:
    """One device's MQTT session: its own login, last will 'offline', status 'online',
    commands answered on cmd/ack; it can drop offline (the broker sends the will) and return.
    """

    def __init__(
        self,
        settings: Settings,
        device: SimDevice,
        on_command: Callable[[SimDevice, dict[str, Any]], None] | None = None,
    ) -> None:
        self.device = device
        self.site = settings.site_id
        self.commands: list[dict[str, Any]] = []
        self._settings = settings
        self._on_command_hook = on_command
        self._seq = 0
        self.online = False
        self.client = self._connect()

    def _connect(self) -> paho.Client:
        connected = threading.Event()
        refused: list[str] = []
        client = make_client(self._settings, client_id=f"sim-{self.site}-{self.device.id}")
        username, password = device_login(self._settings, self.device.id)
        client.username_pw_set(username, password)
        client.will_set(
            self.topic(MessageKind.STATUS),
            json.dumps({"online": False, "reason": "connection lost"}),
            qos=1,
        )

        def on_connect(
            client: paho.Client, userdata: object, flags: object, reason: Any, *_: object
        ) -> None:
            if reason.is_failure:
                refused.append(str(reason))
                client.disconnect()  # a wrong login stays wrong: no retrying
            else:
                client.subscribe(self.topic(MessageKind.CMD), qos=1)
                client.publish(self.topic(MessageKind.STATUS), json.dumps({"online": True}), qos=1)
            connected.set()

        client.on_connect = on_connect
        client.on_message = self._on_command
        connect(client, self._settings)
        client.loop_start()
        if not connected.wait(10) or refused:
            client.loop_stop()
            raise RuntimeError(
                f"simulated {self.device.id} could not connect to the broker at "
                f"{self._settings.mqtt_host}:{self._settings.mqtt_port} as user {username!r}: "
                + (refused[0] if refused else "no answer in 10 s")
                + ("" if password else f" (no password: is {SECRET_ENV} set?)")
            )
        self.online = True
        return client

    def topic(self, kind: MessageKind) -> str:
        return device_topic(self.site, self.device.grid_id, self.device.id, kind)

    def _on_command(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        command = answer_command(client, self.topic(MessageKind.CMD_ACK), msg.payload)
        if command is not None:
            self.commands.append(command)
            if self._on_command_hook is not None:
                self._on_command_hook(self.device, command)

    def publish_frame(self, jpeg: bytes, ts: float, seq: int) -> paho.MQTTMessageInfo:
        return self.client.publish(
            self.topic(MessageKind.FRAME), encode_frame(jpeg, ts, seq), qos=1
        )

    def publish_telemetry(self, ts: float, values: dict[str, float]) -> paho.MQTTMessageInfo:
        self._seq += 1
        payload = {"ts": round(ts, 3), "seq": self._seq, "values": values}
        return self.client.publish(self.topic(MessageKind.TELEMETRY), json.dumps(payload), qos=1)

    def drop_offline(self) -> None:
        """Lose the connection the way a device does: the broker publishes the last will."""
        if not self.online:
            return
        self.online = False
        if self._settings.mqtt_protocol == "5":
            # MQTT 5's "disconnect with will message" (0x04): the broker sends the will.
            self.client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=4))
        else:
            # MQTT 3.1.1 has no such code: stop the loop (it would reconnect), then vanish
            # without a DISCONNECT.
            self.client.loop_stop()
            sock = self.client.socket()
            if sock is not None:
                sock.close()
        self.client.loop_stop()

    def come_back(self) -> None:
        """Reconnect after drop_offline, announcing itself online again."""
        if not self.online:
            self.client = self._connect()

    def close(self, *, graceful: bool = True) -> None:
        if not self.online:
            return
        if graceful:
            self.client.publish(
                self.topic(MessageKind.STATUS),
                json.dumps({"online": False, "reason": "shut down"}),
                qos=1,
            ).wait_for_publish(2)
        self.online = False
        self.client.disconnect()
        self.client.loop_stop()


class SensorGateway:
    """One connection publishing telemetry for many sensors (a site gateway).

    Only for a broker without per-device access rules: under the site's ACL each device may
    publish only on its own topics, so the simulators give every device a DeviceConnection.

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
