"""Ingest acknowledges a message only once it is committed, and slows down instead of piling up.

The database is made slow by a lock another session holds on the telemetry table: ingest
can receive and stage, but not commit, until the lock goes.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from bench.ingest_load import Sensors, create_sensors, publish_stream, stored_counts
from gridwatch import db
from gridwatch.settings import Settings
from ingest.service import IngestService
from tests.helpers import wait_for


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
