"""Bad input gets a clear reason in dead_letters, and the valid traffic around it is stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import cv2
import numpy as np
import psycopg
import pytest

from gridwatch import db
from gridwatch.frames import encode_frame
from gridwatch.settings import Settings
from ingest.service import IngestService
from simulators.mqtt_devices import DeviceConnection, SimDevice
from tests.helpers import publisher, wait_for

GRID = "ting-g1"
SENSOR = "ting-sock-1"
CAMERA = "ting-cam-1"


@pytest.fixture(scope="module")
def ingest(settings: Settings, database_url: str) -> Iterator[IngestService]:
    with db.connection(database_url) as conn:
        conn.execute(
            "INSERT INTO areas (id, level, name) VALUES ('ting-d', 'district', 'D'),"
            " (%s, 'grid', 'Ingest test grid') ON CONFLICT DO NOTHING",
            (GRID,),
        )
        conn.execute(
            "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES"
            " (%s, %s, %s, 'charging_socket', 'socket'), (%s, %s, %s, 'elevator_camera', 'cam')"
            " ON CONFLICT DO NOTHING",
            (SENSOR, settings.site_id, GRID, CAMERA, settings.site_id, GRID),
        )
        conn.commit()
    service = IngestService(settings)
    service.start()
    service.wait_connected()
    yield service
    service.stop()


def _topic(settings: Settings, device: str, kind: str, grid: str = GRID) -> str:
    return f"gw/v1/{settings.site_id}/{grid}/{device}/{kind}"


def _dead_letters(conn: psycopg.Connection, since_id: int) -> list[dict]:
    return conn.execute(
        "SELECT * FROM dead_letters WHERE id > %s ORDER BY id", (since_id,)
    ).fetchall()


def _last_dead_letter_id(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) AS m FROM dead_letters").fetchone()["m"]


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((height, width, 3), 90, np.uint8))
    assert ok
    return data.tobytes()


def test_each_kind_of_bad_message_lands_in_dead_letters_and_the_next_valid_one_is_stored(
    ingest: IngestService, settings: Settings, conn: psycopg.Connection
) -> None:
    start = _last_dead_letter_id(conn)
    now = time.time()
    pub = publisher(settings)
    bad = [
        (
            _topic(settings, SENSOR, "telemetry"),
            b'{"values": {"temperature_c": 30',
            "malformed_json",
        ),
        (_topic(settings, "ghost-9", "telemetry"), b'{"values": {"x": 1}}', "unknown_device"),
        (
            _topic(settings, SENSOR, "telemetry", grid="other-grid"),
            b'{"values": {"x": 1}}',
            "wrong_place",
        ),
        (f"gw/v1/{settings.site_id}/{GRID}/{SENSOR}/junk", b"{}", "bad_topic"),
        (
            _topic(settings, CAMERA, "frame"),
            encode_frame(b"\xff\xd8" + bytes(settings.max_frame_bytes), now, 1),
            "oversized_frame",
        ),
        (
            _topic(settings, CAMERA, "frame"),
            encode_frame(b"\x89PNG\r\n\x1a\n" + bytes(64), now, 2),
            "not_jpeg",
        ),
    ]
    for seq, (topic, payload, _) in enumerate(bad, start=1):
        pub.publish(topic, payload, qos=1).wait_for_publish(5)
        valid = {"ts": now, "seq": seq, "values": {"temperature_c": 20.0 + seq}}
        pub.publish(_topic(settings, SENSOR, "telemetry"), json.dumps(valid), qos=1)
    pub.publish(_topic(settings, CAMERA, "frame"), encode_frame(_jpeg(), now, 3), qos=1)
    pub.loop_stop()

    letters = wait_for(
        lambda: (rows := _dead_letters(conn, start)) and len(rows) >= len(bad) and rows,
        what="every bad message in dead_letters",
    )
    by_code = {row["reason_code"]: row for row in letters}
    for topic, payload, code in bad:
        assert code in by_code, f"no dead letter for {code}"
        row = by_code[code]
        assert row["topic"] == topic
        assert row["payload_size"] == len(payload)
        assert bytes(row["payload"]) == payload[: settings.dead_letter_keep_bytes]
        assert len(row["reason"]) > 20  # a sentence a person can act on, not a code
    assert "ghost-9" in by_code["unknown_device"]["reason"]
    assert "0x89504E47" in by_code["not_jpeg"]["reason"]

    ingest.drain()
    stored = wait_for(
        lambda: (
            conn.execute(
                "SELECT seq, value FROM telemetry WHERE device_id = %s ORDER BY seq", (SENSOR,)
            ).fetchall()
            if ingest.writer.pending() == 0
            else None
        ),
        what="telemetry rows",
    )
    assert [(r["seq"], r["value"]) for r in stored] == [(s, 20.0 + s) for s in range(1, 7)]
    wait_for(lambda: ingest.frames.counters.processed >= 1, what="the valid frame to be processed")


def test_redelivered_telemetry_is_stored_once(
    ingest: IngestService, settings: Settings, conn: psycopg.Connection
) -> None:
    payload = json.dumps({"ts": time.time() - 60, "seq": 99, "values": {"current_a": 1.5}})
    pub = publisher(settings)
    for _ in range(3):
        pub.publish(_topic(settings, SENSOR, "telemetry"), payload, qos=1).wait_for_publish(5)
    pub.loop_stop()
    wait_for(lambda: ingest.writer.rows_stored and ingest.writer.pending() == 0, what="writes")
    ingest.drain()
    rows = wait_for(
        lambda: conn.execute(
            "SELECT count(*) AS n FROM telemetry WHERE device_id = %s AND seq = 99", (SENSOR,)
        ).fetchone()["n"],
        what="the reading",
    )
    assert rows == 1


def test_a_device_that_drops_off_goes_offline_through_its_last_will(
    ingest: IngestService, settings: Settings, conn: psycopg.Connection
) -> None:
    device = DeviceConnection(settings, SimDevice(SENSOR, GRID, "charging_socket"))
    wait_for(lambda: (r := _status(conn)) and r["online"], what="device online")
    # Vanish without a DISCONNECT, as a device losing power does: the broker sends the will.
    device.client.loop_stop()
    device.client.socket().close()
    row = wait_for(lambda: (r := _status(conn)) and not r["online"] and r, what="device offline")
    assert row["detail"] == "connection lost"


def _status(conn: psycopg.Connection) -> dict | None:
    return conn.execute(
        "SELECT online, detail FROM device_status WHERE device_id = %s", (SENSOR,)
    ).fetchone()
