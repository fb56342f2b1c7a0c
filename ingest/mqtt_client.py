"""paho's client with the per-message costs of a busy subscriber taken out of its network loop.

Out of the box, paho (2.2) reads one packet per pass of its loop: a select() call, then a
recv() for the command byte, one per byte of the length, one for the body. Sending an
acknowledgement costs a send() of its own plus a byte to wake the loop. At thousands of
messages a second those system calls, not decoding, are what a subscriber spends its time on.

IngestClient changes three things and nothing about the protocol:
- the socket is read through a buffer (64 KB a recv), and the buffered byte count is shown
  to paho's loop as pending, the way paho already treats a TLS socket's buffer;
- one pass of the loop reads every whole packet that is already buffered;
- `ack_many` sends the PUBACKs of a committed batch as one write.

It relies on paho's internals (`_create_socket`, `_packet_read`, `_packet_queue`), which is
why paho-mqtt is pinned to an exact version; tests/test_ingest_client.py guards them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as paho

RECV_BYTES = 65_536
# Packets read in one pass before the loop looks at writes and keepalive again.
PACKETS_PER_PASS = 1_000
_PUBACK = struct.Struct("!BBH")


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

    def pending(self) -> int:
        """Bytes received and not yet read (paho's loop skips select() while there are any)."""
        inner = self._sock.pending() if self._has_pending else 0  # TLS: decrypted, unread
        return len(self._buffer) - self._at + inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)  # send, fileno, close, setblocking, …


class IngestClient(paho.Client):
    def _create_socket(self) -> Any:
        return BufferedSocket(super()._create_socket())

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
