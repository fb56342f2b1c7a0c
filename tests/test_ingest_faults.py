"""Faults during a stream: nothing lost, nothing doubled.

Every test here restarts or kills something, so each runs its own Mosquitto (the deployed
queue limits, persistence on) and, for the database restart, its own PostgreSQL: the
shared services other runs depend on are never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from bench.ingest_load import (
    IngestProcess,
    Sensors,
    create_sensors,
    publish_stream,
    publish_with_mosquitto_pub,
    stored_counts,
)
from gridwatch import db
from gridwatch.broker.mosquitto import mosquitto_binary
from gridwatch.services import LocalBroker, free_port, start_local_broker, wait_for_port
from gridwatch.settings import Settings
from ingest.service import IngestService
from tests.helpers import wait_for

PG_BIN = Path("/usr/lib/postgresql/15/bin")

pytestmark = [
    pytest.mark.fault,
    pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed"),
]


@pytest.fixture()
def own_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    broker = start_local_broker(tmp_path / "broker")
    yield broker
    broker.stop()


class Stream:
    """A publisher stream on a thread of its own; join() re-raises what went wrong in it."""

    def __init__(self, publish: Callable[[], object]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(publish,), daemon=True)
        self._thread.start()

    def _run(self, publish: Callable[[], object]) -> None:
        try:
            publish()
        except BaseException as err:  # handed to the test in join()
            self._error = err

    def join(self, timeout_s: float = 120.0) -> None:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the publisher did not finish"
        if self._error is not None:
            raise self._error


def _stored(conn: psycopg.Connection, sensors: Sensors) -> int:
    return stored_counts(conn, sensors)[0]


@pytest.mark.skipif(
    shutil.which("mosquitto_pub") is None, reason="mosquitto_pub (mosquitto-clients) is missing"
)
def test_ingest_killed_mid_stream_stores_every_message_exactly_once_after_restart(
    settings: Settings,
    database_url: str,
    conn: psycopg.Connection,
    own_broker: LocalBroker,
    tmp_path: Path,
) -> None:
    total = 100_000
    site = f"{settings.site_id}k"
    sensors = create_sensors(conn, site, 50)
    worker = IngestProcess(
        tmp_path / "ingest.log",
        database_url=database_url,
        mqtt_host=own_broker.host,
        mqtt_port=own_broker.port,
        site_id=site,
        metrics_port=0,
    )
    worker.start().wait_subscribed()
    try:
        # mosquitto_pub publishes in C, leaving the CPU to ingest (and the test short); paced
        # so the kill lands while devices are still publishing.
        stream = Stream(
            lambda: publish_with_mosquitto_pub(own_broker.port, sensors, total, 4, rate=8000)
        )
        wait_for(lambda: _stored(conn, sensors) >= 15_000, timeout_s=60, what="15,000 stored")
        worker.kill()
        at_kill = _stored(conn, sensors)
        assert at_kill < total, "the stream should still be running when ingest dies"

        worker.start().wait_subscribed()
        stream.join()
        wait_for(
            lambda: _stored(conn, sensors) == total,
            timeout_s=90,
            what=f"all {total:,} messages stored after the restart",
        )
        assert stored_counts(conn, sensors) == (total, total)
    finally:
        worker.stop()


def test_mosquitto_restarted_mid_stream_loses_nothing_at_qos_1(
    settings: Settings,
    conn: psycopg.Connection,
    own_broker: LocalBroker,
    tmp_path: Path,
) -> None:
    total = 20_000
    site = f"{settings.site_id}b"
    sensors = create_sensors(conn, site, 20)
    ingest = IngestService(
        settings.model_copy(
            update={
                "site_id": site,
                "mqtt_port": own_broker.port,
                "metrics_port": 0,
                "ingest_session_expiry_s": 600,
            }
        )
    )
    ingest.start()
    ingest.wait_connected()
    try:
        # The publisher keeps a persistent session too: what it sent without a PUBACK it
        # sends again after reconnecting.
        stream = Stream(
            lambda: publish_stream(
                own_broker.host,
                own_broker.port,
                sensors,
                0,
                total,
                rate=2500,
                session_expiry_s=600,
            )
        )
        wait_for(lambda: _stored(conn, sensors) >= 4_000, timeout_s=60, what="4,000 stored")
        assert _stored(conn, sensors) < total, "the stream should still be running"
        own_broker.stop()  # SIGTERM: Mosquitto writes its persistence file on the way out
        restarted = start_local_broker(tmp_path / "broker", port=own_broker.port)
        own_broker.process = restarted.process  # the fixture stops whichever runs last
        stream.join()
        wait_for(
            lambda: _stored(conn, sensors) == total,
            timeout_s=60,
            what=f"all {total:,} messages stored after the broker restart",
        )
        assert stored_counts(conn, sensors) == (total, total)
        # Connected, lost the broker, connected again: each bumps the connection number.
        assert ingest.acks.connection >= 3
    finally:
        ingest.stop()


class OwnPostgres:
    """A PostgreSQL 15 cluster of this test's own, on a free port; restart() bounces it."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            pytest.skip(f"PostgreSQL server binaries are not installed in {PG_BIN}")
        self.dir = Path(tempfile.mkdtemp(prefix="gridwatch-pg-"))
        self.port = free_port()
        # PostgreSQL refuses to run as root; run it as the postgres account then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust", "-N")
        self.start()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(PG_BIN / tool), *args], check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.dir / "data"), "-o", options, "-l", str(self.dir / "log"),
            "-w", "start",
        )  # fmt: skip
        wait_for_port("127.0.0.1", self.port, 30, "the test's PostgreSQL")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture()
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    yield server
    server.destroy()


def test_postgresql_restarted_mid_stream_loses_nothing_and_ingest_catches_up(
    settings: Settings,
    own_postgres: OwnPostgres,
    own_broker: LocalBroker,
) -> None:
    total = 20_000
    db.migrate(own_postgres.url)
    site = f"{settings.site_id}p{uuid.uuid4().hex[:3]}"
    with db.connection(own_postgres.url) as conn:
        sensors = create_sensors(conn, site, 20)
    ingest = IngestService(
        settings.model_copy(
            update={
                "site_id": site,
                "database_url": own_postgres.url,
                "mqtt_port": own_broker.port,
                "metrics_port": 0,
            }
        )
    )
    ingest.start()
    ingest.wait_connected()
    try:
        stream = Stream(
            lambda: publish_stream(own_broker.host, own_broker.port, sensors, 0, total, rate=2500)
        )
        with db.connection(own_postgres.url) as conn:
            wait_for(lambda: _stored(conn, sensors) >= 4_000, timeout_s=60, what="4,000 stored")
        own_postgres.stop()
        # While the database is down nothing is committed, so nothing is acknowledged.
        wait_for(lambda: ingest.writer.retries > 0, what="the writer to notice the outage")
        acked_while_down = ingest.acks.sent
        wait_for(lambda: ingest.writer.retries > 2, what="the writer to retry twice more")
        assert ingest.acks.sent == acked_while_down
        own_postgres.start()
        stream.join()
        with db.connection(own_postgres.url) as conn:
            wait_for(
                lambda: _stored(conn, sensors) == total,
                timeout_s=60,
                what=f"all {total:,} messages stored after the database came back",
            )
            assert stored_counts(conn, sensors) == (total, total)
    finally:
        ingest.stop()
