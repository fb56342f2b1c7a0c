"""Storage lifecycle: how long readings are kept, and the job that keeps to it.

Plain PostgreSQL: `gridwatch maintain` keeps the one-minute rollup current
(gridwatch/telemetry_rollup.py) and deletes raw telemetry and detections past their
retention, and rollup minutes past theirs. TimescaleDB: the same limits become the
extension's compression, retention and continuous-aggregate policies, set once at start.
Dead letters are a plain table either way; the job deletes those past their retention.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from gridwatch import db
from gridwatch.settings import Settings
from gridwatch.telemetry_rollup import refresh_rollup, storage_path

log = logging.getLogger(__name__)

# Rows deleted per transaction: a long DELETE would hold back vacuum and the writer.
DELETE_BATCH = 10_000
# TimescaleDB recomputes this far back on each refresh: the 30 days a device may backfill
# (ingest/codecs.py MAX_AGE_S), plus an hour for readings in flight.
REFRESH_WINDOW = "30 days 1 hour"


@dataclass(frozen=True)
class RetentionPolicy:
    raw_days: int  # telemetry and detections
    rollup_days: int  # the one-minute rollup
    compress_after_days: int  # TimescaleDB only
    dead_letter_days: int = 30  # refused messages

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        if settings.rollup_retention_days < settings.telemetry_retention_days:
            raise ValueError(
                f"rollup_retention_days ({settings.rollup_retention_days}) is shorter than "
                f"telemetry_retention_days ({settings.telemetry_retention_days}); the rollup "
                "exists to outlive the raw readings: raise GRIDWATCH_ROLLUP_RETENTION_DAYS"
            )
        return cls(
            settings.telemetry_retention_days,
            settings.rollup_retention_days,
            settings.compress_after_days,
            settings.dead_letter_retention_days,
        )


def _delete_before(conn: psycopg.Connection, table: str, column: str, cutoff: datetime) -> int:
    statement = sql.SQL(
        "DELETE FROM {table} WHERE ctid = ANY(ARRAY("
        "SELECT ctid FROM {table} WHERE {column} < %s LIMIT %s))"
    ).format(table=sql.Identifier(table), column=sql.Identifier(column))
    deleted = 0
    while True:
        count = conn.execute(statement, (cutoff, DELETE_BATCH)).rowcount
        conn.commit()
        deleted += count
        if count < DELETE_BATCH:
            return deleted


def delete_expired(
    conn: psycopg.Connection, policy: RetentionPolicy, now: datetime
) -> dict[str, int]:
    """Plain PostgreSQL: delete what is past its retention; return rows deleted per table."""
    raw_cutoff = now - timedelta(days=policy.raw_days)
    rollup_cutoff = now - timedelta(days=policy.rollup_days)
    return {
        "telemetry": _delete_before(conn, "telemetry", "time", raw_cutoff),
        "detections": _delete_before(conn, "detections", "time", raw_cutoff),
        "telemetry_1m_rollup": _delete_before(conn, "telemetry_1m_rollup", "bucket", rollup_cutoff),
        **delete_expired_dead_letters(conn, policy, now),
    }


def delete_expired_dead_letters(
    conn: psycopg.Connection, policy: RetentionPolicy, now: datetime
) -> dict[str, int]:
    cutoff = now - timedelta(days=policy.dead_letter_days)
    return {"dead_letters": _delete_before(conn, "dead_letters", "received_at", cutoff)}


def apply_timescale_policies(
    conn: psycopg.Connection, policy: RetentionPolicy, refresh_every_s: float
) -> None:
    """TimescaleDB: replace the compression, retention and refresh policies with these."""
    raw = timedelta(days=policy.raw_days)
    for table in ("telemetry", "detections"):
        conn.execute("SELECT remove_compression_policy(%s, if_exists => true)", (table,))
        conn.execute(
            "SELECT add_compression_policy(%s, %s)",
            (table, timedelta(days=policy.compress_after_days)),
        )
        conn.execute("SELECT remove_retention_policy(%s, if_exists => true)", (table,))
        conn.execute("SELECT add_retention_policy(%s, %s)", (table, raw))
    conn.execute("SELECT remove_retention_policy('telemetry_1m', if_exists => true)")
    conn.execute(
        "SELECT add_retention_policy('telemetry_1m', %s)", (timedelta(days=policy.rollup_days),)
    )
    conn.execute("SELECT remove_continuous_aggregate_policy('telemetry_1m', if_exists => true)")
    conn.execute(
        "SELECT add_continuous_aggregate_policy('telemetry_1m',"
        f" start_offset => INTERVAL '{REFRESH_WINDOW}', end_offset => INTERVAL '1 minute',"
        " schedule_interval => %s)",
        (timedelta(seconds=max(refresh_every_s, 60.0)),),
    )
    conn.commit()


@dataclass
class MaintenanceReport:
    minutes_refreshed: int = 0
    rows_deleted: int = 0
    rounds: int = 0


def maintain_once(
    conn: psycopg.Connection, policy: RetentionPolicy, now: datetime, *, retention: bool
) -> MaintenanceReport:
    """One round on plain PostgreSQL: refresh the rollup, then (if due) apply retention."""
    report = MaintenanceReport(minutes_refreshed=refresh_rollup(conn), rounds=1)
    if retention:
        deleted = delete_expired(conn, policy, now)
        report.rows_deleted = sum(deleted.values())
        if report.rows_deleted:
            log.info("retention deleted %s", deleted)
    return report


def run_maintenance(settings: Settings, stop: threading.Event | None = None) -> None:
    """Keep the storage lifecycle until `stop` is set (or SIGTERM/Ctrl-C in the CLI)."""
    if not settings.database_url:
        raise ValueError("maintenance needs a database: set GRIDWATCH_DATABASE_URL")
    policy = RetentionPolicy.from_settings(settings)
    stop = stop or threading.Event()
    conn: psycopg.Connection | None = None
    next_retention = 0.0
    timescale_policies_set = False
    while not stop.is_set():
        try:
            if conn is None or conn.closed:
                conn = db.connect(settings.database_url)
                if storage_path(conn) == "timescaledb" and not timescale_policies_set:
                    apply_timescale_policies(conn, policy, settings.rollup_interval_s)
                    log.info("TimescaleDB policies set; TimescaleDB runs them from now on")
                    timescale_policies_set = True
            due = time.monotonic() >= next_retention
            if not timescale_policies_set:
                maintain_once(conn, policy, datetime.now(UTC), retention=due)
            elif due:
                delete_expired_dead_letters(conn, policy, datetime.now(UTC))
            if due:
                next_retention = time.monotonic() + settings.retention_interval_s
        except psycopg.OperationalError as err:
            log.warning("maintenance: database unavailable (%s); retrying", err)
            if conn is not None:
                conn.close()
            conn = None
        stop.wait(settings.rollup_interval_s)
    if conn is not None:
        conn.close()
