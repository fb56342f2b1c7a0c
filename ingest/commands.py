"""Commands to devices (alarm on/off, door hold, power cut): published and recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import paho.mqtt.client as paho
import psycopg

from gridwatch.topics import MessageKind, device_topic
from ingest.devices import DeviceInfo

# Which command an alert sends on raise and on clear, by alert type. A fire-lane camera
# drives the on-site sound-and-light alarm wired to it, so the command goes to the camera
# and names the alarm it should switch. A socket's power is cut when it overheats or
# overloads and is never switched back on by itself: that waits for someone to inspect it.
ALERT_COMMANDS: dict[str, tuple[str, str | None]] = {
    "fire_lane_occupied": ("alarm_on", "alarm_off"),
    "socket_overheat": ("power_off", None),
    "socket_overcurrent": ("power_off", None),
    "shed_fire": ("power_off", None),
    # The elevator holds its doors open and plays a warning until the e-bike is out.
    "ebike_in_elevator": ("hold_doors_and_warn", "release_doors"),
}

EBIKE_WARNING = "电动车禁止进入电梯，请立即推出轿厢。E-bikes are not allowed in the lift."


def command_targets(
    device: DeviceInfo,
    alert_type: str,
    details: Mapping[str, Any],
    lookup: Callable[[str], DeviceInfo | None],
) -> list[tuple[DeviceInfo, dict[str, Any]]]:
    """Which devices an alert's command goes to, with its parameters.

    A fire-lane camera switches the alarm wired to it; a socket cuts its own power; a shed
    fire cuts the socket the flame is at, or every socket of the shed when that is unknown.
    """
    if alert_type == "ebike_in_elevator":
        controller = lookup(device.config.get("elevator_controller", ""))
        params = {"camera": device.id, "message": EBIKE_WARNING}
        return [(controller, params)] if controller is not None else []
    if alert_type == "shed_fire":
        sockets = list(device.config.get("sockets", []))
        index = details.get("socket")
        if isinstance(index, int) and 0 <= index < len(sockets):
            sockets = [sockets[index]]
        params = {"reason": "shed_fire", "camera": device.id}
        return [(socket, params) for s in sockets if (socket := lookup(s)) is not None]
    if alarm := device.config.get("alarm_device"):
        return [(device, {"alarm_device": alarm})]
    return [(device, {})]


def command_for(alert_type: str, cleared: bool) -> str | None:
    pair = ALERT_COMMANDS.get(alert_type)
    if pair is None:
        return None
    return pair[1] if cleared else pair[0]


def send_command(
    conn: psycopg.Connection,
    mqtt: paho.Client,
    device: DeviceInfo,
    command: str,
    params: dict[str, Any],
    alert_id: int | None,
) -> int:
    """Record the command, then publish it at QoS 1 on the device's cmd topic; return its id."""
    topic = device_topic(device.site_id, device.grid_id, device.id, MessageKind.CMD)
    row = conn.execute(
        "INSERT INTO device_commands (device_id, alert_id, command, params, topic)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (device.id, alert_id, command, json.dumps(params), topic),
    ).fetchone()
    conn.commit()
    assert row is not None
    payload = {"id": row["id"], "command": command, "params": params, "ts": time.time()}
    mqtt.publish(topic, json.dumps(payload), qos=1)
    return int(row["id"])


def record_ack(
    conn: psycopg.Connection, device_id: str, command_id: int, ack: dict[str, Any]
) -> bool:
    """Mark a command answered; False when no such command was sent to that device."""
    row = conn.execute(
        "UPDATE device_commands SET acked_at = now(), ack = %s"
        " WHERE id = %s AND device_id = %s RETURNING id",
        (json.dumps(ack), command_id, device_id),
    ).fetchone()
    conn.commit()
    return row is not None
