"""Decoding device payloads. Pure: bytes in, typed values out, or Rejected with a reason.

Telemetry: plain JSON {"ts": …, "seq": …, "values": {"metric": number, …}} or SenML
(RFC 8428, a JSON array of records with base name/time/unit resolution).
Frames: a 20-byte header, then the JPEG — see gridwatch.frames and docs/PROTOCOL.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from gridwatch.frames import FRAME_HEADER, FRAME_MAGIC

JPEG_START = b"\xff\xd8"
# A device may backfill readings buffered during an outage (up to 30 days old), but a
# timestamp further off than that, or more than a day ahead, means a clock needing repair.
MAX_AGE_S = 30 * 86_400.0
MAX_AHEAD_S = 86_400.0


class Rejected(ValueError):
    """A message ingest cannot accept; code is for counting, str(self) for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Reading:
    ts: float
    metric: str
    value: float | None
    seq: int = 0
    unit: str | None = None


@dataclass(frozen=True)
class Frame:
    ts: float
    seq: int
    jpeg: bytes


@dataclass(frozen=True)
class DeviceEvent:
    """A detection made on the device itself (edge-AI camera)."""

    ts: float
    type: str
    confidence: float = 1.0
    cleared: bool = False
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Status:
    online: bool
    detail: str | None = None


@dataclass(frozen=True)
class CommandAck:
    command_id: int
    ok: bool
    detail: str | None = None


