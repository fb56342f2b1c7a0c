"""paho's client with the per-message costs of a busy subscriber taken out of its network loop.

Out of the box, paho (2.2) reads one packet per pass of its loop: a select() call, then a
recv() for the command byte, one per byte of the length, one for the body. Sending an
acknowledgement costs a send() of its own plus a byte to wake the loop. At thousands of
messages a second those system calls, not decoding, are what a subscriber spends its time on.

IngestClient changes four things and nothing about the protocol:
- the socket is read through a buffer (64 KB a recv), and the buffered byte count is shown
  to paho's loop as pending, the way paho already treats a TLS socket's buffer;
- one pass of the loop reads every whole packet that is already buffered, cut out of the
  buffer in one step instead of paho's recv() of the command byte, each length byte and the
  body;
- a QoS 0 or 1 PUBLISH is decoded here into a `ReceivedMessage` (topic, payload, qos, mid,
  dup, retain) and handed to on_message: paho's decoder builds a Properties object and an
  MQTTMessage for each one, which at tens of thousands of messages a second cost more than
  storing them. Ingest reads no PUBLISH property, so they are skipped (a broker only sends
  topic aliases to a client that asked for them, and this one does not). QoS 2 goes to paho;
- `ack_many` sends the PUBACKs of a committed batch as one write.

Per-topic callbacks (`message_callback_add`) are not supported: every message goes to
on_message. It relies on paho's internals (`_create_socket`, `_packet_read`,
`_handle_publish`, `_in_packet`, `_packet_queue`), which is why paho-mqtt is pinned to an
exact version; tests/test_ingest_client.py guards them.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import paho.mqtt.client as paho

log = logging.getLogger(__name__)

RECV_BYTES = 65_536
# Packets read in one pass before the loop looks at writes and keepalive again.
PACKETS_PER_PASS = 1_000
_PUBACK = struct.Struct("!BBH")
_U16 = struct.Struct("!H")


class ReceivedMessage(NamedTuple):
    """A PUBLISH as ingest sees it: the attributes of paho's MQTTMessage that it reads."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    dup: bool
    retain: bool


def decode_publish(command: int, body: bytes, mqtt5: bool) -> ReceivedMessage:
    """A PUBLISH packet's fields; properties skipped. Raises ValueError when malformed."""
    qos = (command & 0x06) >> 1
    try:
        (topic_length,) = _U16.unpack_from(body, 0)
        at = 2 + topic_length
        topic = body[2:at].decode("utf-8")
        mid = 0
        if qos:
            (mid,) = _U16.unpack_from(body, at)
            at += 2
        if mqtt5:
            properties_length, at = _variable_int(body, at)
            at += properties_length
    except (struct.error, UnicodeDecodeError) as err:
        raise ValueError(f"malformed PUBLISH: {err}") from None
    if at > len(body) or (not mqtt5 and not topic):
        raise ValueError("malformed PUBLISH: fields run past the packet, or no topic")
    return ReceivedMessage(topic, body[at:], qos, mid, bool(command & 0x08), bool(command & 1))


def _variable_int(data: bytes, at: int) -> tuple[int, int]:
    """MQTT's variable byte integer at `at`: (value, position after it)."""
    value, shift = 0, 0
    for i in range(at, min(at + 4, len(data))):
        byte = data[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    raise ValueError("malformed variable byte integer")


class BufferedSocket:
    """A socket whose reads come from a userspace buffer, refilled 64 KB at a time."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._has_pending = hasattr(sock, "pending")
        self._buffer = b""
        self._at = 0

    def recv(self, bufsize: int) -> bytes:
        if self._at >= len(self._buffer):
            data = self._sock.recv(max(bufsize, RECV_BYTES))  # BlockingIOError passes through
            if len(data) <= bufsize:
                return data
            self._buffer, self._at = data, 0
        start = self._at
        self._at = min(start + bufsize, len(self._buffer))
        return self._buffer[start : self._at]

    def next_packet(self) -> tuple[int, bytes] | None:
        """(command byte, body) of the next packet if the buffer holds all of it, else None."""
        buffer, at = self._buffer, self._at
        try:
            length, i = _variable_int(buffer, at + 1)
        except ValueError:
            return None  # not all here yet (or a malformed length: paho's reader says so)
        if len(buffer) - i < length:
            return None
        self._at = i + length
        return buffer[at], buffer[i : self._at]

    def pending(self) -> int:
        """Bytes received and not yet read (paho's loop skips select() while there are any)."""
        inner = self._sock.pending() if self._has_pending else 0  # TLS: decrypted, unread
        return len(self._buffer) - self._at + inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)  # send, fileno, close, setblocking, …


class IngestClient(paho.Client):
    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

    def message_callback_add(self, sub: str, callback: Callable[..., None]) -> None:
        raise NotImplementedError("IngestClient hands every message to on_message")

    def _packet_read(self) -> paho.MQTTErrorCode:
        sock = self._sock
        if self._in_packet["command"] or not isinstance(sock, BufferedSocket):
            return super()._packet_read()  # a packet half read by paho: paho finishes it
        packet = sock.next_packet()
        if packet is None:
            return super()._packet_read()  # paho reads it, refilling the buffer
        command, body = packet
        with self._msgtime_mutex:
            self._last_bytes_received = paho.time_func()
        if command & 0xF0 == paho.PUBLISH and command & 0x06 != 0x04:
            return self._deliver(command, body)
        self._in_packet["command"] = command
        self._in_packet["packet"] = body
        self._in_packet["have_remaining"] = 1
        self._in_packet["remaining_length"] = len(body)
        return super()._packet_read()  # nothing left to read: paho handles it and resets

    def _deliver(self, command: int, body: bytes) -> paho.MQTTErrorCode:
        """A QoS 0 or 1 PUBLISH, straight to on_message."""
        try:
            message = decode_publish(command, body, self._protocol == paho.MQTTv5)
        except ValueError as err:
            log.error("broker sent %s; disconnecting", err)
            return paho.MQTTErrorCode.MQTT_ERR_PROTOCOL
        on_message = self.on_message
        if on_message is not None:
            with self._in_callback_mutex:
                try:
                    on_message(self, self._userdata, message)
                except Exception:
                    log.exception("on_message failed for a message on %s", message.topic)
                    if not self.suppress_exceptions:
                        raise
        if message.qos == 1 and not self._manual_ack:
            return self._send_puback(message.mid)
        return paho.MQTTErrorCode.MQTT_ERR_SUCCESS

    def loop_read(self, max_packets: int = 1) -> paho.MQTTErrorCode:
        rc = paho.MQTTErrorCode.MQTT_ERR_SUCCESS
        for _ in range(PACKETS_PER_PASS):
            sock = self._sock
            if sock is None:
                return paho.MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = super().loop_read(max_packets)
            if rc != paho.MQTTErrorCode.MQTT_ERR_SUCCESS or not _pending(self._sock):
                break
        return rc

    def ack_many(self, mids: Iterable[int]) -> int:
        """PUBACK each QoS 1 message id, all in one write; returns how many were sent."""
        packet = b"".join(_PUBACK.pack(paho.PUBACK, 2, mid) for mid in mids)
        if packet:
            self._packet_queue(paho.PUBACK, packet, 0, 0)
        return len(packet) // _PUBACK.size


def _pending(sock: Any) -> int:
    return sock.pending() if isinstance(sock, BufferedSocket) else 0
