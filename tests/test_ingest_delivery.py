"""Ingest acknowledges a message only once it is committed, and slows down instead of piling up.

The database is made slow by a lock another session holds on the telemetry table: ingest
can receive and stage, but not commit, until the lock goes.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import psycopg
import pytest

from bench.ingest_load import Sensors, create_sensors, publish_stream, stored_counts
from gridwatch import db
from gridwatch.settings import Settings
from ingest.service import IngestService
from tests.helpers import publisher, wait_for


@pytest.fixture()
def sensors(
    settings: Settings, conn: psycopg.Connection, request: pytest.FixtureRequest
) -> Sensors:
    # A site id per test keeps their sensors, streams and broker sessions apart.
    site = f"{settings.site_id}{request.node.name[-6:].replace('_', '')}"
    return create_sensors(conn, site, 10)


@pytest.fixture()
def telemetry_locked(database_url: str) -> Iterator[psycopg.Connection]:
    """Hold a lock that lets ingest read and stage telemetry but not insert it."""
    with db.connection(database_url) as locker:
        locker.execute("LOCK TABLE telemetry IN EXCLUSIVE MODE")
        yield locker
        locker.rollback()


def _ingest(settings: Settings, sensors: Sensors, **update: object) -> IngestService:
    service = IngestService(
        settings.model_copy(update={"site_id": sensors.site_id, "metrics_port": 0, **update})
    )
    service.start()
    service.wait_connected()
    return service


def test_telemetry_is_acknowledged_only_after_its_batch_is_committed(
    settings: Settings,
    conn: psycopg.Connection,
    sensors: Sensors,
    telemetry_locked: psycopg.Connection,
) -> None:
    ingest = _ingest(settings, sensors)
    try:
        publish_stream(settings.mqtt_host, settings.mqtt_port, sensors, 0, 300)
        wait_for(lambda: ingest.acks.taken == 300, what="ingest to receive all 300 messages")
        assert ingest.acks.sent == 0, "nothing may be acknowledged before it is committed"
        assert stored_counts(conn, sensors) == (0, 0)

        telemetry_locked.rollback()  # the database is quick again
        wait_for(lambda: stored_counts(conn, sensors)[0] == 300, what="the 300 readings stored")
        wait_for(lambda: ingest.acks.sent == 300, what="the 300 acknowledgements")
        assert stored_counts(conn, sensors) == (300, 300)
        assert ingest.acks.outstanding() == 0
    finally:
        ingest.stop()


def test_a_slow_database_holds_at_most_the_receive_maximum_in_memory(
    settings: Settings,
    conn: psycopg.Connection,
    sensors: Sensors,
    telemetry_locked: psycopg.Connection,
) -> None:
    """Backpressure: the broker keeps what ingest cannot take yet; nothing is lost."""
    window = 50
    ingest = _ingest(settings, sensors, ingest_receive_maximum=window)
    try:
        # Well inside the shared test broker's queue limit (1000 per client beyond in-flight).
        publish_stream(settings.mqtt_host, settings.mqtt_port, sensors, 0, 600)
        wait_for(lambda: ingest.acks.taken == window, what="ingest to fill its window")
        # The broker has all 600 (the publisher had its PUBACKs); ingest holds only the window.
        wait_for(lambda: ingest.writer.pending() == window, what="the window queued for writing")
        assert ingest.acks.taken == window
        assert ingest.acks.outstanding() == window

        telemetry_locked.rollback()
        wait_for(
            lambda: stored_counts(conn, sensors)[0] == 600,
            timeout_s=60,
            what="all 600 readings stored once the database is back",
        )
        assert stored_counts(conn, sensors) == (600, 600)
        assert ingest.acks.taken == 600  # each delivered once: none was redelivered or lost
    finally:
        ingest.stop()


def test_a_redelivered_reading_is_stored_once_and_one_without_its_own_time_is_refused(
    settings: Settings,
    conn: psycopg.Connection,
    sensors: Sensors,
    telemetry_locked: psycopg.Connection,
) -> None:
    """A copy the broker sends again must land on the same key: the reading's own time.

    Given the receive time instead, the copy would get a new key and a second row, so a
    reading without "ts" goes to dead letters rather than into the table.
    """
    ingest = _ingest(settings, sensors, ingest_session_expiry_s=600)
    topic = sensors.topic(0)
    with_ts = json.dumps({"ts": time.time(), "seq": 1, "values": {"v": 1.5}})
    without_ts = json.dumps({"seq": 2, "values": {"v": 2.5}})
    pub = publisher(settings)
    try:
        for payload in (with_ts, without_ts):
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_for(lambda: ingest.acks.taken == 2, what="both messages received")
        wait_for(lambda: ingest.acks.sent == 1, what="the refused one's dead letter committed")
        # The reading waits on the locked table, unacknowledged; the connection drops and
        # the broker sends it again on the next one.
        ingest.mqtt.socket().shutdown(socket.SHUT_RDWR)
        wait_for(lambda: ingest.acks.taken == 3, timeout_s=30, what="the reading redelivered")

        telemetry_locked.rollback()
        wait_for(lambda: stored_counts(conn, sensors)[0] == 1, what="the reading stored")
        wait_for(lambda: ingest.acks.outstanding() == 0, what="everything acknowledged")
        rows = conn.execute(
            "SELECT seq, extract(epoch FROM time) AS ts FROM telemetry WHERE device_id = %s",
            (sensors.device_ids[0],),
        ).fetchall()
        assert [(r["seq"], round(float(r["ts"]), 3)) for r in rows] == [
            (1, round(json.loads(with_ts)["ts"], 3))
        ]
        refused = conn.execute(
            "SELECT reason_code, payload FROM dead_letters WHERE topic = %s", (topic,)
        ).fetchall()
        assert [(r["reason_code"], bytes(r["payload"])) for r in refused] == [
            ("missing_timestamp", without_ts.encode())
        ]
    finally:
        pub.loop_stop()
        ingest.stop()