def _json(payload: bytes, what: str) -> Any:
    try:
        return json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise Rejected("not_utf8", f"{what} is not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise Rejected(
            "malformed_json",
            f"{what} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}",
        ) from None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("bad_value", f"{what} should be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise Rejected("bad_value", f"{what} should be a finite number, got {value}")
    return float(value)


def _timestamp(value: Any, what: str, now: float) -> float:
    ts = _number(value, what)
    if ts > 1e11:  # milliseconds are a common device habit; accept them
        ts /= 1000.0
    if ts > now + MAX_AHEAD_S or ts < now - MAX_AGE_S:
        raise Rejected(
            "bad_timestamp",
            f"{what} {value} is more than a day ahead of or 30 days behind the receiver's "
            "clock; timestamps are seconds (or milliseconds) since the Unix epoch",
        )
    return ts


def decode_telemetry(payload: bytes, now: float) -> list[Reading]:
    """Plain JSON or SenML telemetry → readings; `now` stands in for a missing timestamp."""
    doc = _json(payload, "telemetry")
    if isinstance(doc, list):
        return _decode_senml(doc, now)
    if not isinstance(doc, dict):
        raise Rejected(
            "bad_shape",
            f"telemetry should be a JSON object or a SenML array, got {type(doc).__name__}",
        )
    values = doc.get("values")
    if not isinstance(values, dict) or not values:
        raise Rejected(
            "bad_shape", 'telemetry object needs "values": {"metric": number, ...} (non-empty)'
        )
    ts = _timestamp(doc["ts"], "ts", now) if "ts" in doc else now
    seq = doc.get("seq", 0)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise Rejected("bad_value", f"seq should be a non-negative integer, got {seq!r}")
    readings = []
    for metric, value in values.items():
        if not isinstance(metric, str) or not metric or len(metric) > 64:
            raise Rejected("bad_value", f"metric name {metric!r} should be 1-64 characters")
        number = None if value is None else _number(value, f"value of {metric!r}")
        readings.append(Reading(ts=ts, metric=metric, value=number, seq=seq))
    return readings


def _decode_senml(records: list[Any], now: float) -> list[Reading]:
    if not records:
        raise Rejected("bad_shape", "SenML pack is an empty array")
    base_name, base_time, base_unit, base_value = "", 0.0, None, 0.0
    readings = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise Rejected("bad_shape", f"SenML record {index} is not an object")
        base_name = record.get("bn", base_name)
        if "bt" in record:
            base_time = _number(record["bt"], f"SenML record {index} bt")
        base_unit = record.get("bu", base_unit)
        if "bv" in record:
            base_value = _number(record["bv"], f"SenML record {index} bv")
        if not any(key in record for key in ("v", "vb", "n")):
            continue  # a record that only sets base fields
        name = base_name + str(record.get("n", ""))
        if not name:
            raise Rejected("bad_shape", f"SenML record {index} has no name (n or bn)")
        if "v" in record:
            value: float | None = base_value + _number(record["v"], f"SenML record {index} v")
        elif "vb" in record:
            value = 1.0 if record["vb"] else 0.0
        else:
            raise Rejected("bad_shape", f"SenML record {index} ({name}) has no numeric v or vb")
        # RFC 8428: times below 2**28 are relative to now.
        t = base_time + _number(record.get("t", 0), f"SenML record {index} t")
        t = now + t if abs(t) < 2**28 else t
        ts = _timestamp(t, f"SenML record {index} time", now)
        readings.append(
            Reading(ts=ts, metric=name.split(":")[-1], value=value, unit=record.get("u", base_unit))
        )
    if not readings:
        raise Rejected("bad_shape", "SenML pack holds no values")
    return readings


def decode_frame(payload: bytes, max_bytes: int, now: float) -> Frame:
    if len(payload) > max_bytes:
        raise Rejected(
            "oversized_frame",
            f"frame of {len(payload):,} bytes is larger than the {max_bytes:,}-byte limit "
            "(GRIDWATCH_MAX_FRAME_BYTES); lower the resolution or JPEG quality",
        )
    if len(payload) < FRAME_HEADER.size + 4:
        raise Rejected("bad_frame", f"frame of {len(payload)} bytes is too short for a header")
    magic, ts, seq = FRAME_HEADER.unpack_from(payload)
    if magic != FRAME_MAGIC:
        raise Rejected(
            "bad_frame",
            f"frame does not start with the {FRAME_MAGIC!r} header (starts with "
            f"0x{payload[:4].hex().upper()})",
        )
    jpeg = payload[FRAME_HEADER.size :]
    if not jpeg.startswith(JPEG_START):
        raise Rejected(
            "not_jpeg", f"frame body is not a JPEG (starts with 0x{jpeg[:4].hex().upper()})"
        )
    return Frame(ts=_timestamp(ts, "frame time", now), seq=seq, jpeg=jpeg)


def decode_status(payload: bytes) -> Status:
    text = payload.strip().lower()
    if text in (b"online", b"offline"):
        return Status(online=text == b"online")
    doc = _json(payload, "status")
    if not isinstance(doc, dict) or not isinstance(doc.get("online"), bool):
        raise Rejected(
            "bad_shape", 'status should be "online", "offline" or {"online": true|false}'
        )
    detail = doc.get("reason")
    return Status(online=doc["online"], detail=str(detail) if detail is not None else None)


def decode_event(payload: bytes, now: float) -> DeviceEvent:
    doc = _json(payload, "event")
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise Rejected("bad_shape", 'event should be an object with a "type" string')
    details = doc.get("details", {})
    if not isinstance(details, dict):
        raise Rejected("bad_shape", '"details" of an event should be an object')
    return DeviceEvent(
        ts=_timestamp(doc["ts"], "ts", now) if "ts" in doc else now,
        type=doc["type"],
        confidence=_number(doc.get("confidence", 1.0), "confidence"),
        cleared=bool(doc.get("cleared", False)),
        details=details,
    )


def decode_command_ack(payload: bytes) -> CommandAck:
    doc = _json(payload, "command acknowledgement")
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), int):
        raise Rejected(
            "bad_shape", 'command acknowledgement should be {"id": <command id>, "ok": true|false}'
        )
    return CommandAck(command_id=doc["id"], ok=bool(doc.get("ok", True)), detail=doc.get("detail"))
