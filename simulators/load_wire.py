"""The few MQTT 3.1.1 packets a load generator needs, built as bytes: CONNECT, PUBLISH at
QoS 1, and reading CONNACK and PUBACK. Pure except `open_session` (a blocking connect).

A general client spends most of its time per message in Python; here a device's PUBLISH
packet is its pre-encoded topic and payload template with only the packet id, sequence
number and timestamp filled in, so one process offers tens of thousands of messages a second.
"""

from __future__ import annotations

import socket
import struct

CONNECT, CONNACK, PUBLISH_QOS1, PUBACK, PINGRESP = 0x10, 0x20, 0x32, 0x40, 0xD0


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(value: str | bytes) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return struct.pack(">H", len(raw)) + raw


def connect_packet(client_id: str, username: str | None, password: str | None) -> bytes:
    """CONNECT, clean session, keep-alive off (a load run never idles)."""
    flags = 0x02 | (0x80 if username else 0) | (0x40 if password else 0)
    body = _string("MQTT") + bytes([4, flags]) + struct.pack(">H", 0) + _string(client_id)
    if username:
        body += _string(username)
    if password:
        body += _string(password)
    return bytes([CONNECT]) + _remaining_length(len(body)) + body


def publish_packet(topic: bytes, packet_id: int, payload: bytes) -> bytes:
    """PUBLISH at QoS 1; the broker answers with a PUBACK carrying packet_id."""
    variable = struct.pack(">H", len(topic)) + topic + struct.pack(">H", packet_id)
    return (
        bytes([PUBLISH_QOS1]) + _remaining_length(len(variable) + len(payload)) + variable + payload
    )


class PacketReader:
    """Splits the bytes a broker sends into packets; counts PUBACKs, keeps a CONNACK code."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.pubacks = 0
        self.connack: int | None = None

    def feed(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 2:
            length, multiplier, position = 0, 1, 1
            while True:
                if position >= len(buffer):
                    return  # the length itself is not complete yet
                byte = buffer[position]
                length += (byte & 0x7F) * multiplier
                multiplier *= 128
                position += 1
                if not byte & 0x80:
                    break
            end = position + length
            if len(buffer) < end:
                return
            kind = buffer[0] & 0xF0
            if kind == PUBACK:
                self.pubacks += 1
            elif kind == CONNACK:
                self.connack = buffer[position + 1]
            del buffer[:end]


CONNACK_REASONS = {
    1: "unacceptable protocol version",
    2: "client id rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}


def open_session(
    host: str, port: int, client_id: str, username: str | None, password: str | None
) -> tuple[socket.socket, PacketReader]:
    """Connect and wait for the CONNACK; raise ConnectionError saying why it was refused."""
    sock = socket.create_connection((host, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(client_id, username, password))
    reader = PacketReader()
    while reader.connack is None:
        data = sock.recv(4096)
        if not data:
            raise ConnectionError(f"{host}:{port} closed the connection of {client_id}")
        reader.feed(data)
    if reader.connack:
        sock.close()
        reason = CONNACK_REASONS.get(reader.connack, f"code {reader.connack}")
        raise ConnectionError(f"the broker refused {username or client_id}: {reason}")
    sock.setblocking(False)
    return sock, reader
