"""The frame wire format shared by cameras and ingest (see docs/PROTOCOL.md).

A frame payload is a 20-byte header followed by the JPEG:
magic b"GWF1", capture time (float64, seconds since the Unix epoch), sequence (uint64),
all big-endian.
"""

from __future__ import annotations

import struct

FRAME_MAGIC = b"GWF1"
FRAME_HEADER = struct.Struct(">4sdQ")


def encode_frame(jpeg: bytes, ts: float, seq: int) -> bytes:
    return FRAME_HEADER.pack(FRAME_MAGIC, ts, seq) + jpeg
