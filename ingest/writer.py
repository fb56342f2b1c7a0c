"""Telemetry batches: whole messages queue up and are written with COPY, many rows a statement.

Group commit: the writer takes everything waiting (up to batch_rows) and writes it in one
transaction, so batches stay small when traffic is light (low lag) and grow under load.
A batch is copied straight into the table. Readings already stored (a message the broker
sent again, a device repeating itself) make that COPY fail on the primary key; the batch is
then written again through a staging table with ON CONFLICT DO NOTHING, and so are the
batches of the next few seconds, since redeliveries come in runs. The straight COPY costs
PostgreSQL a fraction of the merge (docs/BENCHMARKS.md, bench.ingest).
Once a batch is committed, on_committed gets its messages, and only then are they
acknowledged to the broker. The queue is bounded; when the database is slow or down the
writer keeps retrying the same batch, nothing is acknowledged, and the broker stops sending
once the receive maximum is in flight: backpressure, with memory bounded by that window.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import psycopg

from gridwatch import db

log = logging.getLogger(__name__)

TelemetryRow = tuple[str, float, str, float | None, int, str | None]  # device, ts, metric, …


class TelemetryMessage(NamedTuple):
    """The readings of one MQTT message and what acknowledges it once they are stored."""

    rows: list[TelemetryRow]
    ack: Any = None


_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS telemetry_stage (
    time timestamptz, device_id text, metric text, value double precision,
    seq bigint, unit text
) ON COMMIT DELETE ROWS
"""
_COPY_COLUMNS = "(time, device_id, metric, value, seq, unit) FROM STDIN (FORMAT BINARY)"
_COPY = f"COPY telemetry_stage {_COPY_COLUMNS}"
_COPY_DIRECT = f"COPY telemetry {_COPY_COLUMNS}"
_COPY_TYPES = ["timestamptz", "text", "text", "float8", "int8", "text"]
# Redelivered readings hit the primary key and are skipped: writes are idempotent.
_MERGE = """
INSERT INTO telemetry (time, device_id, metric, value, seq, unit)
SELECT DISTINCT ON (device_id, metric, time, seq) time, device_id, metric, value, seq, unit
FROM telemetry_stage
ON CONFLICT DO NOTHING
"""
MAX_RETRY_DELAY_S = 5.0
# After a batch met rows already stored, batches go through the merge for this long.
MERGE_AFTER_CONFLICT_S = 10.0


class TelemetryWriter:
    """One thread owning one connection; submit() blocks when the queue is full (backpressure)."""

    def __init__(
        self,
        database_url: str,
        *,
        batch_rows: int,
        flush_ms: int,
        max_queued: int = 10_000,
        on_committed: Callable[[list[TelemetryMessage], float], None] = lambda batch, at: None,
    ) -> None:
        self._url = database_url
        self._batch_rows = batch_rows
        self._poll_s = flush_ms / 1000.0
        self._queue: queue.Queue[TelemetryMessage | None] = queue.Queue(max_queued)
        self._on_committed = on_committed
        self._thread = threading.Thread(target=self._run, name="telemetry-writer", daemon=True)
        self._stopping = threading.Event()
        self.rows_stored = 0
        self.retries = 0
        self.merged_batches = 0  # batches written through the staging table
        self._merge_until = float("-inf")
        self._writing = 0  # messages in the batch being written

    def start(self) -> None:
        self._thread.start()

    def submit(self, message: TelemetryMessage) -> None:
        self._queue.put(message)

    def stop(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout=10)

    def pending(self) -> int:
        """Messages queued or being written, not yet committed."""
        return self._queue.qsize() + self._writing

    def _next_batch(self) -> list[TelemetryMessage] | None:
        """Block for the first message, then take what is waiting; None when stopping."""
        while True:
            try:
                first = self._queue.get(timeout=self._poll_s)
                break
            except queue.Empty:
                if self._stopping.is_set():
                    return None
        if first is None:
            return None
        batch, rows = [first], len(first.rows)
        while rows < self._batch_rows:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._stopping.set()
                break
            batch.append(item)
            rows += len(item.rows)
        return batch

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        while (batch := self._next_batch()) is not None:
            self._writing = len(batch)
            conn = self._write_until_stored(conn, batch)
            self._writing = 0
            if self._stopping.is_set() and (conn is None or self._queue.empty()):
                break
        if conn is not None:
            conn.close()

    def _write_until_stored(
        self, conn: psycopg.Connection | None, batch: list[TelemetryMessage]
    ) -> psycopg.Connection | None:
        """Retry with a fresh connection until the batch is in: telemetry is never dropped."""
        delay = 0.2
        while True:
            try:
                if conn is None or conn.closed:
                    conn = db.connect(self._url)
                    conn.execute(_STAGE)
                    conn.commit()
                rows = self._store(conn, batch)
                self.rows_stored += rows
                self._on_committed(batch, time.time())
                return conn
            except psycopg.OperationalError as err:
                self.retries += 1
                log.warning(
                    "telemetry batch of %d messages not stored (%s); retrying", len(batch), err
                )
                if conn is not None:
                    conn.close()
                conn = None
                if self._stopping.wait(delay):
                    # Unacknowledged, the batch stays with the broker and comes back later.
                    log.warning("stopping with an unstored telemetry batch; broker redelivers it")
                    return None
                delay = min(delay * 2, MAX_RETRY_DELAY_S)

    def _store(self, conn: psycopg.Connection, batch: list[TelemetryMessage]) -> int:
        """Commit the batch: straight COPY, or the merge when readings may be stored already."""
        if time.monotonic() >= self._merge_until:
            try:
                return _copy_batch(conn, batch, merge=False)
            except psycopg.errors.UniqueViolation:
                self._merge_until = time.monotonic() + MERGE_AFTER_CONFLICT_S
        self.merged_batches += 1
        return _copy_batch(conn, batch, merge=True)


def _copy_batch(conn: psycopg.Connection, batch: list[TelemetryMessage], *, merge: bool) -> int:
    """Write the batch in one transaction (rolled back whole on any error)."""
    rows = 0
    with conn.transaction():
        with conn.cursor() as cur:
            with cur.copy(_COPY if merge else _COPY_DIRECT) as copy:
                copy.set_types(_COPY_TYPES)
                for message in batch:
                    for device_id, ts, metric, value, seq, unit in message.rows:
                        copy.write_row(
                            (datetime.fromtimestamp(ts, UTC), device_id, metric, value, seq, unit)
                        )
                    rows += len(message.rows)
            if merge:
                cur.execute(_MERGE)
    return rows
