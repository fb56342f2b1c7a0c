"""Retention on plain PostgreSQL: raw readings go after their limit, the minute curve stays;
`gridwatch maintain` keeps it, `gridwatch deadletters` counts what was refused."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from gridwatch import db
from gridwatch.cli import main
from gridwatch.settings import Settings, load_settings
from gridwatch.telemetry_rollup import minute_series, refresh_rollup
from ingest.retention import RetentionPolicy, delete_expired, run_maintenance
from tests.helpers import wait_for

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
POLICY = RetentionPolicy(raw_days=90, rollup_days=730, compress_after_days=7)


def _device() -> str:
    return f"ret-{uuid.uuid4().hex[:8]}"


def _reading(conn: psycopg.Connection, device: str, at: datetime, value: float) -> None:
    conn.execute(
        "INSERT INTO telemetry (time, device_id, metric, value)"
        " VALUES (%s, %s, 'pressure_kpa', %s)",
        (at, device, value),
    )


def _count(conn: psycopg.Connection, table: str, device: str) -> int:
    row = conn.execute(f"SELECT count(*) AS n FROM {table} WHERE device_id = %s", (device,))
    return int(row.fetchone()["n"])


def test_raw_readings_past_retention_go_and_their_minute_curve_stays(
    conn: psycopg.Connection,
) -> None:
    device = _device()
    for age_days, value in [(800, 1.0), (100, 2.0), (89, 3.0), (0, 4.0)]:
        _reading(conn, device, NOW - timedelta(days=age_days), value)
    conn.execute(
        "INSERT INTO detections (time, device_id, type)"
        " VALUES (%s, %s, 'smoke'), (%s, %s, 'smoke')",
        (NOW - timedelta(days=91), device, NOW - timedelta(days=1), device),
    )
    conn.commit()
    refresh_rollup(conn)

    deleted = delete_expired(conn, POLICY, NOW)

    assert deleted["telemetry"] >= 2 and deleted["detections"] >= 1
    kept = conn.execute(
        "SELECT value FROM telemetry WHERE device_id = %s ORDER BY time", (device,)
    ).fetchall()
    assert [r["value"] for r in kept] == [3.0, 4.0]
    assert _count(conn, "detections", device) == 1
    # The rollup outlives the raw rows (two years by default): the 100-day-old minute is
    # still on the curve; the 800-day-old one is gone too.
    curve = minute_series(
        conn, device, "pressure_kpa", NOW - timedelta(days=1000), NOW + timedelta(minutes=1)
    )
    assert [b.last for b in curve] == [2.0, 3.0, 4.0]


def test_dead_letters_past_their_retention_go_and_recent_ones_stay(
    conn: psycopg.Connection,
) -> None:
    device = _device()
    for age_days in (31, 29, 0):
        conn.execute(
            "INSERT INTO dead_letters"
            " (received_at, topic, reason, reason_code, device_id, payload, payload_size)"
            " VALUES (%s, 't', 'not JSON', 'bad_json', %s, 'x', 1)",
            (NOW - timedelta(days=age_days), device),
        )
    conn.commit()

    deleted = delete_expired(conn, POLICY, NOW)  # 30 days by default

    assert deleted["dead_letters"] >= 1
    assert _count(conn, "dead_letters", device) == 2
    policy = RetentionPolicy.from_settings(load_settings(dead_letter_retention_days=7))
    delete_expired(conn, policy, NOW)
    assert _count(conn, "dead_letters", device) == 1


def test_retention_shorter_than_the_backfill_window_is_refused_with_the_field_name() -> None:
    with pytest.raises(ValidationError, match="telemetry_retention_days"):
        load_settings(telemetry_retention_days=7)
    with pytest.raises(ValueError, match="GRIDWATCH_ROLLUP_RETENTION_DAYS"):
        RetentionPolicy.from_settings(
            load_settings(telemetry_retention_days=90, rollup_retention_days=30)
        )


def test_the_maintenance_loop_keeps_the_rollup_current(settings: Settings) -> None:
    device = _device()
    stop = threading.Event()
    loop = threading.Thread(
        target=run_maintenance,
        args=(settings.model_copy(update={"rollup_interval_s": 0.1}), stop),
    )
    loop.start()
    try:
        with db.connection(settings.database_url or "") as conn:
            _reading(conn, device, NOW - timedelta(minutes=5), 7.0)
            conn.commit()
            wait_for(
                lambda: _count(conn, "telemetry_1m_rollup", device) == 1,
                what="the loop to roll the reading up",
            )
            pending = conn.execute(
                "SELECT count(*) AS n FROM telemetry_1m_pending WHERE device_id = %s", (device,)
            ).fetchone()
            assert pending["n"] == 0
    finally:
        stop.set()
        loop.join(timeout=10)
    assert not loop.is_alive()


def test_maintain_once_and_deadletters_from_the_command_line(
    settings: Settings, conn: psycopg.Connection
) -> None:
    device = _device()
    _reading(conn, device, NOW - timedelta(minutes=2), 1.0)
    topic = f"gw/v1/{settings.site_id}/g/{device}/telemetry"
    for reason_code, payload in [
        ("bad_value", b"x" * 100),
        ("bad_value", b"y"),
        ("bad_frame", b"z"),
    ]:
        conn.execute(
            "INSERT INTO dead_letters"
            " (topic, reason, reason_code, device_id, payload, payload_size)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (topic, f"test reason for {reason_code}", reason_code, device, payload, len(payload)),
        )
    conn.commit()
    env = {"GRIDWATCH_DATABASE_URL": settings.database_url or ""}
    runner = CliRunner()

    result = runner.invoke(main, ["maintain", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "minute(s) recomputed" in result.output
    assert _count(conn, "telemetry_1m_rollup", device) == 1

    result = runner.invoke(main, ["deadletters", "--hours", "1", "--examples", "2"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    counts = {line.split()[1]: int(line.split()[0]) for line in lines if line[:8].strip().isdigit()}
    assert counts["bad_value"] >= 2 and counts["bad_frame"] >= 1
    assert "test reason for bad_frame" in result.output
    assert "1 bytes, starting b'y'" in result.output


def test_timescaledb_gets_the_configured_policies(
    conn: psycopg.Connection, settings: Settings
) -> None:
    if not db.timescaledb_available(conn):
        pytest.skip(
            "the TimescaleDB extension is not installed on this PostgreSQL server; its "
            "compression, retention and refresh policies can only be set where it is"
        )
    from ingest.retention import apply_timescale_policies

    apply_timescale_policies(conn, POLICY, 60)
    jobs = conn.execute(
        "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs"
        " WHERE proc_name IN ('policy_compression', 'policy_retention',"
        " 'policy_refresh_continuous_aggregate')"
    ).fetchall()
    assert {(j["proc_name"], j["hypertable_name"]) for j in jobs} >= {
        ("policy_compression", "telemetry"),
        ("policy_retention", "telemetry"),
        ("policy_retention", "detections"),
    }
