"""The benchmark's load generator delivers every message it is given, and the benchmark says
where a loss happened when there is one."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from bench import ingest as bench_ingest
from bench.ingest_load import MESSAGES_PER_MOSQUITTO_PUB, Sensors, publish_with_mosquitto_pub
from gridwatch.broker.mosquitto import mosquitto_binary
from tests.helpers import wait_for

pytestmark = [
    pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed"),
    pytest.mark.skipif(
        shutil.which("mosquitto_pub") is None, reason="mosquitto_pub (mosquitto-clients) is missing"
    ),
]


def test_one_publisher_delivers_more_messages_than_mqtt_has_message_ids() -> None:
    # mosquitto_pub -l alone, fed faster than the broker acknowledges, stops early and
    # silently once its 16-bit message ids wrap (past 65,535 outstanding): given 140,000
    # lines at once, one process delivered about half. The load generator must hand such
    # a stream to fresh processes.
    total = 140_000
    assert total > 2 * 65_535 > 2 * MESSAGES_PER_MOSQUITTO_PUB
    broker = bench_ingest.start_broker(Path(tempfile.mkdtemp(prefix="load-test-")), total)
    try:
        sensors = Sensors("loadtest", "loadtest-g", ["loadtest-s0"])
        published, _ = publish_with_mosquitto_pub(broker.port, sensors, total, 1)
        assert published == total
        wait_for(
            lambda: bench_ingest.broker_counters(broker.port)["received"] == total,
            timeout_s=20,
            what=f"the broker to count {total:,} messages received",
        )
    finally:
        broker.stop()


def test_bench_ingest_places_a_loss_at_the_broker_when_its_queue_is_too_small(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Ingest held slower than the offered load (50 messages in flight, a commit each) and a
    # per-client queue far smaller than the backlog: the broker drops messages. The report
    # must say that they never reached ingest, and that the broker dropped them.
    result = bench_ingest.main(
        [
            "--seconds", "2", "--rate", "20000", "--workers", "1", "--broker-queue", "300",
            "--receive-maximum", "50",
            "--baseline-messages", "500", "--naive-messages", "50", "--sensors", "20",
        ]
    )  # fmt: skip
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == result
    assert result["lost"] > 0
    assert result["dropped_by_broker"] == result["lost"]
    assert result["lost_breakdown"] == {
        "not_published": 0,
        "not_received": result["lost"],
        "not_stored": 0,
    }
    assert result["duplicated"] == 0
    # What each part of the pipeline spent per stored message was measured.
    assert set(result["cpu_us_per_msg"]) == {"ingest", "broker", "postgres"}
    assert all(us > 0 for us in result["cpu_us_per_msg"].values())
