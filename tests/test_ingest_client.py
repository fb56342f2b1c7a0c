"""IngestClient's buffered reads and batched acknowledgements, and the paho internals they use.

paho-mqtt is pinned; these tests fail first if an upgrade moves what IngestClient relies on.
The fault, delivery and scale-out tests run it against the real broker.
"""

from __future__ import annotations

import socket

import paho.mqtt.client as paho

from ingest.mqtt_client import RECV_BYTES, BufferedSocket, IngestClient


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
