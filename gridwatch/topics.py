"""The MQTT topic scheme (version 1), in one place: building topics and taking them apart.

Device topics:  gw/v1/{site}/{grid}/{device}/{kind}
Alert topics:   gw/v1/{site}/alerts/{grid}/{alert_type}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "gw/v1"
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class MessageKind(StrEnum):
    TELEMETRY = "telemetry"
    FRAME = "frame"
    STATUS = "status"
    EVENT = "event"
    CMD = "cmd"
    CMD_ACK = "cmd/ack"


class TopicError(ValueError):
    """A topic that does not follow the gw/v1 scheme."""


@dataclass(frozen=True)
class DeviceTopic:
    site: str
    grid: str
    device: str
    kind: MessageKind

    def __str__(self) -> str:
        return device_topic(self.site, self.grid, self.device, self.kind)


def check_segment(name: str, value: str) -> None:
    """Raise TopicError when `value` cannot be one segment of a topic (`name` says which)."""
    if not _SEGMENT.match(value):
        raise TopicError(
            f"{name} {value!r} is not a valid topic segment "
            "(letters, digits, '_', '.', '-'; at most 64 characters)"
        )


def device_topic(site: str, grid: str, device: str, kind: MessageKind | str) -> str:
    for name, value in (("site", site), ("grid", grid), ("device", device)):
        check_segment(name, value)
    return f"{PREFIX}/{site}/{grid}/{device}/{MessageKind(kind).value}"


def alert_topic(site: str, grid: str, alert_type: str) -> str:
    return f"{PREFIX}/{site}/alerts/{grid}/{alert_type}"


def ingest_subscriptions(site: str = "+") -> list[str]:
    """Topic filters ingest subscribes to: the whole site, so a wrong topic is reported too."""
    return [f"{PREFIX}/{site}/#"]


def is_published_by_gridwatch(topic: str) -> bool:
    """Alert and command topics: GridWatch's own output, which ingest passes over."""
    parts = topic.split("/")
    return (len(parts) > 3 and parts[3] == "alerts") or (len(parts) == 6 and parts[5] == "cmd")


def parse_device_topic(topic: str) -> DeviceTopic:
    """Take a device topic apart, or raise TopicError saying what is wrong with it."""
    parts = topic.split("/")
    if parts[:2] != PREFIX.split("/"):
        raise TopicError(f"topic {topic!r} does not start with {PREFIX}/")
    rest = parts[2:]
    if len(rest) == 5 and rest[3:] == ["cmd", "ack"]:
        rest = [*rest[:3], "cmd/ack"]
    if len(rest) != 4:
        raise TopicError(
            f"topic {topic!r} should be {PREFIX}/{{site}}/{{grid}}/{{device}}/{{kind}}"
        )
    site, grid, device, kind = rest
    if site and grid == "alerts":
        raise TopicError(f"topic {topic!r} is an alert topic, not a device topic")
    try:
        message_kind = MessageKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in MessageKind)
        raise TopicError(f"topic {topic!r} has unknown kind {kind!r}; known: {known}") from None
    for name, value in (("site", site), ("grid", grid), ("device", device)):
        check_segment(name, value)
    return DeviceTopic(site, grid, device, message_kind)
