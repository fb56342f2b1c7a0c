"""Telemetry batches: readings queue up and are written with COPY, many rows a statement."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from gridwatch import db

log = logging.getLogger(__name__)

TelemetryRow = tuple[str, float, str, float | None, int, str | None]  # device, ts, metric, …

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS telemetry_stage (
    time timestamptz, device_id text, metric text, value double precision,
    seq bigint, unit text
) ON COMMIT DELETE ROWS
"""
# Redelivered readings hit the primary key and are skipped: writes are idempotent.
_MERGE = """
INSERT INTO telemetry (time, device_id, metric, value, seq, unit)
SELECT DISTINCT ON (device_id, metric, time, seq) time, device_id, metric, value, seq, unit
FROM telemetry_stage
ON CONFLICT DO NOTHING
"""


class TelemetryWriter:
    """One thread owning one connection; submit() blocks when the queue is full (backpressure)."""

    def __init__(
        self,
        database_url: str,
        *,
        batch_rows: int,
        flush_ms: int,
        max_queued: int = 100_000,
        on_stored: Callable[[int], None] = lambda n: None,
    ) -> None:
        self._url = database_url
        self._batch_rows = batch_rows
        self._flush_s = flush_ms / 1000.0
        self._queue: queue.Queue[TelemetryRow | None] = queue.Queue(max_queued)
        self._on_stored = on_stored
        self._thread = threading.Thread(target=self._run, name="telemetry-writer", daemon=True)
        self.rows_stored = 0

    def start(self) -> None:
        self._thread.start()

    def submit(self, row: TelemetryRow) -> None:
        self._queue.put(row)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        conn = db.connect(self._url)
        conn.execute(_STAGE)
        conn.commit()
        stopping = False
        while not stopping:
            batch: list[TelemetryRow] = []
            deadline = time.monotonic() + self._flush_s
            while len(batch) < self._batch_rows:
                timeout = deadline - time.monotonic()
                try:
                    item = (
                        self._queue.get(timeout=max(timeout, 0.0))
                        if timeout > 0
                        else (self._queue.get_nowait())
                    )
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            if batch:
                conn = self._write_until_stored(conn, batch)
        conn.close()

    def _write_until_stored(
        self, conn: psycopg.Connection, batch: list[TelemetryRow]
    ) -> psycopg.Connection:
        """Retry with a fresh connection until the batch is in: telemetry is never dropped."""
        delay = 0.5
        while True:
            try:
                _copy_batch(conn, batch)
                self.rows_stored += len(batch)
                self._on_stored(len(batch))
                return conn
            except psycopg.OperationalError as err:
                log.warning("telemetry batch of %d rows not stored (%s); retrying", len(batch), err)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                try:
                    conn.close()
                    conn = db.connect(self._url)
                    conn.execute(_STAGE)
                    conn.commit()
                except psycopg.OperationalError:
                    continue


def _copy_batch(conn: psycopg.Connection, batch: list[TelemetryRow]) -> None:
    with conn.transaction():
        with conn.cursor() as cur:
            with cur.copy(
                "COPY telemetry_stage (time, device_id, metric, value, seq, unit) FROM STDIN"
            ) as copy:
                for device_id, ts, metric, value, seq, unit in batch:
                    copy.write_row(
                        (datetime.fromtimestamp(ts, UTC), device_id, metric, value, seq, unit)
                    )
            cur.execute(_MERGE)
