"""Ingest's Prometheus endpoint, scraped over HTTP the way Prometheus does."""

from __future__ import annotations

import time
import urllib.request

import cv2
import numpy as np
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from bench.ingest_load import create_sensors, publish_stream, stored_counts
from gridwatch.frames import encode_frame
from gridwatch.services import free_port
from gridwatch.settings import Settings
from gridwatch.topics import MessageKind, device_topic
from ingest.service import IngestService
from tests.helpers import publisher, wait_for

FRAMES = 30


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_endpoint_counts_what_ingest_received_stored_rejected_and_dropped(
    settings: Settings, conn: psycopg.Connection
) -> None:
    site = f"{settings.site_id}m"
    sensors = create_sensors(conn, site, 5)
    camera = f"{site}-cam"
    conn.execute(
        "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES"
        " (%s, %s, %s, 'fire_lane_camera', 'cam')",
        (camera, site, sensors.grid_id),
    )
    conn.commit()
    ingest = IngestService(
        settings.model_copy(
            update={
                "site_id": site,
                "metrics_port": free_port(),
                "frame_workers": 1,
                "frame_queue_per_camera": 1,
            }
        )
    )
    ingest.start()
    ingest.wait_connected()
    assert ingest.metrics_port is not None
    try:
        publish_stream(settings.mqtt_host, settings.mqtt_port, sensors, 0, 200)
        pub = publisher(settings)
        pub.publish(sensors.topic(0), b"{not json", qos=1).wait_for_publish(10)
        _, jpeg = cv2.imencode(".jpg", np.zeros((120, 160, 3), np.uint8))
        frame_topic = device_topic(site, sensors.grid_id, camera, MessageKind.FRAME)
        for seq in range(FRAMES):
            frame = encode_frame(jpeg.tobytes(), time.time(), seq)
            pub.publish(frame_topic, frame, qos=1)
        pub.loop_stop()
        wait_for(lambda: stored_counts(conn, sensors)[0] == 200, what="200 readings stored")
        ingest.drain()
        wait_for(lambda: ingest.acks.outstanding() == 0, what="every message acknowledged")

        m = _scrape(ingest.metrics_port)
        assert m[("gridwatch_ingest_received_total", (("kind", "telemetry"),))] == 201
        assert m[("gridwatch_ingest_stored_total", (("kind", "telemetry"),))] == 200
        assert m[("gridwatch_ingest_telemetry_rows_total", ())] == 200
        assert m[("gridwatch_ingest_rejected_total", (("reason", "malformed_json"),))] == 1
        assert m[("gridwatch_ingest_stored_total", (("kind", "dead_letter"),))] == 1
        assert m[("gridwatch_ingest_received_total", (("kind", "frame"),))] == FRAMES
        # A frame's worker keeps one waiting frame per camera: what it could not keep, it
        # counted, and every frame was either looked at or counted as dropped.
        dropped = m.get(("gridwatch_ingest_dropped_total", (("kind", "frame"),)), 0.0)
        assert dropped == ingest.frames.counters.dropped
        wait_for(
            lambda: ingest.frames.counters.processed + ingest.frames.counters.dropped == FRAMES,
            what="every frame processed or dropped",
        )
        assert m[("gridwatch_ingest_acked_total", ())] == 201 + FRAMES
        # Batches: how many rows, and how late the readings were when they were committed.
        assert m[("gridwatch_ingest_batch_rows_sum", ())] == 200
        assert 1 <= m[("gridwatch_ingest_batch_rows_count", ())] <= 200
        assert m[("gridwatch_ingest_lag_seconds_count", ())] == 200
        assert 0 < m[("gridwatch_ingest_lag_seconds_sum", ())] < 200 * 30
        for queue in ("telemetry", "control", "frames", "unacked"):
            assert m[("gridwatch_ingest_queue_depth", (("queue", queue),))] == 0
    finally:
        ingest.stop()
