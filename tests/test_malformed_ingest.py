"""10,000 malformed payloads through the real broker and ingest: each one a dead letter with
a reason, ingest still standing, and the valid readings sent between them all stored."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from gridwatch import db
from gridwatch.settings import Settings
from ingest.service import IngestService
from tests.helpers import publisher, wait_for
from tests.test_malformed_codecs import Message, malformed_messages

GRID = "tmal-g1"
SENSOR = "tmal-sock-1"
CAMERA = "tmal-cam-1"
MALFORMED = 10_000
PER_EXAMPLE = 25
VALID_EVERY = 10  # one valid reading after every tenth malformed message
# Mosquitto's default max_queued_messages (1,000) counts what it sent ingest and has not had
# acknowledged, and ingest acknowledges only after the commit. The publisher stays this far
# ahead of what is committed at most, so this test measures ingest, not that broker limit.
MAX_AHEAD = 600


@pytest.fixture(scope="module")
def ingest(settings: Settings, database_url: str) -> Iterator[IngestService]:
    with db.connection(database_url) as conn:
        conn.execute(
            "INSERT INTO areas (id, level, name) VALUES (%s, 'grid', 'Malformed test grid')"
            " ON CONFLICT DO NOTHING",
            (GRID,),
        )
        conn.execute(
            "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES"
            " (%s, %s, %s, 'charging_socket', 'socket'), (%s, %s, %s, 'elevator_camera', 'cam')"
            " ON CONFLICT DO NOTHING",
            (SENSOR, settings.site_id, GRID, CAMERA, settings.site_id, GRID),
        )
        conn.commit()
    # Each dead letter is its own transaction; waiting for 10,000 WAL flushes on a shared
    # machine measures the disk, not ingest. Commits stay atomic and visible at once.
    fast_commits = settings.model_copy(
        update={"database_url": _with_options(database_url, "-c synchronous_commit=off")}
    )
    service = IngestService(fast_commits)
    service.start()
    service.wait_connected()
    yield service
    service.stop()


def _with_options(url: str, options: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(options)}"


def _topic(settings: Settings, kind: str) -> str:
    device = CAMERA if kind in ("frame", "event") else SENSOR
    return f"gw/v1/{settings.site_id}/{GRID}/{device}/{kind}"


# An acknowledgement that reads well but answers a command never sent: refused by the database
# lookup, not by the codec.
unknown_ack = st.integers(10**12, 2**62).map(
    lambda command_id: ("cmd/ack", json.dumps({"id": command_id, "ok": True}).encode())
)


def test_ten_thousand_malformed_payloads_are_each_dead_lettered_and_valid_traffic_is_stored(
    ingest: IngestService, settings: Settings, conn: psycopg.Connection
) -> None:
    pub = publisher(settings)
    sent: Counter[tuple[str, bytes, int]] = Counter()
    valid_seqs: list[int] = []
    published = committed = 0

    def rows_committed() -> int:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM dead_letters WHERE device_id IN (%s, %s))"
            " + (SELECT count(*) FROM telemetry WHERE device_id = %s) AS n",
            (SENSOR, CAMERA, SENSOR),
        ).fetchone()
        conn.commit()
        return int(row["n"])

    def send(topic: str, payload: bytes) -> None:
        nonlocal published, committed
        while published - committed > MAX_AHEAD:
            committed = rows_committed()
            if published - committed > MAX_AHEAD:
                time.sleep(0.05)
        pub.publish(topic, payload, qos=1)
        published += 1

    # Drawn 25 at a time: hypothesis spends most of its time per example, not per value.
    @hypothesis_settings(
        max_examples=MALFORMED // PER_EXAMPLE,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        messages=st.lists(
            st.one_of(malformed_messages(time.time()), unknown_ack),
            min_size=PER_EXAMPLE,
            max_size=PER_EXAMPLE,
        )
    )
    def publish_some(messages: list[Message]) -> None:
        for kind, payload in messages:
            topic = _topic(settings, kind)
            send(topic, payload)
            sent[(topic, payload[: settings.dead_letter_keep_bytes], len(payload))] += 1
            if sum(sent.values()) % VALID_EVERY == 0:
                seq = len(valid_seqs) + 1
                reading = {"ts": time.time(), "seq": seq, "values": {"temperature_c": 20.0}}
                send(_topic(settings, "telemetry"), json.dumps(reading).encode())
                valid_seqs.append(seq)

    started = time.monotonic()
    publish_some()
    assert sum(sent.values()) == MALFORMED

    def letters() -> list[dict]:
        return conn.execute(
            "SELECT topic, payload, payload_size, reason_code, reason FROM dead_letters"
            " WHERE device_id IN (%s, %s)",
            (SENSOR, CAMERA),
        ).fetchall()

    try:
        wait_for(
            lambda: rows_committed() >= MALFORMED + len(valid_seqs),
            timeout_s=120,
            what=f"{MALFORMED} dead letters and {len(valid_seqs)} readings",
        )
    finally:
        pub.loop_stop()  # only now: the client sends from its own thread
    rows = letters()
    assert len(rows) == MALFORMED
    elapsed = time.monotonic() - started
    stored = Counter((r["topic"], bytes(r["payload"]), r["payload_size"]) for r in rows)
    assert stored == sent
    assert all(len(r["reason"]) > 15 for r in rows)
    reasons = Counter(r["reason_code"] for r in rows)
    assert {"malformed_json", "bad_value", "bad_shape", "bad_frame", "unknown_command"} <= set(
        reasons
    )

    ingest.drain()
    seqs = wait_for(
        lambda: (
            (
                s := [
                    r["seq"]
                    for r in conn.execute(
                        "SELECT seq FROM telemetry WHERE device_id = %s ORDER BY seq", (SENSOR,)
                    )
                ]
            )
            and len(s) >= len(valid_seqs)
            and s
        ),
        what="every valid reading",
    )
    assert seqs == valid_seqs
    print(f"{MALFORMED} malformed + {len(valid_seqs)} valid in {elapsed:.1f} s; {dict(reasons)}")
