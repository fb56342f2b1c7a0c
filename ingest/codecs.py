"""Decoding device payloads. Pure: bytes in, typed values out, or Rejected with a reason.

Telemetry: plain JSON {"ts": …, "seq": …, "values": {"metric": number, …}} or SenML
(RFC 8428, a JSON array of records with base name/time/unit resolution).
Frames: a 20-byte header, then the JPEG — see gridwatch.frames and docs/PROTOCOL.md.

Whatever the bytes, a decoder returns values the database accepts or raises Rejected;
nothing else escapes. Texts are checked here (no NUL, no lone surrogates, bounded length)
because PostgreSQL refuses them later, and a refused row would take its batch with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from gridwatch.domain import AlertType
from gridwatch.frames import FRAME_HEADER, FRAME_MAGIC

JPEG_START = b"\xff\xd8"
# A device may backfill readings buffered during an outage (up to 30 days old), but a
# timestamp further off than that, or more than a day ahead, means a clock needing repair.
MAX_AGE_S = 30 * 86_400.0
MAX_AHEAD_S = 86_400.0
MAX_NAME_CHARS = 64  # metric names
MAX_UNIT_CHARS = 32
MAX_TEXT_CHARS = 500  # status reasons, acknowledgement details
MAX_BIGINT = 2**63 - 1  # sequence numbers and command ids are PostgreSQL bigint
EVENT_TYPES = frozenset(t.value for t in AlertType)
_CONTROL = frozenset(chr(c) for c in [*range(32), 127])


class Rejected(ValueError):
    """A message ingest cannot accept; code is for counting, str(self) for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class Reading(NamedTuple):  # a tuple: one or more per telemetry message, made cheaply
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


def _show(value: Any) -> str:
    """A short, printable rendering of a received value for a reason text."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have and PostgreSQL refuses.
    raise Rejected("bad_value", f"{name} is not a JSON number; send null for a missing reading")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)  # one, not one per message


def _json(payload: bytes, what: str) -> Any:
    try:
        return orjson.loads(payload)  # the fast path, for the payloads that are fine
    except orjson.JSONDecodeError:
        pass  # the standard library reads the rest and says precisely what is wrong
    try:
        return _DECODER.decode(payload.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise Rejected("not_utf8", f"{what} is not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise Rejected(
            "malformed_json",
            f"{what} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}",
        ) from None
    except RecursionError:
        raise Rejected("malformed_json", f"{what} is nested too deeply to read") from None
    except Rejected:
        raise
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        raise Rejected("bad_value", f"{what} holds a value that cannot be read: {err}") from None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("bad_value", f"{what} should be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Rejected("bad_value", f"{what} should be a finite number, got {_show(value)}")
    return number


def _count(value: Any, what: str) -> int:
    """A non-negative integer that fits a PostgreSQL bigint (sequence numbers, ids)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BIGINT:
        raise Rejected(
            "bad_value", f"{what} should be an integer from 0 to 2^63-1, got {_show(value)}"
        )
    return value


def _text(value: Any, what: str, max_chars: int) -> str:
    """A string PostgreSQL will store: bounded, no NUL, no control characters, valid UTF-8."""
    if not isinstance(value, str):
        raise Rejected("bad_value", f"{what} should be a string, got {type(value).__name__}")
    if len(value) > max_chars:
        raise Rejected("bad_value", f"{what} is longer than {max_chars} characters")
    if not value.isprintable() and not _CONTROL.isdisjoint(value):
        raise Rejected("bad_value", f"{what} {_show(value)} holds control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected("bad_value", f"{what} {_show(value)} is not valid Unicode") from None
    return value


def _json_object(value: Any, what: str) -> dict[str, Any]:
    """An object PostgreSQL's jsonb accepts: no NaN/Infinity, no NUL, valid Unicode."""
    if not isinstance(value, dict):
        raise Rejected("bad_shape", f"{what} should be an object, got {type(value).__name__}")
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError):
        raise Rejected(
            "bad_value", f"{what} holds a value JSON cannot carry (infinite number or bad text)"
        ) from None
    if "\\u0000" in text:
        raise Rejected("bad_value", f"{what} holds a NUL character")
    return value


def _timestamp(value: Any, what: str, now: float) -> float:
    ts = _number(value, what)
    if ts > 1e11:  # milliseconds are a common device habit; accept them
        ts /= 1000.0
    if ts > now + MAX_AHEAD_S or ts < now - MAX_AGE_S:
        raise Rejected(
            "bad_timestamp",
            f"{what} {_show(value)} is more than a day ahead of or 30 days behind the "
            "receiver's clock; timestamps are seconds (or milliseconds) since the Unix epoch",
        )
    return ts


def decode_telemetry(payload: bytes, now: float) -> list[Reading]:
    """Plain JSON or SenML telemetry → readings; `now` (the receive time) bounds timestamps.

    A reading must carry its own time: the receive time would be wrong for a message the
    broker queued during an outage, and a redelivered copy would get a new time, so a new
    key, and be stored twice.
    """
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
    ts = _timestamp(doc["ts"], "ts", now) if "ts" in doc else None
    seq = _count(doc.get("seq", 0), "seq")
    numbers = {}
    for metric, value in values.items():
        if not metric:
            raise Rejected("bad_value", "metric name is empty")
        _text(metric, "metric name", MAX_NAME_CHARS)
        numbers[metric] = None if value is None else _number(value, f"value of {_show(metric)}")
    if ts is None:
        raise Rejected(
            "missing_timestamp",
            'telemetry needs "ts" (seconds since the Unix epoch, when the readings were '
            "taken); without it a redelivered copy could not be told from a new reading",
        )
    return [Reading(ts=ts, metric=m, value=v, seq=seq) for m, v in numbers.items()]


