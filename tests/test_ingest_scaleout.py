"""Three ingest processes share a site: each message is handled by exactly one of them.

Telemetry is spread by the broker (MQTT 5 shared subscription); status messages, like
frames, go to the one worker that owns their device. The broker is a Mosquitto of the
test's own, with the deployed queue limits.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest_load import IngestProcess, create_sensors, publish_in_processes, stored_counts
from gridwatch.broker.mosquitto import mosquitto_binary
from gridwatch.services import LocalBroker, free_port, start_local_broker
from gridwatch.settings import Settings
from gridwatch.topics import MessageKind, device_topic
from ingest.delivery import owner
from tests.helpers import publisher, wait_for

pytestmark = pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")

WORKERS = 3
MESSAGES = 9000
SENSORS = 30


@pytest.fixture()
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    broker = start_local_broker(tmp_path / "broker")
    yield broker
    broker.stop()


def _counter(port: int, name: str, kind: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("kind") == kind:
                return sample.value
    return 0.0


def test_three_workers_store_every_message_exactly_once(
    settings: Settings,
    database_url: str,
    conn: psycopg.Connection,
    own_broker: LocalBroker,
    tmp_path: Path,
) -> None:
    site = f"{settings.site_id}x"
    sensors = create_sensors(conn, site, SENSORS)
    ports = [free_port() for _ in range(WORKERS)]
    workers = [
        IngestProcess(
            tmp_path / f"ingest-{index}.log",
            database_url=database_url,
            mqtt_host=own_broker.host,
            mqtt_port=own_broker.port,
            site_id=site,
            ingest_workers=WORKERS,
            ingest_worker_index=index,
            metrics_port=ports[index] - index,  # worker i serves metrics_port + i
        ).start()
        for index in range(WORKERS)
    ]
    try:
        for worker in workers:
            worker.wait_subscribed()
        broker_settings = settings.model_copy(
            update={"mqtt_host": own_broker.host, "mqtt_port": own_broker.port}
        )
        pub = publisher(broker_settings)
        for device in sensors.device_ids:
            topic = device_topic(site, sensors.grid_id, device, MessageKind.STATUS)
            pub.publish(topic, b"online", qos=1).wait_for_publish(10)
        pub.loop_stop()
        publish_in_processes(own_broker.host, own_broker.port, sensors, MESSAGES, 2)

        wait_for(
            lambda: stored_counts(conn, sensors)[0] == MESSAGES,
            timeout_s=90,
            what=f"all {MESSAGES} readings stored",
        )
        assert stored_counts(conn, sensors) == (MESSAGES, MESSAGES)
        # Exactly once, not merely deduplicated by the table: the workers' own counts of
        # committed messages add up to the stream, and every worker took a share.
        wait_for(
            lambda: (
                sum(_counter(p, "gridwatch_ingest_stored_total", "telemetry") for p in ports)
                == MESSAGES
            ),
            what="the workers' stored counts to add up",
        )
        shares = [_counter(p, "gridwatch_ingest_stored_total", "telemetry") for p in ports]
        assert all(share > 0 for share in shares), shares

        # Status goes to the device's owner only, and is stored once.
        online = conn.execute(
            "SELECT count(*) AS n FROM device_status WHERE device_id = ANY(%s) AND online",
            (sensors.device_ids,),
        ).fetchone()
        assert online is not None and online["n"] == SENSORS
        for index, port in enumerate(ports):
            owned = sum(owner(d, WORKERS) == index for d in sensors.device_ids)
            wait_for(
                lambda p=port, n=owned: _counter(p, "gridwatch_ingest_stored_total", "status") == n,
                what=f"worker {index} to store the status of its {owned} devices",
            )
            assert _counter(port, "gridwatch_ingest_skipped_total", "status") == SENSORS - owned
    finally:
        for worker in workers:
            worker.stop()
