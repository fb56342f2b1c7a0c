"""The telemetry writer stores each reading once, whichever way a batch is written."""

from __future__ import annotations

import time
import uuid

import psycopg

from ingest.writer import TelemetryMessage, TelemetryWriter


def readings(device: str, seqs: range) -> list[TelemetryMessage]:
    return [
        TelemetryMessage([(device, 1_790_000_000.0 + s, "temp_c", 20.0 + s, s, "Cel")], ack=s)
        for s in seqs
    ]


def write_all(writer: TelemetryWriter, messages: list[TelemetryMessage], acked: list) -> None:
    """Submit the messages and wait until each is committed (acknowledged)."""
    expected = len(acked) + len(messages)
    for message in messages:
        writer.submit(message)
    deadline = time.monotonic() + 30
    while len(acked) < expected:
        assert time.monotonic() < deadline, f"{expected - len(acked)} messages not committed"
        time.sleep(0.02)


def test_a_batch_with_readings_already_stored_is_merged_and_stores_each_once(
    database_url: str, conn: psycopg.Connection
) -> None:
    device = f"writer-{uuid.uuid4().hex[:6]}"
    acked: list[int] = []
    writer = TelemetryWriter(
        database_url,
        batch_rows=1_000,
        flush_ms=20,
        on_committed=lambda batch, at: acked.extend(m.ack for m in batch),
    )
    writer.start()
    try:
        write_all(writer, readings(device, range(0, 50)), acked)
        assert writer.merged_batches == 0  # nothing stored before: copied straight in
        # The broker sends 30 of them again, mixed with 40 new ones.
        write_all(writer, readings(device, range(20, 90)), acked)
        assert writer.merged_batches >= 1
    finally:
        writer.stop()
    rows = conn.execute(
        "SELECT count(*) AS n, count(DISTINCT seq) AS seqs, min(seq) AS lo, max(seq) AS hi"
        " FROM telemetry"
        " WHERE device_id = %s",
        (device,),
    ).fetchone()
    assert tuple(rows.values()) == (90, 90, 0, 89)
    assert sorted(acked) == sorted([*range(0, 50), *range(20, 90)])  # every message acknowledged
