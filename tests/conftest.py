"""Real services for the whole test run, started once.

PostgreSQL: the server at 127.0.0.1:5432 when it answers (a fresh database per run, dropped
afterwards), else an embedded one from pgserver. MQTT: the broker at 127.0.0.1:1883 when it
answers, else a local Mosquitto or the embedded broker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dashboard.queries import DashboardQueries
from gridwatch import db
from gridwatch.services import (
    ensure_database,
    port_answers,
    start_embedded_database,
    start_local_broker,
)
from gridwatch.settings import Settings, load_settings

LOCAL_PG = os.environ.get(
    "GRIDWATCH_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"gridwatch_test_{uuid.uuid4().hex[:8]}"
    if port_answers("127.0.0.1", 5432):
        ensure_database(LOCAL_PG, name)
        url = LOCAL_PG.rsplit("/", 1)[0] + f"/{name}"
        db.migrate(url)
        yield url
        with psycopg.connect(LOCAL_PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        embedded = start_embedded_database(tmp_path_factory.mktemp("pg"), name)
        db.migrate(embedded.url)
        yield embedded.url
        embedded.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    """(host, port, protocol) of a running broker."""
    if port_answers("127.0.0.1", 1883):
        yield ("127.0.0.1", 1883, "5")
        return
    local = start_local_broker(tmp_path_factory.mktemp("broker"))
    yield (local.host, local.port, "5" if local.kind == "mosquitto" else "3.1.1")
    local.stop()


@pytest.fixture(scope="session")
def settings(
    database_url: str, broker: tuple[str, int, str], tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    host, port, protocol = broker
    return load_settings(
        database_url=database_url,
        mqtt_host=host,
        mqtt_port=port,
        mqtt_protocol=protocol,
        data_dir=Path(tmp_path_factory.mktemp("data")),
        # A site id of its own per run keeps concurrent runs on one broker apart.
        site_id=f"t{uuid.uuid4().hex[:6]}",
    )


@pytest.fixture()
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with db.connection(database_url) as connection:
        yield connection


@pytest.fixture()
def fresh_database_url() -> Iterator[str]:
    """An empty database of its own, for a whole `gridwatch up`."""
    if not port_answers("127.0.0.1", 5432):
        pytest.skip("needs the PostgreSQL at 127.0.0.1:5432 for a database of its own")
    name = f"gridwatch_up_{uuid.uuid4().hex[:8]}"
    ensure_database(LOCAL_PG, name)
    yield LOCAL_PG.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(LOCAL_PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def queries(database_url: str) -> Iterator[DashboardQueries]:
    """The dashboard's reads on the test database, one pool per test module."""
    reader = DashboardQueries.connect(database_url)
    yield reader
    reader.close()
