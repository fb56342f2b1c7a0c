"""The one-minute telemetry series: one read function for both storage paths, and the
plain-PostgreSQL job that keeps the rollup.

Readers query the relation `telemetry_1m` (sql/006_rollup*.sql): with TimescaleDB a continuous
aggregate, without it a view over the rollup table this module keeps plus the minutes not
computed yet. Either way it is up to date when read, so `minute_series` is the same query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import psycopg
from psycopg.rows import tuple_row

StoragePath = Literal["timescaledb", "plain"]
# Minutes recomputed per transaction: short transactions keep the writer's lock waits short.
REFRESH_BATCH = 5000


@dataclass(frozen=True)
class MinuteBucket:
    """One device metric over one minute (`bucket` is the minute's start, UTC)."""

    bucket: datetime
    min: float | None
    max: float | None
    avg: float | None
    count: int
    last: float | None


def minute_series(
    conn: psycopg.Connection, device_id: str, metric: str, since: datetime, until: datetime
) -> list[MinuteBucket]:
    """A device metric's minutes from `since` (included) to `until` (excluded), oldest first."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("since and until must be timezone-aware datetimes (e.g. UTC)")
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT bucket, min, max, avg, count, last FROM telemetry_1m"
            " WHERE device_id = %s AND metric = %s AND bucket >= %s AND bucket < %s"
            " ORDER BY bucket",
            (device_id, metric, since, until),
        ).fetchall()
    return [MinuteBucket(b, low, high, mean, int(n), last) for b, low, high, mean, n, last in rows]


def storage_path(conn: psycopg.Connection) -> StoragePath:
    """Which path the schema took at migration time: TimescaleDB's or plain PostgreSQL's."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute("SELECT to_regclass('telemetry_1m_pending') IS NOT NULL").fetchone()
    return "plain" if row and row[0] else "timescaledb"


# Take up to %(limit)s marked minutes, skipping marks a writer still holds (its readings are
# not visible yet, and the mark stays for the next round).
_TAKE_MARKS = """
DELETE FROM telemetry_1m_pending
WHERE (device_id, metric, bucket) IN (
    SELECT device_id, metric, bucket FROM telemetry_1m_pending
    ORDER BY bucket LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
RETURNING device_id, metric, bucket
"""

# Recompute each taken minute from all its raw readings. This must be a statement of its own:
# a statement reads the snapshot of its start, and a writer whose mark was still locked then
# may commit before the mark is taken; in one statement its readings would be missed.
# Recomputing a whole minute is idempotent, so a late reading or a repeated run changes
# nothing but what the readings say.
_RECOMPUTE = """
INSERT INTO telemetry_1m_rollup AS r (device_id, metric, bucket, min, max, avg, count, last)
SELECT t.device_id, t.metric, p.bucket, min(t.value), max(t.value), avg(t.value), count(*),
       (array_agg(t.value ORDER BY t.time DESC, t.seq DESC))[1]
FROM unnest(%(devices)s::text[], %(metrics)s::text[], %(buckets)s::timestamptz[])
     AS p(device_id, metric, bucket)
JOIN telemetry t ON t.device_id = p.device_id AND t.metric = p.metric
     AND t.time >= p.bucket AND t.time < p.bucket + interval '1 minute'
GROUP BY t.device_id, t.metric, p.bucket
ON CONFLICT (device_id, metric, bucket) DO UPDATE
SET min = EXCLUDED.min, max = EXCLUDED.max, avg = EXCLUDED.avg, count = EXCLUDED.count,
    last = EXCLUDED.last
"""


def refresh_rollup(conn: psycopg.Connection, batch: int = REFRESH_BATCH) -> int:
    """Bring the plain-PostgreSQL rollup up to date; return how many minutes were recomputed.

    Each batch is committed on its own (so `conn` should have no work of its own pending).
    Minutes a writer marks meanwhile wait for the next call.
    """
    total = 0
    while True:
        with conn.cursor(row_factory=tuple_row) as cur:
            taken = cur.execute(_TAKE_MARKS, {"limit": batch}).fetchall()
            if taken:
                devices, metrics, buckets = (list(column) for column in zip(*taken, strict=True))
                cur.execute(
                    _RECOMPUTE, {"devices": devices, "metrics": metrics, "buckets": buckets}
                )
        conn.commit()
        total += len(taken)
        if len(taken) < batch:
            return total