def _decode_senml(records: list[Any], now: float) -> list[Reading]:
    if not records:
        raise Rejected("bad_shape", "SenML pack is an empty array")
    base_name, base_time, base_unit, base_value = "", 0.0, None, 0.0
    readings = []
    for index, record in enumerate(records):
        what = f"SenML record {index}"
        if not isinstance(record, dict):
            raise Rejected("bad_shape", f"{what} is not an object")
        if "bn" in record:
            base_name = _text(record["bn"], f"{what} bn", 256)
        if "bt" in record:
            base_time = _number(record["bt"], f"{what} bt")
        if "bu" in record:
            base_unit = _text(record["bu"], f"{what} bu", MAX_UNIT_CHARS)
        if "bv" in record:
            base_value = _number(record["bv"], f"{what} bv")
        if not any(key in record for key in ("v", "vb", "n")):
            continue  # a record that only sets base fields
        name = base_name + _text(record.get("n", ""), f"{what} n", 256)
        if not name:
            raise Rejected("bad_shape", f"{what} has no name (n or bn)")
        if "v" in record:
            value: float | None = _number(base_value + _number(record["v"], f"{what} v"), what)
        elif "vb" in record:
            if not isinstance(record["vb"], bool):
                raise Rejected("bad_value", f"{what} vb should be true or false")
            value = 1.0 if record["vb"] else 0.0
        else:
            raise Rejected("bad_shape", f"{what} ({_show(name)}) has no numeric v or vb")
        t = _number(base_time + _number(record.get("t", 0), f"{what} t"), f"{what} time")
        if abs(t) < 2**28:
            # RFC 8428 reads these as relative to "now"; here that would be the receive time,
            # wrong after queueing and different for a redelivered copy (stored twice).
            raise Rejected(
                "missing_timestamp",
                f"{what} ({_show(name)}) has no absolute time; give the pack a base time "
                '"bt" (seconds since the Unix epoch)',
            )
        ts = _timestamp(t, f"{what} time", now)
        metric = name.split(":")[-1]
        if not metric:
            raise Rejected("bad_value", f"{what} name {_show(name)} ends in ':' (no metric)")
        _text(metric, f"{what} metric name", MAX_NAME_CHARS)
        unit = _text(record["u"], f"{what} u", MAX_UNIT_CHARS) if "u" in record else base_unit
        readings.append(Reading(ts=ts, metric=metric, value=value, unit=unit))
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
    return Frame(ts=_timestamp(ts, "frame time", now), seq=_count(seq, "frame sequence"), jpeg=jpeg)


def decode_status(payload: bytes) -> Status:
    text = payload.strip().lower()
    if text in (b"online", b"offline"):
        return Status(online=text == b"online")
    doc = _json(payload, "status")
    if not isinstance(doc, dict) or not isinstance(doc.get("online"), bool):
        raise Rejected(
            "bad_shape", 'status should be "online", "offline" or {"online": true|false}'
        )
    reason = doc.get("reason")
    detail = None if reason is None else _text(reason, "status reason", MAX_TEXT_CHARS)
    return Status(online=doc["online"], detail=detail)


def decode_event(payload: bytes, now: float) -> DeviceEvent:
    doc = _json(payload, "event")
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise Rejected("bad_shape", 'event should be an object with a "type" string')
    if doc["type"] not in EVENT_TYPES:
        raise Rejected(
            "unknown_event_type",
            f"event type {_show(doc['type'])} is not one GridWatch knows; known: "
            + ", ".join(sorted(EVENT_TYPES)),
        )
    confidence = _number(doc.get("confidence", 1.0), "confidence")
    if not 0.0 <= confidence <= 1.0:
        raise Rejected("bad_value", f"confidence should be from 0 to 1, got {_show(confidence)}")
    cleared = doc.get("cleared", False)
    if not isinstance(cleared, bool):
        raise Rejected("bad_value", f'"cleared" should be true or false, got {_show(cleared)}')
    return DeviceEvent(
        ts=_timestamp(doc["ts"], "ts", now) if "ts" in doc else now,
        type=doc["type"],
        confidence=confidence,
        cleared=cleared,
        details=_json_object(doc.get("details", {}), 'event "details"'),
    )


def decode_command_ack(payload: bytes) -> CommandAck:
    doc = _json(payload, "command acknowledgement")
    if not isinstance(doc, dict) or "id" not in doc:
        raise Rejected(
            "bad_shape", 'command acknowledgement should be {"id": <command id>, "ok": true|false}'
        )
    ok = doc.get("ok", True)
    if not isinstance(ok, bool):
        raise Rejected("bad_value", f'"ok" should be true or false, got {_show(ok)}')
    detail = doc.get("detail")
    return CommandAck(
        command_id=_count(doc["id"], "command id"),
        ok=ok,
        detail=None if detail is None else _text(detail, "detail", MAX_TEXT_CHARS),
    )
