"""Ingest keeps a broker session: what devices send while it restarts is stored afterwards."""

from __future__ import annotations

import json
import time

import psycopg

from gridwatch import db
from gridwatch.settings import Settings
from ingest.service import IngestService
from tests.helpers import publisher, wait_for

GRID, SENSOR = "tses-g1", "tses-hyd-1"


def test_readings_sent_while_ingest_is_down_are_stored_when_it_returns(
    settings: Settings, database_url: str, conn: psycopg.Connection
) -> None:
    settings = settings.model_copy(update={"ingest_session_expiry_s": 300})
    with db.connection(database_url) as setup:
        setup.execute(
            "INSERT INTO areas (id, level, name) VALUES (%s, 'grid', 'g') ON CONFLICT DO NOTHING",
            (GRID,),
        )
        setup.execute(
            "INSERT INTO devices (id, site_id, grid_id, kind, name) VALUES"
            " (%s, %s, %s, 'hydrant_pressure', 'h') ON CONFLICT DO NOTHING",
            (SENSOR, settings.site_id, GRID),
        )
        setup.commit()
    first = IngestService(settings)
    first.start()
    first.wait_connected()
    first.stop()

    pub = publisher(settings)
    topic = f"gw/v1/{settings.site_id}/{GRID}/{SENSOR}/telemetry"
    for seq in range(1, 101):
        payload = {"ts": time.time(), "seq": seq, "values": {"pressure_kpa": 300.0 + seq}}
        pub.publish(topic, json.dumps(payload), qos=1).wait_for_publish(5)
    pub.loop_stop()

    second = IngestService(settings)
    second.start()
    try:
        stored = wait_for(
            lambda: (
                (
                    n := conn.execute(
                        "SELECT count(*) AS n FROM telemetry WHERE device_id = %s", (SENSOR,)
                    ).fetchone()["n"]
                )
                >= 100
                and n
            ),
            what="the readings sent while ingest was down",
        )
        assert stored == 100
    finally:
        second.stop()
