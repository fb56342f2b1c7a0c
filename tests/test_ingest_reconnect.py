"""A worker whose connection drops mid-stream loses nothing.

With two workers on a shared subscription the broker goes on handing the dropped worker its
share while it is away; its persistent session must hold those messages until it returns,
and the messages it had received but not acknowledged must come back to it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.ingest_load import create_sensors, publish_stream, stored_counts
from gridwatch.broker.mosquitto import mosquitto_binary
from gridwatch.services import LocalBroker, start_local_broker
from gridwatch.settings import Settings
from ingest.service import IngestService
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")


@pytest.fixture()
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    broker = start_local_broker(tmp_path / "broker")  # the deployed queue limits
    yield broker
    broker.stop()


def test_a_worker_whose_connection_drops_twice_mid_stream_loses_nothing(
    settings: Settings, conn: psycopg.Connection, own_broker: LocalBroker
) -> None:
    total = 20_000
    site = f"{settings.site_id}r"
    sensors = create_sensors(conn, site, 40)
    workers = [
        IngestService(
            settings.model_copy(
                update={
                    "site_id": site,
                    "mqtt_port": own_broker.port,
                    "metrics_port": 0,
                    "ingest_workers": 2,
                    "ingest_worker_index": i,
                    "ingest_session_expiry_s": 600,
                }
            )
        )
        for i in range(2)
    ]
    for worker in workers:
        worker.start()
        worker.wait_connected()
    dropped = workers[1]
    connections_before = dropped.acks.connection
    published: list[int] = []
    stream = threading.Thread(
        target=lambda: published.append(
            publish_stream("127.0.0.1", own_broker.port, sensors, 0, total, rate=5000)[0]
        ),
        daemon=True,
    )
    stream.start()
    try:
        for share in (0.3, 0.6):
            wait_for(
                lambda s=share: stored_counts(conn, sensors)[0] >= s * total,
                timeout_s=60,
                what=f"{share:.0%} stored",
            )
            # The connection breaks under the worker (as a network fault would); paho
            # reconnects by itself with the same client id and a persistent session.
            dropped.mqtt.socket().shutdown(socket.SHUT_RDWR)
            wait_for(
                lambda: dropped.connected.is_set() and dropped.mqtt.is_connected(),
                timeout_s=30,
                what="the worker back on the broker",
            )
        stream.join(120)
        assert published == [total]
        wait_for(
            lambda: stored_counts(conn, sensors)[0] == total,
            timeout_s=90,
            what=f"all {total:,} messages stored",
        )
        assert stored_counts(conn, sensors) == (total, total)
        assert dropped.acks.connection >= connections_before + 4  # two drops, two returns
    finally:
        for worker in workers:
            worker.stop()
