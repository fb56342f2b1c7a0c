"""The one-minute telemetry series the dashboard's sensor curves read (plain PostgreSQL path;
the TimescaleDB path is checked where the extension exists)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from gridwatch import db
from gridwatch.settings import Settings
from gridwatch.telemetry_rollup import MinuteBucket, minute_series, refresh_rollup, storage_path
from ingest.service import IngestService
from tests.helpers import publisher, wait_for

# A fixed minute well inside the backfill window, so the minutes are exact in the test.
MINUTE = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)


def _device() -> str:
    return f"roll-{uuid.uuid4().hex[:8]}"


def _insert(
    conn: psycopg.Connection, device: str, readings: list[tuple[datetime, float | None, int]]
) -> None:
    """Readings as the writer stores them: one INSERT … SELECT per batch, one transaction."""
    conn.execute(
        "INSERT INTO telemetry (time, device_id, metric, value, seq)"
        " SELECT t, %s, 'temperature_c', v, s FROM unnest(%s::timestamptz[], %s::float8[],"
        " %s::bigint[]) AS r(t, v, s) ON CONFLICT DO NOTHING",
        (
            device,
            [ts for ts, _, _ in readings],
            [value for _, value, _ in readings],
            [seq for _, _, seq in readings],
        ),
    )
    conn.commit()


def _series(conn: psycopg.Connection, device: str) -> list[MinuteBucket]:
    return minute_series(
        conn, device, "temperature_c", MINUTE - timedelta(days=3), MINUTE + timedelta(hours=1)
    )


def _at(minute: int, second: float) -> datetime:
    return MINUTE + timedelta(minutes=minute, seconds=second)


def test_this_database_takes_the_plain_path_without_timescaledb(conn: psycopg.Connection) -> None:
    expected = "timescaledb" if db.timescaledb_available(conn) else "plain"
    assert storage_path(conn) == expected


def test_each_minute_gives_min_max_avg_count_and_the_latest_value(
    conn: psycopg.Connection,
) -> None:
    device = _device()
    _insert(
        conn,
        device,
        [
            (_at(0, 5), 20.0, 1),
            (_at(0, 50), 26.0, 2),
            (_at(0, 30), 23.0, 3),
            (_at(2, 0), 30.0, 4),
            (_at(2, 59.9), None, 5),  # a reading the sensor could not take
        ],
    )
    expected = [
        MinuteBucket(_at(0, 0), 20.0, 26.0, 23.0, 3, 26.0),
        MinuteBucket(_at(2, 0), 30.0, 30.0, 30.0, 2, None),
    ]
    # Fresh readings show before the job runs, and the same after it.
    assert _series(conn, device) == expected
    assert refresh_rollup(conn) >= 2
    assert _series(conn, device) == expected
    stored = conn.execute(
        "SELECT count(*) AS n FROM telemetry_1m_rollup WHERE device_id = %s", (device,)
    ).fetchone()
    assert stored["n"] == 2


def test_a_late_reading_two_days_old_updates_its_minute(conn: psycopg.Connection) -> None:
    device = _device()
    old = MINUTE - timedelta(days=2)
    _insert(conn, device, [(old + timedelta(seconds=10), 18.0, 1), (_at(0, 1), 21.0, 2)])
    refresh_rollup(conn)
    # The device comes back after an outage and sends what it buffered.
    _insert(conn, device, [(old + timedelta(seconds=40), 12.0, 3)])
    refresh_rollup(conn)
    series = _series(conn, device)
    assert series[0] == MinuteBucket(old, 12.0, 18.0, 15.0, 2, 12.0)
    assert series[1] == MinuteBucket(MINUTE, 21.0, 21.0, 21.0, 1, 21.0)


def test_a_redelivered_batch_and_a_second_refresh_change_nothing(conn: psycopg.Connection) -> None:
    device = _device()
    readings = [(_at(1, s), float(s), s) for s in range(0, 60, 10)]
    _insert(conn, device, readings)
    refresh_rollup(conn)
    first = _series(conn, device)
    _insert(conn, device, readings)
    refresh_rollup(conn)
    refresh_rollup(conn)
    assert _series(conn, device) == first == [MinuteBucket(_at(1, 0), 0.0, 50.0, 25.0, 6, 50.0)]


def test_no_reading_is_missed_while_writers_and_the_job_run_at_once(database_url: str) -> None:
    device = _device()
    writers, batches, per_batch = 3, 40, 25
    errors: list[BaseException] = []
    done = threading.Event()

    def write(index: int) -> None:
        try:
            with db.connection(database_url) as wconn:
                for b in range(batches):
                    seq0 = (index * batches + b) * per_batch
                    _insert(
                        wconn,
                        device,
                        [
                            (_at(seq % 7, (seq * 0.37) % 60), float(seq % 11), seq)
                            for seq in range(seq0, seq0 + per_batch)
                        ],
                    )
        except BaseException as err:  # reported in the main thread
            errors.append(err)

    def refresh() -> None:
        with db.connection(database_url) as rconn:
            while not done.is_set():
                refresh_rollup(rconn)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    job = threading.Thread(target=refresh)
    job.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    job.join()
    assert not errors
    with db.connection(database_url) as conn:
        refresh_rollup(conn)
        rollup = conn.execute(
            "SELECT bucket, count, min, max FROM telemetry_1m_rollup WHERE device_id = %s"
            " ORDER BY bucket",
            (device,),
        ).fetchall()
        raw = conn.execute(
            "SELECT date_bin('1 minute', time, timestamptz '2000-01-01Z') AS bucket,"
            " count(*), min(value), max(value) FROM telemetry WHERE device_id = %s"
            " GROUP BY 1 ORDER BY 1",
            (device,),
        ).fetchall()
    assert sum(r["count"] for r in rollup) == writers * batches * per_batch
    assert rollup == raw


@pytest.fixture(scope="module")
def ingest(settings: Settings, database_url: str) -> Iterator[IngestService]:
    with db.connection(database_url) as conn:
        conn.execute(
            "INSERT INTO areas (id, level, name) VALUES ('troll-g1', 'grid', 'Rollup grid')"
            " ON CONFLICT DO NOTHING"
        )
        conn.execute(
            "INSERT INTO devices (id, site_id, grid_id, kind, name)"
            " VALUES ('troll-sock-1', %s, 'troll-g1', 'charging_socket', 'socket')"
            " ON CONFLICT DO NOTHING",
            (settings.site_id,),
        )
        conn.commit()
    service = IngestService(settings)
    service.start()
    service.wait_connected()
    yield service
    service.stop()


def test_readings_sent_over_mqtt_appear_in_the_minute_series(
    ingest: IngestService, settings: Settings, conn: psycopg.Connection
) -> None:
    topic = f"gw/v1/{settings.site_id}/troll-g1/troll-sock-1/telemetry"
    pub = publisher(settings)
    for seq, value in enumerate([1.0, 5.0, 3.0], start=1):
        reading = {"ts": _at(0, seq * 10).timestamp(), "seq": seq, "values": {"current_a": value}}
        pub.publish(topic, json.dumps(reading), qos=1).wait_for_publish(5)
    senml = [
        {"bn": "urn:dev:troll-sock-1:", "bt": _at(1, 0).timestamp(), "n": "current_a", "v": 0.5}
    ]
    pub.publish(topic, json.dumps(senml), qos=1).wait_for_publish(5)
    pub.loop_stop()

    def series() -> list[MinuteBucket]:
        return minute_series(conn, "troll-sock-1", "current_a", MINUTE, MINUTE + timedelta(hours=1))

    got = wait_for(
        lambda: (s := series()) and sum(b.count for b in s) == 4 and s, what="4 readings"
    )
    assert got == [
        MinuteBucket(_at(0, 0), 1.0, 5.0, 3.0, 3, 3.0),
        MinuteBucket(_at(1, 0), 0.5, 0.5, 0.5, 1, 0.5),
    ]
    refresh_rollup(conn)
    assert series() == got


def test_timescaledb_serves_the_same_series_from_its_continuous_aggregate(
    conn: psycopg.Connection, database_url: str
) -> None:
    if not db.timescaledb_available(conn):
        pytest.skip(
            "the TimescaleDB extension is not installed on this PostgreSQL server; "
            "the continuous-aggregate path can only run where it is"
        )
    device = _device()
    _insert(conn, device, [(_at(0, 5), 20.0, 1), (_at(0, 50), 26.0, 2)])
    with db.connect(database_url, autocommit=True) as admin:  # CALL refuses a transaction
        admin.execute("CALL refresh_continuous_aggregate('telemetry_1m', NULL, NULL)")
    assert _series(conn, device) == [MinuteBucket(_at(0, 0), 20.0, 26.0, 23.0, 2, 26.0)]
