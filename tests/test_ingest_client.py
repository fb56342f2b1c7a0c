"""IngestClient's buffered reads and batched acknowledgements, and the paho internals they use.

paho-mqtt is pinned; these tests fail first if an upgrade moves what IngestClient relies on.
The fault, delivery and scale-out tests run it against the real broker.
"""

from __future__ import annotations

import socket

import paho.mqtt.client as paho
import pytest

from ingest.mqtt_client import RECV_BYTES, BufferedSocket, IngestClient, decode_publish


def test_a_buffered_socket_hands_out_bytes_in_order_and_says_how_many_wait() -> None:
    left, right = socket.socketpair()
    buffered = BufferedSocket(left)
    right.sendall(b"\x30\x05hello" + b"\x40\x02\x00\x07")
    assert buffered.recv(1) == b"\x30"
    assert buffered.pending() == 10
    assert buffered.recv(1) == b"\x05"
    assert buffered.recv(5) == b"hello"
    assert buffered.recv(100) == b"\x40\x02\x00\x07"  # what is there, as a socket would
    assert buffered.pending() == 0
    assert buffered.fileno() == left.fileno()  # select() sees the real socket
    right.close()
    assert buffered.recv(1) == b""  # the peer closed: paho's signal that the connection is gone
    left.close()


def test_a_large_read_is_served_in_full_without_buffering() -> None:
    left, right = socket.socketpair()
    buffered = BufferedSocket(left)
    right.sendall(b"x" * 1000)
    assert buffered.recv(RECV_BYTES * 2) == b"x" * 1000
    assert buffered.pending() == 0
    left.close()
    right.close()


def test_acknowledgements_of_a_batch_go_out_as_one_packet_of_pubacks() -> None:
    client = IngestClient(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.manual_ack_set(True)
    assert client.ack_many([1, 258, 65535]) == 3
    queued = client._out_packet[-1]  # paho's own output queue
    assert queued["packet"] == b"\x40\x02\x00\x01" + b"\x40\x02\x01\x02" + b"\x40\x02\xff\xff"
    assert client.ack_many([]) == 0
    assert len(client._out_packet) == 1


def publish_packet(topic: str, payload: bytes, *, mid: int = 0, qos: int = 1, dup: bool = False,
                   properties: bytes = b"") -> bytes:  # fmt: skip
    """An MQTT 5 PUBLISH as a broker sends it."""
    body = len(topic).to_bytes(2, "big") + topic.encode()
    if qos:
        body += mid.to_bytes(2, "big")
    body += bytes([len(properties)]) + properties + payload
    assert len(body) < 16_384  # two length bytes at most, enough here
    n = len(body)
    length = bytes([n]) if n < 128 else bytes([n % 128 | 128, n // 128])
    return bytes([0x30 | qos << 1 | dup << 3]) + length + body


def test_publishes_split_across_reads_reach_on_message_whole_and_in_order() -> None:
    client = IngestClient(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.manual_ack_set(True)
    received: list[tuple[str, bytes, int, int, bool]] = []
    client.on_message = lambda c, u, m: received.append((m.topic, m.payload, m.qos, m.mid, m.dup))
    left, right = socket.socketpair()
    left.setblocking(False)
    client._sock = BufferedSocket(left)
    # message expiry (0x02) and a user property (0x26): skipped, the payload untouched
    props = b"\x02\x00\x00\x00\x3c" + b"\x26\x00\x01k\x00\x01v"
    big = b"{" + b"x" * 300 + b"}"
    stream = (
        publish_packet("gw/v1/s/g/a/telemetry", b'{"v":1}', mid=7, properties=props)
        + b"\xd0\x00"  # PINGRESP between two messages: paho's own handler takes it
        + publish_packet("gw/v1/s/g/b/telemetry", big, mid=65535, dup=True)
        + publish_packet("gw/v1/s/g/c/status", b"online", qos=0)
    )
    # Cuts inside the first packet's properties, inside the second's length and body.
    for start, end in [(0, 30), (30, 45), (45, 200), (200, len(stream))]:
        right.sendall(stream[start:end])
        client.loop_read()
    assert received == [
        ("gw/v1/s/g/a/telemetry", b'{"v":1}', 1, 7, False),
        ("gw/v1/s/g/b/telemetry", big, 1, 65535, True),
        ("gw/v1/s/g/c/status", b"online", 0, 0, False),
    ]
    assert client._out_packet == type(client._out_packet)()  # manual ack: nothing sent yet
    left.close()
    right.close()


def test_a_publish_whose_fields_run_past_the_packet_is_a_protocol_error() -> None:
    with pytest.raises(ValueError, match="malformed PUBLISH"):
        decode_publish(0x32, b"\x00\x10gw/v1", mqtt5=True)  # topic says 16 bytes, has 5
    with pytest.raises(ValueError, match="malformed PUBLISH"):
        decode_publish(0x32, b"\x00\x01t\x00\x01\x09\x02", mqtt5=True)  # properties too long
    message = decode_publish(0x30, b"\x00\x01t" + b"payload", mqtt5=False)  # MQTT 3.1.1, QoS 0
    assert (message.topic, message.payload, message.qos, message.mid) == ("t", b"payload", 0, 0)
